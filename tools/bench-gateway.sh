#!/bin/sh
# The gateway end to end, as an operator sees it: three network namespaces (inside host --
# gateway -- outside host) joined by veth pairs, one sender on the inside host
# (bench/gw-blast, one raw socket, sendmmsg), packets counted at the outside host's
# interface. The gateway is the Linux kernel's own NAT (iptables MASQUERADE) and then
# spinatd (its NAT engine deciding, the tc fast path applying what it settled; translated
# packets forwarded by the stack, fastpath_forward = stack, or by the program itself,
# redirect), one after the other in the same run, for each case:
#   udp-64     64-byte UDP on 64 flows            (spinatd strategy natt)
#   udp-10k    64-byte UDP on 10,000 flows        (natt)
#   udp-16h    64-byte UDP on 64 flows from 16 inside addresses (for nfqueue2: the
#              kernel balances queues by addresses; not run unless named)
#   esp-masq   1400-byte raw ESP from 1,000 SAs   (masq)
#   esp-spihash                                   (spihash)
# ESP SAs are associated first (the outside host answers each SPI with 000's md5-derived
# SPI, paced), then every case floods for SECONDS. Printed per row: packets sent and
# forwarded per second, misdelivered (arrived with a source other than the global address),
# "path ns": CPU time per forwarded packet of the sender process plus the ksoftirqd threads
# (a veth delivers in the sender's context, so sending, the gateway's forwarding and the
# receiving host's input are charged to the sender, or to ksoftirqd when the kernel defers
# them; the machine's other users hardly touch either), and spinatd's own CPU per packet
# (its miss path). With RUNS > 1, min and median of both.
#
#   [MODES="forward kernel stack redirect nfqueue nfqueue2"] tools/bench-gateway.sh [BUILD] [SECONDS] [RUNS] [CASES...]
#
# BASE=BUILD makes the modes stack-base and redirect-base available: the same with BUILD's spinatd
# (another tree), to compare two trees within one run.
# BPF_STATS=1 prints the inside program's own time per run (kernel.bpf_stats_enabled).
# SETUP_HOOK=CMD runs CMD after the namespaces are set up (see setup()).
# PERF=DIR records a system-wide profile (perf record -a -g) of each row's flood in
# DIR/CASE-MODE.data. MODES picks the gateways: forward (no NAT at all, the routing namespace alone: the
# ceiling of anything that translates and then lets the stack forward; its packets arrive
# untranslated, so all count as misdelivered), kernel (MASQUERADE), stack, redirect
# (spinatd's fast path with
# fastpath_forward = stack or redirect), nfqueue (spinatd with fastpath = off: every packet
# is a miss, so its rate is the miss path's), nfqueue2 (the same on two queues,
# nfqueue_queues = 2, a thread each). spinatd installs its own rules (rules = yes).
set -u
build=${1:-build}
secs=${2:-3}
runs=${3:-1}
shift 3 2>/dev/null || shift $#
cases=${*:-udp-64 udp-10k esp-masq esp-spihash}
modes=${MODES:-forward kernel stack redirect}
spinatd=$build/apps/spinatd blast=$build/bench/gw-blast spinat=$build/apps/spinat

[ "$(id -u)" -eq 0 ] || { echo "bench-gateway: needs root (network namespaces)"; exit 1; }
for f in "$spinatd" "$blast" "$spinat"; do
	[ -x "$f" ] || { echo "bench-gateway: $f missing (ninja -C $build)"; exit 1; }
done
p=bgw$$
h=${p}h g=${p}g s=${p}s
work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-bgw.XXXXXX") || exit 1
gpid=""

cleanup() {
	[ -n "$gpid" ] && kill "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
	gpid=""
	for _ns in $h $g $s; do ip netns del "$_ns" 2>/dev/null; done
}
trap 'cleanup; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

setup() {
	cleanup
	for _ns in $h $g $s; do
		ip netns add "$_ns" && ip -n "$_ns" link set lo up || exit 1
	done
	ip link add ${p}a type veth peer name ${p}b && ip link add ${p}c type veth peer name ${p}d || exit 1
	ip link set ${p}a netns "$h" name eth0 && ip link set ${p}b netns "$g" name in0 &&
		ip link set ${p}c netns "$g" name out0 && ip link set ${p}d netns "$s" name eth0 || exit 1
	ip -n "$h" addr add 10.88.0.2/24 dev eth0 && ip -n "$h" link set eth0 up &&
		ip -n "$h" route add default via 10.88.0.1 || exit 1
	ip -n "$g" addr add 10.88.0.1/24 dev in0 && ip -n "$g" addr add 192.0.2.1/24 dev out0 &&
		ip -n "$g" link set in0 up && ip -n "$g" link set out0 up || exit 1
	ip netns exec "$g" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.in0.rp_filter=0 net.ipv4.conf.in0.accept_local=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.in0.send_redirects=0 >/dev/null
	ip -n "$s" addr add 192.0.2.2/24 dev eth0 && ip -n "$s" link set eth0 up || exit 1
	# SETUP_HOOK: a command run once the namespaces stand ($h inside host, $g gateway,
	# $s outside host), e.g. to attach an XDP program for a measurement.
	[ -z "${SETUP_HOOK:-}" ] || eval "$SETUP_HOOK" || exit 1
}

gateway() { # kernel | spinatd STRATEGY stack|redirect
	if [ "$1" = kernel ]; then
		ip netns exec "$g" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE || exit 1
		return
	fi
	cat >"$work/gw.conf" <<EOF
[spinatd]
role = gateway
name = gw
[gateway]
inside = in0
outside = out0
queue = 7
pool = 192.0.2.1
strategy = $2
max_mappings = 65536
host_max_ports = 16384
host_max_esp = 4096
fastpath = $(case $3 in nfqueue*) echo off ;; *) echo on ;; esac)
fastpath_forward = $(case $3 in redirect*) echo redirect ;; *) echo stack ;; esac)
nfqueue_queues = $([ "$3" = nfqueue2 ] && echo 2 || echo 1)
EOF
	_d=$spinatd
	case $3 in *-base) _d=${BASE:?BASE=BUILD names the other build}/apps/spinatd ;; esac
	ip netns exec "$g" "$_d" -c "$work/gw.conf" -s "$work/gw.sock" >"$work/gw.log" 2>&1 &
	gpid=$!
	_try=0
	until "$spinat" --socket "$work/gw.sock" show nat limit 1 >/dev/null 2>&1; do
		_try=$((_try + 1))
		[ $_try -lt 100 ] && kill -0 "$gpid" 2>/dev/null ||
			{ cat "$work/gw.log"; echo "bench-gateway: spinatd did not start"; exit 1; }
		sleep 0.1
	done
}

rx_s() { ip netns exec "$s" cat /sys/class/net/eth0/statistics/rx_packets; }
misdelivered() {
	ip netns exec "$s" iptables -t raw -L PREROUTING -v -x -n | awk '/!192.0.2.1/ { print $1; exit }'
}
softirqd=$(ps -e -o pid=,comm= | awk '$2 ~ /^ksoftirqd/ { print $1 }')
ksoftirqd() { # CPU ticks of the ksoftirqd threads (softirqs deferred out of the sender)
	for _p in $softirqd; do cat "/proc/$_p/stat"; done | awk '{ t += $14 + $15 } END { print t + 0 }'
}
proc_cpu() { # ticks of user and system time of pid $1, 0 if none
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0
}
now() { date +%s.%N; }
prog_stats() { # BPF_STATS=1: "run_time_ns run_cnt" of the fast path's inside program
	[ -n "${BPF_STATS:-}" ] || return 0
	bpftool prog show name fp_inside 2>/dev/null |
		sed -n 's/.*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2/p' | head -1
}
hz=$(getconf CLK_TCK)

run_case() { # CASE kernel|stack|redirect|nfqueue|nfqueue2 -> prints one row, appends it to $work/rows
	c=$1 gwk=$2 hosts=1
	case $c in
	udp-64) proto=udp n=64 size=64 strat=natt ;;
	udp-16h) proto=udp n=64 size=64 strat=natt hosts=16 ;;
	udp-10k) proto=udp n=10000 size=64 strat=natt ;;
	esp-masq) proto=esp n=1000 size=1400 strat=masq ;;
	esp-spihash) proto=esp n=1000 size=1400 strat=spihash ;;
	*) echo "bench-gateway: unknown case $c"; exit 1 ;;
	esac
	setup
	case $gwk in
	forward) ;;
	kernel) gateway kernel ;;
	*) gateway spinatd "$strat" "$gwk" ;;
	esac
	# Warm-up: every flow mapped (conntrack entries, spinatd mappings installed in the
	# fast path); every SA associated, paced so masq's outstanding items do not block.
	if [ $proto = udp ]; then
		ip netns exec "$h" "$blast" udp 10.88.0.2 192.0.2.2 $n $size 1.5 $hosts >/dev/null
	elif [ "$gwk" = forward ]; then
		ip netns exec "$h" "$blast" esp 10.88.0.2 192.0.2.2 $n 64 1.5 >/dev/null
	else
		# Paced, so under load a round may not reach every SA: spinatd's rounds go on
		# until all n are offloaded (at most 5 rounds).
		_round=0
		while :; do
			ip netns exec "$s" "$blast" esp-answer 5 >/dev/null &
			ans=$!
			ip netns exec "$h" "$blast" esp 10.88.0.2 192.0.2.2 $n 64 4 1000 >/dev/null
			wait $ans
			_round=$((_round + 1))
			[ "$gwk" != kernel ] && [ $_round -lt 5 ] || break
			_inst=$("$spinat" --socket "$work/gw.sock" show counters |
				awk '$2 == "nat.offload_installed" { print $3 }')
			[ "${_inst:-0}" -lt $n ] || break
		done
	fi
	ip netns exec "$s" iptables -t raw -A PREROUTING -i eth0 ! -s 192.0.2.1 -j DROP
	ip netns exec "$s" iptables -t raw -A PREROUTING -i eth0 -j DROP
	ppid=""
	if [ -n "${PERF:-}" ]; then # PERF=DIR: a system-wide profile of each row's flood
		perf record -q -a -g -o "$PERF/$c-$gwk.data" -- sleep "$secs" >/dev/null 2>&1 &
		ppid=$!
	fi
	b0=$(prog_stats)
	r0=$(rx_s) m0=$(misdelivered) k0=$(ksoftirqd) d0=$(proc_cpu "$gpid") t0=$(now)
	if [ $proto = udp ]; then
		out=$(ip netns exec "$h" "$blast" udp 10.88.0.2 192.0.2.2 $n $size "$secs" $hosts)
	else
		out=$(ip netns exec "$h" "$blast" esp 10.88.0.2 192.0.2.2 $n $size "$secs")
	fi
	t1=$(now) r1=$(rx_s) m1=$(misdelivered) k1=$(ksoftirqd) d1=$(proc_cpu "$gpid")
	b1=$(prog_stats)
	[ -z "$ppid" ] || wait "$ppid"
	sent=$(echo "$out" | sed -n 's/.*sent=\([0-9]*\).*/\1/p')
	scpu=$(echo "$out" | sed -n 's/.*cpu_ns=\([0-9]*\).*/\1/p')
	case $gwk in
	forward) label=forward-no-NAT ;;
	kernel) label=MASQUERADE ;;
	*) label="spinatd-$strat-$gwk" ;;
	esac
	echo "$t0 $t1 $sent $r0 $r1 $m0 $m1 $k0 $k1 $d0 $d1 $hz $scpu" |
		awk -v c="$c" -v l="$label" '{
		dt = $2 - $1; fwd = $5 - $4; pps = fwd / dt
		# per forwarded packet; per sent one when hardly any arrive (a SETUP_HOOK dropping
		# them on the way measures the path up to there)
		n = fwd * 2 > $3 ? fwd : $3
		path = 0
		if (n > 0) path = ($13 + ($9 - $8) / $12 * 1e9) / n
		dcpu = fwd > 0 ? ($11 - $10) / $12 * 1e9 / fwd : 0
		printf "%-12s %-29s %10.0f %10.0f %8d %10.0f %10.0f\n", c, l, $3 / dt, pps, $7 - $6, path, dcpu
	}' | tee -a "$work/rows"
	if [ -n "${BPF_STATS:-}" ] && [ -n "$b1" ]; then
		echo "$b0 $b1" | awk '$4 > $2 { printf "  fp_inside: %d runs, %.0f ns per run\n", $4 - $2, ($3 - $1) / ($4 - $2) }'
	fi
	if [ "$gwk" != kernel ] && [ "$gwk" != forward ] && [ -n "${VERBOSE:-}" ]; then
		"$spinat" --socket "$work/gw.sock" show counters | grep -E "${VERBOSE_RE:-fastpath|queued|offload|nfq.packets}"
	fi
	cleanup
}

if [ -n "${BPF_STATS:-}" ]; then # every BPF program's run time (a little cost per run)
	bstat=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	trap 'cleanup; rm -rf "$work"; sysctl -qw kernel.bpf_stats_enabled="$bstat"' EXIT
fi
echo "bench-gateway: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $secs s per row, $runs run(s)"
printf "%-12s %-29s %10s %10s %8s %10s %10s\n" case gateway "sent pps" "fwd pps" misdeliv \
	"path ns" "spinatd ns"
for r in $(seq 1 "$runs"); do
	for c in $cases; do
		for m in $modes; do
			run_case "$c" "$m"
		done
	done
done
echo "bench-gateway: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$runs" -gt 1 ]; then
	# ratio: the median fwd pps over the reference's (MASQUERADE, or without it NFQUEUE
	# alone on one queue) in the same case; cpu ratio: the reference's median path ns over
	# this row's, the packets one CPU forwards per second relative to the reference
	# (steadier when the machine's other load takes the sender's CPU unevenly)
	echo "over $runs runs, min / median:        fwd pps              path ns per packet      ratio cpu ratio"
	mid=$(((runs + 1) / 2))
	for c in $cases; do
		ref="" refq=""
		for l in MASQUERADE $(awk -v c="$c" '$1 == c && $2 ~ /-nfqueue$/ { print $2 }' "$work/rows" | sort -u); do
			[ -n "$ref" ] || ref=$(awk -v c="$c" -v l="$l" '$1 == c && $2 == l { print $4 }' "$work/rows" |
				sort -n | sed -n "${mid}p")
			[ -n "$refq" ] || refq=$(awk -v c="$c" -v l="$l" '$1 == c && $2 == l { print $6 }' "$work/rows" |
				sort -n | sed -n "${mid}p")
		done
		for l in $(awk -v c="$c" '$1 == c { print $2 }' "$work/rows" | sort -u); do
			f=$(awk -v c="$c" -v l="$l" '$1 == c && $2 == l { print $4 }' "$work/rows" | sort -n)
			q=$(awk -v c="$c" -v l="$l" '$1 == c && $2 == l { print $6 }' "$work/rows" | sort -n)
			fm=$(echo "$f" | sed -n "${mid}p")
			qm=$(echo "$q" | sed -n "${mid}p")
			printf "%-12s %-29s %9s %9s %9s %9s %9s %9s\n" "$c" "$l" "$(echo "$f" | head -1)" "$fm" \
				"$(echo "$q" | head -1)" "$qm" \
				"$(awk -v a="$fm" -v b="${ref:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
				"$(awk -v a="${refq:-0}" -v b="$qm" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
		done
	done
fi
