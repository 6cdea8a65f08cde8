/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every counter sipkeep keeps, declared once. The lists below generate the
 * enum, the names printed in --stats-json / at shutdown, and the help text.
 *
 * Counters are owned by one writer each (a worker, or the control thread) and
 * summed by the control thread when stats are read. Writers use relaxed atomic
 * stores so that a concurrent reader never sees a torn value; on x86-64 this
 * compiles to a plain add.
 */
#ifndef SK_COUNTERS_H
#define SK_COUNTERS_H

#include <stdint.h>

#include "sk_common.h"

/* Per-port counters: one set per side, kept by each worker for its queues. */
#define SK_PORT_COUNTERS(X)                                                                        \
	X(rx, "frames received")                                                                   \
	X(tx, "frames transmitted")                                                                \
	X(tx_dropped, "frames dropped because the TX queue stayed full")

enum sk_port_counter {
#define SK_X(name, help) SK_PCTR_##name,
	SK_PORT_COUNTERS(SK_X)
#undef SK_X
		SK_PCTR_COUNT
};

/* Per-worker counters of what the data plane saw and did. */
#define SK_WORKER_COUNTERS(X)                                                                      \
	X(frames_non_ip, "frames that are neither IPv4 nor IPv6 (ARP, LLDP, ...), passed")         \
	X(frames_l3_malformed, "IP/UDP headers truncated or inconsistent, passed unchanged")       \
	X(frames_ip_other, "IP frames that are not UDP, passed")                                   \
	X(frames_ip_fragment, "IP fragments")                                                      \
	X(frames_udp_other, "UDP frames not to or from a SIP port")                                \
	X(frames_sip, "UDP frames to or from a SIP port")                                          \
	X(frames_multiseg_linearize_failed, "multi-segment SIP frames that could not be made "     \
					    "contiguous, passed unparsed")                        \
	X(sip_messages, "SIP messages parsed")                                                     \
	X(sip_parse_errors, "SIP messages that did not parse (see sip_parse_error_reasons)")

enum sk_worker_counter {
#define SK_X(name, help) SK_WCTR_##name,
	SK_WORKER_COUNTERS(SK_X)
#undef SK_X
		SK_WCTR_COUNT
};

extern const char *const sk_port_counter_names[SK_PCTR_COUNT];
extern const char *const sk_worker_counter_names[SK_WCTR_COUNT];

static inline void sk_ctr_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline uint64_t sk_ctr_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif /* SK_COUNTERS_H */
