/*
 * Writes what spinat's ESP and AH look like on the wire for tshark to decode: for every
 * transform tshark 4.0 can decrypt, in transport and tunnel mode (and once in UDP 4500),
 * an ICMP echo request and a TCP segment protected by the engine, with the SA table in
 * Wireshark's esp_sa format (tshark decrypts with it); then AH in both modes. With
 * --wrong-key the table gives the first SA a wrong key (the negative control).
 *
 *   esp_tshark_pcap [--wrong-key] OUT.pcap ESP_SA_FILE MANIFEST
 *
 * MANIFEST lines: frame number, then the protocol stack tshark must show.
 */
#include "base/addr.h"
#include "ipsec/ipsec.h"
#include "io/pcap.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A_ADDR SP_IP4(192, 0, 2, 1)
#define B_ADDR SP_IP4(192, 0, 2, 2)

/* The transforms and the names tshark 4.0's esp_sa table knows them by. */
static const struct xf {
	uint8_t proto;
	uint16_t enc, auth;
	size_t ek, ak;
	const char *ws_enc, *ws_auth;
} xfs[] = {
	{ IPV4_PROTO_ESP, SA_ENC_AES_GCM_16, SA_AUTH_NONE, 20, 0,
	  "AES-GCM with 16 octet ICV [RFC4106]", "NULL" },
	{ IPV4_PROTO_ESP, SA_ENC_AES_GCM_12, SA_AUTH_NONE, 28, 0,
	  "AES-GCM with 12 octet ICV [RFC4106]", "NULL" },
	{ IPV4_PROTO_ESP, SA_ENC_AES_GCM_8, SA_AUTH_NONE, 36, 0,
	  "AES-GCM with 8 octet ICV [RFC4106]", "NULL" },
	{ IPV4_PROTO_ESP, SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA1_96, 16, 20, "AES-CBC [RFC3602]",
	  "HMAC-SHA-1-96 [RFC2404]" },
	{ IPV4_PROTO_ESP, SA_ENC_AES_CBC, SA_AUTH_HMAC_SHA2_256_128, 32, 32, "AES-CBC [RFC3602]",
	  "HMAC-SHA-256-128 [RFC4868]" },
	{ IPV4_PROTO_ESP, SA_ENC_AES_CBC, SA_AUTH_HMAC_MD5_96, 24, 16, "AES-CBC [RFC3602]",
	  "HMAC-MD5-96 [RFC2403]" },
	{ IPV4_PROTO_ESP, SA_ENC_NULL, SA_AUTH_HMAC_SHA1_96, 0, 20, "NULL",
	  "HMAC-SHA-1-96 [RFC2404]" },
	{ IPV4_PROTO_ESP, SA_ENC_NULL, SA_AUTH_HMAC_SHA2_256_128, 0, 32, "NULL",
	  "HMAC-SHA-256-128 [RFC4868]" },
	{ IPV4_PROTO_AH, SA_ENC_NONE, SA_AUTH_HMAC_SHA1_96, 0, 20, NULL, NULL },
	{ IPV4_PROTO_AH, SA_ENC_NONE, SA_AUTH_HMAC_SHA2_256_128, 0, 32, NULL, NULL },
	{ IPV4_PROTO_AH, SA_ENC_NONE, SA_AUTH_HMAC_MD5_96, 0, 16, NULL, NULL },
};

struct out {
	struct pkt *p[4];
	int n;
};

static void take(void *arg, struct pkt *p)
{
	struct out *o = arg;

	if (o->n < 4)
		o->p[o->n++] = p;
	else
		pkt_free(p);
}

static void key_bytes(uint8_t *k, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

static void hex(FILE *f, const uint8_t *k, size_t n)
{
	fputs("0x", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", k[i]);
}

static int inner(struct pkt *p, bool tunnel, bool tcp, uint16_t seq)
{
	uint32_t src = tunnel ? SP_IP4(10, 1, 0, 1) : A_ADDR;
	uint32_t dst = tunnel ? SP_IP4(10, 2, 0, 1) : B_ADDR;
	struct ipv4_hdr h = { .ip_ttl = 64,
			      .ip_id = seq,
			      .ip_frag = IPV4_FLAG_DF,
			      .ip_proto = tcp ? IPV4_PROTO_TCP : IPV4_PROTO_ICMP,
			      .ip_src = src,
			      .ip_dst = dst };
	/* A connection per segment, so no segment looks like another's retransmission. */
	struct tcp_hdr th = { .tcp_sport = (uint16_t)(40000 + seq),
			      .tcp_dport = 5001,
			      .tcp_seq = 1,
			      .tcp_ack = 1,
			      .tcp_flags = TCP_ACK | TCP_PSH,
			      .tcp_win = 512 };
	static const char msg[] = "spinat tcp payload";

	if (pkt_append(p, tcp ? msg : "abcdefghijklmnopqrstuvwxyz012345", tcp ? 18 : 32) != 0)
		return -1;
	if (tcp ? tcp_build(p, &th, NULL, 0, src, dst) != 0
		: icmp_build_echo(p, ICMP_ECHO_REQUEST, 0x77, seq) != 0)
		return -1;
	return ipv4_build(p, &h, NULL, 0);
}

int main(int argc, char **argv)
{
	bool wrong = argc == 5 && strcmp(argv[1], "--wrong-key") == 0;
	const char *pcap_path = argv[argc - 3], *sa_path = argv[argc - 2];
	const char *man_path = argv[argc - 1];
	struct io_pcap_writer *w;
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	FILE *sa, *man;
	unsigned frame = 0, spi = 0x10000;
	int rc = 1;

	if (argc != 4 && !wrong) {
		fprintf(stderr, "usage: esp_tshark_pcap [--wrong-key] OUT.pcap ESP_SA MANIFEST\n");
		return 2;
	}
	sp_xoshiro_seed(&rng, 11);
	if (pkt_pool_init(&pool, 64, PKT_BUFSIZE) != 0 || io_pcap_open_write(&w, pcap_path) != 0)
		return 1;
	sa = fopen(sa_path, "w");
	man = fopen(man_path, "w");
	if (sa == NULL || man == NULL)
		return 1;
	for (size_t x = 0; x < SP_NELEM(xfs); x++) {
		for (int mode = 0; mode < 2; mode++) {
			for (int encap = 0; encap < 2; encap++) {
				const struct xf *t = &xfs[x];
				struct out o = { .n = 0 };
				struct ipsec_cfg cfg = { .name = "tshark",
							 .rng = &rng.rng,
							 .net_out = take,
							 .local_out = take,
							 .arg = &o };
				struct spd_policy_params pp = { .dir = SA_DIR_OUT,
								.action = SPD_PROTECT,
								.proto = t->proto,
								.mode = (uint8_t)mode,
								.reqid = 1 };
				uint8_t ek[64], ak[64];
				struct sa_params p = {
					.spi = ++spi,
					.proto = t->proto,
					.mode = (uint8_t)mode,
					.dir = SA_DIR_OUT,
					.src = A_ADDR,
					.dst = B_ADDR,
					.enc = t->enc,
					.auth = t->auth,
					.enc_key = ek,
					.enc_key_len = t->ek,
					.auth_key = ak,
					.auth_key_len = t->ak,
					.reqid = 1,
				};
				struct ipsec *e;

				/* UDP encapsulation once: the first transform, tunnel mode. */
				if (encap && (x != 0 || mode != 1))
					continue;
				if (encap) {
					p.encap_sport = 4500;
					p.encap_dport = 4500;
				}
				key_bytes(ek, sizeof(ek), spi);
				key_bytes(ak, sizeof(ak), spi + 1000);
				pp.sel.sport_hi = pp.sel.dport_hi = 65535;
				if (ipsec_new(&e, &cfg) != 0 ||
				    ipsec_policy_add(e, &pp, NULL) != 0 ||
				    ipsec_sa_add(e, 1, &p, NULL) != 0)
					goto out;
				for (int k = 0; k < 2; k++) {
					struct pkt *q = pkt_alloc(&pool);

					if (q == NULL ||
					    inner(q, mode, k, (uint16_t)(frame + 1)) != 0)
						goto out;
					ipsec_output(e, 1, q);
				}
				ipsec_free(e);
				for (int i = 0; i < o.n; i++) {
					const char *ul = i ? "tcp" : "icmp";

					if (io_pcap_write(w, SP_SEC(1) + SP_MSEC(frame),
							  pkt_data(o.p[i]), o.p[i]->len) != 0)
						goto out;
					frame++;
					fprintf(man, "%u %s%s%s%s:%s\n", frame,
						encap ? "udp:udpencap:" : "",
						t->proto == IPV4_PROTO_AH ? "ah" : "esp",
						mode ? ":ip" : "", "", ul);
					pkt_free(o.p[i]);
				}
				if (t->proto != IPV4_PROTO_ESP)
					continue;
				/* esp_sa: protocol, src, dst, SPI, encryption + key, auth + key. */
				if (wrong && x == 0 && mode == 0)
					ek[0] ^= 0xff;
				fprintf(sa,
					"\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x%08x\",\"%s\",\"",
					spi, t->ws_enc);
				if (t->ek)
					hex(sa, ek, t->ek);
				fprintf(sa, "\",\"%s\",\"", t->ws_auth);
				if (t->ak)
					hex(sa, ak, t->ak);
				fputs("\"\n", sa);
			}
		}
	}
	rc = 0;
out:
	io_pcap_close_write(w);
	fclose(sa);
	fclose(man);
	pkt_pool_destroy(&pool);
	if (rc != 0)
		fprintf(stderr, "esp_tshark_pcap: could not build the packets\n");
	return rc;
}
