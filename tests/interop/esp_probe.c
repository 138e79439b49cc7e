/*
 * esp_probe: raw ESP packets for the NAT interop tests, over raw IP sockets (protocol 50),
 * with the kernel's own IP stack underneath. No keys: the tests look at where a NAT
 * delivers each SPI, not at what is inside.
 *
 *   esp_probe echo SECONDS SCHEME
 *       server: answer every ESP packet with one to its source whose SPI is the scheme's
 *       responder SPI for the SPI received (000 [0049]: crypto/spihash_scheme.h).
 *   esp_probe ping DST SPI COUNT SECONDS SCHEME
 *       client: send COUNT packets with SPI (one every 20 ms), count for SECONDS what
 *       comes back: "sent=N own=M foreign=K", own being answers carrying the scheme's SPI
 *       for ours, foreign anything else.
 */
#include "base/rand.h"
#include "base/sp.h"
#include "crypto/spihash_scheme.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ESP_PROTO 50

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int send_esp(int fd, uint32_t dst, uint32_t spi, uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t b[40];

	memset(b, 0xa5, sizeof(b));
	b[0] = (uint8_t)(spi >> 24);
	b[1] = (uint8_t)(spi >> 16);
	b[2] = (uint8_t)(spi >> 8);
	b[3] = (uint8_t)spi;
	b[4] = (uint8_t)(seq >> 24);
	b[5] = (uint8_t)(seq >> 16);
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	to.sin_addr.s_addr = htonl(dst);
	return sendto(fd, b, sizeof(b), 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -1 : 0;
}

/* One received ESP packet: its source and SPI (a raw socket hands the IP header too). */
static int recv_esp(int fd, int wait_ms, uint32_t *src, uint32_t *spi)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t b[2048];
	ssize_t n;
	size_t hl;

	if (poll(&pfd, 1, wait_ms) <= 0)
		return -1;
	if ((n = recv(fd, b, sizeof(b), 0)) < 20)
		return -1;
	hl = (size_t)(b[0] & 0x0f) * 4;
	if (hl < 20 || (size_t)n < hl + 8)
		return -1;
	*src = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
	*spi = (uint32_t)b[hl] << 24 | (uint32_t)b[hl + 1] << 16 | (uint32_t)b[hl + 2] << 8 |
	       b[hl + 3];
	return 0;
}

static uint32_t answer_spi(const struct nat_spihash_scheme *s, uint32_t spi)
{
	uint32_t r = 0;

	/* Fully determined schemes only: the client must know the answer it expects. */
	if (nat_spihash_derive(s, spi, NULL, &r) != 0)
		r = spi ^ 0x5a5a5a5a;
	return r;
}

int main(int argc, char **argv)
{
	const struct nat_spihash_scheme *s;
	int fd = socket(AF_INET, SOCK_RAW, ESP_PROTO);

	if (fd < 0) {
		perror("esp_probe: raw socket (root needed)");
		return 2;
	}
	if (argc == 4 && strcmp(argv[1], "echo") == 0 &&
	    (s = nat_spihash_scheme_by_name(argv[3])) != NULL) {
		uint64_t end = now_ms() + (uint64_t)atoi(argv[2]) * 1000;
		unsigned n = 0;

		while (now_ms() < end) {
			uint32_t src, spi;

			if (recv_esp(fd, 100, &src, &spi) != 0)
				continue;
			if (send_esp(fd, src, answer_spi(s, spi), 1) == 0)
				n++;
		}
		printf("answered=%u\n", n);
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "ping") == 0 &&
	    (s = nat_spihash_scheme_by_name(argv[6])) != NULL) {
		struct in_addr a;
		uint32_t spi = (uint32_t)strtoul(argv[3], NULL, 0), want;
		unsigned count = (unsigned)atoi(argv[4]), sent = 0, own = 0, foreign = 0;
		uint64_t end = now_ms() + (uint64_t)atoi(argv[5]) * 1000, next = 0;

		if (inet_pton(AF_INET, argv[2], &a) != 1)
			return 2;
		want = answer_spi(s, spi);
		while (now_ms() < end) {
			uint32_t src, got;

			if (sent < count && now_ms() >= next) {
				if (send_esp(fd, ntohl(a.s_addr), spi, sent + 1) == 0)
					sent++;
				next = now_ms() + 20;
			}
			if (recv_esp(fd, 10, &src, &got) != 0)
				continue;
			if (got == want)
				own++;
			else
				foreign++;
		}
		printf("sent=%u own=%u foreign=%u\n", sent, own, foreign);
		return 0;
	}
	fprintf(stderr,
		"usage: esp_probe echo SECONDS SCHEME | ping DST SPI COUNT SECONDS SCHEME\n");
	return 2;
}
