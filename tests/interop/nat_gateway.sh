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

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables ping nc ss cmp
lib_start ng
gw=${tag}g srv=${tag}s
hosts="1 2 3"

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	[ -S "$work/gw.sock" ] && { echo "--- counters"; "$spinat" --socket "$work/gw.sock" show counters; }
}

nat_topology "$gw" "$srv" "${tag}h1" "${tag}h2" "${tag}h3"
nfqueue "$gw" 3

gateway_conf gw 3 "$strategy"
daemon gw "$gw"

# Ping from every inside host.
for h in $hosts; do
	ip netns exec "${tag}h$h" ping -n -q -c 3 -i 0.2 -W 2 203.0.113.2 >"$work/ping$h" 2>&1 ||
		{ cat "$work/ping$h"; fail "ping from host $h"; }
done

# TCP from every inside host at once, 200 kB each, byte for byte.
head -c 200000 /dev/urandom >"$work/data" || fail "no random data"
for h in $hosts; do
	spawn "$srv" timeout 20 nc -l 203.0.113.2 "$((5000 + h))" >"$work/got$h"
done
for h in $hosts; do
	wait_for 50 listening "$srv" "$((5000 + h))"
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
# Translated by the engine (NFQUEUE) or, once settled, by the fast path in the kernel,
# whose counters the daemon reads every second.
translated() {
	"$spinat" --socket "$work/gw.sock" show counters >"$work/ctr" || return 1
	acc=$(awk '$2 == "gateway.accepted" || $2 ~ /^fastpath.fast_/ { n += $3 }
		END { print n + 0 }' "$work/ctr")
	[ "$acc" -gt 100 ]
}
wait_for 30 translated || { cat "$work/ctr"; fail "packets translated = $acc"; }
awk '$2 == "nat.in2out" { f = 1 } END { exit !f }' "$work/ctr" || fail "no nat.in2out counter"

# A clean stop: SIGTERM, every queue, socket and table closed and freed.
stop_daemon gw
grep -q "stopping (signal 15)" "$work/gw.log" || fail "spinatd did not log its stop"
echo "PASS: ping and TCP from 3 inside hosts through spinatd ($strategy), $acc packets translated"
