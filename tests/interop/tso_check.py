#!/usr/bin/env python3
"""TCP through a TUN device with offloads, for endpoint_offload.sh.

  tso_check.py recv ADDR PORT          accept one connection, print bytes and sha256
  tso_check.py send SRC DST PORT BYTES send BYTES of a fixed pattern (64 KB writes),
                                       print their sha256
  tso_check.py inject IFACE SRC DST PORT
                                       one 64 KB TCP segment (65000 bytes of payload)
                                       from SRC:40000 to DST:PORT out of IFACE as the
                                       kernel's TSO makes them (a virtio-net header, GSO
                                       TCPv4, segment size 1348, partial checksum), print
                                       the payload's length and sha256
  tso_check.py burst SRC DST PORT N    send N small UDP datagrams at once
  tso_check.py count ADDR PORT N SECS  print how many of N datagrams came within SECS
                                       seconds of the first (stops at N)
  tso_check.py sniff IFACE PORT SECS [N]
                                       watch IFACE (AF_PACKET) for SECS seconds, until the
                                       flow to PORT ends or N payload bytes came in
                                       sequence, print one line of key=value: packets,
                                       largest IPv4 packet, bad IPv4 or TCP checksums, data
                                       segments in sequence, out of sequence (a gap: lost
                                       or reordered), retransmitted, the sha256 of the
                                       payload in sequence
"""
import hashlib
import select
import socket
import struct
import sys
import time


def pattern(n):
    block = hashlib.sha256(b"spinat").digest() * 2048  # 64 KB
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


def recv(addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(30)
    c, _ = s.accept()
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest())


def send(src, dst, port, nbytes):
    data = pattern(nbytes)
    s = socket.socket()
    s.bind((src, 0))
    s.connect((dst, port))
    for i in range(0, len(data), 65536):
        s.sendall(data[i : i + 65536])
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(len(data), hashlib.sha256(data).hexdigest())


def burst(src, dst, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for i in range(n):
        s.sendto(b"%08d" % i + bytes(92), (dst, port))


def count(addr, port, n, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, port))
    print("ready", flush=True)
    s.settimeout(30)
    got = 0
    try:
        s.recv(2048)
        got = 1
        end = time.time() + secs
        while got < n and time.time() < end:
            s.settimeout(max(0.01, end - time.time()))
            s.recv(2048)
            got += 1
    except socket.timeout:
        pass
    print(got, flush=True)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s ^ 0xFFFF


def inject(iface, src, dst, port):
    payload = pattern(65000)
    mss = 1348
    tcp = struct.pack("!HHIIBBHHH", 40000, port, 1000, 1, 8 << 4, 0x18, 500, 0, 0)
    tcp += struct.pack("!BBBBII", 1, 1, 8, 10, 12345, 0)
    tot = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 7, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    # The partial checksum: the pseudo-header's sum, not complemented.
    ps = csum(ip[12:20] + struct.pack("!BBH", 0, 6, tot - 20)) ^ 0xFFFF
    tcp = tcp[:16] + struct.pack("!H", ps) + tcp[18:]
    # struct virtio_net_hdr: NEEDS_CSUM, GSO TCPv4, hdr_len, gso_size, csum_start/offset
    vnet = struct.pack("<BBHHHH", 1, 1, 20 + len(tcp), mss, 20, 16)
    # SOCK_RAW (PACKET_VNET_HDR needs it): a TUN device has no link-layer header.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.setsockopt(263, 15, 1)  # SOL_PACKET, PACKET_VNET_HDR
    s.sendto(vnet + ip + tcp + payload, (iface, 0x0800))
    print(len(payload), hashlib.sha256(payload).hexdigest())


def sniff(iface, port, secs, want=0):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    print("ready", flush=True)
    st = dict(packets=0, largest=0, bad_ip=0, bad_tcp=0, in_seq=0, gaps=0, retrans=0)
    nxt = None
    end = time.time() + secs
    fin = False
    h = hashlib.sha256()
    got = 0
    while time.time() < end and not fin and (want == 0 or got < want):
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        ip = s.recv(70000)
        if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        t = ip[ihl:tot]
        sport, dport, seq = struct.unpack("!HHI", t[:8])
        if dport != port:
            continue
        st["packets"] += 1
        st["largest"] = max(st["largest"], tot)
        if csum(ip[:ihl]) != 0:
            st["bad_ip"] += 1
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(t))
        if csum(pseudo + t) != 0:
            st["bad_tcp"] += 1
        doff = (t[12] >> 4) * 4
        flags = t[13]
        plen = len(t) - doff
        if flags & 0x02:  # SYN
            nxt = (seq + 1) & 0xFFFFFFFF
            continue
        if nxt is None and want:
            nxt = seq  # a lone segment, no handshake before it
        if flags & 0x01:
            fin = True
        if plen == 0 or nxt is None:
            continue
        d = (seq - nxt) & 0xFFFFFFFF
        if d == 0:
            st["in_seq"] += 1
            nxt = (seq + plen) & 0xFFFFFFFF
            h.update(t[doff:])
            got += plen
        elif d < 0x80000000:
            st["gaps"] += 1
            nxt = (seq + plen) & 0xFFFFFFFF
        else:
            st["retrans"] += 1
    print(" ".join("%s=%d" % kv for kv in st.items()), "bytes=%d" % got,
          "sha256=" + h.hexdigest(), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "recv":
        recv(a[1], int(a[2]))
    elif a[0] == "send":
        send(a[1], a[2], int(a[3]), int(a[4]))
    elif a[0] == "burst":
        burst(a[1], a[2], int(a[3]), int(a[4]))
    elif a[0] == "count":
        count(a[1], int(a[2]), int(a[3]), float(a[4]))
    elif a[0] == "inject":
        inject(a[1], a[2], a[3], int(a[4]))
    elif a[0] == "sniff":
        sniff(a[1], int(a[2]), float(a[3]), int(a[4]) if len(a) > 4 else 0)
