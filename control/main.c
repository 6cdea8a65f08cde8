/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipkeep: EAL bring-up, ports, workers on their lcores, and the control loop
 * on the main lcore. Replay mode (--replay) is handed to replay.c before the
 * EAL sees any argument.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app.h"
#include "control.h"
#include "options.h"
#include "pdump.h"
#include "ports.h"
#include "reload.h"
#include "replay.h"
#include "sk_log.h"

/* The control loop's pace: fine enough for millisecond timers, idle enough for a shared core. */
#define SK_CONTROL_PERIOD_US 1000
#define SK_MEMPOOL_CACHE 256

static struct sk_app app;

static void on_signal(int sig)
{
	RTE_SET_USED(sig);
	__atomic_store_n(&app.quit, true, __ATOMIC_RELAXED);
}

/* SIGHUP: read the config file again, on the control thread (reload.c). */
static void on_hangup(int sig)
{
	RTE_SET_USED(sig);
	sk_reload_request();
}

static int load_config(const struct sk_options *o)
{
	char err[512];

	sk_config_defaults(&app.cfg);
	if (o->config_path && sk_config_load(&app.cfg, o->config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sipkeep: config: %s\n", err);
		return -1;
	}
	return 0;
}

static void log_allocator(void)
{
	const char *version = "?";
	size_t len = sizeof(version);

	/* Control-plane memory comes from jemalloc; say so, so operators can tell. */
	if (mallctl("version", &version, &len, NULL, 0) != 0)
		version = "unknown";
	SK_LOG(INFO, "control-plane allocator: jemalloc %s", version);
}

static int size_pool(uint32_t *frag_max_held);

static int setup_workers(const struct sk_options *o)
{
	unsigned int avail = rte_lcore_count() - 1;
	unsigned int n = o->workers ? o->workers : avail;
	unsigned int lcore, i = 0;
	struct sk_worker_params p = {
		.cfg = &app.cfg,
		.quit = &app.quit,
		.port_id = {[SK_SIDE_ACCESS] = app.port_id[SK_SIDE_ACCESS],
			    [SK_SIDE_CORE] = app.port_id[SK_SIDE_CORE]},
	};

	if (avail == 0) {
		SK_LOG(ERR, "no worker lcore: give the EAL at least two lcores (e.g. -l 0-1); "
			    "the main lcore runs the control thread");
		return -1;
	}
	if (n > avail) {
		SK_LOG(ERR, "--workers %u but only %u worker lcore(s) given to the EAL", n, avail);
		return -1;
	}
	if (sk_app_workers_alloc(&app, n) < 0) {
		SK_LOG(ERR, "cannot allocate %u worker structs", n);
		return -1;
	}
	if (size_pool(&p.frag_max_held) < 0)
		return -1;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (i == n)
			break;
		p.index = i;
		p.lcore_id = lcore;
		sk_worker_init(&app.workers[i++], &p);
	}
	return 0;
}

/*
 * Mbufs one worker may have in hand besides its rings: a received burst, the
 * frames collected for the other side, a changed jumbo frame rebuilt in
 * 2 KB segments, and the TCP segments held for a Call-Info rewrite.
 */
#define SK_WORKER_IN_FLIGHT (SK_BURST + SK_OUT_MAX + 33 + SK_TCP_HELD_MAX)

/*
 * Item by item, what may hold mbufs at once, so that reassembly cannot starve
 * the RX rings (rx_nombuf): the rings of every queue, the mempool caches
 * (DPDK lets each lcore's cache grow to 1.5 times its size), the bursts in
 * the workers' hands, and the fragments reassembly holds. A pool too small for
 * all but reassembly is refused; reassembly's hold per worker is capped to
 * what is left.
 */
static int size_pool(uint32_t *frag_max_held)
{
	const struct sk_config *c = &app.cfg;
	uint64_t n = app.n_workers;
	uint64_t rx = (uint64_t)c->rx_descriptors * n * SK_SIDE_COUNT;
	uint64_t tx = (uint64_t)c->tx_descriptors * n * SK_SIDE_COUNT;
	uint64_t caches = (uint64_t)SK_MEMPOOL_CACHE * 3 / 2 * (n + 1);
	uint64_t burst = n * SK_WORKER_IN_FLIGHT;
	uint64_t fixed = rx + tx + caches + burst;
	uint64_t want = RTE_MIN((uint64_t)c->frag_max_held,
				(uint64_t)c->frag_max_flows * SK_FRAG_MAX_PIECES);
	uint64_t hold;

	if (c->mbufs < fixed + n * SK_FRAG_MAX_PIECES) {
		SK_LOG(ERR,
		       "mbufs = %u cannot work with %" PRIu64
		       " worker(s): it needs at least %" PRIu64 " = RX rings %" PRIu64
		       " (rx_descriptors %u x %" PRIu64 " queue(s) x 2 ports) + TX rings %" PRIu64
		       " (tx_descriptors %u x %" PRIu64 " x 2) + mempool caches %" PRIu64
		       " + bursts in hand %" PRIu64
		       " + reassembly of one datagram per worker %" PRIu64
		       "; raise 'mbufs', or lower 'rx_descriptors', 'tx_descriptors' or --workers",
		       c->mbufs, n, fixed + n * SK_FRAG_MAX_PIECES, rx, c->rx_descriptors, n, tx,
		       c->tx_descriptors, n, caches, burst, n * SK_FRAG_MAX_PIECES);
		return -1;
	}
	hold = RTE_MIN(want, (c->mbufs - fixed) / n);
	if (hold < want)
		SK_LOG(WARNING,
		       "reassembly capped at %" PRIu64 " fragments per worker (frag_max_held %u): "
		       "mbufs = %u leaves no more after rings, caches and bursts (%" PRIu64
		       "); 'mbufs' = %" PRIu64 " would hold all",
		       hold, c->frag_max_held, c->mbufs, fixed, fixed + n * want);
	*frag_max_held = (uint32_t)hold;
	SK_LOG(INFO,
	       "mbuf pool: %u = RX rings %" PRIu64 " + TX rings %" PRIu64 " + caches %" PRIu64
	       " + bursts %" PRIu64 " + reassembly %" PRIu64 " x %" PRIu64 " worker(s) + %" PRIu64
	       " spare",
	       c->mbufs, rx, tx, caches, burst, hold, n, c->mbufs - fixed - hold * n);
	return 0;
}

static int create_pool(void)
{
	app.pool = rte_pktmbuf_pool_create("sk_mbufs", app.cfg.mbufs, SK_MEMPOOL_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (app.pool == NULL) {
		SK_LOG(ERR,
		       "cannot create a pool of %u mbufs: %s (reserve hugepages, or give "
		       "--no-huge -m MB enough memory, or lower 'mbufs')",
		       app.cfg.mbufs, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static sk_time_ns tsc_now_ns(void)
{
	return rte_rdtsc() / app.workers[0].tsc_per_us * 1000;
}

static int run_live(const struct sk_options *o)
{
	unsigned int i;
	int rc = 0;

	app.live = true;
	app.port_id[SK_SIDE_ACCESS] = o->access_port;
	app.port_id[SK_SIDE_CORE] = o->core_port;
	log_allocator();
	if (setup_workers(o) < 0 || create_pool() < 0)
		return -1;
	if (sk_port_start(&app, o->access_port, (uint16_t)app.n_workers) < 0 ||
	    sk_port_start(&app, o->core_port, (uint16_t)app.n_workers) < 0) {
		sk_ports_close(&app);
		return -1;
	}
	app.start_ns = tsc_now_ns();
	app.now_ns = app.start_ns;
	if (sk_control_init(&app) < 0) {
		sk_ports_close(&app);
		return -1;
	}
	/* A capture that stops waits for the workers (pdump.c). */
	sk_pdump_set_readers(app.session.tw.t.qsv);
	for (i = 0; i < app.n_workers; i++)
		rte_eal_remote_launch(sk_worker_run, &app.workers[i], app.workers[i].lcore_id);
	SK_LOG(INFO, "running: access port %u, core port %u, %u worker(s)", o->access_port,
	       o->core_port, app.n_workers);

	while (!__atomic_load_n(&app.quit, __ATOMIC_RELAXED)) {
		sk_control_tick(&app, tsc_now_ns());
		usleep(SK_CONTROL_PERIOD_US);
	}
	SK_LOG(INFO, "stopping: waiting for workers to drain");
	rte_eal_mp_wait_lcore();
	sk_pdump_set_readers(NULL);
	sk_control_tick(&app, tsc_now_ns());
	if (sk_control_report(&app, o->stats_json) < 0)
		rc = -1;
	sk_control_fini(&app);
	sk_ports_close(&app);
	return rc;
}

int main(int argc, char **argv)
{
	struct sk_options opts;
	int eal_argc, rc;

	/* Replay and --help need no EAL arguments: recognise them before the EAL runs. */
	if (argc > 1 && (strncmp(argv[1], "--replay", 8) == 0 || strcmp(argv[1], "--help") == 0 ||
			 strcmp(argv[1], "-h") == 0)) {
		if (sk_options_parse(&opts, argc, argv) < 0)
			return 2;
		if (opts.help) {
			sk_options_usage(stdout, argv[0]);
			return 0;
		}
		if (load_config(&opts) < 0)
			return 2;
		return sk_replay_main(&app, &opts, argv[0]) == 0 ? 0 : 1;
	}

	eal_argc = rte_eal_init(argc, argv);
	if (eal_argc < 0) {
		fprintf(stderr, "sipkeep: EAL init failed: %s (see --help)\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argv[eal_argc] = argv[0];
	if (sk_options_parse(&opts, argc - eal_argc, argv + eal_argc) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	if (opts.help) {
		sk_options_usage(stdout, argv[0]);
		rte_eal_cleanup();
		return 0;
	}
	if (opts.replay_in) {
		fprintf(stderr, "sipkeep: --replay takes no EAL arguments: sipkeep --replay IN "
				"--replay-out OUT\n");
		rte_eal_cleanup();
		return 2;
	}
	if (load_config(&opts) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	/*
	 * Captures: dpdk-dumpcap and dpdk-pdump attach as secondary processes
	 * (--file-prefix of this process) and ask for copies of our ports' frames.
	 */
	sk_pdump_init();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sk_reload_set_path(opts.config_path);
	signal(SIGHUP, on_hangup);
	rc = run_live(&opts);
	sk_pdump_fini();
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
