/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's view of the running box: settings, ports, workers. One
 * instance, owned by the control thread (main lcore); workers only get a
 * pointer to their own struct sk_worker and to the settings.
 */
#ifndef SK_APP_H
#define SK_APP_H

#include <stdbool.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "sk_common.h"
#include "sk_config.h"
#include "sk_worker.h"

#define SK_MAX_WORKERS RTE_MAX_LCORE

struct sk_app {
	struct sk_config cfg;
	bool live; /* false in replay mode */
	bool quit; /* set by the signal handler; read atomically */
	unsigned int n_workers;
	struct sk_worker *workers; /* n_workers entries, from rte_zmalloc */
	uint16_t port_id[SK_SIDE_COUNT];
	struct rte_mempool *pool;
	sk_time_ns start_ns;
	sk_time_ns now_ns; /* control thread's clock: TSC live, trace time in replay */
	sk_time_ns next_stats_ns;
	/* Frames the replay reader could not turn into mbufs (pool empty): counted, not lost. */
	uint64_t replay_alloc_failed;
	/* Frames shorter than their capture link header: nothing to forward. */
	uint64_t replay_frames_skipped;
};

/* Write every counter (per port, per worker and totals) as one JSON document. */
void sk_stats_write_json(const struct sk_app *app, FILE *f, bool pretty);

/* Log a one-screen summary of the counters (used at shutdown and every stats_interval_ms). */
void sk_stats_log(const struct sk_app *app);

/* Allocate and zero the worker structs (cache aligned) and point them at the app. */
int sk_app_workers_alloc(struct sk_app *app, unsigned int n);

#endif /* SK_APP_H */
