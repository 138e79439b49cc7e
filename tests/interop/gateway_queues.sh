#!/bin/sh
# The miss path on several queues: nfqueue_queues = 2 binds queues 6 and 7, installs its
# rules with --queue-balance 6:7 and serves each queue with a thread of its own, the engine
# shared under one lock. An inside host pings the server from 20 addresses (the kernel
# balances by addresses); every ping is answered, with the fast path off so the engine
# translates each packet, and both queues carried some (nfq.packets of each instance).
# SIGTERM stops the threads and removes the rules.
#
#   gateway_queues.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables ping
lib_start gq
gw=${tag}g srv=${tag}s h=${tag}h

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	ip netns exec "$gw" iptables -t raw -S
	"$spinat" --socket "$work/gw.sock" show counters 2>/dev/null | grep -E "nfq|gateway\.|nat\.in|nat\.out"
}

nat_topology "$gw" "$srv" "$h"
for i in $(seq 20 39); do
	ip -n "$h" addr add "10.0.0.$i/24" dev eth0 || fail "address 10.0.0.$i"
done
gateway_conf gw 6 natt "nfqueue_queues = 2" "fastpath = off"
ctr() { "$spinat" --socket "$work/gw.sock" show counters | awk -v i="$1" -v k="$2" '$1 == i && $2 == k { print $3 }'; }

daemon gw "$gw"
grep -q "NAT on queues 6-7 (a thread each)" "$work/gw.log" || fail "not on two queues"
[ "$(ip netns exec "$gw" iptables -t raw -S PREROUTING | grep -c -- "--queue-balance 6:7")" -eq 2 ] ||
	fail "the NFQUEUE rules do not balance over 6:7"
ok=0
for i in $(seq 20 39); do
	ip netns exec "$h" ping -c 2 -i 0.2 -W 2 -I "10.0.0.$i" 203.0.113.2 >/dev/null && ok=$((ok + 1))
done
[ $ok -eq 20 ] || fail "$ok of 20 addresses got their pings answered"
q6=$(ctr gw nfq.packets) q7=$(ctr gw/q7 nfq.packets)
echo "queue 6 carried ${q6:-0} packets, queue 7 ${q7:-0}"
[ "${q6:-0}" -gt 0 ] && [ "${q7:-0}" -gt 0 ] || fail "one queue carried nothing"
[ $((q6 + q7)) -ge 80 ] || fail "$((q6 + q7)) packets queued for 40 pings and their answers"
[ "$(ctr gw nat.in2out)" -ge 40 ] || fail "the engine translated $(ctr gw nat.in2out) outbound, want 40"
stop_daemon gw
[ "$(ip netns exec "$gw" iptables -t raw -S PREROUTING | grep -c "spinatd-q6")" -eq 0 ] ||
	fail "rules left after SIGTERM"
echo "PASS: two queues, a thread each, every ping answered, both queues used, rules removed"
