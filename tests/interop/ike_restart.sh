#!/bin/sh
# A restarted endpoint's tunnel carries traffic again at once (RFC 7296 2.4): two spinatd
# endpoints in two namespaces with an IKEv2 tunnel; one is killed with SIGKILL (a crash:
# it says nothing) and started again, then stopped with SIGTERM (it deletes its IKE SA,
# 1.4.1) and started again, then the other one crashes and comes back. Each time ping must
# pass both ways within 2 s of the restart, and each side must hold exactly one IKE SA:
# the restarted side sends INITIAL_CONTACT and the survivor drops the old IKE SA and its
# CHILD SAs (unique = replace, the default) instead of keeping both until its liveness
# check. Prints the time to the first answered ping in each direction.
#
#   ike_restart.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping
need_tun
lib_start ir
nsa=${tag}a nsb=${tag}b
A=10.82.0.1 B=10.82.0.2 IA=192.168.121.1 IB=192.168.122.1

fail_report() {
	for s in a b; do
		[ -f "$work/$s.log" ] && { echo "--- $s log"; tail -n 40 "$work/$s.log"; }
		"$spinat" --socket "$work/$s.sock" show sa 2>/dev/null
	done
}

pair "$nsa" $A "$nsb" $B

conf() { # SIDE AUTO
	side=$1 auto=$2
	if [ "$side" = a ]; then
		me=$A peer=$B inner=192.168.121 pinner=192.168.122
	else
		me=$B peer=$A inner=192.168.122 pinner=192.168.121
	fi
	cat >"$work/$side.conf" <<EOC
[spinatd]
role = endpoint
name = $side
[endpoint]
tun = spt0
tun_address = $inner.1/32
route = $pinner.0/24
[conn c]
local = $me
remote = $peer
auto = $auto
psk = restart-psk-0123456789
local_ts = $inner.0/24
remote_ts = $pinner.0/24
EOC
}

ike_sas() { # SIDE: how many IKE SAs it holds
	"$spinat" --socket "$work/$1.sock" show sa 2>/dev/null | grep -c "IKE SA"
}

child_up() { # SIDE
	"$spinat" --socket "$work/$1.sock" show sa | grep -q "CHILD esp.*INSTALLED"
}

ike_gone() { # SIDE
	"$spinat" --socket "$work/$1.sock" show sa | grep -q "^no IKE SAs"
}


# Seconds from T0 until a ping from SRC in NS to DST is answered, probing every 0.1 s or
# so (lib.sh's reachable waits a whole second for each answer); fails after LIMIT s.
reach() { # NS SRC DST LIMIT T0
	_end=$(($(date +%s) + $4))
	while [ "$(date +%s)" -lt "$_end" ]; do
		if ip netns exec "$1" ping -c 1 -W 0.1 -I "$2" "$3" >/dev/null 2>&1; then
			echo "$(date +%s.%N) $5" | awk '{ printf "%.2f", $1 - $2 }'
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# spinatd NAME in NS, as lib.sh's daemon starts it, but without waiting for its control
# socket (the CLI under AddressSanitizer takes half a second a call): the clock runs from
# here, and the pings tell when the tunnel is back.
start_now() { # NAME NS
	endpoint_offload "$work/$1.conf"
	# shellcheck disable=SC2086 # the wrapper is words: valgrind and its options
	spawn "$2" ${SPINAT_VALGRIND:-} "$spinatd" -c "$work/$1.conf" -s "$work/$1.sock" \
		-l debug >>"$work/$1.log" 2>&1
	eval "pid_$1=$spawned"
}

# After SIDE was started at T0: ping both ways within 2 s, one IKE SA each.
recovered() { # WHAT T0
	ta=$(reach "$nsa" $IA $IB 5 "$2") || fail "$1: no ping from a"
	tb=$(reach "$nsb" $IB $IA 5 "$2") || fail "$1: no ping from b"
	echo "$1: ping a->b after $ta s, b->a after $tb s"
	awk -v a="$ta" -v b="$tb" 'BEGIN { exit !(a < 2.0 && b < 2.0) }' ||
		fail "$1: not within 2 s"
	[ "$(ike_sas a)" -eq 1 ] || fail "$1: a holds $(ike_sas a) IKE SAs"
	[ "$(ike_sas b)" -eq 1 ] || fail "$1: b holds $(ike_sas b) IKE SAs"
	[ "$("$spinat" --socket "$work/b.sock" show sa | grep -c "CHILD esp")" -eq 1 ] ||
		fail "$1: b holds more than one CHILD SA"
}

conf a start
conf b add
daemon b "$nsb" -l debug
daemon a "$nsa" -l debug
wait_for 50 child_up a && wait_for 50 child_up b || fail "no CHILD SA at the start"
recovered "start" "$(date +%s.%N)"

# 1. a crashes and comes back: its INITIAL_CONTACT makes b drop the old IKE SA.
kill_daemon a
t0=$(date +%s.%N)
start_now a "$nsa"
recovered "a killed (SIGKILL) and restarted" "$t0"
[ "$(counter b ike.initial_contact)" -ge 1 ] || fail "b counted no INITIAL_CONTACT"
[ "$(counter b ike.ike_sa_replaced)" -ge 1 ] || fail "b replaced no IKE SA"

# 2. a stops cleanly: its DELETE reaches b at once.
t0=$(date +%s.%N)
stop_daemon a "SIGTERM"
wait_for 10 ike_gone b || fail "b kept its IKE SA after a's orderly stop"
grep -q "peer deleted IKE SA" "$work/b.log" || fail "b logged no delete from a"
echo "a stopped (SIGTERM): b dropped the IKE SA; $(echo "$(date +%s.%N) $t0" |
	awk '{ printf "%.2f", $1 - $2 }') s from SIGTERM to b's empty 'show sa'"
t0=$(date +%s.%N)
start_now a "$nsa"
recovered "a started again" "$t0"

# 3. b crashes and comes back, initiating this time: a replaces its IKE SA.
conf b start
kill_daemon b
t0=$(date +%s.%N)
start_now b "$nsb"
recovered "b killed (SIGKILL) and restarted" "$t0"
[ "$(counter a ike.initial_contact)" -ge 1 ] || fail "a counted no INITIAL_CONTACT"

"$spinat" --socket "$work/a.sock" show counters >"$work/ctr"
grep -E "ike\.(drop_integrity|auth_failed)" "$work/ctr" && fail "IKE drops on a"
stop_daemon a "a at the end"
stop_daemon b "b at the end"
grep -q "ERROR\|AddressSanitizer\|runtime error" "$work/a.log" "$work/b.log" &&
	fail "errors in a daemon's log"
echo "PASS"
