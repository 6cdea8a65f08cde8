/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Captures (rte_pdump): dpdk-dumpcap and dpdk-pdump attach as DPDK secondary
 * processes and ask this one, over the EAL's multi-process channel, to copy
 * its ports' frames into their ring. See pdump.c for the grace period that
 * makes their exit safe.
 */
#ifndef SK_PDUMP_H
#define SK_PDUMP_H

#include <rte_rcu_qsbr.h>

/* rte_pdump_init: after rte_eal_init. -1 when it failed (logged): sipkeep runs on. */
int sk_pdump_init(void);
void sk_pdump_fini(void);

/*
 * The workers' quiescent-state variable (sk_tables.h): a capture that stops
 * waits until every worker has finished the poll in which it may still have
 * been copying a frame. NULL before the workers start and once they stopped.
 */
void sk_pdump_set_readers(struct rte_rcu_qsbr *qsv);

#endif /* SK_PDUMP_H */
