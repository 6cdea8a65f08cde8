/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipkeep's DPDK log type, named "sipkeep": `--log-level=sipkeep:debug` on the
 * EAL command line shows the debug lines, the default level is INFO.
 *
 * SK_LOG_LIMITED is for lines that a packet can trigger (a REGISTER, its
 * answer, a handover): each call site prints at most SK_LOG_RATE lines per
 * one-second window; the lines it drops are counted and summed up in one
 * "suppressed" line when the site logs again after its window, or when
 * sk_log_flush() runs (the control loop calls it on every tick, and at exit).
 * No allocation, no lock: only the control thread logs these lines. Workers
 * do not log per packet at all.
 */
#ifndef SK_LOG_H
#define SK_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_log.h>

extern int sk_logtype;

#define SK_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, sk_logtype, "sipkeep: " fmt "\n", ##__VA_ARGS__)

/* Lines one rate-limited call site may print per one-second window. */
#define SK_LOG_RATE 10

/* One call site's window; static storage, linked into sk_log_buckets at first use. */
struct sk_log_bucket {
	struct sk_log_bucket *next;
	const char *fmt; /* the site's format, to name it in the summary */
	uint64_t window_start_ns;
	uint32_t level;
	uint32_t in_window;  /* lines printed in the current window */
	uint64_t suppressed; /* lines dropped since the last summary */
	bool linked;
};

/* Every bucket used so far (control thread only). */
extern struct sk_log_bucket *sk_log_buckets;

static inline uint64_t sk_log_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Print B's "suppressed" summary if it has one and its window is over (or FORCE). */
void sk_log_bucket_flush(struct sk_log_bucket *b, uint64_t now_ns, bool force);

/* Summaries of every site whose window is over; FORCE: all of them (at exit). */
void sk_log_flush(bool force);

/* May B's site print one more line now? Counts the line as suppressed if not. */
static inline bool sk_log_bucket_take(struct sk_log_bucket *b, uint32_t level, const char *fmt)
{
	uint64_t now = sk_log_now_ns();

	if (!rte_log_can_log(sk_logtype, level))
		return false; /* hidden by the level anyway: nothing to count */
	if (!b->linked) {
		b->linked = true;
		b->fmt = fmt;
		b->level = level;
		b->next = sk_log_buckets;
		sk_log_buckets = b;
		b->window_start_ns = now;
	}
	if (now - b->window_start_ns >= 1000000000ull) {
		sk_log_bucket_flush(b, now, true);
		b->window_start_ns = now;
		b->in_window = 0;
	}
	if (b->in_window < SK_LOG_RATE) {
		b->in_window++;
		return true;
	}
	b->suppressed++;
	return false;
}

#define SK_LOG_LIMITED(level, fmt, ...)                                                            \
	do {                                                                                       \
		static struct sk_log_bucket sk_log_site_;                                          \
		if (sk_log_bucket_take(&sk_log_site_, RTE_LOG_##level, fmt))                       \
			SK_LOG(level, fmt, ##__VA_ARGS__);                                         \
	} while (0)

#endif /* SK_LOG_H */
