/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Captures with rte_pdump, made safe for the capture's end.
 *
 * When dpdk-dumpcap stops, it asks this process to remove the RX/TX callbacks
 * that copy frames into its ring and mempool, and frees both as soon as the
 * answer comes. DPDK 22.11's pdump removes the callbacks
 * (rte_eth_remove_rx_callback, rte_eth_remove_tx_callback) and answers at
 * once, while a worker may still be inside a callback, copying a frame into
 * memory the capture is about to free: the worker then crashes (seen within
 * a few runs of tests/ctl/test_pdump.py). ethdev's own documentation leaves
 * it to the application to know when a removed callback no longer runs.
 *
 * So sipkeep defines both functions itself: with DPDK's shared libraries
 * (Debian's, what meson's libdpdk dependency gives) pdump's calls reach these,
 * since the executable's symbols come first; these call ethdev's (the next
 * definition, dlsym RTLD_NEXT) and then wait
 * until every worker has passed a quiescent state (the workers report one
 * per poll, for the tables' reclamation already): no worker is still in a
 * removed callback when pdump answers. The wait is bounded (a worker that
 * stopped polling, at shutdown, reports no more).
 */
#include <dlfcn.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pdump.h>

#include "pdump.h"
#include "sk_log.h"

/* Longest wait for the workers after a callback is removed. */
#define SK_PDUMP_GRACE_MS 500

typedef int (*remove_cb_fn)(uint16_t port_id, uint16_t queue_id,
			    const struct rte_eth_rxtx_callback *user_cb);

static struct rte_rcu_qsbr *readers;

void sk_pdump_set_readers(struct rte_rcu_qsbr *qsv)
{
	__atomic_store_n(&readers, qsv, __ATOMIC_RELEASE);
}

/* Wait until each worker has finished the poll it was in. Any thread. */
static void wait_for_workers(void)
{
	struct rte_rcu_qsbr *v = __atomic_load_n(&readers, __ATOMIC_ACQUIRE);
	uint64_t token, deadline;

	if (v == NULL)
		return;
	token = rte_rcu_qsbr_start(v);
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * SK_PDUMP_GRACE_MS / 1000;
	while (rte_rcu_qsbr_check(v, token, false) == 0) {
		if (rte_get_timer_cycles() > deadline) {
			SK_LOG(WARNING,
			       "capture stopped: a worker did not finish its poll "
			       "within %d ms",
			       SK_PDUMP_GRACE_MS);
			return;
		}
		usleep(10);
	}
}

static int remove_then_wait(const char *name, remove_cb_fn *real, uint16_t port_id,
			    uint16_t queue_id, const struct rte_eth_rxtx_callback *user_cb)
{
	remove_cb_fn fn = __atomic_load_n(real, __ATOMIC_ACQUIRE);
	int rc;

	if (fn == NULL) {
		fn = (remove_cb_fn)dlsym(RTLD_NEXT, name);
		if (fn == NULL) {
			SK_LOG(ERR, "%s: not found in DPDK's libraries", name);
			return -ENOTSUP;
		}
		__atomic_store_n(real, fn, __ATOMIC_RELEASE);
	}
	rc = fn(port_id, queue_id, user_cb);
	if (rc == 0)
		wait_for_workers();
	return rc;
}

int rte_eth_remove_rx_callback(uint16_t port_id, uint16_t queue_id,
			       const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_cb_fn real;

	return remove_then_wait(__func__, &real, port_id, queue_id, user_cb);
}

int rte_eth_remove_tx_callback(uint16_t port_id, uint16_t queue_id,
			       const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_cb_fn real;

	return remove_then_wait(__func__, &real, port_id, queue_id, user_cb);
}

int sk_pdump_init(void)
{
	if (rte_pdump_init() < 0) {
		SK_LOG(WARNING, "rte_pdump_init failed: %s: dpdk-dumpcap cannot capture",
		       rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

void sk_pdump_fini(void)
{
	rte_pdump_uninit();
}
