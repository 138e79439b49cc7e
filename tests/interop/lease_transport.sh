#!/bin/sh
# 001's proof in transport mode: N inside hosts (default 8) behind spinatd's gateway with
# strategy lease, each running spinatd's endpoint with the lease module and two IKEv2
# connections to one outside spinatd that has no lease or NAT configuration of any kind:
# ESP transport mode to 203.0.113.2 and AH transport mode to 203.0.113.3. Every host, all
# at the same time, sends a real TCP stream (BYTES, checked by length and SHA-256 at the
# far end) and a UDP exchange (DATAGRAMS echoed) through each, from the fixed source ports
# its selectors name (ESP 41001/41002, AH 42001/42002). The hosts lease those ports, their
# IKE SPIs and incoming SPIs over PCP, propose the global address and their global ports
# as TSi, and compensate ports, checksums and the AH ICV (FIGS. 8-10). Every byte must
# arrive; the server must count no ICV failure, no policy drop and its kernel no TCP or
# UDP checksum error; the gateway must list the leases in FIG. 6's columns. No NFQUEUE
# rule is written here: the gateway installs its own, PCP's included.
#
# masquerade: the same hosts without leases behind the kernel's MASQUERADE: AH must fail
# for every host (no TCP stream, no datagram), the server counting ICV failures.
#
# MODE tunnel: the same in tunnel mode (the server's address is also the inner
# destination) with lease_inner = global: the hosts replace their inner source address and
# port by the global ones (001 steps 811/825), and the server answers those.
#
#   lease_transport.sh SPINATD SPINAT [lease|masquerade] [HOSTS] [BYTES] [DATAGRAMS] [MODE]
set -u
spinatd=$1 spinat=$2 nat=${3:-lease} n=${4:-8} bytes=${5:-262144} dgrams=${6:-20}
mode=${7:-transport}
flows="$(dirname "$0")/lease_flows.py"

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE, TUN devices, raw sockets"
need_tools ip iptables python3
need_tun
lib_start lt
gw=${tag}g srv=${tag}s
hosts=$(seq 1 "$n")
t_start=$(date +%s.%N)

fail_report() {
	for f in gw srv h1 h2; do
		[ -f "$work/$f.log" ] && { echo "--- $f log"; tail -n 30 "$work/$f.log"; }
	done
	for f in "$work"/f*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
	"$spinat" --socket "$work/h1.sock" show lease 2>/dev/null
	"$spinat" --socket "$work/h1.sock" show sa 2>/dev/null
	"$spinat" --socket "$work/gw.sock" show nat ipsec 2>/dev/null
	"$spinat" --socket "$work/srv.sock" show counters 2>/dev/null | grep -v " 0$"
}

names=""
for h in $hosts; do names="$names ${tag}h$h"; done
# shellcheck disable=SC2086
nat_topology "$gw" "$srv" $names
ip -n "$srv" addr add 203.0.113.3/24 dev eth0 || fail "address 203.0.113.3"
# Transport mode routes the peer's addresses into the TUN device; each daemon's own
# packets (IKE, ESP, AH, PCP) carry mark 0x71 and leave by eth0 (policy routing).
for ns in $names; do
	ip -n "$ns" rule add fwmark 0x71 lookup 171 priority 100
	ip -n "$ns" route add default via 10.0.0.1 dev eth0 table 171
done
ip -n "$srv" rule add fwmark 0x71 lookup 171 priority 100
ip -n "$srv" route add 203.0.113.0/24 dev eth0 table 171

if [ "$nat" = masquerade ]; then
	ip netns exec "$gw" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE ||
		fail "iptables masquerade"
else
	gateway_conf gw 7 lease "lease_pcp_address = 10.0.0.1"
	daemon gw "$gw"
fi

# The server: two connections open to any host, transport mode, defaults otherwise.
cat >"$work/srv.conf" <<EOF2
[spinatd]
role = endpoint
name = srv
[endpoint]
tun = spt0
mark = 0x71
route = 203.0.113.1/32
[conn e]
local = 203.0.113.2
remote = %any
psk = lease-transport-psk
proto = esp
mode = $mode
remote_ts = 0.0.0.0/0
[conn a]
local = 203.0.113.3
remote = %any
psk = lease-transport-psk
proto = ah
mode = $mode
remote_ts = 0.0.0.0/0
EOF2

host_conf() { # H
	a=10.0.0.$(($1 + 1))
	{
		echo "[spinatd]"
		echo "role = endpoint"
		echo "name = h$1"
		echo "[endpoint]"
		echo "tun = spt0"
		echo "mark = 0x71"
		echo "route = 203.0.113.2/32"
		echo "route = 203.0.113.3/32"
		for c in e:esp:2:41 a:ah:3:42; do
			IFS=: read -r name proto peer port <<EOF2
$c
EOF2
			echo "[conn $name]"
			echo "local = $a"
			echo "remote = 203.0.113.$peer"
			echo "auto = start"
			echo "psk = lease-transport-psk"
			echo "encap = no"
			echo "proto = $proto"
			echo "mode = $mode"
			echo "local_ts = dynamic[tcp/${port}001], dynamic[udp/${port}002]"
			echo "remote_ts = 203.0.113.${peer}[tcp/5001], 203.0.113.${peer}[udp/5002]"
			if [ "$nat" = lease ]; then
				echo "lease = yes"
				echo "lease_server = 10.0.0.1"
				[ "$mode" = tunnel ] && echo "lease_inner = global"
			fi
		done
	} >"$work/h$1.conf"
}

daemon srv "$srv"
spawn "$srv" python3 -u "$flows" server 203.0.113.2 203.0.113.3 >"$work/server.out" 2>&1
wait_for 50 grep -q ready "$work/server.out" || fail "the flow server did not start"
for h in $hosts; do
	host_conf "$h"
	daemon "h$h" "${tag}h$h"
done

children_up() { # HOST
	[ "$("$spinat" --socket "$work/$1.sock" show sa | grep -c "CHILD .*INSTALLED")" -ge 2 ]
}
for h in $hosts; do
	wait_for 300 children_up "h$h" || fail "h$h: not both CHILD SAs"
done
t_up=$(date +%s.%N)

# Every host's four flows at once.
ps=""
for h in $hosts; do
	a=10.0.0.$((h + 1))
	for c in esp:2:41 ah:3:42; do
		IFS=: read -r proto peer port <<EOF2
$c
EOF2
		if [ "$nat" = masquerade ]; then
			[ "$proto" = ah ] || continue
			FLOWS_TCP_TIMEOUT=4 ip netns exec "${tag}h$h" python3 -u "$flows" client \
				"$a" 203.0.113."$peer" "${port}001" "${port}002" 65536 1 \
				>"$work/f$h$proto" 2>&1 &
		else
			ip netns exec "${tag}h$h" python3 -u "$flows" client "$a" \
				203.0.113."$peer" "${port}001" "${port}002" "$bytes" "$dgrams" \
				>"$work/f$h$proto" 2>&1 &
		fi
		ps="$ps $!:$h$proto"
	done
done
bad=0
for p in $ps; do
	if wait "${p%%:*}"; then
		[ "$nat" = masquerade ] && fail "h${p#*:}'s AH came through MASQUERADE"
	else
		[ "$nat" = masquerade ] || { echo "h${p#*:}: $(cat "$work/f${p#*:}")"; bad=1; }
	fi
done
t_done=$(date +%s.%N)
[ $bad -eq 0 ] || fail "not every flow arrived"

"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
ctr() { awk -v k="$1" '$2 == k { print $3 }' "$work/srv.ctr"; }
snmp() { # PROTO FIELD: the server kernel's /proc/net/snmp counter
	# shellcheck disable=SC2016 # awk's own $i
	ip netns exec "$srv" awk -v p="$1:" -v f="$2" \
		'$1 == p && !n { for (i = 2; i <= NF; i++) h[i] = $i; n = 1; next }
		 $1 == p && n { for (i = 2; i <= NF; i++) if (h[i] == f) print $i }' /proc/net/snmp
}
icv=$(ctr ipsec.drop_icv_mismatch)
if [ "$nat" = masquerade ]; then
	[ "${icv:-0}" -ge 1 ] || { cat "$work/srv.ctr"; fail "the server counted no ICV failure"; }
	echo "PASS: through MASQUERADE every host's AH failed ($n hosts, TCP and UDP;" \
		"$icv ICV failures at the server)"
	exit 0
fi

# Every byte arrived: each host's streams by length and digest (the clients checked the
# server's answers), and the server saw 2 streams of $bytes from each global port pair.
streams=$(grep -c "^tcp 203.0.113.1:[0-9]* $bytes$" "$work/server.out")
[ "$streams" -eq $((2 * n)) ] || fail "the server finished $streams of $((2 * n)) streams"
for h in $hosts; do
	for proto in esp ah; do
		grep -q "^tcp $bytes OK " "$work/f$h$proto" || fail "h$h $proto: TCP"
		grep -q "^udp $dgrams/$dgrams " "$work/f$h$proto" || fail "h$h $proto: UDP"
	done
done
for k in ipsec.drop_icv_mismatch ipsec.drop_policy_mismatch ipsec.drop_no_sa \
	ipsec.drop_replay; do
	v=$(ctr "$k")
	[ "${v:-0}" -eq 0 ] || fail "the server counted $k $v"
done
tcp_cs=$(snmp Tcp InCsumErrors) udp_cs=$(snmp Udp InCsumErrors)
if [ -z "$tcp_cs" ] || [ -z "$udp_cs" ]; then
	fail "no InCsumErrors in the server's /proc/net/snmp"
fi
if [ "${tcp_cs:-0}" -ne 0 ] || [ "${udp_cs:-0}" -ne 0 ]; then
	fail "the server's kernel counted checksum errors: TCP $tcp_cs, UDP $udp_cs"
fi
"$spinat" --socket "$work/gw.sock" show nat ipsec >"$work/nat" || fail "show nat"
for h in $hosts; do
	a=10.0.0.$((h + 1))
	for l in "isakmp *$a " "esp *$a " "ah *$a " "tcp *$a *41001 " "udp *$a *42002 "; do
		grep -q "^$l" "$work/nat" || fail "no lease '$l' at the gateway"
	done
done
rx_esp=$(ctr ipsec.rx_esp) rx_ah=$(ctr ipsec.rx_ah)
echo "ok: $n hosts x (TCP $bytes B + UDP $dgrams datagrams) x (ESP, AH) $mode mode"
echo "figures: server rx_esp ${rx_esp:-0} rx_ah ${rx_ah:-0} packets;" \
	"drop_icv_mismatch ${icv:-0}; kernel InCsumErrors TCP ${tcp_cs:-0} UDP ${udp_cs:-0};" \
	"$((2 * n * bytes)) TCP bytes and $((2 * n * dgrams)) datagrams delivered"
echo "figures: time to all CHILD SAs up $(echo "$t_up $t_start" | awk '{ printf "%.1f", $1 - $2 }') s," \
	"flows $(echo "$t_done $t_up" | awk '{ printf "%.1f", $1 - $2 }') s"
grep -m 3 "^tcp \|^udp \|^Protocol\|^Leases" "$work/nat"
# The gateway queued PCP by a rule of its own, and takes it away when it stops.
ip netns exec "$gw" iptables -t raw -S PREROUTING | grep "spinatd-q7" |
	grep -q -- "-d 10.0.0.1/32 -i br0 -p udp -m udp --dport 5351" ||
	fail "no PCP rule of the gateway's: $(ip netns exec "$gw" iptables -t raw -S)"
stop_daemon gw
[ "$(ip netns exec "$gw" iptables -t raw -S PREROUTING | grep -c spinatd-q7)" -eq 0 ] ||
	fail "the gateway left rules after SIGTERM"
echo "PASS"
