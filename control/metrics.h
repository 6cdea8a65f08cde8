/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics (metrics_listen = ADDR:PORT): GET /metrics in the text
 * exposition format 0.0.4, served by a thread of its own that only reads
 * counters (like DPDK telemetry), so a slow or abusive client never holds up
 * a worker or the control thread. Every series is generated from the counter
 * declarations (include/sk_counters.h) and the collection `show stats` uses
 * (control/stats.c).
 *
 * Bounded: at most SK_METRICS_MAX_CLIENTS connections at once (more are
 * answered 503 and closed), a request of at most SK_METRICS_REQUEST_MAX bytes
 * that must arrive within SK_METRICS_REQUEST_TIMEOUT_MS of the connection,
 * and a reply that must be read within SK_METRICS_REPLY_TIMEOUT_MS.
 */
#ifndef SK_METRICS_H
#define SK_METRICS_H

#include <stdint.h>

#define SK_METRICS_MAX_CLIENTS 16
#define SK_METRICS_REQUEST_MAX 4096
#define SK_METRICS_REQUEST_TIMEOUT_MS 5000
#define SK_METRICS_REPLY_TIMEOUT_MS 10000
/* SO_SNDBUF of a metrics connection (the kernel doubles it). */
#define SK_METRICS_SNDBUF 8192

/* The metrics server's own counters: name, help. Written by its thread only. */
#define SK_METRICS_COUNTERS(X)                                                                     \
	X(metrics_requests_served, "GET /metrics requests answered with the metrics")              \
	X(metrics_requests_bad, "metrics requests answered 400, 404 or 405 (malformed request, "   \
				"other path, other method)")                                       \
	X(metrics_connections_refused, "metrics connections refused (503): "                       \
				       "SK_METRICS_MAX_CLIENTS already open")                      \
	X(metrics_connections_timed_out,                                                           \
	  "metrics connections cut off: no complete request within "                               \
	  "5 s, or the reply not read within 10 s")

enum sk_metrics_counter {
#define SK_X(name, help) SK_MCTR_##name,
	SK_METRICS_COUNTERS(SK_X)
#undef SK_X
		SK_MCTR_COUNT
};

struct sk_app;

/*
 * Listen on app->cfg.metrics_listen (nothing if empty) and start the thread.
 * -1 if the address cannot be bound (logged).
 */
int sk_metrics_start(const struct sk_app *app);

/* Stop the thread and close every connection; nothing if not started. */
void sk_metrics_stop(void);

#endif /* SK_METRICS_H */
