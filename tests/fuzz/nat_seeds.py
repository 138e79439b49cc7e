#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_nat and fuzz_nfq (tests/fuzz/corpus/nat, corpus/nfq):
packet sequences through the NAT under each strategy, and the same packets framed as the
kernel's nfnetlink_queue messages. Run from the repository root: tests/fuzz/nat_seeds.py"""
import hashlib
import os
import struct

G = bytes([171, 69, 68, 10])
C1, C2 = bytes([10, 6, 1, 2]), bytes([10, 6, 1, 3])
S = bytes([204, 71, 200, 69])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(proto, src, dst, payload, frag=0, ident=0x1234):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(src, sp, dst, dp, data):
    u = struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
    ph = src + dst + struct.pack("!BBH", 0, 17, len(u))
    c = csum(ph + u) or 0xFFFF
    return ip(17, src, dst, u[:6] + struct.pack("!H", c) + u[8:])


def tcp(src, sp, dst, dp, flags):
    t = struct.pack("!HHIIBBHHH", sp, dp, 1000, 0, 5 << 4, flags, 65535, 0, 0)
    ph = src + dst + struct.pack("!BBH", 0, 6, len(t))
    return ip(6, src, dst, t[:16] + struct.pack("!H", csum(ph + t)) + t[18:])


def echo(src, dst, typ, ident):
    m = struct.pack("!BBHHH", typ, 0, 0, ident, 1) + b"ping-data-16byte"
    return ip(1, src, dst, m[:2] + struct.pack("!H", csum(m)) + m[4:])


def icmp_err(src, dst, quoted):
    m = struct.pack("!BBHI", 3, 3, 0, 0) + quoted[:28]
    return ip(1, src, dst, m[:2] + struct.pack("!H", csum(m)) + m[4:])


def esp(src, dst, spi):
    return ip(50, src, dst, struct.pack("!II", spi, 1) + b"\xa5" * 32)


def ike(src, dst, ic, rc):
    h = struct.pack("!QQBBBBII", ic, rc, 33, 0x20, 34, 0x08, 0, 28)
    return udp(src, 500, dst, 500, h)


def md5spi(spi):
    return struct.unpack("!I", hashlib.md5(struct.pack("!I", spi)).digest()[:4])[0]


IN, OUT = 0, 1


def seq(sel, records):
    out = bytes([sel])
    for side, adv, pkt in records:
        out += bytes([side | (adv << 1)]) + struct.pack("!H", len(pkt)) + pkt
    return out


napt = [
    (IN, 0, udp(C1, 40000, S, 53, b"hello")),
    (OUT, 0, udp(S, 53, G, 40000, b"reply")),
    (IN, 0, udp(C2, 40000, S, 53, b"hello")),
    (IN, 0, tcp(C1, 33000, S, 443, 0x02)),
    (OUT, 0, tcp(S, 443, G, 33000, 0x12)),
    (IN, 0, tcp(C1, 33000, S, 443, 0x11)),
    (IN, 0, echo(C1, S, 8, 77)),
    (OUT, 0, echo(S, G, 0, 77)),
    (OUT, 0, icmp_err(S, G, udp(G, 40000, S, 53, b"hello"))),
    (OUT, 0, ip(17, S, G, udp(S, 53, G, 40000, b"0123456789abcdef")[20:], frag=0x2000)),
    (OUT, 0, ip(17, S, G, b"rest", frag=3)),
    (IN, 15, udp(C1, 40000, S, 53, b"late")),
]
ipsec = [
    (IN, 0, ike(C1, S, 0x1111, 0)),
    (IN, 0, ike(C2, S, 0x2222, 0)),
    (OUT, 0, ike(S, G, 0x2222, 0xBBBB)),
    (OUT, 0, ike(S, G, 0x1111, 0xAAAA)),
    (IN, 0, esp(C1, S, 0xD4560CA1)),
    (IN, 0, esp(C2, S, 0xB7285662)),
    (OUT, 0, esp(S, G, md5spi(0xB7285662))),
    (OUT, 0, esp(S, G, md5spi(0xD4560CA1))),
    (OUT, 0, esp(S, G, 0x0C7CCE73)),
    (IN, 1, esp(C2, S, 0xB7285662)),
    (OUT, 15, esp(S, G, 0x12345678)),
]

corpus = "tests/fuzz/corpus"
names = ["masq", "spihash", "serial", "natt", "ipaddr", "oldest"]
for i, name in enumerate(names):
    with open(os.path.join(corpus, "nat", "ipsec_" + name), "wb") as f:
        f.write(seq(i, ipsec))
with open(os.path.join(corpus, "nat", "napt"), "wb") as f:
    f.write(seq(0, napt))
with open(os.path.join(corpus, "nat", "napt_ike_napt_evict"), "wb") as f:
    f.write(seq(0xC0, napt + ipsec))


def nfq_msg(pid, indev, payload):
    attrs = b""
    for typ, val in ((1, struct.pack("!IHB", pid, 0x0800, 0) + b"\0"),
                     (5, struct.pack("!I", indev)), (10, payload)):
        a = struct.pack("=HH", 4 + len(val), typ) + val
        attrs += a + b"\0" * ((-len(a)) % 4)
    body = struct.pack("=BBH", 0, 0, struct.unpack("=H", struct.pack("!H", 3))[0]) + attrs
    return struct.pack("=IHHII", 16 + len(body), (3 << 8) | 0, 0, 1, 0) + body


buf = b"".join(nfq_msg(i + 1, 2 + side, p) for i, (side, _, p) in enumerate(napt + ipsec))
with open(os.path.join(corpus, "nfq", "queue"), "wb") as f:
    f.write(buf)
with open(os.path.join(corpus, "nfq", "one_packet"), "wb") as f:
    f.write(nfq_msg(7, 2, udp(C1, 5000, S, 53, b"x")))
