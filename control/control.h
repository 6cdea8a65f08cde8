/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's periodic work, called from the live loop on the main
 * lcore and from the replay loop between frames (with trace time): timers,
 * worker events, periodic stats.
 */
#ifndef SK_CONTROL_H
#define SK_CONTROL_H

#include "app.h"

/* Bring up control state (timers, tables) for APP; -1 on error (logged). */
int sk_control_init(struct sk_app *app);

/* Run everything that is due at NOW. */
void sk_control_tick(struct sk_app *app, sk_time_ns now);

void sk_control_fini(struct sk_app *app);

/* Final report: log the counters, and write them to PATH as JSON if PATH is set. */
int sk_control_report(const struct sk_app *app, const char *stats_json_path);

#endif /* SK_CONTROL_H */
