/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry: the control commands that have a telemetry path
 * (/sipkeep/stats, /sipkeep/ports, /sipkeep/workers, /sipkeep/config) are
 * registered with rte_telemetry_register_cmd, so dpdk-telemetry.py and
 * telemetry exporters see them. Their callbacks run on DPDK's telemetry
 * thread: they run the same action as the control socket and turn its JSON
 * reply into rte_tel_data.
 */
#ifndef SK_TELEMETRY_H
#define SK_TELEMETRY_H

#include "app.h"

/* Register the commands (once per process) and start answering them for APP. */
void sk_telemetry_start(struct sk_app *app);

/*
 * Stop answering (callbacks then reply with an error) and wait for callbacks
 * already running to finish, so that APP can be torn down.
 */
void sk_telemetry_stop(void);

#endif /* SK_TELEMETRY_H */
