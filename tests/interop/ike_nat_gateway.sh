#!/bin/sh
# Raw ESP negotiated by IKE through spinat's NAT: two inside hosts run spinatd endpoints
# that set up tunnels with IKEv2 and encap = no (no UDP encapsulation, as the source
# documents' techniques carry ESP) to one outside spinatd endpoint, through spinatd's
# gateway role. The server picks its inbound SPIs from the clients' with 000's md5 scheme
# (spi = derived), which the gateway's spihash strategy matches; IKE crosses the NAT on
# port 500, told apart by its SPIs (003). Both hosts' pings must pass at once, after a
# CHILD SA rekey too, the gateway must have seen ESP and no UDP 4500, and each host's
# tunnel must carry its own traffic only.
#
#   ike_nat_gateway.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, NFQUEUE, TUN devices, raw sockets)"
	exit 77
fi
for t in ip iptables ping; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP: $t is missing (tools/deps.sh check installs it)"
		exit 77
	fi
done
if [ ! -c /dev/net/tun ]; then
	echo "SKIP: /dev/net/tun is missing"
	exit 77
fi

tag=in$$
gw=${tag}g srv=${tag}s
work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-$tag.XXXXXX") || exit 1
pids=""

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	for ns in "${tag}h1" "${tag}h2" "$gw" "$srv"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	for f in gw h1 h2 srv; do
		[ -f "$work/$f.log" ] && { echo "--- $f log"; tail -n 40 "$work/$f.log"; }
	done
	for f in h1 h2 srv; do
		echo "--- $f: show sa"
		"$spinat" --socket "$work/$f.sock" show sa 2>/dev/null
	done
	"$spinat" --socket "$work/gw.sock" show nat 2>/dev/null
	exit 1
}

veth() {
	ip link add "$1a" type veth peer name "$1b" || fail "ip link add $1"
	ip link set "$1a" netns "$2" || fail "move $1a"
	ip link set "$1b" netns "$4" || fail "move $1b"
	ip -n "$2" link set "$1a" name "$3"
	ip -n "$4" link set "$1b" name "$5"
	ip -n "$2" link set "$3" up
	ip -n "$4" link set "$5" up
}

# h1 (10.0.0.2), h2 (10.0.0.3) -- br0 gw out0 (203.0.113.1) -- srv (203.0.113.2)
for ns in "${tag}h1" "${tag}h2" "$gw" "$srv"; do
	ip netns add "$ns" || fail "ip netns add"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 || fail "sysctl"
done
ip -n "$gw" link add br0 type bridge || fail "bridge"
ip -n "$gw" addr add 10.0.0.1/24 dev br0
ip -n "$gw" link set br0 up
for h in 1 2; do
	veth "${tag}$h" "${tag}h$h" eth0 "$gw" "in$h"
	ip -n "$gw" link set "in$h" master br0
	ip -n "${tag}h$h" addr add "10.0.0.$((h + 1))/24" dev eth0
	ip -n "${tag}h$h" route add default via 10.0.0.1
done
veth "${tag}o" "$gw" out0 "$srv" eth0
ip -n "$gw" addr add 203.0.113.1/24 dev out0
ip -n "$srv" addr add 203.0.113.2/24 dev eth0
ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.br0.rp_filter=0 \
	net.ipv4.conf.br0.accept_local=1 net.ipv4.conf.all.send_redirects=0 || fail "sysctl"
ip netns exec "$gw" iptables -t raw -A PREROUTING -i br0 ! -d 10.0.0.1 -j NFQUEUE \
	--queue-num 5 || fail "iptables"
ip netns exec "$gw" iptables -t raw -A PREROUTING -i out0 -d 203.0.113.1 -j NFQUEUE \
	--queue-num 5 || fail "iptables"

cat >"$work/gw.conf" <<EOF
[spinatd]
role = gateway
[gateway]
inside = br0
outside = out0
queue = 5
pool = 203.0.113.1
strategy = spihash
spihash_scheme = md5
EOF

endpoint_conf() { # NAME ADDRESS INNER REMOTE
	{
		echo "[spinatd]"
		echo "role = endpoint"
		echo "name = $1"
		echo "[endpoint]"
		echo "tun = spt0"
		echo "tun_address = $3.1/32"
		echo "udp = no"
		if [ "$1" = srv ]; then
			echo "route = 192.168.0.0/16"
		else
			echo "route = 192.168.100.0/24"
		fi
		echo "[conn vpn]"
		echo "local = $2"
		echo "remote = $4"
		echo "psk = nat-gateway-psk-1"
		echo "encap = no"
		echo "local_ts = $3.0/24"
		if [ "$1" = srv ]; then
			echo "remote_ts = 192.168.0.0/16"
			echo "spi = derived"
			echo "spihash = md5"
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
	ip netns exec "$2" "$spinatd" -c "$work/$1.conf" -s "$work/$1.sock" -l debug \
		>"$work/$1.log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 100); do
		"$spinat" --socket "$work/$1.sock" show counters >/dev/null 2>&1 && return
		sleep 0.1
	done
	fail "$1 did not start"
}
start gw "$gw"
start srv "$srv"
start h1 "${tag}h1"
start h2 "${tag}h2"

for h in h1 h2; do
	i=0
	until "$spinat" --socket "$work/$h.sock" show sa 2>/dev/null | grep -q "CHILD esp.*INSTALLED"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "$h: no CHILD SA"
		sleep 0.1
	done
done
"$spinat" --socket "$work/h1.sock" show sa | grep -q "udp-encap" && fail "h1's SA is UDP-encapsulated"

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
i=0
while [ "$("$spinat" --socket "$work/h1.sock" show sa | grep "CHILD esp")" = "$old" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "h1's rekey did not happen"
	sleep 0.1
done
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
