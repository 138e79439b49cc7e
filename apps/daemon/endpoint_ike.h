/*
 * IKEv2 in spinatd's endpoint role: the sans-IO IKE module (ike/ike.h) on real sockets,
 * installing its CHILD SAs into the endpoint's IPsec engine (ike/ike_ipsec.h). IKE on UDP
 * 500 uses a socket of its own; IKE on the NAT-T port arrives through the engine, which
 * tells it from ESP-in-UDP, and leaves through the endpoint's NAT-T socket. role_endpoint.c
 * calls these hooks; without [conn] sections the endpoint runs with manual keys only.
 */
#ifndef SPINATD_ENDPOINT_IKE_H
#define SPINATD_ENDPOINT_IKE_H

#include "spinatd.h"
#include "io/ipsock.h"
#include "ipsec/ipsec.h"

struct endpoint_ike;

/* Whether the configuration has [conn NAME] sections. */
bool endpoint_ike_configured(struct conf *c);
/* Read [ike] and [conn] sections, create the IKE instance on e, and (unless d->check) open
 * the UDP 500 socket, register the control commands and start auto = start connections. */
int endpoint_ike_start(struct spinatd *d, struct ipsec *e, struct io_ipsock *net,
		       struct sp_rng *rng, struct endpoint_ike **out) SP_MUST_CHECK;
void endpoint_ike_stop(struct spinatd *d, struct endpoint_ike *x);

/* IKE on the NAT-T port, from the engine's ike_in callback (p: the UDP payload after the
 * non-ESP marker). Consumes p. */
void endpoint_ike_natt_in(struct endpoint_ike *x, struct pkt *p, uint32_t src, uint32_t dst,
			  uint16_t sport, uint16_t dport);
/* A UDP datagram on the NAT-T port too large for a packet buffer, whole in net->large:
 * true when it was IKE (the non-ESP marker) and IKE took it. */
bool endpoint_ike_natt_large(struct endpoint_ike *x, const struct io_ipsock *net);
/* The engine's acquire and expiry events. */
void endpoint_ike_event(struct endpoint_ike *x, const struct ipsec_event *ev);
/*
 * 003's epoch guard (host/host_guard_ep.h), for connections with epoch_guard = client or
 * server: the inbound SA a decapsulated packet came through (the engine's post_unprotect),
 * then the packet itself before it goes to the TUN device; true when the guard took it
 * (its ping reply, or a ping it answered).
 */
void endpoint_ike_note_rx(struct endpoint_ike *x, const struct sa *sa);
bool endpoint_ike_local(struct endpoint_ike *x, struct pkt *p);
/* IKE and CHILD SAs for `spinat show sa`. */
void endpoint_ike_show(struct endpoint_ike *x, FILE *out);

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
	"                         retransmit_timeout (2s), retransmit_tries (5),\n"                \
	"                         spi = random|leased|derived, spihash, spi_lease\n"               \
	"                         003's epoch guard (docs/HOST.md): epoch_guard = no|client|\n"    \
	"                         server, maxidle (10m), pingtime (2s), pingtries (11),\n"         \
	"                         ping_jitter (25 %),\n"                                           \
	"                         epoch_timeout (10s), elimit (2), ping = icmp|udp[:PORT],\n"      \
	"                         ping_src, ping_dst, ping_answer, masq_t_out (10s),\n"            \
	"                         masq_n_out (5), masq_t_ei (30m), ping_collisions (2)\n"

#endif
