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
 *
 * Fragment mode (RFC 7383), byte 0 = 0xf0 + exchange: the (edited) chain reaches the
 * responder as Encrypted Fragment payloads cut and numbered as the input says, each one
 * encrypted and integrity protected with the initiator's real keys, so that the checks
 * after the ICV (numbers, Total Fragments, duplicates, message ids, bounds) and the
 * reassembled message's handlers see what the input chose. Byte 1 is the number k of
 * edits, then 4k bytes of edits as above, then two bytes v: the chain is cut in pieces of
 * 1 + v % (chain length) octets, then a script of 5-byte commands [op, a, b, c, f]:
 *   op % 4 == 0  one fragment: piece a, Fragment Number b, Total Fragments c
 *   op % 4 == 1  pieces a .. a + b - 1 (b = 0: to the last), numbered as a sender would
 *   op % 4 == 2  cut again in pieces of 1 + (a << 8 | b) % (chain length) octets
 *   op % 4 == 3  the whole message in one SK payload, not fragmented
 * f: bits 0-1 the message id's distance from the request's, minus 1 (the previous,
 * this, the next, the one after); bit 2 another exchange type; bit 3 the Response flag
 * set; bit 4 (op 0) piece a under every Fragment Number from b through c; bit 5 a Pad
 * Length of 255; bit 6 the SKF Payload Length one more (with bit 5: one less), sealed
 * as it is; bit 7 a bit of the ICV flipped after sealing. op bit 2 in a fragment: Next
 * Payload is 32 + (op >> 3) rather than the rule's.
 * Byte 0 values 0xf0-0xf4 were not in the seed corpus of the other modes.
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
#define MODE_FRAG 0xf0

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
	bool armed, done, frag;
	const uint8_t *script; /* fragment mode: the cut and the commands */
	size_t nscript;
	uint8_t chain[CHAIN_MAX];
	size_t len;
	uint8_t first;
} fz;

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

/* Fragment mode: deliver the chain to the responder as the script says. */
static void deliver(struct h_world *w, struct h_msg *m, struct ike_sa *isa)
{
	static uint8_t buf[CHAIN_MAX + 256];
	const uint8_t *s = fz.script;
	size_t ns = fz.nscript, piece, npieces;
	uint32_t msgid0 = sp_load_be32(m->data + IKEV2_OFF_MSGID);
	uint8_t flags0 = m->data[IKEV2_OFF_FLAGS];

	if (ns < 2 || fz.len == 0)
		return;
	piece = 1 + (size_t)(s[0] << 8 | s[1]) % fz.len;
	for (s += 2, ns -= 2; ns >= 5; s += 5, ns -= 5) {
		uint32_t msgid = msgid0 + (s[4] & 3) - 1;
		uint8_t exch = (s[4] & 4) ? (fz.exch == IKEV2_EXCH_INFORMATIONAL
						     ? IKEV2_EXCH_CREATE_CHILD_SA
						     : IKEV2_EXCH_INFORMATIONAL)
					  : fz.exch;
		uint8_t flags = (s[4] & 8) ? flags0 ^ IKEV2_FLAG_R : flags0;
		size_t first = 0, last = 0;

		npieces = (fz.len + piece - 1) / piece;
		switch (s[0] % 4) {
		case 0:
			first = s[1] % npieces;
			last = first + 1;
			break;
		case 1:
			first = s[1] % npieces;
			last = s[2] == 0 ? npieces : SP_MIN(npieces, first + s[2]);
			break;
		case 2:
			piece = 1 + (size_t)(s[1] << 8 | s[2]) % fz.len;
			continue;
		default: {
			struct ike_wire out;

			if (ike_msg_build(w->n[0].ike, isa, exch, (flags & IKEV2_FLAG_R) != 0,
					  msgid, true, put_chain, NULL, &out) != 0)
				continue;
			if (out.nfrag == 0)
				ike_input(w->n[1].ike, w->now, &m->path, out.buf, out.len);
			ike_wire_free(&out);
			continue;
		}
		}
		/* op 0 with f bit 4: one piece under the numbers b..c */
		if (s[0] % 4 == 0 && (s[4] & 0x10) && s[3] >= s[2])
			last = first + 1 + (size_t)(s[3] - s[2]);
		for (size_t j = first; j < last; j++) {
			size_t i = s[0] % 4 == 0 ? first : j;
			size_t clen = SP_MIN(piece, fz.len - i * piece), len;
			uint16_t num = (uint16_t)(i + 1), total = (uint16_t)npieces;
			struct h_skf f;
			uint8_t np;

			if (s[0] % 4 == 0) {
				num = (uint16_t)(s[2] + (j - first));
				total = s[3];
			}
			np = (s[0] & 4) ? (uint8_t)(32 + (s[0] >> 3))
					: (num == 1 ? fz.first : IKEV2_PLD_NONE);
			f = (struct h_skf){ .exch = exch,
					    .flags = flags,
					    .msgid = msgid,
					    .num = num,
					    .total = total,
					    .np = np };
			if (s[4] & 0x40) /* the Payload Length one off, sealed as it is */
				f.len_adj = (s[4] & 0x20) ? -1 : 1;
			f.pad_255 = (s[4] & 0x20) != 0;
			len = h_skf_seal(isa, &f, fz.chain + i * piece, clen, buf);
			if (len > 0 && (s[4] & 0x80))
				buf[len - 1] ^= 1;
			if (len > 0)
				ike_input(w->n[1].ike, w->now, &m->path, buf, len);
		}
	}
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
	if ((rsa = h_ike_sa(&w->n[1], spi_i)) == NULL || (isa = h_ike_sa(&w->n[0], spi_i)) == NULL)
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
	if (fz.frag) {
		deliver(w, m, isa);
		return false;
	}
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
	memset(&fz, 0, sizeof(fz));
	if (data[0] >= MODE_FRAG && data[0] < MODE_FRAG + M_N) {
		size_t nedit;

		if (size < 2)
			return 0;
		nedit = SP_MIN((size_t)data[1] * 4, size - 2);
		mode = (enum mode)(data[0] - MODE_FRAG);
		fz.frag = true;
		fz.ops = data + 2;
		fz.nops = nedit;
		fz.script = data + 2 + nedit;
		fz.nscript = size - 2 - nedit;
	} else {
		mode = (enum mode)(data[0] % M_N);
		fz.ops = data + 1;
		fz.nops = size - 1;
	}
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
	/* What the responder counts as held in reassemblies is what its SAs hold. */
	{
		size_t held = 0;

		for (struct ike_sa *sa = w.n[1].ike->sas; sa != NULL; sa = sa->next)
			for (int i = 0; i < 2; i++)
				held += sa->reasm[i] != NULL ? sa->reasm[i]->used : 0;
		FUZZ_CHECK(held == w.n[1].ike->frag_held);
	}
	h_free(&w);
	return 0;
}
