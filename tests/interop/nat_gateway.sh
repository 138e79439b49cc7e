#!/bin/sh
# spinatd's gateway role for real: three inside namespaces (the kernel's own stack) on a
# bridge behind a gateway namespace running spinatd on NFQUEUE, and one outside server
# that has no route back to the private network. Unmodified ping and TCP (netcat) from
# every inside host must reach the server and come back, which only a working NAT can
# arrange; `spinat show nat` must list the mappings in 000 FIG. 5's columns and `spinat
# show counters` the queued and accepted packets; SIGTERM must stop spinatd with status 0.
# Under valgrind.sh spinatd runs under valgrind ($SPINAT_VALGRIND), which must report no
# errors and no leaks. Everything is removed on exit.
#
#   nat_gateway.sh SPINATD SPINAT [STRATEGY]
set -u
spinatd=$1 spinat=$2 strategy=${3:-masq}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, NFQUEUE)"
	exit 77
fi
for t in ip iptables ping nc cmp; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP: $t is missing (tools/deps.sh check installs it)"
		exit 77
	fi
done

tag=ng$$
gw=${tag}g srv=${tag}s
hosts="1 2 3"
work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-$tag.XXXXXX") || exit 1
pids=""

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	for h in $hosts; do
		ip netns del "${tag}h$h" 2>/dev/null
	done
	ip netns del "$gw" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	[ -S "$work/gw.sock" ] && { echo "--- counters"; "$spinat" --socket "$work/gw.sock" show counters; }
	exit 1
}

# veth NAME NS1 IF1 NS2 IF2: a pair made here with unique names, moved and renamed.
veth() {
	ip link add "$1a" type veth peer name "$1b" || fail "ip link add $1"
	ip link set "$1a" netns "$2" || fail "move $1a"
	ip link set "$1b" netns "$4" || fail "move $1b"
	ip -n "$2" link set "$1a" name "$3"
	ip -n "$4" link set "$1b" name "$5"
	ip -n "$2" link set "$3" up
	ip -n "$4" link set "$5" up
}

ip netns add "$gw" || fail "ip netns add"
ip netns add "$srv" || fail "ip netns add"
ip -n "$gw" link set lo up
ip -n "$srv" link set lo up
ip -n "$gw" link add br0 type bridge
ip -n "$gw" addr add 10.0.0.1/24 dev br0
ip -n "$gw" link set br0 up
for h in $hosts; do
	ns=${tag}h$h
	ip netns add "$ns" || fail "ip netns add"
	ip -n "$ns" link set lo up
	veth "${tag}$h" "$ns" eth0 "$gw" "in$h"
	ip -n "$gw" link set "in$h" master br0
	ip -n "$ns" addr add "10.0.0.$((h + 1))/24" dev eth0
	ip -n "$ns" route add default via 10.0.0.1
done
veth "${tag}o" "$gw" out0 "$srv" eth0
ip -n "$gw" addr add 203.0.113.1/24 dev out0
ip -n "$srv" addr add 203.0.113.2/24 dev eth0
# The server knows nothing of 10.0.0.0/24: only translated packets can be answered.

# The gateway: forwarding, packets with its own global address as source accepted from
# the inside (the translated ones), no redirects for hairpinned packets, and the queue.
ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.br0.rp_filter=0 \
	net.ipv4.conf.br0.accept_local=1 net.ipv4.conf.all.send_redirects=0 \
	net.ipv4.conf.br0.send_redirects=0 || fail "sysctl"
ip netns exec "$gw" iptables -t raw -A PREROUTING -i br0 ! -d 10.0.0.1 -j NFQUEUE --queue-num 3 ||
	fail "iptables"
ip netns exec "$gw" iptables -t raw -A PREROUTING -i out0 -d 203.0.113.1 -j NFQUEUE --queue-num 3 ||
	fail "iptables"

cat >"$work/gw.conf" <<EOF
[spinatd]
role = gateway
name = gw
[gateway]
inside = br0
outside = out0
queue = 3
pool = 203.0.113.1
strategy = $strategy
EOF
"$spinatd" --check -c "$work/gw.conf" >/dev/null 2>&1 || true
# shellcheck disable=SC2086 # the wrapper is words: valgrind and its options
ip netns exec "$gw" ${SPINAT_VALGRIND:-} "$spinatd" -c "$work/gw.conf" -s "$work/gw.sock" \
	>"$work/gw.log" 2>&1 &
gwpid=$!
pids="$pids $gwpid"
for _ in $(seq 300); do
	"$spinat" --socket "$work/gw.sock" show nat >/dev/null 2>&1 && break
	sleep 0.1
done
"$spinat" --socket "$work/gw.sock" show nat >/dev/null 2>&1 || fail "spinatd did not start"

# Ping from every inside host.
for h in $hosts; do
	ip netns exec "${tag}h$h" ping -n -q -c 3 -i 0.2 -W 2 203.0.113.2 >"$work/ping$h" 2>&1 ||
		{ cat "$work/ping$h"; fail "ping from host $h"; }
done

# TCP from every inside host at once, 200 kB each, byte for byte.
head -c 200000 /dev/urandom >"$work/data" || fail "no random data"
for h in $hosts; do
	ip netns exec "$srv" timeout 20 nc -l 203.0.113.2 "$((5000 + h))" >"$work/got$h" &
	pids="$pids $!"
done
for _ in $(seq 50); do
	[ "$(ip netns exec "$srv" ss -ltn 2>/dev/null | grep -c ':500[123] ')" -eq 3 ] && break
	sleep 0.1
done
senders=""
for h in $hosts; do
	ip netns exec "${tag}h$h" timeout 20 nc -N 203.0.113.2 "$((5000 + h))" <"$work/data" &
	senders="$senders $!"
done
for p in $senders; do
	wait "$p" || fail "TCP sender"
done
sleep 0.3
for h in $hosts; do
	cmp -s "$work/data" "$work/got$h" ||
		fail "TCP from host $h: got $(wc -c <"$work/got$h") of 200000 bytes"
done

# The table and the counters.
"$spinat" --socket "$work/gw.sock" show nat >"$work/nat" || fail "show nat"
cat "$work/nat"
grep -q "^Pro   Inside global" "$work/nat" || fail "show nat: no FIG. 5 header"
for h in $hosts; do
	grep -q "^icmp .*10.0.0.$((h + 1)):" "$work/nat" || fail "show nat: no ICMP mapping of host $h"
	grep -q "^tcp   203.0.113.1:[0-9]* *10.0.0.$((h + 1)):.*203.0.113.2:500$h" "$work/nat" ||
		fail "show nat: no TCP mapping of host $h"
done
"$spinat" --socket "$work/gw.sock" show counters >"$work/ctr" || fail "show counters"
acc=$(awk '$2 == "gateway.accepted" { print $3 }' "$work/ctr")
[ -n "$acc" ] && [ "$acc" -gt 100 ] || { cat "$work/ctr"; fail "gateway.accepted = $acc"; }
awk '$2 == "nat.in2out" { f = 1 } END { exit !f }' "$work/ctr" || fail "no nat.in2out counter"

# A clean stop: SIGTERM, every queue, socket and table closed and freed.
kill -TERM "$gwpid"
wait "$gwpid"
rc=$?
pids=$(echo "$pids" | sed "s/ $gwpid\b//")
[ $rc -eq 0 ] || fail "spinatd exited with status $rc after SIGTERM"
grep -q "stopping (signal 15)" "$work/gw.log" || fail "spinatd did not log its stop"
echo "PASS: ping and TCP from 3 inside hosts through spinatd ($strategy), $acc packets translated"
