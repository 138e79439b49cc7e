/*
 * The peer's address moves (RFC 7296 2.23): the move to the NAT-T port after NAT
 * detection, and following a peer that is not behind a NAT to a new address and port.
 */
#include "ike/ike_priv.h"

#include "base/addr.h"

#include <stdio.h>

bool ike_sa_may_follow(const struct ike_sa *sa)
{
	/* 2.23: "a host ... that is not behind a NAT, SHOULD send all packets ... to the IP
	 * address and port in the validated packet"; "A host behind a NAT SHOULD NOT". Only
	 * on the NAT-T port, where NAT detection ran and the peer's port means something. */
	return sa->natt && !sa->nat_local && sa->conn->dynamic_update;
}

static void ep_fmt(uint32_t addr, uint16_t port, char *buf, size_t len)
{
	char a[SP_IP4_STRLEN];

	snprintf(buf, len, "%s:%u", sp_ip4_fmt(addr, a), port);
}

void ike_sa_move_peer(struct ike_sa *sa, uint32_t addr, uint16_t port, const char *seen_in)
{
	struct ike *ike = sa->ike;
	char from[32], to[32];
	unsigned n = 0;

	ep_fmt(sa->path.remote_addr, sa->path.remote_port, from, sizeof(from));
	ep_fmt(addr, port, to, sizeof(to));
	sa->path.remote_addr = addr;
	sa->path.remote_port = port;
	for (struct ike_child *ch = sa->children; ch != NULL; ch = ch->next, n++)
		ike_child_move(sa, ch);
	ike_ctr(ike, IKE_CTR_PEER_MOVED);
	IKE_LOG(ike, SP_LOG_INFO,
		"%s: IKE SA %016llx: peer moved from %s to %s (%s, RFC 7296 2.23): the IKE SA "
		"and %u CHILD SAs follow",
		sa->conn->name, (unsigned long long)sa->spi_i, from, to, seen_in, n);
}

/* An authenticated new message (a request we had not seen, or the answer to ours) came
 * on path. */
void ike_sa_update_path(struct ike_sa *sa, const struct ike_path *path)
{
	struct ike *ike = sa->ike;

	if (sa->path.remote_addr == path->remote_addr &&
	    sa->path.remote_port == path->remote_port && sa->path.local_port == path->local_port)
		return;
	if (!sa->natt && path->local_port == ike->natt_port &&
	    (sa->nat_remote || sa->nat_local || sa->conn->encap == IKE_ENCAP_FORCE)) {
		/* 2.23: the initiator moved to the NAT-T port after NAT detection (seen by
		 * the responder, behind a NAT or not): the rest of the IKE SA is there. */
		sa->path.remote_addr = path->remote_addr;
		sa->path.remote_port = path->remote_port;
		sa->path.local_port = path->local_port;
		sa->natt = true;
		return;
	}
	if (!ike_sa_may_follow(sa) || path->local_port != sa->path.local_port) {
		char from[32];

		ike_ctr(ike, IKE_CTR_PEER_MOVE_IGNORED);
		ep_fmt(path->remote_addr, path->remote_port, from, sizeof(from));
		SP_DEBUG(ike->p.log, IKE_MOD, "%s: message from %s kept on the old path (%s)",
			 sa->conn->name, from,
			 sa->nat_local		     ? "behind a NAT"
			 : !sa->natt		     ? "no NAT-T"
			 : !sa->conn->dynamic_update ? "dynamic_update = no"
						     : "another local port");
		return;
	}
	ike_sa_move_peer(sa, path->remote_addr, path->remote_port, "IKE message");
}
