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
	log_tails 15
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

l2tp_lns_conf fig3-tunnel "user = a:ppp-a" "user = b:ppp-b" "static = a:10.99.0.11" \
	"static = b:10.99.0.12"

KEY_AB=0x000102030405060708090a0b0c0d0e0f10111213
KEY_BA=0x303132333435363738393a3b3c3d3e3f40414243
HKEY_AB=0x55000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e
HKEY_BA=0x55303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e

confs() { # SIDE ME PEER SPI_OUT SPI_IN KEY_OUT KEY_IN HKEY_OUT HKEY_IN
	l2tp_lac_conf "lac$1" fig3-tunnel "$1" "ppp-$1"
	{
		static_endpoint_conf "ep$1" "$3/32"
		tcp_policy ah ah "$2" "$3" 1 10 "dport = 6000-6999"
		tcp_policy ah-back ah "$2" "$3" 1 11 "sport = 6000-6999"
		tcp_policy esp esp "$2" "$3" 2 20
		transport_sa esp-out out esp "$4" "$2" "$3" "$6" 2
		transport_sa esp-in in esp "$5" "$3" "$2" "$7" 2
		transport_sa ah-out out ah $(($4 + 0x100)) "$2" "$3" "$8" 1
		transport_sa ah-in in ah $(($5 + 0x100)) "$3" "$2" "$9" 1
	} >"$work/ep$1.conf"
}

confs a 10.99.0.11 10.99.0.12 $((0x1001)) $((0x2002)) $KEY_AB $KEY_BA $HKEY_AB $HKEY_BA
confs b 10.99.0.12 10.99.0.11 $((0x2002)) $((0x1001)) $KEY_BA $KEY_AB $HKEY_BA $HKEY_AB
daemon lns "$L"
for s in a b; do
	eval "ns=\$$(echo "$s" | tr a-b A-B)"
	peer=10.99.0.12
	[ "$s" = b ] && peer=10.99.0.11
	l2tp_client "$ns" "$s" "$peer"
done

both_up() {
	l2tp_up laca && l2tp_up lacb
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
