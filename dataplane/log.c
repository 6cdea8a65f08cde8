/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipkeep's DPDK log type "sipkeep", registered once for every program that
 * links the data plane, and the rate limiter's summaries (sk_log.h).
 */
#include <inttypes.h>

#include "sk_log.h"

/* Named explicitly: RTE_LOG_REGISTER_DEFAULT needs RTE_LOG_DEFAULT_LOGTYPE from the build. */
RTE_LOG_REGISTER(sk_logtype, sipkeep, INFO);

struct sk_log_bucket *sk_log_buckets;

void sk_log_bucket_flush(struct sk_log_bucket *b, uint64_t now_ns, bool force)
{
	if (b->suppressed == 0)
		return;
	if (!force && now_ns - b->window_start_ns < 1000000000ull)
		return;
	rte_log(b->level, sk_logtype,
		"sipkeep: suppressed %" PRIu64 " line(s) like \"%s\" (at most %u per second)\n",
		b->suppressed, b->fmt, SK_LOG_RATE);
	b->suppressed = 0;
}

void sk_log_flush(bool force)
{
	uint64_t now = sk_log_now_ns();
	struct sk_log_bucket *b;

	for (b = sk_log_buckets; b != NULL; b = b->next)
		sk_log_bucket_flush(b, now, force);
}
