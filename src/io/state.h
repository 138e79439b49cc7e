/*
 * Small persisted state of the daemons: a counter in a file that survives restarts and
 * crashes, e.g. how many times spinatd has started (the high half of the IVs of manually
 * keyed AES-GCM/GMAC SAs, so an IV never repeats under a static key; RFC 4106 3.1).
 */
#ifndef SP_IO_STATE_H
#define SP_IO_STATE_H

#include "base/sp.h"

/*
 * Read the decimal counter in path (0 when the file does not exist), add one, and store
 * it durably (a new file written, synced and renamed over the old one, the directory
 * synced) before returning it in *out. A file that holds anything but a number is an
 * error, so that a damaged counter is never silently restarted.
 */
int io_state_bump(const char *path, uint64_t *out) SP_MUST_CHECK;

#endif
