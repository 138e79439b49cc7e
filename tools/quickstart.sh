#!/bin/sh
# docs/QUICKSTART.md, step by step: two spinatd endpoints (alice behind a NAT, a VPN server
# outside) and a spinatd NAT gateway between them, each in its own network namespace.
#
#   tools/quickstart.sh up      build the namespaces, start the three daemons, wait for
#                               alice's tunnel
#   tools/quickstart.sh ping    ping through the tunnel and show what each daemon holds
#   tools/quickstart.sh down    stop the daemons, delete the namespaces
#   tools/quickstart.sh check   up, ping, down: the interop test `make check` runs
#                               (exit 77, skipped, when not root)
#
# Programs: $SPINATD and $SPINAT, else build/apps/ of this tree, else PATH. Configurations:
# dist/examples/quickstart-*.conf of this tree, else the installed examples.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
run=/run/spinat
names="nat vpn alice"

pick() { # VAR PROGRAM: $VAR, else build/apps/PROGRAM, else PROGRAM from PATH
	eval "_v=\${$1:-}"
	if [ -n "$_v" ]; then
		echo "$_v"
	elif [ -x "$top/build/apps/$2" ]; then
		echo "$top/build/apps/$2"
	else
		command -v "$2" || echo "$2"
	fi
}
SPINATD=$(pick SPINATD spinatd)
SPINAT=$(pick SPINAT spinat)
examples=$top/dist/examples
[ -d "$examples" ] || examples=/usr/share/doc/spinat/examples
[ -d "$examples" ] || examples=/usr/local/share/doc/spinat/examples

say() { printf '+ %s\n' "$*"; }
do_() { # echo, then run
	say "$*"
	"$@"
}

link() { # NS_A IF_A NS_B IF_B: a veth pair between two namespaces
	do_ ip link add "qs-$1" type veth peer name "qs-$3" || return 1
	do_ ip link set "qs-$1" netns "qs-$1"
	do_ ip link set "qs-$3" netns "qs-$3"
	do_ ip -n "qs-$1" link set "qs-$1" name "$2" up
	do_ ip -n "qs-$3" link set "qs-$3" name "$4" up
}

start() { # NAME: spinatd with examples/quickstart-NAME.conf in namespace qs-NAME
	say "ip netns exec qs-$1 $SPINATD -c $examples/quickstart-$1.conf 2>>$run/quickstart-$1.log &"
	ip netns exec "qs-$1" "$SPINATD" -c "$examples/quickstart-$1.conf" \
		2>>"$run/quickstart-$1.log" &
	_n=100
	until "$SPINAT" -s "$run/quickstart-$1.sock" version >/dev/null 2>&1; do
		_n=$((_n - 1))
		if [ $_n -eq 0 ] || ! kill -0 $! 2>/dev/null; then
			echo "quickstart: spinatd $1 did not start; its log:"
			cat "$run/quickstart-$1.log"
			return 1
		fi
		sleep 0.1
	done
}

up() {
	[ "$(id -u)" -eq 0 ] || { echo "quickstart: needs root (network namespaces)"; return 77; }
	[ -c /dev/net/tun ] || { echo "quickstart: /dev/net/tun is missing"; return 77; }
	for t in ip iptables ping; do
		command -v $t >/dev/null 2>&1 || { echo "quickstart: $t is missing"; return 77; }
	done
	# 1. three namespaces, two links
	for ns in alice nat vpn; do
		do_ ip netns add "qs-$ns" || return 1
		do_ ip -n "qs-$ns" link set lo up
		do_ ip netns exec "qs-$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
	done
	link alice eth0 nat in0 || return 1
	link vpn eth0 nat out0 || return 1
	# 2. addresses and routes: alice's default route is the NAT; the VPN server has no
	#    route to 10.0.0.0/24, so only translated packets can be answered
	do_ ip -n qs-alice addr add 10.0.0.2/24 dev eth0
	do_ ip -n qs-alice route add default via 10.0.0.1
	do_ ip -n qs-nat addr add 10.0.0.1/24 dev in0
	do_ ip -n qs-nat addr add 203.0.113.1/24 dev out0
	do_ ip -n qs-vpn addr add 203.0.113.2/24 dev eth0
	# 3. the NAT forwards, and accepts from the inside packets whose source became its own
	#    global address (spinatd translates before routing)
	do_ ip netns exec qs-nat sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.in0.accept_local=1 net.ipv4.conf.in0.rp_filter=0
	# 4. the daemons: the gateway installs its own NFQUEUE rules; alice starts her tunnel
	do_ mkdir -p "$run"
	for n in $names; do
		start "$n" || return 1
	done
	# 5. wait for alice's CHILD SA (IKEv2, NAT-T to UDP 4500 through the NAT)
	say "$SPINAT -s $run/quickstart-alice.sock show sa   (until a CHILD SA is INSTALLED)"
	_n=200
	until "$SPINAT" -s "$run/quickstart-alice.sock" show sa 2>/dev/null | grep -q "CHILD.*INSTALLED"; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || {
			echo "quickstart: no tunnel after 20 s"
			tail -n 20 "$run/quickstart-alice.log"
			return 1
		}
		sleep 0.1
	done
	echo "quickstart: up; try: ip netns exec qs-alice ping -I 192.168.1.1 192.168.100.1"
}

ping_() {
	do_ ip netns exec qs-alice ping -c 3 -i 0.2 -W 2 -I 192.168.1.1 192.168.100.1 || return 1
	do_ "$SPINAT" -s "$run/quickstart-alice.sock" show sa
	do_ "$SPINAT" -s "$run/quickstart-nat.sock" show nat
	do_ "$SPINAT" -s "$run/quickstart-vpn.sock" show counters
}

down() {
	for n in alice vpn nat; do
		pidf=$run/quickstart-$n.pid
		[ -f "$pidf" ] || continue
		pid=$(cat "$pidf")
		do_ kill -TERM "$pid"
		_n=50
		while kill -0 "$pid" 2>/dev/null && [ $_n -gt 0 ]; do
			_n=$((_n - 1))
			sleep 0.1
		done
	done
	for ns in alice nat vpn; do
		ip netns list 2>/dev/null | grep -q "^qs-$ns\b" && do_ ip netns del "qs-$ns"
	done
	rm -f "$run"/quickstart-*.log
	return 0
}

case ${1:-} in
up) up ;;
ping) ping_ ;;
down) down ;;
check)
	[ "$(id -u)" -eq 0 ] || {
		echo "SKIP: needs root (network namespaces)"
		exit 77
	}
	trap down EXIT
	trap 'exit 1' INT TERM
	down >/dev/null 2>&1 # what an earlier run may have left
	up
	rc=$?
	[ $rc -eq 0 ] || exit $rc
	ping_ || {
		echo "FAIL: no ping through alice's tunnel"
		exit 1
	}
	"$SPINAT" -s "$run/quickstart-nat.sock" show nat | grep -q "udp.*10.0.0.2:4500" || {
		echo "FAIL: the NAT has no UDP 4500 mapping of alice"
		exit 1
	}
	echo "PASS: docs/QUICKSTART.md: alice reaches 192.168.100.1 through the NAT and her tunnel"
	;;
*)
	echo "usage: $0 up|ping|down|check"
	exit 2
	;;
esac
