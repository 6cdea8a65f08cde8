/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "commit_arm.h"
#include "control.h"
#include "ctl_socket.h"
#include "hep_listen.h"
#include "metrics.h"
#include "reload.h"
#include "sk_log.h"
#include "state_sync.h"
#include "telemetry.h"

int sk_app_workers_alloc(struct sk_app *app, unsigned int n)
{
	app->workers = rte_zmalloc("sk_workers", sizeof(struct sk_worker) * n, RTE_CACHE_LINE_SIZE);
	if (app->workers == NULL)
		return -1;
	app->n_workers = n;
	return 0;
}

/* Compile scanner_signatures; every worker reads the one immutable set. */
static int scanner_init(struct sk_app *app)
{
	char list[sizeof(app->cfg.scanner_signatures)];
	const char *sigs[64];
	const char *const *use = sigs;
	char err[256], *save = NULL, *tok;
	size_t n = 0;
	unsigned int i;

	if (strcmp(app->cfg.scanner_signatures, "none") == 0)
		return 0;
	if (strcmp(app->cfg.scanner_signatures, "default") == 0) {
		use = sk_scanner_default_sigs;
		while (use[n] != NULL)
			n++;
	} else {
		snprintf(list, sizeof(list), "%s", app->cfg.scanner_signatures);
		for (tok = strtok_r(list, ",", &save); tok && n < RTE_DIM(sigs);
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ' || *tok == '\t')
				tok++;
			if (*tok != '\0')
				sigs[n++] = tok;
		}
	}
	if (n == 0)
		return 0;
	app->scanner = sk_scanner_compile(use, n, err, sizeof(err));
	if (app->scanner == NULL) {
		SK_LOG(ERR, "scanner_signatures: %s", err);
		return -1;
	}
	for (i = 0; i < app->n_workers; i++)
		app->workers[i].scanner = app->scanner;
	SK_LOG(INFO, "%zu SIP scanner signature(s) compiled (scanner_action %s)", n,
	       sk_scanner_action_name(app->cfg.scanner_action));
	return 0;
}

int sk_control_init(struct sk_app *app)
{
	unsigned int i;

	app->next_stats_ns = app->start_ns + (sk_time_ns)app->cfg.stats_interval_ms * SK_NS_PER_MS;
	if (scanner_init(app) < 0)
		return -1;
	if (sk_session_create(&app->session, &app->cfg, app->n_workers) < 0)
		return -1;
	app->session_up = true;
	if (sk_sync_start(&app->session, app->start_ns) < 0)
		return -1;
	if (sk_hep_open(app) < 0)
		return -1;
	/* Workers get the tables before they are launched: nothing changes under them later. */
	for (i = 0; i < app->n_workers; i++) {
		if (sk_worker_setup(&app->workers[i], (int)rte_socket_id()) < 0)
			return -1;
		app->workers[i].tables = &app->session.tw.t;
		app->workers[i].arms = sk_arms_table(&app->session);
		app->workers[i].events = app->session.events;
		app->workers[i].event_pool = app->session.event_pool;
	}
	/* The control socket and telemetry are for a running box: not served in replay. */
	if (app->live) {
		if (sk_ctl_socket_open(app) < 0)
			return -1;
		sk_telemetry_start(app);
		if (sk_metrics_start(app) < 0) {
			sk_telemetry_stop();
			sk_ctl_socket_close(app);
			return -1;
		}
	}
	return 0;
}

/*
 * The event ring's depth at its highest. Only this thread drains the ring, so
 * its depth peaks right before a drain: sampled there, once a tick.
 */
static void event_ring_high_water(struct sk_session *s)
{
	uint64_t *hw = &s->ctr[SK_CCTR_sip_events_ring_high_water];
	uint64_t depth = rte_ring_count(s->events);

	if (depth > *hw)
		sk_ctr_add(hw, depth - *hw);
}

void sk_control_tick(struct sk_app *app, sk_time_ns now)
{
	__atomic_store_n(&app->now_ns, now, __ATOMIC_RELAXED);
	if (app->session_up) {
		event_ring_high_water(&app->session);
		sk_sync_poll(&app->session, now);
		sk_session_tick(&app->session, now);
	}
	if (app->cfg.stats_interval_ms != 0 && now >= app->next_stats_ns) {
		sk_stats_log(app);
		app->next_stats_ns = now + (sk_time_ns)app->cfg.stats_interval_ms * SK_NS_PER_MS;
	}
	sk_ctl_socket_poll(app, now);
	sk_hep_poll(app, now);
	if (app->live)
		sk_reload_poll(app);
	sk_log_flush(false);
}

void sk_control_fini(struct sk_app *app)
{
	unsigned int i;

	/* Its thread reads the session and the workers: stopped before they go. */
	sk_metrics_stop();
	if (app->live)
		sk_telemetry_stop();
	sk_ctl_socket_close(app);
	sk_hep_close(app);
	sk_log_flush(true);
	for (i = 0; i < app->n_workers; i++) {
		struct sk_worker *w = &app->workers[i];

		sk_worker_teardown(w);
		w->scanner = NULL;
	}
	sk_scanner_free(app->scanner);
	app->scanner = NULL;
	if (app->session_up) {
		sk_sync_stop(&app->session);
		sk_session_destroy(&app->session);
		app->session_up = false;
	}
}

int sk_control_report(const struct sk_app *app, const char *stats_json_path)
{
	FILE *f;

	sk_stats_log(app);
	if (stats_json_path == NULL)
		return 0;
	f = fopen(stats_json_path, "w");
	if (f == NULL) {
		SK_LOG(ERR, "cannot write %s: %s", stats_json_path, strerror(errno));
		return -1;
	}
	sk_stats_write_json(app, f, true);
	if (fclose(f) != 0) {
		SK_LOG(ERR, "cannot write %s: %s", stats_json_path, strerror(errno));
		return -1;
	}
	return 0;
}
