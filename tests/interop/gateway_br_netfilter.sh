#!/bin/sh
# br_netfilter and the miss path: with bridge-nf-call-iptables on, the inside packets the
# gateway routes pass raw PREROUTING at the bridge and may pass it again as IP packets; a
# translated packet queued a second time would reach the engine from inside with the pool
# address as its source and be dropped (nat.drop_src_in_pool). The daemon's verdicts mark
# what it translated, and its rule lets marked packets pass the NFQUEUE rules: every ping
# goes through, each queued once, none dropped, and the translated packets leave the
# gateway with the mark (counted in mangle POSTROUTING), which is what the rule matches.
#
#   gateway_br_netfilter.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables ping
[ -d /proc/sys/net/bridge ] || { echo "SKIP: no br_netfilter in this kernel"; exit 77; }
lib_start bn
gw=${tag}g srv=${tag}s h=${tag}h

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	ip netns exec "$gw" iptables -t raw -S
	"$spinat" --socket "$work/gw.sock" show counters 2>/dev/null | grep -E "nat\.|gateway\."
}

nat_topology "$gw" "$srv" "$h"
ip netns exec "$gw" sysctl -qw net.bridge.bridge-nf-call-iptables=1 ||
	{ echo "SKIP: bridge-nf-call-iptables not settable in a namespace"; exit 77; }
gateway_conf gw 9 natt "fastpath = off"
ctr() { "$spinat" --socket "$work/gw.sock" show counters | awk -v k="$1" '$2 == k { print $3 }'; }

marked() {
	ip netns exec "$gw" iptables -t mangle -L POSTROUTING -v -x -n | awk '/spinat-test-mark/ { print $1 }'
}
ip netns exec "$gw" iptables -t mangle -A POSTROUTING -o out0 -s 203.0.113.1 -m mark --mark 0x5350 \
	-m comment --comment spinat-test-mark || fail "iptables mangle"
daemon gw "$gw"
ip netns exec "$gw" iptables -t raw -S PREROUTING | head -2 | grep -q -- "--mark 0x5350" ||
	fail "the mark rule is not the first of raw PREROUTING"
ip netns exec "$h" ping -c 5 -i 0.2 -W 2 203.0.113.2 >/dev/null || fail "pings lost through the gateway"
q=$(ctr gateway.queued) d=$(ctr nat.drop_src_in_pool)
[ "${d:-0}" -eq 0 ] || fail "nat.drop_src_in_pool = $d: translated packets were queued again"
[ "$q" -eq 10 ] || fail "gateway.queued = $q for 5 pings and their answers, want 10"
[ "$(marked)" -eq 5 ] || fail "$(marked) translated pings left with the mark, want 5"
stop_daemon gw
echo "PASS: with br_netfilter every ping is queued once, none dropped as drop_src_in_pool; the verdicts mark them"
