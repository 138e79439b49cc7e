#!/usr/bin/env python3
"""Bounded floods and helpers for nat_attacks.sh; every flood stops after COUNT packets.

  flood.py udp-ports SRC DST COUNT RATE       UDP from SRC, a new source port each
  flood.py ike-servers SRC COUNT RATE         IKE_SA_INIT headers from SRC to 198.18.x.y:500
  flood.py frags SRC DST DPORT COUNT RATE     first fragments (MF, offset 0) to DST:DPORT
  flood.py esp SRC DST COUNT RATE             ESP with random SPIs from SRC to DST
  flood.py ike-init DST COUNT RATE            IKE_SA_INIT without payloads to DST:500
  flood.py ike-clients SRC0 N DST             N inside addresses from SRC0 up send an IKE header
  flood.py ike-responder ADDR                 answer IKE on ADDR:500 with a responder cookie
  flood.py udp-echo ADDR PORT                 echo UDP on ADDR:PORT
  flood.py new-flows DST PORT N GAP           N UDP exchanges, each from a new socket (a new
                                              mapping); prints how many were answered

RATE is packets per second (0: as fast as possible). Raw sends craft whole IPv4 packets.
The achieved rate is printed on stderr.
"""
import os
import random
import socket
import struct
import sys
import time

random.seed(7)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_hdr(src, dst, proto, plen, ident=0, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident, frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def udp_pkt(src, dst, sport, dport, data, ident=0, frag=0):
    ln = 8 + len(data)
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ln)
    u = struct.pack("!HHHH", sport, dport, ln, 0) + data
    c = csum(ph + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    return ip_hdr(src, dst, 17, ln, ident, frag) + u


def ike_hdr(icookie, rcookie=0, flags=0x08):
    return struct.pack("!QQBBBBII", icookie, rcookie, 0, 0x20, 34, flags, 0, 28)


def raw_flood(count, rate, make):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    t0 = time.monotonic()
    sent = 0
    for i in range(count):
        pkt, dst = make(i)
        try:
            s.sendto(pkt, (dst, 0))
            sent += 1
        except OSError:
            pass
        if rate and i % 64 == 63:
            ahead = t0 + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    dt = time.monotonic() - t0
    print("flood: %d of %d packets in %.2f s (%.0f pps)" % (sent, count, dt, sent / max(dt, 1e-6)),
          file=sys.stderr)


def main(a):
    m = a[0]
    if m == "udp-ports":
        src, dst, n, rate = a[1], a[2], int(a[3]), float(a[4])
        raw_flood(n, rate, lambda i: (udp_pkt(src, dst, 1024 + i % 64500, 53, b"x" * 16), dst))
    elif m == "ike-servers":
        src, n, rate = a[1], int(a[2]), float(a[3])

        def mk(i):
            dst = "198.18.%d.%d" % ((i >> 8) & 255, i & 255 or 1)
            return udp_pkt(src, dst, 500, 500, ike_hdr(random.getrandbits(64) | 1)), dst
        raw_flood(n, rate, mk)
    elif m == "frags":
        src, dst, dport, n, rate = a[1], a[2], int(a[3]), int(a[4]), float(a[5])
        raw_flood(n, rate, lambda i: (udp_pkt(src, dst, 7, dport, b"f" * 64, ident=i & 0xFFFF,
                                              frag=0x2000), dst))
    elif m == "esp-servers":
        src, n, rate = a[1], int(a[2]), float(a[3])

        def mk(i):
            dst = "198.18.%d.%d" % ((i >> 8) & 255, i & 255 or 1)
            body = struct.pack("!II", random.getrandbits(32) | 0x100, 1) + b"e" * 48
            return ip_hdr(src, dst, 50, len(body)) + body, dst
        raw_flood(n, rate, mk)
    elif m == "esp":
        src, dst, n, rate = a[1], a[2], int(a[3]), float(a[4])

        def mk(i):
            body = struct.pack("!II", random.getrandbits(32) | 0x100, i + 1) + b"e" * 48
            return ip_hdr(src, dst, 50, len(body)) + body, dst
        raw_flood(n, rate, mk)
    elif m == "ike-init":
        dst, n, rate = a[1], int(a[2]), float(a[3])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t0 = time.monotonic()
        for i in range(n):
            s.sendto(ike_hdr(random.getrandbits(64) | 1), (dst, 500))
            if rate and i % 64 == 63:
                ahead = t0 + (i + 1) / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        print("flood: %d IKE_SA_INIT in %.2f s" % (n, time.monotonic() - t0), file=sys.stderr)
    elif m == "ike-clients":
        base = struct.unpack("!I", socket.inet_aton(a[1]))[0]
        n, dst = int(a[2]), a[3]

        def mk(i):
            src = socket.inet_ntoa(struct.pack("!I", base + i))
            return udp_pkt(src, dst, 500, 500, ike_hdr(0x1000 + i)), dst
        raw_flood(n, 0, mk)
    elif m == "ike-responder":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a[1], 500))
        while True:
            d, peer = s.recvfrom(2048)
            if len(d) >= 28 and not d[19] & 0x20:
                ic = struct.unpack("!Q", d[:8])[0]
                s.sendto(ike_hdr(ic, random.getrandbits(64) | 1, 0x20), peer)
    elif m == "count-unreach":
        # ICMP Host Unreachables (type 3 code 1) received for SECONDS, printed at the end
        secs = float(a[1])
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        end = time.monotonic() + secs
        n = 0
        while time.monotonic() < end:
            s.settimeout(max(end - time.monotonic(), 0.01))
            try:
                d = s.recv(2048)
            except OSError:
                continue
            hl = (d[0] & 15) * 4
            n += len(d) > hl + 1 and d[hl] == 3 and d[hl + 1] == 1
        print(n)
    elif m == "udp-echo":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a[1], int(a[2])))
        while True:
            d, peer = s.recvfrom(2048)
            s.sendto(d, peer)
    elif m == "new-flows":
        dst, port, n, gap = a[1], int(a[2]), int(a[3]), float(a[4])
        ok = 0
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # 2 s: a refused flow is never answered; a slow first packet on a loaded
            # machine (the NAT's miss path behind the flood) still counts
            s.settimeout(2.0)
            try:
                s.sendto(b"flow %d" % i, (dst, port))
                d, _ = s.recvfrom(2048)
                ok += d == b"flow %d" % i
            except OSError:
                pass
            s.close()
            time.sleep(gap)
        print(ok)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
