/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "capture_in.h"
#include "control.h"
#include "replay.h"
#include "hep_listen.h"
#include "sk_log.h"
#include "sk_pkt.h"

#define SK_REPLAY_MBUFS 8191
/* The largest record a pcap file may hold (libpcap's MAXIMUM_SNAPLEN). */
#define SK_REPLAY_FRAME_MAX 262144

struct replay_io {
	struct sk_cap_in *in;
	pcap_t *out_handle;
	pcap_dumper_t *out;
	struct pcap_pkthdr cur_hdr; /* the input frame being processed */
	/* A link type seen on an interface replay cannot read (pcapng), for the message. */
	uint32_t unsupported_linktype;
	/*
	 * Each input mbuf carries its trace time in DPDK's Rx timestamp field, so a
	 * frame that leaves later (a held fragment) keeps its own timestamp; frames
	 * sipkeep built itself have none and take the time they were sent at.
	 */
	int ts_offset;
	uint64_t ts_flag;
	uint64_t frames_in; /* whole records read */
	uint64_t frames_out;
	bool cut; /* the input ended early (cut or damaged): what came before is replayed */
	/*
	 * --replay-control-lag: the control thread runs before every LAGth frame
	 * only (0, 1: before each), as a live control thread falls behind the
	 * workers; events wait meanwhile.
	 */
	unsigned int control_lag;
	/* Aligned as an mbuf's data would be: the parsers read its headers in place. */
	uint8_t frame[SK_REPLAY_FRAME_MAX + sizeof(struct rte_ether_hdr)] __rte_aligned(8);
};

static int eal_init_offline(const char *prog)
{
	char prefix[64];
	/* No hugepages, no devices, no shared config: replays may run side by side. */
	char *eal_argv[] = {
		(char *)prog,
		"--no-huge",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"-l",
		"0",
		"-m",
		"256",
		"--log-level=lib.eal:error",
		"--log-level=sipkeep:info", /* sipkeep's own lines: as a live daemon's default */
		"--file-prefix",
		prefix,
	};
	int eal_argc = (int)SK_ARRAY_SIZE(eal_argv);

	snprintf(prefix, sizeof(prefix), "sipkeep-replay-%ld", (long)getpid());
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "sipkeep: replay: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/*
 * DPDK ports carry Ethernet. Captures taken on "any" (Linux cooked), on
 * loopback or as raw IP get a synthetic Ethernet header, so the same worker
 * code sees them; the output capture is Ethernet.
 */
static int to_ethernet(struct replay_io *io, uint32_t linktype, const uint8_t *data, uint32_t len,
		       const uint8_t **frame, uint32_t *frame_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)io->frame;
	uint16_t ether_type;
	uint32_t skip;

	switch (linktype) {
	case SK_LT_ETHERNET:
		*frame = data;
		*frame_len = len;
		return 0;
	case SK_LT_LINUX_SLL:
		if (len < 16)
			return -1;
		ether_type = (uint16_t)(data[14] << 8 | data[15]);
		skip = 16;
		break;
	case SK_LT_LINUX_SLL2:
		if (len < 20)
			return -1;
		ether_type = (uint16_t)(data[0] << 8 | data[1]);
		skip = 20;
		break;
	case SK_LT_NULL:
	case SK_LT_LOOP: {
		uint32_t family;

		if (len < 4)
			return -1;
		memcpy(&family, data, 4);
		if (linktype == SK_LT_LOOP)
			family = ntohl(family);
		else if (family > 0xffff)
			family = __builtin_bswap32(
				family); /* written on a host of the other order */
		ether_type = family == 2 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6;
		skip = 4;
		break;
	}
	case SK_LT_RAW:
		if (len < 1)
			return -1;
		ether_type = (data[0] >> 4) == 6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
		skip = 0;
		break;
	default:
		return -1;
	}
	if (len - skip > SK_REPLAY_FRAME_MAX)
		return -1;
	memset(eth, 0, sizeof(*eth));
	eth->dst_addr.addr_bytes[0] = 0x02;
	eth->dst_addr.addr_bytes[5] = 0x02;
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->src_addr.addr_bytes[5] = 0x01;
	eth->ether_type = htons(ether_type);
	memcpy(io->frame + sizeof(*eth), data + skip, len - skip);
	*frame = io->frame;
	*frame_len = len - skip + (uint32_t)sizeof(*eth);
	return 0;
}

/* Copy FRAME into a (possibly chained) mbuf: captures may hold frames larger than one buffer. */
static struct rte_mbuf *mbuf_from_bytes(struct rte_mempool *pool, const uint8_t *frame,
					uint32_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool);
	struct rte_mbuf *seg = head;
	uint32_t done = 0;

	if (head == NULL)
		return NULL;
	for (;;) {
		uint16_t room = rte_pktmbuf_tailroom(seg);
		uint32_t chunk = RTE_MIN((uint32_t)room, len - done);

		memcpy(rte_pktmbuf_append(seg, (uint16_t)chunk), frame + done, chunk);
		done += chunk;
		if (seg != head)
			head->pkt_len += chunk;
		if (done == len)
			return head;
		seg->next = rte_pktmbuf_alloc(pool);
		if (seg->next == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		seg = seg->next;
		head->nb_segs++;
	}
}

static void write_out(struct replay_io *io, struct rte_mbuf **out, uint16_t n,
		      const struct pcap_pkthdr *in_hdr)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct pcap_pkthdr hdr = *in_hdr;
		const uint8_t *data =
			rte_pktmbuf_read(out[i], 0, rte_pktmbuf_pkt_len(out[i]), io->frame);
		const struct rte_mbuf *seg;

		/* A fragment sent again is a new head on the input's data: look down the chain. */
		for (seg = out[i]; seg != NULL; seg = seg->next) {
			if (seg->ol_flags & io->ts_flag) {
				sk_time_ns ts =
					*RTE_MBUF_DYNFIELD(seg, io->ts_offset, sk_time_ns *);

				hdr.ts.tv_sec = (time_t)(ts / 1000000000ULL);
				hdr.ts.tv_usec = (suseconds_t)(ts % 1000000000ULL / 1000);
				break;
			}
		}

		hdr.caplen = rte_pktmbuf_pkt_len(out[i]);
		/* A frame cut short by the capture's snap length stays as short and as long. */
		hdr.len = RTE_MAX(hdr.caplen,
				  in_hdr->len - RTE_MIN(in_hdr->len, in_hdr->caplen) + hdr.caplen);
		pcap_dump((u_char *)io->out, &hdr, data);
		rte_pktmbuf_free(out[i]);
		io->frames_out++;
	}
}

/* The worker's overflow path (re-fragmented datagrams): straight to the capture. */
static void replay_emit(struct sk_worker *w, enum sk_side to, struct rte_mbuf **pkts, uint16_t n)
{
	struct replay_io *io = w->emit_ctx;

	sk_ctr_add(&w->port_ctr[to][SK_PCTR_tx], n);
	write_out(io, pkts, n, &io->cur_hdr);
}

static enum sk_side direction(const struct sk_config *cfg, const uint8_t *frame, uint32_t len)
{
	struct sk_pkt_meta meta;

	sk_pkt_parse(frame, len, &meta);
	if (meta.ip_version == 0 || meta.cls == SK_PKT_L3_MALFORMED)
		return SK_SIDE_CORE;
	return sk_config_is_access_addr(cfg, meta.ip_version, meta.src) ? SK_SIDE_ACCESS
									: SK_SIDE_CORE;
}

/* Apply every event the workers posted: the control thread's last ticks. */
static void drain_events(struct sk_app *app, sk_time_ns now)
{
	do
		sk_control_tick(app, now);
	while (rte_ring_count(app->session.events) != 0);
}

static int replay_loop(struct sk_app *app, struct replay_io *io, const char *path)
{
	struct sk_worker *w = &app->workers[0];
	struct rte_mbuf *out[SK_OUT_MAX];
	struct sk_cap_rec rec;
	sk_time_ns now = 0;
	bool started = false;
	char err[256];
	int rc;

	while ((rc = sk_cap_next(io->in, &rec, err, sizeof(err))) == 1) {
		const uint8_t *frame;
		uint32_t frame_len;
		struct rte_mbuf *m;
		enum sk_side from;
		uint16_t n_out;

		now = (sk_time_ns)rec.sec * 1000000000ULL + (sk_time_ns)rec.usec * 1000ULL;
		io->frames_in++;
		if (!started) {
			app->start_ns = now;
			started = true;
			if (sk_control_init(app) < 0)
				return -1;
			/* The replay thread is the one reader of the tables. */
			rte_rcu_qsbr_thread_register(w->tables->qsv, 0);
			rte_rcu_qsbr_thread_online(w->tables->qsv, 0);
		}
		/* Between frames the reader holds nothing: reclamation may proceed. */
		rte_rcu_qsbr_quiescent(w->tables->qsv, 0);
		if (io->control_lag <= 1 || io->frames_in % io->control_lag == 1)
			sk_control_tick(app, now);
		if (!sk_cap_linktype_supported(rec.linktype)) {
			/* An interface of another kind in a pcapng: its frames are not ours. */
			app->replay_frames_unsupported_link++;
			io->unsupported_linktype = rec.linktype;
			continue;
		}
		if (to_ethernet(io, rec.linktype, rec.data, rec.caplen, &frame, &frame_len) < 0) {
			app->replay_frames_skipped++;
			continue;
		}
		/* The HEP mirror inside the capture: applied, not forwarded. */
		if (sk_hep_replay_frame(app, frame, frame_len, now))
			continue;
		m = mbuf_from_bytes(app->pool, frame, frame_len);
		if (m == NULL) {
			app->replay_alloc_failed++;
			continue;
		}
		*RTE_MBUF_DYNFIELD(m, io->ts_offset, sk_time_ns *) = now;
		m->ol_flags |= io->ts_flag;
		from = direction(&app->cfg, frame, frame_len);
		sk_ctr_add(&w->port_ctr[from][SK_PCTR_rx], 1);
		io->cur_hdr.ts.tv_sec = (time_t)rec.sec;
		io->cur_hdr.ts.tv_usec = (suseconds_t)rec.usec;
		io->cur_hdr.caplen = rec.caplen;
		io->cur_hdr.len = rec.origlen;
		n_out = sk_worker_process(w, from, &m, 1, out, now);
		sk_ctr_add(&w->port_ctr[sk_side_other(from)][SK_PCTR_tx], n_out);
		write_out(io, out, n_out, &io->cur_hdr);
	}
	if (rc < 0) {
		/* tcpdump killed mid-write: everything before the cut is still replayed. */
		io->cut = true;
		SK_LOG(WARNING,
		       "replay: %s: %s; the %" PRIu64 " whole record(s) before it are replayed",
		       path, err, io->frames_in);
	}
	if (started) {
		/* The trace is over: fragments still waiting for their siblings leave as they came.
		 */
		sk_worker_expire(w, UINT64_MAX);
		/* And the control thread applies what the last frames posted before the counters.
		 */
		drain_events(app, now);
	}
	if (io->frames_in == 0 && io->cut)
		return -1;
	if (io->frames_in != 0 && io->frames_in == app->replay_frames_unsupported_link) {
		const char *name = pcap_datalink_val_to_name((int)io->unsupported_linktype);

		fprintf(stderr,
			"sipkeep: replay: %s: link type %s is not supported (Ethernet, Linux "
			"cooked, loopback and raw IP are), and no interface has one that is\n",
			path, name ? name : "unknown");
		return -1;
	}
	return 0;
}

static int open_files(struct replay_io *io, const struct sk_options *o)
{
	char err[256];
	uint32_t lt;

	io->in = sk_cap_open(o->replay_in, err, sizeof(err));
	if (io->in == NULL) {
		fprintf(stderr, "sipkeep: replay: cannot read %s: %s\n", o->replay_in, err);
		return -1;
	}
	/* A pcap file has one link type; a pcapng has one per interface, judged per record. */
	lt = sk_cap_file_linktype(io->in);
	if (strcmp(sk_cap_format(io->in), "pcap") == 0 && !sk_cap_linktype_supported(lt)) {
		const char *name = pcap_datalink_val_to_name((int)lt);

		fprintf(stderr,
			"sipkeep: replay: %s: link type %s (%u) is not supported (Ethernet, Linux "
			"cooked, loopback and raw IP are)\n",
			o->replay_in, name ? name : "unknown", lt);
		return -1;
	}
	io->out_handle = pcap_open_dead(DLT_EN10MB, SK_REPLAY_FRAME_MAX);
	io->out = io->out_handle ? pcap_dump_open(io->out_handle, o->replay_out) : NULL;
	if (io->out == NULL) {
		fprintf(stderr, "sipkeep: replay: cannot write %s: %s\n", o->replay_out,
			io->out_handle ? pcap_geterr(io->out_handle) : "out of memory");
		return -1;
	}
	return 0;
}

static void close_files(struct replay_io *io)
{
	if (io->out)
		pcap_dump_close(io->out);
	if (io->out_handle)
		pcap_close(io->out_handle);
	sk_cap_close(io->in);
}

int sk_replay_main(struct sk_app *app, const struct sk_options *o, const char *prog)
{
	static struct replay_io io;
	char runtime_dir[PATH_MAX];
	int rc = -1;

	io.control_lag = o->replay_control_lag;
	if (open_files(&io, o) < 0) {
		close_files(&io);
		return -1;
	}
	if (eal_init_offline(prog) < 0) {
		close_files(&io);
		return -1;
	}
	app->live = false;
	if (rte_mbuf_dyn_rx_timestamp_register(&io.ts_offset, &io.ts_flag) < 0) {
		fprintf(stderr, "sipkeep: replay: cannot register the mbuf timestamp field\n");
		goto out;
	}
	app->pool = rte_pktmbuf_pool_create("sk_replay", SK_REPLAY_MBUFS, 0, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (app->pool == NULL || sk_app_workers_alloc(app, 1) < 0) {
		fprintf(stderr, "sipkeep: replay: out of DPDK memory: %s\n",
			rte_strerror(rte_errno));
		goto out;
	}
	/* Reassembly holds at most half the pool: the other frames of the trace keep flowing. */
	sk_worker_init(&app->workers[0],
		       &(struct sk_worker_params){
			       .cfg = &app->cfg,
			       .quit = &app->quit,
			       .port_id = {[SK_SIDE_ACCESS] = 0, [SK_SIDE_CORE] = 1},
			       .frag_max_held = RTE_MIN(app->cfg.frag_max_held,
							(uint32_t)SK_REPLAY_MBUFS / 2),
			       .emit = replay_emit,
			       .emit_ctx = &io,
		       });
	if (replay_loop(app, &io, o->replay_in) == 0)
		rc = 0;
	if (app->replay_frames_skipped)
		SK_LOG(WARNING,
		       "replay: %" PRIu64 " frame(s) too short for their link header, skipped",
		       app->replay_frames_skipped);
	if (app->replay_frames_unsupported_link) {
		const char *name = pcap_datalink_val_to_name((int)io.unsupported_linktype);

		SK_LOG(WARNING,
		       "replay: %" PRIu64
		       " frame(s) from interfaces of a link type replay does not "
		       "read (%s, for one), not forwarded",
		       app->replay_frames_unsupported_link, name ? name : "unknown");
	}
	SK_LOG(INFO, "replay: %" PRIu64 " frame(s) in, %" PRIu64 " out", io.frames_in,
	       io.frames_out);
	if (sk_control_report(app, o->stats_json) < 0)
		rc = -1;
	sk_control_fini(app);
out:
	close_files(&io);
	/* --no-shconf still makes a runtime folder; a replay leaves nothing behind. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);
	return rc;
}
