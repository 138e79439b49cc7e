#!/usr/bin/env python3
"""Real TCP and UDP traffic for lease_transport.sh.

  lease_flows.py server ADDR...          on each ADDR: TCP 5001 takes a stream and answers
                                         "<bytes> <sha256>", UDP 5002 echoes datagrams;
                                         one line per finished TCP stream on stdout
  lease_flows.py client SRC DST TPORT UPORT BYTES DATAGRAMS
                                         a TCP stream of BYTES from SRC:TPORT to DST:5001,
                                         then DATAGRAMS datagrams from SRC:UPORT to
                                         DST:5002, one at a time (resent after 1 s, at most
                                         5 times); prints "tcp BYTES OK|BAD SECONDS s" and
                                         "udp ECHOED/DATAGRAMS SECONDS s RESENT resent";
                                         exit 0 when all arrived

FLOWS_TCP_TIMEOUT (seconds, default 20) bounds the TCP stream's connect and each read.
The source ports are fixed: they are the ports the client's IPsec selectors name and its
NAT leases (001).
"""
import hashlib
import os
import selectors
import socket
import sys
import time


def server(addrs):
    sel = selectors.DefaultSelector()
    for a in addrs:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, 5001))
        t.listen(64)
        t.setblocking(False)
        sel.register(t, selectors.EVENT_READ, "listen")
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((a, 5002))
        sel.register(u, selectors.EVENT_READ, "udp")
    streams = {}
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "listen":
                c, peer = s.accept()
                c.setblocking(False)
                streams[c] = [peer, 0, hashlib.sha256()]
                sel.register(c, selectors.EVENT_READ, "tcp")
            elif key.data == "udp":
                data, peer = s.recvfrom(65535)
                s.sendto(data, peer)
            else:
                st = streams[s]
                try:
                    data = s.recv(65536)
                except ConnectionError:
                    data = b""
                if data:
                    st[1] += len(data)
                    st[2].update(data)
                    continue
                sel.unregister(s)
                del streams[s]
                s.setblocking(True)
                try:
                    s.sendall(b"%d %s\n" % (st[1], st[2].hexdigest().encode()))
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                s.close()
                print("tcp %s:%d %d" % (st[0][0], st[0][1], st[1]), flush=True)


def client(src, dst, tport, uport, nbytes, ndgrams):
    ok = True
    t0 = time.monotonic()
    data = os.urandom(nbytes)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.settimeout(float(os.environ.get("FLOWS_TCP_TIMEOUT", "20")))
    answer = b""
    try:
        t.bind((src, tport))
        t.connect((dst, 5001))
        t.sendall(data)
        t.shutdown(socket.SHUT_WR)
        while True:
            b = t.recv(4096)
            if not b:
                break
            answer += b
    except OSError as e:
        answer = str(e).encode()
    t.close()
    want = b"%d %s\n" % (nbytes, hashlib.sha256(data).hexdigest().encode())
    tcp_ok = answer == want
    ok = ok and tcp_ok
    t1 = time.monotonic()
    print("tcp %d %s %.2f s" % (nbytes, "OK" if tcp_ok else "BAD: " +
                                answer[:80].decode("ascii", "replace"), t1 - t0), flush=True)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((src, uport))
    u.settimeout(1)
    echoed = resent = 0
    for i in range(ndgrams):
        msg = b"%d:" % i + os.urandom(200 + 50 * (i % 20))
        for _ in range(5):
            u.sendto(msg, (dst, 5002))
            try:
                while True:
                    back, _ = u.recvfrom(65535)
                    if back == msg:
                        break
                echoed += 1
                break
            except socket.timeout:
                resent += 1
                continue
    u.close()
    print("udp %d/%d %.2f s %d resent" % (echoed, ndgrams, time.monotonic() - t1, resent),
          flush=True)
    return 0 if ok and echoed == ndgrams else 1


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "server":
        server(sys.argv[2:])
        return 0
    if len(sys.argv) == 8 and sys.argv[1] == "client":
        return client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                      int(sys.argv[6]), int(sys.argv[7]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
