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

#include <rte_mempool.h>

#include "sk_common.h"
#include "sk_config.h"
#include "session.h"
#include "sk_worker.h"

#define SK_MAX_WORKERS RTE_MAX_LCORE

struct sk_ctl_server;
struct sk_hep;

struct sk_app {
	struct sk_config cfg;
	bool live; /* false in replay mode */
	bool quit; /* set by the signal handler; read atomically */
	unsigned int n_workers;
	struct sk_worker *workers; /* n_workers entries, from rte_zmalloc */
	uint16_t port_id[SK_SIDE_COUNT];
	struct rte_mempool *pool;
	sk_time_ns start_ns;
	/* Control thread's clock: TSC live, trace time in replay; stored atomically. */
	sk_time_ns now_ns;
	sk_time_ns next_stats_ns;
	/* Frames the replay reader could not turn into mbufs (pool empty): counted, not lost. */
	uint64_t replay_alloc_failed;
	/* Frames shorter than their capture link header: nothing to forward. */
	uint64_t replay_frames_skipped;
	/* Frames of a pcapng interface whose link type replay does not read: counted, not sent. */
	uint64_t replay_frames_unsupported_link;
	/* The control socket server (ctl_socket.c); NULL when not serving (replay mode). */
	struct sk_ctl_server *ctl;
	/* Users, registrations, dialogs and the tables workers read (session.h). */
	struct sk_session session;
	bool session_up;
	/* Compiled scanner_signatures (NULL: none); workers hold their own scratch. */
	struct sk_scanner *scanner;
	/* The HEP mirror (hep_listen.c); NULL without hep_listen. */
	struct sk_hep *hep;
};

/* Write every counter (per port, per worker and totals) as one JSON document. */
void sk_stats_write_json(const struct sk_app *app, FILE *f, bool pretty);

/*
 * The same counters as members of the object J is in (the control socket's
 * `show stats` wraps them in its reply). Safe on any thread: counters are read
 * with sk_ctr_read, now_ns with an atomic load.
 */
struct sk_json;
void sk_stats_json_members(const struct sk_app *app, struct sk_json *j);

/* One counter summed over the workers, as `show stats` reports it (control/metrics.c). */
uint64_t sk_stats_port_total(const struct sk_app *app, int side, enum sk_port_counter c);
uint64_t sk_stats_worker_total(const struct sk_app *app, enum sk_worker_counter c);

/* Log a one-screen summary of the counters (used at shutdown and every stats_interval_ms). */
void sk_stats_log(const struct sk_app *app);

/* Allocate and zero the worker structs (cache aligned) and point them at the app. */
int sk_app_workers_alloc(struct sk_app *app, unsigned int n);

#endif /* SK_APP_H */
