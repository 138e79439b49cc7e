#!/bin/sh
# IKE through spinat's NAT: two inside hosts run spinatd endpoints that set up tunnels with
# IKEv2 to one outside spinatd endpoint, through spinatd's gateway role.
#
# raw (the default): encap = no (no UDP encapsulation, as the source documents' techniques
# carry ESP). The server picks its inbound SPIs from the clients' with 000's md5 scheme
# (spi = derived), which the gateway's spihash strategy matches, both by their defaults
# (spihash and spihash_scheme are left unset: they must agree); IKE crosses the NAT on
# port 500, told apart by its SPIs (003). Both hosts' pings must pass at once, after a
# CHILD SA rekey too, the gateway must have seen ESP and no UDP 4500, and each host's
# tunnel must carry its own traffic only.
#
# natt-restart: NAT-T (NAT detection moves the hosts to UDP 4500) through the natt strategy
# (plain NAPT for UDP 4500). The gateway is killed and started again three times, so its
# table is empty and the hosts' UDP 4500 is mapped to new ports. The server is not behind
# a NAT: it must follow each host to the address and port of its first authenticated packet
# after the restart (RFC 7296 2.23), and both tunnels must carry traffic again without
# anybody's help. Each restart must really have moved a host's outside port (else it
# proves nothing).
#
#   ike_nat_gateway.sh SPINATD SPINAT [raw|natt-restart]
set -u
spinatd=$1 spinat=$2 mode=${3:-raw}
case $mode in
raw | natt-restart) ;;
*)
	echo "unknown mode $mode"
	exit 2
	;;
esac

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE, TUN devices, raw sockets"
need_tools ip iptables ping awk
need_tun
if [ "$mode" = raw ]; then lib_start in; else lib_start nr; fi
gw=${tag}g srv=${tag}s

fail_report() {
	for f in gw h1 h2 srv; do
		[ -f "$work/$f.log" ] && { echo "--- $f log"; tail -n 40 "$work/$f.log"; }
	done
	for f in h1 h2 srv; do
		echo "--- $f: show sa"
		"$spinat" --socket "$work/$f.sock" show sa 2>/dev/null
	done
	"$spinat" --socket "$work/gw.sock" show nat 2>/dev/null
}

# h1 (10.0.0.2), h2 (10.0.0.3) -- br0 gw out0 (203.0.113.1) -- srv (203.0.113.2); every
# packet crossing the NAT goes through spinatd (queue 5).
nat_topology "$gw" "$srv" "${tag}h1" "${tag}h2"
nfqueue "$gw" 5

if [ "$mode" = raw ]; then gateway_conf gw 5 spihash; else gateway_conf gw 5 natt; fi

endpoint_conf() { # NAME ADDRESS INNER REMOTE
	_route=192.168.100.0/24 _udp=
	[ "$1" = srv ] && _route=192.168.0.0/16
	[ "$mode" = raw ] && _udp="udp = no"
	{
		host_conf "$1" "$3.1/32" $_route "$_udp"
		echo "[conn vpn]"
		echo "local = $2"
		echo "remote = $4"
		echo "psk = nat-gateway-psk-1"
		[ "$mode" = raw ] && echo "encap = no"
		echo "local_ts = $3.0/24"
		if [ "$1" = srv ]; then
			echo "remote_ts = 192.168.0.0/16"
			[ "$mode" = raw ] && echo "spi = derived"
		else
			echo "auto = start"
			echo "remote_ts = 192.168.100.0/24"
		fi
	} >"$work/$1.conf"
}
endpoint_conf srv 203.0.113.2 192.168.100 %any
endpoint_conf h1 10.0.0.2 192.168.1 203.0.113.2
endpoint_conf h2 10.0.0.3 192.168.2 203.0.113.2

start() { # NAME NAMESPACE
	daemon "$1" "$2" -l debug
}
child_up() { # HOST
	"$spinat" --socket "$work/$1.sock" show sa | grep -q "CHILD esp.*${encap}INSTALLED"
}
child_changed() { # HOST OLD
	[ "$("$spinat" --socket "$work/$1.sock" show sa | grep "CHILD esp")" != "$2" ]
}
start gw "$gw"
start srv "$srv"
start h1 "${tag}h1"
start h2 "${tag}h2"

encap=$([ "$mode" = raw ] || echo "udp-encap.*")
for h in h1 h2; do
	wait_for 100 child_up $h || fail "$h: no CHILD SA ${encap}"
done
[ "$mode" = raw ] && "$spinat" --socket "$work/h1.sock" show sa | grep -q "udp-encap" &&
	fail "h1's SA is UDP-encapsulated"

# Seconds until a ping through host i's tunnel is answered (give up after $2 s).
reachable_h() { # i LIMIT
	reachable "${tag}h$1" 192.168."$1".1 192.168.100.1 "$2"
}

# The outside port the gateway gave host i's UDP 4500 (spinat show nat napt).
outside_port() { # i
	"$spinat" --socket "$work/gw.sock" show nat napt 2>/dev/null |
		awk -v ep="10.0.0.$(($1 + 1)):4500" '$1 == "udp" && $3 == ep { split($2, a, ":"); print a[2]; exit }'
}

natt_restart() {
	for h in 1 2; do
		reachable_h $h 10 >/dev/null || fail "h$h: no traffic through the tunnel at the start"
	done
	# Both hosts and the server keep talking, as users would: ESP both ways all along.
	for h in 1 2; do
		spawn "${tag}h$h" ping -q -i 0.1 -I 192.168."$h".1 192.168.100.1 >/dev/null 2>&1
		spawn "$srv" ping -q -i 0.1 -I 192.168.100.1 192.168."$h".1 >/dev/null 2>&1
	done
	sleep 1
	for cycle in 1 2 3; do
		p1=$(outside_port 1) p2=$(outside_port 2)
		if [ -z "$p1" ] || [ -z "$p2" ]; then
			fail "restart $cycle: no UDP 4500 mapping for the hosts"
		fi
		kill_daemon gw
		echo "=== gateway killed (h1 at port $p1, h2 at port $p2)" >>"$work/gw.log"
		sleep 1
		start gw "$gw"
		for h in 1 2; do
			s=$(reachable_h $h 10) ||
				fail "restart $cycle: h$h's tunnel carries nothing 10 s after the NAT came back"
			echo "restart $cycle: h$h reachable again after $s s"
		done
		q1=$(outside_port 1) q2=$(outside_port 2)
		echo "restart $cycle: h1 port $p1 -> $q1, h2 port $p2 -> $q2"
		[ "$p1" != "$q1" ] || [ "$p2" != "$q2" ] ||
			fail "restart $cycle: both hosts kept their outside ports (the restart proved nothing)"
		# The server now sends each host's ESP to the host's new port.
		for h in 1 2; do
			q=$([ $h = 1 ] && echo "$q1" || echo "$q2")
			"$spinat" --socket "$work/srv.sock" show sa | grep -q "udp 4500->$q" ||
				fail "restart $cycle: the server does not send to h$h's new port $q"
		done
		sleep 1
	done
	"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
	grep -E "ipsec\.natt_peer_moved|ike\.peer_moved" "$work/srv.ctr"
	grep -q "ipsec.natt_peer_moved" "$work/srv.ctr" || fail "the server's data plane never followed"
	grep -q "peer moved from 203.0.113.1:" "$work/srv.log" ||
		fail "no 'peer moved' in the server's log"
	for h in h1 h2; do
		"$spinat" --socket "$work/$h.sock" show counters >"$work/$h.ctr"
		# Behind the NAT the hosts never follow anybody (RFC 7296 2.23).
		grep -E "natt_peer_moved|ike\.peer_moved" "$work/$h.ctr" && fail "$h moved its peer"
		grep -q "tx_esp_udp" "$work/$h.ctr" || fail "$h sent no ESP in UDP"
	done
	echo "PASS: both tunnels carried traffic again by themselves after 3 NAT restarts"
	exit 0
}
[ "$mode" = natt-restart ] && natt_restart

pings() { # WHAT
	ip netns exec "${tag}h1" ping -q -c 5 -i 0.2 -W 2 -I 192.168.1.1 192.168.100.1 \
		>"$work/p1" 2>&1 &
	p1=$!
	ip netns exec "${tag}h2" ping -q -c 5 -i 0.2 -W 2 -I 192.168.2.1 192.168.100.1 \
		>"$work/p2" 2>&1 &
	p2=$!
	wait $p1 || fail "$1: h1's ping: $(tail -n 2 "$work/p1")"
	wait $p2 || fail "$1: h2's ping: $(tail -n 2 "$work/p2")"
	echo "ok: $1: both hosts' pings through the NAT as raw ESP"
}
pings "after IKE_AUTH"

old=$("$spinat" --socket "$work/h1.sock" show sa | grep "CHILD esp")
"$spinat" --socket "$work/h1.sock" rekey vpn >/dev/null || fail "rekey"
wait_for 100 child_changed h1 "$old" || fail "h1's rekey did not happen"
sleep 0.5
pings "after h1's CHILD SA rekey"

# The server's inbound SPIs derive from the clients' by md5 (000 [0101]); the gateway
# carried ESP, never UDP 4500, and each tunnel only its own host's packets.
"$spinat" --socket "$work/gw.sock" show counters >"$work/gw.ctr"
cat "$work/gw.ctr"
grep -q "nat.ipsec_out2in" "$work/gw.ctr" || fail "the gateway translated no ESP inbound"
grep -q "nat.spihash_matched" "$work/gw.ctr" || fail "the gateway matched no derived SPI"
grep -q "natt" "$work/gw.ctr" && fail "the gateway saw UDP encapsulation"
for h in h1 h2; do
	"$spinat" --socket "$work/$h.sock" show counters >"$work/$h.ctr"
	grep -E "ipsec\.(drop_icv|drop_no_sa|drop_replay)" "$work/$h.ctr" && fail "$h dropped ESP"
	grep -q "tx_esp_udp" "$work/$h.ctr" && fail "$h sent ESP in UDP"
done
"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
grep -E "ipsec\.(drop_icv|drop_no_sa|drop_replay|drop_policy)" "$work/srv.ctr" &&
	fail "the server dropped ESP"
echo "PASS"
