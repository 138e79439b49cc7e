/*
 * IKEv2 in spinatd's endpoint role: the UDP socket of the IKE port, the key log and the
 * control commands around the IKE instance of the endpoint stack (host/endpoint.h). IKE
 * on the NAT-T port comes and goes through the role's NAT-T socket and the stack. Without
 * [conn] sections the endpoint runs with manual keys only and none of this exists.
 */
#ifndef SPINATD_ENDPOINT_IKE_H
#define SPINATD_ENDPOINT_IKE_H

#include "spinatd.h"
#include "host/endpoint.h"

struct endpoint_ike;

/* Whether the configuration has [conn NAME] sections. */
bool endpoint_ike_configured(struct conf *c);
/* Read the keys IKE itself does not read ([ike] keylog, port, natt_port, crl_timeout;
 * [endpoint] mark). *out is set (to free) also on failure. */
int endpoint_ike_new(struct spinatd *d, struct endpoint_ike **out) SP_MUST_CHECK;
/* Once the stack runs: open the key log and the UDP socket, register the control
 * commands. changed(arg) after each thing that may move the stack's next deadline. */
int endpoint_ike_open(struct endpoint_ike *x, struct endpoint *stack, void (*changed)(void *arg),
		      void *arg) SP_MUST_CHECK;
void endpoint_ike_free(struct spinatd *d, struct endpoint_ike *x);

/* The stack's packet p is UDP from the IKE port: sent on the IKE socket (true; the caller
 * still owns p), else false. */
bool endpoint_ike_send(struct endpoint_ike *x, const struct pkt *p);
/* An IKE message too long for a packet buffer, from the IKE port: on the IKE socket as it
 * is (0, SP_EIO); SP_ENOTFOUND when path is not the IKE port's. */
int endpoint_ike_send_long(struct endpoint_ike *x, const struct ike_path *path, const uint8_t *msg,
			   size_t len);
/* A CRL from a certificate's distribution point (crl_fetch = yes): one HTTP GET under
 * [ike] crl_timeout, logged with the URI and the outcome (crypto/x509.h
 * crypto_crl_fetch_fn). */
int endpoint_ike_crl_fetch(struct endpoint_ike *x, const char *uri, uint8_t **crl, size_t *len);
/* IKE's events (a warning for failures) and keys (to the key log). */
void endpoint_ike_warn(struct endpoint_ike *x, const struct ike_event *ev);
void endpoint_ike_keylog(struct endpoint_ike *x, const struct ike_keylog *k);

/* The [ike] and [conn] keys, for the role's --help text. */
#define ENDPOINT_IKE_USAGE                                                                         \
	"    [ike]                IKEv2 (docs/IKE.md): port (500), natt_port (4500),\n"            \
	"                         cookie_threshold (32 half-open SAs), half_open_timeout (30s),\n" \
	"                         keylog = PATH (Wireshark ikev2_decryption_table rows),\n"        \
	"                         crl_timeout (3s: one CRL fetch)\n"                               \
	"    [conn NAME]          one IKE connection: local, remote (or %any), remote_port,\n"     \
	"                         auto = add|start, auth = psk|pubkey, psk, psk_file, cert,\n"     \
	"                         key, ca, intermediates, crl, revocation = relaxed|strict,\n"     \
	"                         crl_fetch, crl_refetch (5m), local_id, remote_id (ip:,\n"        \
	"                         fqdn:, email:, dn:, keyid:), ike, esp, ah,\n"                    \
	"                         proto = esp|ah, mode = tunnel|transport, local_ts, remote_ts,\n" \
	"                         keylife (8h), rekeymargin (9m), rekeyfuzz (100),\n"              \
	"                         ikelifetime (1h), rekey, accept_rekey, epoch_guard,\n"           \
	"                         encap = auto|no|force, dpd_delay (30s), dpd_action,\n"           \
	"                         close_action, unique = replace|keep|no|never,\n"                 \
	"                         keyingtries (%forever), retry_base, retry_max, retry_jitter,\n"  \
	"                         retransmit_timeout (2s), retransmit_tries (5),\n"                \
	"                         spi = random|leased|derived, spihash, spi_lease\n"               \
	"                         003's epoch guard (docs/HOST.md): epoch_guard = no|client|\n"    \
	"                         server, maxidle (10m), pingtime (2s), pingtries (11),\n"         \
	"                         ping_jitter (25 %),\n"                                           \
	"                         epoch_timeout (10s), elimit (2), ping = icmp|udp[:PORT],\n"      \
	"                         ping_src, ping_dst, ping_answer, masq_t_out (10s),\n"            \
	"                         masq_n_out (5), masq_t_ei (30m), ping_collisions (2)\n"

#endif
