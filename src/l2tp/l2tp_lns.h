/*
 * The L2TP network server of 004, sans-IO: many LACs' tunnels and sessions (struct l2tp),
 * a PPP server link per session (struct ppp_link) that authenticates the client and hands
 * it an address from the pool, and the relay with the firewall of 004 [0015]/[0017]:
 * IKE, ESP, AH and NAT-T out of a session go to a permitted IPsec gateway (FIGS. 1 and 2,
 * through the LNS's own network interface: the `net` side) or into another client's
 * session (FIG. 3); all else is dropped and counted. From the net side only IPsec from a
 * permitted gateway enters a session. The NAT discovery service (004 [0025]) is kept here
 * too, so one `show` has it all.
 */
#ifndef SP_L2TP_L2TP_LNS_H
#define SP_L2TP_L2TP_LNS_H

#include "l2tp/l2tp.h"
#include "l2tp/l2tp_disc.h"
#include "l2tp/ppp_link.h"

#include <stdio.h>

#define L2TP_LNS_GW_MAX	   16
#define L2TP_LNS_USERS_MAX 256

/* What the firewall lets through (bits). */
#define L2TP_LNS_ALLOW_IKE  0x1 /* UDP 500 */
#define L2TP_LNS_ALLOW_NATT 0x2 /* UDP 4500 */
#define L2TP_LNS_ALLOW_ESP  0x4
#define L2TP_LNS_ALLOW_AH   0x8
#define L2TP_LNS_ALLOW_ICMP 0x10 /* not in 004; for path MTU discovery when wanted */
#define L2TP_LNS_ALLOW_IPSEC \
	(L2TP_LNS_ALLOW_IKE | L2TP_LNS_ALLOW_NATT | L2TP_LNS_ALLOW_ESP | L2TP_LNS_ALLOW_AH)

#define foreach_l2tp_lns_ctr(_)                             \
	_(FROM_SESSION, "from_session")                     \
	_(TO_NET, "to_net")                                 \
	_(FROM_NET, "from_net")                             \
	_(TO_SESSION, "to_session")                         \
	_(RELAYED, "relayed")                               \
	_(ADDR_ASSIGNED, "address_assigned")                \
	_(DROP_FW_PROTOCOL, "drop_fw_protocol")             \
	_(DROP_FW_GATEWAY, "drop_fw_gateway_not_permitted") \
	_(DROP_FW_RELAY, "drop_fw_relay_disabled")          \
	_(DROP_FW_FRAGMENT, "drop_fw_fragment")             \
	_(DROP_NOT_IPV4, "drop_not_ipv4")                   \
	_(DROP_NO_SESSION, "drop_no_session_for_address")   \
	_(DROP_SESSION_DOWN, "drop_session_down")           \
	_(DROP_POOL_EXHAUSTED, "drop_pool_exhausted")       \
	_(DROP_TOO_BIG, "drop_too_big")

enum l2tp_lns_ctr {
#define _(sym, str) L2TP_LNS_CTR_##sym,
	foreach_l2tp_lns_ctr(_)
#undef _
		L2TP_LNS_CTR_N
};

struct l2tp_lns_cfg {
	struct l2tp_cfg l2tp; /* lns is forced on */
	struct ppp_cfg ppp;   /* server is forced on; users below */
	struct ppp_user users[L2TP_LNS_USERS_MAX];
	size_t nusers;
	uint32_t local;	     /* the LNS's own PPP address */
	uint32_t pool_start; /* addresses handed out: pool_start .. pool_start + pool_n - 1 */
	uint32_t pool_n;
	/* Permitted IPsec gateways (FIG. 1: on the LAN; FIG. 2: through the router). gw_any:
	 * every address, as FIG. 2's public LNS must (004 [0017]). */
	uint32_t gw[L2TP_LNS_GW_MAX];
	uint8_t gw_plen[L2TP_LNS_GW_MAX];
	uint32_t ngw;
	bool gw_any;
	bool relay;	/* FIG. 3: between two clients' sessions (yes) */
	uint32_t allow; /* L2TP_LNS_ALLOW_* (IPsec) */
	struct l2tp_disc_cfg disc;
};

/* Documented defaults (docs/L2TP.md): L2TP and PPP defaults with CHAP, pool
 * 10.99.0.2-10.99.0.254 with local 10.99.0.1 (private realm, 004 [0015]), no gateway,
 * relay on, IPsec only. */
void l2tp_lns_cfg_defaults(struct l2tp_lns_cfg *c);

struct l2tp_lns_ops {
	/* A UDP payload from the L2TP port to addr:port. */
	void (*send_udp)(void *arg, uint32_t addr, uint16_t port, const uint8_t *buf, size_t len);
	/* An IPv4 packet for the net side (the TUN device). */
	void (*send_net)(void *arg, const uint8_t *pkt, size_t len);
	void *arg;
};

struct l2tp_lns;

int l2tp_lns_new(struct l2tp_lns **out, const struct l2tp_lns_cfg *cfg,
		 const struct l2tp_lns_ops *ops, struct sp_rng *rng,
		 const struct sp_log *log) SP_MUST_CHECK;
void l2tp_lns_free(struct l2tp_lns *n);

/* An L2TP datagram from addr:port. */
void l2tp_lns_udp_input(struct l2tp_lns *n, sp_time now, uint32_t addr, uint16_t port,
			const uint8_t *buf, size_t len);
/* An IPv4 packet from the net side (routed to a pool address). */
void l2tp_lns_net_input(struct l2tp_lns *n, sp_time now, const uint8_t *pkt, size_t len);
/* A datagram to the discovery service at local:lport from src:sport; 0 with the answer
 * in out. */
int l2tp_lns_disc_input(struct l2tp_lns *n, sp_time now, uint32_t local, uint16_t lport,
			uint32_t src, uint16_t sport, const uint8_t *in, size_t len,
			struct pkt *out) SP_MUST_CHECK;

sp_time l2tp_lns_next_deadline(const struct l2tp_lns *n);
void l2tp_lns_tick(struct l2tp_lns *n, sp_time now);
/* Forget every tunnel (the daemon restarting). */
void l2tp_lns_reset(struct l2tp_lns *n, sp_time now);

/* Counter blocks (LNS, L2TP, PPP, discovery) for the owner's registry. */
void l2tp_lns_register(struct l2tp_lns *n, struct sp_ctr_registry *reg, const char *instance);
void l2tp_lns_unregister(struct l2tp_lns *n, struct sp_ctr_registry *reg);
uint64_t l2tp_lns_ctr(const struct l2tp_lns *n, enum l2tp_lns_ctr c);
struct l2tp *l2tp_lns_l2tp(struct l2tp_lns *n);
const struct ppp_stats *l2tp_lns_ppp_stats(const struct l2tp_lns *n);
const struct l2tp_disc *l2tp_lns_disc(const struct l2tp_lns *n);

/* `spinat show l2tp`: tunnels, sessions with their users and addresses, counters. */
void l2tp_lns_show(struct l2tp_lns *n, sp_time now, FILE *out);
/* The firewall as an nftables ruleset for the kernel's own filter (same rules). */
void l2tp_lns_nft(const struct l2tp_lns *n, const char *tun, FILE *out);

/* The session holding address addr (up or not), NULL when none. */
const struct ppp_link *l2tp_lns_link_for(const struct l2tp_lns *n, uint32_t addr);

#endif
