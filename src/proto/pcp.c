#include "proto/pcp.h"

#include <string.h>

static const char *const pcp_result_names[] = {
#define _(sym, num, str) [num] = str,
	foreach_pcp_result(_)
#undef _
};

const char *pcp_result_name(uint8_t r)
{
	if (r < SP_NELEM(pcp_result_names) && pcp_result_names[r] != NULL)
		return pcp_result_names[r];
	return "unknown";
}

/* RFC 6887 5: an IPv4 address is ::ffff:a.b.c.d; all zeros (either form) is "unspecified". */
static int get_addr(struct cur *c, uint32_t *a, bool *v4)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *b;
	int r;

	if ((r = cur_get_ptr(c, 16, &b)) != 0)
		return r;
	*a = sp_load_be32(b + 12);
	if (memcmp(b, mapped, 12) == 0) {
		*v4 = true;
		return 0;
	}
	for (unsigned i = 0; i < 16; i++)
		if (b[i] != 0) {
			*v4 = false;
			*a = 0;
			return 0;
		}
	*v4 = true; /* :: is the unspecified address */
	return 0;
}

static int put_addr(struct wcur *w, uint32_t a)
{
	int r;

	if ((r = cur_put_zero(w, 10)) != 0 || (r = cur_put_u16(w, 0xffff)) != 0)
		return r;
	return cur_put_u32(w, a);
}

static bool gpn_bits_ok(uint8_t bits)
{
	return bits == 16 || bits == 32 || bits == 64;
}

static uint64_t gpn_mask(uint8_t bits)
{
	return bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
}

/* The GPN option's 48 octets (docs/LEASE.md). */
static int get_gpn(struct cur *c, struct pcp_gpn *g)
{
	uint16_t resv;
	int r;

	if ((r = cur_get_u8(c, &g->pcp_gpn_bits)) != 0 ||
	    (r = cur_get_u8(c, &g->pcp_gpn_flags)) != 0 ||
	    (r = cur_get_u16(c, &g->pcp_gpn_src_off)) != 0 ||
	    (r = cur_get_u16(c, &g->pcp_gpn_dst_off)) != 0 || (r = cur_get_u16(c, &resv)) != 0 ||
	    (r = cur_get_u64(c, &g->pcp_gpn_min)) != 0 ||
	    (r = cur_get_u64(c, &g->pcp_gpn_max)) != 0 ||
	    (r = cur_get_u64(c, &g->pcp_gpn_unspec)) != 0 ||
	    (r = cur_get_u64(c, &g->pcp_gpn_private)) != 0 ||
	    (r = cur_get_u64(c, &g->pcp_gpn_global)) != 0)
		return r;
	if (!gpn_bits_ok(g->pcp_gpn_bits) || (g->pcp_gpn_flags & ~PCP_GPN_F_KNOWN) != 0 ||
	    resv != 0 || g->pcp_gpn_min > g->pcp_gpn_max)
		return SP_EMALFORMED;
	/* Every value must fit the field; offsets are in bits and fields octet-aligned. */
	{
		uint64_t m = gpn_mask(g->pcp_gpn_bits);

		if ((g->pcp_gpn_max & ~m) || (g->pcp_gpn_unspec & ~m) ||
		    (g->pcp_gpn_private & ~m) || (g->pcp_gpn_global & ~m) ||
		    (g->pcp_gpn_src_off % 8) != 0 || (g->pcp_gpn_dst_off % 8) != 0)
			return SP_EMALFORMED;
	}
	return 0;
}

static int put_gpn(struct wcur *w, const struct pcp_gpn *g)
{
	int r;

	if ((r = cur_put_u8(w, PCP_OPT_SPINAT_GPN)) != 0 || (r = cur_put_u8(w, 0)) != 0 ||
	    (r = cur_put_u16(w, PCP_GPN_OPT_LEN)) != 0 ||
	    (r = cur_put_u8(w, g->pcp_gpn_bits)) != 0 ||
	    (r = cur_put_u8(w, g->pcp_gpn_flags)) != 0 ||
	    (r = cur_put_u16(w, g->pcp_gpn_src_off)) != 0 ||
	    (r = cur_put_u16(w, g->pcp_gpn_dst_off)) != 0 || (r = cur_put_u16(w, 0)) != 0 ||
	    (r = cur_put_u64(w, g->pcp_gpn_min)) != 0 ||
	    (r = cur_put_u64(w, g->pcp_gpn_max)) != 0 ||
	    (r = cur_put_u64(w, g->pcp_gpn_unspec)) != 0 ||
	    (r = cur_put_u64(w, g->pcp_gpn_private)) != 0)
		return r;
	return cur_put_u64(w, g->pcp_gpn_global);
}

/* RFC 6887 7.3: code, reserved, length of the data (padding not counted), data padded to
 * a multiple of 4. */
static int parse_options(struct cur *c, struct pcp_msg *m, uint8_t *result)
{
	while (cur_left(c) > 0) {
		uint8_t code, resv;
		uint16_t olen;
		size_t padded;
		struct cur d;
		bool v4;

		*result = PCP_R_MALFORMED_OPTION;
		if (cur_get_u8(c, &code) != 0 || cur_get_u8(c, &resv) != 0 ||
		    cur_get_u16(c, &olen) != 0)
			return SP_EMALFORMED;
		padded = ((size_t)olen + 3) & ~(size_t)3;
		if (cur_get_sub(c, olen, &d) != 0 || cur_skip(c, padded - olen) != 0)
			return SP_EMALFORMED;
		switch (code) {
		case PCP_OPT_THIRD_PARTY: /* RFC 6887 13.1 */
			if (m->pcp_third_party || olen != 16 ||
			    get_addr(&d, &m->pcp_third_party_ip, &v4) != 0)
				return SP_EMALFORMED;
			m->pcp_third_party = true;
			break;
		case PCP_OPT_PREFER_FAILURE: /* RFC 6887 13.2: MAP only, no data */
			if (m->pcp_opcode != PCP_OP_MAP || olen != 0 || m->pcp_prefer_failure)
				return SP_EMALFORMED;
			m->pcp_prefer_failure = true;
			break;
		case PCP_OPT_SPINAT_GPN:
			if (m->pcp_has_gpn || olen != PCP_GPN_OPT_LEN ||
			    get_gpn(&d, &m->pcp_gpn) != 0)
				return SP_EMALFORMED;
			m->pcp_has_gpn = true;
			break;
		default:
			/* RFC 6887 7.3: an unknown mandatory option fails the request; an unknown
			 * optional one is ignored. FILTER (13.3) is not implemented. */
			if (code < PCP_OPT_OPTIONAL) {
				*result = PCP_R_UNSUPP_OPTION;
				return SP_EMALFORMED;
			}
			break;
		}
	}
	*result = PCP_R_SUCCESS;
	return 0;
}

/* RFC 6887 11.1 and 12.1: the MAP data, then PEER's remote peer. */
static int parse_opdata(struct cur *c, struct pcp_msg *m)
{
	uint16_t resv16;
	uint8_t proto, resv8;
	bool v4;
	int r;

	if ((r = cur_get_bytes(c, m->pcp_nonce, PCP_NONCE_LEN)) != 0 ||
	    (r = cur_get_u8(c, &proto)) != 0 || (r = cur_get_u8(c, &resv8)) != 0 ||
	    (r = cur_get_u16(c, &resv16)) != 0 || (r = cur_get_u16(c, &m->pcp_int_port)) != 0 ||
	    (r = cur_get_u16(c, &m->pcp_ext_port)) != 0 ||
	    (r = get_addr(c, &m->pcp_ext_ip, &v4)) != 0)
		return r;
	m->pcp_proto = proto;
	if (!v4)
		return SP_EMALFORMED; /* this server and client are IPv4 only */
	if (m->pcp_opcode != PCP_OP_PEER)
		return 0;
	if ((r = cur_get_u16(c, &m->pcp_peer_port)) != 0 || (r = cur_get_u16(c, &resv16)) != 0 ||
	    (r = get_addr(c, &m->pcp_peer_ip, &v4)) != 0)
		return r;
	return v4 ? 0 : SP_EMALFORMED;
}

int pcp_parse(struct cur *c, bool want_response, struct pcp_msg *m, uint8_t *result)
{
	size_t len = cur_left(c);
	uint8_t ver, op, b2, b3;
	uint32_t lifetime, word;
	bool header_only = false;
	size_t need;

	memset(m, 0, sizeof(*m));
	*result = PCP_R_NONE;
	/* RFC 6887 8.3: too short to tell version and opcode, or the wrong direction: drop. */
	if (cur_get_u8(c, &ver) != 0 || cur_get_u8(c, &op) != 0 ||
	    ((op & PCP_R_BIT) != 0) != want_response)
		return SP_EMALFORMED;
	m->pcp_response = want_response;
	m->pcp_opcode = op & (uint8_t)~PCP_R_BIT;
	if (ver != PCP_VERSION) {
		*result = PCP_R_UNSUPP_VERSION;
		return SP_EMALFORMED;
	}
	if (m->pcp_opcode > PCP_OP_PEER) {
		*result = PCP_R_UNSUPP_OPCODE;
		return SP_EMALFORMED;
	}
	*result = PCP_R_MALFORMED_REQUEST;
	need = PCP_HDR_LEN + (m->pcp_opcode == PCP_OP_MAP    ? PCP_MAP_LEN
			      : m->pcp_opcode == PCP_OP_PEER ? PCP_PEER_LEN
							     : 0);
	/* An error response copies what it could of the request (RFC 6887 8.3), which may
	 * be less than the opcode's data: its header is enough. */
	if (want_response && len >= PCP_HDR_LEN && len < need && len % 4 == 0 && len > 3 &&
	    cur_peek_u8(c, 1, &b3) == 0 && b3 != PCP_R_SUCCESS) {
		need = PCP_HDR_LEN;
		header_only = true;
	}
	if (len < need || len > PCP_MSG_MAX || len % 4 != 0)
		return SP_EMALFORMED;
	if (cur_get_u8(c, &b2) != 0 || cur_get_u8(c, &b3) != 0 || cur_get_u32(c, &lifetime) != 0)
		return SP_EMALFORMED;
	m->pcp_lifetime = lifetime;
	if (want_response) {
		m->pcp_result = b3;
		if (cur_get_u32(c, &m->pcp_epoch) != 0)
			return SP_EMALFORMED;
		for (unsigned i = 0; i < 3; i++)
			if (cur_get_u32(c, &word) != 0)
				return SP_EMALFORMED;
	} else if (get_addr(c, &m->pcp_client, &m->pcp_client_v4) != 0) {
		return SP_EMALFORMED;
	}
	/* An error response carries the request's data unchanged; the caller reads the code. */
	if (header_only) {
		cur_skip_all(c);
		*result = PCP_R_SUCCESS;
		return 0;
	}
	if (m->pcp_opcode != PCP_OP_ANNOUNCE && parse_opdata(c, m) != 0)
		return SP_EMALFORMED;
	return parse_options(c, m, result);
}

static int put_opdata(struct wcur *w, const struct pcp_msg *m)
{
	int r;

	if ((r = cur_put_bytes(w, m->pcp_nonce, PCP_NONCE_LEN)) != 0 ||
	    (r = cur_put_u8(w, m->pcp_proto)) != 0 || (r = cur_put_zero(w, 3)) != 0 ||
	    (r = cur_put_u16(w, m->pcp_int_port)) != 0 ||
	    (r = cur_put_u16(w, m->pcp_ext_port)) != 0 || (r = put_addr(w, m->pcp_ext_ip)) != 0)
		return r;
	if (m->pcp_opcode == PCP_OP_PEER &&
	    ((r = cur_put_u16(w, m->pcp_peer_port)) != 0 || (r = cur_put_u16(w, 0)) != 0 ||
	     (r = put_addr(w, m->pcp_peer_ip)) != 0))
		return r;
	return 0;
}

int pcp_build(struct wcur *w, const struct pcp_msg *m)
{
	int r;

	if (m->pcp_opcode > PCP_OP_PEER)
		return SP_EINVAL;
	if ((r = cur_put_u8(w, PCP_VERSION)) != 0 ||
	    (r = cur_put_u8(w, (uint8_t)(m->pcp_opcode | (m->pcp_response ? PCP_R_BIT : 0)))) !=
		    0 ||
	    (r = cur_put_u8(w, 0)) != 0 ||
	    (r = cur_put_u8(w, m->pcp_response ? m->pcp_result : 0)) != 0 ||
	    (r = cur_put_u32(w, m->pcp_lifetime)) != 0)
		return r;
	if (m->pcp_response) {
		if ((r = cur_put_u32(w, m->pcp_epoch)) != 0 || (r = cur_put_zero(w, 12)) != 0)
			return r;
	} else if ((r = put_addr(w, m->pcp_client)) != 0) {
		return r;
	}
	if (m->pcp_opcode != PCP_OP_ANNOUNCE && (r = put_opdata(w, m)) != 0)
		return r;
	if (m->pcp_prefer_failure && ((r = cur_put_u8(w, PCP_OPT_PREFER_FAILURE)) != 0 ||
				      (r = cur_put_u8(w, 0)) != 0 || (r = cur_put_u16(w, 0)) != 0))
		return r;
	if (m->pcp_third_party &&
	    ((r = cur_put_u8(w, PCP_OPT_THIRD_PARTY)) != 0 || (r = cur_put_u8(w, 0)) != 0 ||
	     (r = cur_put_u16(w, 16)) != 0 || (r = put_addr(w, m->pcp_third_party_ip)) != 0))
		return r;
	if (m->pcp_has_gpn && (r = put_gpn(w, &m->pcp_gpn)) != 0)
		return r;
	return 0;
}

int pcp_build_error(struct wcur *w, const uint8_t *req, size_t len, uint8_t result,
		    uint32_t lifetime, uint32_t epoch)
{
	size_t copy, out;
	uint8_t *b;
	int r;

	if (len < 2)
		return SP_EINVAL;
	copy = SP_MIN(len, (size_t)PCP_MSG_MAX) & ~(size_t)3;
	out = SP_MAX(copy, (size_t)PCP_HDR_LEN);
	if ((r = cur_put_reserve(w, out, &b)) != 0)
		return r;
	memset(b, 0, out);
	memcpy(b, req, copy);
	b[0] = PCP_VERSION;
	b[1] = req[1] | PCP_R_BIT;
	b[2] = 0;
	b[3] = result;
	sp_store_be32(b + 4, lifetime);
	sp_store_be32(b + 8, epoch);
	memset(b + 12, 0, 12); /* RFC 6887 7.2: reserved in a response */
	return 0;
}
