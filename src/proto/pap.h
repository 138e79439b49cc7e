/*
 * The Port Allocation Protocol of 002 (FIG. 3): a host asks its router for blocks of
 * locally unique ports (type 32, FIGS. 4-6) and IPsec SPIs (type 33, FIGS. 4A-6A), the
 * router grants or refuses them, and either side invalidates a block. The messages follow
 * the ICMP format (002 "fields in the PAP messages follow standard ICMP message format"):
 * they are the payload of an IPv4 packet of protocol 1 addressed to or sent by the router.
 *
 * Octet layouts (every field big-endian):
 *   FIG. 4  port request     type 32 | code 0/1 | csum(2) | count(1) | unused(3)       8
 *   FIG. 5  port response    type 32 | code 0/1 | csum(2) | lowest port(2) | count(1)
 *                            | unused(1)                                                 8
 *   FIG. 6  port invalidate  type 32 | code 2   | csum(2) | port(2) | unused(2)          8
 *   FIG. 4A SPI request      type 33 | code 0   | csum(2) | count(2) | unused(2)        8
 *   FIG. 5A SPI response     type 33 | code 0/1 | csum(2) | count(2) | unused(2)
 *                            | lowest SPI(4)                                            12
 *   FIG. 6A SPI invalidate   type 33 | code 2   | csum(2) | SPI(4)                      8
 * A request's code is 0 for ports under 10,000 and 1 for ports from 10,000 (FIG. 4); a
 * response's is 0 for failure and 1 for success (FIG. 5), so requests and responses share
 * type and code values and the parser is told which way the message travels.
 *
 * FIG. 6's text gives its port field one octet and three unused octets, which cannot carry
 * a port above 255; spinat keeps the figure's 8-octet message and its field order and
 * gives the port the two octets a port needs, leaving two unused. An invalidation names
 * any port (SPI) of a block and invalidates the whole block; the router's port 0 (SPI 0)
 * means every block it gave the host, the announcement a restarted router sends (002
 * "invalidate all locally unique ports in use upon reboot").
 *
 * The checksum is the ICMP one (RFC 792): the one's complement of the one's complement sum
 * of the whole message with the checksum field zero, so a correct message sums to 0.
 */
#ifndef SP_PROTO_PAP_H
#define SP_PROTO_PAP_H

#include "base/cursor.h"

#define PAP_TYPE_PORTS 32 /* FIGS. 4, 5, 6 */
#define PAP_TYPE_SPIS  33 /* FIGS. 4A, 5A, 6A */

#define PAP_CODE_LOW	    0 /* request: ports under PAP_PORT_SPLIT; SPI request */
#define PAP_CODE_HIGH	    1 /* request: ports from PAP_PORT_SPLIT */
#define PAP_CODE_FAIL	    0 /* response */
#define PAP_CODE_OK	    1 /* response */
#define PAP_CODE_INVALIDATE 2

#define PAP_PORT_SPLIT 10000 /* FIG. 4: code 0 under, code 1 from */

#define PAP_LEN		 8  /* every message but FIG. 5A */
#define PAP_SPI_RESP_LEN 12 /* FIG. 5A */
#define PAP_MAX_LEN	 PAP_SPI_RESP_LEN
#define PAP_OFF_CSUM	 2

/* SPIs 1-255 are reserved (002 FIG. 16 text, RFC 4303 2.1): never granted. */
#define PAP_SPI_MIN 256

/* Which way a message travels: the same type and code mean a request from a host and a
 * response from the router. */
enum pap_dir {
	PAP_FROM_HOST = 0,
	PAP_FROM_ROUTER = 1,
};

enum pap_kind {
	PAP_PORT_REQUEST = 0,
	PAP_PORT_RESPONSE,
	PAP_PORT_INVALIDATE,
	PAP_SPI_REQUEST,
	PAP_SPI_RESPONSE,
	PAP_SPI_INVALIDATE,
};

struct pap_msg {
	enum pap_kind pap_kind;
	uint8_t pap_code;   /* request: PAP_CODE_LOW/HIGH; response: PAP_CODE_FAIL/OK */
	uint16_t pap_count; /* requested or granted (ports: 1 octet on the wire) */
	uint16_t pap_port;  /* port response: lowest port; port invalidate: a port */
	uint32_t pap_spi;   /* SPI response: lowest SPI; SPI invalidate: an SPI */
	bool pap_csum_ok;   /* the message sums to 0 */
};

/* The wire length of a kind of message. */
size_t pap_len(enum pap_kind kind);

/*
 * Parse the message that fills the cursor (an ICMP payload of type 32 or 33) and consume
 * it all: the length must be exactly the layout's and the unused octets zero, else
 * SP_EMALFORMED and the cursor is left where it was. A wrong checksum is reported in
 * pap_csum_ok, not as an error, so the caller counts it under its own name.
 */
int pap_parse(struct cur *c, enum pap_dir dir, struct pap_msg *m) SP_MUST_CHECK;

/* Write m (kind, code, count, port/SPI as the kind uses them) with its checksum: fails
 * with SP_EINVAL for a count that does not fit its field or a code the kind does not
 * have, SP_ENOSPACE when the writer is short. */
int pap_build(struct wcur *w, const struct pap_msg *m) SP_MUST_CHECK;

/* Constructors for the common messages. */
void pap_port_request(struct pap_msg *m, uint8_t count, bool high);
void pap_port_response(struct pap_msg *m, bool ok, uint16_t lowest, uint8_t count);
void pap_port_invalidate(struct pap_msg *m, uint16_t port);
void pap_spi_request(struct pap_msg *m, uint16_t count);
void pap_spi_response(struct pap_msg *m, bool ok, uint32_t lowest, uint16_t count);
void pap_spi_invalidate(struct pap_msg *m, uint32_t spi);

const char *pap_kind_name(enum pap_kind kind);

#endif
