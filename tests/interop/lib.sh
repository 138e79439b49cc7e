# shellcheck shell=sh
# What the namespace tests share, sourced by each after it has read its arguments:
#
#   . "$(dirname "$0")/lib.sh"
#   need_root "network namespaces, TUN devices"; need_tools ip ping; need_tun
#   lib_start TAG      a work folder $work and names "$tag..." unique to this run
#
# Everything made through these functions is undone on every exit, failed or not: the
# processes started by spawn and daemon are stopped, the namespaces made by ns_add (and the
# veths and bridges in them) deleted, $work removed (kept when KEEP is set). A test may
# redefine fail_report (printed by fail before it exits) and on_cleanup (run at exit
# before the namespaces go). $spinatd and $spinat must be set for daemon and stop_daemon.
# The functions' own variables start with an underscore: shell functions share the
# caller's.

need_root() { # WHY
	[ "$(id -u)" -eq 0 ] && return
	echo "SKIP: needs root ($1)"
	exit 77
}

need_tools() { # TOOL...
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 && continue
		echo "SKIP: $_t is missing (tools/deps.sh check installs it)"
		exit 77
	done
}

need_tun() {
	[ -c /dev/net/tun ] && return
	echo "SKIP: /dev/net/tun is missing"
	exit 77
}

fail_report() { :; }
on_cleanup() { :; }

fail() { # MESSAGE
	echo "FAIL: $*"
	fail_report
	exit 1
}

lib_start() { # TAG
	tag=$1$$
	work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-$tag.XXXXXX") || exit 1
	pids="" lib_netns=""
	trap lib_cleanup EXIT
	trap 'exit 1' INT TERM
}

# Stop every process spawn started (SIGTERM) and reap it.
stop_all() {
	for _p in $pids; do
		kill "$_p" 2>/dev/null
	done
	for _p in $pids; do
		wait "$_p" 2>/dev/null
	done
	pids=""
}

lib_cleanup() {
	stop_all
	on_cleanup
	for _ns in $lib_netns; do
		ip netns del "$_ns" 2>/dev/null
	done
	if [ -n "${KEEP:-}" ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}

# ns_add NS...: fresh namespaces (an old one of the name is deleted first), loopback up,
# reverse-path filtering off (the tests route asymmetrically on purpose).
ns_add() {
	for _ns in "$@"; do
		ip netns del "$_ns" 2>/dev/null
		ip netns add "$_ns" || fail "ip netns add $_ns"
		case " $lib_netns " in
		*" $_ns "*) ;;
		*) lib_netns="$lib_netns $_ns" ;;
		esac
		ip -n "$_ns" link set lo up
		ip netns exec "$_ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 >/dev/null || fail "sysctl in $_ns"
	done
}

# veth NAME NS1 IF1 NS2 IF2: a pair made here under unique names, moved into the two
# namespaces, renamed there and set up.
veth() {
	ip link add "$1a" type veth peer name "$1b" || fail "ip link add $1"
	ip link set "$1a" netns "$2" || fail "move $1a"
	ip link set "$1b" netns "$4" || fail "move $1b"
	ip -n "$2" link set "$1a" name "$3"
	ip -n "$4" link set "$1b" name "$5"
	ip -n "$2" link set "$3" up
	ip -n "$4" link set "$5" up
}

# pair NS_A ADDR_A NS_B ADDR_B: two namespaces joined by eth0, each with its /24 address.
pair() {
	ns_add "$1" "$3"
	veth "${tag}x" "$1" eth0 "$3" eth0
	ip -n "$1" addr add "$2/24" dev eth0 || fail "address $2"
	ip -n "$3" addr add "$4/24" dev eth0 || fail "address $4"
}

# nat_topology GW SRV HOST...: the NAT tests' network. The hosts (10.0.0.2, .3, ... in the
# order given, default route via 10.0.0.1) hang on bridge br0 of GW (10.0.0.1, ports in1,
# in2, ...); GW's out0 (203.0.113.1) faces SRV's eth0 (203.0.113.2), which has no route
# back to 10.0.0.0/24, so only translated packets can be answered. GW forwards, accepts
# packets from the inside whose source is its own global address (hairpinned after
# translation) and sends no redirects.
nat_topology() {
	_gw=$1 _srv=$2
	shift 2
	ns_add "$_gw" "$_srv" "$@"
	ip -n "$_gw" link add br0 type bridge || fail "bridge"
	ip -n "$_gw" addr add 10.0.0.1/24 dev br0
	ip -n "$_gw" link set br0 up
	_i=1
	for _h in "$@"; do
		veth "$tag$_i" "$_h" eth0 "$_gw" "in$_i"
		ip -n "$_gw" link set "in$_i" master br0
		ip -n "$_h" addr add "10.0.0.$((_i + 1))/24" dev eth0
		ip -n "$_h" route add default via 10.0.0.1
		_i=$((_i + 1))
	done
	veth "${tag}o" "$_gw" out0 "$_srv" eth0
	ip -n "$_gw" addr add 203.0.113.1/24 dev out0
	ip -n "$_srv" addr add 203.0.113.2/24 dev eth0
	ip netns exec "$_gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.br0.rp_filter=0 \
		net.ipv4.conf.br0.accept_local=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.br0.send_redirects=0 >/dev/null || fail "sysctl in $_gw"
}

# nfqueue GW QUEUE: everything crossing the NAT of nat_topology goes to spinatd on queue
# QUEUE; while no daemon listens the kernel drops it, as a dead NAT would.
nfqueue() {
	ip netns exec "$1" iptables -t raw -A PREROUTING -i br0 ! -d 10.0.0.1 -j NFQUEUE \
		--queue-num "$2" || fail "iptables"
	ip netns exec "$1" iptables -t raw -A PREROUTING -i out0 -d 203.0.113.1 -j NFQUEUE \
		--queue-num "$2" || fail "iptables"
}

# conf_lines LINE...: prints each LINE of a configuration (key = value) but the empty ones.
conf_lines() {
	for _l in "$@"; do
		if [ -n "$_l" ]; then echo "$_l"; fi
	done
}

# gateway_conf NAME QUEUE [STRATEGY [LINE...]]: $work/NAME.conf for spinatd's gateway role
# NAME in nat_topology's network: inside br0, outside out0, NFQUEUE QUEUE, pool
# 203.0.113.1 and STRATEGY (empty or absent: the role's default); each LINE (a key = value
# line; empty ones are ignored) goes into [gateway], the last section, so a test may
# append more to the file.
gateway_conf() {
	_gname=$1
	{
		printf '[spinatd]\nrole = gateway\nname = %s\n[gateway]\n' "$1"
		printf 'inside = br0\noutside = out0\nqueue = %s\npool = 203.0.113.1\n' "$2"
		if [ -n "${3:-}" ]; then echo "strategy = $3"; fi
		shift 2
		[ $# -eq 0 ] || shift
		conf_lines "$@"
	} >"$work/$_gname.conf"
}

# spawn NS CMD...: CMD in the background in NS, stopped at exit; its pid in $spawned.
spawn() {
	_ns=$1
	shift
	ip netns exec "$_ns" "$@" &
	spawned=$!
	pids="$pids $spawned"
}

# forget PID: a process spawn started that the test has reaped itself.
forget() {
	pids=$(echo "$pids" | sed "s/ $1\b//")
}

# wait_for TRIES CMD...: CMD (quietly) every 0.1 s until it succeeds, at most TRIES times.
wait_for() {
	_n=$1
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		_n=$((_n - 1))
		sleep 0.1
	done
	return 1
}

# endpoint_key CONF KEY VALUE: an endpoint configuration without its own KEY gets KEY =
# VALUE in its [endpoint] section.
endpoint_key() {
	grep -q "^role *= *endpoint" "$1" || return 0
	grep -q "^$2 *=" "$1" && return 0
	if grep -q '^\[endpoint\]' "$1"; then
		sed -i "/^\[endpoint\]/a $2 = $3" "$1"
	else
		printf '[endpoint]\n%s = %s\n' "$2" "$3" >>"$1"
	fi
}

# endpoint_offload CONF: with SPINAT_TUN_OFFLOAD=yes|no in the environment, an endpoint
# configuration without its own tun_offload key gets that one (the endpoint tests run
# again with the TUN offloads off), with SPINAT_CRYPTO_LANES=N crypto_lanes = N, with
# SPINAT_XDP_RX=DEVICE xdp_rx = DEVICE, and with SPINAT_LINK_OUT=yes link_out = yes; daemon
# does it for every configuration it starts.
endpoint_offload() {
	[ -n "${SPINAT_TUN_OFFLOAD:-}" ] && endpoint_key "$1" tun_offload "$SPINAT_TUN_OFFLOAD"
	[ -n "${SPINAT_CRYPTO_LANES:-}" ] && endpoint_key "$1" crypto_lanes "$SPINAT_CRYPTO_LANES"
	[ -n "${SPINAT_XDP_RX:-}" ] && endpoint_key "$1" xdp_rx "$SPINAT_XDP_RX"
	[ -n "${SPINAT_LINK_OUT:-}" ] && endpoint_key "$1" link_out "$SPINAT_LINK_OUT"
	return 0
}

# daemon NAME NS [OPTION...]: spinatd with $work/NAME.conf and control socket
# $work/NAME.sock in NS, under $SPINAT_VALGRIND when valgrind.sh set it; output appended
# to $work/NAME.log, pid in $pid_NAME. Returns once its role answers (`show nat` for a
# gateway, `show l2tp` for lns and lac, `show sa` for an endpoint: registered at the end
# of the role's start); fails when it exits first or takes over 30 s.
daemon() {
	_name=$1 _ns=$2
	shift 2
	endpoint_offload "$work/$_name.conf"
	# shellcheck disable=SC2086 # the wrapper is words: valgrind and its options
	spawn "$_ns" ${SPINAT_VALGRIND:-} "$spinatd" -c "$work/$_name.conf" \
		-s "$work/$_name.sock" "$@" >>"$work/$_name.log" 2>&1
	eval "pid_$_name=$spawned"
	_show=sa
	grep -q "^role *= *gateway" "$work/$_name.conf" && _show=nat
	grep -Eq "^role *= *(lns|lac)" "$work/$_name.conf" && _show=l2tp
	_n=300
	until "$spinat" --socket "$work/$_name.sock" show $_show >/dev/null 2>&1; do
		kill -0 "$spawned" 2>/dev/null || fail "spinatd $_name exited at its start"
		_n=$((_n - 1))
		[ $_n -gt 0 ] || fail "spinatd $_name did not start within 30 s"
		sleep 0.1
	done
}

# stop_daemon NAME [WHAT]: SIGTERM; it must exit with status 0 (valgrind makes errors 99).
stop_daemon() {
	eval "_p=\$pid_$1"
	kill -TERM "$_p" 2>/dev/null
	wait "$_p"
	_rc=$?
	forget "$_p"
	[ $_rc -eq 0 ] || fail "${2:+$2: }spinatd $1 exited with status $_rc after SIGTERM"
}

# kill_daemon NAME: SIGKILL, as a crash: all its state is gone.
kill_daemon() {
	eval "_p=\$pid_$1"
	kill -KILL "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	forget "$_p"
}

# reachable NS SRC DST LIMIT [T0]: seconds from T0 (default now, as from `date +%s.%N`)
# until a ping from SRC in NS to DST is answered; fails after LIMIT seconds.
reachable() {
	_t0=${5:-$(date +%s.%N)}
	_end=$(($(date +%s) + $4))
	while [ "$(date +%s)" -lt "$_end" ]; do
		if ip netns exec "$1" ping -c 1 -W 1 -I "$2" "$3" >/dev/null 2>&1; then
			echo "$(date +%s.%N) $_t0" | awk '{ printf "%.1f", $1 - $2 }'
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# listening NS PORT: something in NS listens on TCP PORT.
listening() {
	ip netns exec "$1" ss -ltn 2>/dev/null | grep -q ":$2 "
}

# counter DAEMON NAME: NAME's value in the daemon's `spinat show counters all` (module.name,
# summed over the instances that have it), "missing" when no row has it, so a numeric test
# on it fails loudly.
counter() {
	"$spinat" --socket "$work/$1.sock" show counters all | awk -v n="$2" \
		'$2 == n { s += $3; found = 1 } END { if (found) print s; else print "missing" }'
}

# need_charon: skip unless strongSwan's charon (Debian's 5.9.8) is there with the
# kernel-libipsec (this kernel has no ESP of its own) and openssl plugins.
charon=/usr/lib/ipsec/charon
need_charon() {
	need_tools swanctl unshare
	if [ ! -x "$charon" ] || [ ! -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] ||
		[ ! -f /usr/lib/ipsec/plugins/libstrongswan-openssl.so ]; then
		echo "SKIP: charon with kernel-libipsec and openssl plugins is missing (tools/deps.sh" \
			"check installs strongswan-charon, libcharon-extra-plugins," \
			"libstrongswan-standard-plugins)"
		exit 77
	fi
}

# charon_start NS [LINES]: charon in NS with a private /run (its pid file), its own vici
# socket $vici, log $work/charon.log and strongswan.conf (LINES added to its charon
# section, e.g. "uniqueids = never"); swanctl finds the credential folders next to
# $work/swanctl.conf (private/, x509ca/, ...) and, through STRONGSWAN_CONF, the same file.
# Returns once vici answers; stopped at exit like everything spawn starts.
charon_start() {
	chmod 755 "$work"
	for _d in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
		mkdir -p "$work/$_d"
	done
	export STRONGSWAN_CONF="$work/strongswan.conf"
	cat >"$work/strongswan.conf" <<EOC
swanctl {
	load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}
charon {
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints aes sha2 hmac gcm kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	retransmit_timeout = 2
	retransmit_tries = 3
	${2:-}
	plugins {
		vici {
			socket = unix://$work/charon.vici
		}
	}
	filelog {
		charon {
			path = $work/charon.log
			flush_line = yes
			default = 1
			ike = 2
			cfg = 2
			time_format = %H:%M:%S
		}
	}
}
EOC
	spawn "$1" unshare -m sh -c "mount -t tmpfs none /run && exec $charon" \
		>"$work/charon.out" 2>&1
	vici="unix://$work/charon.vici"
	wait_for 50 swanctl --stats --uri "$vici" ||
		fail "charon did not start ($(cat "$work/charon.out"))"
}

# The charon tests (ike_strongswan.sh, ike_strongswan_pki.sh, ike_frag_strongswan.sh) run
# spinatd's endpoint role "a" in $nsa at $A, with the network $NA.0/24 behind its TUN
# spt0, against charon in $nsb at $B, with $NB.0/24 on its loopback; both name their
# connection sw, charon its CHILD SA net. charon_pair makes that network.
charon_pair() {
	nsa=${tag}a nsb=${tag}b
	A=10.79.0.1 B=10.79.0.2 NA=192.168.91 NB=192.168.92
	pair "$nsa" "$A" "$nsb" "$B"
	# (this kernel has no dummy interfaces)
	ip -n "$nsb" addr add "$NB.1/24" dev lo || fail "address for charon's network"
}

# spinatd_conn AUTO IKE ESP [LINE...]: prints spinatd's [conn sw] from $A to $B with
# auto = AUTO, the proposals IKE and ESP, the traffic selectors $NA.0/24 === $NB.0/24 and
# each LINE (empty ones are ignored).
spinatd_conn() {
	printf '[conn sw]\nlocal = %s\nremote = %s\nauto = %s\n' "$A" "$B" "$1"
	printf 'ike = %s\nesp = %s\nlocal_ts = %s.0/24\nremote_ts = %s.0/24\n' "$2" "$3" "$NA" "$NB"
	shift 3
	conf_lines "$@"
}

# spinatd_start: spinatd with $work/a.conf (control socket $work/ctl.sock, debug log
# $work/spinatd.log, emptied) in $nsa; its pid in $spinatd_pid. Returns once it answers.
spinatd_start() {
	endpoint_offload "$work/a.conf"
	spawn "$nsa" "$spinatd" -c "$work/a.conf" -s "$work/ctl.sock" -l debug \
		>"$work/spinatd.log" 2>&1
	spinatd_pid=$spawned
	wait_for 50 "$spinat" -s "$work/ctl.sock" show sa || fail "spinatd did not start"
}

# stop_spinatd: SIGTERM to spinatd_start's spinatd; sanitizer reports in its log fail.
stop_spinatd() {
	kill "$spinatd_pid" 2>/dev/null
	wait "$spinatd_pid" 2>/dev/null
	forget "$spinatd_pid"
	grep -q "AddressSanitizer\|runtime error" "$work/spinatd.log" && fail "errors in spinatd's log"
}

# charon_conn GROUP AUTH ID_B CERT ID_A CA [LINE...]: $work/swanctl.conf with charon's
# connection sw from $B to $A (IKE: AES-256-GCM-16, PRF SHA-256, GROUP; ESP AES-256-GCM-16;
# no rekeying, each LINE added: empty ones are ignored), its CHILD SA net in tunnel mode
# for $NB.0/24 === $NA.0/24; loaded into charon. AUTH psk: charon is ID_B, spinat ID_A,
# with the key interop-psk-0123456789 (CERT and CA unused); AUTH pubkey: charon is ID_B
# with $work/CERT.pem, spinat ID_A under $work/CA.pem. charon_since starts after it.
charon_conn() {
	_grp=$1 _auth=$2 _idb=$3 _crt=$4 _ida=$5 _ca=$6
	shift 6
	{
		printf 'connections {\n sw {\n  local_addrs = %s\n  remote_addrs = %s\n' "$B" "$A"
		printf '  version = 2\n  proposals = aes256gcm16-prfsha256-%s\n' "$_grp"
		conf_lines "$@" | sed 's/^/  /'
		printf '  rekey_time = 0\n'
		if [ "$_auth" = psk ]; then
			printf '  local {\n   auth = psk\n   id = "%s"\n  }\n' "$_idb"
			printf '  remote {\n   auth = psk\n   id = "%s"\n  }\n' "$_ida"
		else
			printf '  local {\n   auth = pubkey\n   id = "%s"\n   certs = %s\n  }\n' \
				"$_idb" "$work/$_crt.pem"
			printf '  remote {\n   auth = pubkey\n   id = "%s"\n   cacerts = %s\n  }\n' \
				"$_ida" "$work/$_ca.pem"
		fi
		printf '  children {\n   net {\n    local_ts = %s.0/24\n    remote_ts = %s.0/24\n' \
			"$NB" "$NA"
		printf '    esp_proposals = aes256gcm16\n    rekey_time = 0\n    mode = tunnel\n'
		printf '   }\n  }\n }\n}\n'
		if [ "$_auth" = psk ]; then
			printf 'secrets {\n ike-sw {\n  id-a = "%s"\n  id-b = "%s"\n' "$_ida" "$_idb"
			printf '  secret = interop-psk-0123456789\n }\n}\n'
		fi
	} >"$work/swanctl.conf"
	swanctl --load-all --clear --file "$work/swanctl.conf" --uri "$vici" \
		>"$work/swanctl.out" 2>&1 || fail "swanctl --load-all: $(cat "$work/swanctl.out")"
	charon_lines=$(wc -l <"$work/charon.log")
}

# charon_since: what charon logged since the last charon_conn.
charon_since() {
	tail -n +"$((charon_lines + 1))" "$work/charon.log"
}

# both_up: spinatd and charon both have their CHILD SA installed.
both_up() {
	"$spinat" -s "$work/ctl.sock" show sa | grep -q "CHILD esp.*INSTALLED" &&
		swanctl --list-sas --uri "$vici" | grep -q "INSTALLED"
}

# charon_idle: charon holds no IKE SA, neither up nor being set up.
charon_idle() {
	! swanctl --list-sas --uri "$vici" | grep -q "ESTABLISHED\|CONNECTING"
}

# ping_both WHAT [COUNT]: COUNT (2) pings through the tunnel each way, $NA.1 -> $NB.1 from
# $nsa and back from $nsb; a lost one fails the test as WHAT.
ping_both() {
	ip netns exec "$nsa" ping -q -c "${2:-2}" -i 0.2 -W 2 -I "$NA.1" "$NB.1" >"$work/ping" 2>&1 ||
		fail "$1: ping $NA.1 -> $NB.1: $(tail -n 2 "$work/ping")"
	ip netns exec "$nsb" ping -q -c "${2:-2}" -i 0.2 -W 2 -I "$NB.1" "$NA.1" >"$work/ping" 2>&1 ||
		fail "$1: ping $NB.1 -> $NA.1: $(tail -n 2 "$work/ping")"
}

# ossl ARG...: the openssl command line, quiet; fails the test when it fails.
ossl() {
	openssl "$@" >/dev/null 2>&1 || fail "openssl $1"
}

# ca_root: the tests' root CA made with the openssl command line: a P-256 key
# $work/root.key and its self-signed certificate $work/root.pem.
ca_root() {
	ossl ecparam -name prime256v1 -genkey -noout -out "$work/root.key"
	ossl req -x509 -new -key "$work/root.key" -subj "/CN=spinat test root" -days 2 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" -out "$work/root.pem"
}

# ec_key NAME: a P-256 key pair, $work/NAME.key and its public key $work/NAME.pub.
ec_key() {
	ossl ecparam -name prime256v1 -genkey -noout -out "$work/$1.key"
	ossl ec -in "$work/$1.key" -pubout -out "$work/$1.pub"
}

# ca_issue NAME SUBJECT EXTFILE: a key pair (ec_key NAME) and its certificate
# $work/NAME.pem from ca_root's root, with the extensions in EXTFILE.
ca_issue() {
	ec_key "$1"
	ossl req -new -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"
	ossl x509 -req -in "$work/$1.csr" -CA "$work/root.pem" -CAkey "$work/root.key" \
		-CAcreateserial -days 2 -extfile "$3" -out "$work/$1.pem"
}

# dnat_announced: the dnat router gw has sent its restart announcement, two PAP
# invalidations to each of the 253 addresses of 10.0.0.0/24 (002, "upon reboot").
dnat_announced() {
	"$spinat" --socket "$work/gw.sock" show counters |
		awk '$2 == "nat.dnat_pap_restart_invalidations_sent" && $3 == 506 { f = 1 } END { exit !f }'
}

# dnat_router GW SRV QUEUE CONSTRAINT HOST...: 002's dnat router in nat_topology's network
# (GW, SRV, the HOSTs): spinatd "gw" in GW with strategy dnat on NFQUEUE QUEUE, router
# address 10.0.0.1, global address 203.0.113.1, and its Local Certificate Authority:
# $work/lca.pem (key lca.key, CRL crl.pem) from ca_root's root, name-constrained by
# CONSTRAINT (an openssl nameConstraints value; dirName:nc_dn names "O=spinat dnat").
# The queue takes, besides nfqueue's traffic, what the hosts send to the router itself
# (IP-in-IP tunnels and PAP); inbound packets leave it with the router's inside address as
# their source. Returns once the router has announced its restart.
dnat_router() {
	_dgw=$1 _dsrv=$2 _dq=$3 _dnc=$4
	shift 4
	nat_topology "$_dgw" "$_dsrv" "$@"
	nfqueue "$_dgw" "$_dq"
	for _p in 4 icmp; do
		ip netns exec "$_dgw" iptables -t raw -A PREROUTING -i br0 -d 10.0.0.1 -p "$_p" \
			-j NFQUEUE --queue-num "$_dq" || fail "iptables"
	done
	ip netns exec "$_dgw" sysctl -qw net.ipv4.conf.out0.accept_local=1 \
		net.ipv4.conf.all.accept_local=1 net.ipv4.conf.out0.rp_filter=0 >/dev/null ||
		fail "sysctl in $_dgw"
	ca_root
	cat >"$work/lca.ext" <<EOX
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
nameConstraints=critical,$_dnc
subjectAltName=IP:203.0.113.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
[nc_dn]
O=spinat dnat
EOX
	ca_issue lca "/CN=LCA 203.0.113.1" "$work/lca.ext"
	gateway_conf gw "$_dq" dnat "dnat_router = 10.0.0.1" "dnat_hosts = 10.0.0.0/24" \
		"lca_cert = $work/lca.pem" "lca_key = $work/lca.key" "lca_crl = $work/crl.pem"
	daemon gw "$_dgw"
	wait_for 100 dnat_announced || fail "restart invalidations not sent"
}

# l2tp_lns_conf SECRET [LINE...]: $work/lns.conf for spinatd's lns role "lns" (004) with
# the L2TP tunnel secret SECRET and the address pool 10.99.0.0/24; each LINE (a key =
# value line; empty ones are ignored) goes into [lns], the last section, so a test may
# append more to the file.
l2tp_lns_conf() {
	{
		printf '[spinatd]\nrole = lns\nname = lns\n\n[lns]\nsecret = %s\npool = 10.99.0.0/24\n' "$1"
		shift
		conf_lines "$@"
	} >"$work/lns.conf"
}

# l2tp_lac_conf NAME SECRET USER PASSWORD [LINE...]: $work/NAME.conf for spinatd's lac
# role NAME (004's client) with the LNS at 203.0.113.2, the L2TP tunnel secret and PPP's
# user and password; each LINE (empty ones are ignored) goes into [lac], the last section.
l2tp_lac_conf() {
	_lname=$1
	{
		printf '[spinatd]\nrole = lac\nname = %s\n\n[lac]\nlns = 203.0.113.2\n' "$1"
		printf 'secret = %s\nuser = %s\npassword = %s\n' "$2" "$3" "$4"
		shift 4
		conf_lines "$@"
	} >"$work/$_lname.conf"
}

# static_endpoint_conf NAME ROUTE: prints the start of the configuration of spinatd's
# endpoint role NAME with static SAs: the boot counter of AES-GCM's IV epoch in $work
# (static keys need one, RFC 4106 3.1), TUN spt0 with MTU 1300, ESP and AH leaving with
# mark 0x77, ROUTE into the TUN. [endpoint] is the last section: more keys may follow.
static_endpoint_conf() {
	printf '[spinatd]\nrole = endpoint\nname = %s\n\n' "$1"
	printf '[ipsec]\nboot_counter_file = %s\n\n' "$(mktemp -u "$work/boots.XXXXXX")"
	printf '[endpoint]\ntun = spt0\nmtu = 1300\nmark = 0x77\nroute = %s\n' "$2"
}

# host_conf NAME TUN_ADDRESS ROUTE [LINE...]: prints the start of the configuration of
# spinatd's endpoint role NAME on a VPN host: TUN spt0 with TUN_ADDRESS (none when empty),
# ROUTE into the TUN and each LINE (empty ones are ignored) in [endpoint], the last
# section: more keys, or the sections of the connections and modules, may follow.
host_conf() {
	printf '[spinatd]\nrole = endpoint\nname = %s\n[endpoint]\ntun = spt0\n' "$1"
	if [ -n "$2" ]; then echo "tun_address = $2"; fi
	echo "route = $3"
	shift 3
	conf_lines "$@"
}

# tcp_policy NAME ACTION SRC DST REQID PRIORITY [LINE...]: prints a transport-mode
# [policy NAME] for TCP from SRC to DST (ACTION esp or ah); LINEs (ports) go into it.
tcp_policy() {
	printf '\n[policy %s]\nsrc = %s\ndst = %s\nprotocol = tcp\n' "$1" "$3" "$4"
	_pa=$2 _pr=$5 _pp=$6
	shift 6
	for _l in "$@"; do
		echo "$_l"
	done
	printf 'action = %s\nmode = transport\nreqid = %s\npriority = %s\n' "$_pa" "$_pr" "$_pp"
}

# transport_sa NAME DIR PROTO SPI SRC DST KEY REQID: prints a transport-mode [sa NAME]:
# ESP with AES-GCM-16 (KEY: 16 octets of key and 4 of salt), AH with HMAC-SHA-256-128.
transport_sa() {
	printf '\n[sa %s]\ndir = %s\nproto = %s\nmode = transport\nspi = %s\nsrc = %s\ndst = %s\n' \
		"$1" "$2" "$3" "$4" "$5" "$6"
	if [ "$3" = esp ]; then
		printf 'enc = aes-gcm-16\nenc_key = %s\n' "$7"
	else
		printf 'auth = hmac-sha256-128\nauth_key = %s\n' "$7"
	fi
	echo "reqid = $8"
}

# l2tp_client NS I PEER: 004's client in NS as two daemons side by side: spinatd's lac role
# with $work/lacI.conf, then its endpoint role with $work/epI.conf. The endpoint's ESP and
# AH leave marked 0x77 (static_endpoint_conf); policy routing puts those to PEER into the
# L2TP session's device lac0.
l2tp_client() {
	ip -n "$1" rule add fwmark 0x77 lookup 177 priority 100 || fail "ip rule in $1"
	daemon "lac$2" "$1"
	ip -n "$1" route add "$3/32" dev lac0 table 177 || fail "route to $3 into lac0 in $1"
	daemon "ep$2" "$1"
}

# l2tp_up NAME [ADDRESS]: daemon NAME (a lac role, or an endpoint with the l2tp module)
# says its client is up (with ADDRESS, the one the LNS assigned).
l2tp_up() {
	"$spinat" --socket "$work/$1.sock" show l2tp 2>/dev/null |
		grep -q "client state up${2:+ address $2}"
}

# log_tails N: for fail_report, the last N lines of every $work/*.log under its name.
log_tails() {
	for _f in "$work"/*.log; do
		[ -f "$_f" ] || continue
		echo "--- $_f"
		tail -n "$1" "$_f"
	done
}
