#!/bin/sh
# IKEv2 responder cost, spinat next to strongSwan, by one method: `spinat-bench ike udp`
# in one network namespace drives full handshakes (IKE_SA_INIT + IKE_AUTH, PSK, one CHILD
# SA, then a delete) against a responder in another, over a veth pair, and divides the
# handshakes completed by the responder's CPU time (user + system, all threads, from
# /proc). The responders: strongSwan's charon (kernel-libipsec for its CHILD SAs) and
# spinatd's endpoint role (its own IPsec engine). Needs root; prints one line per run.
#
#   tools/bench-ike-strongswan.sh [BUILD_DIR] [SECONDS]
set -u
build=${1:-build}
secs=${2:-5}
bench=$build/bench/spinat-bench
spinatd=$build/apps/spinatd
charon=/usr/lib/ipsec/charon

[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
[ -x "$bench" ] && [ -x "$spinatd" ] || { echo "build first: make build"; exit 1; }
[ -n "${KEEP:-}" ] && echo "work directory kept"

tag=bi$$
work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-$tag.XXXXXX") || exit 1
chmod 755 "$work"
for d in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
	mkdir -p "$work/$d"
done
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del ${tag}g 2>/dev/null
	ip netns del ${tag}r 2>/dev/null
	[ -n "${KEEP:-}" ] && { echo "kept $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add ${tag}g && ip netns add ${tag}r || exit 1
ip link add ${tag}x type veth peer name ${tag}y || exit 1
ip link set ${tag}x netns ${tag}g && ip link set ${tag}y netns ${tag}r || exit 1
ip -n ${tag}g link set lo up && ip -n ${tag}r link set lo up
ip -n ${tag}g addr add 10.80.0.1/24 dev ${tag}x && ip -n ${tag}g link set ${tag}x up
ip -n ${tag}r addr add 10.80.0.2/24 dev ${tag}y && ip -n ${tag}r link set ${tag}y up
# The responder's protected network (charon routes it through its TUN device).
ip -n ${tag}r addr add 10.2.0.1/24 dev lo

run_gen() { # NAME GROUP
	printf '%-22s %-11s ' "$1" "$2"
	IKE_BENCH_LOG=${IKE_BENCH_LOG:-} IKE_BENCH_GROUP=$2 ip netns exec ${tag}g "$bench" --seconds "$secs" ike udp 10.80.0.2 "$pid" |
		tr '\n' ' '
	echo
}

export STRONGSWAN_CONF="$work/strongswan.conf"
cat >"$work/strongswan.conf" <<EOF
swanctl {
	load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}
charon {
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints aes sha2 hmac gcm kdf kernel-libipsec kernel-netlink socket-default vici
	block_threshold = 1000
	cookie_threshold = 1000
	cookie_threshold_ip = 1000
	init_limit_half_open = 0
	install_routes = no
	plugins {
		vici {
			socket = unix://$work/charon.vici
		}
	}
	filelog {
		charon {
			path = $work/charon.log
			default = ${CHARON_LOG_LEVEL:-0}
		}
	}
}
EOF
cat >"$work/swanctl.conf" <<EOF
connections {
	bench {
		local_addrs = 10.80.0.2
		version = 2
		proposals = aes256gcm16-prfsha256-ecp256, aes256gcm16-prfsha256-x25519
		local {
			auth = psk
			id = 10.80.0.2
		}
		remote {
			auth = psk
		}
		children {
			net {
				local_ts = 10.2.0.0/24
				remote_ts = 10.1.0.0/24
				esp_proposals = aes256gcm16
			}
		}
	}
}
secrets {
	ike-any {
		secret = bench-psk-0123456789
	}
}
EOF
ip netns exec ${tag}r unshare -m sh -c "mount -t tmpfs none /run && exec $charon" \
	>"$work/charon.out" 2>&1 &
pid=$!
i=0
until swanctl --stats --uri "unix://$work/charon.vici" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "charon did not start"; exit 1; }
	sleep 0.1
done
# charon runs under the shell unshare execs into: the pid is charon's own.
swanctl --load-all --file "$work/swanctl.conf" --uri "unix://$work/charon.vici" >/dev/null ||
	exit 1
echo "responder              group       result"
run_gen "strongSwan 5.9.8" ecp256
run_gen "strongSwan 5.9.8" x25519
kill "$pid"
wait "$pid" 2>/dev/null

cat >"$work/spinatd.conf" <<EOF
[spinatd]
role = endpoint
socket = $work/ctl.sock
[endpoint]
tun = spb0
[ike]
cookie_threshold = 1000
[conn bench]
local = 10.80.0.2
remote = %any
psk = bench-psk-0123456789
ike = aes256gcm16-prfsha256-ecp256, aes256gcm16-prfsha256-x25519
esp = aes256gcm16
local_ts = 10.2.0.0/24
remote_ts = 10.1.0.0/24
encap = no
dpd_delay = 0
EOF
ip netns exec ${tag}r "$spinatd" -c "$work/spinatd.conf" -l err >"$work/spinatd.log" 2>&1 &
pid=$!
sleep 0.5
run_gen "spinatd" ecp256
run_gen "spinatd" x25519
