#!/bin/sh
# spinatd as an operator meets it: one gateway forwarding a host's pings while the test
# pokes at the daemon. Asserts: --version of every program; `spinat version`, `commands`,
# `log`, `reload` and -j (valid JSON) for every show; `show counters` aligned; the control
# socket is mode 0600 and refuses another user; the PID file holds the pid; a second
# daemon on the same socket, the same NFQUEUE or the same UDP 4500 is refused with exit 3
# and a message naming what is taken, and the first one keeps working; a regular file at
# the socket path is refused and left as it was; a stale socket of a killed daemon is
# replaced; SIGHUP (valid and invalid file), SIGUSR1 and SIGUSR2 leave it running, a bad
# file is logged and the old configuration kept; a control client sending one byte every
# 0.9 s and a crowd of idle clients do not slow forwarding (ping RTT stays under 0.5 s,
# the surplus client is told "busy"); the first unsolicited packet is logged as a first
# drop naming the counter and the peer; SIGTERM removes the socket and the PID file.
#
#   daemon_ops.sh SPINATD SPINAT SPINAT_SIM SPINAT_BENCH
set -u
spinatd=$1 spinat=$2 sim=$3 bench=$4

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables ping python3 setpriv
need_tun
lib_start do
gw=${tag}g srv=${tag}s h=${tag}h

fail_report() {
	for f in gw gw2 ep1 ep2; do
		[ -f "$work/$f.log" ] && { echo "--- $f log"; cat "$work/$f.log"; }
	done
}

# --version of every program, and the daemon's version through the CLI
for p in "$spinatd" "$spinat" "$sim" "$bench"; do
	v=$("$p" --version) || fail "$p --version failed"
	echo "$v" | grep -qE '^spinat(d|-sim|-bench)? [0-9]+\.[0-9]+' || fail "$p --version: '$v'"
done

nat_topology "$gw" "$srv" "$h"
nfqueue "$gw" 5
gateway_conf gw 5
daemon gw "$gw"
S="$spinat --socket $work/gw.sock"
ip netns exec "$h" ping -c 1 -W 2 203.0.113.2 >/dev/null || fail "no ping through the gateway"

# the socket and the PID file
[ "$(stat -c %a "$work/gw.sock")" = 600 ] || fail "socket mode $(stat -c %a "$work/gw.sock")"
[ "$(cat "$work/gw.pid")" = "$pid_gw" ] || fail "PID file holds '$(cat "$work/gw.pid")', not $pid_gw"
chmod 755 "$work"
chmod 666 "$work/gw.sock" # even so: the credentials are checked
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $S version 2>&1) &&
	fail "user nobody was answered: $out"
echo "$out" | grep -q "permission denied" || fail "nobody: '$out'"
chmod 600 "$work/gw.sock"

# the control commands
$S version | grep -q "^spinatd .* name gw role gateway" || fail "spinat version"
$S commands | grep -q "^show nat" || fail "spinat commands"
$S commands | grep -q "leases" && fail "'leases' advertised"
$S show counters | head -n 1 | grep -q "^instance  *counter  *value$" || fail "no counter header"
$S show counters all | awk 'NR == 1 { w = length($0) } length($0) != w { bad = 1 } END { exit bad }' ||
	fail "show counters: columns not aligned"
for what in "version" "commands" "show counters" "show counters all" "show nat"; do
	# shellcheck disable=SC2086 # words
	$S -j $what | python3 -m json.tool >/dev/null || fail "spinat -j $what: not JSON"
done
$S -j show counters all | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert any(r["module"] == "gateway" and r["counter"] == "accepted" and r["value"] > 0 for r in rows), rows
' || fail "spinat -j show counters: no gateway.accepted > 0"
$S -j show nat napt | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["strategy"] == "masq" and d["rows_total"] >= 1, d
assert any(r["proto"] == "icmp" and r["inside_local"].startswith("10.0.0.2:") and
           r["inside_global"].startswith("203.0.113.1:") for r in d["rows"]), d
' || fail "spinat -j show nat: no ICMP mapping of the host as JSON"
$S log debug | grep -q "log level debug" || fail "spinat log debug"
$S log info >/dev/null

# a second daemon: same socket (and PID file), then another socket on the same queue
ip netns exec "$gw" "$spinatd" -c "$work/gw.conf" -s "$work/gw.sock" >"$work/gw2.log" 2>&1
[ $? -eq 3 ] || fail "a second daemon on the socket: not exit 3"
grep -q "another spinatd (pid $pid_gw) holds" "$work/gw2.log" || fail "second daemon's message"
ip netns exec "$gw" "$spinatd" -c "$work/gw.conf" -s "$work/gw2.sock" >"$work/gw2.log" 2>&1
[ $? -eq 3 ] || fail "a second daemon on NFQUEUE 5: not exit 3"
grep -q "NFQUEUE 5: in use by another process" "$work/gw2.log" || fail "busy queue message"
[ -e "$work/gw2.sock" ] && fail "the refused daemon left its socket"
$S version >/dev/null || fail "the first daemon lost its socket"
# a regular file where a socket should go
echo "keep me" >"$work/file.sock"
ip netns exec "$gw" "$spinatd" -c "$work/gw.conf" -s "$work/file.sock" >"$work/gw2.log" 2>&1 &&
	fail "started over a regular file"
grep -q "not a socket; not replacing it" "$work/gw2.log" || fail "regular file message"
[ "$(cat "$work/file.sock")" = "keep me" ] || fail "the regular file was changed"

# signals: none of them stops the daemon
kill -USR2 "$pid_gw"
kill -USR1 "$pid_gw"
wait_for 20 grep -q "SIGUSR1: log level info -> debug" "$work/gw.log" || fail "SIGUSR1 not logged"
$S log | grep -q "log level debug" || fail "SIGUSR1 did not switch to debug"
kill -USR1 "$pid_gw"
wait_for 20 grep -q "SIGUSR1: log level debug -> info" "$work/gw.log" || fail "SIGUSR1 back"
kill -HUP "$pid_gw"
wait_for 30 grep -q "reload: .*gw.conf valid; 0 change" "$work/gw.log" || fail "SIGHUP reload"
cp "$work/gw.conf" "$work/gw.conf.good"
sed -i 's/^pool = .*/pool = 203.0.113.9/; s/^name = gw/name = gw\nlog = warn/' "$work/gw.conf"
$S reload >"$work/reload" || fail "spinat reload of a valid file"
grep -q "pool = '203.0.113.1' -> '203.0.113.9' (line .*): takes effect at restart" "$work/reload" ||
	fail "reload did not name the pool change"
$S log | grep -q "log level warn (configured warn)" || fail "reload did not apply log = warn"
echo "strategy = nonesuch" >>"$work/gw.conf"
kill -HUP "$pid_gw"
wait_for 30 grep -q "reload: .*strategy: unknown 'nonesuch'.*keeping the running configuration" \
	"$work/gw.log" || fail "a bad file on SIGHUP was not logged"
$S reload >/dev/null 2>&1 && fail "spinat reload of a bad file succeeded"
kill -0 "$pid_gw" || fail "the signals stopped the daemon"
ip netns exec "$h" ping -c 1 -W 2 203.0.113.2 >/dev/null || fail "no ping after the signals"
$S log | grep -q "log level warn" || fail "the bad file changed the running configuration"
cp "$work/gw.conf.good" "$work/gw.conf"
$S reload >/dev/null || fail "reload of the original file"

# slow and idle control clients beside forwarding (5 s of pings every 0.2 s)
python3 - "$work/gw.sock" "$work/slow" <<'PY' &
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
slow = socket.socket(socket.AF_UNIX)
slow.connect(path)
idle = []
for _ in range(7):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    idle.append(s)
time.sleep(0.3)
extra = socket.socket(socket.AF_UNIX)
extra.connect(path)
extra.settimeout(3)
busy = extra.recv(100).decode()
for ch in b"version\n"[:5]:
    slow.send(bytes([ch]))
    time.sleep(0.9)
open(out, "w").write(busy)
PY
slowpid=$!
rtt=$(ip netns exec "$h" ping -c 25 -i 0.2 -W 2 203.0.113.2 | awk -F/ '/^rtt/ { print $6 }')
wait $slowpid || fail "the slow client script failed"
[ -n "$rtt" ] || fail "pings lost while a slow client was connected"
awk -v r="$rtt" 'BEGIN { exit !(r < 500) }' || fail "max RTT $rtt ms with a slow control client"
grep -q "busy: too many control clients" "$work/slow" || fail "the ninth client was not told busy"
$S version >/dev/null || fail "the socket does not answer after the slow clients"

# the first drop of a kind is logged once, naming the counter
ip netns exec "$srv" ping -c 2 -i 0.2 -W 1 203.0.113.1 >/dev/null 2>&1
wait_for 30 grep -q "first drop: gw nat\.drop_[a-z_]* = [0-9]*: " "$work/gw.log" ||
	fail "no first-drop line"
[ "$(grep -c "first drop: gw nat.drop_no_mapping" "$work/gw.log")" -le 1 ] ||
	fail "first-drop line repeated"
grep -q "first drop: gw nat\.drop_.*last dropped packet from outside 203.0.113.2 -> 203.0.113.1 proto 1" \
	"$work/gw.log" || fail "the first-drop line does not name the peer"
# at debug, each dropped packet (ten a second at most) names its addresses
$S log debug >/dev/null
ip netns exec "$srv" ping -c 2 -i 0.2 -W 1 203.0.113.1 >/dev/null 2>&1
wait_for 20 grep -q "debug gateway: dropped from outside: 203.0.113.2:0 -> 203.0.113.1:0 proto 1" \
	"$work/gw.log" || fail "no debug line for a dropped packet"
$S log info >/dev/null

# a killed daemon's socket and PID file are stale: the next start takes them over
kill_daemon gw
[ -S "$work/gw.sock" ] || fail "no stale socket after kill -9 (test premise)"
daemon gw "$gw"
$S version >/dev/null || fail "restart over a stale socket"
stop_daemon gw
[ -e "$work/gw.sock" ] && fail "socket left after SIGTERM"
[ -e "$work/gw.pid" ] && fail "PID file left after SIGTERM"

# two endpoints in one namespace: the second cannot have UDP 4500
for e in ep1 ep2; do
	cat >"$work/$e.conf" <<EOF
[spinatd]
role = endpoint
[endpoint]
tun = ${e}t
EOF
done
daemon ep1 "$srv"
ip netns exec "$srv" "$spinatd" -c "$work/ep2.conf" -s "$work/ep2.sock" >"$work/ep2.log" 2>&1
[ $? -eq 3 ] || fail "a second endpoint with UDP 4500 taken: not exit 3"
grep -q "UDP port 4500: in use by another process" "$work/ep2.log" || fail "port message"
# the same TUN device (another NAT-T port, so the TUN is what is taken)
printf '[spinatd]\nrole = endpoint\n[endpoint]\ntun = ep1t\n[ipsec]\nnatt_port = 4501\n' >"$work/ep3.conf"
ip netns exec "$srv" "$spinatd" -c "$work/ep3.conf" -s "$work/ep3.sock" >"$work/ep2.log" 2>&1
[ $? -eq 3 ] || fail "a second endpoint on TUN ep1t: not exit 3"
grep -q "TUN device ep1t: in use by another process" "$work/ep2.log" || fail "TUN busy message"
"$spinat" --socket "$work/ep1.sock" version >/dev/null || fail "the first endpoint stopped"
# the endpoint's first drop names the peer too: ESP for an SPI it does not know, from
# 192.0.2.77 (sent over the namespace's loopback with that source)
ip netns exec "$srv" python3 - <<'PY' || fail "cannot send the stray ESP packet"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
esp = struct.pack("!II", 0x7e57c0de, 1) + bytes(32)
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(esp), 1, 0, 64, 50, 0,
                 socket.inet_aton("192.0.2.77"), socket.inet_aton("203.0.113.2"))
s.sendto(ip + esp, ("203.0.113.2", 0))
PY
wait_for 20 grep -q "first drop: .* ipsec\.drop_[a-z_]* = 1: .*; last dropped packet from the network 192\.0\.2\.77 -> 203\.0\.113\.2 proto 50 as drop_" \
	"$work/ep1.log" || fail "the endpoint's first-drop line does not name the peer"
stop_daemon ep1
echo "PASS: versions, control commands and JSON, socket mode and credentials, locks, signals, reload, slow clients (max RTT $rtt ms), first drops"
