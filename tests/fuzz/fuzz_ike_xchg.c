/*
 * IKE past IKE_SA_INIT. Two IKE instances (tests/unit/ike's in-memory harness, virtual
 * time, seeded randomness) run a real handshake with a pre-shared key; the first request of
 * the chosen kind that the initiator sends is decrypted with the responder's keys, its
 * payload chain mutated as the input says, encrypted again with the initiator's keys and
 * handed to the responder instead. The responder's payload parsers and its IKE_AUTH,
 * CREATE_CHILD_SA and INFORMATIONAL handlers thus see hostile chains inside correctly
 * authenticated messages, which no input from outside the keys can reach.
 *
 * Input: byte 0 picks the exchange (below); the rest is a list of 4-byte edits of the
 * plaintext chain [op, position high, position low, value]; op 6 ends the list and the
 * bytes after it are appended to the chain as they are.
 */
#include "fuzz.h"
#include "ike/ike_priv.h"

/* The harness is built into this file with a short queue: a few messages are in flight
 * at once, and zeroing 256 queue slots of 16 KiB for every input cost half the time. */
#define H_MAX_MSG 16
#include "../unit/ike/ike_harness.c"

#include <string.h>

#define CONF_I                                                                          \
	"[conn c]\nlocal = 10.0.0.1\nremote = 10.0.0.2\nauto = start\n"                 \
	"psk = sharedsecret1\nlocal_ts = 10.1.0.0/24\nremote_ts = 10.2.0.0/24\n"        \
	"ike = aes256gcm16-prfsha256-x25519\nesp = aes256gcm16-x25519, aes128-sha256\n" \
	"dpd_delay = 5s\n"
#define CONF_R                                                                          \
	"[conn c]\nlocal = 10.0.0.2\nremote = %any\npsk = sharedsecret1\n"              \
	"local_ts = 10.2.0.0/24\nremote_ts = 10.1.0.0/24\n"                             \
	"ike = aes256gcm16-prfsha256-x25519\nesp = aes256gcm16-x25519, aes128-sha256\n" \
	"dpd_delay = 5s\n"

#define CHAIN_MAX 8192

enum mode {
	M_AUTH,	       /* the IKE_AUTH request */
	M_CHILD_REKEY, /* CREATE_CHILD_SA rekeying the CHILD SA (PFS: KE) */
	M_IKE_REKEY,   /* CREATE_CHILD_SA rekeying the IKE SA */
	M_DELETE,      /* INFORMATIONAL deleting the IKE SA */
	M_DPD,	       /* INFORMATIONAL liveness check (empty) */
	M_N
};

static const uint8_t mode_exch[M_N] = { IKEV2_EXCH_IKE_AUTH, IKEV2_EXCH_CREATE_CHILD_SA,
					IKEV2_EXCH_CREATE_CHILD_SA, IKEV2_EXCH_INFORMATIONAL,
					IKEV2_EXCH_INFORMATIONAL };

static struct {
	const uint8_t *ops;
	size_t nops;
	uint8_t exch;
	bool armed, done;
	uint8_t chain[CHAIN_MAX];
	size_t len;
	uint8_t first;
} fz;

static struct ike_sa *sa_by_spi(struct ike *ike, uint64_t spi_i)
{
	for (struct ike_sa *sa = ike->sas; sa != NULL; sa = sa->next)
		if (sa->spi_i == spi_i && sa->keys.prf_len != 0)
			return sa;
	return NULL;
}

/* The edits of the input applied to the plaintext chain. */
static void mutate(void)
{
	size_t i;

	for (i = 0; i + 4 <= fz.nops; i += 4) {
		const uint8_t *o = fz.ops + i;
		size_t pos = (size_t)o[1] << 8 | o[2];

		switch (o[0] % 7) {
		case 0: /* overwrite */
			if (fz.len > 0)
				fz.chain[pos % fz.len] = o[3];
			break;
		case 1: /* insert */
			if (fz.len < CHAIN_MAX) {
				pos %= fz.len + 1;
				memmove(fz.chain + pos + 1, fz.chain + pos, fz.len - pos);
				fz.chain[pos] = o[3];
				fz.len++;
			}
			break;
		case 2: /* delete */
			if (fz.len > 0) {
				pos %= fz.len;
				memmove(fz.chain + pos, fz.chain + pos + 1, fz.len - pos - 1);
				fz.len--;
			}
			break;
		case 3: /* truncate */
			fz.len = fz.len > 0 ? pos % (fz.len + 1) : 0;
			break;
		case 4: /* the first payload's type */
			fz.first = o[3];
			break;
		case 5: /* add to a 16-bit field, e.g. a length */
			if (fz.len > 1) {
				pos %= fz.len - 1;
				sp_store_be16(
					fz.chain + pos,
					(uint16_t)(sp_load_be16(fz.chain + pos) + o[3] - 128));
			}
			break;
		default: /* the rest of the input, appended */
			i += 4;
			if (fz.nops - i <= CHAIN_MAX - fz.len) {
				memcpy(fz.chain + fz.len, fz.ops + i, fz.nops - i);
				fz.len += fz.nops - i;
			}
			return;
		}
	}
}

static int put_chain(struct ike_sa *sa, struct ikev2_pld_writer *w, void *arg)
{
	(void)sa;
	(void)arg;
	w->pw_first = fz.first;
	return fz.len > 0 ? pkt_append(w->pw_p, fz.chain, (uint32_t)fz.len) : 0;
}

/* The harness's filter: swap the chosen request for its mutated copy. */
static bool swap(struct h_world *w, struct h_msg *m)
{
	struct ike_sa *rsa, *isa;
	struct ikev2_pld sk = { 0 };
	uint8_t copy[16384];
	struct ike_wire out;
	uint64_t spi_i;
	struct cur chain;

	if (!fz.armed || fz.done || m->to != 1 || m->len < IKEV2_HDR_LEN + 4 ||
	    m->data[18] != fz.exch || (m->data[19] & IKEV2_FLAG_R) || m->data[16] != IKEV2_PLD_SK)
		return true;
	spi_i = sp_load_be64(m->data);
	if ((rsa = sa_by_spi(w->n[1].ike, spi_i)) == NULL ||
	    (isa = sa_by_spi(w->n[0].ike, spi_i)) == NULL)
		return true;
	memcpy(copy, m->data, m->len);
	sk.pld_type = IKEV2_PLD_SK;
	sk.pld_np = copy[IKEV2_HDR_LEN];
	sk.pld_len = sp_load_be16(copy + IKEV2_HDR_LEN + 2);
	sk.pld_off = 0;
	if (ike_msg_decrypt(rsa, copy, m->len, &sk, &chain) != 0 || chain.len > CHAIN_MAX)
		return true;
	fz.done = true;
	memcpy(fz.chain, chain.p, chain.len);
	fz.len = chain.len;
	fz.first = sk.pld_np;
	mutate();
	if (ike_msg_build(w->n[0].ike, isa, fz.exch, false, sp_load_be32(m->data + 20), true,
			  put_chain, NULL, &out) == 0) {
		/* one datagram, or (RFC 7383) its fragments, each behind its 2-octet length */
		if (out.nfrag == 0)
			ike_input(w->n[1].ike, w->now, &m->path, out.buf, out.len);
		for (size_t off = 0; out.nfrag > 0 && off + 2 <= out.len;) {
			size_t flen = sp_load_be16(out.buf + off);

			ike_input(w->n[1].ike, w->now, &m->path, out.buf + off + 2, flen);
			off += 2 + flen;
		}
		ike_wire_free(&out);
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct h_world w;
	enum mode mode;
	int r = 0;

	if (size < 1 || size > CHAIN_MAX)
		return 0;
	mode = (enum mode)(data[0] % M_N);
	memset(&fz, 0, sizeof(fz));
	fz.ops = data + 1;
	fz.nops = size - 1;
	fz.exch = mode_exch[mode];
	FUZZ_CHECK(h_init(&w, CONF_I, CONF_R, 1) == 0);
	w.filter = swap;
	fz.armed = mode == M_AUTH;
	h_run(&w, w.now + SP_SEC(1));
	if (mode != M_AUTH && h_sa_count(&w.n[1]) > 0) {
		fz.armed = true;
		switch (mode) {
		case M_CHILD_REKEY:
			r = ike_rekey(w.n[0].ike, w.now, "c", false);
			break;
		case M_IKE_REKEY:
			r = ike_rekey(w.n[0].ike, w.now, "c", true);
			break;
		case M_DELETE:
			r = ike_down(w.n[0].ike, w.now, "c");
			break;
		default:
			break; /* dpd_delay passes below */
		}
		(void)r;
	}
	h_run(&w, w.now + SP_SEC(20));
	/* Whatever the chain, the responder holds a bounded number of SAs. */
	FUZZ_CHECK(h_sa_count(&w.n[1]) < H_MAX_SA);
	h_free(&w);
	return 0;
}
