#!/bin/sh
# 004 FIG. 3 for real: two clients, each behind its own kernel MASQUERADE, reach each other
# only through the LNS, which relays their IPsec from one session into the other:
#
#   a 10.0.1.2 -- nata 203.0.113.1 --+
#                                     br0 -- 203.0.113.2 lns
#   b 10.0.2.2 -- natb 203.0.113.3 --+
#
# Each client runs spinatd lac (its assigned address on lac0) and spinatd endpoint with
# raw ESP (TCP to port 5001) and AH (port 6001) in transport mode to the other client's
# assigned address. Every byte must arrive, no ICV failure, the LNS must count the
# packets as relayed and send none to its net side.
#
#   l2tp_fig3.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2
. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip iptables nc cmp ss
need_tun
lib_start f3
A=${tag}a B=${tag}b NA=${tag}na NB=${tag}nb L=${tag}l

fail_report() {
	for f in "$work"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f"
		tail -n 15 "$f"
	done
	[ -S "$work/lns.sock" ] && "$spinat" --socket "$work/lns.sock" show l2tp | tail -30
}

ns_add "$A" "$B" "$NA" "$NB" "$L"
veth "${tag}1" "$A" eth0 "$NA" eth0
veth "${tag}2" "$B" eth0 "$NB" eth0
ip -n "$L" link add br0 type bridge
ip -n "$L" link set br0 up
ip -n "$L" addr add 203.0.113.2/24 dev br0
veth "${tag}3" "$NA" out0 "$L" pa
veth "${tag}4" "$NB" out0 "$L" pb
ip -n "$L" link set pa master br0
ip -n "$L" link set pb master br0
ip -n "$A" addr add 10.0.1.2/24 dev eth0
ip -n "$A" route add default via 10.0.1.1
ip -n "$B" addr add 10.0.2.2/24 dev eth0
ip -n "$B" route add default via 10.0.2.1
ip -n "$NA" addr add 10.0.1.1/24 dev eth0
ip -n "$NA" addr add 203.0.113.1/24 dev out0
ip -n "$NB" addr add 10.0.2.1/24 dev eth0
ip -n "$NB" addr add 203.0.113.3/24 dev out0
for n in "$NA" "$NB"; do
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip netns exec "$n" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE || fail "iptables"
done
head -c 200000 /dev/urandom >"$work/data"

cat >"$work/lns.conf" <<EOF
[spinatd]
role = lns
name = lns

[lns]
secret = fig3-tunnel
pool = 10.99.0.0/24
user = a:ppp-a
user = b:ppp-b
static = a:10.99.0.11
static = b:10.99.0.12
EOF

KEY_AB=0x000102030405060708090a0b0c0d0e0f10111213
KEY_BA=0x303132333435363738393a3b3c3d3e3f40414243
HKEY_AB=0x55000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e
HKEY_BA=0x55303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e

confs() { # SIDE ME PEER SPI_OUT SPI_IN KEY_OUT KEY_IN HKEY_OUT HKEY_IN
	cat >"$work/lac$1.conf" <<EOF
[spinatd]
role = lac
name = lac$1

[lac]
lns = 203.0.113.2
secret = fig3-tunnel
user = $1
password = ppp-$1
EOF
	cat >"$work/ep$1.conf" <<EOF
[spinatd]
role = endpoint
name = ep$1

[ipsec]
# static AES-GCM keys: the IV epoch counts starts (RFC 4106 3.1)
boot_counter_file = $(mktemp -u "$work/boots.XXXXXX")

[endpoint]
tun = spt0
mtu = 1300
mark = 0x77
route = $3/32

[policy ah]
src = $2
dst = $3
protocol = tcp
dport = 6000-6999
action = ah
mode = transport
reqid = 1
priority = 10

[policy ah-back]
src = $2
dst = $3
protocol = tcp
sport = 6000-6999
action = ah
mode = transport
reqid = 1
priority = 11

[policy esp]
src = $2
dst = $3
protocol = tcp
action = esp
mode = transport
reqid = 2
priority = 20

[sa esp-out]
dir = out
proto = esp
mode = transport
spi = $4
src = $2
dst = $3
enc = aes-gcm-16
enc_key = $6
reqid = 2

[sa esp-in]
dir = in
proto = esp
mode = transport
spi = $5
src = $3
dst = $2
enc = aes-gcm-16
enc_key = $7
reqid = 2

[sa ah-out]
dir = out
proto = ah
mode = transport
spi = $(($4 + 0x100))
src = $2
dst = $3
auth = hmac-sha256-128
auth_key = $8
reqid = 1

[sa ah-in]
dir = in
proto = ah
mode = transport
spi = $(($5 + 0x100))
src = $3
dst = $2
auth = hmac-sha256-128
auth_key = $9
reqid = 1
EOF
}

confs a 10.99.0.11 10.99.0.12 $((0x1001)) $((0x2002)) $KEY_AB $KEY_BA $HKEY_AB $HKEY_BA
confs b 10.99.0.12 10.99.0.11 $((0x2002)) $((0x1001)) $KEY_BA $KEY_AB $HKEY_BA $HKEY_AB
daemon lns "$L"
for s in a b; do
	eval "ns=\$$(echo "$s" | tr a-b A-B)"
	peer=10.99.0.12
	[ "$s" = b ] && peer=10.99.0.11
	ip -n "$ns" rule add fwmark 0x77 lookup 177 priority 100
	daemon "lac$s" "$ns"
	ip -n "$ns" route add "$peer/32" dev lac0 table 177
	daemon "ep$s" "$ns"
done

both_up() {
	for s in a b; do
		"$spinat" --socket "$work/lac$s.sock" show l2tp 2>/dev/null |
			grep -q "client state up" || return 1
	done
}
wait_for 300 both_up || fail "the clients did not come up through the LNS"
for s in a b; do
	"$spinat" --socket "$work/lac$s.sock" show l2tp | grep -q "decision tunnel: NAT seen" ||
		fail "$s did not see its NAT"
done

for port in 5001 6001; do
	rm -f "$work/got"
	spawn "$B" sh -c "timeout 30 nc -l 10.99.0.12 $port >$work/got"
	lpid=$spawned
	wait_for 50 listening "$B" $port || fail "listener $port"
	ip netns exec "$A" sh -c "timeout 30 nc -N -s 10.99.0.11 10.99.0.12 $port <$work/data" ||
		fail "TCP sender to $port"
	wait $lpid || fail "TCP receiver on $port"
	forget $lpid
	cmp -s "$work/data" "$work/got" || fail "port $port: $(wc -c <"$work/got") bytes arrived"
done
[ "$(counter epb ipsec.rx_esp)" -gt 0 ] || fail "b received no ESP"
[ "$(counter epb ipsec.rx_ah)" -gt 0 ] || fail "b received no AH"
icv=$(($(counter epa ipsec.drop_icv_mismatch) + $(counter epb ipsec.drop_icv_mismatch)))
[ "$icv" -eq 0 ] || fail "$icv ICV failures"
[ "$(counter lns lns.relayed)" -gt 0 ] || fail "the LNS relayed nothing"
[ "$(counter lns lns.to_net)" -eq 0 ] || fail "client-to-client traffic left the LNS's net side"
echo "FIG. 3: TCP through ESP and through AH, a -> b, 2 x $(wc -c <"$work/data") bytes intact; LNS relayed $(counter lns lns.relayed) packets between the sessions, 0 to its net side, 0 ICV failures"
echo "PASS"
