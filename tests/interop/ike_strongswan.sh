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
nsa=${tag}a nsb=${tag}b
A=10.79.0.1 B=10.79.0.2 NA=192.168.91 NB=192.168.92

fail_report() {
	[ -f "$work/spinatd.log" ] && { echo "--- spinatd log"; tail -n 60 "$work/spinatd.log"; }
	[ -f "$work/charon.log" ] && { echo "--- charon log"; tail -n 80 "$work/charon.log"; }
	"$spinat" -s "$work/ctl.sock" show sa 2>/dev/null
}

pair "$nsa" $A "$nsb" $B
# charon's protected network: an address on the loopback of its namespace (this kernel
# has no dummy interfaces).
ip -n "$nsb" addr add $NB.1/24 dev lo || fail "address for charon's network"
charon_start "$nsb"

"$certgen" "$work" || fail "certificates"
# swanctl loads private keys from the private/ folder next to its configuration.
cp "$work/b.key" "$work/private/b.key"

spinatd_pid=""
start_spinatd() { # AUTO AUTH GROUP
	auto=$1 auth=$2 group=$3
	{
		echo "[spinatd]"
		echo "role = endpoint"
		echo "name = a"
		echo "socket = $work/ctl.sock"
		echo "[endpoint]"
		echo "tun = spt0"
		echo "tun_address = $NA.1/32"
		echo "route = $NB.0/24"
		echo "[conn sw]"
		echo "local = $A"
		echo "remote = $B"
		echo "auto = $auto"
		echo "ike = aes256gcm16-prfsha256-$group, aes128-sha256-$group"
		echo "esp = aes256gcm16, aes128-sha256"
		echo "local_ts = $NA.0/24"
		echo "remote_ts = $NB.0/24"
		if [ "$auth" = psk ]; then
			echo "psk = interop-psk-0123456789"
		else
			echo "auth = pubkey"
			echo "cert = $work/a.pem"
			echo "key = $work/a.key"
			echo "ca = $work/ca.pem"
			echo "local_id = fqdn:a.example"
			echo "remote_id = $B"
		fi
	} >"$work/a.conf"
	endpoint_offload "$work/a.conf"
	spawn "$nsa" "$spinatd" -c "$work/a.conf" -l debug >"$work/spinatd.log" 2>&1
	spinatd_pid=$spawned
	wait_for 50 "$spinat" -s "$work/ctl.sock" show sa || fail "spinatd did not start"
}

stop_spinatd() {
	kill "$spinatd_pid" 2>/dev/null
	wait "$spinatd_pid" 2>/dev/null
	forget "$spinatd_pid"
}

load_charon() { # AUTH GROUP
	auth=$1 group=$2
	{
		echo "connections {"
		echo " sw {"
		echo "  local_addrs = $B"
		echo "  remote_addrs = $A"
		echo "  version = 2"
		echo "  proposals = aes256gcm16-prfsha256-$group"
		echo "  encap = yes"
		echo "  rekey_time = 0"
		if [ "$auth" = psk ]; then
			printf '  local {\n   auth = psk\n   id = %s\n  }\n' $B
			printf '  remote {\n   auth = psk\n   id = %s\n  }\n' $A
		else
			printf '  local {\n   auth = pubkey\n   id = %s\n   certs = %s\n  }\n' \
				$B "$work/b.pem"
			printf '  remote {\n   auth = pubkey\n   id = a.example\n   cacerts = %s\n  }\n' \
				"$work/ca.pem"
		fi
		echo "  children {"
		echo "   net {"
		echo "    local_ts = $NB.0/24"
		echo "    remote_ts = $NA.0/24"
		echo "    esp_proposals = aes256gcm16"
		echo "    rekey_time = 0"
		echo "    mode = tunnel"
		echo "   }"
		echo "  }"
		echo " }"
		echo "}"
		echo "secrets {"
		printf ' ike-sw {\n  id-a = %s\n  id-b = %s\n  secret = interop-psk-0123456789\n }\n' \
			$A $B
		echo "}"
	} >"$work/swanctl.conf"
	STRONGSWAN_CONF=$work/strongswan.conf swanctl --load-all --clear --file "$work/swanctl.conf" \
		--uri "$vici" >"$work/swanctl.out" 2>&1 ||
		fail "swanctl --load-all: $(cat "$work/swanctl.out")"
}

both_up() {
	"$spinat" -s "$work/ctl.sock" show sa | grep -q "CHILD esp.*INSTALLED" &&
		swanctl --list-sas --uri "$vici" | grep -q "INSTALLED"
}

wait_up() { # WHAT
	wait_for 100 both_up || fail "$1: no CHILD SA"
}

ping_both() { # WHAT
	ip netns exec "$nsa" ping -q -c 3 -i 0.2 -W 2 -I $NA.1 $NB.1 >"$work/ping" 2>&1 ||
		fail "$1: ping $NA.1 -> $NB.1: $(tail -n 2 "$work/ping")"
	ip netns exec "$nsb" ping -q -c 3 -i 0.2 -W 2 -I $NB.1 $NA.1 >"$work/ping" 2>&1 ||
		fail "$1: ping $NB.1 -> $NA.1: $(tail -n 2 "$work/ping")"
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

charon_idle() {
	! swanctl --list-sas --uri "$vici" | grep -q "ESTABLISHED"
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
	ping_both "$name: after IKE_AUTH"

	old=$(spis)
	"$spinat" -s "$work/ctl.sock" rekey sw >/dev/null || fail "$name: spinat rekey"
	wait_changed "$name: CHILD rekey by spinat" spis "$old"
	ping_both "$name: after spinat's CHILD SA rekey"

	old=$(spis)
	swanctl --rekey --child net --uri "$vici" >/dev/null 2>&1 || fail "$name: swanctl --rekey"
	wait_changed "$name: CHILD rekey by charon" spis "$old"
	ping_both "$name: after charon's CHILD SA rekey"

	old=$(ike_spis)
	"$spinat" -s "$work/ctl.sock" rekey sw ike >/dev/null || fail "$name: spinat rekey ike"
	wait_changed "$name: IKE rekey by spinat" ike_spis "$old"
	ping_both "$name: after spinat's IKE SA rekey"

	old=$(ike_spis)
	swanctl --rekey --ike sw --uri "$vici" >/dev/null 2>&1 || fail "$name: swanctl --rekey --ike"
	wait_changed "$name: IKE rekey by charon" ike_spis "$old"
	ping_both "$name: after charon's IKE SA rekey"

	# Nothing spinat received was dropped for integrity, syntax or window reasons.
	"$spinat" -s "$work/ctl.sock" show counters >"$work/counters"
	if grep -E "ike\.(drop_integrity|drop_malformed|drop_msgid|auth_failed|no_proposal_chosen)" \
		"$work/counters"; then
		fail "$name: IKE drops"
	fi
	"$spinat" -s "$work/ctl.sock" down sw >/dev/null || fail "$name: spinat down"
	wait_for 50 charon_idle || fail "$name: charon kept its IKE SA after spinat's delete"
	stop_spinatd
	grep -q "ERROR\|AddressSanitizer\|runtime error" "$work/spinatd.log" &&
		fail "$name: errors in spinatd's log"
	echo "ok: $name: deleted on both sides"
}

case_run init psk ecp256
case_run resp psk x25519
case_run init pubkey ecp256
case_run resp pubkey modp2048
echo "PASS"
