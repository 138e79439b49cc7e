#!/bin/sh
# One guest must not take the NAT from the others (docs/SECURITY.md): spinatd's gateway on
# NFQUEUE (masq, one global address) with a legitimate inside client (10.0.0.2) and an
# attacker inside (10.0.0.3) or outside (the server's namespace). During a bounded flood
# the client pings the server (200 pings, at most 1 lost: under 1 %) and opens new UDP
# flows (each from a new socket, so a new mapping), which must all be answered, during
# and after the flood; the counters must name what was refused. The tables are sized so
# that without the limit the flood would fill them.
#
# CONTROL_KEYS (e.g. "host_max_ports = 65535") are added to the gateway's configuration:
# with the limits lifted the same run must fail, which shows what the test measures.
#
#   nat_attacks.sh SPINATD SPINAT MODE
#     udp-ports    inside: UDP from a new source port each        host_max_ports
#     ike-servers  inside: IKE_SA_INIT to thousands of servers    host_max_ike, peers' T_out
#     frags        outside: first fragments to the client's port  host_max_fragments
#     esp          outside: ESP spoofed as the VPN server, 65      masq_multicast_rate/max
#                  recent IKE clients
#     ike-init     an endpoint with IKE: bad IKE_SA_INIT flood    rate-limited log lines
#     esp-servers  inside: ESP with random SPIs to thousands of   host_max_esp
#                  servers
set -u
spinatd=$1 spinat=$2 mode=$3
flood="python3 $(cd "$(dirname "$0")" && pwd)/flood.py"

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE, raw sockets"
need_tools ip iptables ping python3
lib_start na
gw=${tag}g srv=${tag}s h1=${tag}h1 h2=${tag}h2

fail_report() {
	for n in gw b; do
		[ -f "$work/$n.log" ] && { echo "--- spinatd $n log"; tail -n 20 "$work/$n.log"; }
		[ -S "$work/$n.sock" ] && "$spinat" --socket "$work/$n.sock" show counters all |
			awk '$3 != 0'
	done
}

gateway() { # EXTRA-KEYS
	nat_topology "$gw" "$srv" "$h1" "$h2"
	nfqueue "$gw" 5
	gateway_conf gw 5 masq "$1" "${CONTROL_KEYS:-}"
	daemon gw "$gw"
	spawn "$srv" $flood udp-echo 203.0.113.2 7
	spawn "$srv" $flood ike-responder 203.0.113.2
	sleep 0.3
}

# The client's view while CMD floods: ping loss and new flows, then new flows after it.
client_survives() { # CMD...
	ip netns exec "$h1" ping -n -q -c 200 -i 0.03 -W 1 203.0.113.2 >"$work/ping" 2>&1 &
	ping_pid=$!
	ip netns exec "$h1" $flood new-flows 203.0.113.2 7 20 0.2 >"$work/flows" 2>&1 &
	flows_pid=$!
	sleep 0.5
	"$@" 2>>"$work/flood" || fail "$mode: the flood did not run"
	wait $ping_pid
	wait $flows_pid
	cat "$work/flood"
	lost=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$work/ping" |
		awk '{ print $1 - $2 }')
	echo "$mode: ping lost ${lost:-?} of 200; new flows during: $(cat "$work/flows") of 20"
	[ -n "$lost" ] && [ "$lost" -le 1 ] || { cat "$work/ping"; fail "$mode: ping lost $lost of 200"; }
	[ "$(cat "$work/flows")" = 20 ] || fail "$mode: new flows during the flood: $(cat "$work/flows") of 20"
	after=$(ip netns exec "$h1" $flood new-flows 203.0.113.2 7 10 0.05)
	[ "$after" = 10 ] || fail "$mode: new flows after the flood: $after of 10"
}

positive() { # DAEMON COUNTER
	v=$(counter "$1" "$2")
	echo "$mode: $2 = $v"
	[ "$v" != missing ] && [ "$v" -gt 0 ] || fail "$mode: $2 = $v"
}

case $mode in
udp-ports)
	# 12,000 new ports: without host_max_ports they would fill max_mappings.
	gateway "max_mappings = 8192"
	ip netns exec "$h2" $flood count-unreach 8 >"$work/unreach" &
	count_pid=$!
	t0=$(date +%s)
	client_survives ip netns exec "$h2" $flood udp-ports 10.0.0.3 203.0.113.2 12000 4000
	secs=$(($(date +%s) - t0 + 1))
	wait $count_pid
	positive gw nat.drop_host_ports
	held=$("$spinat" --socket "$work/gw.sock" show nat napt | grep -c ' 10\.0\.0\.3:')
	echo "$mode: the attacker holds $held mappings"
	[ "$held" -le 4096 ] || fail "$mode: the attacker holds $held mappings"
	grep -q "inside host 10.0.0.3 reached host_max_ports" "$work/gw.log" ||
		fail "$mode: no log line naming the host"
	[ "$(grep -c "reached host_max_ports" "$work/gw.log")" -le 2 ] || fail "$mode: log not rate-limited"
	# RFC 6888 REQ-11 b: the attacker was told, at most host_unreachable_rate (10) a second
	positive gw nat.host_unreachable_sent
	sent=$(counter gw nat.host_unreachable_sent)
	got=$(cat "$work/unreach")
	echo "$mode: $sent Host Unreachables sent, $got received by the attacker in about $secs s"
	[ "${got:-0}" -ge 1 ] && [ "$got" -le "$sent" ] ||
		fail "$mode: the attacker received $got Host Unreachables, $sent sent"
	[ "$sent" -le $((10 * (secs + 2))) ] || fail "$mode: $sent Host Unreachables in $secs s"
	;;
ike-servers)
	# 6,000 servers: items and peers would be 12,000 entries in a table of 4,096.
	gateway "max_mappings = 4096"
	client_survives ip netns exec "$h2" $flood ike-servers 10.0.0.3 6000 3000
	positive gw nat.drop_host_ike
	held=$("$spinat" --socket "$work/gw.sock" show nat ipsec | grep -c ' 10\.0\.0\.3:')
	echo "$mode: the attacker holds $held IKE items"
	[ "$held" -le 64 ] || fail "$mode: the attacker holds $held IKE items"
	# unanswered items and peers go after T_out (10 s)
	sleep 11
	left=$("$spinat" --socket "$work/gw.sock" show nat ipsec | grep -c ' 10\.0\.0\.3:')
	echo "$mode: 11 s later the attacker holds $left"
	[ "$left" -eq 0 ] || fail "$mode: the attacker still holds $left IKE entries"
	;;
frags)
	# 8,000 first fragments in 2 s to the client's mapped port; t_frag is 2 s.
	gateway "max_mappings = 4096"
	ip netns exec "$h1" $flood new-flows 203.0.113.2 7 1 0 >/dev/null # a mapping to aim at
	port=$("$spinat" --socket "$work/gw.sock" show nat napt | sed -n 's/^udp *203\.0\.113\.1:\([0-9]*\) .*/\1/p' | head -n 1)
	[ -n "$port" ] || fail "$mode: no mapping of the client"
	client_survives ip netns exec "$srv" $flood frags 203.0.113.2 203.0.113.1 "$port" 8000 4000
	positive gw nat.host_fragments_refused
	;;
esp)
	# 64 more inside clients (spoofed by the attacker) and the client ran IKE with the
	# server, which answered: 65 recent IKE clients, the multicast group of 003's rule.
	gateway ""
	ip netns exec "$h2" $flood ike-clients 10.0.0.100 64 203.0.113.2 2>/dev/null
	ip netns exec "$h1" $flood ike-clients 10.0.0.2 1 203.0.113.2 2>/dev/null
	sleep 0.5
	t0=$(date +%s)
	client_survives ip netns exec "$srv" $flood esp 203.0.113.2 203.0.113.1 20000 0
	secs=$(($(date +%s) - t0 + 1))
	positive gw nat.masq_drop_multicast_rate
	copies=$(counter gw nat.copies_emitted)
	echo "$mode: $copies copies in about $secs s"
	[ "$copies" -le $((64 * 100 * (secs + 1))) ] || fail "$mode: $copies copies in $secs s"
	;;
esp-servers)
	# 6,000 servers, one masq item each (003's rule 1), in a table of 4,096.
	gateway "max_mappings = 4096"
	client_survives ip netns exec "$h2" $flood esp-servers 10.0.0.3 6000 3000
	positive gw nat.drop_host_esp
	held=$("$spinat" --socket "$work/gw.sock" show nat ipsec | grep -c ' 10\.0\.0\.3')
	echo "$mode: the attacker holds $held ESP items"
	[ "$held" -le 256 ] || fail "$mode: the attacker holds $held ESP items"
	grep -q "inside host 10.0.0.3 reached host_max_esp" "$work/gw.log" ||
		fail "$mode: no log line naming the host"
	;;
ike-init)
	need_tun
	pair "$h1" 10.82.0.1 "$h2" 10.82.0.2
	printf '[spinatd]\nrole = endpoint\nname = b\n[endpoint]\ntun = spt0\nroute = 10.82.0.1/32\n[conn c]\nlocal = 10.82.0.2\nremote = %%any\npsk = sharedsecret1\nlocal_ts = 10.82.0.2/32\nremote_ts = 10.82.0.0/24\n' >"$work/b.conf"
	daemon b "$h2"
	before=$(wc -l <"$work/b.log")
	t0=$(date +%s)
	ip netns exec "$h1" $flood ike-init 10.82.0.2 20000 5000 || fail "$mode: flood"
	sleep 1
	secs=$(($(date +%s) - t0 + 1))
	lines=$(($(wc -l <"$work/b.log") - before))
	dropped=$(counter b ike.drop_malformed)
	echo "$mode: $dropped bad IKE_SA_INIT counted, $lines log lines in about $secs s"
	[ "$dropped" != missing ] && [ "$dropped" -ge 10000 ] || fail "$mode: drop_malformed = $dropped"
	[ "$lines" -le $((10 + secs + 2)) ] || fail "$mode: $lines log lines"
	grep -q "similar lines suppressed" "$work/b.log" || fail "$mode: no suppression note"
	;;
*)
	fail "unknown mode $mode"
	;;
esac
echo "ok: $mode"
