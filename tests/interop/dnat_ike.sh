#!/bin/sh
# 002 end to end: eight inside hosts, each a spinatd endpoint with the dnat module, behind
# spinatd's gateway with strategy dnat, all at once. Each host asks the router for a port
# block and an SPI block by PAP, reaches it through the userspace IP-in-IP tunnel, and runs
# IKEv2 from the router's global address with a certificate the router's Local
# Certificate Authority issued for its block (root -> LCA, name-constrained to the global
# address -> host) to one outside peer, raw ESP on SPIs of its PAP block; then a TCP
# transfer through every tunnel at once. The peer is spinatd (no dnat configuration) or,
# with `strongswan`, charon with kernel-libipsec, which verifies the chain itself.
#
# How a host gets its certificate (002 leaves the enrolment open): its spinatd starts
# with the dnat module only, gets its block, the router's operator certifies it (`spinat
# lca issue`), and the host stops, giving the block back; the router keeps a certified
# block (002 [0683]) and grants it again when the host, now with IKE, asks.
#
# Revocation (002 [0685]): `spinat lca revoke` for host 1's certificate makes the router
# take host 1's block back with a PAP invalidation naming it; host 1 deletes the IKE SA
# that used the certificate (the peer is told by IKE's DELETE) and the peer holds one IKE
# SA fewer; the other hosts' tunnels still carry traffic.
#
# With `transport` (spinatd peer): transport-mode ESP between the global address and the
# peer. The application on the host keeps its private address (the TUN address, [dnat]
# private) and its port; the dnat module puts the global address and a port of the block
# into the cleartext before ESP protects it and takes them out again after, so the peer's
# TCP checksums hold. The SAs' selectors name the global address, which every host behind
# the router shares: the peer could not tell two hosts' transport-mode SAs apart by them,
# so this variant runs one host (docs/DNAT.md).
#
#   dnat_ike.sh SPINATD SPINAT [spinat|strongswan] [HOSTS] [tunnel|transport]
set -u
spinatd=$1 spinat=$2 peer=${3:-spinat} n=${4:-8} mode=${5:-tunnel}

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE, TUN devices, raw sockets"
need_tools ip iptables python3 openssl
need_tun
[ "$peer" = strongswan ] && need_charon
if [ "$mode" = transport ] && { [ "$peer" != spinat ] || [ "$n" != 1 ]; }; then
	fail "transport: a spinat peer and one host"
fi
lib_start di
gw=${tag}g srv=${tag}s
hosts=$(seq 1 "$n")
names=""
for h in $hosts; do names="$names ${tag}h$h"; done

fail_report() {
	for f in gw srv h1 h2; do
		[ -f "$work/$f.log" ] && { echo "--- $f log"; tail -n 30 "$work/$f.log"; }
	done
	[ -f "$work/charon.log" ] && { echo "--- charon log"; tail -n 60 "$work/charon.log"; }
	for f in h1 h2; do
		"$spinat" --socket "$work/$f.sock" show dnat 2>/dev/null | grep -v " 0$"
		"$spinat" --socket "$work/$f.sock" show sa 2>/dev/null
	done
	[ "$peer" = strongswan ] && swanctl --list-sas --uri "$vici" 2>/dev/null
	"$spinat" --socket "$work/gw.sock" show counters 2>/dev/null | grep -v " 0$"
}

# charon 5.9.8 cannot parse a name constraint of type iPAddress (its x509 plugin takes
# only 4 or 16 octets there; strongSwan issue 1991, later releases) and refuses such a
# certificate outright: for it the LCA (002 FIG. 22) is constrained to the subject names
# the LCA gives ("O=spinat dnat, CN=203.0.113.1 ports ..."), which it does enforce.
if [ "$peer" = spinat ]; then
	nc="permitted;IP:203.0.113.1/255.255.255.255"
else
	nc="permitted;dirName:nc_dn"
fi
# shellcheck disable=SC2086 # the host namespaces are words
dnat_router "$gw" "$srv" 7 "$nc" $names
# The peer's certificate from the same root.
cat >"$work/srv.ext" <<EOX
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectAltName=IP:203.0.113.2
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
EOX
ca_issue srv "/CN=203.0.113.2" "$work/srv.ext"

# DNAT_DEBUG in the environment: the hosts log at level debug.
dnat_host_conf() { # H IKE(yes|no)
	_route=192.168.100.0/24
	[ "$mode" = transport ] && _route=203.0.113.2/32
	{
		host_conf "h$1" "192.168.$1.1/32" "$_route" "udp = no"
		echo "[dnat]"
		echo "self = 10.0.0.$(($1 + 1))"
		echo "router = 10.0.0.1"
		echo "global = 203.0.113.1"
		echo "inside = 10.0.0.0/24"
		[ "$mode" = transport ] && echo "private = 192.168.$1.1"
		if [ "$2" = yes ]; then
			echo "[conn vpn]"
			echo "local = 203.0.113.1"
			echo "remote = 203.0.113.2"
			echo "auto = start"
			# charon's kernel-libipsec carries ESP in UDP only (its encap = yes):
			# the hosts follow (RFC 7296 2.23); the port goes through the SPTT
			[ "$peer" = spinat ] && echo "encap = no"
			echo "ike = aes256gcm16-prfsha256-ecp256"
			echo "esp = aes256gcm16"
			if [ "$mode" = transport ]; then
				# the selectors name the global address (the default, the SA's own)
				echo "mode = transport"
			else
				echo "local_ts = 192.168.$1.0/24"
				echo "remote_ts = 192.168.100.0/24"
			fi
			echo "auth = pubkey"
			echo "cert = $work/h$1.pem"
			echo "key = $work/h$1.key"
			echo "ca = $work/root.pem"
			echo "intermediates = $work/lca.pem"
			echo "remote_id = 203.0.113.2"
		fi
	} >"$work/h$1.conf"
}

# Enrolment: every host's block, certified by the LCA for the host's own key.
blocks() { "$spinat" --socket "$work/h$1.sock" show dnat | grep -q "^ports "; }
for h in $hosts; do
	dnat_host_conf "$h" no
	ec_key "h$h"
	# shellcheck disable=SC2086 # an option and its value, or nothing
	daemon "h$h" "${tag}h$h" ${DNAT_DEBUG:+-l debug}
done
for h in $hosts; do
	wait_for 100 blocks "$h" || fail "h$h: no port block"
	port=$("$spinat" --socket "$work/h$h.sock" show dnat | sed -n 's/^ports \([0-9]*\)-.*/\1/p')
	"$spinat" --socket "$work/gw.sock" lca issue "10.0.0.$((h + 1))" "$port" "$work/h$h.pub" \
		"$work/h$h.pem" >"$work/issue$h" || fail "lca issue for h$h"
	openssl verify -CAfile "$work/root.pem" -untrusted "$work/lca.pem" "$work/h$h.pem" \
		>/dev/null 2>&1 || fail "openssl refuses h$h's certificate"
	eval "port$h=$port"
done
for h in $hosts; do stop_daemon "h$h" "enrolment"; done

# The peer.
sink=192.168.100.1
if [ "$mode" = transport ]; then
	# The global address is routed into the TUN device; the daemon's own packets carry
	# mark 0x81 and leave by eth0 (policy routing).
	sink=203.0.113.2
	ip -n "$srv" rule add fwmark 0x81 lookup 181 priority 100 || fail "ip rule"
	ip -n "$srv" route add 203.0.113.0/24 dev eth0 table 181 || fail "ip route"
	srv_address="" srv_route=203.0.113.1/32 srv_more="mark = 0x81"
	srv_ts="mode = transport
remote_ts = 203.0.113.1/32"
else
	srv_address=192.168.100.1/32 srv_route=192.168.0.0/16 srv_more=""
	srv_ts="local_ts = 192.168.100.0/24
remote_ts = 192.168.0.0/16"
fi
if [ "$peer" = spinat ]; then
	{
		host_conf srv "$srv_address" "$srv_route" "$srv_more"
		cat <<EOC
[conn vpn]
local = 203.0.113.2
remote = %any
encap = no
unique = never
ike = aes256gcm16-prfsha256-ecp256
esp = aes256gcm16
$srv_ts
auth = pubkey
cert = $work/srv.pem
key = $work/srv.key
ca = $work/root.pem
crl = $work/crl.pem
remote_id = 203.0.113.1
EOC
	} >"$work/srv.conf"
	daemon srv "$srv"
else
	charon_start "$srv"
	cp "$work/srv.key" "$work/private/srv.key"
	cat >"$work/swanctl.conf" <<EOC
connections {
 vpn {
  local_addrs = 203.0.113.2
  version = 2
  proposals = aes256gcm16-prfsha256-ecp256
  encap = yes
  # eight hosts share one identity, the global address: none replaces another, whatever
  # INITIAL_CONTACT says
  unique = never
  local {
   auth = pubkey
   certs = $work/srv.pem
   id = 203.0.113.2
  }
  remote {
   auth = pubkey
   id = 203.0.113.1
   cacerts = $work/root.pem
  }
  children {
   vpn {
    mode = tunnel
    local_ts = 192.168.100.0/24
    remote_ts = 192.168.0.0/16
    esp_proposals = aes256gcm16
   }
  }
 }
}
EOC
	swanctl --load-all --file "$work/swanctl.conf" --uri "$vici" >"$work/swanctl.out" 2>&1 ||
		{ cat "$work/swanctl.out"; fail "swanctl --load-all"; }
	ip -n "$srv" addr add 192.168.100.1/24 dev lo || fail "address for charon's network"
fi
spawn "$srv" python3 -c '
import socket, sys, threading
def serve(c):
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
    c.sendall(str(n).encode())
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7001))
s.listen(16)
while True:
    c, a = s.accept()
    print(a[0], a[1], flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$sink" >"$work/sink.log" 2>&1
wait_for 100 listening "$srv" 7001 || fail "the TCP sink did not start"

# All hosts at once, now with IKE.
for h in $hosts; do
	dnat_host_conf "$h" yes
	# shellcheck disable=SC2086 # an option and its value, or nothing
	daemon "h$h" "${tag}h$h" ${DNAT_DEBUG:+-l debug}
done
child_up() { "$spinat" --socket "$work/h$1.sock" show sa | grep -q "CHILD esp.*INSTALLED"; }
for h in $hosts; do
	wait_for 300 child_up "$h" || fail "h$h: no CHILD SA"
	eval "p=\$port$h"
	"$spinat" --socket "$work/h$h.sock" show dnat >"$work/dnat$h"
	grep -q "^ports $p-" "$work/dnat$h" || fail "h$h did not get its certified block back"
done
if [ "$peer" = strongswan ]; then
	# charon built the path itself: host -> the LCA from the host's CERT payloads -> root.
	grep -q 'using untrusted intermediate certificate "CN=LCA 203.0.113.1"' "$work/charon.log" ||
		fail "charon did not use the LCA's certificate"
	[ "$(grep -c "authentication of '203.0.113.1' with ECDSA.* successful" "$work/charon.log")" -ge "$n" ] ||
		fail "charon authenticated fewer than $n hosts"
fi
echo "ok: $n hosts' IKE SAs up with LCA certificates (blocks granted again to their certificates)"

# A TCP transfer through every tunnel at once.
size=$((512 * 1024))
ps=""
for h in $hosts; do
	ip netns exec "${tag}h$h" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[3], 7001), timeout=20, source_address=(sys.argv[1], 0))
n = int(sys.argv[2])
s.sendall(b"x" * n)
s.shutdown(socket.SHUT_WR)
got = s.recv(64).decode()
if got != str(n):
    sys.exit("the sink counted %s of %d octets" % (got, n))
' "192.168.$h.1" "$size" "$sink" >"$work/tcp$h" 2>&1 &
	ps="$ps $!"
done
i=1
for p in $ps; do
	wait "$p" || fail "h$i's TCP transfer: $(tail -n 2 "$work/tcp$i")"
	i=$((i + 1))
done
echo "ok: $n TCP transfers of $size octets through the tunnels at once"
if [ "$mode" = transport ]; then
	# The peer authenticated every ESP packet and its stack every TCP checksum; the host
	# translated both ways; the peer saw only the global address and the block's port.
	"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
	sctr() { awk -v k="$1" '$2 ~ "(^|\\.)"k"$" { v += $3 } END { print v + 0 }' "$work/srv.ctr"; }
	for k in drop_icv_mismatch drop_policy_mismatch drop_malformed drop_hook drop_no_sa; do
		[ "$(sctr $k)" = 0 ] || fail "peer: $k = $(sctr $k)"
	done
	[ "$(sctr rx_esp)" -gt 100 ] || fail "peer: rx_esp = $(sctr rx_esp)"
	csum_errs() { ip netns exec "$1" awk '/^Tcp:/ { if (h) print $NF; h = 1 }' /proc/net/snmp; }
	grep -q "^Tcp: .*InCsumErrors$" /proc/net/snmp || fail "no InCsumErrors in /proc/net/snmp"
	for ns in "$srv" "${tag}h1"; do
		[ "$(csum_errs "$ns")" = 0 ] || fail "$ns: TCP InCsumErrors $(csum_errs "$ns")"
	done
	"$spinat" --socket "$work/h1.sock" show dnat >"$work/dnat1"
	hctr() { awk -v k="$1" '$1 == k { print $2 }' "$work/dnat1"; }
	[ "$(hctr dnat_transport_translated_out)" -gt 100 ] || fail "h1 translated $(hctr dnat_transport_translated_out) out"
	[ "$(hctr dnat_transport_translated_in)" -gt 10 ] || fail "h1 translated $(hctr dnat_transport_translated_in) in"
	[ "$(hctr dnat_drop_transport_no_sptt_row)" = 0 ] || fail "h1 dropped answers without a row"
	# the sink's peer: the global address and a port of h1's certified block
	read -r a p <"$work/sink.log" || fail "the sink logged no peer"
	[ "$a" = 203.0.113.1 ] && [ "$p" -ge "$port1" ] && [ "$p" -lt $((port1 + 32)) ] ||
		fail "the peer saw $a:$p, not 203.0.113.1 and a port from $port1"
	echo "ok: transport mode: peer 0 ICV/policy/checksum drops, $(sctr rx_esp) ESP packets in"
fi

"$spinat" --socket "$work/gw.sock" show nat >"$work/nat" || fail "show nat"
for h in $hosts; do
	grep -q "^ipip .*10.0.0.$((h + 1)) .*spi-block" "$work/nat" || fail "no SPI block of h$h"
done
"$spinat" --socket "$work/gw.sock" show counters >"$work/gw.ctr"
gctr() { awk -v k="$1" '$2 == k { v = $3 } END { print v + 0 }' "$work/gw.ctr"; }
[ "$(gctr nat.dnat_pap_certified_block_regranted)" -ge "$n" ] || fail "certified blocks regranted: $(gctr nat.dnat_pap_certified_block_regranted)"
for k in nat.dnat_drop_port_not_owned nat.dnat_drop_unknown_spi nat.dnat_drop_not_tunnelled; do
	[ "$(gctr $k)" = 0 ] || fail "$k = $(gctr $k)"
done

peer_ike_sas() {
	if [ "$peer" = spinat ]; then
		"$spinat" --socket "$work/srv.sock" show sa | grep -c "IKE SA .*ESTABLISHED"
	else
		swanctl --list-sas --uri "$vici" 2>/dev/null | grep -c "ESTABLISHED"
	fi
}
before=$(peer_ike_sas)
[ "$before" -ge "$n" ] || fail "the peer holds $before IKE SAs"

# Revocation of host 1's certificate.
serial=$(sed -n 's/^serial \([0-9]*\) .*/\1/p' "$work/issue1")
"$spinat" --socket "$work/gw.sock" lca revoke "$serial" >"$work/revoke" || fail "lca revoke"
cat "$work/revoke"
grep -q "taken back" "$work/revoke" || fail "the router kept host 1's block"
revoked() { "$spinat" --socket "$work/h1.sock" show dnat | grep -q "dnat_ike_deleted_revoked [1-9]"; }
wait_for 50 revoked || fail "h1 kept the IKE SA of its revoked certificate"
no_ike() { ! "$spinat" --socket "$work/h1.sock" show sa | grep -q "IKE SA [0-9a-f]"; }
wait_for 50 no_ike || fail "h1 still shows an IKE SA"
fewer() { [ "$(peer_ike_sas)" -eq $((before - 1)) ]; }
wait_for 50 fewer || fail "the peer holds $(peer_ike_sas) IKE SAs, not $((before - 1))"
openssl verify -crl_check -CRLfile "$work/crl.pem" -CAfile "$work/root.pem" \
	-untrusted "$work/lca.pem" "$work/h1.pem" >/dev/null 2>&1 && fail "h1's certificate verifies"
if [ "$n" -ge 2 ]; then
	ip netns exec "${tag}h$n" ping -q -c 2 -i 0.2 -W 2 -I "192.168.$n.1" 192.168.100.1 \
		>/dev/null || fail "h$n's tunnel after h1's revocation"
fi
echo "ok: revocation: h1's IKE SA deleted at both ends, the others unharmed"

for h in $hosts; do stop_daemon "h$h"; done
[ "$peer" = spinat ] && stop_daemon srv
stop_daemon gw
echo "PASS: $n spinatd hosts behind spinatd's dnat router with LCA certificates, IKE and TCP to $peer at once, one revoked"
