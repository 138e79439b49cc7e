#!/bin/sh
# The gateway's own rules: spinatd installs them at start (the rule letting marked packets
# pass, then NFQUEUE rules: one per inside interface, one per outside interface and pool
# entry; each tagged spinatd-qN), so a host's ping is
# translated with no rule of the test's; kill -9 leaves them (the kernel then drops: a dead
# NAT), and the next start removes those stale ones before adding its own (never two
# sets); SIGTERM removes them. With --queue-bypass the rules carry it and, with the daemon
# killed, packets pass untranslated instead of being dropped. --no-rules installs none.
#
#   gateway_rules.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables ping
lib_start gr
gw=${tag}g srv=${tag}s h=${tag}h

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	ip netns exec "$gw" iptables -t raw -S
}

nat_topology "$gw" "$srv" "$h"
gateway_conf gw 7
ours() { ip netns exec "$gw" iptables -t raw -S PREROUTING | grep -c "spinatd-q7"; }
ping_ok() { ip netns exec "$h" ping -c 1 -W 2 203.0.113.2 >/dev/null; }
srv_rx() { ip -n "$srv" -s link show eth0 | awk '/RX:/ { getline; print $2 }'; }

[ "$(ours)" -eq 0 ] || fail "rules before the start"
daemon gw "$gw"
[ "$(ours)" -eq 3 ] || fail "$(ours) rules after the start, want 3"
ip netns exec "$gw" iptables -t raw -S PREROUTING | head -2 | grep "spinatd-q7" |
	grep -q -- "--mark 0x5350 .*-j ACCEPT" || fail "the mark rule is not the first"
ping_ok || fail "no ping through the gateway's own rules"
kill_daemon gw
[ "$(ours)" -eq 3 ] || fail "kill -9 changed the rules"
ping_ok && fail "a ping passed with the rules in place and no daemon (no --queue-bypass)"
daemon gw "$gw"
grep -q "removed 3 rule(s) of queue 7 a previous run left" "$work/gw.log" ||
	fail "stale rules not removed"
[ "$(ours)" -eq 3 ] || fail "$(ours) rules after a restart over stale ones, want 3"
ping_ok || fail "no ping after the restart"
stop_daemon gw
[ "$(ours)" -eq 0 ] || fail "rules left after SIGTERM"

# --queue-bypass: with the daemon gone the kernel passes the packets on untranslated
daemon gw "$gw" --queue-bypass
ip netns exec "$gw" iptables -t raw -S PREROUTING | grep "spinatd-q7" | grep -q -- "--queue-bypass" ||
	fail "no --queue-bypass in the rules"
kill_daemon gw
before=$(srv_rx)
ip netns exec "$h" ping -c 3 -i 0.2 -W 1 203.0.113.2 >/dev/null 2>&1
after=$(srv_rx)
[ "$after" -ge $((before + 3)) ] || fail "bypass: the server saw $((after - before)) packets, want 3"
daemon gw "$gw"
stop_daemon gw
[ "$(ours)" -eq 0 ] || fail "rules left after the bypass round"

# --no-rules: the NFQUEUE rules are the operator's business; the mark rule stays ours
# unless fastpath_rule = no
daemon gw "$gw" --no-rules
[ "$(ours)" -eq 1 ] || fail "--no-rules: $(ours) rules, want the mark rule alone"
stop_daemon gw
[ "$(ours)" -eq 0 ] || fail "--no-rules: rules left after SIGTERM"
echo "fastpath_rule = no" >>"$work/gw.conf"
daemon gw "$gw" --no-rules
[ "$(ours)" -eq 0 ] || fail "--no-rules and fastpath_rule = no installed rules"
stop_daemon gw
echo "PASS: rules installed, kept by kill -9, replaced on restart, removed on stop; bypass passes; --no-rules"
