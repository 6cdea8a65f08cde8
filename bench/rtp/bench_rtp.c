/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RTP path benchmark (issue 4): one worker, STREAMS live media streams whose
 * users all handed over, and a capture of downlink RTP toward their old
 * addresses, so that every packet is looked up and rewritten.
 *
 *   bench_rtp EAL-ARGS -- [--streams N] [--seconds S] [--warmup S]
 *                         [--config FILE] [--access-port P] [--core-port P]
 *                         [--rtcp-mux] [--verbose]
 *
 * The core port is normally net_pcap with rx_pcap=FILE,infinite_rx=1 (the
 * capture from gen_rtp_pcap.py) and the access port net_null,no-rx=1: by
 * default the port whose driver is net_null is access and the other is core.
 *
 * The state is built through the real control code: sk_control_init creates
 * the tables, and SIP events (what a worker posts for REGISTER, 200, INVITE
 * with SDP, 200 with SDP, re-REGISTER from a new address, 200) go through
 * app.session.events and sk_session_tick. Counters are checked before the
 * worker runs; a sample burst is pushed through sk_worker_process and its
 * rewritten addresses and checksums are checked too. Then sk_worker_run runs
 * on one worker lcore while the main lcore runs the control tick every
 * millisecond, as the daemon does.
 *
 * The address plan is the one gen_rtp_pcap.py documents; keep both in step.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "app.h"
#include "control.h"
#include "ports.h"
#include "sip_parse.h"
#include "sk_events.h"
#include "sk_log.h"
#include "tables_show.h"

#ifndef BENCH_RTP_CONFIG
#define BENCH_RTP_CONFIG "bench/rtp/rtp_bench.conf"
#endif

/* Address plan: gen_rtp_pcap.py. */
#define OLD_ACCESS_BASE RTE_IPV4(10, 64, 0, 0)
#define NEW_ACCESS_BASE RTE_IPV4(10, 128, 0, 0)
#define REGISTRAR_IP RTE_IPV4(192, 168, 1, 10)
#define ACCESS_MEDIA_PORT 40000
#define SIP_PORT 5060
#define CORE_PER_IP 20000
#define MAX_STREAMS (1u << 22)

/* Events queued before the control thread applies them (the pool holds 8191). */
#define EVENT_BATCH 2048
#define CONTROL_PERIOD_US 1000
#define MEMPOOL_CACHE 256

static struct sk_app app;

/* The worker's thread, for its CPU time: on a shared machine it may not get the whole core. */
static pthread_t worker_thread;
static bool worker_started;

struct opts {
	uint32_t streams;
	double seconds;
	double warmup;
	const char *config;
	int access_port;
	int core_port;
	bool rtcp_mux;
	bool verbose;
	bool no_control; /* leave the control thread idle while the worker runs */
	bool untracked;	 /* the capture is untracked UDP: forwarded as it is, never rewritten */
};

static uint32_t core_media_ip(uint32_t i)
{
	return RTE_IPV4(172, 16, i / CORE_PER_IP, 10);
}

static uint16_t core_media_port(uint32_t i)
{
	return (uint16_t)(20000 + 2 * (i % CORE_PER_IP));
}

static sk_time_ns now_ns(void)
{
	return rte_rdtsc() / app.workers[0].tsc_per_us * 1000;
}

static void usage(const char *prog)
{
	printf("usage: %s EAL-ARGS -- [--streams N] [--seconds S] [--warmup S] [--config FILE]\n"
	       "          [--access-port P] [--core-port P] [--rtcp-mux] [--no-control-tick]\n"
	       "          [--untracked] [--verbose]\n"
	       "  --streams N   live streams, one user and one call each (100000)\n"
	       "  --seconds S   measured run (10)\n"
	       "  --warmup S    run before the measurement starts (2)\n"
	       "  --config F    sipkeep config (%s)\n"
	       "  --rtcp-mux    streams negotiate rtcp-mux: one flow each instead of two\n"
	       "  --untracked   the capture is UDP in no flow (gen_rtp_pcap.py --untracked) or\n"
	       "                the site mix (gen_mix_pcap.py): every packet must be forwarded\n"
	       "                unchanged, none rewritten\n"
	       "  --no-control-tick  do not run the control tick during the run (diagnosis:\n"
	       "                the daemon runs it every millisecond)\n",
	       prog, BENCH_RTP_CONFIG);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"streams", required_argument, NULL, 's'},
		{"seconds", required_argument, NULL, 't'},
		{"warmup", required_argument, NULL, 'w'},
		{"config", required_argument, NULL, 'c'},
		{"access-port", required_argument, NULL, 'a'},
		{"core-port", required_argument, NULL, 'k'},
		{"rtcp-mux", no_argument, NULL, 'm'},
		{"verbose", no_argument, NULL, 'v'},
		{"no-control-tick", no_argument, NULL, 'n'},
		{"untracked", no_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.streams = 100000,
			   .seconds = 10,
			   .warmup = 2,
			   .config = BENCH_RTP_CONFIG,
			   .access_port = -1,
			   .core_port = -1};
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->streams = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'w':
			o->warmup = strtod(optarg, NULL);
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'a':
			o->access_port = atoi(optarg);
			break;
		case 'k':
			o->core_port = atoi(optarg);
			break;
		case 'm':
			o->rtcp_mux = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'n':
			o->no_control = true;
			break;
		case 'u':
			o->untracked = true;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (o->streams == 0 || o->streams > MAX_STREAMS || o->seconds <= 0 || o->warmup < 0) {
		fprintf(stderr, "bench_rtp: --streams 1..%u, --seconds > 0, --warmup >= 0\n",
			MAX_STREAMS);
		return -1;
	}
	return 0;
}

/* net_null is the access side, anything else (net_pcap) the core side, unless told. */
static int pick_ports(struct opts *o)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port)
	{
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) != 0)
			continue;
		if (strcmp(info.driver_name, "net_null") == 0) {
			if (o->access_port < 0)
				o->access_port = port;
		} else if (o->core_port < 0) {
			o->core_port = port;
		}
	}
	if (o->access_port < 0 || o->core_port < 0 || o->access_port == o->core_port) {
		fprintf(stderr, "bench_rtp: need two ports, access (net_null,no-rx=1) and core "
				"(net_pcap,rx_pcap=FILE,infinite_rx=1)\n");
		return -1;
	}
	return 0;
}

static int setup_worker(void)
{
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);

	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr,
			"bench_rtp: give the EAL two lcores (-l 0-1): one runs the worker\n");
		return -1;
	}
	if (sk_app_workers_alloc(&app, 1) < 0)
		return -1;
	sk_worker_init(&app.workers[0],
		       &(struct sk_worker_params){
			       .cfg = &app.cfg,
			       .quit = &app.quit,
			       .lcore_id = lcore,
			       .port_id = {[SK_SIDE_ACCESS] = app.port_id[SK_SIDE_ACCESS],
					   [SK_SIDE_CORE] = app.port_id[SK_SIDE_CORE]},
		       });
	return 0;
}

/* --- populating the session through its event ring --- */

static void apply_events(void)
{
	while (rte_ring_count(app.session.events) > 0)
		sk_session_tick(&app.session, now_ns());
}

/* A zeroed event from the session's pool (the control thread applies a batch when it is full). */
static struct sk_sip_event *event_new(enum sk_side side, bool request, uint8_t cseq_method,
				      uint32_t cseq)
{
	struct sk_sip_event *ev;
	void *obj;

	if (rte_ring_count(app.session.events) >= EVENT_BATCH)
		apply_events();
	if (rte_mempool_get(app.session.event_pool, &obj) != 0) {
		apply_events();
		if (rte_mempool_get(app.session.event_pool, &obj) != 0)
			rte_panic("event pool empty after the control tick\n");
	}
	ev = obj;
	memset(ev, 0, sizeof(*ev));
	ev->ts = now_ns();
	ev->side = (uint8_t)side;
	ev->family = 4;
	ev->is_request = request;
	ev->method = request ? cseq_method : 0;
	ev->cseq_method = cseq_method;
	ev->cseq = cseq;
	ev->status = request ? 0 : 200;
	return ev;
}

static void event_post(struct sk_sip_event *ev)
{
	if (rte_ring_enqueue(app.session.events, ev) != 0)
		rte_panic("event ring full\n");
}

static void set_ip(uint8_t *dst, uint32_t ip)
{
	uint32_t be = rte_cpu_to_be_32(ip);

	memcpy(dst, &be, 4);
}

/* Addresses of a message between USER_IP:5060 (access) and the registrar (core). */
static void event_addrs(struct sk_sip_event *ev, uint32_t user_ip)
{
	bool from_access = ev->side == SK_SIDE_ACCESS;

	set_ip(from_access ? ev->src : ev->dst, user_ip);
	set_ip(from_access ? ev->dst : ev->src, REGISTRAR_IP);
	ev->sport = ev->dport = rte_cpu_to_be_16(SIP_PORT);
}

static void media(struct sk_ev_media *m, uint32_t ip, uint16_t port, bool mux)
{
	m->family = 4;
	m->rtcp_mux = mux;
	m->port = port;
	m->rtcp_port = mux ? port : (uint16_t)(port + 1);
	set_ip(m->addr, ip);
}

/* REGISTER from USER_IP and the registrar's 200 (same Call-ID and CSeq). */
static void registration(uint32_t i, uint32_t user_ip, uint32_t cseq)
{
	struct sk_sip_event *ev;
	int k;

	for (k = 0; k < 2; k++) {
		ev = event_new(k == 0 ? SK_SIDE_ACCESS : SK_SIDE_CORE, k == 0, SK_SIP_REGISTER,
			       cseq);
		event_addrs(ev, user_ip);
		snprintf(ev->call_id, sizeof(ev->call_id), "reg-%u@bench", i);
		snprintf(ev->from_tag, sizeof(ev->from_tag), "rf%u", i);
		snprintf(ev->aor, sizeof(ev->aor), "u%u@bench.example", i);
		if (k == 0) {
			uint32_t be = rte_cpu_to_be_32(user_ip);
			const uint8_t *b = (const uint8_t *)&be;

			ev->reply_port = ev->sport;
			ev->n_contacts = 1;
			ev->contacts[0].uri_hash = i;
			ev->contacts[0].expires = 3600;
			ev->contacts[0].has_expires = 1;
			snprintf(ev->contact, sizeof(ev->contact), "sip:u%u@%u.%u.%u.%u:%u", i,
				 b[0], b[1], b[2], b[3], SIP_PORT);
			ev->opts = SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST);
			ev->expires = 3600;
			ev->has_expires = 1;
		} else {
			snprintf(ev->to_tag, sizeof(ev->to_tag), "rt%u", i);
		}
		event_post(ev);
	}
}

/* INVITE from the user with its SDP offer, and the core's 200 with the answer. */
static void call(uint32_t i, bool mux)
{
	struct sk_sip_event *ev;
	int k;

	for (k = 0; k < 2; k++) {
		ev = event_new(k == 0 ? SK_SIDE_ACCESS : SK_SIDE_CORE, k == 0, SK_SIP_INVITE, 1);
		event_addrs(ev, OLD_ACCESS_BASE + i);
		snprintf(ev->call_id, sizeof(ev->call_id), "call-%u@bench", i);
		snprintf(ev->from_tag, sizeof(ev->from_tag), "cf%u", i);
		if (k == 1)
			snprintf(ev->to_tag, sizeof(ev->to_tag), "ct%u", i);
		ev->has_sdp = 1;
		ev->n_media = 1;
		if (k == 0)
			media(&ev->media[0], OLD_ACCESS_BASE + i, ACCESS_MEDIA_PORT, mux);
		else
			media(&ev->media[0], core_media_ip(i), core_media_port(i), mux);
		event_post(ev);
	}
}

static uint64_t cctr(enum sk_control_counter c)
{
	return app.session.ctr[c];
}

static int populate(const struct opts *o)
{
	uint64_t t0 = rte_rdtsc();
	uint32_t flows_per_stream = o->rtcp_mux ? 1 : 2, i;
	int bad = 0;

	for (i = 0; i < o->streams; i++)
		registration(i, OLD_ACCESS_BASE + i, 1);
	apply_events();
	for (i = 0; i < o->streams; i++)
		call(i, o->rtcp_mux);
	apply_events();
	for (i = 0; i < o->streams; i++)
		registration(i, NEW_ACCESS_BASE + i, 2);
	apply_events();
	sk_session_tick(&app.session, now_ns()); /* reclaim what the handovers replaced */

	printf("session: %u users, %u dialogs, %u flows published (streams_active), "
	       "built in %.2f s\n",
	       app.session.users_in_use, app.session.dialogs_in_use, app.session.tw.flows_published,
	       (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	printf("session: registrations_committed %" PRIu64 ", dialogs_created %" PRIu64
	       ", handovers_committed %" PRIu64 ", streams_refused %" PRIu64
	       ", users_refused %" PRIu64 ", dialogs_refused %" PRIu64 "\n",
	       cctr(SK_CCTR_registrations_committed), cctr(SK_CCTR_dialogs_created),
	       cctr(SK_CCTR_handovers_committed), cctr(SK_CCTR_streams_refused),
	       cctr(SK_CCTR_users_refused), cctr(SK_CCTR_dialogs_refused));
	printf("session: flow indexes of %u buckets each (%.2f keys per bucket), %" PRIu64
	       " keys moved to their second bucket to make room, flow_keys_refused %" PRIu64 "\n",
	       app.session.tw.t.by_access.mask + 1,
	       (double)app.session.tw.flows_published / (app.session.tw.t.by_access.mask + 1),
	       app.session.tw.ftab_moved, cctr(SK_CCTR_flow_keys_refused));
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "bench_rtp: state check failed: %s\n", #cond);             \
			bad = 1;                                                                   \
		}                                                                                  \
	} while (0)
	CHECK(cctr(SK_CCTR_registrations_committed) == 2ull * o->streams);
	CHECK(cctr(SK_CCTR_dialogs_created) == o->streams);
	CHECK(cctr(SK_CCTR_handovers_committed) == o->streams);
	CHECK(cctr(SK_CCTR_streams_refused) == 0);
	CHECK(cctr(SK_CCTR_flow_keys_refused) == 0);
	CHECK(app.session.users_in_use == o->streams);
	CHECK(app.session.dialogs_in_use == o->streams);
	CHECK(app.session.tw.flows_published == flows_per_stream * o->streams);
#undef CHECK
	return bad ? -1 : 0;
}

/* --- a sample burst through sk_worker_process, checked packet by packet --- */

static int check_sample(uint32_t streams, bool untracked)
{
	struct sk_worker *w = &app.workers[0];
	struct rte_mbuf *pkts[SK_BURST], *out[SK_OUT_MAX];
	uint16_t n = 0, n_out, i;
	uint32_t olds[SK_BURST];
	/* Untracked: each frame's bytes before, to be found unchanged after. */
	static uint8_t before[SK_BURST][RTE_MBUF_DEFAULT_DATAROOM];
	uint16_t lens[SK_BURST];
	int tries, bad = 0;

	for (tries = 0; tries < 1000 && n == 0; tries++)
		n = rte_eth_rx_burst(w->port_id[SK_SIDE_CORE], 0, pkts, SK_BURST);
	if (n == 0) {
		fprintf(stderr, "bench_rtp: the core port delivers nothing\n");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
			pkts[i], const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));

		olds[i] = rte_be_to_cpu_32(ip->dst_addr);
		lens[i] = (uint16_t)RTE_MIN(rte_pktmbuf_data_len(pkts[i]), sizeof(before[i]));
		memcpy(before[i], rte_pktmbuf_mtod(pkts[i], void *), lens[i]);
	}
	n_out = sk_worker_process(w, SK_SIDE_CORE, pkts, n, out, now_ns());
	if (n_out != n) {
		fprintf(stderr, "bench_rtp: sample: %u frames in, %u out\n", n, n_out);
		bad = 1;
	}
	for (i = 0; i < n_out && i < n; i++) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(out[i], struct rte_ipv4_hdr *,
								  sizeof(struct rte_ether_hdr));
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
		uint32_t stream = olds[i] - OLD_ACCESS_BASE;
		uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);

		if (untracked) {
			/* Not in any flow (or not IP: the site mix): forwarded as it came. */
			if (out[i] != pkts[i] || rte_pktmbuf_data_len(out[i]) != lens[i] ||
			    memcmp(rte_pktmbuf_mtod(out[i], void *), before[i], lens[i]) != 0) {
				fprintf(stderr, "bench_rtp: sample packet %u: changed\n", i);
				bad = 1;
			}
			continue;
		}
		if (stream >= streams || dst != NEW_ACCESS_BASE + stream ||
		    rte_be_to_cpu_16(udp->dst_port) != ACCESS_MEDIA_PORT ||
		    rte_raw_cksum(ip, sizeof(*ip)) != 0xffff ||
		    rte_ipv4_udptcp_cksum_verify(ip, udp) != 0) {
			fprintf(stderr,
				"bench_rtp: sample packet %u (stream %u): not rewritten right\n", i,
				stream);
			bad = 1;
		}
	}
	sk_worker_tx(w, SK_SIDE_ACCESS, out, n_out);
	if (!bad && untracked)
		printf("sample: %u untracked packets forwarded unchanged (byte for byte, in "
		       "order)\n",
		       n_out);
	else if (!bad)
		printf("sample: %u packets rewritten to the new address, checksums valid\n", n_out);
	return bad ? -1 : 0;
}

/* --- the timed run --- */

struct snap {
	uint64_t tsc, rx, tx, tx_dropped, busy, idle, polls, rewritten, rx_other_side;
	uint64_t nombuf, imissed;
	uint64_t udp_other, ip_other, non_ip, sip, fast; /* frames by class */
	uint64_t cpu_ns;				 /* CPU time the worker thread was given */
};

static int worker_main(void *arg)
{
	worker_thread = pthread_self();
	__atomic_store_n(&worker_started, true, __ATOMIC_RELEASE);
	return sk_worker_run(arg);
}

static uint64_t worker_cpu_ns(void)
{
	struct timespec ts;
	clockid_t cid;

	if (!__atomic_load_n(&worker_started, __ATOMIC_ACQUIRE) ||
	    pthread_getcpuclockid(worker_thread, &cid) != 0 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void snapshot(struct snap *s)
{
	const struct sk_worker *w = &app.workers[0];
	struct rte_eth_stats es;

	s->cpu_ns = worker_cpu_ns();
	s->tsc = rte_rdtsc();
	s->rx = sk_ctr_read(&w->port_ctr[SK_SIDE_CORE][SK_PCTR_rx]);
	s->rx_other_side = sk_ctr_read(&w->port_ctr[SK_SIDE_ACCESS][SK_PCTR_rx]);
	s->tx = sk_ctr_read(&w->port_ctr[SK_SIDE_ACCESS][SK_PCTR_tx]);
	s->tx_dropped = sk_ctr_read(&w->port_ctr[SK_SIDE_ACCESS][SK_PCTR_tx_dropped]);
	s->busy = sk_ctr_read(&w->busy_cycles);
	s->idle = sk_ctr_read(&w->idle_cycles);
	s->polls = sk_ctr_read(&w->polls);
	s->rewritten = sk_ctr_read(&w->ctr[SK_WCTR_rtp_rewritten_downlink]);
	s->udp_other = sk_ctr_read(&w->ctr[SK_WCTR_frames_udp_other]);
	s->ip_other = sk_ctr_read(&w->ctr[SK_WCTR_frames_ip_other]);
	s->non_ip = sk_ctr_read(&w->ctr[SK_WCTR_frames_non_ip]);
	s->sip = sk_ctr_read(&w->ctr[SK_WCTR_frames_sip]);
	s->fast = sk_ctr_read(&w->ctr[SK_WCTR_frames_fast_passed]);
	s->nombuf = s->imissed = 0;
	if (rte_eth_stats_get(app.port_id[SK_SIDE_CORE], &es) == 0) {
		s->nombuf = es.rx_nombuf;
		s->imissed = es.imissed;
	}
}

/* Run the control tick for SECONDS, as the daemon's main loop does (or just wait). */
static void control_for(double seconds, bool tick)
{
	uint64_t end = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());

	while (rte_rdtsc() < end) {
		if (tick)
			sk_control_tick(&app, now_ns());
		usleep(CONTROL_PERIOD_US);
	}
}

static int run(const struct opts *o)
{
	struct sk_worker *w = &app.workers[0];
	struct snap base, a, b, end;
	double secs, pps, cpu_s, hz = (double)rte_get_tsc_hz();
	uint64_t rx, tx, drops, other;
	int rc;

	snapshot(&base);
	rc = rte_eal_remote_launch(worker_main, w, w->lcore_id);
	if (rc != 0) {
		fprintf(stderr, "bench_rtp: cannot launch the worker on lcore %u\n", w->lcore_id);
		return -1;
	}
	control_for(o->warmup, !o->no_control);
	snapshot(&a);
	control_for(o->seconds, !o->no_control);
	snapshot(&b);
	__atomic_store_n(&app.quit, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	sk_control_tick(&app, now_ns());
	/* Stopped: the totals since the sample are consistent (no burst in flight). */
	snapshot(&end);

	secs = (double)(b.tsc - a.tsc) / (double)rte_get_tsc_hz();
	rx = b.rx - a.rx;
	tx = b.tx - a.tx;
	other = b.rx_other_side - a.rx_other_side;
	drops = (b.tx_dropped - a.tx_dropped) + (b.nombuf - a.nombuf) + (b.imissed - a.imissed);
	pps = (double)rx / secs;
	cpu_s = (double)(b.cpu_ns - a.cpu_ns) / 1e9;
	printf("\nsipkeep RTP path, 1 worker (lcore %u), %u streams, %.2f s measured after %.1f s "
	       "warm-up, TSC %.0f MHz\n",
	       w->lcore_id, o->streams, secs, o->warmup, (double)rte_get_tsc_hz() / 1e6);
	printf("  rx packets (core)            %" PRIu64 "\n", rx);
	printf("  tx packets (access)          %" PRIu64 "\n", tx);
	/* Read while the worker runs: rx, rewrites and tx may be up to a burst apart here. */
	printf("  rtp_rewritten_downlink       %" PRIu64 " (exact totals: 'whole run' below)\n",
	       b.rewritten - a.rewritten);
	printf("  drops (tx_dropped+nombuf+missed) %" PRIu64 "\n", drops);
	printf("  rx on access (must be 0)     %" PRIu64 "\n", other);
	printf("  rx_nombuf / imissed (core)   %" PRIu64 " / %" PRIu64 "\n", b.nombuf - a.nombuf,
	       b.imissed - a.imissed);
	printf("  Mpps                         %.3f\n", pps / 1e6);
	printf("  busy cycles/packet           %.1f\n",
	       rx ? (double)(b.busy - a.busy) / (double)rx : 0);
	printf("  wall cycles/packet (TSC/pps) %.1f\n",
	       rx ? (double)(b.tsc - a.tsc) / (double)rx : 0);
	printf("  busy share of the worker     %.1f %%  (%.1f packets/poll)\n",
	       100.0 * (double)(b.busy - a.busy) /
		       (double)((b.busy - a.busy) + (b.idle - a.idle) + 1),
	       (double)rx / (double)((b.polls - a.polls) + 1));
	printf("  CPU time of the worker       %.3f s (%.1f %% of the wall clock: the rest went "
	       "to\n"
	       "                               other processes on that core)\n",
	       cpu_s, 100.0 * cpu_s / secs);
	printf("  Mpps per CPU-second          %.3f\n", cpu_s > 0 ? (double)rx / cpu_s / 1e6 : 0);
	printf("  CPU cycles/packet            %.1f\n", rx ? cpu_s * hz / (double)rx : 0);
	printf("RESULT mpps=%.4f busy_cpp=%.1f wall_cpp=%.1f cpu_mpps=%.4f cpu_cpp=%.1f "
	       "cpu_share=%.3f rx=%" PRIu64 " tx=%" PRIu64 " rewritten=%" PRIu64 " drops=%" PRIu64
	       " seconds=%.3f tsc_mhz=%.0f\n",
	       pps / 1e6, rx ? (double)(b.busy - a.busy) / (double)rx : 0,
	       rx ? (double)(b.tsc - a.tsc) / (double)rx : 0,
	       cpu_s > 0 ? (double)rx / cpu_s / 1e6 : 0, rx ? cpu_s * hz / (double)rx : 0,
	       cpu_s / secs, rx, tx, b.rewritten - a.rewritten, drops, secs, hz / 1e6);
	/* Checked on whole-run totals: a snapshot taken mid-burst may split rx, rewrite and tx. */
	printf("whole run: rx %" PRIu64 ", tx %" PRIu64 ", rewritten %" PRIu64
	       ", tx_dropped %" PRIu64 ", rx on access %" PRIu64 "\n",
	       end.rx - base.rx, end.tx - base.tx, end.rewritten - base.rewritten,
	       end.tx_dropped - base.tx_dropped, end.rx_other_side - base.rx_other_side);
	printf("whole run, by class: udp_other %" PRIu64 ", ip_other %" PRIu64 ", non_ip %" PRIu64
	       ", sip %" PRIu64 ", fast_passed %" PRIu64 "\n",
	       end.udp_other - base.udp_other, end.ip_other - base.ip_other,
	       end.non_ip - base.non_ip, end.sip - base.sip, end.fast - base.fast);
	if (rx == 0 || end.rx - base.rx != end.tx - base.tx ||
	    end.rewritten - base.rewritten != (o->untracked ? 0 : end.tx - base.tx) ||
	    end.tx_dropped != base.tx_dropped || end.rx_other_side != base.rx_other_side) {
		fprintf(stderr,
			"bench_rtp: FAILED: not every packet was forwarded and rewritten\n");
		return -1;
	}
	if (o->untracked)
		printf("check: every packet forwarded, none rewritten (tx == rx, "
		       "rtp_rewritten_downlink == 0)\n");
	else
		printf("check: every packet forwarded and rewritten (rtp_rewritten_downlink == tx "
		       "== rx)\n");
	return 0;
}

/*
 * What `show tables` shows (the same function), and the process's memory:
 * after populate, the tables hold every stream's user, call and flows.
 */
static void show_tables(void)
{
	struct sk_table_usage u[SK_TABLES_MAX];
	size_t i, n = sk_tables_usage(&app, u);
	uint64_t total = 0;
	char line[256];
	FILE *f;

	printf("show tables:\n");
	for (i = 0; i < n; i++) {
		printf("  %-22s capacity %10" PRIu64, u[i].name, u[i].capacity);
		if (u[i].has_in_use)
			printf("  in use %10" PRIu64, u[i].in_use);
		if (u[i].has_bytes) {
			printf("  %8.1f MiB", (double)u[i].bytes / (1 << 20));
			total += u[i].bytes;
		}
		printf("\n");
	}
	printf("  total                  %.1f MiB\n", (double)total / (1 << 20));
	f = fopen("/proc/self/status", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0 || strncmp(line, "VmHWM:", 6) == 0)
			printf("  process %s", line);
	if (f != NULL)
		fclose(f);
}

static int load_config(const struct opts *o)
{
	char err[512];

	sk_config_defaults(&app.cfg);
	if (sk_config_load(&app.cfg, o->config, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_rtp: config: %s\n", err);
		return -1;
	}
	if (app.cfg.max_users < o->streams || app.cfg.max_dialogs < o->streams ||
	    app.cfg.max_streams < o->streams) {
		fprintf(stderr,
			"bench_rtp: %s: max_users, max_dialogs and max_streams must be at least "
			"%u\n",
			o->config, o->streams);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int eal_argc, rc = 1;

	/* Line by line into the log: a run stopped by the script's timeout still shows how far
	 * it got. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	eal_argc = rte_eal_init(argc, argv);
	if (eal_argc < 0) {
		fprintf(stderr, "bench_rtp: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[eal_argc] = argv[0];
	if (parse_opts(argc - eal_argc, argv + eal_argc, &o) < 0 || load_config(&o) < 0 ||
	    pick_ports(&o) < 0)
		goto out;
	if (!o.verbose)
		rte_log_set_level(sk_logtype, RTE_LOG_WARNING);
	app.port_id[SK_SIDE_ACCESS] = (uint16_t)o.access_port;
	app.port_id[SK_SIDE_CORE] = (uint16_t)o.core_port;
	/* Not live: no control socket or telemetry next to a daemon that may be running. */
	app.live = false;
	if (setup_worker() < 0)
		goto out;
	app.pool = rte_pktmbuf_pool_create("sk_mbufs", app.cfg.mbufs, MEMPOOL_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (app.pool == NULL) {
		fprintf(stderr, "bench_rtp: cannot create %u mbufs: %s\n", app.cfg.mbufs,
			rte_strerror(rte_errno));
		goto out;
	}
	if (sk_port_start(&app, app.port_id[SK_SIDE_ACCESS], 1) < 0 ||
	    sk_port_start(&app, app.port_id[SK_SIDE_CORE], 1) < 0)
		goto close;
	app.start_ns = now_ns();
	app.now_ns = app.start_ns;
	if (sk_control_init(&app) < 0)
		goto fini;
	printf("ports: access %d, core %d; %u mbufs; config %s\n", o.access_port, o.core_port,
	       app.cfg.mbufs, o.config);
	if (populate(&o) < 0)
		goto fini;
	show_tables();
	if (check_sample(o.streams, o.untracked) < 0)
		goto fini;
	rc = run(&o) == 0 ? 0 : 1;
fini:
	sk_control_fini(&app);
close:
	sk_ports_close(&app);
out:
	rte_eal_cleanup();
	return rc;
}
