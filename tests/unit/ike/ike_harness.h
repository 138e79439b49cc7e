/*
 * Two IKE instances wired back to back in memory with a fake data plane, virtual time and
 * a seeded rng: what the simulator does, small enough for unit tests. Messages can be
 * dropped, rewritten (a NAT) or tampered with on the way.
 */
#ifndef SP_TESTS_IKE_HARNESS_H
#define SP_TESTS_IKE_HARNESS_H

#include "base/conf.h"
#include "base/rand.h"
#include "ike/ike.h"

#include <stdio.h>

#define H_MAX_SA 64
#ifndef H_MAX_MSG
#define H_MAX_MSG 256 /* queued messages; a fuzz target that builds it in may use fewer */
#endif
#define H_MAX_EV 128

struct h_sa {
	bool used;
	struct ike_child_sa sa;
	uint8_t ekey[64], akey[64];
	struct ike_ts tsl[IKE_TS_MAX], tsr[IKE_TS_MAX];
	bool current;
};

struct h_msg {
	int to;		      /* 0 or 1 */
	struct ike_path path; /* as the receiver sees it */
	uint8_t data[16384];
	size_t len;
};

struct h_node {
	struct ike *ike;
	struct conf *conf;
	struct sp_xoshiro rng;
	struct sp_log log;
	struct sp_ctr_registry ctrs;
	struct h_sa sas[H_MAX_SA];
	unsigned moves;	  /* kernel sa_move calls */
	unsigned nlog[4]; /* log lines by level */
	struct ike_event ev[H_MAX_EV];
	unsigned nev;
	int idx;
	struct h_world *w;
	char logs[64][320]; /* the last 64 log lines, a ring */
	unsigned nlogs;
};

struct h_world {
	struct h_node n[2];
	struct h_msg *q;
	unsigned nq;
	sp_time now;
	/* Hooks: return false to drop the message. */
	bool (*filter)(struct h_world *w, struct h_msg *m);
	void *farg;
	unsigned sent[2];
	bool nat;	      /* node 0 sits behind a NAPT: 10.0.0.1 -> 192.0.2.1, ports remapped */
	uint16_t nat_shift;   /* its ports move up by this much (0: 10000); a NAT restart
			       that maps node 0 anew changes it */
	unsigned nat_dropped; /* inbound to the NAT without a mapping */
	FILE *keylog;	      /* when set, node 0 writes Wireshark's ikev2_decryption_table rows */
	int (*crl_fetch)(void *arg, const char *uri, uint8_t **crl, size_t *len);
	void *crl_fetch_arg;
};

int h_init(struct h_world *w, const char *conf0, const char *conf1, uint64_t seed);
/* The same, with a CRL fetcher for both nodes (ike_params.crl_fetch). */
int h_init_with(struct h_world *w, const char *conf0, const char *conf1, uint64_t seed,
		int (*crl_fetch)(void *arg, const char *uri, uint8_t **crl, size_t *len),
		void *crl_fetch_arg);
/* Node i stops (orderly: ike_shutdown; crash: not even that; its data plane is lost) and
 * starts again on its configuration, auto = start connections initiating. */
int h_restart(struct h_world *w, int i, bool crash);
void h_free(struct h_world *w);
/* Deliver queued messages and fire timers until both are quiet or until `until`. */
void h_run(struct h_world *w, sp_time until);
unsigned h_events(const struct h_node *n, enum ike_event_type t);
unsigned h_sa_count(const struct h_node *n);
/* The SA with this SPI in the node's fake SADB, or NULL. */
const struct h_sa *h_sa_find(const struct h_node *n, uint32_t spi, bool inbound);
/* Every outbound SA of a has the same keys as b's inbound SA of its SPI, and vice versa. */
bool h_keys_pair(const struct h_node *a, const struct h_node *b);
uint64_t h_ctr(const struct h_node *n, const char *name);
/* Whether one of the node's last 64 log lines contains text. */
bool h_logged(const struct h_node *n, const char *text);

struct ike_sa;
/* The node's IKE SA with initiator SPI spi_i that has its keys already, or NULL. */
struct ike_sa *h_ike_sa(const struct h_node *n, uint64_t spi_i);

/* The fields of an IKE Fragment message for h_skf_seal, as given: a test may make them
 * wrong on purpose. */
struct h_skf {
	uint8_t exch, flags; /* IKE header: Exchange Type and Flags */
	uint32_t msgid;
	uint16_t num, total; /* Fragment Number, Total Fragments */
	uint8_t np;	     /* the SKF payload's Next Payload */
	int len_adj;	     /* added to the SKF payload's Payload Length */
	bool pad_255;	     /* a Pad Length of 255 rather than the padding's */
};
/* One Encrypted Fragment message (RFC 7383 2.5) from the initiator of sa into out: the IKE
 * header with sa's SPIs, the SKF payload with content padded and sealed with the
 * initiator's keys under a fresh IV, as ikev2_frag.c cuts them. Returns its length (out
 * takes clen + 128 octets), 0 when sealing fails. */
size_t h_skf_seal(struct ike_sa *sa, const struct h_skf *f, const uint8_t *content, size_t clen,
		  uint8_t *out);

#endif
