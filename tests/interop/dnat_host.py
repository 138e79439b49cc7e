#!/usr/bin/env python3
"""A host of 002's distributed NAT for dnat_gateway.sh, on raw sockets: asks the router
for a port block by PAP (ICMP type 32, FIG. 4/5), sends UDP datagrams from the router's
global address and a port of its block in an IP-in-IP tunnel to the router (Table 3),
and takes the answers out of the router's tunnel (Table 5), checking every octet it can.

  dnat_host.py SELF ROUTER GLOBAL SERVER PORT COUNT [forge=PORT]

With forge=PORT it sends from PORT (another host's) and expects no answer. Exit 0 on
success, 1 with a message otherwise."""
import os
import select
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return socket.inet_aton(a)


def ip_hdr(src, dst, proto, plen, ident=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident, 0, 64, proto, 0,
                    ip4(src), ip4(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def udp(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(ph + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def die(msg):
    print("dnat_host %s: %s" % (sys.argv[1], msg))
    sys.exit(1)


def pap_block(router, deadline):
    """FIG. 4 request for 16 ports under 10,000; the FIG. 5 answer's block."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    req = struct.pack("!BBHB3x", 32, 0, 0, 16)
    req = req[:2] + struct.pack("!H", csum(req)) + req[4:]
    # Resent every second, as the host module does while it wants a block: right after
    # its start the router is busy resolving the addresses it sent invalidations to.
    for _ in range(15):
        s.sendto(req, (router, 0))
        end = time.time() + 1
        while time.time() < end:
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                continue
            pkt, (frm, _) = s.recvfrom(2048)
            hl = (pkt[0] & 15) * 4
            msg = pkt[hl:]
            # the router's restart invalidations (code 2) also arrive here
            if frm != router or len(msg) != 8 or msg[0] != 32 or msg[1] == 2:
                continue
            if csum(msg) != 0:
                die("PAP response with a bad checksum")
            if msg[1] != 1:
                die("PAP request refused")
            low, count = struct.unpack("!HB", msg[4:7])
            return low, count
        if time.time() > deadline:
            break
    die("no PAP response")


def main():
    me, router, glob, server = sys.argv[1:5]
    sport_srv, count = int(sys.argv[5]), int(sys.argv[6])
    forge = None
    if len(sys.argv) > 7 and sys.argv[7].startswith("forge="):
        forge = int(sys.argv[7][6:])
    low, n = pap_block(router, time.time() + 15)
    port = forge if forge is not None else low + 3
    print("dnat_host %s: ports %d-%d, sending from %d" % (me, low, low + n - 1, port))
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
    got = 0
    for i in range(count):
        data = ("%s #%d" % (me, i)).encode() * 8
        inner = ip_hdr(glob, server, 17, 8 + len(data), 0x100 + i) + \
            udp(glob, server, port, sport_srv, data)
        outer = ip_hdr(me, router, 4, len(inner)) + inner
        tx.sendto(outer, (router, 0))
        end = time.time() + (0.3 if forge is not None else 2)
        while time.time() < end:
            r, _, _ = select.select([rx], [], [], 0.1)
            if not r:
                continue
            pkt, (frm, _) = rx.recvfrom(4096)
            if frm != router:
                continue
            ohl = (pkt[0] & 15) * 4
            o_src, o_dst = pkt[12:16], pkt[16:20]
            if o_src != ip4(router) or o_dst != ip4(me) or csum(pkt[:ohl]) != 0:
                die("tunnel header not from the router to this host")
            inn = pkt[ohl:]
            ihl = (inn[0] & 15) * 4
            if inn[12:16] != ip4(server) or inn[16:20] != ip4(glob) or inn[9] != 17:
                continue
            sp, dp = struct.unpack("!HH", inn[ihl:ihl + 4])
            if dp != port:
                die("answer for port %d delivered to the holder of %d" % (dp, port))
            if inn[ihl + 8:] != data:
                die("answer altered on the way")
            got += 1
            break
    if forge is not None:
        if got:
            die("a forged source port got answers")
        print("dnat_host %s: forged port %d refused" % (me, port))
        return
    if got != count:
        die("%d of %d answers" % (got, count))
    print("dnat_host %s: %d of %d answered" % (me, got, count))


if __name__ == "__main__":
    main()
