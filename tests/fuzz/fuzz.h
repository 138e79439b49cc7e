/*
 * Shared by the libFuzzer targets: the entry point's prototype and FUZZ_CHECK, which turns
 * a broken invariant into a crash libFuzzer reports with its input (run-fuzz.sh keeps it).
 * A target parses the input, then checks what a correct parser guarantees: lengths within
 * the input, cursor positions, and that building from the parsed fields gives the bytes
 * back.
 */
#ifndef SP_TESTS_FUZZ_H
#define SP_TESTS_FUZZ_H

#include "base/cursor.h"
#include "base/pkt.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

#endif
