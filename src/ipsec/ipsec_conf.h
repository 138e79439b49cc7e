/*
 * Manual keying from the configuration file (docs/CONFIG.md "[sa]" and "[policy]"), as
 * `ip xfrm state` / `ip xfrm policy` or setkey allow, so tunnels work without IKE. Used by
 * spinatd's endpoint role and by endpoint nodes in the simulator.
 */
#ifndef SP_IPSEC_IPSEC_CONF_H
#define SP_IPSEC_IPSEC_CONF_H

#include "base/conf.h"
#include "ipsec/ipsec.h"

/*
 * Install every [sa NAME] and [policy NAME] section of c into e. On an error the message
 * in conf_error(c) names the file, line, section and key; SP_ECONFIG is returned and what
 * was installed before stays installed (the caller frees the engine).
 */
int ipsec_conf_load(struct ipsec *e, struct conf *c, sp_time now) SP_MUST_CHECK;

/* The engine settings of the [ipsec] section (optional): replay default, NAT-T port and
 * keepalive interval, SA table size. Fills the matching fields of cfg. */
int ipsec_conf_engine(struct conf *c, struct ipsec_cfg *cfg) SP_MUST_CHECK;

#endif
