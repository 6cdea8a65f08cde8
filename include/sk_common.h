/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small definitions shared by the data plane and the control thread: the two
 * sides of the box and the clock unit. Everything here is header-only.
 */
#ifndef SK_COMMON_H
#define SK_COMMON_H

#include <stdint.h>

/* The two ports of the bump-in-the-wire. A frame received on one side leaves on the other. */
enum sk_side { SK_SIDE_ACCESS = 0, SK_SIDE_CORE = 1, SK_SIDE_COUNT };

static inline enum sk_side sk_side_other(enum sk_side s)
{
	return s == SK_SIDE_ACCESS ? SK_SIDE_CORE : SK_SIDE_ACCESS;
}

static inline const char *sk_side_name(enum sk_side s)
{
	return s == SK_SIDE_ACCESS ? "access" : "core";
}

/* All timers and timestamps are nanoseconds: TSC-derived live, trace time in replay. */
typedef uint64_t sk_time_ns;

#define SK_NS_PER_MS 1000000ULL

#define SK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* SK_COMMON_H */
