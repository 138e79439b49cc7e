/* PAP messages (002 FIGS. 4-6, 4A-6A): parse and build; layouts in proto/pap.h. */
#include "proto/pap.h"
#include "base/csum.h"

#include <string.h>

size_t pap_len(enum pap_kind kind)
{
	return kind == PAP_SPI_RESPONSE ? PAP_SPI_RESP_LEN : PAP_LEN;
}

const char *pap_kind_name(enum pap_kind kind)
{
	static const char *const names[] = {
		"port-request", "port-response", "port-invalidate",
		"spi-request",	"spi-response",	 "spi-invalidate",
	};

	return (unsigned)kind < SP_NELEM(names) ? names[kind] : "?";
}

/* The kind a (type, code) pair is in a direction, or -1. */
static int kind_of(uint8_t type, uint8_t code, enum pap_dir dir)
{
	bool ports = type == PAP_TYPE_PORTS;

	if (type != PAP_TYPE_PORTS && type != PAP_TYPE_SPIS)
		return -1;
	if (code == PAP_CODE_INVALIDATE)
		return ports ? PAP_PORT_INVALIDATE : PAP_SPI_INVALIDATE;
	if (code > PAP_CODE_INVALIDATE)
		return -1;
	if (dir == PAP_FROM_ROUTER)
		return ports ? PAP_PORT_RESPONSE : PAP_SPI_RESPONSE;
	/* FIG. 4A: an SPI request's code is zero. */
	if (!ports && code != PAP_CODE_LOW)
		return -1;
	return ports ? PAP_PORT_REQUEST : PAP_SPI_REQUEST;
}

/* Read n unused octets, which must be zero. */
static int get_unused(struct cur *c, size_t n)
{
	const uint8_t *u;
	int r;

	if ((r = cur_get_ptr(c, n, &u)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (u[i] != 0)
			return SP_EMALFORMED;
	return 0;
}

int pap_parse(struct cur *c, enum pap_dir dir, struct pap_msg *m)
{
	struct cur t = *c;
	const uint8_t *start = cur_ptr(c);
	size_t len = cur_left(c);
	uint8_t type, code, u8;
	uint16_t csum;
	int kind, r;

	memset(m, 0, sizeof(*m));
	if ((r = cur_get_u8(&t, &type)) != 0 || (r = cur_get_u8(&t, &code)) != 0 ||
	    (r = cur_get_u16(&t, &csum)) != 0)
		return r;
	if ((kind = kind_of(type, code, dir)) < 0)
		return SP_EMALFORMED;
	if (len != pap_len((enum pap_kind)kind))
		return len < pap_len((enum pap_kind)kind) ? SP_ESHORT : SP_EMALFORMED;
	m->pap_kind = (enum pap_kind)kind;
	m->pap_code = code;
	switch (m->pap_kind) {
	case PAP_PORT_REQUEST: /* FIG. 4 */
		if ((r = cur_get_u8(&t, &u8)) != 0 || (r = get_unused(&t, 3)) != 0)
			return r;
		m->pap_count = u8;
		break;
	case PAP_PORT_RESPONSE: /* FIG. 5 */
		if ((r = cur_get_u16(&t, &m->pap_port)) != 0 || (r = cur_get_u8(&t, &u8)) != 0 ||
		    (r = get_unused(&t, 1)) != 0)
			return r;
		m->pap_count = u8;
		break;
	case PAP_PORT_INVALIDATE: /* FIG. 6, port widened to two octets (pap.h) */
		if ((r = cur_get_u16(&t, &m->pap_port)) != 0 || (r = get_unused(&t, 2)) != 0)
			return r;
		break;
	case PAP_SPI_REQUEST: /* FIG. 4A */
		if ((r = cur_get_u16(&t, &m->pap_count)) != 0 || (r = get_unused(&t, 2)) != 0)
			return r;
		break;
	case PAP_SPI_RESPONSE: /* FIG. 5A */
		if ((r = cur_get_u16(&t, &m->pap_count)) != 0 || (r = get_unused(&t, 2)) != 0 ||
		    (r = cur_get_u32(&t, &m->pap_spi)) != 0)
			return r;
		break;
	case PAP_SPI_INVALIDATE: /* FIG. 6A */
		if ((r = cur_get_u32(&t, &m->pap_spi)) != 0)
			return r;
		break;
	}
	m->pap_csum_ok = csum_buf(start, len) == 0;
	*c = t;
	return 0;
}

int pap_build(struct wcur *w, const struct pap_msg *m)
{
	bool ports = m->pap_kind <= PAP_PORT_INVALIDATE;
	size_t start = w->off, len = pap_len(m->pap_kind);
	uint8_t code = m->pap_code;
	int r;

	switch (m->pap_kind) {
	case PAP_PORT_REQUEST:
		if (code > PAP_CODE_HIGH || m->pap_count > 0xff)
			return SP_EINVAL;
		break;
	case PAP_PORT_RESPONSE:
		if (code > PAP_CODE_OK || m->pap_count > 0xff)
			return SP_EINVAL;
		break;
	case PAP_SPI_REQUEST:
		if (code != PAP_CODE_LOW)
			return SP_EINVAL;
		break;
	case PAP_SPI_RESPONSE:
		if (code > PAP_CODE_OK)
			return SP_EINVAL;
		break;
	case PAP_PORT_INVALIDATE:
	case PAP_SPI_INVALIDATE:
		code = PAP_CODE_INVALIDATE;
		break;
	default:
		return SP_EINVAL;
	}
	if ((r = wcur_need(w, len)) != 0)
		return r;
	if ((r = cur_put_u8(w, ports ? PAP_TYPE_PORTS : PAP_TYPE_SPIS)) != 0 ||
	    (r = cur_put_u8(w, code)) != 0 || (r = cur_put_u16(w, 0)) != 0)
		return r;
	switch (m->pap_kind) {
	case PAP_PORT_REQUEST:
		r = cur_put_u8(w, (uint8_t)m->pap_count);
		if (r == 0)
			r = cur_put_zero(w, 3);
		break;
	case PAP_PORT_RESPONSE:
		if ((r = cur_put_u16(w, m->pap_port)) == 0 &&
		    (r = cur_put_u8(w, (uint8_t)m->pap_count)) == 0)
			r = cur_put_zero(w, 1);
		break;
	case PAP_PORT_INVALIDATE:
		if ((r = cur_put_u16(w, m->pap_port)) == 0)
			r = cur_put_zero(w, 2);
		break;
	case PAP_SPI_REQUEST:
		if ((r = cur_put_u16(w, m->pap_count)) == 0)
			r = cur_put_zero(w, 2);
		break;
	case PAP_SPI_RESPONSE:
		if ((r = cur_put_u16(w, m->pap_count)) == 0 && (r = cur_put_zero(w, 2)) == 0)
			r = cur_put_u32(w, m->pap_spi);
		break;
	case PAP_SPI_INVALIDATE:
		r = cur_put_u32(w, m->pap_spi);
		break;
	}
	if (r != 0)
		return r;
	sp_store_be16(w->p + start + PAP_OFF_CSUM, csum_buf(w->p + start, len));
	return 0;
}

void pap_port_request(struct pap_msg *m, uint8_t count, bool high)
{
	memset(m, 0, sizeof(*m));
	m->pap_kind = PAP_PORT_REQUEST;
	m->pap_code = high ? PAP_CODE_HIGH : PAP_CODE_LOW;
	m->pap_count = count;
}

void pap_port_response(struct pap_msg *m, bool ok, uint16_t lowest, uint8_t count)
{
	memset(m, 0, sizeof(*m));
	m->pap_kind = PAP_PORT_RESPONSE;
	m->pap_code = ok ? PAP_CODE_OK : PAP_CODE_FAIL;
	m->pap_port = lowest;
	m->pap_count = count;
}

void pap_port_invalidate(struct pap_msg *m, uint16_t port)
{
	memset(m, 0, sizeof(*m));
	m->pap_kind = PAP_PORT_INVALIDATE;
	m->pap_code = PAP_CODE_INVALIDATE;
	m->pap_port = port;
}

void pap_spi_request(struct pap_msg *m, uint16_t count)
{
	memset(m, 0, sizeof(*m));
	m->pap_kind = PAP_SPI_REQUEST;
	m->pap_code = PAP_CODE_LOW;
	m->pap_count = count;
}

void pap_spi_response(struct pap_msg *m, bool ok, uint32_t lowest, uint16_t count)
{
	memset(m, 0, sizeof(*m));
	m->pap_kind = PAP_SPI_RESPONSE;
	m->pap_code = ok ? PAP_CODE_OK : PAP_CODE_FAIL;
	m->pap_spi = lowest;
	m->pap_count = count;
}

void pap_spi_invalidate(struct pap_msg *m, uint32_t spi)
{
	memset(m, 0, sizeof(*m));
	m->pap_kind = PAP_SPI_INVALIDATE;
	m->pap_code = PAP_CODE_INVALIDATE;
	m->pap_spi = spi;
}
