/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "control.h"
#include "sk_log.h"

int sk_control_init(struct sk_app *app)
{
	app->next_stats_ns = app->start_ns + (sk_time_ns)app->cfg.stats_interval_ms * SK_NS_PER_MS;
	return 0;
}

void sk_control_tick(struct sk_app *app, sk_time_ns now)
{
	app->now_ns = now;
	if (app->cfg.stats_interval_ms != 0 && now >= app->next_stats_ns) {
		sk_stats_log(app);
		app->next_stats_ns = now + (sk_time_ns)app->cfg.stats_interval_ms * SK_NS_PER_MS;
	}
}

void sk_control_fini(struct sk_app *app)
{
	RTE_SET_USED(app);
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
