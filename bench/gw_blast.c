/*
 * gw-blast: the traffic of tools/bench-gateway.sh, over one raw IP socket (IP_HDRINCL) in
 * the namespace it runs in, so any number of flows costs one socket.
 *
 *   gw-blast udp SRC DST FLOWS SIZE SECONDS [HOSTS]
 *       IPv4/UDP packets of SIZE bytes from SRC ports 10000.. (FLOWS of them, round robin)
 *       to DST port 9, as fast as sendmmsg goes, for SECONDS; with HOSTS, flow i comes
 *       from SRC + i % HOSTS (the gateway's NFQUEUE balancing hashes addresses only).
 *   gw-blast esp SRC DST SAS SIZE SECONDS [PACE_US]
 *       raw ESP packets of SIZE bytes with SPIs 0x10000000.. (SAS of them) to DST; with
 *       PACE_US, one packet every PACE_US microseconds instead of a flood.
 *   gw-blast esp-answer SECONDS
 *       answer each ESP packet (at most 3 per SPI) with one to its source whose SPI is the
 *       md5 scheme's responder SPI for it (000 [0050]), so masq and spihash associate.
 * Prints "sent=N cpu_ns=T" at the end, T its CPU time (user and system).
 */
#include "base/cursor.h"
#include "base/sp.h"
#include "crypto/spihash_scheme.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH  64
#define SPI0   0x10000000u
#define ANSWER 3

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t sum16(const uint8_t *b, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

/* An IPv4 header of a packet of len bytes with protocol proto. */
static void put_ip(uint8_t *p, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	sp_store_be16(p + 2, (uint16_t)len);
	p[8] = 64;
	p[9] = proto;
	sp_store_be32(p + 12, src);
	sp_store_be32(p + 16, dst);
	sp_store_be16(p + 10, (uint16_t)~fold(sum16(p, 20)));
}

/* This process's CPU time: the forwarding the kernel does in its sends' softirqs
 * (veth delivers in the sender's context) is charged here. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static int raw_socket(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW), sz = 4 << 20;

	if (fd < 0) {
		perror("gw-blast: raw socket (root needed)");
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

/* Send the n prebuilt packets (each size bytes at pkts + i * size) round robin. */
static uint64_t blast(int fd, uint32_t dst, const uint8_t *pkts, unsigned n, size_t size,
		      double seconds, unsigned pace_us)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(dst) };
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), sent = 0;
	unsigned next = 0;

	memset(msgs, 0, sizeof(msgs));
	while (now_ns() < end) {
		unsigned cnt = pace_us ? 1 : BATCH;
		int r;

		for (unsigned i = 0; i < cnt; i++) {
			iov[i].iov_base = (void *)(uintptr_t)(pkts + (size_t)next * size);
			iov[i].iov_len = size;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &to;
			msgs[i].msg_hdr.msg_namelen = sizeof(to);
			next = (next + 1) % n;
		}
		if ((r = sendmmsg(fd, msgs, cnt, 0)) > 0)
			sent += (uint64_t)r;
		if (pace_us)
			usleep(pace_us);
	}
	return sent;
}

static int cmd_udp(uint32_t src0, uint32_t dst, unsigned flows, size_t size, double seconds,
		   unsigned hosts)
{
	uint8_t *pkts = calloc(flows, size);

	if (pkts == NULL || size < 28)
		return 1;
	for (unsigned i = 0; i < flows; i++) {
		uint8_t *p = pkts + (size_t)i * size, *u = p + 20;
		uint32_t s, src = src0 + (hosts > 1 ? i % hosts : 0);
		uint16_t c;

		put_ip(p, size, 17, src, dst);
		sp_store_be16(u, (uint16_t)(10000 + i));
		sp_store_be16(u + 2, 9);
		sp_store_be16(u + 4, (uint16_t)(size - 20));
		memset(u + 8, 0x5a, size - 28);
		s = sum16(u, size - 20) + (src >> 16) + (src & 0xffff) + (dst >> 16) +
		    (dst & 0xffff) + 17 + (uint32_t)(size - 20);
		c = (uint16_t)~fold(s);
		sp_store_be16(u + 6, c ? c : 0xffff);
	}
	printf("sent=%llu",
	       (unsigned long long)blast(raw_socket(), dst, pkts, flows, size, seconds, 0));
	printf(" cpu_ns=%llu\n", (unsigned long long)cpu_ns());
	free(pkts);
	return 0;
}

static int cmd_esp(uint32_t src, uint32_t dst, unsigned sas, size_t size, double seconds,
		   unsigned pace_us)
{
	uint8_t *pkts = calloc(sas, size);

	if (pkts == NULL || size < 28)
		return 1;
	for (unsigned i = 0; i < sas; i++) {
		uint8_t *p = pkts + (size_t)i * size;

		put_ip(p, size, 50, src, dst);
		sp_store_be32(p + 20, SPI0 + i);
		sp_store_be32(p + 24, 1);
		memset(p + 28, 0xa5, size - 28);
	}
	printf("sent=%llu",
	       (unsigned long long)blast(raw_socket(), dst, pkts, sas, size, seconds, pace_us));
	printf(" cpu_ns=%llu\n", (unsigned long long)cpu_ns());
	free(pkts);
	return 0;
}

static int cmd_answer(double seconds)
{
	const struct nat_spihash_scheme *md5 = nat_spihash_scheme_get(NAT_SPIHASH_MD5);
	int fd = socket(AF_INET, SOCK_RAW, 50), out = raw_socket();
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), sent = 0;
	static uint8_t answered[1u << 16];
	uint8_t buf[2048], pkt[64];

	if (fd < 0) {
		perror("gw-blast: ESP socket");
		return 1;
	}
	while (now_ns() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from, to = { .sin_family = AF_INET };
		socklen_t fl = sizeof(from);
		uint32_t spi, resp, me;
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) < 28)
			continue;
		spi = sp_load_be32(buf + (buf[0] & 0x0f) * 4);
		me = sp_load_be32(buf + 16);
		if (answered[spi & 0xffff] >= ANSWER ||
		    nat_spihash_derive(md5, spi, NULL, &resp) != 0)
			continue;
		answered[spi & 0xffff]++;
		put_ip(pkt, sizeof(pkt), 50, me, ntohl(from.sin_addr.s_addr));
		sp_store_be32(pkt + 20, resp);
		sp_store_be32(pkt + 24, 1);
		memset(pkt + 28, 0xa5, sizeof(pkt) - 28);
		to.sin_addr = from.sin_addr;
		if (sendto(out, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			sent++;
	}
	printf("sent=%llu\n", (unsigned long long)sent);
	return 0;
}

static uint32_t addr(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "gw-blast: bad address %s\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

int main(int argc, char **argv)
{
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "udp") == 0)
		return cmd_udp(addr(argv[2]), addr(argv[3]), (unsigned)atoi(argv[4]),
			       (size_t)atoi(argv[5]), atof(argv[6]),
			       argc == 8 ? (unsigned)atoi(argv[7]) : 1);
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "esp") == 0)
		return cmd_esp(addr(argv[2]), addr(argv[3]), (unsigned)atoi(argv[4]),
			       (size_t)atoi(argv[5]), atof(argv[6]),
			       argc == 8 ? (unsigned)atoi(argv[7]) : 0);
	if (argc == 3 && strcmp(argv[1], "esp-answer") == 0)
		return cmd_answer(atof(argv[2]));
	fprintf(stderr, "usage: gw-blast udp SRC DST FLOWS SIZE SECONDS\n"
			"       gw-blast esp SRC DST SAS SIZE SECONDS [PACE_US]\n"
			"       gw-blast esp-answer SECONDS\n");
	return 2;
}
