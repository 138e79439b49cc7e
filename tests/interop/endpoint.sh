#!/bin/sh
# spinatd's endpoint role for real: two network namespaces joined by a veth pair, each
# running spinatd with a TUN device and manual keys. Unmodified ping and a TCP transfer
# (netcat) go through the tunnel; the data must arrive byte for byte, the daemons'
# counters must show the traffic went through ESP or AH (and nothing was dropped), and a
# negative control with a wrong key on one side must get nothing through and count ICV
# drops. Every case runs with fresh daemons; the namespaces, veths and processes are
# removed on exit.
#
#   endpoint.sh SPINATD SPINAT CASE...
#   CASE = proto:mode:enc:auth:encap:esn   e.g. esp:tunnel:aes-gcm-16:none:udp:yes
#          proto esp|ah, mode transport|tunnel, encap raw|udp, esn yes|no
#   Under valgrind.sh the daemons run under valgrind ($SPINAT_VALGRIND), which must report
#   no errors and no leaks.
set -u
spinatd=$1 spinat=$2
shift 2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip ping nc ss cmp python3
need_tun
lib_start ep
nsa=${tag}a nsb=${tag}b

fail_report() {
	for side in a b; do
		[ -f "$work/$side.log" ] && { echo "--- daemon $side log"; cat "$work/$side.log"; }
	done
}

pair "$nsa" 10.77.0.1 "$nsb" 10.77.0.2
# Transport mode sends cleartext for the peer's own address into the TUN device: the
# daemon's sockets carry mark 0x77, which policy routing sends out of eth0 instead.
for ns in $nsa $nsb; do
	ip -n "$ns" rule add fwmark 0x77 lookup 177 priority 100
	ip -n "$ns" route add 10.77.0.0/24 dev eth0 table 177
done
head -c 300000 /dev/urandom >"$work/data"

KEY_AB=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223
KEY_BA=0x303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253

# key LEN SEED: the first LEN bytes (hex) of a key.
key() {
	echo "$2" | cut -c1-$((2 + 2 * $1))
}

enc_len() {
	case $1 in
	aes-gcm-*|aes-gmac) echo 20 ;; # AES-128 + salt (RFC 4106 8.1)
	aes-cbc) echo 16 ;;
	*) echo 0 ;;
	esac
}

auth_len() {
	case $1 in
	hmac-sha1-96) echo 20 ;;
	hmac-sha256-128) echo 32 ;;
	hmac-md5-96) echo 16 ;;
	*) echo 0 ;;
	esac
}

# conf SIDE PROTO MODE ENC AUTH ENCAP ESN INKEY_OVERRIDE
conf() {
	side=$1 proto=$2 mode=$3 enc=$4 auth=$5 encap=$6 esn=$7 badkey=$8
	if [ "$side" = a ]; then
		me=10.77.0.1 peer=10.77.0.2 spi_out=0x1001 spi_in=0x2002 kout=$KEY_AB kin=$KEY_BA
		inner=192.168.71 pinner=192.168.72
	else
		me=10.77.0.2 peer=10.77.0.1 spi_out=0x2002 spi_in=0x1001 kout=$KEY_BA kin=$KEY_AB
		inner=192.168.72 pinner=192.168.71
	fi
	[ -n "$badkey" ] && kin=0xbad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0
	el=$(enc_len "$enc") al=$(auth_len "$auth")
	udp=no
	[ "$encap" = udp ] && udp=yes
	{
		echo "[spinatd]"
		echo "role = endpoint"
		echo "name = $side"
		echo "[endpoint]"
		echo "tun = spt0"
		echo "mark = 0x77"
		if [ "$mode" = tunnel ]; then
			echo "tun_address = $inner.1/32"
			echo "route = $pinner.0/24"
			src=$inner.0/24 dst=$pinner.0/24
		else
			echo "route = $peer/32"
			src=$me dst=$peer
		fi
		echo "[policy p]"
		echo "src = $src"
		echo "dst = $dst"
		echo "action = $proto"
		echo "mode = $mode"
		echo "reqid = 1"
		for dir in out in; do
			if [ $dir = out ]; then
				spi=$spi_out s=$me d=$peer k=$kout
			else
				spi=$spi_in s=$peer d=$me k=$kin
			fi
			echo "[sa $dir]"
			echo "dir = $dir"
			echo "proto = $proto"
			echo "mode = $mode"
			echo "spi = $spi"
			echo "src = $s"
			echo "dst = $d"
			echo "reqid = 1"
			echo "esn = $esn"
			[ "$proto" = esp ] && echo "enc = $enc"
			[ "$el" -gt 0 ] && echo "enc_key = $(key "$el" "$k")"
			echo "auth = $auth"
			[ "$al" -gt 0 ] && echo "auth_key = $(key "$al" "$(echo "$k" | sed 's/^0x/0x55/')")"
			[ "$proto" = esp ] && echo "udp_encap = $udp"
			[ "$auth" = hmac-md5-96 ] && echo "allow_weak = yes"
		done
		# Static AES-GCM/GMAC keys need the count of starts in their IVs (RFC 4106 3.1).
		case $enc in
		aes-gcm-* | aes-gmac) printf '[ipsec]\nboot_counter_file = %s\n' "$work/$side.boots" ;;
		esac
	} >"$work/$side.conf"
}

stop() {
	stop_daemon a
	stop_daemon b
}

run_case() {
	IFS=: read -r proto mode enc auth encap esn <<EOF2
$1
EOF2
	name="$proto $mode $enc/$auth $encap esn=$esn"
	for side in a b; do
		conf $side "$proto" "$mode" "$enc" "$auth" "$encap" "$esn" ""
	done
	: >"$work/a.log"
	: >"$work/b.log"
	daemon a "$nsa"
	daemon b "$nsb"
	if [ "$mode" = tunnel ]; then
		src=192.168.71.1 dst=192.168.72.1
	else
		src=10.77.0.1 dst=10.77.0.2
	fi
	ip netns exec "$nsa" ping -n -q -c 5 -i 0.2 -W 2 -I "$src" "$dst" >"$work/ping" 2>&1 ||
		{ cat "$work/ping"; fail "$name: ping"; }
	grep -q " 0% packet loss" "$work/ping" || { cat "$work/ping"; fail "$name: ping lost packets"; }
	# TCP, 300 kB, byte for byte.
	rm -f "$work/got"
	spawn "$nsb" timeout 20 nc -l "$dst" 5001 >"$work/got"
	lpid=$spawned
	wait_for 50 listening "$nsb" 5001
	ip netns exec "$nsa" timeout 20 nc -N -s "$src" "$dst" 5001 <"$work/data" ||
		fail "$name: TCP sender"
	wait $lpid || fail "$name: TCP receiver"
	forget $lpid
	cmp -s "$work/data" "$work/got" || fail "$name: TCP data differs ($(wc -c <"$work/got") bytes)"
	# The daemons saw it: protected out, authenticated in, nothing dropped.
	case $proto:$encap in
	ah:*) tx=ipsec.tx_ah ;;
	esp:udp) tx=ipsec.tx_esp_udp ;;
	*) tx=ipsec.tx_esp ;;
	esac
	for side in a b; do
		n=$(counter $side $tx)
		[ "$n" != missing ] && [ "$n" -gt 5 ] || fail "$name: $side $tx = $n"
		n=$(counter $side ipsec.rx_decapsulated)
		[ "$n" != missing ] && [ "$n" -gt 5 ] || fail "$name: $side rx_decapsulated = $n"
		for d in drop_icv_mismatch drop_replay drop_bad_padding drop_no_sa drop_policy_mismatch drop_malformed; do
			n=$(counter $side ipsec.$d)
			[ "$n" = 0 ] || fail "$name: $side ipsec.$d = $n"
		done
	done
	"$spinat" --socket "$work/a.sock" show sa >"$work/sa" || fail "$name: show sa"
	grep -q "spi 0x00001001 out" "$work/sa" || { cat "$work/sa"; fail "$name: show sa"; }
	stop
	echo "ok: $name"
}

# The negative control: B has the wrong inbound key; nothing may get through.
wrong_key() {
	for side in a b; do
		bad=""
		[ $side = b ] && bad=yes
		conf $side esp tunnel aes-gcm-16 none raw no "$bad"
	done
	: >"$work/a.log"
	: >"$work/b.log"
	daemon a "$nsa"
	daemon b "$nsb"
	if ip netns exec "$nsa" ping -n -q -c 2 -i 0.2 -W 1 -I 192.168.71.1 192.168.72.1 >/dev/null 2>&1; then
		fail "wrong key: ping got through"
	fi
	n=$(counter b ipsec.drop_icv_mismatch)
	[ "$n" != missing ] && [ "$n" -ge 2 ] || fail "wrong key: drop_icv_mismatch = $n"
	# An ESP datagram larger than a packet buffer (3000 bytes, fragmented on the wire and
	# reassembled by the kernel) is dropped whole and counted, not cut short.
	ip netns exec "$nsa" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER, IP_PMTUDISC_DONT: fragment
s.sendto(bytes.fromhex("00001001") + bytes(2976), ("10.77.0.2", 0))' || fail "oversize ESP: send"
	wait_for 20 counter_is b endpoint.drop_net_truncated 1 ||
		fail "oversize ESP: drop_net_truncated = $(counter b endpoint.drop_net_truncated)"
	stop
	echo "ok: wrong key delivers nothing, drop_icv_mismatch = $n; oversize ESP counted"
}

counter_is() { # SIDE NAME VALUE
	[ "$(counter "$1" "$2")" = "$3" ]
}

for c in "$@"; do
	if [ "$c" = wrong-key ]; then
		wrong_key
	else
		run_case "$c"
	fi
done
