#!/bin/sh
# Two spinatd endpoints negotiate their CHILD SAs with IKEv2 in two network namespaces:
# ESP and AH, tunnel and transport mode (RFC 7296 1.3.1 USE_TRANSPORT_MODE), PFS on the
# rekey. After IKE_AUTH and after a CHILD SA rekey, ping must pass both ways and the
# counters must show it went as ESP or AH; `spinat down` must remove every SA on both
# sides; SIGTERM must stop both daemons with status 0. Under valgrind.sh the daemons run
# under valgrind ($SPINAT_VALGRIND), which must report no errors and no leaks.
#
#   ike_endpoints.sh SPINATD SPINAT [CASE...]   CASE proto:mode (default: esp:tunnel
#                                               esp:transport ah:transport ah:tunnel)
set -u
spinatd=$1 spinat=$2
shift 2
cases=${*:-esp:tunnel esp:transport ah:transport ah:tunnel}

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping
need_tun
lib_start ie
nsa=${tag}a nsb=${tag}b

fail_report() {
	for s in a b; do
		[ -f "$work/$s.log" ] && { echo "--- $s log"; tail -n 30 "$work/$s.log"; }
		"$spinat" --socket "$work/$s.sock" show sa 2>/dev/null
	done
}

pair "$nsa" 10.81.0.1 "$nsb" 10.81.0.2
# Transport mode routes the peer's address into the TUN device; the daemons' own packets
# (IKE, ESP, AH) carry mark 0x81 and go out of eth0 by policy routing.
for ns in $nsa $nsb; do
	ip -n "$ns" rule add fwmark 0x81 lookup 181 priority 100
	ip -n "$ns" route add 10.81.0.0/24 dev eth0 table 181
done

conf() { # SIDE PROTO MODE
	side=$1 proto=$2 mode=$3
	if [ "$side" = a ]; then
		me=10.81.0.1 peer=10.81.0.2 inner=192.168.111 pinner=192.168.112
	else
		me=10.81.0.2 peer=10.81.0.1 inner=192.168.112 pinner=192.168.111
	fi
	{
		echo "[spinatd]"
		echo "role = endpoint"
		echo "name = $side"
		echo "[endpoint]"
		echo "tun = spt0"
		echo "mark = 0x81"
		if [ "$mode" = tunnel ]; then
			echo "tun_address = $inner.1/32"
			echo "route = $pinner.0/24"
		else
			echo "route = $peer/32"
		fi
		echo "[conn c]"
		echo "local = $me"
		if [ "$side" = a ]; then
			echo "remote = $peer"
			echo "auto = start"
		else
			echo "remote = %any"
		fi
		echo "psk = endpoints-psk-12345"
		# Under valgrind on a busy machine an answer can take longer than the 2 s
		# before the first retransmission; the duplicate answer to the retransmitted
		# request would then count as ike.drop_unexpected_response.
		[ -n "${SPINAT_VALGRIND:-}" ] && echo "retransmit_timeout = 10s"
		echo "proto = $proto"
		echo "mode = $mode"
		if [ "$proto" = esp ]; then
			echo "esp = aes128-sha256-ecp256, aes256gcm16-ecp256"
		else
			echo "ah = sha256-x25519"
		fi
		if [ "$mode" = tunnel ]; then
			echo "local_ts = $inner.0/24"
			echo "remote_ts = $pinner.0/24"
		elif [ "$side" = b ]; then
			echo "remote_ts = $peer"
		fi
	} >"$work/$side.conf"
}

stop() { # NAME: SIGTERM to both; each must exit with status 0 (valgrind: 99 on errors)
	kill -TERM "$pid_a" "$pid_b" 2>/dev/null
	stop_daemon a "$1"
	stop_daemon b "$1"
}

child_up() { # SIDE PROTO MODE
	"$spinat" --socket "$work/$1.sock" show sa | grep -q "CHILD $2 $3.*INSTALLED"
}

child_changed() { # SIDE OLD
	[ "$("$spinat" --socket "$work/$1.sock" show sa | grep "CHILD")" != "$2" ]
}

ike_gone() { # SIDE
	"$spinat" --socket "$work/$1.sock" show sa | grep -q "^no IKE SAs"
}

ping_both() { # WHAT SRC_A DST_B SRC_B DST_A
	ip netns exec "$nsa" ping -q -c 3 -i 0.2 -W 2 -I "$2" "$3" >"$work/ping" 2>&1 ||
		fail "$1: ping from a: $(tail -n 2 "$work/ping")"
	ip netns exec "$nsb" ping -q -c 3 -i 0.2 -W 2 -I "$4" "$5" >"$work/ping" 2>&1 ||
		fail "$1: ping from b: $(tail -n 2 "$work/ping")"
}

for c in $cases; do
	proto=${c%%:*} mode=${c#*:}
	name="$proto $mode"
	conf a "$proto" "$mode"
	conf b "$proto" "$mode"
	: >"$work/a.log"
	: >"$work/b.log"
	daemon b "$nsb" -l debug
	daemon a "$nsa" -l debug
	wait_for 300 child_up a "$proto" "$mode" && wait_for 300 child_up b "$proto" "$mode" ||
		fail "$name: no CHILD SA"
	if [ "$mode" = tunnel ]; then
		set -- 192.168.111.1 192.168.112.1 192.168.112.1 192.168.111.1
	else
		set -- 10.81.0.1 10.81.0.2 10.81.0.2 10.81.0.1
	fi
	ping_both "$name: after IKE_AUTH" "$@"
	old=$("$spinat" --socket "$work/a.sock" show sa | grep "CHILD")
	"$spinat" --socket "$work/b.sock" rekey c >/dev/null || fail "$name: rekey"
	wait_for 300 child_changed a "$old" || fail "$name: the rekey did not happen"
	sleep 0.3
	ping_both "$name: after the CHILD SA rekey" "$@"
	"$spinat" --socket "$work/a.sock" show counters >"$work/ctr"
	grep -q "ipsec.tx_$proto " "$work/ctr" || fail "$name: nothing went out as $proto"
	# A late answer to a request IKE sent again is dropped as unexpected: under valgrind
	# on a loaded machine a retransmission is normal, and the duplicate answer harmless.
	grep -E "ipsec\.(drop_icv|drop_no_sa|drop_replay|drop_policy)|ike\.drop" "$work/ctr" |
		grep -v "ike\.drop_unexpected_response" && fail "$name: drops"
	"$spinat" --socket "$work/a.sock" down c >/dev/null || fail "$name: down"
	wait_for 150 ike_gone b || fail "$name: b kept its IKE SA after the delete"
	"$spinat" --socket "$work/a.sock" show sa | grep -q "spi 0x" && fail "$name: SAs left on a"
	"$spinat" --socket "$work/b.sock" show sa | grep -q "spi 0x" && fail "$name: SAs left on b"
	stop "$name"
	echo "ok: $name: IKE, ping both ways, rekey, ping, delete, stop"
done
echo "PASS"
