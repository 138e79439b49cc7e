#!/bin/sh
# spinatd's gateway role with 002's dnat strategy for real: eight inside hosts (raw-socket
# hosts, dnat_host.py: this kernel has no ipip module) each ask the router for a port
# block by PAP, send UDP from the router's global address and their own ports through
# IP-in-IP tunnels to the router, and get the server's answers back through the router's
# tunnels, all at once; a host sending from another's port gets nothing. The router's
# table shows FIG. 8's blocks and FIG. 12's IAPTT rows, its counters the refused port.
# The router is also the Local Certificate Authority (its certificate made here with the
# openssl command line, name-constrained to the global address): it certifies host 1's
# key for host 1's block, which `openssl verify` accepts through the chain, and after
# `spinat lca revoke` refuses by the CRL the router published.
#
#   dnat_gateway.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables python3 openssl
lib_start dg
gw=${tag}g srv=${tag}s
n=8
hosts=""
for i in $(seq 1 $n); do hosts="$hosts ${tag}h$i"; done
pyhost="$(dirname "$0")/dnat_host.py"

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	[ -S "$work/gw.sock" ] && { echo "--- counters"; "$spinat" --socket "$work/gw.sock" show counters | grep -v " 0$"; }
}

# The router, with its LCA certificate constrained to 203.0.113.1/32 (002 FIG. 22). It
# announces at its start that every block of 10.0.0.0/24 is invalid; the hosts start once
# that is out.
# shellcheck disable=SC2086 # the host namespaces are words
dnat_router "$gw" "$srv" 5 "permitted;IP:203.0.113.1/255.255.255.255" $hosts

# The server echoes UDP on 7000.
spawn "$srv" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.2", 7000))
while True:
    d, a = s.recvfrom(4096)
    s.sendto(d, a)
'
sleep 0.3

# All eight at once.
i=1
hpids=""
for h in $hosts; do
	ip netns exec "$h" python3 "$pyhost" "10.0.0.$((i + 1))" 10.0.0.1 203.0.113.1 \
		203.0.113.2 7000 20 >"$work/host$i" 2>&1 &
	hpids="$hpids $!"
	i=$((i + 1))
done
i=1
for p in $hpids; do
	wait "$p" || { cat "$work/host$i"; fail "host $i"; }
	cat "$work/host$i"
	i=$((i + 1))
done

# Host 2 sends from host 1's port (its block's fourth, as dnat_host.py uses).
p1=$(sed -n 's/.*sending from \([0-9]*\).*/\1/p' "$work/host1")
[ -n "$p1" ] || fail "host 1's port"
ip netns exec "${tag}h2" python3 "$pyhost" 10.0.0.3 10.0.0.1 203.0.113.1 203.0.113.2 7000 3 \
	"forge=$p1" >"$work/forge" 2>&1 || { cat "$work/forge"; fail "forged port"; }
cat "$work/forge"

"$spinat" --socket "$work/gw.sock" show nat >"$work/nat" || fail "show nat"
cat "$work/nat"
for i in $(seq 1 $n); do
	grep -q "^ipip .*10.0.0.$((i + 1)) .*port-block.*ports" "$work/nat" ||
		fail "show nat: no port block of host $i"
	grep -q "^udp .*10.0.0.$((i + 1)):.*iaptt" "$work/nat" ||
		fail "show nat: no IAPTT row of host $i"
done
"$spinat" --socket "$work/gw.sock" show counters >"$work/ctr" || fail "show counters"
ctr() { awk -v k="$1" '$2 == k { print $3 }' "$work/ctr"; }
[ "$(ctr nat.dnat_tunnel_out)" -ge $((n * 20)) ] || fail "dnat_tunnel_out = $(ctr nat.dnat_tunnel_out)"
[ "$(ctr nat.dnat_tunnel_in)" -ge $((n * 20)) ] || fail "dnat_tunnel_in = $(ctr nat.dnat_tunnel_in)"
[ "$(ctr nat.dnat_drop_port_not_owned)" -ge 3 ] || fail "the forged port was not counted"
[ "$(ctr nat.dnat_pap_port_blocks_granted)" -ge $((n + 1)) ] || fail "PAP grants"
# The LCA certifies host 1's key for its block; ordinary openssl verifies the chain.
ec_key h1
"$spinat" --socket "$work/gw.sock" lca issue 10.0.0.2 "$p1" "$work/h1.pub" "$work/h1.pem" \
	>"$work/issue" || fail "lca issue"
cat "$work/issue"
serial=$(sed -n 's/^serial \([0-9]*\) .*/\1/p' "$work/issue")
v() { openssl verify -CAfile "$work/root.pem" -untrusted "$work/lca.pem" "$@" "$work/h1.pem" 2>&1; }
v >"$work/verify" || { cat "$work/verify"; fail "openssl verify refused the LCA's certificate"; }
openssl x509 -in "$work/h1.pem" -noout -ext subjectAltName | grep -q "IP Address:203.0.113.1" ||
	fail "no subjectAltName 203.0.113.1"
v -crl_check -CRLfile "$work/crl.pem" >"$work/verify" ||
	{ cat "$work/verify"; fail "refused with the router's first CRL"; }
"$spinat" --socket "$work/gw.sock" show lca | grep -q "10.0.0.2 .*valid" || fail "show lca"
"$spinat" --socket "$work/gw.sock" lca revoke "$serial" || fail "lca revoke"
v -crl_check -CRLfile "$work/crl.pem" >"$work/verify" && fail "accepted after revocation"
grep -q "revoked" "$work/verify" || { cat "$work/verify"; fail "not refused as revoked"; }

stop_daemon gw
echo "PASS: $n hosts through spinatd's dnat router at once, $(ctr nat.dnat_tunnel_in) answers tunnelled back, a forged port refused, the LCA's certificate verified and revoked"
