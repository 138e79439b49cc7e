#!/bin/sh
# 004 between network namespaces, with the kernel's own NAT (MASQUERADE) in the way:
#
#   client 10.0.0.2 -- 10.0.0.1 nat 203.0.113.1 -- 203.0.113.2 lns 192.0.2.1 -- 192.0.2.10 gw
#
# The client has no route to 192.0.2.0/24 but through the LNS; the gateway routes the pool
# 10.99.0.0/24 back via the LNS (004 [0023]). Modes (any number, in order):
#
#   spinat      spinatd lac -> spinatd lns: discovery decides "tunnel", PPP assigns the
#               user's address, IKE/NAT-T-port UDP reaches the gateway and comes back, TCP
#               and non-gateway traffic are dropped and counted; tshark decodes every L2TP,
#               PPP, LCP, CHAP, IPCP and STUN message without a malformed warning; the LNS
#               is killed and restarted and the client comes back by itself (time printed)
#   xl2tpd-lac  xl2tpd as LAC against spinatd lns: control connection and call up to ICCN
#   xl2tpd-lns  spinatd lac against xl2tpd as LNS: the same from the other side
#   stun        stun-client (RFC 3489) and python3-aioice (RFC 8489) get the NAT's
#               address from the discovery service
#
#   l2tp_lns.sh SPINATD SPINAT MODE...
set -u
spinatd=$1 spinat=$2
shift 2
. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices"
need_tools ip iptables tshark python3
need_tun
lib_start l2
C=${tag}c N=${tag}n L=${tag}l G=${tag}g
py=/usr/bin/python3

fail_report() {
	log_tails 30
	for s in lns lac; do
		[ -S "$work/$s.sock" ] && "$spinat" --socket "$work/$s.sock" show l2tp 2>&1 | sed "s/^/$s: /"
	done
}

topology() {
	ns_add "$C" "$N" "$L" "$G"
	veth "${tag}a" "$C" eth0 "$N" eth0
	veth "${tag}b" "$N" out0 "$L" eth0
	veth "${tag}d" "$L" lan0 "$G" eth0
	ip -n "$C" addr add 10.0.0.2/24 dev eth0
	ip -n "$C" route add default via 10.0.0.1
	ip -n "$N" addr add 10.0.0.1/24 dev eth0
	ip -n "$N" addr add 203.0.113.1/24 dev out0
	ip -n "$L" addr add 203.0.113.2/24 dev eth0
	ip -n "$L" addr add 192.0.2.1/24 dev lan0
	ip -n "$G" addr add 192.0.2.10/24 dev eth0
	ip -n "$G" route add 10.99.0.0/24 via 192.0.2.1
	ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip netns exec "$L" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip netns exec "$N" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE || fail "iptables"
}

lns_conf() { # [EXTRA KEY LINES]
	l2tp_lns_conf tunnel-secret "hostname = lns.example" "user = alice:wonderland" \
		"static = alice:10.99.0.20" "gateway = 192.0.2.10" "${1:-}"
}

lac_conf() { # MODE EXTRA
	l2tp_lac_conf lac tunnel-secret alice wonderland "mode = $1" "route = 192.0.2.10/32" \
		"hello = 5s" "echo_interval = 3s" "retry = 2s" "${2:-}"
}

show() { # NAME
	"$spinat" --socket "$work/$1.sock" show l2tp
}

lac_up() {
	show lac 2>/dev/null | grep -q "client state up"
}

# UDP echo on the gateway, ports 500 and 4500 (what the LNS lets through).
echo_server() {
	cat >"$work/echo.py" <<'EOF'
import select, socket
socks = []
for port in (500, 4500):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        data, peer = s.recvfrom(2048)
        s.sendto(b"echo:" + data, peer)
EOF
	spawn "$G" "$py" "$work/echo.py"
}

# udp_ask DST PORT: one datagram from the client, its echo printed (or nothing in 2 s).
udp_ask() {
	ip netns exec "$C" "$py" - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"ike-probe", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(2048).decode())
except socket.timeout:
    pass
EOF
}

ctr() { # NAME COUNTER: its value in show l2tp, 0 when absent
	show "$1" | awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }'
}

mode_spinat() {
	lns_conf
	lac_conf auto
	spawn "$L" tshark -q -n -i eth0 -w "$work/outside.pcap" -f "udp"
	tshark_pid=$spawned
	sleep 1
	daemon lns "$L"
	echo_server
	t0=$(date +%s.%N)
	daemon lac "$C"
	wait_for 300 lac_up || fail "the client did not come up through the LNS in 30 s"
	echo "client up through the LNS in $(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }') s"
	show lac | grep -q "decision tunnel: NAT seen (discovery saw 203.0.113.1:" ||
		fail "the client did not decide on the tunnel from what discovery saw"
	grep -q "tunnel: NAT seen (we are 10.0.0.2:1701, discovery saw 203.0.113.1:" \
		"$work/lac.log" || fail "the decision is not logged"
	show lac | grep -q "address 10.99.0.20" || fail "not the user's fixed address"
	show lns | grep -q "user alice address 10.99.0.20" || fail "LNS does not show the session"
	# IKE and NAT-T ports reach the gateway and the answer comes back.
	for port in 500 4500; do
		r=$(udp_ask 192.0.2.10 $port)
		[ "$r" = "echo:ike-probe" ] || fail "UDP $port through the LNS: got '$r'"
	done
	[ "$(ctr lns lns.to_net)" -ge 2 ] || fail "lns.to_net"
	# Anything else is dropped by the LNS and counted: other UDP, TCP, another address.
	r=$(udp_ask 192.0.2.10 5000)
	[ -z "$r" ] || fail "UDP 5000 passed the LNS"
	ip netns exec "$C" timeout 3 "$py" -c "import socket; socket.create_connection(('192.0.2.10', 80), 2)" \
		2>/dev/null && fail "TCP passed the LNS"
	[ "$(ctr lns lns.drop_fw_protocol)" -ge 2 ] || fail "drops not counted as drop_fw_protocol"
	ip -n "$C" route add 192.0.2.99/32 dev lac0
	r=$(udp_ask 192.0.2.99 500)
	[ "$(ctr lns lns.drop_fw_gateway_not_permitted)" -ge 1 ] || fail "non-gateway not counted"
	show lns | grep -q "l2tp.drop_auth_failed" && fail "authentication failures"
	[ "$(ctr lns ppp.auth_ok)" -eq 1 ] || fail "PPP did not authenticate with CHAP"
	"$spinat" --socket "$work/lns.sock" show l2tp nft >"$work/nft.txt" || fail "show l2tp nft"
	grep -q 'iifname "l2tp0" ip daddr { 192.0.2.10/32 } jump ipsec_only' "$work/nft.txt" ||
		fail "nftables text"
	if command -v nft >/dev/null 2>&1; then
		ip netns exec "$L" nft -c -f "$work/nft.txt" || fail "nft rejects the ruleset"
	fi

	# The LNS crashes and comes back empty; the client notices and returns by itself.
	kill_daemon lns
	t0=$(date +%s.%N)
	sleep 5
	daemon lns "$L"
	# The client still believes in its tunnel until HELLO or LCP echo go unanswered.
	end=$(($(date +%s) + 90))
	until [ "$(udp_ask 192.0.2.10 500)" = "echo:ike-probe" ]; do
		[ "$(date +%s)" -lt "$end" ] || fail "the client did not come back within 90 s"
		sleep 0.5
	done
	[ "$(ctr lac lac.reconnect)" -ge 1 ] || fail "came back without reconnecting?"
	echo "LNS killed, back after 5 s: client up again $(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }') s after the kill"
	stop_daemon lac
	stop_daemon lns
	kill "$tshark_pid"
	wait "$tshark_pid" 2>/dev/null
	forget "$tshark_pid"
	check_tshark "$work/outside.pcap"
}

# Every L2TP, PPP, LCP, CHAP, IPCP and STUN message decodes, nothing malformed.
check_tshark() {
	# A malformed warning counts when it falls in one of spinat's own layers (the test's
	# probes inside the session are arbitrary bytes to other dissectors).
	tshark -n -r "$1" -Y "_ws.malformed || _ws.expert.severity == error" \
		-T fields -e frame.number -e frame.protocols >"$work/malformed.txt" 2>&1 ||
		fail "tshark cannot read $1"
	if awk '{ n = split($2, p, ":"); print p[n] }' "$work/malformed.txt" |
		grep -Eqx "l2tp|ppp|lcp|chap|pap|ipcp|stun|udp|ip"; then
		cat "$work/malformed.txt"
		fail "tshark reports a malformed L2TP, PPP or STUN message"
	fi
	for p in l2tp lcp chap ipcp stun; do
		n=$(tshark -n -r "$1" -Y "$p" 2>/dev/null | wc -l)
		[ "$n" -gt 0 ] || fail "no $p message in the capture"
		echo "tshark: $n $p frame(s), none malformed"
	done
	for t in 1 2 3 4 6 10 11 12; do
		n=$(tshark -n -r "$1" -Y "l2tp.avp.message_type == $t" 2>/dev/null | wc -l)
		[ "$n" -gt 0 ] || fail "no L2TP message of type $t"
	done
	n=$(tshark -n -r "$1" -Y "l2tp.type == 1 && l2tp.length == 12" 2>/dev/null | wc -l)
	echo "tshark: L2TP message types 1 2 3 4 6 10 11 12 seen; $n ZLB ack(s)"
}

stop_xl2tpd() {
	kill "$xl2tpd_pid" 2>/dev/null
	wait "$xl2tpd_pid" 2>/dev/null
	forget "$xl2tpd_pid"
}

mode_xl2tpd_lac() {
	lns_conf "ppp_auth = none"
	daemon lns "$L"
	cat >"$work/xl2tpd.conf" <<EOF
[global]
port = 1701
auth file = $work/l2tp-secrets

[lac spinat]
lns = 203.0.113.2
hostname = xl2tpd-lac
challenge = yes
autodial = yes
redial = yes
redial timeout = 2
max redials = 3
pppoptfile = $work/ppp-options
EOF
	printf '*\t*\ttunnel-secret\n' >"$work/l2tp-secrets"
	chmod 600 "$work/l2tp-secrets"
	printf 'noauth\nnodefaultroute\n' >"$work/ppp-options"
	rm -f "$work/xl2tpd.pid"
	spawn "$C" xl2tpd -D -c "$work/xl2tpd.conf" -p "$work/xl2tpd.pid" \
		-C "$work/xl2tpd.ctl" >"$work/xl2tpd.log" 2>&1
	xl2tpd_pid=$spawned
	wait_for 200 sh -c "[ \$($spinat --socket $work/lns.sock show l2tp | awk '\$1 == \"l2tp.session_up\" { print \$2 }') -ge 1 ] 2>/dev/null" ||
		fail "xl2tpd's call did not reach ICCN at spinat's LNS"
	show lns | grep -q "host xl2tpd-lac state up" || fail "tunnel to xl2tpd not up"
	[ "$(ctr lns l2tp.drop_auth_failed)" -eq 0 ] || fail "tunnel authentication failed"
	grep -q "Connection established" "$work/xl2tpd.log" || fail "xl2tpd: no control connection"
	grep -q "Call established" "$work/xl2tpd.log" || fail "xl2tpd: no call"
	echo "xl2tpd LAC -> spinat LNS: control connection and call established (tunnel auth on)"
	stop_xl2tpd
	stop_daemon lns
}

mode_xl2tpd_lns() {
	cat >"$work/xl2tpd.conf" <<EOF
[global]
port = 1701
auth file = $work/l2tp-secrets

[lns default]
ip range = 10.98.0.10-10.98.0.20
local ip = 10.98.0.1
hostname = xl2tpd-lns
challenge = yes
require authentication = no
pppoptfile = $work/ppp-options
EOF
	printf '*\t*\ttunnel-secret\n' >"$work/l2tp-secrets"
	chmod 600 "$work/l2tp-secrets"
	printf 'noauth\n' >"$work/ppp-options"
	rm -f "$work/xl2tpd.pid"
	spawn "$L" xl2tpd -D -c "$work/xl2tpd.conf" -p "$work/xl2tpd.pid" \
		-C "$work/xl2tpd.ctl" >"$work/xl2tpd.log" 2>&1
	xl2tpd_pid=$spawned
	sleep 0.5
	lac_conf always "discovery_tries = 1"
	daemon lac "$C"
	wait_for 200 sh -c "[ \$($spinat --socket $work/lac.sock show l2tp | awk '\$1 == \"l2tp.session_up\" { print \$2 }') -ge 1 ] 2>/dev/null" ||
		fail "spinat's call did not reach ICCN at xl2tpd"
	grep -q "Connection established" "$work/xl2tpd.log" || fail "xl2tpd: no control connection"
	grep -q "Call established" "$work/xl2tpd.log" || fail "xl2tpd: no call"
	# xl2tpd cannot start pppd here: it disconnects the call, and the client its tunnel.
	[ "$(ctr lac l2tp.tunnel_up)" -ge 1 ] || fail "tunnel not up at the client"
	[ "$(ctr lac l2tp.drop_auth_failed)" -eq 0 ] || fail "tunnel authentication failed"
	echo "spinat LAC -> xl2tpd LNS: control connection and call established (tunnel auth on)"
	stop_xl2tpd
	stop_daemon lac
}

mode_stun() {
	lns_conf
	daemon lns "$L"
	# stun-client speaks RFC 3489: MAPPED-ADDRESS, the NAT's address.
	ip netns exec "$C" timeout 20 stun 203.0.113.2 1 -v >"$work/stun.txt" 2>&1
	grep -q "MappedAddress = 203.0.113.1:" "$work/stun.txt" || {
		cat "$work/stun.txt"
		fail "stun-client did not get 203.0.113.1"
	}
	echo "stun-client: $(grep -m1 'MappedAddress' "$work/stun.txt")"
	# aioice's own RFC 8489 message code parses and checks the answer.
	r=$(ip netns exec "$C" "$py" - <<'EOF'
import socket
from aioice import stun
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
req = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
s.sendto(bytes(req), ("203.0.113.2", 3478))
resp = stun.parse_message(s.recv(2048))
assert resp.transaction_id == req.transaction_id
print("%s:%d" % resp.attributes["XOR-MAPPED-ADDRESS"])
EOF
)
	case $r in
	203.0.113.1:*) echo "python3-aioice: XOR-MAPPED-ADDRESS $r" ;;
	*) fail "aioice got '$r'" ;;
	esac
	[ "$(ctr lns disc.tx_rfc3489)" -ge 1 ] || fail "no RFC 3489 answer counted"
	[ "$(ctr lns disc.tx_rfc8489)" -ge 1 ] || fail "no RFC 8489 answer counted"
	stop_daemon lns
}

topology
for m in "$@"; do
	case $m in
	spinat) mode_spinat ;;
	xl2tpd-lac) need_tools xl2tpd; mode_xl2tpd_lac ;;
	xl2tpd-lns) need_tools xl2tpd; mode_xl2tpd_lns ;;
	stun) need_tools stun; mode_stun ;;
	*) fail "unknown mode $m" ;;
	esac
done
echo "PASS"
