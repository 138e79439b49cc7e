#!/bin/sh
# spinatd against strongSwan's charon (5.9.8) with a real PKI and real outages, in two
# network namespaces (ike_certgen DIR pki: root -> intermediate CA with name constraints ->
# end entities with DN subjects, one revoked, the intermediate's CRL):
#   chain-out   spinat initiates and sends its intermediate (CERT CERT); charon trusts
#               only the root; identities are DNs both ways (RFC 4945 3.1.5)
#   chain-in    charon initiates and sends its intermediate; spinat trusts only the root
#               and has no intermediates configured, so it must use the CERT payloads
#   revoked-in  charon initiates with a revoked certificate: spinat refuses it (crl = the
#               intermediate's CRL file) with AUTHENTICATION_FAILED; charon holds no SA
#   revoked-out spinat initiates, charon answers with the revoked certificate; spinat
#               fetches the CRL from the distribution point over HTTP, refuses, and tells
#               charon in an INFORMATIONAL (RFC 7296 2.21.2): charon holds no SA after
#   outage      the link fails for $SPINAT_OUTAGE s (60): spinat's liveness check gives
#               up, dpd_action = restart tries again with keyingtries = %forever and a
#               backoff of retry_base = 1s doubling up to retry_max = 4s (short steps, so
#               the test stays short; the defaults are 2 s and 2 min); once the link is
#               back, ping must pass both ways within one backoff step plus one
#               retransmission (4.8 s + 2 s), and each side holds one IKE SA (charon
#               drops the old one on spinat's INITIAL_CONTACT)
#
#   ike_strongswan_pki.sh SPINATD SPINAT CERTGEN [CASE...]
set -u
spinatd=$1 spinat=$2 certgen=$3
shift 3
cases=${*:-chain-out chain-in revoked-in revoked-out outage}
outage=${SPINAT_OUTAGE:-60}

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping iptables python3
need_charon
need_tun
lib_start swp
DN_A="C=CH, O=spinat, CN=a.example" DN_B="C=CH, O=spinat, CN=b"

fail_report() {
	[ -f "$work/spinatd.log" ] && { echo "--- spinatd log"; tail -n 40 "$work/spinatd.log"; }
	[ -f "$work/charon.log" ] && { echo "--- charon log"; tail -n 60 "$work/charon.log"; }
	"$spinat" -s "$work/ctl.sock" show sa 2>/dev/null
	swanctl --list-sas --uri "$vici" 2>/dev/null
}

charon_pair
charon_start "$nsb"
"$certgen" "$work" pki || fail "certificates"
cp "$work/b.key" "$work/private/b.key"
cp "$work/brev.key" "$work/private/brev.key"
# The CRL distribution point the certificates name, served from charon's namespace.
mkdir -p "$work/www"
cp "$work/inter.crl.der" "$work/www/inter.crl"
spawn "$nsb" python3 -m http.server 8080 --bind $B --directory "$work/www" \
	>"$work/http.log" 2>&1
wait_for 100 listening "$nsb" 8080 || fail "the CRL server did not start"

start_spinatd() { # AUTO [LINE...]
	_auto=$1
	shift
	{
		host_conf a $NA.1/32 $NB.0/24
		spinatd_conn "$_auto" aes256gcm16-prfsha256-ecp256 aes256gcm16 "auth = pubkey" \
			"cert = $work/a.pem" "key = $work/a.key" "ca = $work/root.pem" \
			"local_id = $DN_A" "remote_id = $DN_B" "$@"
	} >"$work/a.conf"
	spinatd_start
}

load_charon() { # CERT CACERTS-IN-x509ca
	rm -f "$work"/x509ca/*
	for c in $2; do cp "$work/$c.pem" "$work/x509ca/"; done
	charon_conn ecp256 pubkey "$DN_B" "$1" "$DN_A" root "encap = yes"
}

reach() { # NS SRC DST LIMIT T0: seconds from T0 to the first answered ping
	_end=$(($(date +%s) + $4))
	while [ "$(date +%s)" -lt "$_end" ]; do
		if ip netns exec "$1" ping -c 1 -W 0.2 -I "$2" "$3" >/dev/null 2>&1; then
			echo "$(date +%s.%N) $5" | awk '{ printf "%.2f", $1 - $2 }'
			return 0
		fi
		sleep 0.05
	done
	return 1
}

teardown() {
	"$spinat" -s "$work/ctl.sock" down sw >/dev/null 2>&1
	stop_spinatd
	swanctl --terminate --ike sw --force --timeout 2 --uri "$vici" >/dev/null 2>&1
	wait_for 50 charon_idle || fail "charon kept an SA"
}

case_chain_out() {
	load_charon b ""
	start_spinatd start "intermediates = $work/inter.pem"
	wait_for 100 both_up || fail "chain-out: no CHILD SA"
	ping_both "chain-out"
	charon_since | grep -q 'received issuer cert "C=CH, O=spinat, CN=spinat intermediate CA"' ||
		fail "chain-out: charon received no intermediate from spinat"
	charon_since | grep -q "authentication of '$DN_A' with ECDSA.* successful" ||
		fail "chain-out: charon did not authenticate spinat's DN"
	"$spinat" -s "$work/ctl.sock" show sa | grep -q "identities: $DN_A === $DN_B" ||
		fail "chain-out: show sa does not name both DNs"
	teardown
	echo "ok: chain-out: spinat sent its intermediate, DN identities both ways"
}

case_chain_in() {
	load_charon b "root inter"
	start_spinatd add
	swanctl --initiate --child net --ike sw --timeout 10 --uri "$vici" \
		>"$work/swanctl.out" 2>&1 || fail "chain-in: swanctl --initiate"
	wait_for 100 both_up || fail "chain-in: no CHILD SA"
	ping_both "chain-in"
	charon_since | grep -q 'sending issuer cert "C=CH, O=spinat, CN=spinat intermediate CA"' ||
		fail "chain-in: charon sent no intermediate"
	teardown
	echo "ok: chain-in: spinat verified charon's chain from its CERT payloads (root only)"
}

case_revoked_in() {
	load_charon brev "root inter"
	start_spinatd add "crl = $work/inter.crl"
	swanctl --initiate --child net --ike sw --timeout 10 --uri "$vici" \
		>"$work/swanctl.out" 2>&1 && fail "revoked-in: charon got through"
	wait_for 30 grep -q "received AUTHENTICATION_FAILED" "$work/charon.log" ||
		fail "revoked-in: charon saw no AUTHENTICATION_FAILED"
	grep -q "peer not authenticated: chain: certificate revoked (depth 0, \"C=CH, O=spinat, CN=b\")" \
		"$work/spinatd.log" || fail "revoked-in: spinat's log does not say why"
	wait_for 30 charon_idle || fail "revoked-in: charon holds an SA"
	"$spinat" -s "$work/ctl.sock" show sa | grep -q "^no IKE SAs" ||
		fail "revoked-in: spinat holds an SA"
	teardown
	echo "ok: revoked-in: the revoked certificate refused (CRL file), named in the log"
}

case_revoked_out() {
	load_charon brev "root inter"
	start_spinatd start "crl_fetch = yes"
	wait_for 100 grep -q "responder not authenticated" "$work/spinatd.log" ||
		fail "revoked-out: spinat did not refuse"
	grep -q "CRL from http://$B:8080/inter.crl: [0-9]* octets" "$work/spinatd.log" ||
		fail "revoked-out: no CRL fetched"
	grep -q "certificate revoked" "$work/spinatd.log" ||
		fail "revoked-out: spinat's log does not say revoked"
	charon_since | grep -q "IKE_SA sw\[[0-9]*\] established" ||
		fail "revoked-out: charon never had the IKE SA (nothing to prove)"
	wait_for 30 charon_idle || fail "revoked-out: charon still holds an SA after spinat refused"
	charon_since | grep -q "parsed INFORMATIONAL request [0-9]* \[ N(AUTH_FAILED) \]" ||
		fail "revoked-out: charon got no INFORMATIONAL with AUTHENTICATION_FAILED"
	charon_since | grep -q "deleting IKE_SA sw" || fail "revoked-out: charon did not delete"
	sleep 3
	[ "$(grep -c "initiating IKE SA" "$work/spinatd.log")" -eq 1 ] ||
		fail "revoked-out: spinat retried an authentication failure"
	teardown
	echo "ok: revoked-out: CRL fetched over HTTP, refused, charon holds no SA"
}

case_outage() {
	load_charon b "root inter"
	start_spinatd start "dpd_delay = 2s" "dpd_action = restart" "retransmit_timeout = 1s" \
		"retransmit_tries = 1" "retry_base = 1s" "retry_max = 4s"
	wait_for 100 both_up || fail "outage: no CHILD SA"
	ping_both "outage: before"
	for ns in $nsa; do
		ip netns exec "$ns" iptables -I INPUT -i eth0 -j DROP
		ip netns exec "$ns" iptables -I OUTPUT -o eth0 -j DROP
	done
	echo "outage: link down for $outage s"
	sleep "$outage"
	grep -q "setting up again in" "$work/spinatd.log" || fail "outage: no retry scheduled"
	ip netns exec "$nsa" iptables -D INPUT -i eth0 -j DROP
	ip netns exec "$nsa" iptables -D OUTPUT -o eth0 -j DROP
	t0=$(date +%s.%N)
	ta=$(reach "$nsa" $NA.1 $NB.1 20 "$t0") || fail "outage: no ping from spinat's side"
	tb=$(reach "$nsb" $NB.1 $NA.1 20 "$t0") || fail "outage: no ping from charon's side"
	echo "outage: after the link came back: ping a->b after $ta s, b->a after $tb s"
	awk -v a="$ta" -v b="$tb" 'BEGIN { exit !(a < 6.8 && b < 6.8) }' ||
		fail "outage: recovery took longer than one backoff step"
	[ "$("$spinat" -s "$work/ctl.sock" show sa | grep -c "IKE SA")" -eq 1 ] ||
		fail "outage: spinat holds more than one IKE SA"
	[ "$(swanctl --list-sas --uri "$vici" | grep -c "ESTABLISHED")" -eq 1 ] ||
		fail "outage: charon holds more than one IKE SA"
	grep -c "setting up again in" "$work/spinatd.log" | sed 's/^/outage: attempts scheduled: /'
	teardown
	echo "ok: outage: recovered within one backoff step"
}

for c in $cases; do
	case $c in
	chain-out) case_chain_out ;;
	chain-in) case_chain_in ;;
	revoked-in) case_revoked_in ;;
	revoked-out) case_revoked_out ;;
	outage) case_outage ;;
	*) fail "unknown case $c" ;;
	esac
done
echo "PASS"
