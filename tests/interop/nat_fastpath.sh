#!/bin/sh
# The gateway's fast path in the kernel (docs/NAT.md "Fast path"): spinatd with the
# spihash strategy, spihash_timeout = 3s and fastpath_forward = redirect (the other gateway
# tests run with the default, the stack forwarding); an inside host sends raw ESP to an outside
# server for 6 s (a packet every 20 ms) and the server answers each (esp_probe). Once the
# engine has matched the SPIs, the tc program forwards the rest: the engine must see only
# the first packets, every answer must come back to the host, and
#   - the ESP rows must still be there after 5 s of traffic, longer than their 3 s
#     timeout: the engine postponed their expiry by the kernel's last use of them
#     (nat.offload_expiry_postponed), while `spinat show nat` counts the kernel's packets;
#   - once the traffic stops they must expire within the timeout and a wheel tick, and
#     their map elements go with them (nat.offload_expired, nat.offload_removed).
# Then the clean-up: SIGTERM detaches the programs and removes the iptables rule; after
# SIGKILL the rule (and, without tcx links, the tc filters) stays, and the next start
# removes them before installing its own (one of each). Last, without the capabilities BPF
# needs, the gateway says so once and runs on NFQUEUE alone.
#
#   nat_fastpath.sh SPINATD SPINAT ESP_PROBE
set -u
spinatd=$1 spinat=$2 probe=$3

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE, BPF"
need_tools ip iptables tc setpriv
lib_start fp
gw=${tag}g srv=${tag}s

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	[ -S "$work/gw.sock" ] && { echo "--- counters"; "$spinat" --socket "$work/gw.sock" show counters; }
}

ctr() { # NAME: a counter of the running gateway
	"$spinat" --socket "$work/gw.sock" show counters | awk -v n="$1" '$2 == n { print $3 }'
}

filters() { # our tc filters on the gateway's interfaces (kernels without tcx links)
	for _i in in1 out0; do
		ip netns exec "$gw" tc filter show dev "$_i" ingress
	done | grep -c "handle 0x5350"
}

attached() { # our programs attached: tc filters, and tcx links the running spinatd holds
	_links=0
	[ -n "${pid_gw:-}" ] && [ -d "/proc/$pid_gw" ] &&
		_links=$(cat "/proc/$pid_gw"/fdinfo/* 2>/dev/null | grep -c "^link_type:.*tcx")
	echo $(($(filters) + _links))
}

rules() { # how many of our iptables rules letting the mark pass there are
	ip netns exec "$gw" iptables -t raw -S PREROUTING | grep "spinatd-q5" | grep -c -- "--mark 0x5350"
}

nat_topology "$gw" "$srv" "${tag}h1"
nfqueue "$gw" 5
gateway_conf gw 5 spihash "spihash_timeout = 3s" "fastpath = auto" "fastpath_forward = redirect"
daemon gw "$gw"
if grep -q "no fast path" "$work/gw.log"; then
	echo "SKIP: $(grep "no fast path" "$work/gw.log")"
	exit 77
fi
[ "$(attached)" -eq 2 ] || fail "expected our program on in1 (the bridge port) and out0"
[ "$(rules)" -eq 1 ] || fail "expected one iptables rule for the mark"

ip netns exec "$srv" "$probe" echo 8 md5 >"$work/srv" &
sp=$!
sleep 0.2
ip netns exec "${tag}h1" "$probe" ping 203.0.113.2 0x11110001 300 7 md5 >"$work/h1" &
p1=$!
sleep 5
"$spinat" --socket "$work/gw.sock" show nat ipsec >"$work/nat.during" || fail "show nat"
cat "$work/nat.during"
grep -q "^esp .*10.0.0.2:0x11110001 .*matched .*fast [0-9]* pkts" "$work/nat.during" ||
	fail "no offloaded outbound row after 5 s (timeout 3 s)"
grep -q "^esp .*association .*fast [0-9]* pkts" "$work/nat.during" ||
	fail "no offloaded association after 5 s (timeout 3 s)"
fast=$(sed -n 's/.*matched .*fast \([0-9]*\) pkts.*/\1/p' "$work/nat.during")
[ "$fast" -ge 100 ] || fail "show nat counts $fast packets of the kernel's on the outbound row"
# Watch the rows until they go. The kernel's count moving between two looks brackets the
# last packet; the looks before and after they went bracket the expiry. The rows must go
# after the 3 s timeout (at most that far from the last packet: none too early) and within
# a tick or two of the wheel (at least that close: none too late), however slow the looks.
t=$(date +%s.%N) lo=$t hi=$t n=0
while "$spinat" --socket "$work/gw.sock" show nat ipsec >"$work/nat.after" &&
	grep -q "^esp" "$work/nat.after"; do
	prev=$t
	now=$(sed -n 's/.*matched .*fast \([0-9]*\) pkts.*/\1/p' "$work/nat.after")
	[ "$now" = "$fast" ] || { fast=$now lo=$prev hi=$(date +%s.%N); }
	n=$((n + 1))
	[ $n -le 150 ] || fail "the ESP rows did not expire"
	sleep 0.1
	t=$(date +%s.%N)
done
gone=$(date +%s.%N)
idle=$(echo "$prev $hi $gone $lo" | awk '{ printf "%.1f %.1f", $1 - $2, $3 - $4 }')
echo "expired between ${idle% *} and ${idle#* } s after the last packet the kernel forwarded (timeout 3 s)"
echo "$idle" | awk '{ exit !($2 >= 2.9 && $1 <= 6.5) }' ||
	fail "the rows expired $idle s after the last packet, not after their 3 s timeout"
wait $p1 || fail "esp_probe on h1"
wait $sp || fail "esp_probe on the server"
cat "$work/h1"
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$work/h1")
own=$(sed -n 's/.*own=\([0-9]*\).*/\1/p' "$work/h1")
foreign=$(sed -n 's/.*foreign=\([0-9]*\).*/\1/p' "$work/h1")
[ "$sent" -ge 150 ] && [ "$own" -ge $((sent - 5)) ] && [ "$foreign" -eq 0 ] ||
	fail "h1 sent $sent, got own=$own foreign=$foreign"
seen=$(ctr nat.ipsec_in2out) kin=$(ctr fastpath.fast_in2out) kout=$(ctr fastpath.fast_out2in)
echo "engine saw $seen outbound ESP packets, the kernel forwarded $kin out and $kout in"
# The first packets of each direction go through the engine until the rows settle: a few
# on an idle machine, a few dozen (packets every 20 ms) when the daemon waits for a core.
# Without the fast path it would see all of them.
[ "$seen" -le $((sent / 4)) ] || fail "the engine saw $seen of $sent outbound packets"
# all but the ones the engine saw
[ "$kin" -ge $((sent - seen - 5)) ] && [ "$kout" -ge $((own - seen - 5)) ] ||
	fail "the kernel forwarded $kin out, $kout in of $sent sent, $own answered"
# fastpath_forward = redirect: the program forwarded them itself (FIB, TTL, bpf_redirect),
# out of the bridge port to out0 and from out0 into the bridge.
red=$(ctr fastpath.redirected)
[ "$red" -ge $((kin + kout - 20)) ] || fail "only $red of $kin + $kout packets redirected"
[ "$(ctr nat.offload_expiry_postponed)" -ge 1 ] || fail "no expiry was postponed"

# show nat hides an entry past its time; the wheel frees it within its next tick
expired_both() { [ "$(ctr nat.offload_expired)" -ge 2 ]; }
wait_for 20 expired_both || fail "nat.offload_expired < 2"
[ "$(ctr nat.offload_removed)" -ge 2 ] || fail "nat.offload_removed < 2"

# SIGTERM takes everything away.
stop_daemon gw
[ "$(filters)" -eq 0 ] || fail "tc filters left after SIGTERM"
[ "$(rules)" -eq 0 ] || fail "iptables rule left after SIGTERM"
# SIGKILL: tcx links (Linux 6.6) go with the process; tc filters stay until the next
# start, translating nothing once the heartbeat is stale; the rule stays. The crash is
# made with tc filters (fastpath_attach = tc), the restart with the default.
sed 's/^fastpath_forward = .*/fastpath_attach = tc/' "$work/gw.conf" >"$work/gw.conf.tc"
cp "$work/gw.conf" "$work/gw.conf.auto"
cp "$work/gw.conf.tc" "$work/gw.conf"
daemon gw "$gw"
ip netns exec "${tag}h1" ping -n -q -c 2 -i 0.2 -W 2 203.0.113.2 >/dev/null || fail "ping"
kill_daemon gw
pid_gw=""
left=$(filters)
echo "after SIGKILL: $left tc filter(s) left"
[ "$left" -eq 2 ] || fail "$left tc filters after a crash, expected 2"
[ "$(rules)" -eq 1 ] || fail "expected a crash to leave the rule"
# A crashed NAT translates nothing: at once with tcx links, within fastpath_stale (3 s)
# with tc filters; the NFQUEUE rules then drop what nobody reads.
sleep 3.5
ip netns exec "${tag}h1" ping -n -q -c 2 -i 0.2 -W 1 203.0.113.2 >/dev/null &&
	fail "the fast path still translated after spinatd was killed"
cp "$work/gw.conf.auto" "$work/gw.conf"
daemon gw "$gw"
[ "$(attached)" -eq 2 ] || fail "after a restart: $(attached) programs attached"
[ "$(rules)" -eq 1 ] || fail "after a restart: $(rules) rules"
ip netns exec "${tag}h1" ping -n -c 3 -i 0.2 -W 2 203.0.113.2 >"$work/ping" ||
	fail "ping after restart"
# the third reply came through the fast path, forwarded once: TTL 64 - 1
grep -q "icmp_seq=3 ttl=63 " "$work/ping" || { cat "$work/ping"; fail "TTL not decremented"; }
stop_daemon gw

# Without BPF (here: without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN) the gateway says so
# once and works on NFQUEUE alone.
: >"$work/gw.log"
SPINAT_VALGRIND="setpriv --bounding-set=-bpf,-perfmon,-sys_admin --inh-caps=-bpf,-perfmon,-sys_admin --"
daemon gw "$gw"
SPINAT_VALGRIND=""
ip netns exec "${tag}h1" ping -n -q -c 2 -i 0.2 -W 2 203.0.113.2 >/dev/null ||
	fail "ping through the gateway on NFQUEUE alone"
[ "$(grep -c "no fast path in the kernel" "$work/gw.log")" -eq 1 ] || fail "not said once"
[ "$(wc -l <"$work/gw.log")" -le 5 ] || fail "more than the one line about BPF in the log"
[ "$(attached)" -eq 0 ] || fail "a program attached without BPF"
stop_daemon gw
echo "PASS: $kin + $kout ESP packets through the fast path, timeout kept, clean-up after a crash"
