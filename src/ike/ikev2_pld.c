/* IKEv2 payload bodies: parsing through bounded cursors, building through proto/ikev2.h. */
#include "ike/ikev2_pld.h"

#include <string.h>

/* Payload types that may appear once per message (RFC 7296 1.2-1.4 never repeat them). */
static bool pld_singleton(uint8_t type)
{
	switch (type) {
	case IKEV2_PLD_SA:
	case IKEV2_PLD_KE:
	case IKEV2_PLD_IDI:
	case IKEV2_PLD_IDR:
	case IKEV2_PLD_AUTH:
	case IKEV2_PLD_NONCE:
	case IKEV2_PLD_TSI:
	case IKEV2_PLD_TSR:
		return true;
	default:
		return false;
	}
}

static int parse_ke(struct ikev2_msg *m, struct cur *b)
{
	uint16_t rsv;

	/* RFC 7296 3.4: Diffie-Hellman Group Num, RESERVED, Key Exchange Data. */
	if (cur_get_u16(b, &m->ke_group) != 0 || cur_get_u16(b, &rsv) != 0 || cur_left(b) == 0)
		return SP_EMALFORMED;
	m->ke.len = cur_left(b);
	return cur_get_ptr(b, m->ke.len, &m->ke.p) == 0 ? 0 : SP_EMALFORMED;
}

static int parse_nonce(struct ikev2_msg *m, struct cur *b)
{
	/* RFC 7296 3.9: between 16 and 256 octets. */
	m->nonce.len = cur_left(b);
	if (m->nonce.len < IKEV2_NONCE_MIN || m->nonce.len > IKEV2_NONCE_MAX)
		return SP_EMALFORMED;
	return cur_get_ptr(b, m->nonce.len, &m->nonce.p) == 0 ? 0 : SP_EMALFORMED;
}

static int parse_id(struct ikev2_id *id, struct cur *b)
{
	uint8_t rsv[3];

	id->body_len = cur_left(b);
	id->body = cur_ptr(b);
	/* RFC 7296 3.5: ID Type, 3 octets RESERVED, Identification Data. */
	if (cur_get_u8(b, &id->type) != 0 || cur_get_bytes(b, rsv, 3) != 0 || cur_left(b) == 0 ||
	    cur_left(b) > IKEV2_ID_MAX)
		return SP_EMALFORMED;
	id->len = cur_left(b);
	if (id->type == IKEV2_ID_IPV4_ADDR && id->len != 4)
		return SP_EMALFORMED;
	return cur_get_ptr(b, id->len, &id->data) == 0 ? 0 : SP_EMALFORMED;
}

static int parse_auth(struct ikev2_msg *m, struct cur *b)
{
	uint8_t rsv[3];

	/* RFC 7296 3.8: Auth Method, 3 octets RESERVED, Authentication Data. */
	if (cur_get_u8(b, &m->auth_method) != 0 || cur_get_bytes(b, rsv, 3) != 0 ||
	    cur_left(b) == 0)
		return SP_EMALFORMED;
	m->auth.len = cur_left(b);
	return cur_get_ptr(b, m->auth.len, &m->auth.p) == 0 ? 0 : SP_EMALFORMED;
}

static int parse_cert(struct ikev2_msg *m, struct cur *b)
{
	uint8_t enc;

	/* RFC 7296 3.6: Cert Encoding, Certificate Data. Only X.509 signature certificates
	 * are used; others are ignored, not an error (3.6: "MAY be ignored"). */
	if (cur_get_u8(b, &enc) != 0 || cur_left(b) == 0)
		return SP_EMALFORMED;
	if (enc != IKEV2_CERT_X509_SIG)
		return 0;
	if (m->ncert >= IKEV2_CERT_MAX)
		return SP_EMALFORMED;
	m->cert[m->ncert].len = cur_left(b);
	if (cur_get_ptr(b, m->cert[m->ncert].len, &m->cert[m->ncert].p) != 0)
		return SP_EMALFORMED;
	m->ncert++;
	return 0;
}

static int parse_spi(struct cur *b, uint8_t size, uint64_t *spi)
{
	uint32_t v32;

	*spi = 0;
	switch (size) {
	case 0:
		return 0;
	case 4:
		if (cur_get_u32(b, &v32) != 0)
			return SP_EMALFORMED;
		*spi = v32;
		return 0;
	case 8:
		return cur_get_u64(b, spi) == 0 ? 0 : SP_EMALFORMED;
	default:
		return SP_EMALFORMED;
	}
}

static int parse_notify(struct ikev2_msg *m, struct cur *b)
{
	struct ikev2_notify *n;

	if (m->nnotify >= IKEV2_NOTIFY_MAX)
		return SP_EMALFORMED;
	n = &m->notify[m->nnotify];
	/* RFC 7296 3.10: Protocol ID, SPI Size, Notify Message Type, SPI, Notification Data. */
	if (cur_get_u8(b, &n->proto) != 0 || cur_get_u8(b, &n->spi_size) != 0 ||
	    cur_get_u16(b, &n->type) != 0 || parse_spi(b, n->spi_size, &n->spi) != 0)
		return SP_EMALFORMED;
	n->len = cur_left(b);
	if (cur_get_ptr(b, n->len, &n->data) != 0)
		return SP_EMALFORMED;
	m->nnotify++;
	return 0;
}

static int parse_delete(struct ikev2_msg *m, struct cur *b)
{
	struct ikev2_delete *d;

	if (m->ndelete >= IKEV2_DELETE_MAX)
		return SP_EMALFORMED;
	d = &m->del[m->ndelete];
	/* RFC 7296 3.11: Protocol ID, SPI Size, Num of SPIs, SPIs. IKE: size 0, none. */
	if (cur_get_u8(b, &d->proto) != 0 || cur_get_u8(b, &d->spi_size) != 0 ||
	    cur_get_u16(b, &d->num) != 0)
		return SP_EMALFORMED;
	if (d->proto == IKE_PROTO_IKE) {
		if (d->spi_size != 0 || d->num != 0)
			return SP_EMALFORMED;
	} else if (d->proto == IKE_PROTO_ESP || d->proto == IKE_PROTO_AH) {
		if (d->spi_size != 4)
			return SP_EMALFORMED;
	} else {
		return SP_EMALFORMED;
	}
	if (cur_left(b) != (size_t)d->num * d->spi_size ||
	    cur_get_ptr(b, cur_left(b), &d->spis) != 0)
		return SP_EMALFORMED;
	m->ndelete++;
	return 0;
}

static int parse_ts(struct cur *b, struct ike_ts *ts, uint8_t *n)
{
	uint8_t num, rsv[3];

	/* RFC 7296 3.13: Number of TSs, RESERVED, Traffic Selectors. */
	if (cur_get_u8(b, &num) != 0 || cur_get_bytes(b, rsv, 3) != 0 || num == 0)
		return SP_EMALFORMED;
	*n = 0;
	for (unsigned i = 0; i < num; i++) {
		uint8_t type, proto;
		uint16_t len;
		struct cur s;

		if (cur_get_u8(b, &type) != 0 || cur_get_u8(b, &proto) != 0 ||
		    cur_get_u16(b, &len) != 0 || len < 4 || cur_get_sub(b, len - 4, &s) != 0)
			return SP_EMALFORMED;
		/* 3.13.1: unknown TS types are skipped; only IPv4 ranges concern spinat. */
		if (type != IKEV2_TS_IPV4_RANGE)
			continue;
		if (len != 16 || *n >= IKE_TS_MAX)
			return SP_EMALFORMED;
		ts[*n].ts_proto = proto;
		if (cur_get_u16(&s, &ts[*n].ts_port_start) != 0 ||
		    cur_get_u16(&s, &ts[*n].ts_port_end) != 0 ||
		    cur_get_u32(&s, &ts[*n].ts_start) != 0 || cur_get_u32(&s, &ts[*n].ts_end) != 0)
			return SP_EMALFORMED;
		(*n)++;
	}
	return cur_left(b) == 0 ? 0 : SP_EMALFORMED;
}

static int parse_one(struct ikev2_msg *m, const struct ikev2_pld *pl)
{
	struct cur b = pl->pld_body;
	uint8_t enc;

	switch (pl->pld_type) {
	case IKEV2_PLD_SA:
		m->sa = b;
		return cur_left(&b) > 0 ? 0 : SP_EMALFORMED;
	case IKEV2_PLD_KE:
		return parse_ke(m, &b);
	case IKEV2_PLD_NONCE:
		return parse_nonce(m, &b);
	case IKEV2_PLD_IDI:
		return parse_id(&m->idi, &b);
	case IKEV2_PLD_IDR:
		return parse_id(&m->idr, &b);
	case IKEV2_PLD_AUTH:
		return parse_auth(m, &b);
	case IKEV2_PLD_CERT:
		return parse_cert(m, &b);
	case IKEV2_PLD_CERTREQ:
		if (cur_get_u8(&b, &enc) != 0)
			return SP_EMALFORMED;
		m->certreq = true;
		return 0;
	case IKEV2_PLD_NOTIFY:
		return parse_notify(m, &b);
	case IKEV2_PLD_DELETE:
		return parse_delete(m, &b);
	case IKEV2_PLD_TSI:
		return parse_ts(&b, m->tsi, &m->ntsi);
	case IKEV2_PLD_TSR:
		return parse_ts(&b, m->tsr, &m->ntsr);
	default:
		/* Vendor ID, CP, EAP: carried but not used by spinat. */
		return 0;
	}
}

int ikev2_msg_parse(struct ikev2_msg *m, struct ikev2_pld_iter *it, struct ikev2_pld *sk,
		    bool *has_sk)
{
	struct ikev2_pld pl;
	int r;

	*has_sk = false;
	while ((r = ikev2_pld_next(it, &pl)) == 0) {
		if (pl.pld_type == IKEV2_PLD_SK) {
			*sk = pl;
			*has_sk = true;
			continue;
		}
		if (!ikev2_pld_type_known(pl.pld_type) || pl.pld_type == IKEV2_PLD_SKF) {
			/* RFC 7296 2.5: skip unknown payloads unless critical. */
			if (pl.pld_critical && m->unsupported_critical == 0)
				m->unsupported_critical = pl.pld_type;
			continue;
		}
		if (pld_singleton(pl.pld_type) && ikev2_msg_has(m, pl.pld_type))
			return SP_EMALFORMED;
		if ((r = parse_one(m, &pl)) != 0)
			return r;
		m->seen |= 1u << (pl.pld_type - 32);
	}
	return r == SP_ENOTFOUND ? 0 : r;
}

const struct ikev2_notify *ikev2_msg_notify(const struct ikev2_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->nnotify; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

const struct ikev2_notify *ikev2_msg_error(const struct ikev2_msg *m)
{
	for (unsigned i = 0; i < m->nnotify; i++)
		if (m->notify[i].type <= IKEV2_N_ERROR_MAX)
			return &m->notify[i];
	return NULL;
}

static int parse_transform(struct cur *b, struct ikev2_prop *p, bool *last)
{
	uint8_t more, rsv, type, rsv2;
	uint16_t len, id;
	struct cur t;
	struct ikev2_xf x = { 0 };

	/* RFC 7296 3.3.2: Last/More (0 or 3), RESERVED, Transform Length, Type, RESERVED, ID,
	 * Transform Attributes. */
	if (cur_get_u8(b, &more) != 0 || cur_get_u8(b, &rsv) != 0 || cur_get_u16(b, &len) != 0 ||
	    len < 8 || cur_get_sub(b, len - 4, &t) != 0 || cur_get_u8(&t, &type) != 0 ||
	    cur_get_u8(&t, &rsv2) != 0 || cur_get_u16(&t, &id) != 0)
		return SP_EMALFORMED;
	if (more != 0 && more != 3)
		return SP_EMALFORMED;
	*last = more == 0;
	x.id = id;
	while (cur_left(&t) > 0) {
		uint16_t at, av;

		/* 3.3.5: only TV attributes (AF = 1) are defined; Key Length is the one. */
		if (cur_get_u16(&t, &at) != 0 || cur_get_u16(&t, &av) != 0)
			return SP_EMALFORMED;
		if (at == (0x8000 | IKEV2_ATTR_KEY_LENGTH))
			x.keylen = av;
		else
			p->unusable = true; /* an attribute we do not know: 3.3.6 */
	}
	if (type < 1 || type > IKEV2_XF_TYPES) {
		p->unusable = true;
		return 0;
	}
	if (p->nxf[type - 1] >= IKEV2_XF_PER_TYPE)
		return SP_EMALFORMED;
	p->xf[type - 1][p->nxf[type - 1]++] = x;
	return 0;
}

int ikev2_sa_parse(struct cur sa, struct ikev2_prop *props, size_t max, size_t *n)
{
	bool last_prop = false;

	*n = 0;
	while (!last_prop) {
		uint8_t more, rsv, nxf;
		uint16_t len;
		struct cur b;
		struct ikev2_prop p;
		bool last_xf = false;

		memset(&p, 0, sizeof(p));
		/* RFC 7296 3.3.1: Last/More (0 or 2), RESERVED, Proposal Length, Proposal Num,
		 * Protocol ID, SPI Size, Num Transforms, SPI, Transforms. */
		if (cur_get_u8(&sa, &more) != 0 || cur_get_u8(&sa, &rsv) != 0 ||
		    cur_get_u16(&sa, &len) != 0 || len < 8 || cur_get_sub(&sa, len - 4, &b) != 0 ||
		    cur_get_u8(&b, &p.num) != 0 || cur_get_u8(&b, &p.proto) != 0 ||
		    cur_get_u8(&b, &p.spi_size) != 0 || cur_get_u8(&b, &nxf) != 0 ||
		    parse_spi(&b, p.spi_size, &p.spi) != 0)
			return SP_EMALFORMED;
		if ((more != 0 && more != 2) || nxf == 0)
			return SP_EMALFORMED;
		last_prop = more == 0;
		for (unsigned i = 0; i < nxf; i++) {
			if (last_xf || parse_transform(&b, &p, &last_xf) != 0)
				return SP_EMALFORMED;
		}
		if (!last_xf || cur_left(&b) != 0)
			return SP_EMALFORMED;
		if (*n >= max)
			return SP_EMALFORMED;
		props[(*n)++] = p;
	}
	return cur_left(&sa) == 0 ? 0 : SP_EMALFORMED;
}

struct put_xf {
	uint8_t type;
	uint16_t id, keylen;
};

static int put_xf(struct pkt *p, bool last, uint8_t type, uint16_t id, uint16_t keylen)
{
	uint8_t b[12];
	size_t len = keylen != 0 ? 12 : 8;

	b[0] = last ? 0 : 3;
	b[1] = 0;
	sp_store_be16(b + 2, (uint16_t)len);
	b[4] = type;
	b[5] = 0;
	sp_store_be16(b + 6, id);
	if (keylen != 0) {
		sp_store_be16(b + 8, 0x8000 | IKEV2_ATTR_KEY_LENGTH);
		sp_store_be16(b + 10, keylen);
	}
	return pkt_append(p, b, (uint32_t)len);
}

int ikev2_put_sa(struct ikev2_pld_writer *w, const struct ikev2_algs *props, size_t n,
		 uint8_t spi_size)
{
	struct pkt *p = w->pw_p;
	int r;

	if ((r = ikev2_pw_begin(w, IKEV2_PLD_SA, false)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct ikev2_algs *a = &props[i];
		uint8_t hdr[8 + 8], nxf = 0;
		uint32_t start = p->len;
		struct put_xf x[5];

		if (a->encr != 0)
			x[nxf++] = (struct put_xf){ IKEV2_XF_ENCR, a->encr, a->encr_keylen };
		if (a->prf != 0)
			x[nxf++] = (struct put_xf){ IKEV2_XF_PRF, a->prf, 0 };
		if (a->integ != 0)
			x[nxf++] = (struct put_xf){ IKEV2_XF_INTEG, a->integ, 0 };
		if (a->dh != 0)
			x[nxf++] = (struct put_xf){ IKEV2_XF_DH, a->dh, 0 };
		/* 3.3.3: ESN is mandatory for AH and ESP. */
		if (a->proto != IKE_PROTO_IKE)
			x[nxf++] = (struct put_xf){ IKEV2_XF_ESN, a->esn, 0 };
		hdr[0] = i + 1 < n ? 2 : 0;
		hdr[1] = 0;
		hdr[4] = a->num != 0 ? a->num : (uint8_t)(i + 1);
		hdr[5] = a->proto;
		hdr[6] = spi_size;
		hdr[7] = nxf;
		if (spi_size == 4)
			sp_store_be32(hdr + 8, (uint32_t)a->spi);
		else if (spi_size == 8)
			sp_store_be64(hdr + 8, a->spi);
		if ((r = pkt_append(p, hdr, 8u + spi_size)) != 0)
			return r;
		for (unsigned j = 0; j < nxf; j++)
			if ((r = put_xf(p, j + 1 == nxf, x[j].type, x[j].id, x[j].keylen)) != 0)
				return r;
		sp_store_be16(p->buf + p->off + start + 2, (uint16_t)(p->len - start));
	}
	return ikev2_pw_end(w);
}

int ikev2_put_ke(struct ikev2_pld_writer *w, uint16_t group, const uint8_t *data, size_t len)
{
	uint8_t h[4] = { 0 };
	int r;

	sp_store_be16(h, group);
	if ((r = ikev2_pw_begin(w, IKEV2_PLD_KE, false)) != 0 ||
	    (r = pkt_append(w->pw_p, h, 4)) != 0 ||
	    (r = pkt_append(w->pw_p, data, (uint32_t)len)) != 0)
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_nonce(struct ikev2_pld_writer *w, const uint8_t *n, size_t len)
{
	int r;

	if ((r = ikev2_pw_begin(w, IKEV2_PLD_NONCE, false)) != 0 ||
	    (r = pkt_append(w->pw_p, n, (uint32_t)len)) != 0)
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_notify(struct ikev2_pld_writer *w, uint8_t proto, uint64_t spi, uint8_t spi_size,
		     uint16_t type, const void *data, size_t len)
{
	uint8_t h[12];
	int r;

	h[0] = proto;
	h[1] = spi_size;
	sp_store_be16(h + 2, type);
	if (spi_size == 4)
		sp_store_be32(h + 4, (uint32_t)spi);
	else if (spi_size == 8)
		sp_store_be64(h + 4, spi);
	if ((r = ikev2_pw_begin(w, IKEV2_PLD_NOTIFY, false)) != 0 ||
	    (r = pkt_append(w->pw_p, h, 4u + spi_size)) != 0 ||
	    (len > 0 && (r = pkt_append(w->pw_p, data, (uint32_t)len)) != 0))
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_id(struct ikev2_pld_writer *w, uint8_t pld, uint8_t type, const uint8_t *data,
		 size_t len)
{
	uint8_t h[4] = { type, 0, 0, 0 };
	int r;

	if ((r = ikev2_pw_begin(w, pld, false)) != 0 || (r = pkt_append(w->pw_p, h, 4)) != 0 ||
	    (r = pkt_append(w->pw_p, data, (uint32_t)len)) != 0)
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_auth(struct ikev2_pld_writer *w, uint8_t method, const uint8_t *data, size_t len)
{
	uint8_t h[4] = { method, 0, 0, 0 };
	int r;

	if ((r = ikev2_pw_begin(w, IKEV2_PLD_AUTH, false)) != 0 ||
	    (r = pkt_append(w->pw_p, h, 4)) != 0 ||
	    (r = pkt_append(w->pw_p, data, (uint32_t)len)) != 0)
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_cert(struct ikev2_pld_writer *w, uint8_t enc, const uint8_t *der, size_t len)
{
	int r;

	if ((r = ikev2_pw_begin(w, IKEV2_PLD_CERT, false)) != 0 ||
	    (r = pkt_append(w->pw_p, &enc, 1)) != 0 ||
	    (r = pkt_append(w->pw_p, der, (uint32_t)len)) != 0)
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_certreq(struct ikev2_pld_writer *w, uint8_t enc, const uint8_t *keyids, size_t len)
{
	int r;

	if ((r = ikev2_pw_begin(w, IKEV2_PLD_CERTREQ, false)) != 0 ||
	    (r = pkt_append(w->pw_p, &enc, 1)) != 0 ||
	    (len > 0 && (r = pkt_append(w->pw_p, keyids, (uint32_t)len)) != 0))
		return r;
	return ikev2_pw_end(w);
}

int ikev2_put_ts(struct ikev2_pld_writer *w, uint8_t pld, const struct ike_ts *ts, size_t n)
{
	uint8_t h[4] = { (uint8_t)n, 0, 0, 0 };
	int r;

	if (n == 0 || n > IKE_TS_MAX)
		return SP_EINVAL;
	if ((r = ikev2_pw_begin(w, pld, false)) != 0 || (r = pkt_append(w->pw_p, h, 4)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		uint8_t b[16];

		b[0] = IKEV2_TS_IPV4_RANGE;
		b[1] = ts[i].ts_proto;
		sp_store_be16(b + 2, 16);
		sp_store_be16(b + 4, ts[i].ts_port_start);
		sp_store_be16(b + 6, ts[i].ts_port_end);
		sp_store_be32(b + 8, ts[i].ts_start);
		sp_store_be32(b + 12, ts[i].ts_end);
		if ((r = pkt_append(w->pw_p, b, 16)) != 0)
			return r;
	}
	return ikev2_pw_end(w);
}

int ikev2_put_delete(struct ikev2_pld_writer *w, uint8_t proto, uint8_t spi_size,
		     const uint32_t *spis, size_t n)
{
	uint8_t h[4] = { proto, spi_size, 0, 0 };
	int r;

	sp_store_be16(h + 2, (uint16_t)n);
	if ((r = ikev2_pw_begin(w, IKEV2_PLD_DELETE, false)) != 0 ||
	    (r = pkt_append(w->pw_p, h, 4)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		uint8_t b[4];

		sp_store_be32(b, spis[i]);
		if ((r = pkt_append(w->pw_p, b, 4)) != 0)
			return r;
	}
	return ikev2_pw_end(w);
}

const char *ikev2_notify_name(uint16_t type)
{
	switch (type) {
	case IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD:
		return "UNSUPPORTED_CRITICAL_PAYLOAD";
	case IKEV2_N_INVALID_IKE_SPI:
		return "INVALID_IKE_SPI";
	case IKEV2_N_INVALID_MAJOR_VERSION:
		return "INVALID_MAJOR_VERSION";
	case IKEV2_N_INVALID_SYNTAX:
		return "INVALID_SYNTAX";
	case IKEV2_N_INVALID_MESSAGE_ID:
		return "INVALID_MESSAGE_ID";
	case IKEV2_N_INVALID_SPI:
		return "INVALID_SPI";
	case IKEV2_N_NO_PROPOSAL_CHOSEN:
		return "NO_PROPOSAL_CHOSEN";
	case IKEV2_N_INVALID_KE_PAYLOAD:
		return "INVALID_KE_PAYLOAD";
	case IKEV2_N_AUTHENTICATION_FAILED:
		return "AUTHENTICATION_FAILED";
	case IKEV2_N_SINGLE_PAIR_REQUIRED:
		return "SINGLE_PAIR_REQUIRED";
	case IKEV2_N_NO_ADDITIONAL_SAS:
		return "NO_ADDITIONAL_SAS";
	case IKEV2_N_INTERNAL_ADDRESS_FAILURE:
		return "INTERNAL_ADDRESS_FAILURE";
	case IKEV2_N_FAILED_CP_REQUIRED:
		return "FAILED_CP_REQUIRED";
	case IKEV2_N_TS_UNACCEPTABLE:
		return "TS_UNACCEPTABLE";
	case IKEV2_N_INVALID_SELECTORS:
		return "INVALID_SELECTORS";
	case IKEV2_N_TEMPORARY_FAILURE:
		return "TEMPORARY_FAILURE";
	case IKEV2_N_CHILD_SA_NOT_FOUND:
		return "CHILD_SA_NOT_FOUND";
	case IKEV2_N_INITIAL_CONTACT:
		return "INITIAL_CONTACT";
	case IKEV2_N_NAT_DETECTION_SOURCE_IP:
		return "NAT_DETECTION_SOURCE_IP";
	case IKEV2_N_NAT_DETECTION_DESTINATION_IP:
		return "NAT_DETECTION_DESTINATION_IP";
	case IKEV2_N_COOKIE:
		return "COOKIE";
	case IKEV2_N_USE_TRANSPORT_MODE:
		return "USE_TRANSPORT_MODE";
	case IKEV2_N_REKEY_SA:
		return "REKEY_SA";
	case IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED:
		return "IKEV2_FRAGMENTATION_SUPPORTED";
	case IKEV2_N_SIGNATURE_HASH_ALGORITHMS:
		return "SIGNATURE_HASH_ALGORITHMS";
	default:
		return type <= IKEV2_N_ERROR_MAX ? "error" : "status";
	}
}
