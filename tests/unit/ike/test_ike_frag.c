/*
 * IKE message fragmentation (RFC 7383) between two instances: the negotiation in
 * IKE_SA_INIT (2.3), an IKE_AUTH with certificate chains fragmented both ways and each
 * fragment checked on the wire and decrypted here with the keys from the key log (2.5),
 * loss, reordering, duplicates and retransmissions (2.6, 2.6.1), and fragments crafted
 * with the real keys to drive the reassembly rules and limits (2.6).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "certgen.h"
#include "ike_harness.h"

#include "base/addr.h"
#include "base/cursor.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "proto/ikev2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_FRAG_SUPPORTED 16430 /* RFC 7383 2.3 */
#define FRAG_SIZE	 576
#define MAXCAP		 64

static char dir[256];

static int setup(void **state)
{
	const struct certgen_peer peers[] = {
		{ "a", { .subject = "C=CH, O=spinat, CN=a", .ip = "10.0.0.1", .rsa = true } },
		{ "b", { .subject = "C=CH, O=spinat, CN=b", .ip = "10.0.0.2", .rsa = true } },
	};

	(void)state;
	return certgen_dir(dir, sizeof(dir), "ikefrag") != 0 || certgen_ca(dir, "ca", true) != 0 ||
			       certgen_chain(dir, "ca", NULL, NULL, peers, 2) != 0
		       ? -1
		       : 0;
}

static int teardown(void **state)
{
	(void)state;
	return certgen_dir_remove(dir);
}

/* root -> inter -> a, b (RSA): each IKE_AUTH carries two certificates, about 2 KB. */
static void conf(char *buf, size_t len, bool init, const char *extra, unsigned frag_size)
{
	snprintf(buf, len,
		 "[conn c]\nlocal = %s\nremote = %s\n%sauth = pubkey\ncert = %s/%s.pem\n"
		 "key = %s/%s.key\nca = %s/ca.pem\nintermediates = %s/inter.pem\n"
		 "local_id = C=CH, O=spinat, CN=%s\nremote_id = C=CH, O=spinat, CN=%s\n"
		 "local_ts = %s\nremote_ts = %s\n%s[ike]\nfragment_size = %u\n",
		 init ? "10.0.0.1" : "10.0.0.2", init ? "10.0.0.2" : "%any",
		 init ? "auto = start\n" : "", dir, init ? "a" : "b", dir, init ? "a" : "b", dir,
		 dir, init ? "a" : "b", init ? "b" : "a", init ? "10.1.0.0/24" : "10.2.0.0/24",
		 init ? "10.2.0.0/24" : "10.1.0.0/24", extra, frag_size);
}

/* ---- what went over the wire ---- */

struct cap {
	struct h_msg m[MAXCAP];
	unsigned n;
	/* fault injection on IKE_AUTH fragments: */
	int drop_to;	   /* -1: none; else drop fragment drop_num of messages to drop_to */
	unsigned drop_num; /* Fragment Number to drop, once */
	bool dropped;
	bool reverse;	  /* hold the IKE_AUTH request's fragments, deliver them reversed */
	unsigned mtu;	  /* drop datagrams larger than this (with IPv4 and UDP headers) */
	unsigned too_big; /* how many were */
	struct h_msg held[MAXCAP];
	unsigned nheld;
};

static uint8_t exch_of(const struct h_msg *m)
{
	return m->data[IKEV2_OFF_EXCH];
}

static uint16_t frag_num(const struct h_msg *m)
{
	return sp_load_be16(m->data + IKEV2_HDR_LEN + 4);
}

static uint16_t frag_total(const struct h_msg *m)
{
	return sp_load_be16(m->data + IKEV2_HDR_LEN + 6);
}

static bool is_frag(const struct h_msg *m)
{
	return m->len >= IKEV2_HDR_LEN + 8 && m->data[IKEV2_OFF_NP] == IKEV2_PLD_SKF;
}

static bool capture(struct h_world *w, struct h_msg *m)
{
	struct cap *c = w->farg;

	if (c->n < MAXCAP)
		c->m[c->n++] = *m;
	if (c->mtu != 0 && m->len + 28 > c->mtu) {
		c->too_big++;
		return false;
	}
	if (is_frag(m) && c->drop_to == m->to && !c->dropped && frag_num(m) == c->drop_num) {
		c->dropped = true;
		return false;
	}
	if (c->reverse && is_frag(m) && m->to == 1 && exch_of(m) == IKEV2_EXCH_IKE_AUTH) {
		c->held[c->nheld++] = *m;
		if (c->nheld < frag_total(m))
			return false;
		/* all held: deliver them last to first, fragment 2 twice */
		c->reverse = false;
		for (unsigned i = c->nheld; i-- > 0;) {
			ike_input(w->n[1].ike, w->now, &c->held[i].path, c->held[i].data,
				  c->held[i].len);
			if (frag_num(&c->held[i]) == 2)
				ike_input(w->n[1].ike, w->now, &c->held[i].path, c->held[i].data,
					  c->held[i].len);
		}
		return false;
	}
	return true;
}

static void world(struct h_world *w, struct cap *c, const char *xi, const char *xr, unsigned fs)
{
	char ci[4096], cr[4096];

	conf(ci, sizeof(ci), true, xi, fs);
	conf(cr, sizeof(cr), false, xr, fs);
	assert_int_equal(h_init(w, ci, cr, 21), 0);
	w->filter = capture;
	w->farg = c;
}

/* One capture for the test running (too large for the stack). */
static struct cap *cap_new(void)
{
	static struct cap c;

	memset(&c, 0, sizeof(c));
	c.drop_to = -1;
	return &c;
}

/* Does the IKE_SA_INIT message carry an empty IKEV2_FRAGMENTATION_SUPPORTED notify? */
static bool has_frag_notify(const struct h_msg *m)
{
	struct ikev2_pld_iter it;
	struct ikev2_pld pl;
	struct ikev2_hdr h;
	struct cur c;
	bool found = false;

	cur_init(&c, m->data, m->len);
	assert_int_equal(ikev2_parse(&c, &h), 0);
	assert_int_equal(ikev2_pld_iter_init(&it, &c, &h), 0);
	while (ikev2_pld_next(&it, &pl) == 0) {
		if (pl.pld_type != IKEV2_PLD_NOTIFY || cur_left(&pl.pld_body) < 4)
			continue;
		if (sp_load_be16(cur_ptr(&pl.pld_body) + 2) != N_FRAG_SUPPORTED)
			continue;
		/* 2.3: Protocol ID 0, SPI Size 0, no notification data */
		assert_int_equal(pl.pld_len, 8);
		assert_int_equal(cur_ptr(&pl.pld_body)[0], 0);
		assert_int_equal(cur_ptr(&pl.pld_body)[1], 0);
		found = true;
	}
	return found;
}

/* ---- the keys, from the key log, for checking fragments here ---- */

struct keys {
	uint64_t spi_i, spi_r;
	uint8_t ei[36], er[36];
};

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void keys_read(const char *log, struct keys *k)
{
	unsigned long long si, sr;
	const char *p;

	assert_int_equal(sscanf(log, "%llx,%llx,", &si, &sr), 2);
	k->spi_i = si;
	k->spi_r = sr;
	assert_non_null(p = strchr(log, ','));
	assert_non_null(p = strchr(p + 1, ','));
	unhex(p + 1, k->ei, 36); /* AES-256-GCM key | salt (RFC 5282) */
	assert_non_null(p = strchr(p + 1, ','));
	unhex(p + 1, k->er, 36);
}

/*
 * Check one fragment's layout (2.5) and decrypt it with key: its content is appended to
 * out. Returns the Next Payload of its SKF payload.
 */
static uint8_t open_frag(const struct h_msg *m, const uint8_t *key, uint8_t *out, size_t *olen)
{
	struct crypto_aead *a = NULL;
	uint8_t buf[16384];
	size_t len = m->len, ctlen;
	uint8_t *ct, *icv;

	memcpy(buf, m->data, len);
	assert_int_equal(buf[IKEV2_OFF_NP], IKEV2_PLD_SKF);
	assert_int_equal(sp_load_be32(buf + IKEV2_OFF_LEN), len);
	assert_int_equal(buf[IKEV2_HDR_LEN + 1], 0); /* C and RESERVED */
	assert_int_equal(sp_load_be16(buf + IKEV2_HDR_LEN + 2), len - IKEV2_HDR_LEN);
	/* IKE header | SKF header | Fragment Number | Total Fragments | IV (8) | ... | ICV 16 */
	ct = buf + IKEV2_HDR_LEN + 8 + 8;
	icv = buf + len - 16;
	ctlen = (size_t)(icv - ct);
	assert_int_equal(crypto_aead_new(&a, CRYPTO_AEAD_AES_GCM, key, 36, 16, CRYPTO_DEC), 0);
	/* the associated data runs through Total Fragments: the header is protected too */
	assert_int_equal(crypto_aead_open(a, buf + IKEV2_HDR_LEN + 8, buf, IKEV2_HDR_LEN + 8, ct,
					  ctlen, icv),
			 0);
	crypto_aead_free(a);
	assert_true(ct[ctlen - 1] + 1u <= ctlen);
	ctlen -= ct[ctlen - 1] + 1u;
	memcpy(out + *olen, ct, ctlen);
	*olen += ctlen;
	return buf[IKEV2_HDR_LEN];
}

/* Types of the payloads of a decrypted chain; the number of CERT payloads. */
static unsigned count_certs(const uint8_t *chain, size_t len, uint8_t first)
{
	struct ikev2_pld_iter it;
	struct ikev2_pld pl;
	unsigned n = 0;
	struct cur c;
	int r;

	cur_init(&c, chain, len);
	ikev2_pld_iter_init_chain(&it, &c, first);
	while ((r = ikev2_pld_next(&it, &pl)) == 0)
		n += pl.pld_type == IKEV2_PLD_CERT;
	assert_int_equal(r, SP_ENOTFOUND);
	return n;
}

/* The fragments of one IKE_AUTH message (to node `to`), checked; the number of them. */
static unsigned check_auth(const struct cap *c, int to, const uint8_t *key)
{
	static uint8_t chain[16384];
	size_t clen = 0;
	unsigned n = 0, total = 0;
	uint8_t first = 0;

	for (unsigned i = 0; i < c->n; i++) {
		const struct h_msg *m = &c->m[i];

		if (m->to != to || exch_of(m) != IKEV2_EXCH_IKE_AUTH)
			continue;
		assert_true(is_frag(m));
		/* each datagram, with IPv4 and UDP headers, within fragment_size (2.5.1) */
		assert_true(m->len + 28 <= FRAG_SIZE);
		assert_int_equal(sp_load_be32(m->data + IKEV2_OFF_MSGID), 1);
		assert_int_equal(m->data[IKEV2_OFF_FLAGS], to == 1 ? IKEV2_FLAG_I : IKEV2_FLAG_R);
		if (n == 0)
			total = frag_total(m);
		assert_int_equal(frag_total(m), total);
		assert_int_equal(frag_num(m), n + 1); /* sent in order, no gaps */
		uint8_t np = open_frag(m, key, chain, &clen);
		/* 2.5: fragment 1 names the first inner payload, the others zero */
		if (n == 0)
			first = np;
		else
			assert_int_equal(np, 0);
		n++;
		if (n == total)
			break;
	}
	assert_int_equal(n, total);
	assert_int_equal(first, to == 1 ? IKEV2_PLD_IDI : IKEV2_PLD_IDR);
	/* the contents in order are the message's payloads: ID, our cert and the intermediate */
	assert_int_equal(count_certs(chain, clen, first), 2);
	return n;
}

/* IKE_AUTH with certificate chains over fragment_size = 576: fragmented both ways. */
static void chain_fragmented_both_ways(void **state)
{
	struct h_world w;
	struct cap *c = cap_new();
	char *log = NULL;
	size_t loglen = 0;
	struct keys k;
	unsigned nreq, nresp;

	(void)state;
	world(&w, c, "", "", FRAG_SIZE);
	assert_non_null(w.keylog = open_memstream(&log, &loglen));
	h_run(&w, w.now + SP_SEC(10));
	fclose(w.keylog);
	w.keylog = NULL;
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_true(h_keys_pair(&w.n[0], &w.n[1]));
	/* 2.3: announced by both in IKE_SA_INIT */
	assert_int_equal(exch_of(&c->m[0]), IKEV2_EXCH_IKE_SA_INIT);
	assert_true(has_frag_notify(&c->m[0]));
	assert_int_equal(exch_of(&c->m[1]), IKEV2_EXCH_IKE_SA_INIT);
	assert_true(has_frag_notify(&c->m[1]));
	keys_read(log, &k);
	nreq = check_auth(c, 1, k.ei);
	nresp = check_auth(c, 0, k.er);
	assert_true(nreq >= 3 && nresp >= 3);
	assert_int_equal(h_ctr(&w.n[0], "frag_tx"), nreq);
	assert_int_equal(h_ctr(&w.n[1], "frag_rx"), nreq);
	assert_int_equal(h_ctr(&w.n[1], "frag_tx"), nresp);
	assert_int_equal(h_ctr(&w.n[0], "frag_reassembled"), 1);
	assert_int_equal(h_ctr(&w.n[1], "frag_reassembled"), 1);
	assert_int_equal(h_ctr(&w.n[0], "retransmit"), 0);
	/* small messages stay whole: a CHILD SA rekey fits one datagram */
	assert_int_equal(ike_rekey(w.n[0].ike, w.now, "c", false), 0);
	h_run(&w, w.now + SP_SEC(10));
	assert_int_equal(h_events(&w.n[0], IKE_EV_CHILD_REKEYED), 1);
	assert_int_equal(h_ctr(&w.n[0], "frag_tx"), nreq);
	assert_int_equal(h_ctr(&w.n[1], "frag_tx"), nresp);
	h_free(&w);
	free(log);
}

/* Without the responder's consent (fragmentation = no) nothing is fragmented. */
static void not_negotiated(void **state)
{
	struct h_world w;
	struct cap *c = cap_new();

	(void)state;
	world(&w, c, "", "fragmentation = no\n", FRAG_SIZE);
	h_run(&w, w.now + SP_SEC(10));
	assert_true(has_frag_notify(&c->m[0]));
	assert_false(has_frag_notify(&c->m[1]));
	/* the harness has no MTU: the whole IKE_AUTH gets through */
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(h_ctr(&w.n[0], "frag_tx"), 0);
	assert_int_equal(h_ctr(&w.n[1], "frag_tx"), 0);
	for (unsigned i = 0; i < c->n; i++)
		assert_false(is_frag(&c->m[i]));
	h_free(&w);
	/* nor with the initiator's */
	c = cap_new();
	world(&w, c, "fragmentation = no\n", "", FRAG_SIZE);
	h_run(&w, w.now + SP_SEC(10));
	assert_false(has_frag_notify(&c->m[0]));
	assert_false(has_frag_notify(&c->m[1]));
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_int_equal(h_ctr(&w.n[0], "frag_tx") + h_ctr(&w.n[1], "frag_tx"), 0);
	h_free(&w);
}

/* Fragments out of order, one twice: reassembled without a retransmission. */
static void reordered_and_duplicate(void **state)
{
	struct h_world w;
	struct cap *c = cap_new();

	(void)state;
	c->reverse = true;
	world(&w, c, "", "", FRAG_SIZE);
	h_run(&w, w.now + SP_SEC(10));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_int_equal(h_ctr(&w.n[1], "drop_frag_duplicate"), 1);
	assert_int_equal(h_ctr(&w.n[1], "frag_reassembled"), 1);
	assert_int_equal(h_ctr(&w.n[0], "retransmit"), 0);
	h_free(&w);
}

/* The handshake with fragment drop_num of the IKE_AUTH message to node drop_to lost once:
 * the initiator retransmitted its request once and both have the CHILD SA. */
static struct cap *fragment_lost(struct h_world *w, int drop_to, unsigned drop_num)
{
	struct cap *c = cap_new();

	c->drop_to = drop_to;
	c->drop_num = drop_num;
	world(w, c, "", "", FRAG_SIZE);
	h_run(w, w->now + SP_SEC(10));
	assert_true(c->dropped);
	assert_int_equal(ike_child_count(w->n[0].ike), 1);
	assert_int_equal(ike_child_count(w->n[1].ike), 1);
	assert_int_equal(h_ctr(&w->n[0], "retransmit"), 1);
	return c;
}

/* A lost request fragment: the initiator retransmits all of them (2.6.1); those the
 * responder holds already are duplicates. */
static void request_fragment_lost(void **state)
{
	struct h_world w;
	uint64_t n;

	(void)state;
	fragment_lost(&w, 1, 2);
	n = h_ctr(&w.n[1], "frag_rx");
	assert_true(n >= 3);
	assert_int_equal(h_ctr(&w.n[0], "frag_tx"), 2 * n);
	/* of the second round, fragment 1 was held already and 2 completed the message;
	 * the rest belong to a request answered now and bring nothing back (2.6.1) */
	assert_int_equal(h_ctr(&w.n[1], "drop_frag_duplicate"), 1);
	assert_int_equal(h_ctr(&w.n[1], "frag_reassembled"), 1);
	assert_int_equal(h_ctr(&w.n[1], "drop_frag_retransmit"), n - 2);
	assert_int_equal(h_ctr(&w.n[1], "response_resent"), 0);
	h_free(&w);
}

/* A lost response fragment: of the retransmitted request only fragment 1 brings the
 * cached response back (2.6.1), which goes whole again. */
static void response_fragment_lost(void **state)
{
	struct h_world w;
	uint64_t nreq, nresp;

	(void)state;
	fragment_lost(&w, 0, 3);
	nreq = h_ctr(&w.n[0], "frag_tx") / 2;
	nresp = h_ctr(&w.n[1], "frag_tx") / 2;
	assert_int_equal(h_ctr(&w.n[1], "response_resent"), 1);
	assert_int_equal(h_ctr(&w.n[1], "drop_frag_retransmit"), nreq - 1);
	assert_int_equal(h_ctr(&w.n[1], "frag_reassembled"), 1);
	/* the initiator held 1 and 2, 3 completed it, the rest came after the exchange */
	assert_int_equal(h_ctr(&w.n[0], "drop_frag_duplicate"), 2);
	assert_int_equal(h_ctr(&w.n[0], "frag_reassembled"), 1);
	assert_int_equal(h_ctr(&w.n[0], "drop_unexpected_response"), nresp - 3);
	h_free(&w);
}

/* A path that takes 600 octets under fragment_size = 1280: after two unanswered
 * transmissions the request goes in fragments of 576 (RFC 7383 2.5.2), and the responder
 * cuts its answer no larger than what reached it. */
static void smaller_fragments_after_retransmissions(void **state)
{
	struct h_world w;
	struct cap *c = cap_new();
	unsigned small_req = 0, small_resp = 0;

	(void)state;
	c->mtu = 600;
	world(&w, c, "", "", 1280);
	h_run(&w, w.now + SP_SEC(30));
	assert_int_equal(ike_child_count(w.n[0].ike), 1);
	assert_int_equal(ike_child_count(w.n[1].ike), 1);
	assert_int_equal(h_ctr(&w.n[0], "retransmit"), 2);
	assert_int_equal(h_ctr(&w.n[0], "frag_size_reduced"), 1);
	assert_true(h_logged(&w.n[0], "of 1280 octets; sending them in"));
	/* the full fragments of the first two rounds did not fit; the last (smaller) one did */
	assert_int_equal(c->too_big, 2);
	for (unsigned i = 0; i < c->n; i++) {
		if (!is_frag(&c->m[i]))
			continue;
		if (c->m[i].to == 1 && c->m[i].len + 28 <= 576)
			small_req++;
		if (c->m[i].to == 0) {
			assert_true(c->m[i].len + 28 <= 600);
			small_resp++;
		}
	}
	assert_true(small_req >= 3);
	assert_true(small_resp >= 3);
	/* the responder held fragment 2 of 2, then came fragments of 576: it started over */
	assert_int_equal(h_ctr(&w.n[1], "frag_reassembly_restarted"), 1);
	assert_int_equal(h_ctr(&w.n[1], "frag_reassembled"), 1);
	assert_int_equal(h_ctr(&w.n[0], "frag_reassembled"), 1);
	h_free(&w);
}

/* ---- crafted fragments, with the initiator's keys ---- */

struct crafted {
	struct h_world w;
	struct cap *c;
	struct ike_sa *isa; /* the initiator's, whose keys seal the fragments */
	struct ike_path path;
	uint8_t vid[70000]; /* a Vendor ID payload to fragment: ignored by the receiver */
	uint8_t buf[65536];
};

static void crafted_up(struct crafted *x, const char *extra_r)
{
	char *log = NULL;
	size_t loglen = 0;
	struct keys k;

	x->c = cap_new();
	world(&x->w, x->c, "", extra_r, 4000); /* IKE_AUTH whole */
	assert_non_null(x->w.keylog = open_memstream(&log, &loglen));
	h_run(&x->w, x->w.now + SP_SEC(10));
	fclose(x->w.keylog);
	x->w.keylog = NULL;
	assert_int_equal(ike_child_count(x->w.n[1].ike), 1);
	keys_read(log, &k);
	free(log);
	assert_non_null(x->isa = h_ike_sa(&x->w.n[0], k.spi_i));
	x->path = (struct ike_path){ SP_IP4(10, 0, 0, 2), SP_IP4(10, 0, 0, 1), 500, 500 };
	/* Vendor ID (43): generic header, then data; the chain is this one payload */
	memset(x->vid, 'v', sizeof(x->vid));
}

/* The Vendor ID payload of vlen octets as the inner chain. */
static const uint8_t *vid(struct crafted *x, size_t vlen)
{
	x->vid[0] = 0;
	x->vid[1] = 0;
	sp_store_be16(x->vid + 2, (uint16_t)vlen);
	return x->vid;
}

/* One IKE Fragment message of an INFORMATIONAL request from the initiator into x->buf:
 * clen octets of the Vendor ID from off; its length. */
static size_t craft(struct crafted *x, uint32_t msgid, uint16_t num, uint16_t total, uint8_t np,
		    size_t off, size_t clen)
{
	struct h_skf f = { .exch = IKEV2_EXCH_INFORMATIONAL,
			   .flags = IKEV2_FLAG_I,
			   .msgid = msgid,
			   .num = num,
			   .total = total,
			   .np = np };
	size_t len = h_skf_seal(x->isa, &f, x->vid + off, clen, x->buf);

	assert_true(len > 0);
	return len;
}

/* The same, Next Payload as a sender sets it (2.5), to the responder. */
static void send_frag(struct crafted *x, uint32_t msgid, uint16_t num, uint16_t total, size_t off,
		      size_t clen)
{
	size_t len = craft(x, msgid, num, total, num == 1 ? 43 : 0, off, clen);

	ike_input(x->w.n[1].ike, x->w.now, &x->path, x->buf, len);
}

static unsigned responses(struct crafted *x)
{
	unsigned n = 0;

	for (unsigned i = 0; i < x->w.nq; i++)
		n += x->w.q[i].to == 0;
	return n;
}

/* 2.6: a larger Total Fragments restarts reassembly, a smaller one is not mixed in. */
static void total_fragments_change(void **state)
{
	struct crafted *x = calloc(1, sizeof(*x));
	struct h_node *r;

	(void)state;
	assert_non_null(x);
	crafted_up(x, "");
	r = &x->w.n[1];
	vid(x, 1200);
	/* the message in three pieces of 400: two arrive */
	send_frag(x, 2, 1, 3, 0, 400);
	send_frag(x, 2, 2, 3, 400, 400);
	assert_int_equal(h_ctr(r, "frag_rx"), 2);
	assert_int_equal(responses(x), 0);
	/* the sender went to four pieces of 300: everything held is dropped */
	send_frag(x, 2, 1, 4, 0, 300);
	assert_int_equal(h_ctr(r, "frag_reassembly_restarted"), 1);
	/* a late piece of the three: not taken */
	send_frag(x, 2, 3, 3, 800, 400);
	assert_int_equal(h_ctr(r, "drop_frag_total_changed"), 1);
	send_frag(x, 2, 3, 4, 600, 300);
	send_frag(x, 2, 3, 4, 600, 300);
	assert_int_equal(h_ctr(r, "drop_frag_duplicate"), 1);
	assert_int_equal(responses(x), 0);
	send_frag(x, 2, 2, 4, 300, 300);
	send_frag(x, 2, 4, 4, 900, 300);
	/* complete and authentic: answered */
	assert_int_equal(h_ctr(r, "frag_reassembled"), 1);
	assert_int_equal(responses(x), 1);
	h_run(&x->w, x->w.now + SP_SEC(1));
	assert_int_equal(ike_child_count(x->w.n[0].ike), 1);
	h_free(&x->w);
	free(x);
}

/* Hostile fragments: bad fields, bad ICV, too many, too much, not negotiated. */
static void hostile_fragments(void **state)
{
	struct crafted *x = calloc(1, sizeof(*x));
	struct h_node *r;
	size_t len;

	(void)state;
	assert_non_null(x);
	crafted_up(x, "");
	r = &x->w.n[1];
	vid(x, 1000);
	/* Fragment Number 0, above Total Fragments, Total 0; Next Payload rules (2.5) */
	send_frag(x, 2, 0, 2, 0, 100);
	send_frag(x, 2, 3, 2, 0, 100);
	send_frag(x, 2, 1, 0, 0, 100);
	len = craft(x, 2, 2, 2, 43, 0, 100);
	ike_input(r->ike, x->w.now, &x->path, x->buf, len);
	len = craft(x, 2, 1, 2, 0, 0, 100);
	ike_input(r->ike, x->w.now, &x->path, x->buf, len);
	assert_int_equal(h_ctr(r, "drop_frag_malformed"), 5);
	/* more fragments than IKE_FRAG_MAX (128) */
	send_frag(x, 2, 1, 129, 0, 100);
	assert_int_equal(h_ctr(r, "drop_frag_too_many"), 1);
	/* a flipped bit anywhere, Total Fragments included (associated data): integrity */
	len = craft(x, 2, 1, 2, 43, 0, 100);
	x->buf[IKEV2_HDR_LEN + 7] ^= 1;
	ike_input(r->ike, x->w.now, &x->path, x->buf, len);
	len = craft(x, 2, 1, 2, 43, 0, 100);
	x->buf[len - 20] ^= 1;
	ike_input(r->ike, x->w.now, &x->path, x->buf, len);
	assert_int_equal(h_ctr(r, "drop_frag_integrity"), 2);
	assert_int_equal(h_ctr(r, "frag_rx"), 0);
	/* a message of over 64 KiB in two authentic pieces: the reassembly gives up */
	vid(x, 40000);
	send_frag(x, 2, 1, 2, 0, 40000);
	send_frag(x, 2, 2, 2, 0, 30000);
	assert_int_equal(h_ctr(r, "drop_frag_overflow"), 1);
	assert_int_equal(h_ctr(r, "frag_reassembled"), 0);
	/* what is left afterwards is a fresh start: a proper message gets through */
	vid(x, 600);
	send_frag(x, 2, 2, 2, 300, 300);
	send_frag(x, 2, 1, 2, 0, 300);
	assert_int_equal(h_ctr(r, "frag_reassembled"), 1);
	assert_int_equal(responses(x), 1);
	h_free(&x->w);
	/* an SA that did not negotiate fragmentation takes none */
	crafted_up(x, "fragmentation = no\n");
	r = &x->w.n[1];
	vid(x, 600);
	send_frag(x, 2, 1, 2, 0, 300);
	assert_int_equal(h_ctr(r, "drop_frag_not_negotiated"), 1);
	assert_int_equal(h_ctr(r, "frag_rx"), 0);
	h_free(&x->w);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain_fragmented_both_ways),
		cmocka_unit_test(not_negotiated),
		cmocka_unit_test(reordered_and_duplicate),
		cmocka_unit_test(request_fragment_lost),
		cmocka_unit_test(response_fragment_lost),
		cmocka_unit_test(smaller_fragments_after_retransmissions),
		cmocka_unit_test(total_fragments_change),
		cmocka_unit_test(hostile_fragments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
