#!/bin/sh
# 004 FIG. 1 for real: N clients (default 8) behind one kernel MASQUERADE (no spinat NAT),
# each running spinatd's lac role (NAT discovery, L2TP/PPP to the LNS, the assigned address
# on lac0) and spinatd's endpoint role with AH transport mode and raw ESP transport mode to
# an IPsec gateway (spinatd endpoint) on the LNS's LAN:
#
#   h1..hN 10.0.0.2.. -- br0 nat 203.0.113.1 (MASQUERADE) -- 203.0.113.2 lns 192.0.2.1 -- 192.0.2.10 gw
#
# Every client sends TCP through AH (ports 6000+i) and through ESP (5000+i) at once; every
# byte must arrive, with no ICV failure anywhere. The endpoints' ESP and AH leave marked
# (SO_MARK 0x77) and policy routing puts them into lac0; the gateway routes the pool back
# via the LNS (004 [0023]). Then the LNS is killed and restarted and the transfers run
# again once the clients are back (the time is printed).
#
# With `module` as the fourth argument each client is one spinatd endpoint whose stack
# carries 004's client as a host module ([l2tp] section, host/host_l2tp.h) instead of an
# endpoint role and a lac role side by side.
#
#   l2tp_fig1.sh SPINATD SPINAT [N [lac|module]]
set -u
spinatd=$1 spinat=$2 n=${3:-8} how=${4:-lac}
. "$(dirname "$0")/lib.sh"
need_root "network namespaces, TUN devices, raw sockets"
need_tools ip iptables nc cmp ss
need_tun
lib_start f1
N=${tag}n L=${tag}l G=${tag}g
hosts=""
i=1
while [ $i -le "$n" ]; do
	hosts="$hosts ${tag}h$i"
	i=$((i + 1))
done

fail_report() {
	log_tails 15
	[ -S "$work/lns.sock" ] && "$spinat" --socket "$work/lns.sock" show l2tp | tail -40
	for d in gw ep1; do
		[ -S "$work/$d.sock" ] && "$spinat" --socket "$work/$d.sock" show counters | sed "s/^/$d: /"
	done
}

# shellcheck disable=SC2086 # the host list is words
nat_topology "$N" "$L" $hosts
ip netns exec "$N" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE || fail "iptables"
ns_add "$G"
veth "${tag}d" "$L" lan0 "$G" eth0
ip -n "$L" addr add 192.0.2.1/24 dev lan0
ip -n "$G" addr add 192.0.2.10/24 dev eth0
ip netns exec "$L" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
# The gateway's own ESP/AH to the pool goes via the LNS; its cleartext into its TUN.
ip -n "$G" rule add fwmark 0x77 lookup 177 priority 100
ip -n "$G" route add 10.99.0.0/24 via 192.0.2.1 table 177
head -c 200000 /dev/urandom >"$work/data"

key() { # CLIENT KIND: a distinct 20-byte GCM key+salt or 32-byte HMAC key per client
	printf '0x%02x%s' "$1" "$(printf '%s' "$2$1" | sha256sum | cut -c1-$(($3 * 2 - 2)))"
}

l2tp_lns_conf fig1-tunnel "gateway = 192.0.2.10" "echo_interval = 3s"
i=1
while [ $i -le "$n" ]; do
	echo "user = c$i:ppp-$i"
	echo "static = c$i:10.99.0.$((10 + i))"
	i=$((i + 1))
done >>"$work/lns.conf"

# pair_sas I ME SIDE: the SAs between client I (address ME) and the gateway as SIDE sees
# them: "client", or "gw" (each in the other direction; names and reqids unique per client).
pair_sas() {
	_out=out _in=in _sfx=""
	[ "$3" = gw ] && _out=in _in=out _sfx=$1
	transport_sa "esp-up$_sfx" $_out esp $((0x1000 + $1)) "$2" 192.0.2.10 "$(key "$1" eo 20)" "2$_sfx"
	transport_sa "esp-down$_sfx" $_in esp $((0x2000 + $1)) 192.0.2.10 "$2" "$(key "$1" ei 20)" "2$_sfx"
	transport_sa "ah-up$_sfx" $_out ah $((0x3000 + $1)) "$2" 192.0.2.10 "$(key "$1" ao 32)" "1$_sfx"
	transport_sa "ah-down$_sfx" $_in ah $((0x4000 + $1)) 192.0.2.10 "$2" "$(key "$1" ai 32)" "1$_sfx"
}

client_confs() { # I
	me=10.99.0.$((10 + $1))
	l2tp_lac_conf "lac$1" fig1-tunnel "c$1" "ppp-$1" "hello = 5s" "echo_interval = 3s" \
		"retry = 2s"
	{
		static_endpoint_conf "ep$1" 192.0.2.10/32
		if [ "$how" = module ]; then
			echo "tun_address = $me/32"
			sed -n '/^\[lac\]/,$p' "$work/lac$1.conf" | sed "s/^\[lac\]/[l2tp]/"
			echo "local = 10.0.0.$(($1 + 1))"
			echo "address = $me"
		fi
		tcp_policy ah ah "$me" 192.0.2.10 1 10 "dport = 6000-6999"
		tcp_policy esp esp "$me" 192.0.2.10 2 20
		pair_sas "$1" "$me" client
	} >"$work/ep$1.conf"
}

{
	static_endpoint_conf gw 10.99.0.0/24
	i=1
	while [ $i -le "$n" ]; do
		me=10.99.0.$((10 + i))
		tcp_policy "ah$i" ah 192.0.2.10 "$me" "1$i" 10 "sport = 6000-6999"
		tcp_policy "esp$i" esp 192.0.2.10 "$me" "2$i" 20
		pair_sas "$i" "$me" gw
		i=$((i + 1))
	done
} >"$work/gw.conf"

daemon lns "$L"
daemon gw "$G"
t0=$(date +%s.%N)
i=1
for h in $hosts; do
	client_confs $i
	if [ "$how" = module ]; then
		daemon "ep$i" "$h"
	else
		l2tp_client "$h" $i 192.0.2.10
	fi
	i=$((i + 1))
done

all_up() {
	_i=1
	while [ $_i -le "$n" ]; do
		_c=lac$_i
		[ "$how" = module ] && _c=ep$_i
		l2tp_up "$_c" "10.99.0.$((10 + _i))" || return 1
		_i=$((_i + 1))
	done
}

wait_for 600 all_up || fail "not every client came up through the LNS within 60 s"
echo "$n clients up through the LNS in $(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }') s"

# nc -l in the gateway writing to a file, one per port.
listen() { # PORT FILE
	spawn "$G" sh -c "timeout 60 nc -l 192.0.2.10 $1 >$2"
	lpids="$lpids $spawned"
}

round() { # LABEL
	lpids="" spids=""
	i=1
	for h in $hosts; do
		listen $((5000 + i)) "$work/got-esp-$i"
		listen $((6000 + i)) "$work/got-ah-$i"
		i=$((i + 1))
	done
	i=1
	for h in $hosts; do
		wait_for 50 listening "$G" $((5000 + i)) || fail "listener $((5000 + i))"
		wait_for 50 listening "$G" $((6000 + i)) || fail "listener $((6000 + i))"
		i=$((i + 1))
	done
	t1=$(date +%s.%N)
	i=1
	for h in $hosts; do
		for port in $((5000 + i)) $((6000 + i)); do
			# (inside sh -c: an asynchronous command's stdin would be /dev/null)
			spawn "$h" sh -c "timeout 60 nc -N -s 10.99.0.$((10 + i)) 192.0.2.10 $port <$work/data"
			spids="$spids $spawned"
		done
		i=$((i + 1))
	done
	for p in $spids $lpids; do
		wait "$p" || fail "$1: a TCP transfer failed (pid $p)"
		forget "$p"
	done
	i=1
	for h in $hosts; do
		for k in esp ah; do
			cmp -s "$work/data" "$work/got-$k-$i" ||
				fail "$1: client $i $k: $(wc -c <"$work/got-$k-$i") of $(wc -c <"$work/data") bytes"
		done
		i=$((i + 1))
	done
	echo "$1: $((2 * n)) TCP transfers of $(wc -c <"$work/data") bytes (AH and ESP per client) in $(echo "$(date +%s.%N) $t1" | awk '{ printf "%.1f", $1 - $2 }') s, all intact"
}

check_counters() { # LABEL
	icv=0
	for d in gw $(i=1; while [ $i -le "$n" ]; do echo "ep$i"; i=$((i + 1)); done); do
		icv=$((icv + $(counter "$d" ipsec.drop_icv_mismatch)))
	done
	[ "$icv" -eq 0 ] || fail "$1: $icv ICV failures"
	[ "$(counter gw ipsec.rx_ah)" -gt 0 ] || fail "$1: the gateway received no AH"
	[ "$(counter gw ipsec.rx_esp)" -gt 0 ] || fail "$1: the gateway received no ESP"
	echo "$1: 0 ICV failures; gateway rx_ah $(counter gw ipsec.rx_ah), rx_esp $(counter gw ipsec.rx_esp); LNS to_net $(counter lns lns.to_net), drops by the firewall $(($(counter lns lns.drop_fw_protocol) + $(counter lns lns.drop_fw_gateway_not_permitted)))"
}

if [ -n "${L2TP_CAPTURE:-}" ]; then
	spawn "$G" tshark -q -n -i eth0 -w "$work/gw.pcap"
	spawn "${tag}h1" tshark -q -n -i lac0 -w "$work/lac0.pcap"
	sleep 2
fi
round "FIG. 1"
check_counters "FIG. 1"

# The LNS crashes; 5 s later it is back with no memory. The clients find out (LCP echo,
# HELLO), discover again, reconnect, get their addresses back, and IPsec carries on.
kill_daemon lns
t0=$(date +%s.%N)
sleep 5
daemon lns "$L"
all_back() {
	all_up || return 1
	_i=1
	while [ $_i -le "$n" ]; do
		_c=lac$_i
		[ "$how" = module ] && _c=ep$_i
		[ "$(counter "$_c" lac.reconnect)" -ge 1 ] || return 1
		_i=$((_i + 1))
	done
}
# Every client must have reconnected, not merely still believe it is up.
wait_for 900 all_back || fail "clients not back within 90 s of the LNS crash"
echo "LNS killed and restarted after 5 s: all $n clients up again $(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }') s after the kill"
round "after the restart"
check_counters "after the restart"
echo "PASS"
