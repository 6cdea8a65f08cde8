/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay mode: the worker and control code run over a capture, offline and
 * deterministic. Trace timestamps are the clock; a frame whose source IP is
 * inside access_prefixes came from access, any other from core; every frame
 * the worker transmits is written to the output capture with the timestamp of
 * the input frame that produced it, in processing order.
 */
#ifndef SK_REPLAY_H
#define SK_REPLAY_H

#include "app.h"
#include "options.h"

/* Runs the EAL itself (no hugepages, no PCI). Returns 0 on success. */
int sk_replay_main(struct sk_app *app, const struct sk_options *o, const char *prog);

#endif /* SK_REPLAY_H */
