#!/bin/sh
# TCP through an IKEv2 tunnel between two network namespaces joined by a veth, as a user
# would measure it: one iperf3 stream for SECONDS through
#
#   spinat-raw   spinatd <-> spinatd, ESP straight on IP (protocol 50)
#   spinat-udp   spinatd <-> spinatd, ESP in UDP 4500 (conn encap = force, RFC 3948)
#   strongswan   charon <-> charon (Debian's strongSwan, kernel-libipsec: its userspace
#                ESP, in UDP 4500 as that plugin needs)
#   veth         the same kind of veth without a tunnel
#
# and, to compare, spinatd variants: spinat-raw-1t / spinat-udp-1t (tun_thread = no),
# spinat-raw-2l / spinat-udp-2l (crypto_lanes = 2: ESP sealed and opened on two threads),
# spinat-raw-xdp (xdp_rx = eth0: ESP taken by XDP into AF_XDP sockets before the IP stack),
# spinat-raw-link (link_out = yes: raw ESP out through a packet socket), spinat-raw-lx
# (both),
# spinat-raw-nooff / spinat-udp-nooff (tun_offload = no: one packet per TUN read and
# write), and spinat-raw-base / spinat-udp-base: the spinatd of another build, BASE=DIR
# (e.g. a build of the tree before these changes).
#
# PSK, AES-128-GCM-16 for the CHILD SAs, tunnel mode, no NAT. Every topology is set up
# once, then the runs alternate between them (case after case, RUNS times), so a busy
# machine slows them alike. Per row: Mbit/s (iperf3's receiver), the sender's TCP
# retransmissions and segments sent (/proc/net/snmp of its namespace) with their ratio, the
# load average when the row started, the CPU the two daemons used during the row (percent
# of one core each: user + system, all threads) and what that makes per gigabyte carried
# (s/GB: CPU seconds of both daemons together per 10^9 bytes of TCP payload, which a busy
# machine disturbs less than the rate), the daemons' context switches (thousands
# per second, all threads, voluntary or not), the machine's idle time (percent of all CPUs,
# iowait included), and the drop counters both spinatd daemons added during the row
# (`spinat show counters`, name=delta).
#
#   sudo tools/bench-tunnel.sh BUILD [SECONDS [RUNS [CASE...]]]
#   sudo tools/bench-tunnel.sh build-rel 10 2
#   sudo EXTRA_A='tun_offload = no' tools/bench-tunnel.sh build-rel 10 1 spinat-raw
#
# EXTRA (or EXTRA_A/EXTRA_B for one side) adds lines to both daemons' [endpoint] sections;
# ESP=PROPOSAL sets the CHILD SAs' transform for spinatd and strongSwan alike (default
# aes128gcm16; e.g. aes256-sha256 for AES-CBC with HMAC-SHA-256).
# SYSCALLS=1 counts each daemon's system calls during the row (perf stat) and prints them
# per second and per megabyte under the row. PERF=DIR records each daemon during each row
# (perf record -g): DIR/CASE.RUN.a.data and .b.data, for perf report -i.
# Needs root, iperf3, and for the strongswan case charon with the kernel-libipsec plugin.
set -u
build=${1:?usage: bench-tunnel.sh BUILD [SECONDS [RUNS [CASE...]]]}
secs=${2:-10}
runs=${3:-2}
shift 3 2>/dev/null || shift $#
cases=${*:-spinat-raw spinat-udp strongswan veth}
esp=${ESP:-aes128gcm16}
spinatd=$(realpath "$build/apps/spinatd")
spinat=$(realpath "$build/apps/spinat")
charon=/usr/lib/ipsec/charon

. "$(dirname "$0")/../tests/interop/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip iperf3 awk
need_tun
[ -x "$spinatd" ] || { echo "no $spinatd: ninja -C $build apps/spinatd apps/spinat"; exit 1; }
lib_start bt
chmod 755 "$work"

fail_report() {
	for f in "$work"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
	done
}

# Each case has its own pair of namespaces (${tag}<n>a, ${tag}<n>b) and addresses:
# outer 10.9<n>.0.1/.2, inner 192.168.<n>1.1 and 192.168.<n>2.1.
n=0
for c in $cases; do
	n=$((n + 1))
	eval "idx_$(echo "$c" | tr - _)=$n"
done

sp_conf() { # FILE SIDE N ENCAP EXTRA
	_me=10.9$3.0.1 _peer=10.9$3.0.2 _in=192.168.${3}1 _pin=192.168.${3}2
	[ "$2" = b ] && _me=10.9$3.0.2 _peer=10.9$3.0.1 _in=192.168.${3}2 _pin=192.168.${3}1
	{
		echo "[spinatd]"
		echo "role = endpoint"
		echo "name = $2"
		echo "[endpoint]"
		echo "tun = spt0"
		echo "tun_address = $_in.1/32"
		echo "route = $_pin.0/24"
		[ -n "$5" ] && printf '%s\n' "$5"
		echo "[conn c]"
		echo "local = $_me"
		if [ "$2" = a ]; then
			echo "remote = $_peer"
			echo "auto = start"
		else
			echo "remote = %any"
		fi
		echo "psk = bench-tunnel-psk-0123456789"
		echo "encap = $4"
		echo "ike = aes128gcm16-prfsha256-ecp256"
		echo "esp = $esp"
		echo "local_ts = $_in.0/24"
		echo "remote_ts = $_pin.0/24"
	} >"$1"
}

setup_spinat() { # N ENCAP [ENDPOINT_LINE [SPINATD]]
	pair "${tag}$1a" "10.9$1.0.1" "${tag}$1b" "10.9$1.0.2"
	_x=${3:-}
	sp_conf "$work/s$1a.conf" a "$1" "$2" "${EXTRA_A:-${EXTRA:-}}${_x:+
$_x}"
	sp_conf "$work/s$1b.conf" b "$1" "$2" "${EXTRA_B:-${EXTRA:-}}${_x:+
$_x}"
	_sd=$spinatd
	spinatd=${4:-$spinatd}
	daemon "s$1b" "${tag}$1b"
	daemon "s$1a" "${tag}$1a"
	spinatd=$_sd
	wait_for 100 sh -c "'$spinat' -s '$work/s$1a.sock' show sa | grep -q 'CHILD esp.*INSTALLED'" ||
		fail "spinatd case $1: no CHILD SA"
	if [ "$2" = force ]; then
		"$spinat" -s "$work/s$1a.sock" show sa | grep -q udp-encap ||
			fail "spinatd case $1: the CHILD SA is not in UDP"
	fi
}

sw_conf() { # SIDE N
	_me=10.9$2.0.1 _peer=10.9$2.0.2 _in=192.168.${2}1 _pin=192.168.${2}2
	[ "$1" = b ] && _me=10.9$2.0.2 _peer=10.9$2.0.1 _in=192.168.${2}2 _pin=192.168.${2}1
	_d=$work/sw$2$1
	mkdir -p "$_d/run"
	for _f in x509 x509ca private; do mkdir -p "$_d/$_f"; done
	cat >"$_d/strongswan.conf" <<EOF
charon {
	load = random nonce openssl pem pkcs1 x509 pubkey aes sha2 hmac gcm kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	plugins {
		vici {
			socket = unix://$_d/charon.vici
		}
	}
	filelog {
		charon {
			path = $_d/charon.log
			default = 1
		}
	}
}
EOF
	cat >"$_d/swanctl.conf" <<EOF
connections {
 c {
  local_addrs = $_me
  remote_addrs = $_peer
  version = 2
  proposals = aes128gcm16-prfsha256-ecp256
  encap = yes
  local { auth = psk
   id = $_me }
  remote { auth = psk
   id = $_peer }
  children {
   net {
    local_ts = $_in.0/24
    remote_ts = $_pin.0/24
    esp_proposals = $esp
    mode = tunnel
   }
  }
 }
}
secrets {
 ike-c {
  id-a = $_me
  id-b = $_peer
  secret = bench-tunnel-psk-0123456789
 }
}
EOF
}

setup_strongswan() { # N
	if [ ! -x "$charon" ] || [ ! -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]; then
		echo "bench-tunnel: no charon with kernel-libipsec: strongswan skipped"
		return 1
	fi
	pair "${tag}$1a" "10.9$1.0.1" "${tag}$1b" "10.9$1.0.2"
	ip -n "${tag}$1a" addr add "192.168.${1}1.1/24" dev lo
	ip -n "${tag}$1b" addr add "192.168.${1}2.1/24" dev lo
	for s in a b; do
		sw_conf $s "$1"
		spawn "${tag}$1$s" env STRONGSWAN_CONF="$work/sw$1$s/strongswan.conf" \
			unshare -m sh -c "mount -t tmpfs none /run && exec $charon" \
			>"$work/sw$1$s.log" 2>&1
		eval "pid_s$1$s=$spawned"
		wait_for 50 swanctl --stats --uri "unix://$work/sw$1$s/charon.vici" ||
			fail "charon $s did not start"
		STRONGSWAN_CONF="$work/sw$1$s/strongswan.conf" swanctl --load-all --clear \
			--file "$work/sw$1$s/swanctl.conf" --uri "unix://$work/sw$1$s/charon.vici" \
			>"$work/swanctl.out" 2>&1 || fail "swanctl --load-all: $(cat "$work/swanctl.out")"
	done
	STRONGSWAN_CONF="$work/sw$1a/strongswan.conf" swanctl --initiate --child net --ike c \
		--timeout 10 --uri "unix://$work/sw$1a/charon.vici" >"$work/swanctl.out" 2>&1 ||
		fail "swanctl --initiate: $(cat "$work/swanctl.out")"
}

# Where iperf3 connects from and to, per case.
endpoints() { # CASE N -> src dst
	case $1 in
	veth) src=10.9$2.0.1 dst=10.9$2.0.2 ;;
	*) src=192.168.${2}1.1 dst=192.168.${2}2.1 ;;
	esac
}

active=""
for c in $cases; do
	eval "i=\$idx_$(echo "$c" | tr - _)"
	case $c in
	spinat-raw) setup_spinat "$i" no ;;
	spinat-udp) setup_spinat "$i" force ;;
	spinat-raw-1t) setup_spinat "$i" no "tun_thread = no" ;;
	spinat-udp-1t) setup_spinat "$i" force "tun_thread = no" ;;
	spinat-raw-2l) setup_spinat "$i" no "crypto_lanes = 2" ;;
	spinat-raw-xdp) setup_spinat "$i" no "xdp_rx = eth0" ;;
	spinat-raw-link) setup_spinat "$i" no "link_out = yes" ;;
	spinat-raw-lx) setup_spinat "$i" no "link_out = yes
xdp_rx = eth0" ;;
	spinat-udp-2l) setup_spinat "$i" force "crypto_lanes = 2" ;;
	spinat-raw-nooff) setup_spinat "$i" no "tun_offload = no" ;;
	spinat-udp-nooff) setup_spinat "$i" force "tun_offload = no" ;;
	spinat-raw-base | spinat-udp-base)
		[ -x "${BASE:-}/apps/spinatd" ] || fail "$c: BASE=DIR (a build with apps/spinatd)"
		_e=no
		[ "$c" = spinat-udp-base ] && _e=force
		setup_spinat "$i" $_e "" "$(realpath "$BASE/apps/spinatd")"
		;;
	strongswan) setup_strongswan "$i" || continue ;;
	veth) pair "${tag}${i}a" "10.9$i.0.1" "${tag}${i}b" "10.9$i.0.2" ;;
	*) fail "unknown case $c (see the head of $0)" ;;
	esac
	endpoints "$c" "$i"
	spawn "${tag}${i}b" iperf3 -s -B "$dst" >"$work/iperf3-s$i.log" 2>&1
	wait_for 50 ip netns exec "${tag}${i}a" ping -c 1 -W 1 -I "$src" "$dst" ||
		fail "$c: no ping through $src -> $dst"
	active="$active $c"
done

# cpu N: the CPU time (user + system, all threads, in clock ticks) of the case's two
# daemons (spinatd, or charon: the process exec'd by the spawned wrapper), "a b".
cpu() {
	for s in a b; do
		eval "_p=\${pid_s$1$s:-}"
		[ -n "$_p" ] || { printf '0 '; continue; }
		# ip netns exec and unshare exec in place: the pid is the daemon's.
		awk '{ printf "%d ", $14 + $15 }' "/proc/$_p/stat" 2>/dev/null || printf '0 '
	done
}

# csw N: context switches (voluntary and not, all threads) of the case's two daemons, "a b".
csw() {
	for s in a b; do
		eval "_p=\${pid_s$1$s:-}"
		[ -n "$_p" ] || { printf '0 '; continue; }
		cat /proc/"$_p"/task/*/status 2>/dev/null |
			awk '/ctxt_switches/ { n += $2 } END { printf "%d ", n }'
	done
}

# idle: the machine's idle and iowait time so far, in clock ticks over all CPUs.
idle() { awk '/^cpu / { print $5 + $6 }' /proc/stat; }

tcp_ctr() { # NS: OutSegs RetransSegs
	ip netns exec "$1" cat /proc/net/snmp |
		awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) k[i] = $i; h = 1 } else
		     for (i = 1; i <= NF; i++) { if (k[i] == "OutSegs") o = $i; if (k[i] == "RetransSegs") r = $i } }
		     END { print o, r }'
}

drops() { # N: name=value of every nonzero drop counter of both daemons
	for s in a b; do
		[ -S "$work/s$1$s.sock" ] || continue
		"$spinat" -s "$work/s$1$s.sock" show counters 2>/dev/null |
			awk -v s="$s" '$2 ~ /drop/ && $2 != "endpoint.drop_tun_not_ipv4" && $3 > 0 { print s ":" $2 "=" $3 }'
	done | sort
}

drop_delta() { # BEFORE AFTER (files)
	awk -F= 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d > 0) printf "%s=%d ", $1, d }' \
		"$1" "$2"
}

echo "bench-tunnel: $(nproc) CPUs, $(uptime | sed 's/.*load/load/'), $secs s per row, $runs run(s)"
printf '%-16s %3s %9s %8s %9s %7s %6s %9s %6s %11s %5s  %s\n' case run Mbit/s retrans segs retr% \
	load "cpu% a/b" "s/GB" "kcsw/s a/b" idle% drops
for r in $(seq 1 "$runs"); do
	for c in $active; do
		eval "i=\$idx_$(echo "$c" | tr - _)"
		endpoints "$c" "$i"
		load=$(awk '{ print $1 }' /proc/loadavg)
		drops "$i" >"$work/d0"
		set -- $(cpu "$i")
		ca0=$1 cb0=$2
		set -- $(csw "$i")
		xa0=$1 xb0=$2
		id0=$(idle)
		set -- $(tcp_ctr "${tag}${i}a")
		o0=$1 r0=$2
		_pa="" _pb=""
		[ -z "${SYSCALLS:-}" ] || eval "_pa=\${pid_s${i}a:-} _pb=\${pid_s${i}b:-}"
		if [ -n "$_pa" ] && [ -n "$_pb" ]; then
			perf stat -x, -e raw_syscalls:sys_enter -p "$_pa" -o "$work/sysc.a" -- sleep "$secs" &
			_ka=$!
			perf stat -x, -e raw_syscalls:sys_enter -p "$_pb" -o "$work/sysc.b" -- sleep "$secs" &
			_kb=$!
		fi
		if [ -n "${PERF:-}" ]; then
			eval "_ra=\${pid_s${i}a:-} _rb=\${pid_s${i}b:-}"
			mkdir -p "$PERF"
			[ -z "$_ra" ] || perf record -q -g -p "$_ra" -o "$PERF/$c.$r.a.data" -- sleep "$secs" 2>/dev/null &
			[ -z "$_rb" ] || perf record -q -g -p "$_rb" -o "$PERF/$c.$r.b.data" -- sleep "$secs" 2>/dev/null &
		fi
		ip netns exec "${tag}${i}a" iperf3 -c "$dst" -B "$src" -t "$secs" -J \
			>"$work/iperf3.json" 2>&1 || { echo "$c: iperf3 failed"; cat "$work/iperf3.json"; continue; }
		[ -z "$_pa" ] || [ -z "$_pb" ] || wait "$_ka" "$_kb"
		set -- $(tcp_ctr "${tag}${i}a")
		o1=$1 r1=$2
		drops "$i" >"$work/d1"
		set -- $(cpu "$i")
		ca=$(((${1} - ca0) * 100 / $(getconf CLK_TCK) / secs))
		cb=$(((${2} - cb0) * 100 / $(getconf CLK_TCK) / secs))
		id=$((($(idle) - id0) * 100 / $(getconf CLK_TCK) / secs / $(nproc)))
		set -- $(csw "$i")
		xa=$(((${1} - xa0) / 1000 / secs))
		xb=$(((${2} - xb0) / 1000 / secs))
		mbit=$(python3 -c 'import json,sys; print("%.0f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$work/iperf3.json")
		printf '%-16s %3s %9s %8s %9s %7s %6s %9s %6s %11s %5s  %s\n' "$c" "$r" "$mbit" \
			$((r1 - r0)) $((o1 - o0)) \
			"$(awk -v r=$((r1 - r0)) -v o=$((o1 - o0)) 'BEGIN { printf "%.3f", o ? 100 * r / o : 0 }')" \
			"$load" "$ca/$cb" "$(awk -v c=$((ca + cb)) -v m="$mbit" 'BEGIN { printf "%.2f", m ? c * 80 / m : 0 }')" \
			"$xa/$xb" "$id" "$(drop_delta "$work/d0" "$work/d1")"
		if [ -n "$_pa" ] && [ -n "$_pb" ]; then
			# System calls per megabyte carried, each daemon (perf's count over the row).
			for s in a b; do
				awk -F, -v m="$mbit" -v t="$secs" -v s="$s" '$3 == "raw_syscalls:sys_enter" {
					printf "  %s: %.0f syscalls/s, %.1f per MB", s, $1 / t, m ? $1 / (m * t / 8) : 0 }' \
					"$work/sysc.$s"
			done
			echo
		fi
	done
done
echo "bench-tunnel: load average after: $(awk '{ print $1, $2, $3 }' /proc/loadavg)"
if [ -n "${VERBOSE:-}" ]; then
	for c in $active; do
		eval "i=\$idx_$(echo "$c" | tr - _)"
		for s in a b; do
			[ -S "$work/s$i$s.sock" ] && { echo "--- $c $s"; "$spinat" -s "$work/s$i$s.sock" show counters; }
		done
	done
fi
