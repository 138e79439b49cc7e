#!/bin/sh
# spinatd's gateway role with strategy lease (001 module 110) for real: three inside hosts
# behind a gateway namespace on NFQUEUE, one outside server. A PCP client (python, written
# from RFC 6887 and docs/LEASE.md, not from spinat's code) on host 1 leases an incoming ESP
# SPI for the server; spinatd answers in place through the kernel. Then raw ESP through
# the kernel's stack: the server's ESP with the leased SPI reaches host 1 and only host 1,
# a wrong SPI reaches nobody; host 1's ESP leaves from the global address; host 3, without
# a lease, gets nothing out. Host 2 asking for host 1's address is refused
# (ADDRESS_MISMATCH). `spinat show nat` lists the lease in 001 FIG. 6's columns and the
# counters name every drop. Everything is removed on exit.
#
#   lease_gateway.sh SPINATD SPINAT
set -u
spinatd=$1 spinat=$2

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, NFQUEUE"
need_tools ip iptables python3
lib_start lg
gw=${tag}g srv=${tag}s

fail_report() {
	[ -f "$work/gw.log" ] && { echo "--- spinatd log"; cat "$work/gw.log"; }
	[ -S "$work/gw.sock" ] && { echo "--- counters"; "$spinat" --socket "$work/gw.sock" show counters; }
}

nat_topology "$gw" "$srv" "${tag}h1" "${tag}h2" "${tag}h3"
nfqueue "$gw" 3
# PCP to the gateway's own inside address goes to the engine too (docs/NAT.md).
ip netns exec "$gw" iptables -t raw -A PREROUTING -i br0 -d 10.0.0.1 -p udp --dport 5351 \
	-j NFQUEUE --queue-num 3 || fail "iptables pcp"

gateway_conf gw 3 lease "lease_pcp_address = 10.0.0.1"
daemon gw "$gw"

cat >"$work/pcp.py" <<'EOF'
# A PCP PEER request (RFC 6887 7.1, 12.1) with spinat's GPN option (docs/LEASE.md):
#   pcp.py CLIENT_FIELD PEER -> prints "result spi ext_ip"
import socket, struct, sys, os
client, peer = sys.argv[1], sys.argv[2]
def v4mapped(a):
    return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(a)
nonce = os.urandom(12)
msg = struct.pack("!BBHI", 2, 2, 0, 600) + v4mapped(client)
msg += nonce + struct.pack("!B3xHH", 50, 0, 0) + v4mapped("0.0.0.0")
msg += struct.pack("!HH", 0, 0) + v4mapped(peer)
# option 100, length 48: 32 bits, flag R, offsets 0/0, range 256-2^32-1, unspecified 0
msg += struct.pack("!BBH", 100, 0, 48)
msg += struct.pack("!BBHHH", 32, 0x40, 0, 0, 0)
msg += struct.pack("!QQQQQ", 256, 0xffffffff, 0, 0, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5350))
s.settimeout(1.0)
for attempt in range(5):
    s.sendto(msg, ("10.0.0.1", 5351))
    try:
        r, src = s.recvfrom(2000)
        break
    except socket.timeout:
        continue
else:
    print("noanswer")
    sys.exit(0)
assert src == ("10.0.0.1", 5351), src
ver, op, _, result, life, epoch = struct.unpack("!BBBBII", r[:12])
assert ver == 2 and op == 0x82, (ver, op)
if result != 0:
    print(result, 0, "-")
    sys.exit(0)
assert r[24:36] == nonce
ext_ip = socket.inet_ntoa(r[24 + 32:24 + 36])
code, _, olen = struct.unpack("!BBH", r[80:84])
assert code == 100 and olen == 48, (code, olen)
priv, glob = struct.unpack("!QQ", r[84 + 32:84 + 48])
assert priv == glob
print(result, glob, ext_ip)
EOF

cat >"$work/esp.py" <<'EOF'
# esp.py send DST SPI | esp.py recv SPI SECONDS OUT -> writes "got SRC" or "none" to OUT;
# a receiver stops early when OUT.stop appears
import os, socket, struct, sys, select, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
if sys.argv[1] == "send":
    s.sendto(struct.pack("!II", int(sys.argv[3]), 1) + b"\xa5" * 48, (sys.argv[2], 0))
    sys.exit(0)
spi, end = int(sys.argv[2]), time.time() + float(sys.argv[3])
sys.stdout = open(sys.argv[4], "w")
sys.stderr = sys.stdout
print("ready", flush=True)
while time.time() < end and not os.path.exists(sys.argv[4] + ".stop"):
    if not select.select([s], [], [], 0.1)[0]:
        continue
    d, src = s.recvfrom(2000)
    hl = (d[0] & 15) * 4
    if struct.unpack("!I", d[hl:hl + 4])[0] == spi:
        print("got", src[0], flush=True)
        sys.exit(0)
print("none", flush=True)
EOF

# Step 802 over PCP: host 1 leases an incoming SPI for the server.
set -- $(ip netns exec "${tag}h1" python3 "$work/pcp.py" 10.0.0.2 203.0.113.2) ||
	fail "pcp client"
[ "$1" = 0 ] || fail "PCP lease refused: $*"
spi=$2
[ "$3" = 203.0.113.1 ] || fail "assigned external address $3"
echo "host 1 leased ESP SPI $spi on $3"
# Host 2 may not lease for host 1's address (RFC 6887 8.1): ADDRESS_MISMATCH (12).
set -- $(ip netns exec "${tag}h2" python3 "$work/pcp.py" 10.0.0.2 203.0.113.2)
[ "$1" = 12 ] || fail "a lease for another host's address: result $*"

# 708-709: the server's ESP with the leased SPI reaches host 1 and nobody else.
receivers=""
recv() { # HOST SPI SECONDS OUT
	spawn "$1" python3 "$work/esp.py" recv "$2" "$3" "$4"
	receivers="$receivers $spawned"
	wait_for 30 grep -q ready "$4" || fail "receiver in $1 did not start"
}
collect() { # after what was sent had time to arrive, stop the receivers and reap them
	sleep 1
	for f in "$work"/rx*; do touch "$f.stop"; done
	for p in $receivers; do wait "$p"; done
	receivers=""
}
for h in 1 2 3; do recv "${tag}h$h" "$spi" 30 "$work/rx$h"; done
ip netns exec "$srv" python3 "$work/esp.py" send 203.0.113.1 "$spi" || fail "esp send"
collect
grep -q "got 203.0.113.2" "$work/rx1" || fail "leased SPI did not reach host 1: $(cat "$work/rx1")"
grep -q none "$work/rx2" || fail "host 2 got host 1's ESP"
grep -q none "$work/rx3" || fail "host 3 got host 1's ESP"
other=$((spi ^ 1))
recv "${tag}h1" "$other" 30 "$work/rx1b"
ip netns exec "$srv" python3 "$work/esp.py" send 203.0.113.1 "$other" || fail "esp send"
collect
grep -q none "$work/rx1b" || fail "an SPI nobody leased was delivered"

# 706-707: host 1's ESP leaves from the global address; host 3 has no lease.
recv "$srv" 4660 30 "$work/rxs"
ip netns exec "${tag}h1" python3 "$work/esp.py" send 203.0.113.2 4660 || fail "esp send"
collect
grep -q "got 203.0.113.1" "$work/rxs" || fail "host 1's ESP: $(cat "$work/rxs")"
recv "$srv" 4661 30 "$work/rxs3"
ip netns exec "${tag}h3" python3 "$work/esp.py" send 203.0.113.2 4661 || fail "esp send"
collect
grep -q none "$work/rxs3" || fail "host 3's ESP left without a lease"

"$spinat" --socket "$work/gw.sock" show nat >"$work/nat" || fail "show nat"
cat "$work/nat"
grep -q "^Protocol Private IP *Private GPN *Global IP *Global GPN *Foreign *Expiration" \
	"$work/nat" || fail "show nat: no FIG. 6 header"
hex=$(printf '0x%08X' "$spi")
grep -q "^esp *10.0.0.2 *$hex *203.0.113.1 *$hex *203.0.113.2 " "$work/nat" ||
	fail "show nat: no lease row for host 1"
"$spinat" --socket "$work/gw.sock" show counters >"$work/ctr" || fail "show counters"
for c in lease_granted lease_refused_address_mismatch lease_drop_no_lease_in \
	lease_drop_no_lease_out; do
	grep -Eq "(^|[ .])$c[ =:]+[1-9]" "$work/ctr" || { cat "$work/ctr"; fail "counter $c"; }
done
stop_daemon gw
echo "lease_gateway: PCP lease through NFQUEUE, ESP demultiplexed by leased SPI, refusals counted"
