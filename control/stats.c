/* SPDX-License-Identifier: BSD-3-Clause */
/* Counter aggregation and reporting: sums what each worker owns, reads ethdev stats. */
#include <inttypes.h>

#include <rte_ethdev.h>

#include "app.h"
#include "json_writer.h"
#include "state_sync.h"
#include "sk_log.h"

const char *const sk_port_counter_names[SK_PCTR_COUNT] = {
#define SK_X(name, help) #name,
	SK_PORT_COUNTERS(SK_X)
#undef SK_X
};

const char *const sk_worker_counter_names[SK_WCTR_COUNT] = {
#define SK_X(name, help) #name,
	SK_WORKER_COUNTERS(SK_X)
#undef SK_X
};

const char *const sk_control_counter_names[SK_CCTR_COUNT] = {
#define SK_X(name, help) #name,
	SK_CONTROL_COUNTERS(SK_X)
#undef SK_X
};

static uint64_t port_total(const struct sk_app *app, int side, enum sk_port_counter c)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		sum += sk_ctr_read(&app->workers[i].port_ctr[side][c]);
	return sum;
}

static uint64_t worker_total(const struct sk_app *app, enum sk_worker_counter c)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		sum += sk_ctr_read(&app->workers[i].ctr[c]);
	return sum;
}

uint64_t sk_stats_port_total(const struct sk_app *app, int side, enum sk_port_counter c)
{
	return port_total(app, side, c);
}

uint64_t sk_stats_worker_total(const struct sk_app *app, enum sk_worker_counter c)
{
	return worker_total(app, c);
}

static void write_port(const struct sk_app *app, struct sk_json *j, int side)
{
	struct rte_eth_stats es;
	int c;

	sk_json_obj_begin(j, sk_side_name((enum sk_side)side));
	for (c = 0; c < SK_PCTR_COUNT; c++)
		sk_json_u64(j, sk_port_counter_names[c],
			    port_total(app, side, (enum sk_port_counter)c));
	if (app->live && rte_eth_stats_get(app->port_id[side], &es) == 0) {
		/* Drops that happen before a worker sees the frame: NIC ring full, no mbuf. */
		sk_json_u64(j, "port_id", app->port_id[side]);
		sk_json_u64(j, "rx_missed", es.imissed);
		sk_json_u64(j, "rx_nombuf", es.rx_nombuf);
		sk_json_u64(j, "rx_errors", es.ierrors);
		sk_json_u64(j, "tx_errors", es.oerrors);
	}
	sk_json_obj_end(j);
}

void sk_stats_write_json(const struct sk_app *app, FILE *f, bool pretty)
{
	struct sk_json j;

	sk_json_init(&j, f, pretty);
	sk_json_obj_begin(&j, NULL);
	sk_stats_json_members(app, &j);
	sk_json_obj_end(&j);
}

void sk_stats_json_members(const struct sk_app *app, struct sk_json *j)
{
	unsigned int i;
	int c, side;

	/* now_ns is published by the control thread; telemetry reads it from its own thread. */
	sk_json_str(j, "mode", app->live ? "live" : "replay");
	sk_json_u64(j, "uptime_ms",
		    (__atomic_load_n(&app->now_ns, __ATOMIC_RELAXED) - app->start_ns) /
			    SK_NS_PER_MS);
	sk_json_obj_begin(j, "ports");
	for (side = 0; side < SK_SIDE_COUNT; side++)
		write_port(app, j, side);
	sk_json_obj_end(j);
	sk_json_obj_begin(j, "counters");
	for (c = 0; c < SK_WCTR_COUNT; c++)
		sk_json_u64(j, sk_worker_counter_names[c],
			    worker_total(app, (enum sk_worker_counter)c));
	for (c = 0; c < SK_CCTR_COUNT; c++)
		sk_json_u64(j, sk_control_counter_names[c], sk_ctr_read(&app->session.ctr[c]));
	if (!app->live) {
		sk_json_u64(j, "replay_alloc_failed", app->replay_alloc_failed);
		sk_json_u64(j, "replay_frames_skipped", app->replay_frames_skipped);
		sk_json_u64(j, "replay_frames_unsupported_link",
			    app->replay_frames_unsupported_link);
	}
	/* Gauges: what the tables hold now. */
	sk_json_u64(j, "users_active",
		    __atomic_load_n(&app->session.users_in_use, __ATOMIC_RELAXED));
	sk_json_u64(j, "dialogs_active",
		    __atomic_load_n(&app->session.dialogs_in_use, __ATOMIC_RELAXED));
	sk_json_u64(j, "streams_active",
		    __atomic_load_n(&app->session.tw.flows_published, __ATOMIC_RELAXED));
	sk_json_obj_end(j);
	if (app->session.sync != NULL) {
		sk_json_obj_begin(j, "redis");
		sk_sync_json(&app->session, j);
		sk_json_obj_end(j);
	}
	sk_json_obj_begin(j, "sip_parse_error_reasons");
	for (c = 0; c < SK_SIP_ERR_COUNT; c++) {
		uint64_t sum = 0;

		for (i = 0; i < app->n_workers; i++)
			sum += sk_ctr_read(&app->workers[i].sip_parse_error[c]);
		if (c != SK_SIP_OK)
			sk_json_u64(j, sk_sip_err_str((enum sk_sip_err)c), sum);
	}
	sk_json_obj_end(j);
	sk_json_arr_begin(j, "workers");
	for (i = 0; i < app->n_workers; i++) {
		const struct sk_worker *w = &app->workers[i];

		sk_json_obj_begin(j, NULL);
		sk_json_u64(j, "worker", i);
		sk_json_u64(j, "lcore", w->lcore_id);
		sk_json_u64(j, "queue", w->queue_id);
		sk_json_u64(j, "busy_cycles", sk_ctr_read(&w->busy_cycles));
		sk_json_u64(j, "idle_cycles", sk_ctr_read(&w->idle_cycles));
		for (side = 0; side < SK_SIDE_COUNT; side++) {
			sk_json_obj_begin(j, sk_side_name((enum sk_side)side));
			for (c = 0; c < SK_PCTR_COUNT; c++)
				sk_json_u64(j, sk_port_counter_names[c],
					    sk_ctr_read(&w->port_ctr[side][c]));
			sk_json_obj_end(j);
		}
		for (c = 0; c < SK_WCTR_COUNT; c++)
			sk_json_u64(j, sk_worker_counter_names[c], sk_ctr_read(&w->ctr[c]));
		sk_json_obj_end(j);
	}
	sk_json_arr_end(j);
}

void sk_stats_log(const struct sk_app *app)
{
	char line[1024];
	size_t used = 0;
	int c, side;

	for (side = 0; side < SK_SIDE_COUNT; side++) {
		used = 0;
		for (c = 0; c < SK_PCTR_COUNT; c++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%" PRIu64,
						 sk_port_counter_names[c],
						 port_total(app, side, (enum sk_port_counter)c));
		SK_LOG(INFO, "port %s:%s", sk_side_name((enum sk_side)side), line);
	}
	used = 0;
	for (c = 0; c < SK_WCTR_COUNT && used < sizeof(line); c++) {
		uint64_t v = worker_total(app, (enum sk_worker_counter)c);

		if (v)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%" PRIu64,
						 sk_worker_counter_names[c], v);
	}
	SK_LOG(INFO, "counters:%s", used ? line : " (all zero)");
	used = 0;
	for (c = 0; c < SK_CCTR_COUNT && used < sizeof(line); c++) {
		uint64_t v = sk_ctr_read(&app->session.ctr[c]);

		if (v)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%" PRIu64,
						 sk_control_counter_names[c], v);
	}
	SK_LOG(INFO, "session:%s", used ? line : " (all zero)");
}
