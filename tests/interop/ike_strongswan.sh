#!/bin/sh
# spinatd's IKEv2 against strongSwan's charon (Debian's 5.9.8) in two network namespaces:
# spinat as initiator and as responder, with a pre-shared key and with certificates (RSA
# and ECDSA, RFC 7427 signatures), groups ECP-256, Curve25519 and MODP-2048; after IKE_AUTH,
# after a CHILD SA rekey and after an IKE SA rekey started by either side, ping must pass
# through the tunnel both ways. charon uses its userspace kernel-libipsec plugin (this
# kernel has no ESP), which carries ESP in UDP 4500, so spinat sees a NAT (charon's
# encap = yes) and moves there too (RFC 7296 2.23, RFC 3948).
#
#   ike_strongswan.sh SPINATD SPINAT CERTGEN
set -u
spinatd=$1 spinat=$2 certgen=$3

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping
need_charon
need_tun
lib_start sw

fail_report() {
	[ -f "$work/spinatd.log" ] && { echo "--- spinatd log"; tail -n 60 "$work/spinatd.log"; }
	[ -f "$work/charon.log" ] && { echo "--- charon log"; tail -n 80 "$work/charon.log"; }
	"$spinat" -s "$work/ctl.sock" show sa 2>/dev/null
}

charon_pair
charon_start "$nsb"

"$certgen" "$work" || fail "certificates"
# swanctl loads private keys from the private/ folder next to its configuration.
cp "$work/b.key" "$work/private/b.key"

start_spinatd() { # AUTO AUTH GROUP
	_auto=$1 _grp=$3
	if [ "$2" = psk ]; then
		set -- "psk = interop-psk-0123456789"
	else
		set -- "auth = pubkey" "cert = $work/a.pem" "key = $work/a.key" "ca = $work/ca.pem" \
			"local_id = fqdn:a.example" "remote_id = $B"
	fi
	{
		host_conf a $NA.1/32 $NB.0/24
		spinatd_conn "$_auto" "aes256gcm16-prfsha256-$_grp, aes128-sha256-$_grp" \
			"aes256gcm16, aes128-sha256" "$@"
	} >"$work/a.conf"
	spinatd_start
}

load_charon() { # AUTH GROUP
	if [ "$1" = psk ]; then
		charon_conn "$2" psk $B "" $A "" "encap = yes"
	else
		charon_conn "$2" pubkey $B b a.example ca "encap = yes"
	fi
}

wait_up() { # WHAT
	wait_for 100 both_up || fail "$1: no CHILD SA"
}

ping_ok() { # WHAT
	ping_both "$1" 3
	echo "ok: $1"
}

spis() {
	"$spinat" -s "$work/ctl.sock" show sa 2>/dev/null | grep "CHILD esp" | awk '{print $5, $6}'
}

ike_spis() {
	"$spinat" -s "$work/ctl.sock" show sa 2>/dev/null | grep "IKE SA" | awk '{print $4, $5}'
}

changed() { # FUNCTION OLD
	[ "$($1)" != "$2" ] && "$spinat" -s "$work/ctl.sock" show sa | grep -q "CHILD esp.*INSTALLED"
}

wait_changed() { # WHAT FUNCTION OLD
	wait_for 100 changed "$2" "$3" || fail "$1: nothing changed"
	sleep 0.3 # let the old SA's delete finish on both sides
}

# One case: spinat initiates (init) or charon does (resp); rekeys from both sides.
case_run() { # ROLE AUTH GROUP
	role=$1 auth=$2 group=$3
	name="spinat $role, $auth, $group"
	load_charon "$auth" "$group"
	if [ "$role" = init ]; then
		start_spinatd start "$auth" "$group"
	else
		start_spinatd add "$auth" "$group"
		swanctl --initiate --child net --ike sw --timeout 10 --uri "$vici" \
			>"$work/swanctl.out" 2>&1 || fail "$name: swanctl --initiate"
	fi
	wait_up "$name"
	"$spinat" -s "$work/ctl.sock" show sa | grep -q "udp-encap" ||
		fail "$name: the CHILD SA is not UDP-encapsulated"
	ping_ok "$name: after IKE_AUTH"

	old=$(spis)
	"$spinat" -s "$work/ctl.sock" rekey sw >/dev/null || fail "$name: spinat rekey"
	wait_changed "$name: CHILD rekey by spinat" spis "$old"
	ping_ok "$name: after spinat's CHILD SA rekey"

	old=$(spis)
	swanctl --rekey --child net --uri "$vici" >/dev/null 2>&1 || fail "$name: swanctl --rekey"
	wait_changed "$name: CHILD rekey by charon" spis "$old"
	ping_ok "$name: after charon's CHILD SA rekey"

	old=$(ike_spis)
	"$spinat" -s "$work/ctl.sock" rekey sw ike >/dev/null || fail "$name: spinat rekey ike"
	wait_changed "$name: IKE rekey by spinat" ike_spis "$old"
	ping_ok "$name: after spinat's IKE SA rekey"

	old=$(ike_spis)
	swanctl --rekey --ike sw --uri "$vici" >/dev/null 2>&1 || fail "$name: swanctl --rekey --ike"
	wait_changed "$name: IKE rekey by charon" ike_spis "$old"
	ping_ok "$name: after charon's IKE SA rekey"

	# Nothing spinat received was dropped for integrity, syntax or window reasons.
	"$spinat" -s "$work/ctl.sock" show counters >"$work/counters"
	if grep -E "ike\.(drop_integrity|drop_malformed|drop_msgid|auth_failed|no_proposal_chosen)" \
		"$work/counters"; then
		fail "$name: IKE drops"
	fi
	"$spinat" -s "$work/ctl.sock" down sw >/dev/null || fail "$name: spinat down"
	wait_for 50 charon_idle || fail "$name: charon kept its IKE SA after spinat's delete"
	stop_spinatd
	grep -q "ERROR" "$work/spinatd.log" &&
		fail "$name: errors in spinatd's log"
	echo "ok: $name: deleted on both sides"
}

case_run init psk ecp256
case_run resp psk x25519
case_run init pubkey ecp256
case_run resp pubkey modp2048
echo "PASS"
