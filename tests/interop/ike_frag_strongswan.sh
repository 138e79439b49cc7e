#!/bin/sh
# IKE fragmentation (RFC 7383) between spinatd and strongSwan's charon (5.9.8) in two
# network namespaces. Both sides fragment at 576 octets (spinat: [ike] fragment_size,
# charon: charon.fragment_size; swanctl fragmentation = yes), and each namespace drops
# every UDP datagram over 576 octets (IP fragments of a larger one included), so an
# IKE_AUTH with a certificate chain (root -> intermediate -> end entity, the intermediate
# sent as a CERT payload: about 1.5 KB each way) gets through only in fragments:
#   out   spinat initiates: its IKE_AUTH request and charon's response go in fragments
#   in    charon initiates: the same the other way round
#   whole the control: spinat with fragmentation = no sends its IKE_AUTH whole, which
#         does not cross (the filter drops it), and no SA comes up
# spinatd runs with tun_offload = no: with UDP GSO the fragments of one answer leave as one
# GSO batch, which a veth hands over whole, so the length filter would see their sum.
# Each case checks the CHILD SA with a ping both ways, spinat's counters (fragments sent,
# messages reassembled) and charon's log (it split a message and reassembled one).
#
#   ike_frag_strongswan.sh SPINATD SPINAT CERTGEN [CASE...]
set -u
spinatd=$1 spinat=$2 certgen=$3
shift 3
cases=${*:-out in whole}

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping iptables
need_charon
need_tun
lib_start swf
DN_A="C=CH, O=spinat, CN=a.example" DN_B="C=CH, O=spinat, CN=b"
FRAG=576

fail_report() {
	[ -f "$work/spinatd.log" ] && { echo "--- spinatd log"; tail -n 40 "$work/spinatd.log"; }
	[ -f "$work/charon.log" ] && { echo "--- charon log"; tail -n 60 "$work/charon.log"; }
	"$spinat" -s "$work/ctl.sock" show counters all 2>/dev/null | grep "frag"
	swanctl --list-sas --uri "$vici" 2>/dev/null
}

charon_pair
for ns in $nsa $nsb; do
	# Nothing larger than one fragment crosses: no whole IKE_AUTH, no IP fragments of it.
	ip netns exec "$ns" iptables -I INPUT -i eth0 -p udp -m length --length $((FRAG + 1)):65535 \
		-j DROP || fail "iptables in $ns"
done
charon_start "$nsb" "fragment_size = $FRAG"
"$certgen" "$work" pki || fail "certificates"
cp "$work/b.key" "$work/private/b.key"

start_spinatd() { # AUTO [EXTRA-LINES]
	{
		host_conf a $NA.1/32 $NB.0/24 "tun_offload = no"
		printf '[ike]\nfragment_size = %s\n' $FRAG
		spinatd_conn "$1" aes256gcm16-prfsha256-ecp256 aes256gcm16 "auth = pubkey" \
			"cert = $work/a.pem" "key = $work/a.key" "ca = $work/root.pem" \
			"intermediates = $work/inter.pem" "local_id = $DN_A" "remote_id = $DN_B" "${2:-}"
	} >"$work/a.conf"
	spinatd_start
}

load_charon() {
	rm -f "$work"/x509ca/*
	cp "$work/root.pem" "$work/inter.pem" "$work/x509ca/"
	charon_conn ecp256 pubkey "$DN_B" b "$DN_A" root "fragmentation = yes"
}

# What proves fragments went both ways: spinat sent and reassembled some, charon split
# one message and reassembled one; and no datagram was over the limit (dropped).
check_frags() { # WHAT
	tx=$(counter_a frag_tx) rx=$(counter_a frag_reassembled)
	[ "$tx" -ge 2 ] 2>/dev/null || fail "$1: spinat sent $tx fragments"
	[ "$rx" -ge 1 ] 2>/dev/null || fail "$1: spinat reassembled $rx messages"
	charon_since | grep -q "splitting IKE message ([0-9]* bytes) into [0-9]* fragments" ||
		fail "$1: charon sent no fragments"
	charon_since | grep -q "received fragment #[0-9]* of [0-9]*, reassembled fragmented IKE message" ||
		fail "$1: charon reassembled no message"
	split=$(charon_since | grep -o "splitting IKE message ([0-9]* bytes) into [0-9]* fragments" | head -n 1)
	echo "$1: spinat sent $tx fragments and reassembled $rx messages; charon: $split"
}

counter_a() {
	"$spinat" --socket "$work/ctl.sock" show counters all | awk -v n="ike.$1" \
		'$2 == n { s += $3; found = 1 } END { if (found) print s; else print "missing" }'
}

teardown() {
	"$spinat" -s "$work/ctl.sock" down sw >/dev/null 2>&1
	stop_spinatd
	# by unique ID: a half-open SA (the control case) has no name to go by
	for id in $(swanctl --list-sas --uri "$vici" | sed -n 's/^[^ ]*: #\([0-9]*\),.*/\1/p'); do
		swanctl --terminate --ike-id "$id" --force --timeout 2 --uri "$vici" >/dev/null 2>&1
	done
	wait_for 50 charon_idle || fail "charon kept an SA"
}

case_out() {
	load_charon
	start_spinatd start
	wait_for 150 both_up || fail "out: no CHILD SA"
	ping_both "out"
	check_frags "out"
	charon_since | grep -q "parsed IKE_AUTH request 1 \[ EF(1/[0-9]*) \]" ||
		fail "out: charon got no fragmented IKE_AUTH request"
	teardown
	echo "ok: out: IKE_AUTH both ways in fragments of at most $FRAG octets"
}

case_in() {
	load_charon
	start_spinatd add
	swanctl --initiate --child net --ike sw --timeout 15 --uri "$vici" \
		>"$work/swanctl.out" 2>&1 || fail "in: swanctl --initiate"
	wait_for 100 both_up || fail "in: no CHILD SA"
	ping_both "in"
	check_frags "in"
	charon_since | grep -q "parsed IKE_AUTH response 1 \[ EF(1/[0-9]*) \]" ||
		fail "in: charon got no fragmented IKE_AUTH response"
	teardown
	echo "ok: in: charon initiated, IKE_AUTH both ways in fragments"
}

case_whole() {
	load_charon
	start_spinatd start "fragmentation = no
retransmit_timeout = 1s
retransmit_tries = 1
keyingtries = 1"
	wait_for 100 grep -q "no answer to our IKE_AUTH" "$work/spinatd.log" ||
		fail "whole: spinat did not give up on its IKE_AUTH"
	both_up && fail "whole: an SA came up without fragments"
	dropped=$(ip netns exec "$nsb" iptables -L INPUT -v -n -x | awk '/DROP/ { print $1 }')
	[ "${dropped:-0}" -gt 0 ] || fail "whole: the filter dropped nothing"
	[ "$(counter_a frag_tx)" = 0 ] || fail "whole: spinat sent fragments"
	charon_since | grep -q "FRAG_SUP" && fail "whole: spinat announced fragmentation"
	teardown
	echo "ok: whole: without fragmentation the IKE_AUTH ($dropped datagrams dropped) does not cross"
}

for c in $cases; do
	case $c in
	out) case_out ;;
	in) case_in ;;
	whole) case_whole ;;
	*) fail "unknown case $c" ;;
	esac
done
echo "PASS"
