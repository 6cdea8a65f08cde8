/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP over TCP benchmark (issue 13): one worker's sk_worker_process on
 * prebuilt mbufs, timed with rte_rdtsc around each call (setup, the control
 * thread's work and the harness's own bookkeeping are outside the count).
 *
 *   bench_tcp [--seconds S] [--conns N] [--flows N] [--split B] [--kinds LIST]
 *             [--sweeps N] [--tcp-max-streams N] [--diag]
 *
 * Kinds, measured in turn sweep by sweep (a sweep: every connection or flow
 * once, so that the kinds share the machine's noise alike), each sweep timed
 * in windows of SK_BURST connections or flows:
 *
 *  sip-tcp    Cisco REGISTERs (a multipart remotecc body, about 2 KB) over TCP
 *             to core:5060 from N phones (one connection each), each split
 *             into two segments (the first B payload bytes, default 1460: an
 *             MSS), and core's 200 OK on the same connection. Every sweep
 *             moves each connection's sequence and acknowledgement numbers on
 *             (the seq/ack words rewritten, the TCP checksum adjusted, outside
 *             the timed calls), so nothing is a retransmission.
 *  sip-udp    the same messages over UDP from N other phones (one datagram
 *             each, jumbo-sized: no IP fragments), each sweep rewriting the IP
 *             ID and header checksum (the same one-line touch as sip-tcp's).
 *  tcp-other  TCP data segments (1448 bytes) on port 443, N flows, one segment
 *             each way per flow per sweep: not on sip_ports.
 *  udp-other  UDP datagrams (1200 bytes) on port 443 (QUIC-like), N flows:
 *             not SIP, not media the tables know (one flow lookup, a miss).
 *
 * The worker has the session's tables, event ring and pool (sk_control_init,
 * as in the daemon and bench_rtp), so SIP messages post their events; the
 * events are applied by sk_session_tick between sweeps (the control thread's
 * work, on another core in the daemon: not counted). The counters are
 * checked after the run: every message framed (tcp_messages), no fallback,
 * no retransmission, every REGISTER committed.
 *
 * Built against a tree without SIP over TCP (no SK_TCP_HELD_MAX), the sip-tcp
 * kind is left out: the other kinds measure what TCP not on sip_ports cost
 * before it.
 *
 * Output: a table, and one "RESULT kind=..." line per kind for
 * run_tcp_bench.sh. Cycles are TSC cycles inside sk_worker_process; "median"
 * is the median over windows (robust to the preemptions of a shared
 * machine), "mean" the total over the total.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "app.h"
#include "control.h"
#include "sk_log.h"

/* The tree has SIP over TCP (issue 13). */
#ifdef SK_TCP_HELD_MAX
#define HAVE_SIP_TCP 1
#else
#define HAVE_SIP_TCP 0
#endif

#define CORE_IP RTE_IPV4(192, 168, 1, 10)
#define TCP_PHONE_BASE RTE_IPV4(10, 64, 0, 1)
#define UDP_PHONE_BASE RTE_IPV4(10, 65, 0, 1)
#define CLIENT_BASE RTE_IPV4(10, 66, 0, 1)
#define SERVER_BASE RTE_IPV4(203, 0, 113, 1)
#define SERVERS 64
#define TCP_HDR_LEN 32 /* 20 + NOP NOP timestamps, as Linux sends */
#define OTHER_TCP_PAYLOAD 1448
#define OTHER_UDP_PAYLOAD 1200
#define MAX_CONNS 8192
#define MAX_FLOWS 65536
/* Events queued before the harness applies them (the session's pool holds 8191). */
#define EVENT_BATCH 2048

enum kind { K_SIP_TCP, K_SIP_UDP, K_TCP_OTHER, K_UDP_OTHER, K_COUNT };

static const char *const kind_name[K_COUNT] = {"sip-tcp", "sip-udp", "tcp-other", "udp-other"};

struct opts {
	double seconds;
	uint32_t conns;
	uint32_t flows;
	uint32_t split;
	uint32_t sweeps; /* 0: as many as --seconds allows */
	uint32_t tcp_max_streams;
	bool kinds[K_COUNT];
	bool diag;
};

/* One frame of a sweep, and the side it arrives on. */
struct frame {
	struct rte_mbuf *m;
	uint32_t conn;	     /* sip-tcp: the connection */
	uint8_t from;	     /* enum sk_side */
	uint8_t role;	     /* sip-tcp: 0 the REGISTER's first segment, 1 its second, 2 the 200 */
	uint8_t group_end;   /* last frame of a window (SK_BURST connections or flows) */
	uint16_t group_msgs; /* on group_end: messages in the window (a frame: tcp/udp-other) */
};

struct conn {
	uint32_t phone_seq, core_seq;
	uint32_t reg_len, ok_len; /* they differ by a few bytes between phones */
};

struct kind_state {
	struct frame *frames; /* one sweep, in order; bursts never mix sides */
	uint32_t n_frames;
	uint32_t msgs_per_sweep;
	uint32_t n_conns;
	uint32_t reg_len, ok_len, split;
	struct conn *conns;
	/*
	 * Per window (the frames of SK_BURST connections or flows, a few bursts):
	 * TSC cycles inside sk_worker_process per message. Short windows keep
	 * most of them clear of the preemptions of a shared machine.
	 */
	double *win_cycles;
	uint32_t n_win, cap_win;
	uint64_t cycles, frames_done, msgs_done, sweeps;
};

static struct sk_app app;
static struct rte_mempool *pool;
static struct kind_state ks[K_COUNT];

static sk_time_ns now_ns(void)
{
	return rte_rdtsc() / app.workers[0].tsc_per_us * 1000;
}

static uint64_t wctr(enum sk_worker_counter c)
{
	return sk_ctr_read(&app.workers[0].ctr[c]);
}

/* --- frames ----------------------------------------------------------------------------- */

static struct rte_mbuf *frame_new(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst,
				  uint16_t dport, uint32_t seq, uint32_t ack, const void *payload,
				  uint32_t plen)
{
	uint32_t l4_len = proto == IPPROTO_TCP ? TCP_HDR_LEN : sizeof(struct rte_udp_hdr);
	uint32_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + l4_len + plen;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;

	if (m == NULL || rte_pktmbuf_tailroom(m) < len) {
		fprintf(stderr, "bench_tcp: no mbuf for a %u-byte frame\n", len);
		exit(1);
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)len);
	memset(eth, 0, len);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->dst_addr.addr_bytes[0] = 0x02;
	eth->dst_addr.addr_bytes[5] = 1;
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = 0x45;
	ip->time_to_live = 64;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len + plen));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	l4 = (uint8_t *)(ip + 1);
	memcpy(l4 + l4_len, payload, plen);
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;
		uint8_t *opt = l4 + sizeof(*tcp);

		tcp->src_port = rte_cpu_to_be_16(sport);
		tcp->dst_port = rte_cpu_to_be_16(dport);
		tcp->sent_seq = rte_cpu_to_be_32(seq);
		tcp->recv_ack = rte_cpu_to_be_32(ack);
		tcp->data_off = (TCP_HDR_LEN / 4) << 4;
		tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
		tcp->rx_win = rte_cpu_to_be_16(502);
		opt[0] = opt[1] = 1; /* NOP NOP */
		opt[2] = 8;	     /* timestamps */
		opt[3] = 10;
		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		udp->src_port = rte_cpu_to_be_16(sport);
		udp->dst_port = rte_cpu_to_be_16(dport);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + plen));
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	return m;
}

static struct rte_ipv4_hdr *ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

/* RFC 1624: a checksum after the 16-bit words OLD became NEW (raw network-order words). */
static uint16_t csum_update(uint16_t sum, const uint16_t *old, const uint16_t *new, int n)
{
	uint32_t s = (uint16_t)~sum;
	int i;

	for (i = 0; i < n; i++)
		s += (uint16_t)~old[i] + (uint32_t) new[i];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* New sequence and acknowledgement numbers, the TCP checksum adjusted for them alone. */
static void tcp_set_seq_ack(struct rte_mbuf *m, uint32_t seq, uint32_t ack)
{
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip_of(m) + 1);
	uint16_t old[4], new[4];
	uint32_t v[2] = {rte_cpu_to_be_32(seq), rte_cpu_to_be_32(ack)};

	memcpy(old, &tcp->sent_seq, 8); /* sent_seq and recv_ack are adjacent */
	memcpy(new, v, 8);
	memcpy(&tcp->sent_seq, v, 8);
	tcp->cksum = csum_update(tcp->cksum, old, new, 4);
}

/* The next IP ID, the header checksum adjusted (sip-udp's per-sweep touch). */
static void ip_next_id(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	uint16_t old = ip->packet_id, new = rte_cpu_to_be_16(rte_be_to_cpu_16(old) + 1);

	ip->packet_id = new;
	ip->hdr_checksum = csum_update(ip->hdr_checksum, &old, &new, 1);
}

static bool frame_checksums_ok(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);

	return rte_raw_cksum(ip, sizeof(*ip)) == 0xffff &&
	       rte_ipv4_udptcp_cksum_verify(ip, ip + 1) == 0;
}

/* --- SIP messages ------------------------------------------------------------------------ */

static const char *const cisco_body_lines =
	"<bulkregisterreq><contact all=\"true\"><register></register></contact>"
	"<line>%d</line></bulkregisterreq>\r\n";

/* The multipart remotecc body of a Cisco phone's REGISTER (LINES bulkregisterreq lines). */
static int cisco_body(char *buf, size_t size, int lines)
{
	int n, i;

	n = snprintf(buf, size,
		     "--uniqueBoundary\r\n"
		     "Content-Type: application/x-cisco-remotecc-request+xml\r\n"
		     "Content-Disposition: session;handling=required\r\n\r\n"
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		     "<x-cisco-remotecc-request>\r\n");
	for (i = 1; i <= lines; i++)
		n += snprintf(buf + n, size - (size_t)n, cisco_body_lines, i);
	n += snprintf(buf + n, size - (size_t)n,
		      "</x-cisco-remotecc-request>\r\n\r\n--uniqueBoundary--\r\n");
	return n;
}

static void ipstr(char *buf, size_t size, uint32_t ip)
{
	snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Phone I's REGISTER (TRANSPORT "TCP" or "UDP", from IP:PORT) and core's 200 OK. */
static void sip_pair(char *reg, char *ok, size_t size, uint32_t i, const char *transport,
		     uint32_t ip, uint16_t port, uint32_t *reg_len, uint32_t *ok_len)
{
	char body[2048], host[32], mac[16], via[160], from[96], to[96], callid[96], contact[512];
	const char *tp = transport[0] == 'T' ? "tcp" : "udp";
	uint32_t ext = (transport[0] == 'T' ? 100000 : 200000) + i;
	int blen = cisco_body(body, sizeof(body), 8);

	ipstr(host, sizeof(host), ip);
	snprintf(mac, sizeof(mac), "0C1A2B%06X", i);
	snprintf(via, sizeof(via), "Via: SIP/2.0/%s %s:%u;branch=z9hG4bK%08x", transport, host,
		 port, 0x1b6b0000u + i);
	snprintf(from, sizeof(from), "From: <sip:%u@192.168.1.10>;tag=%s00117f2a3b4c-5d6e7f80", ext,
		 mac);
	snprintf(to, sizeof(to), "To: <sip:%u@192.168.1.10>", ext);
	snprintf(callid, sizeof(callid), "Call-ID: %s-4d5e0011-2a3b4c5d-6e7f8091@%s", mac, host);
	snprintf(contact, sizeof(contact),
		 "Contact: <sip:6d1e4f2a-90b3-4c5e-8f7a-%012x@%s:%u;transport=%s>;"
		 "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-%s>\";"
		 "+u.sip!devicename.ccm.cisco.com=\"SEP%s\";+u.sip!model.ccm.cisco.com=\"36670\"",
		 i, host, port, tp, mac, mac);
	*reg_len = (uint32_t)snprintf(
		reg, size,
		"REGISTER sip:192.168.1.10 SIP/2.0\r\n%s\r\n%s\r\n%s\r\n%s\r\n"
		"Max-Forwards: 70\r\nDate: Wed, 25 Nov 2026 09:30:00 GMT\r\nCSeq: 1043 REGISTER\r\n"
		"User-Agent: Cisco-CP8865/14.2.1\r\n%s;+x-cisco-sessionpersist\r\n"
		"Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,"
		"X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,"
		"X-cisco-srtp-fallback,X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,"
		"X-cisco-xsi-8.5.1\r\n"
		"Supported: X-cisco-sessionpersist,X-cisco-remotecc\r\n"
		"Reason: SIP;cause=200;text=\"cisco-alarm:25 Name=SEP%s "
		"ActiveLoad=sip8845_65.14-2-1-0001-14 InactiveLoad=sip8845_65.14-1-1-0001-125 "
		"Last=initialized\"\r\n"
		"Expires: 3600\r\nMime-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=uniqueBoundary\r\n"
		"Content-Length: %d\r\n\r\n%s",
		via, from, to, callid, contact, mac, blen, body);
	*ok_len = (uint32_t)snprintf(ok, size,
				     "SIP/2.0 200 OK\r\n%s\r\n%s\r\n%s;tag=1287611111\r\n"
				     "Date: Wed, 25 Nov 2026 09:30:00 GMT\r\n%s\r\n"
				     "CSeq: 1043 REGISTER\r\nExpires: 120\r\n%s;x-cisco-newreg\r\n"
				     "Supported: X-cisco-srtp-fallback,X-cisco-sis-9.2.0\r\n"
				     "Content-Length: 0\r\n\r\n",
				     via, from, to, callid, contact);
}

static struct kind_state *kind_alloc(enum kind k, uint32_t n_frames)
{
	struct kind_state *s = &ks[k];

	s->frames = calloc(n_frames, sizeof(s->frames[0]));
	s->cap_win = 1024;
	s->win_cycles = malloc(s->cap_win * sizeof(double));
	if (s->frames == NULL || s->win_cycles == NULL) {
		fprintf(stderr, "bench_tcp: out of memory\n");
		exit(1);
	}
	return s;
}

/* Frames in bursts of SK_BURST connections: all first segments, all second, all answers. */
static void build_sip(enum kind k, const struct opts *o)
{
	bool tcp = k == K_SIP_TCP;
	uint32_t per = tcp ? (o->split ? 3 : 2) : 2, base, i, j;
	struct kind_state *s = kind_alloc(k, o->conns * per);
	static char reg[4096], ok[4096];

	s->n_conns = o->conns;
	s->msgs_per_sweep = 2 * o->conns;
	s->conns = calloc(o->conns, sizeof(s->conns[0]));
	for (base = 0; base < o->conns; base += SK_BURST) {
		uint32_t n = RTE_MIN((uint32_t)SK_BURST, o->conns - base);

		for (j = 0; j < per; j++) {
			for (i = base; i < base + n; i++) {
				uint32_t ip = (tcp ? TCP_PHONE_BASE : UDP_PHONE_BASE) + i;
				uint16_t port = tcp ? (uint16_t)(49152 + (i * 7919) % 16384) : 5060;
				uint32_t ps = 1000000u * (i + 1), cs = 3000000000u - 1000000u * i;
				struct frame *f = &s->frames[s->n_frames++];
				bool last = j == per - 1;

				sip_pair(reg, ok, sizeof(reg), i, tcp ? "TCP" : "UDP", ip, port,
					 &s->reg_len, &s->ok_len);
				s->split = tcp && o->split ? o->split : s->reg_len;
				if (tcp && o->split && s->split >= s->reg_len) {
					fprintf(stderr,
						"bench_tcp: --split %u: the REGISTER is %u bytes\n",
						o->split, s->reg_len);
					exit(1);
				}
				f->from = last ? SK_SIDE_CORE : SK_SIDE_ACCESS;
				f->conn = i;
				f->role = (uint8_t)(last ? 2 : j);
				if (!tcp)
					f->m = last ? frame_new(IPPROTO_UDP, CORE_IP, 5060, ip,
								port, 0, 0, ok, s->ok_len)
						    : frame_new(IPPROTO_UDP, ip, port, CORE_IP,
								5060, 0, 0, reg, s->reg_len);
				else if (last)
					f->m = frame_new(IPPROTO_TCP, CORE_IP, 5060, ip, port, cs,
							 ps, ok, s->ok_len);
				else if (j == 0)
					f->m = frame_new(IPPROTO_TCP, ip, port, CORE_IP, 5060, ps,
							 cs, reg, per == 2 ? s->reg_len : s->split);
				else
					f->m = frame_new(IPPROTO_TCP, ip, port, CORE_IP, 5060,
							 ps + s->split, cs, reg + s->split,
							 s->reg_len - s->split);
				s->conns[i] = (struct conn){.phone_seq = ps,
							    .core_seq = cs,
							    .reg_len = s->reg_len,
							    .ok_len = s->ok_len};
			}
		}
		s->frames[s->n_frames - 1].group_end = 1;
		s->frames[s->n_frames - 1].group_msgs = (uint16_t)(2 * n);
	}
}

/* Segments of port-443 connections (or datagrams) one each way per flow, N flows. */
static void build_other(enum kind k, const struct opts *o)
{
	bool tcp = k == K_TCP_OTHER;
	uint32_t plen = tcp ? OTHER_TCP_PAYLOAD : OTHER_UDP_PAYLOAD, base, i, j;
	struct kind_state *s = kind_alloc(k, 2 * o->flows);
	static uint8_t payload[OTHER_TCP_PAYLOAD];

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 131 + 7);
	s->msgs_per_sweep = 2 * o->flows;
	for (base = 0; base < o->flows; base += SK_BURST) {
		uint32_t n = RTE_MIN((uint32_t)SK_BURST, o->flows - base);

		for (j = 0; j < 2; j++) {
			for (i = base; i < base + n; i++) {
				uint32_t cli = CLIENT_BASE + i / 8, srv = SERVER_BASE + i % SERVERS;
				uint16_t cport = (uint16_t)(32768 + (i * 40503u) % 28000);
				uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
				struct frame *f = &s->frames[s->n_frames++];

				f->from = j == 0 ? SK_SIDE_ACCESS : SK_SIDE_CORE;
				f->m = j == 0 ? frame_new(proto, cli, cport, srv, 443, 7777u * i,
							  4444u * i, payload, plen)
					      : frame_new(proto, srv, 443, cli, cport, 4444u * i,
							  7777u * i, payload, plen);
			}
		}
		s->frames[s->n_frames - 1].group_end = 1;
		s->frames[s->n_frames - 1].group_msgs = (uint16_t)(2 * n);
	}
}

/* --- the timed sweeps -------------------------------------------------------------------- */

static void apply_events(void)
{
	while (rte_ring_count(app.session.events) > 0)
		sk_session_tick(&app.session, now_ns());
}

/* Before a sweep, outside the count: fresh sequence numbers (TCP), a new IP ID (UDP). */
static void prepare_sweep(enum kind k)
{
	struct kind_state *s = &ks[k];
	uint32_t i;

	if (k == K_SIP_UDP) {
		for (i = 0; i < s->n_frames; i++)
			ip_next_id(s->frames[i].m);
		return;
	}
	if (k != K_SIP_TCP)
		return;
	for (i = 0; i < s->n_frames; i++) {
		const struct frame *f = &s->frames[i];
		const struct conn *c = &s->conns[f->conn];

		if (f->role == 2)
			tcp_set_seq_ack(f->m, c->core_seq, c->phone_seq + c->reg_len);
		else
			tcp_set_seq_ack(f->m, c->phone_seq + (f->role ? s->split : 0), c->core_seq);
	}
	/* The next sweep starts where this one ends. */
	for (i = 0; i < s->n_conns; i++) {
		s->conns[i].phone_seq += s->conns[i].reg_len;
		s->conns[i].core_seq += s->conns[i].ok_len;
	}
}

/* One sweep of kind K, every sk_worker_process call timed; false if a frame went missing. */
static bool sweep(enum kind k)
{
	struct kind_state *s = &ks[k];
	struct sk_worker *w = &app.workers[0];
	struct rte_mbuf *pkts[SK_BURST], *out[SK_OUT_MAX];
	uint64_t cycles = 0, win = 0, in = 0, outn = 0;
	uint32_t i = 0;

	prepare_sweep(k);
	while (i < s->n_frames) {
		uint8_t from = s->frames[i].from;
		uint16_t n = 0;
		uint64_t t0, t;
		bool end = false;

		while (i < s->n_frames && n < SK_BURST && s->frames[i].from == from && !end) {
			end = s->frames[i].group_end;
			pkts[n++] = s->frames[i++].m;
		}
		t0 = rte_rdtsc();
		outn += sk_worker_process(w, (enum sk_side)from, pkts, n, out, now_ns());
		t = rte_rdtsc() - t0;
		cycles += t;
		win += t;
		in += n;
		if (end) {
			if (s->n_win == s->cap_win) {
				s->cap_win *= 2;
				s->win_cycles = realloc(s->win_cycles, s->cap_win * sizeof(double));
				if (s->win_cycles == NULL)
					exit(1);
			}
			s->win_cycles[s->n_win++] = (double)win / s->frames[i - 1].group_msgs;
			win = 0;
		}
	}
	/* The control thread's part, not counted: apply the events, let the tables reclaim. */
	if (rte_ring_count(app.session.events) >= EVENT_BATCH)
		apply_events();
	rte_rcu_qsbr_quiescent(app.session.tw.t.qsv, 0);
	if (outn != in) {
		fprintf(stderr, "bench_tcp: %s: %" PRIu64 " frames in, %" PRIu64 " out\n",
			kind_name[k], in, outn);
		return false;
	}
	s->cycles += cycles;
	s->frames_done += in;
	s->msgs_done += s->msgs_per_sweep;
	s->sweeps++;
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(double *v, uint32_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n ? v[(uint32_t)(q * (n - 1) + 0.5)] : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- checks ------------------------------------------------------------------------------ */

struct ctr_snap {
	uint64_t v[SK_WCTR_COUNT];
	uint64_t committed;
};

static void snap(struct ctr_snap *c)
{
	unsigned int i;

	for (i = 0; i < SK_WCTR_COUNT; i++)
		c->v[i] = wctr((enum sk_worker_counter)i);
	c->committed = app.session.ctr[SK_CCTR_registrations_committed];
}

#define D(c) (b->v[SK_WCTR_##c] - a->v[SK_WCTR_##c])

static int check(const struct ctr_snap *a, const struct ctr_snap *b)
{
	uint64_t sip_msgs = 0, sip_frames = 0, tcp_msgs = 0, other_frames = 0, udp_other = 0;
	int bad = 0;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "bench_tcp: check failed: " __VA_ARGS__);                  \
			fprintf(stderr, "\n");                                                     \
			bad = 1;                                                                   \
		}                                                                                  \
	} while (0)
	sip_msgs = ks[K_SIP_TCP].msgs_done + ks[K_SIP_UDP].msgs_done;
	tcp_msgs = ks[K_SIP_TCP].msgs_done;
	sip_frames = ks[K_SIP_UDP].frames_done;
	other_frames = ks[K_TCP_OTHER].frames_done;
	udp_other = ks[K_UDP_OTHER].frames_done;
	printf("counters: sip_messages %" PRIu64 ", frames_sip %" PRIu64
	       ", frames_udp_other %" PRIu64 ", frames_ip_other %" PRIu64
	       ", registrations_committed %" PRIu64 ", sip_events_dropped %" PRIu64
	       ", sip_parse_errors %" PRIu64 "\n",
	       D(sip_messages), D(frames_sip), D(frames_udp_other), D(frames_ip_other),
	       b->committed - a->committed, D(sip_events_dropped), D(sip_parse_errors));
	CHECK(D(sip_messages) == sip_msgs, "sip_messages %" PRIu64 " != %" PRIu64 " sent",
	      D(sip_messages), sip_msgs);
	CHECK(D(frames_sip) == sip_frames, "frames_sip %" PRIu64 " != %" PRIu64, D(frames_sip),
	      sip_frames);
	CHECK(D(frames_ip_other) == other_frames, "frames_ip_other %" PRIu64 " != %" PRIu64,
	      D(frames_ip_other), other_frames);
	CHECK(D(frames_udp_other) == udp_other, "frames_udp_other %" PRIu64 " != %" PRIu64,
	      D(frames_udp_other), udp_other);
	CHECK(D(sip_events_dropped) == 0 && D(sip_parse_errors) == 0,
	      "events dropped or parse errors");
	CHECK(b->committed - a->committed == sip_msgs / 2,
	      "registrations_committed %" PRIu64 " != %" PRIu64 " REGISTERs",
	      b->committed - a->committed, sip_msgs / 2);
#if HAVE_SIP_TCP
	printf("counters: tcp_messages %" PRIu64 ", frames_tcp_sip %" PRIu64
	       ", tcp_streams_tracked %" PRIu64 ", tcp_retransmissions %" PRIu64
	       ", tcp_out_of_order %" PRIu64 ", tcp_segments_held %" PRIu64 ", fallbacks %" PRIu64
	       "\n",
	       D(tcp_messages), D(frames_tcp_sip), D(tcp_streams_tracked), D(tcp_retransmissions),
	       D(tcp_out_of_order), D(tcp_segments_held),
	       D(tcp_fallback_buffer_full) + D(tcp_fallback_no_buffer) + D(tcp_fallback_hole) +
		       D(tcp_fallback_bad_framing));
	CHECK(D(tcp_messages) == tcp_msgs, "tcp_messages %" PRIu64 " != %" PRIu64 " sent",
	      D(tcp_messages), tcp_msgs);
	CHECK(D(frames_tcp_sip) == ks[K_SIP_TCP].frames_done, "frames_tcp_sip %" PRIu64,
	      D(frames_tcp_sip));
	CHECK(D(tcp_fallback_buffer_full) + D(tcp_fallback_no_buffer) + D(tcp_fallback_hole) +
			      D(tcp_fallback_bad_framing) ==
		      0,
	      "a TCP direction fell back");
	CHECK(D(tcp_retransmissions) == 0 && D(tcp_out_of_order) == 0,
	      "retransmissions or out-of-order segments seen");
	CHECK(D(tcp_streams_tracked) <= 2ull * ks[K_SIP_TCP].n_conns,
	      "tcp_streams_tracked %" PRIu64 ": directions tracked again", D(tcp_streams_tracked));
#else
	RTE_SET_USED(tcp_msgs);
#endif
#undef CHECK
	return bad;
}

#undef D

/* --- options, setup ---------------------------------------------------------------------- */

static void usage(void)
{
	printf("usage: bench_tcp [--seconds S] [--conns N] [--flows N] [--split B] [--kinds LIST]\n"
	       "                 [--sweeps N] [--tcp-max-streams N] [--diag]\n"
	       "  --seconds S   measure for S seconds, the kinds taking turns sweep by sweep "
	       "(4)\n"
	       "  --sweeps N    instead: N sweeps of each kind (e.g. under valgrind)\n"
	       "  --conns N     SIP phones per transport, one connection each (1000)\n"
	       "  --flows N     port-443 flows (tcp-other, udp-other) (2048)\n"
	       "  --split B     first TCP segment of a REGISTER: B payload bytes (1460); 0: the\n"
	       "                REGISTER in one segment\n"
	       "  --kinds LIST  comma-separated: sip-tcp,sip-udp,tcp-other,udp-other (all)\n"
	       "  --tcp-max-streams N  the config key (default: the config's)\n"
	       "  --diag        also time the TCP expiry scan (sk_worker_expire)\n");
}

static int parse_kinds(const char *arg, struct opts *o)
{
	char buf[256], *save = NULL, *tok;
	int k;

	memset(o->kinds, 0, sizeof(o->kinds));
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < K_COUNT && strcmp(tok, kind_name[k]) != 0; k++)
			;
		if (k == K_COUNT) {
			fprintf(stderr, "bench_tcp: unknown kind %s\n", tok);
			return -1;
		}
		o->kinds[k] = true;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"seconds", required_argument, NULL, 't'},
		{"conns", required_argument, NULL, 'c'},
		{"flows", required_argument, NULL, 'f'},
		{"split", required_argument, NULL, 's'},
		{"kinds", required_argument, NULL, 'k'},
		{"sweeps", required_argument, NULL, 'w'},
		{"tcp-max-streams", required_argument, NULL, 'm'},
		{"diag", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, k;

	*o = (struct opts){.seconds = 4, .conns = 1000, .flows = 2048, .split = 1460};
	for (k = 0; k < K_COUNT; k++)
		o->kinds[k] = true;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'c':
			o->conns = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			o->flows = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->split = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			if (parse_kinds(optarg, o) < 0)
				return -1;
			break;
		case 'w':
			o->sweeps = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o->tcp_max_streams = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o->diag = true;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -1;
		}
	}
	if (o->conns == 0 || o->conns > MAX_CONNS || o->flows == 0 || o->flows > MAX_FLOWS ||
	    o->seconds <= 0) {
		fprintf(stderr, "bench_tcp: --conns 1..%u, --flows 1..%u, --seconds > 0\n",
			MAX_CONNS, MAX_FLOWS);
		return -1;
	}
#if !HAVE_SIP_TCP
	if (o->kinds[K_SIP_TCP])
		printf("this tree has no SIP over TCP: sip-tcp left out\n");
	o->kinds[K_SIP_TCP] = false;
#endif
	return 0;
}

static int setup(const struct opts *o)
{
	uint32_t mbufs = 3 * MAX_CONNS + 2 * MAX_CONNS, need;

	sk_config_defaults(&app.cfg);
#if HAVE_SIP_TCP
	if (o->tcp_max_streams)
		app.cfg.tcp_max_streams = o->tcp_max_streams;
#endif
	app.live = false;
	if (sk_app_workers_alloc(&app, 1) < 0)
		return -1;
	sk_worker_init(&app.workers[0], &(struct sk_worker_params){.cfg = &app.cfg,
								   .quit = &app.quit,
								   .lcore_id = rte_lcore_id()});
	need = 3 * o->conns + 2 * o->conns + 4 * o->flows + 1024;
	mbufs = RTE_MAX(need, 4095u);
	/* Room for a 2 KB SIP message in one UDP datagram (no fragments), plus headroom. */
	pool = rte_pktmbuf_pool_create("bench_tcp", mbufs, 0, 0, RTE_PKTMBUF_HEADROOM + 4096,
				       (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "bench_tcp: cannot create %u mbufs\n", mbufs);
		return -1;
	}
	app.pool = pool;
	app.start_ns = now_ns();
	app.now_ns = app.start_ns;
	if (sk_control_init(&app) < 0)
		return -1;
	/* This thread is the one reader of the tables (as in replay mode). */
	rte_rcu_qsbr_thread_register(app.session.tw.t.qsv, 0);
	rte_rcu_qsbr_thread_online(app.session.tw.t.qsv, 0);
	return 0;
}

/* The frames are right before anything is timed: checksums, and after a seq/ack update. */
static int self_check(void)
{
	int k;

	for (k = 0; k < K_COUNT; k++) {
		uint32_t i;

		for (i = 0; i < ks[k].n_frames; i++)
			if (!frame_checksums_ok(ks[k].frames[i].m)) {
				fprintf(stderr, "bench_tcp: %s frame %u: bad checksum\n",
					kind_name[k], i);
				return -1;
			}
	}
	return 0;
}

static void diag_expire(const struct opts *o)
{
#if HAVE_SIP_TCP
	struct sk_worker *w = &app.workers[0];
	sk_time_ns at;
	uint64_t t0, t;
	int i;

	/*
	 * The scan sk_worker_process runs when tcp_next_expiry passes (every
	 * tcp_hole_timeout_ms while any direction holds bytes): the time it takes
	 * with every direction still live (nothing idle long enough to go).
	 */
	for (i = 0; i < 3; i++) {
		at = now_ns();
		w->tcp_next_expiry = at;
		t0 = rte_rdtsc();
		sk_worker_expire(w, at);
		t = rte_rdtsc() - t0;
		printf("diag: TCP expiry scan (tcp_max_streams %u, %" PRIu64
		       " directions tracked): %" PRIu64 " cycles (%.1f us)\n",
		       app.cfg.tcp_max_streams, wctr(SK_WCTR_tcp_streams_tracked), t,
		       (double)t * 1e6 / (double)rte_get_tsc_hz());
	}
	RTE_SET_USED(o);
#else
	RTE_SET_USED(o);
	printf("diag: no TCP path in this tree\n");
#endif
}

static double median_cycles(enum kind k)
{
	return quantile(ks[k].win_cycles, ks[k].n_win, 0.5);
}

static void report(const struct opts *o, double cpu_share)
{
	double hz = (double)rte_get_tsc_hz();
	int k;

	printf("\n%-10s %8s %10s %11s %11s %11s %11s %11s %10s\n", "kind", "windows", "frames",
	       "cyc/frame", "cyc/msg", "p10", "p90", "mean", "msgs/s");
	for (k = 0; k < K_COUNT; k++) {
		struct kind_state *s = &ks[k];
		double med, p10, p90, mean, frames_per_msg;

		if (!o->kinds[k] || s->n_win == 0)
			continue;
		frames_per_msg = (double)s->n_frames / s->msgs_per_sweep;
		p10 = quantile(s->win_cycles, s->n_win, 0.1);
		p90 = quantile(s->win_cycles, s->n_win, 0.9);
		med = median_cycles((enum kind)k);
		mean = (double)s->cycles / (double)s->msgs_done;
		printf("%-10s %8u %10" PRIu64 " %11.1f %11.1f %11.1f %11.1f %11.1f %10.0f\n",
		       kind_name[k], s->n_win, s->frames_done, med / frames_per_msg, med, p10, p90,
		       mean, hz / med);
		printf("RESULT kind=%s windows=%u sweeps=%" PRIu64 " frames_per_msg=%.3f "
		       "cyc_per_frame=%.2f cyc_per_msg=%.2f cyc_per_msg_p10=%.2f "
		       "cyc_per_msg_p90=%.2f cyc_per_msg_mean=%.2f msgs_per_s=%.0f cpu_share=%.3f "
		       "tsc_mhz=%.0f\n",
		       kind_name[k], s->n_win, s->sweeps, frames_per_msg, med / frames_per_msg, med,
		       p10, p90, mean, hz / med, cpu_share, hz / 1e6);
	}
	printf("cyc = TSC cycles inside sk_worker_process per message (tcp-other, udp-other: per\n"
	       "frame), median over windows of %d connections or flows; p10/p90 over windows;\n"
	       "mean = all cycles / all messages (preemptions included); msgs/s = TSC rate / cyc\n",
	       SK_BURST);
	if (o->kinds[K_SIP_TCP] && o->kinds[K_SIP_UDP])
		printf("SIP over TCP / over UDP, cycles per message: %.3f\n",
		       median_cycles(K_SIP_TCP) / median_cycles(K_SIP_UDP));
	if (o->kinds[K_TCP_OTHER] && o->kinds[K_UDP_OTHER])
		printf("TCP not on sip_ports / untracked UDP, cycles per frame: %.3f\n",
		       median_cycles(K_TCP_OTHER) / median_cycles(K_UDP_OTHER));
}

int main(int argc, char **argv)
{
	char prefix[64];
	char *eal_argv[] = {argv[0],
			    "--no-huge",
			    "--no-pci",
			    "--no-shconf",
			    "--no-telemetry",
			    "-l",
			    "0",
			    "-m",
			    "1024",
			    "--log-level=lib.eal:error",
			    "--file-prefix",
			    prefix};
	struct ctr_snap before, after;
	struct opts o;
	uint64_t end, wall0, cpu0, sweeps = 0;
	double cpu_share;
	bool more = true;
	int k, rc = 1;

	if (parse_opts(argc, argv, &o) < 0)
		return 1;
	snprintf(prefix, sizeof(prefix), "bench-tcp-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "bench_tcp: EAL init failed\n");
		return 1;
	}
	rte_log_set_level(sk_logtype, RTE_LOG_WARNING);
	if (setup(&o) < 0)
		goto out;
	for (k = 0; k < K_COUNT; k++) {
		if (!o.kinds[k])
			continue;
		if (k == K_SIP_TCP || k == K_SIP_UDP)
			build_sip((enum kind)k, &o);
		else
			build_other((enum kind)k, &o);
	}
	if (self_check() < 0)
		goto fini;
	printf("bench_tcp: %s SIP over TCP; TSC %.0f MHz; %u phones per transport",
	       HAVE_SIP_TCP ? "with" : "without", (double)rte_get_tsc_hz() / 1e6, o.conns);
	if (o.kinds[K_SIP_TCP] || o.kinds[K_SIP_UDP]) {
		struct kind_state *s = o.kinds[K_SIP_TCP] ? &ks[K_SIP_TCP] : &ks[K_SIP_UDP];

		printf(", REGISTER %u bytes (split %u + %u), 200 OK %u bytes", s->reg_len, s->split,
		       s->reg_len - s->split, s->ok_len);
	}
	printf(", %u port-443 flows\n", o.flows);

	/* Warm-up: one sweep of each (tables, caches, TCP directions picked up), not counted. */
	for (k = 0; k < K_COUNT; k++)
		if (o.kinds[k] && !sweep((enum kind)k))
			goto fini;
	apply_events();
	for (k = 0; k < K_COUNT; k++) {
		ks[k].n_win = 0;
		ks[k].cycles = ks[k].frames_done = ks[k].msgs_done = ks[k].sweeps = 0;
	}
	snap(&before);
	wall0 = rte_rdtsc();
	cpu0 = thread_cpu_ns();
	end = wall0 + (uint64_t)(o.seconds * (double)rte_get_tsc_hz());
	while (more) {
		for (k = 0; k < K_COUNT; k++)
			if (o.kinds[k] && !sweep((enum kind)k))
				goto fini;
		if (o.sweeps)
			more = ++sweeps < o.sweeps;
		else
			more = rte_rdtsc() < end;
	}
	cpu_share = (double)(thread_cpu_ns() - cpu0) / 1e9 /
		    ((double)(rte_rdtsc() - wall0) / (double)rte_get_tsc_hz());
	apply_events();
	snap(&after);
	report(&o, cpu_share);
	printf("CPU share of this thread over the run: %.3f (1.0: the core was its own)\n",
	       cpu_share);
	rc = check(&before, &after);
	if (rc == 0)
		printf("check: every frame forwarded, every message framed and committed\n");
	if (o.diag)
		diag_expire(&o);
fini:
	sk_control_fini(&app);
out:
	rte_eal_cleanup();
	return rc;
}
