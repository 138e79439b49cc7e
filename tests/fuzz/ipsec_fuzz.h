/*
 * The SAs and policies behind fuzz_ipsec (an IPsec endpoint receiving whatever arrives) and
 * the seeds gen_corpus writes for it: real ESP and AH packets made by a sending engine with
 * the same keys, one per SA, so the fuzzer starts from packets that pass every check and
 * mutates its way into each drop. Transforms cover every decapsulation path; the AES-CBC
 * SAs have no integrity transform so mutated plaintext reaches the padding, next-header
 * and inner-packet checks.
 */
#ifndef SP_TESTS_IPSEC_FUZZ_H
#define SP_TESTS_IPSEC_FUZZ_H

#include "base/addr.h"
#include "base/rand.h"
#include "ipsec/ipsec.h"
#include "proto/icmp.h"
#include "proto/ipv4.h"
#include "proto/udp.h"

#include <stdio.h>
#include <string.h>

#define IPSEC_FUZZ_LOCAL SP_IP4(10, 0, 0, 200)

static const struct ipsec_fuzz_sa {
	uint8_t proto, mode;
	uint16_t enc, auth;
	uint8_t enc_key_len, auth_key_len;
	bool esn, encap;
} ipsec_fuzz_sas[] = {
	{ IPV4_PROTO_ESP, SA_MODE_TRANSPORT, SA_ENC_AES_CBC, SA_AUTH_NONE, 16, 0, false, false },
	{ IPV4_PROTO_ESP, SA_MODE_TUNNEL, SA_ENC_AES_CBC, SA_AUTH_NONE, 16, 0, false, false },
	{ IPV4_PROTO_ESP, SA_MODE_TUNNEL, SA_ENC_AES_GCM_16, SA_AUTH_NONE, 20, 0, true, false },
	{ IPV4_PROTO_ESP, SA_MODE_TRANSPORT, SA_ENC_AES_GCM_8, SA_AUTH_NONE, 36, 0, false, true },
	{ IPV4_PROTO_AH, SA_MODE_TRANSPORT, SA_ENC_NONE, SA_AUTH_HMAC_SHA1_96, 0, 20, false,
	  false },
	{ IPV4_PROTO_AH, SA_MODE_TUNNEL, SA_ENC_NONE, SA_AUTH_HMAC_SHA2_256_128, 0, 32, true,
	  false },
	{ IPV4_PROTO_ESP, SA_MODE_TRANSPORT, SA_ENC_NULL, SA_AUTH_HMAC_MD5_96, 0, 16, false,
	  false },
	{ IPV4_PROTO_ESP, SA_MODE_TUNNEL, SA_ENC_NULL_AUTH_AES_GMAC, SA_AUTH_NONE, 20, 0, false,
	  false },
};

static const uint8_t ipsec_fuzz_key[64] = { 0x4c, 0x80, 0xcd, 0xef, 0xbb, 0x5d, 0x10, 0xda, 0x90,
					    0x6a, 0xc7, 0x3c, 0x36, 0x13, 0xa6, 0x34, 0x2e, 0x44,
					    0x3b, 0x68, 0x49, 0x56, 0xed, 0x7e, 0x3b, 0x24, 0x4c,
					    0xfe, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

/* SA i's peer (outer source in transport mode) and inner source in tunnel mode. */
static inline uint32_t ipsec_fuzz_peer(unsigned i)
{
	return SP_IP4(10, 0, 0, 1 + i);
}

static inline uint32_t ipsec_fuzz_inner(unsigned i)
{
	return SP_IP4(10, 9, 0, 1 + i);
}

/* Install SA i in direction dir, and its policy; 0 or an SP_E*. */
static inline int ipsec_fuzz_install(struct ipsec *e, unsigned i, uint8_t dir)
{
	const struct ipsec_fuzz_sa *f = &ipsec_fuzz_sas[i];
	bool tun = f->mode == SA_MODE_TUNNEL;
	struct sa_params p = {
		.spi = 0x100 + i,
		.proto = f->proto,
		.mode = f->mode,
		.dir = dir,
		.src = ipsec_fuzz_peer(i),
		.dst = IPSEC_FUZZ_LOCAL,
		.enc = f->enc,
		.auth = f->auth,
		.enc_key = ipsec_fuzz_key,
		.enc_key_len = f->enc_key_len,
		.auth_key = ipsec_fuzz_key + 8,
		.auth_key_len = f->auth_key_len,
		.esn = f->esn,
		.replay_window = 64,
		.reqid = 1 + i,
	};
	struct spd_policy_params pp = {
		.dir = dir,
		.action = SPD_PROTECT,
		.proto = f->proto,
		.mode = f->mode,
		.reqid = 1 + i,
		.sel = { .src = tun ? ipsec_fuzz_inner(i) : ipsec_fuzz_peer(i),
			 .src_len = 32,
			 .dport_hi = 65535,
			 .sport_hi = 65535 },
	};
	int r;

	if (f->encap) {
		p.encap_sport = 4500;
		p.encap_dport = 4500;
	}
	if ((r = ipsec_policy_add(e, &pp, NULL)) != 0)
		return r;
	return ipsec_sa_add(e, 1, &p, NULL);
}

/* A UDP or ICMP echo packet from SA i's sender side to the receiver. */
static inline int ipsec_fuzz_inner_pkt(struct pkt *p, unsigned i, bool icmp)
{
	bool tun = ipsec_fuzz_sas[i].mode == SA_MODE_TUNNEL;
	struct ipv4_hdr h = { .ip_ttl = 64,
			      .ip_id = (uint16_t)(7 + i),
			      .ip_proto = icmp ? IPV4_PROTO_ICMP : IPV4_PROTO_UDP,
			      .ip_src = tun ? ipsec_fuzz_inner(i) : ipsec_fuzz_peer(i),
			      .ip_dst = tun ? SP_IP4(10, 9, 9, 9) : IPSEC_FUZZ_LOCAL };
	int r;

	if ((r = pkt_append(p, "spinat fuzz seed", 16)) != 0)
		return r;
	r = icmp ? icmp_build_echo(p, ICMP_ECHO_REQUEST, 1, (uint16_t)i)
		 : udp_build(p, 5000, 53, h.ip_src, h.ip_dst, true);
	return r != 0 ? r : ipv4_build(p, &h, NULL, 0);
}

struct ipsec_fuzz_seeds {
	struct pkt *out[2 * SP_NELEM(ipsec_fuzz_sas)];
	unsigned n;
};

static inline void ipsec_fuzz_collect(void *arg, struct pkt *p)
{
	struct ipsec_fuzz_seeds *s = arg;

	if (s->n < SP_NELEM(s->out))
		s->out[s->n++] = p;
	else
		pkt_free(p);
}

static inline void ipsec_fuzz_drop(void *arg, struct pkt *p)
{
	(void)arg;
	pkt_free(p);
}

/*
 * Write the seeds through emit(name, data, len, arg): two protected packets per SA, a
 * NAT-T keepalive and an IKE message behind the non-ESP marker. Returns 0 or an SP_E*.
 */
static inline int ipsec_fuzz_write_seeds(int (*emit)(const char *name, const void *data, size_t len,
						     void *arg),
					 void *arg)
{
	struct ipsec_fuzz_seeds seeds = { 0 };
	struct ipsec_cfg cfg = { .name = "seed",
				 .net_out = ipsec_fuzz_collect,
				 .local_out = ipsec_fuzz_drop,
				 .arg = &seeds };
	struct pkt_pool pool;
	struct sp_xoshiro rng;
	struct ipsec *e;
	char name[32];
	int r, bad = 0;

	sp_xoshiro_seed(&rng, 5);
	cfg.rng = &rng.rng;
	if ((r = pkt_pool_init(&pool, 64, PKT_BUFSIZE)) != 0)
		return r;
	if ((r = ipsec_new(&e, &cfg)) != 0)
		goto out;
	for (unsigned i = 0; i < SP_NELEM(ipsec_fuzz_sas); i++) {
		/* The sender's outbound SA is the receiver's inbound one: same SPI and keys. */
		if ((r = ipsec_fuzz_install(e, i, SA_DIR_OUT)) != 0)
			goto out;
		for (int k = 0; k < 2; k++) {
			struct pkt *p = pkt_alloc(&pool);

			if (p == NULL || (r = ipsec_fuzz_inner_pkt(p, i, k)) != 0) {
				pkt_free(p);
				r = r ? r : SP_ENOMEM;
				goto out;
			}
			ipsec_output(e, 1, p);
		}
	}
	for (unsigned i = 0; i < seeds.n; i++) {
		snprintf(name, sizeof(name), "sa%u_%u", i / 2, i % 2);
		bad |= emit(name, pkt_data(seeds.out[i]), seeds.out[i]->len, arg);
	}
	{
		/* IPv4 + UDP 4500 with a keepalive, and with the marker and an IKE header. */
		static const uint8_t ike[4 + 28] = {
			0, 0, 0, 0, 1, 2, 3,  4,    5,	6, 7, 8, 0, 0,
			0, 0, 0, 0, 0, 0, 33, 0x20, 34, 8, 0, 0, 0, 0
		};
		struct ipv4_hdr h = { .ip_ttl = 64,
				      .ip_proto = IPV4_PROTO_UDP,
				      .ip_src = ipsec_fuzz_peer(3),
				      .ip_dst = IPSEC_FUZZ_LOCAL };
		uint8_t ka = 0xff;

		for (int k = 0; k < 2; k++) {
			struct pkt *p = pkt_alloc(&pool);

			if (p == NULL || pkt_append(p, k ? ike : &ka, k ? sizeof(ike) : 1) != 0 ||
			    udp_build(p, 4500, 4500, h.ip_src, h.ip_dst, true) != 0 ||
			    ipv4_build(p, &h, NULL, 0) != 0) {
				pkt_free(p);
				r = SP_ENOMEM;
				goto out;
			}
			bad |= emit(k ? "natt_ike" : "natt_keepalive", pkt_data(p), p->len, arg);
			pkt_free(p);
		}
	}
	r = bad ? SP_EIO : 0;
out:
	for (unsigned i = 0; i < seeds.n; i++)
		pkt_free(seeds.out[i]);
	ipsec_free(e);
	pkt_pool_destroy(&pool);
	return r;
}

#endif
