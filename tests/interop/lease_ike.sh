#!/bin/sh
# 001 for real: N inside hosts run spinatd endpoints with the lease module; they lease
# their IKE SPI and incoming SPIs from spinatd's gateway (strategy lease) over PCP, then
# set up tunnels with IKEv2 to one outside spinatd endpoint that has no lease or NAT
# configuration, as raw ESP or AH (no UDP encapsulation). Every host's ping must pass at
# once; the server must count no ICV failure; the gateway must list the leases in 001
# FIG. 6's columns. Then the gateway is killed and started again (all leases gone): every
# tunnel must carry traffic again within the hosts' renewal interval (lease_lifetime / 2)
# without IKE starting over.
#
# masquerade: the same hosts without leases behind the kernel's MASQUERADE instead: IKE
# (UDP) gets through, but AH must fail for every host (no ping passes), the server counting
# ICV failures: the NAT rewrites the source address the ICV covers (001 Background).
#
#   lease_ike.sh SPINATD SPINAT [esp|ah] [HOSTS] [lease|masquerade]
set -u
spinatd=$1 spinat=$2 proto=${3:-esp} n=${4:-8} nat=${5:-lease}

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE, TUN devices, raw sockets"
need_tools ip iptables ping
need_tun
lib_start le
gw=${tag}g srv=${tag}s
hosts=$(seq 1 "$n")

fail_report() {
	for f in gw srv h1 h2; do
		[ -f "$work/$f.log" ] && { echo "--- $f log"; tail -n 30 "$work/$f.log"; }
	done
	"$spinat" --socket "$work/h1.sock" show lease 2>/dev/null
	"$spinat" --socket "$work/gw.sock" show nat ipsec 2>/dev/null
	"$spinat" --socket "$work/gw.sock" show counters 2>/dev/null | grep -v " 0$"
}

names=""
for h in $hosts; do names="$names ${tag}h$h"; done
# shellcheck disable=SC2086
nat_topology "$gw" "$srv" $names
if [ "$nat" = masquerade ]; then
	ip netns exec "$gw" iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE ||
		fail "iptables masquerade"
else
	nfqueue "$gw" 6
	ip netns exec "$gw" iptables -t raw -A PREROUTING -i br0 -d 10.0.0.1 -p udp \
		--dport 5351 -j NFQUEUE --queue-num 6 || fail "iptables pcp"
fi

gateway_conf gw 6 lease "lease_pcp_address = 10.0.0.1"

endpoint_conf() { # NAME ADDRESS INNER REMOTE
	_route=192.168.100.0/24
	[ "$1" = srv ] && _route=192.168.0.0/16
	{
		host_conf "$1" "$3.1/32" "$_route"
		echo "[conn vpn]"
		echo "local = $2"
		echo "remote = $4"
		echo "psk = lease-ike-psk-1"
		echo "encap = no"
		echo "proto = $proto"
		echo "local_ts = $3.0/24"
		if [ "$1" = srv ]; then
			echo "remote_ts = 192.168.0.0/16"
		else
			echo "auto = start"
			echo "remote_ts = 192.168.100.0/24"
			if [ "$nat" = lease ]; then
				# 001: leases over PCP from the gateway (answers to the NAT-T socket)
				echo "lease = yes"
				echo "lease_server = 10.0.0.1"
				echo "lease_lifetime = 20s"
			fi
		fi
	} >"$work/$1.conf"
}
endpoint_conf srv 203.0.113.2 192.168.100 %any
for h in $hosts; do
	endpoint_conf "h$h" "10.0.0.$((h + 1))" "192.168.$h" 203.0.113.2
done

[ "$nat" = lease ] && daemon gw "$gw"
daemon srv "$srv"
for h in $hosts; do daemon "h$h" "${tag}h$h"; done

child_up() { # HOST
	"$spinat" --socket "$work/$1.sock" show sa | grep -q "CHILD $proto.*INSTALLED"
}
for h in $hosts; do
	wait_for 200 child_up "h$h" || fail "h$h: no CHILD SA"
done

pings() { # WHAT
	ps=""
	for h in $hosts; do
		ip netns exec "${tag}h$h" ping -q -c 3 -i 0.2 -W 2 -I 192.168."$h".1 \
			192.168.100.1 >"$work/p$h" 2>&1 &
		ps="$ps $!"
	done
	i=1
	for p in $ps; do
		wait "$p" || fail "$1: h$i's ping: $(tail -n 2 "$work/p$i")"
		i=$((i + 1))
	done
	echo "ok: $1: $n hosts' pings through the NAT as raw $proto"
}
if [ "$nat" = masquerade ]; then
	[ "$proto" = ah ] || fail "masquerade mode is for AH"
	for h in $hosts; do
		ip netns exec "${tag}h$h" ping -q -c 2 -i 0.2 -W 1 -I 192.168."$h".1 \
			192.168.100.1 >"$work/p$h" 2>&1 &&
			fail "h$h's AH came through MASQUERADE"
	done
	"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
	icv=$(awk '$2 == "ipsec.drop_icv_mismatch" { print $3 }' "$work/srv.ctr")
	# (the kernel's generic conntrack maps one AH flow per server and global address, so
	# not every host's packets even leave translated; those that do fail the ICV)
	[ "${icv:-0}" -ge 1 ] || { cat "$work/srv.ctr"; fail "the server counted no ICV failure"; }
	echo "PASS: through MASQUERADE every host's AH failed ($icv ICV failures at the server)"
	exit 0
fi
pings "after IKE_AUTH"

"$spinat" --socket "$work/gw.sock" show nat ipsec >"$work/nat" || fail "show nat"
cat "$work/nat"
for h in $hosts; do
	grep -q "^isakmp *10.0.0.$((h + 1)) " "$work/nat" || fail "no IKE SPI lease of h$h"
	grep -q "^$proto *10.0.0.$((h + 1)) " "$work/nat" || fail "no $proto SPI lease of h$h"
done
"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
grep -E "ipsec\.(drop_icv|drop_no_sa|drop_replay|drop_policy)" "$work/srv.ctr" &&
	fail "the server dropped IPsec"

# The gateway restarts empty: leases come back at the hosts' next renewal (10 s).
kill_daemon gw
sleep 1
daemon gw "$gw"
t0=$(date +%s)
for h in $hosts; do
	s=$(reachable "${tag}h$h" 192.168."$h".1 192.168.100.1 15) ||
		fail "h$h's tunnel carries nothing 15 s after the gateway came back"
done
echo "ok: every tunnel carries traffic again $(($(date +%s) - t0)) s after the restart"
"$spinat" --socket "$work/h1.sock" show lease
"$spinat" --socket "$work/srv.sock" show counters >"$work/srv.ctr"
grep -E "ipsec\.drop_icv" "$work/srv.ctr" && fail "the server counted ICV failures"
echo "PASS"
