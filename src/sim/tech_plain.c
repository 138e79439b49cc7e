/*
 * Technique "plain": no IPsec at all. The clients' UDP flows cross spinat's NAT engine
 * (NAPT; for protocols without ports the ipaddr strategy, what a home router does) and the
 * gateway answers to whatever address and port they came from. It is the yardstick: what
 * the network delivers before any tunnel adds overhead or loses packets.
 */
#include "sim/technique.h"

static int plain_setup(struct sim_tech_ctx *tc)
{
	return sim_tech_attach_engine(tc, "ipaddr", NULL);
}

const struct sim_technique sim_tech_plain = {
	.name = "plain",
	.descr = "no IPsec: UDP through the NAT engine's NAPT; the baseline",
	.flags = 0,
	.params = NULL,
	.setup = plain_setup,
};
