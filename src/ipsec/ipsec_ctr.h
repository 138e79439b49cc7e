/*
 * The named counters of one IPsec instance (HACKING.md "Drops and counters"). Drop
 * reasons come first and double as the result codes of esp_*() and ah_*(), so a packet
 * that is not delivered is always counted under exactly one of these names.
 */
#ifndef SP_IPSEC_IPSEC_CTR_H
#define SP_IPSEC_IPSEC_CTR_H

#define foreach_ipsec_drop(_)                                                                  \
	_(NO_SA, "drop_no_sa")			 /* no inbound SA for (SPI, proto, dst) */     \
	_(REPLAY, "drop_replay")		 /* RFC 4303 3.4.3, RFC 4302 3.4.3 */          \
	_(ICV, "drop_icv_mismatch")		 /* integrity check failed */                  \
	_(PADDING, "drop_bad_padding")		 /* RFC 4303 2.4 padding check */              \
	_(EXPIRED, "drop_lifetime_expired")	 /* hard lifetime reached */                   \
	_(POLICY, "drop_policy_mismatch")	 /* inner packet not allowed on this SA */     \
	_(MALFORMED, "drop_malformed")		 /* lengths or headers do not add up */        \
	_(FRAGMENT, "drop_fragment")		 /* AH/ESP on a fragment (RFC 4302 3.4.1) */   \
	_(NO_SPACE, "drop_no_space")		 /* packet buffer too small for the headers */ \
	_(SEQ_OVERFLOW, "drop_seq_overflow")	 /* RFC 4303 3.3.3: no cycling */              \
	_(CRYPTO, "drop_crypto_error")		 /* libcrypto refused */                       \
	_(UNSUPPORTED, "drop_unsupported")	 /* e.g. IPv6 inside a tunnel */               \
	_(DISCARD, "drop_policy_discard")	 /* a DISCARD policy matched */                \
	_(ACQUIRE, "drop_no_sa_acquire")	 /* PROTECT policy without an SA */            \
	_(NO_POLICY, "drop_no_policy")		 /* outbound, no policy and no bypass */       \
	_(DUMMY, "drop_dummy")			 /* RFC 4303 2.6: next header 59, discarded */ \
	_(HOOK, "drop_hook")			 /* the pre/post-compensation hook refused */  \
	_(IKE_NO_HANDLER, "drop_ike_no_handler") /* IKE on the NAT-T port, nobody to take it */

#define foreach_ipsec_other(_)               \
	_(RX_ESP, "rx_esp")                  \
	_(RX_ESP_UDP, "rx_esp_udp")          \
	_(RX_AH, "rx_ah")                    \
	_(RX_DECAP, "rx_decapsulated")       \
	_(RX_BYPASS, "rx_bypass")            \
	_(RX_IKE, "rx_ike_natt")             \
	_(RX_KEEPALIVE, "rx_natt_keepalive") \
	_(TX_ESP, "tx_esp")                  \
	_(TX_ESP_UDP, "tx_esp_udp")          \
	_(TX_AH, "tx_ah")                    \
	_(TX_BYPASS, "tx_bypass")            \
	_(TX_KEEPALIVE, "tx_natt_keepalive") \
	_(EV_ACQUIRE, "event_acquire")       \
	_(EV_SOFT, "event_soft_expire")      \
	_(EV_HARD, "event_hard_expire")      \
	_(EV_LARVAL, "event_spi_expire")     \
	_(PEER_MOVED, "natt_peer_moved")

enum ipsec_ctr {
	IPSEC_OK = 0, /* not a counter: the "no drop" result of esp_*() / ah_*() */
#define _(sym, str) IPSEC_DROP_##sym,
	foreach_ipsec_drop(_)
#undef _
#define _(sym, str) IPSEC_CTR_##sym,
		foreach_ipsec_other(_)
#undef _
			IPSEC_CTR_N
};

#endif
