#!/bin/sh
# The endpoint's TUN offloads (tun_offload, docs/PERFORMANCE.md): two spinatd endpoints
# with an IKEv2 tunnel (AES-128-GCM, tunnel mode) between two network namespaces.
#
#   1. a 64 KB TCP segment, made as the kernel's TSO makes them (a virtio-net header with
#      GSO TCPv4 and a partial checksum, written to a's TUN device through a packet
#      socket), must reach b's TUN device as 49 MTU-sized segments with correct IPv4 and
#      TCP checksums, in sequence, the payload byte for byte (b without offloads, so it
#      writes each packet as it decrypted it), and a must count the large segment;
#   2. with offloads on both sides, 8 MB over TCP must arrive byte for byte, a must have
#      cut large segments and b coalesced packets, with nothing dropped on the path;
#      A burst of 200 small datagrams, then silence, must arrive whole: nothing may wait
#      in the TUN thread's buffers for traffic that does not come;
#   3. the same with two crypto lanes on both sides (crypto_lanes = 2: ESP sealed and
#      opened on two threads while the engine keeps sequence numbers and windows): the
#      lanes must have run, and a configuration with a module on the wire path (001's
#      lease client) is refused with crypto_lanes;
#   4. the same with the TUN device's own thread off (tun_thread = no), and with offloads
#      off on both sides: nothing cut, nothing coalesced;
#   5. with xdp_rx = eth0 at both ends (where the build has BPF): raw ESP must all have come
#      in through the XDP program and the AF_XDP sockets (ESP in UDP: none, it is the
#      stack's), with the same end-to-end agreement and nothing dropped; the program must
#      be gone after a stop, stay after a crash and be replaced by the next start;
#   6. with link_out = yes at both ends: raw ESP must have left through the packet socket
#      (ESP in UDP: none did), the first packet to the peer through the IP stack, with the
#      same agreement and nothing dropped; after the neighbour entry is flushed the next
#      lookup finds none and sends through the stack, which resolves it again, and the
#      packet socket takes over once more.
#
# After each transfer the counters must agree from end to end, which they would not if the
# TUN thread lost, duplicated or reordered packets (b's anti-replay window counts
# reordering beyond it as drops): every ESP packet a sent was received and decrypted by b,
# none dropped, and each went up b's TUN device alone or inside a coalesced one.
#
#   endpoint_offload.sh SPINATD SPINAT [raw|udp [xdp|no-xdp]]
#                                   ESP on IP (default) or in UDP 4500; no-xdp: the build
#                                   has no BPF, step 5 is skipped
set -u
spinatd=$1 spinat=$2 encap=${3:-raw} xdp=${4:-xdp}
check=$(dirname "$0")/tso_check.py

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping python3
need_tun
lib_start eo
nsa=${tag}a nsb=${tag}b

fail_report() {
	for s in a b; do
		[ -f "$work/$s.log" ] && { echo "--- $s log"; tail -n 20 "$work/$s.log"; }
		[ -S "$work/$s.sock" ] && "$spinat" -s "$work/$s.sock" show counters
	done
	for f in "$work"/*.out; do
		[ -f "$f" ] && { echo "--- $f"; cat "$f"; }
	done
}

pair "$nsa" 10.78.0.1 "$nsb" 10.78.0.2
A=192.168.181.1 B=192.168.182.1

conf() { # SIDE OFFLOAD
	if [ "$1" = a ]; then
		me=10.78.0.1 peer=10.78.0.2 in=192.168.181 pin=192.168.182
	else
		me=10.78.0.2 peer=10.78.0.1 in=192.168.182 pin=192.168.181
	fi
	e=no
	[ "$encap" = udp ] && e=force
	cat >"$work/$1.conf" <<EOF
[spinatd]
role = endpoint
name = $1
[endpoint]
tun = spt0
tun_address = $in.1/32
route = $pin.0/24
tun_offload = $2
[conn c]
local = $me
remote = $peer
auto = $([ "$1" = a ] && echo start || echo add)
psk = offload-psk-0123456789
encap = $e
ike = aes128gcm16-prfsha256-ecp256
esp = aes128gcm16
local_ts = $in.0/24
remote_ts = $pin.0/24
EOF
}

ctr() { # SIDE NAME: the counter's value (0 when not shown)
	"$spinat" -s "$work/$1.sock" show counters |
		awk -v n="$2" '$2 == n { v = $3 } END { print v + 0 }'
}

start() { # OFFLOAD_A OFFLOAD_B [ENDPOINT_LINE]
	conf a "$1"
	conf b "$2"
	if [ -n "${3:-}" ]; then
		sed -i "/^tun_offload/a $3" "$work/a.conf" "$work/b.conf"
	fi
	daemon b "$nsb"
	daemon a "$nsa"
	wait_for 100 sh -c "'$spinat' -s '$work/a.sock' show sa | grep -q 'CHILD esp.*INSTALLED'" ||
		fail "no CHILD SA"
	if [ "$encap" = udp ]; then
		"$spinat" -s "$work/a.sock" show sa | grep -q udp-encap || fail "ESP is not in UDP"
	fi
	wait_for 50 ip netns exec "$nsa" ping -c 1 -W 1 -I $A $B || fail "no ping through the tunnel"
}

stop() {
	stop_daemon a "$1"
	stop_daemon b "$1"
}

no_drops() { # WHAT: nothing on the path dropped (the kernel's IPv6 chatter on TUN aside)
	for s in a b; do
		"$spinat" -s "$work/$s.sock" show counters >"$work/ctr.$s"
		if grep -E "(endpoint|net|ipsec|xsk|link)\.drop_" "$work/ctr.$s" | grep -v drop_tun_not_ipv4; then
			fail "$1: drops on $s"
		fi
	done
}

esp() { # SIDE tx|rx: ESP packets sent or received, raw and in UDP
	echo $(($(ctr "$1" "ipsec.$2_esp") + $(ctr "$1" "ipsec.$2_esp_udp")))
}

esp_equal() { # a's ESP sent = b's received, and b decrypted them all
	[ "$(esp a tx)" -eq "$(esp b rx)" ] &&
		[ "$(esp b rx)" -eq "$(ctr b ipsec.rx_decapsulated)" ]
}

agree() { # WHAT: the ends' counters agree (a's ESP = b's ESP = b's cleartext up)
	# The last packets may still be on their way: wait until b has them all.
	wait_for 50 esp_equal ||
		fail "$1: a sent $(esp a tx) ESP packets, b received $(esp b rx)"
	dec=$(ctr b ipsec.rx_decapsulated)
	up=$(($(ctr b endpoint.tun_tx) + $(ctr b endpoint.tun_tx_coalesced)))
	[ "$up" -eq "$dec" ] || fail "$1: b decrypted $dec packets, $up went up its TUN device"
	echo "ok: $1: $dec ESP packets sent, received, decrypted and delivered"
}

burst() { # WHAT: 200 datagrams sent at once all arrive, with nothing sent after them
	spawn "$nsb" python3 -u "$check" count $B 5559 200 3 >"$work/count.out" 2>&1
	cpid=$spawned
	wait_for 50 grep -q ready "$work/count.out" || fail "$1: no UDP receiver"
	ip netns exec "$nsa" python3 "$check" burst $A $B 5559 200 || fail "$1: burst failed"
	wait "$cpid"
	forget "$cpid"
	[ "$(tail -n 1 "$work/count.out")" = 200 ] ||
		fail "$1: $(tail -n 1 "$work/count.out") of 200 datagrams of a burst arrived"
	echo "ok: $1: a burst of 200 datagrams arrived whole"
}

transfer() { # WHAT PORT: 8 MB from a to b, compared
	spawn "$nsb" python3 "$check" recv $B "$2" >"$work/recv.out" 2>&1
	rpid=$spawned
	wait_for 50 sh -c "ip netns exec $nsb ss -ltn | grep -q ':$2 '" || fail "$1: no listener"
	ip netns exec "$nsa" python3 "$check" send $A $B "$2" 8388608 >"$work/send.out" 2>&1 ||
		fail "$1: send failed"
	wait "$rpid"
	forget "$rpid"
	[ "$(cat "$work/send.out")" = "$(cat "$work/recv.out")" ] ||
		fail "$1: received $(cat "$work/recv.out"), sent $(cat "$work/send.out")"
	echo "ok: $1: 8 MB byte for byte"
}

carried() { # WHAT PORT: 8 MB and a burst through, nothing dropped, the counters agree
	transfer "$1" "$2"
	no_drops "$1"
	agree "$1"
	burst "$1"
}

# 1. One 64 KB segment, cut by a, seen at b's TUN device packet by packet.
start yes no
[ "$(ctr a endpoint.tun_rx_gso)" -eq 0 ] || fail "large segments before any were sent"
spawn "$nsb" python3 -u "$check" sniff spt0 5555 15 65000 >"$work/sniff.out" 2>&1
spid=$spawned
wait_for 50 grep -q ready "$work/sniff.out" || fail "sniffer did not start"
ip netns exec "$nsa" python3 "$check" inject spt0 $A $B 5555 >"$work/inject.out" 2>&1 ||
	fail "inject failed"
wait "$spid"
forget "$spid"
res=$(tail -n 1 "$work/sniff.out")
echo "b's TUN device: $res"
sent=$(awk '{ print $2 }' "$work/inject.out")
for want in "packets=49 " "bad_ip=0 " "bad_tcp=0 " "in_seq=49 " "gaps=0 " "bytes=65000 " \
	"sha256=$sent"; do
	case "$res " in
	*"$want"*) ;;
	*) fail "64 KB segment: expected $want at b" ;;
	esac
done
largest=$(echo "$res" | sed 's/.*largest=\([0-9]*\).*/\1/')
[ "$largest" -le 1400 ] || fail "64 KB segment: a packet of $largest bytes is over the MTU"
[ "$(ctr a endpoint.tun_rx_gso)" -ge 1 ] || fail "a did not count the large segment"
[ "$(ctr a endpoint.tun_rx_segments)" -ge 49 ] || fail "a did not count 49 segments"
no_drops "64 KB segment"
echo "ok: a 64 KB TCP segment reached b as 49 correct segments in sequence"
stop "64 KB segment"

# 2. Offloads on both sides.
start yes yes
transfer "offloads on" 5556
[ "$(ctr a endpoint.tun_rx_gso)" -ge 1 ] || fail "offloads on: a cut no large segment"
[ "$(ctr b endpoint.tun_tx_coalesced)" -ge 1 ] || fail "offloads on: b coalesced nothing"
if [ "$encap" = udp ]; then
	[ "$(ctr a net.tx_gso)" -ge 1 ] || fail "offloads on: a sent no UDP GSO batch"
fi
no_drops "offloads on"
agree "offloads on"
burst "offloads on"
echo "ok: offloads on: a cut $(ctr a endpoint.tun_rx_gso) large segments," \
	"b coalesced $(ctr b endpoint.tun_tx_coalesced) packets"
stop "offloads on"

# 3. Two crypto lanes at both ends.
start yes yes "crypto_lanes = 2"
transfer "two crypto lanes" 5560
# The lanes' counts are read each second.
lanes_ran() { # SIDE COUNTER: at least 1
	[ "$(ctr "$1" "endpoint.$2")" -ge 1 ]
}
for s in a b; do
	wait_for 30 lanes_ran $s lane_runs || fail "two crypto lanes: $s shared out no batch"
done
wait_for 30 lanes_ran a lane_helped || fail "two crypto lanes: a's other thread sealed nothing"
echo "ok: two crypto lanes: a sealed $(ctr a endpoint.lane_jobs) ESP packets in" \
	"$(ctr a endpoint.lane_runs) shared batches ($(ctr a endpoint.lane_helped) on the other" \
	"thread), b opened $(ctr b endpoint.lane_jobs) in $(ctr b endpoint.lane_runs)" \
	"($(ctr b endpoint.lane_helped))"
no_drops "two crypto lanes"
agree "two crypto lanes"
burst "two crypto lanes"
stop "two crypto lanes"
printf 'lease = yes\nlease_server = 10.78.0.2\n' >>"$work/a.conf"
if "$spinatd" -c "$work/a.conf" --check >"$work/lease.out" 2>&1; then
	fail "crypto_lanes with the lease module on the wire path was accepted"
fi
grep -q "crypto_lanes = 2: the lease module" "$work/lease.out" ||
	fail "crypto_lanes with a wire module: $(cat "$work/lease.out")"
echo "ok: crypto_lanes with the lease module is refused: $(grep -o 'the lease module.*' \
	"$work/lease.out" | head -c 60)..."

# 4. Without the thread, then without offloads.
start yes yes "tun_thread = no"
transfer "offloads on, one thread" 5558
[ "$(ctr b endpoint.tun_tx_coalesced)" -ge 1 ] || fail "one thread: b coalesced nothing"
no_drops "offloads on, one thread"
agree "offloads on, one thread"
stop "one thread"

start no no
transfer "offloads off" 5557
[ "$(ctr a endpoint.tun_rx_gso)" -eq 0 ] || fail "offloads off: a counted large segments"
[ "$(ctr b endpoint.tun_tx_coalesced)" -eq 0 ] || fail "offloads off: b coalesced packets"
[ "$(ctr a net.tx_gso)" -eq 0 ] || fail "offloads off: UDP GSO used"
no_drops "offloads off"
agree "offloads off"
stop "offloads off"

# 5. ESP in through XDP and AF_XDP.
xdp_prog() { # NS: the id of the XDP program on eth0, empty when none
	ip -n "$1" -d link show eth0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1
}
xsk_all() { # SIDE: every raw ESP packet it received came through its AF_XDP sockets
	[ "$(ctr "$1" xsk.rx)" -eq "$(ctr "$1" ipsec.rx_esp)" ]
}
if [ "$xdp" = xdp ]; then
	start yes yes "xdp_rx = eth0"
	for s in a b; do
		grep -q "ESP in by AF_XDP" "$work/$s.log" || fail "xdp_rx: $s did not say so"
		[ -n "$(xdp_prog "$(eval echo \$ns$s)")" ] || fail "xdp_rx: no XDP program at $s"
	done
	carried "xdp_rx" 5561
	if [ "$encap" = raw ]; then
		# b received the 8 MB, a the acknowledgements.
		[ "$(ctr b ipsec.rx_esp)" -ge 5000 ] || fail "xdp_rx: b received little ESP"
		[ "$(ctr a ipsec.rx_esp)" -ge 50 ] || fail "xdp_rx: a received little ESP"
		for s in a b; do
			xsk_all $s || fail "xdp_rx: $s received $(ctr $s ipsec.rx_esp) ESP packets," \
				"$(ctr $s xsk.rx) through AF_XDP"
		done
		echo "ok: xdp_rx: all ESP came through AF_XDP: $(ctr b xsk.rx) packets at b," \
			"$(ctr a xsk.rx) at a, in $(ctr b xsk.rx_calls) and $(ctr a xsk.rx_calls) batches"
	else
		[ "$(ctr b xsk.rx)" -eq 0 ] || fail "xdp_rx: ESP in UDP went through AF_XDP"
		echo "ok: xdp_rx: ESP in UDP went to the UDP socket, none through AF_XDP"
	fi
	stop "xdp_rx"
	[ -z "$(xdp_prog "$nsb")" ] || fail "xdp_rx: the XDP program stayed after a stop"
	echo "ok: xdp_rx: the XDP program is gone after a stop"
	# A crash leaves the program (it passes to the stack what it has no socket for).
	start yes yes "xdp_rx = eth0"
	old=$(xdp_prog "$nsb")
	kill_daemon b
	[ "$(xdp_prog "$nsb")" = "$old" ] || fail "xdp_rx: the program went with the crash"
	stop_daemon a "xdp_rx"
	daemon b "$nsb"
	new=$(xdp_prog "$nsb")
	[ -n "$new" ] && [ "$new" != "$old" ] || fail "xdp_rx: the restart did not replace the program"
	daemon a "$nsa" # the initiator: a new IKE SA with the restarted b
	wait_for 100 sh -c "'$spinat' -s '$work/a.sock' show sa | grep -q 'CHILD esp.*INSTALLED'" ||
		fail "xdp_rx: no CHILD SA after the restart"
	wait_for 50 ip netns exec "$nsa" ping -c 1 -W 1 -I $A $B ||
		fail "xdp_rx: no ping through the tunnel after the restart"
	[ "$encap" = udp ] || wait_for 30 xsk_all b ||
		fail "xdp_rx: after the restart not all ESP came through AF_XDP"
	echo "ok: xdp_rx: after a crash the program stayed ($old); the restart replaced it ($new)"
	stop "xdp_rx after a crash"
	[ -z "$(xdp_prog "$nsb")" ] && [ -z "$(xdp_prog "$nsa")" ] ||
		fail "xdp_rx: an XDP program stayed after the stop"
else
	echo "skipped: xdp_rx (this build has no BPF)"
fi

# 6. Raw ESP out through a packet socket.
start yes yes "link_out = yes"
grep -q "raw ESP/AH out by a packet socket" "$work/a.log" || fail "link_out: a did not say so"
carried "link_out" 5562
if [ "$encap" = raw ]; then
	[ "$(ctr a link.tx)" -ge 5000 ] || fail "link_out: a sent $(ctr a link.tx) packets by it"
	[ "$(ctr a link.stack_refresh)" -ge 1 ] || fail "link_out: the first packet was not the stack's"
	echo "ok: link_out: a sent $(ctr a link.tx) of $(ctr a ipsec.tx_esp) ESP packets by the" \
		"packet socket after $(ctr a link.lookups) lookups"
	# The neighbour goes: the next lookup (a second on) finds none, the stack resolves it.
	ip -n "$nsa" neigh flush dev eth0
	unresolved() {
		ip netns exec "$nsa" ping -c 1 -W 1 -I $A $B >/dev/null 2>&1
		[ "$(ctr a link.stack_unresolved)" -ge 1 ]
	}
	wait_for 50 unresolved || fail "link_out: a flushed neighbour was not looked up again"
	tx0=$(ctr a link.tx)
	again() {
		ip netns exec "$nsa" ping -c 1 -W 1 -I $A $B >/dev/null 2>&1 &&
			[ "$(ctr a link.tx)" -gt "$tx0" ]
	}
	wait_for 50 again || fail "link_out: the packet socket did not take over again"
	echo "ok: link_out: a flushed neighbour: $(ctr a link.stack_unresolved) packets by the" \
		"stack, then the packet socket again"
else
	[ "$(ctr a link.tx)" -eq 0 ] || fail "link_out: ESP in UDP went by the packet socket"
	echo "ok: link_out: ESP in UDP went to the UDP socket, none by the packet socket"
fi
stop "link_out"
echo "PASS"
