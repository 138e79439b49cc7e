#!/bin/sh
# Two inside hosts send raw ESP to one outside server at the same time, first through the
# Linux kernel's own NAT (iptables MASQUERADE), then through spinatd's gateway role with
# the masq and spihash strategies. The server (esp_probe echo) answers each packet with
# the SPI 000's md5 scheme derives from the one it got; each host counts the answers it
# receives for its own SPI ("own") and for anyone else's ("foreign": misdelivered).
#
# The kernel keys protocols without ports by protocol and addresses only, so it cannot
# keep the two hosts apart: the test records what it delivers and asserts that one host
# is starved or flooded with the other's packets. spinatd must deliver to each host its
# own answers and nothing else's, and stop with status 0 on SIGTERM. Under valgrind.sh
# spinatd runs under valgrind ($SPINAT_VALGRIND), which must report no errors and no leaks.
#
#   nat_esp_masquerade.sh SPINATD SPINAT ESP_PROBE
set -u
spinatd=$1 spinat=$2 probe=$3

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, NFQUEUE, raw sockets)"
	exit 77
fi
for t in ip iptables; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP: $t is missing (tools/deps.sh check installs it)"
		exit 77
	fi
done

tag=nm$$
gw=${tag}g srv=${tag}s
work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-$tag.XXXXXX") || exit 1
pids=""

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	for ns in "${tag}h1" "${tag}h2" "$gw" "$srv"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	exit 1
}

veth() {
	ip link add "$1a" type veth peer name "$1b" || fail "ip link add $1"
	ip link set "$1a" netns "$2" || fail "move $1a"
	ip link set "$1b" netns "$4" || fail "move $1b"
	ip -n "$2" link set "$1a" name "$3"
	ip -n "$4" link set "$1b" name "$5"
	ip -n "$2" link set "$3" up
	ip -n "$4" link set "$5" up
}

# A fresh topology: h1 (10.0.0.2), h2 (10.0.0.3) -- br0 gw out0 (203.0.113.1) -- srv.
topology() {
	for ns in "${tag}h1" "${tag}h2" "$gw" "$srv"; do
		ip netns del "$ns" 2>/dev/null
		ip netns add "$ns" || fail "ip netns add"
		ip -n "$ns" link set lo up
	done
	ip -n "$gw" link add br0 type bridge
	ip -n "$gw" addr add 10.0.0.1/24 dev br0
	ip -n "$gw" link set br0 up
	for h in 1 2; do
		veth "${tag}$h" "${tag}h$h" eth0 "$gw" "in$h"
		ip -n "$gw" link set "in$h" master br0
		ip -n "${tag}h$h" addr add "10.0.0.$((h + 1))/24" dev eth0
		ip -n "${tag}h$h" route add default via 10.0.0.1
	done
	veth "${tag}o" "$gw" out0 "$srv" eth0
	ip -n "$gw" addr add 203.0.113.1/24 dev out0
	ip -n "$srv" addr add 203.0.113.2/24 dev eth0
	ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.br0.rp_filter=0 \
		net.ipv4.conf.br0.accept_local=1 net.ipv4.conf.all.send_redirects=0 ||
		fail "sysctl"
}

# Both hosts ping with ESP at once; results into $work/MODE.h1 and .h2.
exchange() {
	mode=$1
	ip netns exec "$srv" "$probe" echo 6 md5 >"$work/$mode.srv" &
	sp=$!
	sleep 0.2
	ip netns exec "${tag}h1" "$probe" ping 203.0.113.2 0x11110001 50 4 md5 >"$work/$mode.h1" &
	p1=$!
	ip netns exec "${tag}h2" "$probe" ping 203.0.113.2 0x22220002 50 4 md5 >"$work/$mode.h2" &
	p2=$!
	wait $p1 || fail "$mode: esp_probe on h1"
	wait $p2 || fail "$mode: esp_probe on h2"
	wait $sp || fail "$mode: esp_probe on the server"
}

field() { # FILE NAME
	sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1"
}

printf '%-16s %-28s %-28s\n' "NAT" "h1 (10.0.0.2)" "h2 (10.0.0.3)"
report() {
	printf '%-16s %-28s %-28s\n' "$1" "$(cat "$work/$1.h1")" "$(cat "$work/$1.h2")"
}

# 1. The kernel's own NAT.
topology
ip netns exec "$gw" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE || fail "iptables"
exchange kernel
report kernel
k1=$(field "$work/kernel.h1" own) k2=$(field "$work/kernel.h2" own)
kf=$(($(field "$work/kernel.h1" foreign) + $(field "$work/kernel.h2" foreign)))
# One conntrack entry per (ESP, server, global address): one host gets nothing of its
# own, or answers go to the wrong host.
if [ "$k1" -ge 45 ] && [ "$k2" -ge 45 ] && [ "$kf" -eq 0 ]; then
	fail "the kernel's MASQUERADE kept both hosts apart: the comparison is void"
fi

# 2. spinatd, for each strategy that handles raw ESP.
for strategy in masq spihash; do
	topology
	ip netns exec "$gw" iptables -t raw -A PREROUTING -i br0 ! -d 10.0.0.1 -j NFQUEUE \
		--queue-num 4 || fail "iptables"
	ip netns exec "$gw" iptables -t raw -A PREROUTING -i out0 -d 203.0.113.1 -j NFQUEUE \
		--queue-num 4 || fail "iptables"
	cat >"$work/gw.conf" <<EOF
[spinatd]
role = gateway
[gateway]
inside = br0
outside = out0
queue = 4
pool = 203.0.113.1
strategy = $strategy
EOF
	# shellcheck disable=SC2086 # the wrapper is words: valgrind and its options
	ip netns exec "$gw" ${SPINAT_VALGRIND:-} "$spinatd" -c "$work/gw.conf" \
		-s "$work/gw.sock" >"$work/gw.log" 2>&1 &
	gwpid=$!
	pids="$pids $gwpid"
	for _ in $(seq 300); do
		"$spinat" --socket "$work/gw.sock" show nat >/dev/null 2>&1 && break
		sleep 0.1
	done
	exchange "spinatd-$strategy"
	report "spinatd-$strategy"
	"$spinat" --socket "$work/gw.sock" show nat ipsec >"$work/$strategy.nat"
	kill -TERM "$gwpid"
	wait "$gwpid" || fail "spinatd ($strategy) exited with status $? after SIGTERM"
	pids=$(echo "$pids" | sed "s/ $gwpid\b//")
	for h in h1 h2; do
		own=$(field "$work/spinatd-$strategy.$h" own)
		foreign=$(field "$work/spinatd-$strategy.$h" foreign)
		# masq drops the second host's first packets while the first host's item is
		# outstanding (003); spihash loses none.
		min=45
		[ "$strategy" = spihash ] && min=50
		[ "$own" -ge "$min" ] || { cat "$work/$strategy.nat"; fail "$strategy: $h got $own of its 50 answers"; }
		[ "$foreign" -eq 0 ] || fail "$strategy: $h got $foreign answers meant for the other host"
	done
done
echo "PASS: the kernel NAT mixes up or starves two ESP hosts; spinatd (masq, spihash) delivers each its own"
