/*
 * IKEv2 payload bodies (RFC 7296 3.3-3.15): SA proposals and transforms, KE, Nonce, ID,
 * AUTH, CERT, CERTREQ, Notify, Delete, Traffic Selectors. Framing (header, generic payload
 * header, chain walking and writing) is proto/ikev2.h's; this file reads the bodies through
 * bounded cursors into struct ikev2_msg and appends them to a payload writer.
 */
#ifndef SP_IKE_IKEV2_PLD_H
#define SP_IKE_IKEV2_PLD_H

#include "ike/ike.h"
#include "proto/ikev2.h"

/* Transform types (RFC 7296 3.3.2). */
#define IKEV2_XF_ENCR  1
#define IKEV2_XF_PRF   2
#define IKEV2_XF_INTEG 3
#define IKEV2_XF_DH    4
#define IKEV2_XF_ESN   5
#define IKEV2_XF_TYPES 5

/* Transform IDs spinat implements (RFC 7296 3.3.2, RFC 5282, RFC 4868). */
#define IKEV2_ENCR_AES_CBC	      12
#define IKEV2_ENCR_AES_GCM_16	      20
#define IKEV2_INTEG_NONE	      0
#define IKEV2_INTEG_HMAC_SHA2_256_128 12
#define IKEV2_ESN_NO		      0
#define IKEV2_ESN_YES		      1
#define IKEV2_ATTR_KEY_LENGTH	      14 /* TV format: AF bit set (RFC 7296 3.3.5) */

/* Notify message types (RFC 7296 3.10.1, RFC 7427 4). */
#define IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD  1
#define IKEV2_N_INVALID_IKE_SPI		      4
#define IKEV2_N_INVALID_MAJOR_VERSION	      5
#define IKEV2_N_INVALID_SYNTAX		      7
#define IKEV2_N_INVALID_MESSAGE_ID	      9
#define IKEV2_N_INVALID_SPI		      11
#define IKEV2_N_NO_PROPOSAL_CHOSEN	      14
#define IKEV2_N_INVALID_KE_PAYLOAD	      17
#define IKEV2_N_AUTHENTICATION_FAILED	      24
#define IKEV2_N_SINGLE_PAIR_REQUIRED	      34
#define IKEV2_N_NO_ADDITIONAL_SAS	      35
#define IKEV2_N_INTERNAL_ADDRESS_FAILURE      36
#define IKEV2_N_FAILED_CP_REQUIRED	      37
#define IKEV2_N_TS_UNACCEPTABLE		      38
#define IKEV2_N_INVALID_SELECTORS	      39
#define IKEV2_N_TEMPORARY_FAILURE	      43
#define IKEV2_N_CHILD_SA_NOT_FOUND	      44
#define IKEV2_N_ERROR_MAX		      16383 /* types below 16384 are errors */
#define IKEV2_N_INITIAL_CONTACT		      16384
#define IKEV2_N_SET_WINDOW_SIZE		      16385
#define IKEV2_N_ADDITIONAL_TS_POSSIBLE	      16386
#define IKEV2_N_NAT_DETECTION_SOURCE_IP	      16388
#define IKEV2_N_NAT_DETECTION_DESTINATION_IP  16389
#define IKEV2_N_COOKIE			      16390
#define IKEV2_N_USE_TRANSPORT_MODE	      16391
#define IKEV2_N_REKEY_SA		      16393
#define IKEV2_N_ESP_TFC_PADDING_NOT_SUPPORTED 16394
#define IKEV2_N_NON_FIRST_FRAGMENTS_ALSO      16395
#define IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED 16430 /* RFC 7383 2.3 */
#define IKEV2_N_SIGNATURE_HASH_ALGORITHMS     16431

/* ID types (RFC 7296 3.5). */
#define IKEV2_ID_IPV4_ADDR 1
#define IKEV2_ID_FQDN	   2
#define IKEV2_ID_RFC822	   3
#define IKEV2_ID_DER_DN	   9
#define IKEV2_ID_KEY_ID	   11

/* Authentication methods (RFC 7296 3.8, RFC 7427 3). */
#define IKEV2_AUTH_PSK 2
#define IKEV2_AUTH_SIG 14

#define IKEV2_CERT_X509_SIG 4 /* X.509 Certificate - Signature (RFC 7296 3.6) */
#define IKEV2_TS_IPV4_RANGE 7

/* Limits on what one message may carry; more is refused as INVALID_SYNTAX. */
#define IKEV2_PROP_MAX	  16 /* proposals per SA payload */
#define IKEV2_XF_PER_TYPE 8  /* transform IDs of one type in one proposal */
#define IKEV2_NOTIFY_MAX  16
#define IKEV2_DELETE_MAX  8
#define IKEV2_CERT_MAX	  4
#define IKEV2_NONCE_MIN	  16 /* RFC 7296 3.9 */
#define IKEV2_NONCE_MAX	  256
#define IKEV2_ID_MAX	  255 /* spinat's cap on identification data */

/* One transform of a proposal. */
struct ikev2_xf {
	uint16_t id;
	uint16_t keylen; /* bits, 0 when the transform had no Key Length attribute */
};

/* A proposal as received (RFC 7296 3.3.1). */
struct ikev2_prop {
	uint8_t num;
	uint8_t proto;
	uint8_t spi_size;
	uint64_t spi; /* 4 octets for AH/ESP, 8 for an IKE SA rekey, none in IKE_SA_INIT */
	uint8_t nxf[IKEV2_XF_TYPES];
	struct ikev2_xf xf[IKEV2_XF_TYPES][IKEV2_XF_PER_TYPE];
	bool unusable; /* unknown transform type or attribute: RFC 7296 3.3.6 says refuse it */
};

/* A selected (or configured single-choice) algorithm set. */
struct ikev2_algs {
	uint8_t proto;
	uint16_t encr, encr_keylen, prf, integ, dh, esn;
	uint64_t spi;
	uint8_t num; /* proposal number to echo */
};

struct ikev2_notify {
	uint8_t proto;
	uint8_t spi_size;
	uint16_t type;
	uint64_t spi;
	const uint8_t *data;
	size_t len;
};

struct ikev2_delete {
	uint8_t proto;
	uint8_t spi_size;
	uint16_t num;
	const uint8_t *spis; /* num * spi_size octets */
};

struct ikev2_id {
	uint8_t type;
	const uint8_t *data;
	size_t len;
	const uint8_t *body; /* ID Type | RESERVED | data: the RestOf*IDPayload of 2.15 */
	size_t body_len;
};

struct ikev2_blob {
	const uint8_t *p;
	size_t len;
};

/* A message's payloads as parsed: pointers into the (decrypted) message buffer. */
struct ikev2_msg {
	struct ikev2_hdr hdr;
	uint32_t seen; /* bit (type - 32) for each payload type present */
	struct cur sa;
	uint16_t ke_group;
	struct ikev2_blob ke;
	struct ikev2_blob nonce;
	struct ikev2_id idi, idr;
	uint8_t auth_method;
	struct ikev2_blob auth;
	uint8_t ncert;
	struct ikev2_blob cert[IKEV2_CERT_MAX];
	bool certreq;
	uint8_t nnotify;
	struct ikev2_notify notify[IKEV2_NOTIFY_MAX];
	uint8_t ndelete;
	struct ikev2_delete del[IKEV2_DELETE_MAX];
	uint8_t ntsi, ntsr;
	struct ike_ts tsi[IKE_TS_MAX], tsr[IKE_TS_MAX];
	uint8_t unsupported_critical; /* first unknown critical payload type, 0 if none */
};

static inline bool ikev2_msg_has(const struct ikev2_msg *m, uint8_t type)
{
	return type >= 32 && type < 64 && (m->seen & (1u << (type - 32))) != 0;
}

/*
 * Read every payload of a chain into m (which the caller zeroed or filled with the outer
 * chain's payloads). The SK payload is returned through *sk (its body) and *sk_np, NULL if
 * absent. SP_EMALFORMED for a bad body, a repeated singleton payload or too many of a kind.
 */
int ikev2_msg_parse(struct ikev2_msg *m, struct ikev2_pld_iter *it, struct ikev2_pld *sk,
		    bool *has_sk) SP_MUST_CHECK;

/* The first notify of a type, or NULL. */
const struct ikev2_notify *ikev2_msg_notify(const struct ikev2_msg *m, uint16_t type);
/* The first error notify (type < 16384), or NULL. */
const struct ikev2_notify *ikev2_msg_error(const struct ikev2_msg *m);

/* Proposals of an SA payload body; *n of them, at most max. */
int ikev2_sa_parse(struct cur sa, struct ikev2_prop *props, size_t max, size_t *n) SP_MUST_CHECK;

/* Builders: each appends one whole payload through the writer. */
int ikev2_put_sa(struct ikev2_pld_writer *w, const struct ikev2_algs *props, size_t n,
		 uint8_t spi_size) SP_MUST_CHECK;
int ikev2_put_ke(struct ikev2_pld_writer *w, uint16_t group, const uint8_t *data,
		 size_t len) SP_MUST_CHECK;
int ikev2_put_nonce(struct ikev2_pld_writer *w, const uint8_t *n, size_t len) SP_MUST_CHECK;
int ikev2_put_notify(struct ikev2_pld_writer *w, uint8_t proto, uint64_t spi, uint8_t spi_size,
		     uint16_t type, const void *data, size_t len) SP_MUST_CHECK;
/* ID payload (IDi or IDr): ID Type, RESERVED, data (3.5). */
int ikev2_put_id(struct ikev2_pld_writer *w, uint8_t pld, uint8_t type, const uint8_t *data,
		 size_t len) SP_MUST_CHECK;
int ikev2_put_auth(struct ikev2_pld_writer *w, uint8_t method, const uint8_t *data,
		   size_t len) SP_MUST_CHECK;
int ikev2_put_cert(struct ikev2_pld_writer *w, uint8_t enc, const uint8_t *der,
		   size_t len) SP_MUST_CHECK;
int ikev2_put_certreq(struct ikev2_pld_writer *w, uint8_t enc, const uint8_t *keyids,
		      size_t len) SP_MUST_CHECK;
int ikev2_put_ts(struct ikev2_pld_writer *w, uint8_t pld, const struct ike_ts *ts,
		 size_t n) SP_MUST_CHECK;
int ikev2_put_delete(struct ikev2_pld_writer *w, uint8_t proto, uint8_t spi_size,
		     const uint32_t *spis, size_t n) SP_MUST_CHECK;

const char *ikev2_notify_name(uint16_t type);

#endif
