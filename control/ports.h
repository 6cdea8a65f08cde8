/* SPDX-License-Identifier: BSD-3-Clause */
/* Port bring-up for live mode: queues per worker, RSS where offered, promiscuous. */
#ifndef SK_PORTS_H
#define SK_PORTS_H

#include <stdint.h>

#include "app.h"

/* Configure and start PORT with N_QUEUES RX and TX queues; logs and returns -1 on error. */
int sk_port_start(struct sk_app *app, uint16_t port, uint16_t n_queues);

/* Stop and close both ports (net_pcap flushes its TX capture here). */
void sk_ports_close(struct sk_app *app);

#endif /* SK_PORTS_H */
