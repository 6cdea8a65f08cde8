/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's per-burst work (sk_worker_process) on frames built in mbufs:
 * every frame comes out unchanged and in order, and the classification
 * counters say SIP / other UDP / non-IP / fragment / malformed / ip_other.
 * Runs a real EAL without hugepages, devices or shared config.
 *
 *   test_worker            classification and pass-through
 *   test_worker multiseg   a frame chained over two mbufs (headers in the first)
 *   test_worker fastpath   the passthrough fast path: what it forwards (untracked,
 *                          counted), what it must leave to the general path (SIP,
 *                          fragments, VLAN, IPv6, options, media flows, sip_detect)
 */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "frames.h"
#include "sk_config.h"
#include "sk_counters.h"
#include "eal_fixture.h"
#include "sk_test.h"
#include "sk_worker.h"
#include "tables.h"

#define POOL_SIZE 1023

static struct rte_mempool *pool;
static struct sk_config cfg;
static bool quit;
static struct sk_worker *w;
static uint64_t expect[SK_WCTR_COUNT];

struct frame {
	const char *name;
	enum sk_worker_counter cls;
	uint32_t len;
	uint8_t bytes[2048];
};

#define MAX_FRAMES 64
static struct frame frames[MAX_FRAMES];
static unsigned int n_frames;

static struct fb F;

/* Counter names from the X-macro list (the daemon's table lives in control/stats.c). */
static const char *sk_worker_counter_names_local(int c)
{
	static const char *const names[SK_WCTR_COUNT] = {
#define SK_X(name, help) #name,
		SK_WORKER_COUNTERS(SK_X)
#undef SK_X
	};

	return c >= 0 && c < SK_WCTR_COUNT ? names[c] : "?";
}

static void add(const char *name, enum sk_worker_counter cls)
{
	struct frame *fr = &frames[n_frames++];

	if (n_frames > MAX_FRAMES || F.len > sizeof(fr->bytes))
		abort();
	fr->name = name;
	fr->cls = cls;
	fr->len = F.len;
	memcpy(fr->bytes, F.b, F.len);
}

/* The mix: what each frame is under the default sip_ports (5060). */
static void build_frames(void)
{
	n_frames = 0;
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5062, 5060, "REGISTER sip:example.com SIP/2.0\r\n");
	add("IPv4 UDP 5062->5060 (SIP by destination port)", SK_WCTR_frames_sip);
	fb_ipv4_udp(&F, 0, A4_CORE, A4_ACCESS, 5060, 40000, "SIP/2.0 200 OK\r\n");
	add("IPv4 UDP 5060->40000 (SIP by source port)", SK_WCTR_frames_sip);
	fb_ipv4_udp(&F, 0, A4_CORE, A4_ACCESS, 5060, 5060, "BYE sip:a SIP/2.0\r\n");
	add("IPv4 UDP 5060->5060", SK_WCTR_frames_sip);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 20000, 30000, "\x80\x00rtp-ish");
	add("IPv4 UDP 20000->30000 (RTP)", SK_WCTR_frames_udp_other);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5061, 5080, "tls-ish");
	add("IPv4 UDP 5061->5080", SK_WCTR_frames_udp_other);
	fb_ipv4_udp(&F, 1, A4_ACCESS, A4_CORE, 5060, 5060, "ACK sip:b SIP/2.0\r\n");
	add("VLAN IPv4 UDP 5060", SK_WCTR_frames_sip);
	fb_ipv6_udp(&F, 0, A6_ACCESS, A6_CORE, 33333, 5060, "INVITE sip:c SIP/2.0\r\n");
	add("IPv6 UDP ->5060", SK_WCTR_frames_sip);
	fb_ipv6_udp(&F, 1, A6_CORE, A6_ACCESS, 5060, 33333, "SIP/2.0 180 Ringing\r\n");
	add("VLAN IPv6 UDP 5060->", SK_WCTR_frames_sip);
	fb_ipv6_udp(&F, 1, A6_CORE, A6_ACCESS, 16384, 16386, "rtp");
	add("VLAN IPv6 UDP RTP", SK_WCTR_frames_udp_other);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "hi");
	fb_fill(&F, 0, 60 - F.len);
	add("IPv4 UDP 5060 with Ethernet padding", SK_WCTR_frames_sip);
	fb_arp(&F, 0);
	add("ARP", SK_WCTR_frames_non_ip);
	fb_arp(&F, 1);
	add("VLAN ARP", SK_WCTR_frames_non_ip);
	fb_lldp(&F);
	add("LLDP", SK_WCTR_frames_non_ip);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "x");
	F.len = 10;
	add("runt: 10 bytes of Ethernet header", SK_WCTR_frames_non_ip);

	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 40, 0x4000, P_TCP, A4_ACCESS, A4_CORE);
	fb_tcp(&F, 40000, 5060);
	add("IPv4 TCP ->5060", SK_WCTR_frames_tcp_sip);
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 40, 0x4000, P_TCP, A4_ACCESS, A4_CORE);
	fb_tcp(&F, 40000, 443);
	add("IPv4 TCP ->443", SK_WCTR_frames_ip_other);
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 28, 0, P_ICMP, A4_CORE, A4_ACCESS);
	fb_u32(&F, 0x08000000);
	fb_u32(&F, 1);
	add("IPv4 ICMP", SK_WCTR_frames_ip_other);
	fb_reset(&F);
	fb_eth(&F, ET_IPV6);
	fb_ipv6(&F, 8, P_ICMPV6, A6_ACCESS, A6_CORE);
	fb_u32(&F, 0x80000000);
	fb_u32(&F, 1);
	add("IPv6 ICMPv6", SK_WCTR_frames_ip_other);

	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "REGISTER sip:big SIP/2.0\r\n");
	fb_set16(&F, 14 + 6, 0x2000);
	add("IPv4 first fragment of UDP 5060", SK_WCTR_frames_ip_fragment);
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 20 + 40, 185, P_UDP, A4_ACCESS, A4_CORE);
	fb_fill(&F, 'm', 40);
	add("IPv4 last fragment", SK_WCTR_frames_ip_fragment);
	fb_reset(&F);
	fb_eth(&F, ET_IPV6);
	fb_ipv6(&F, 8 + 8 + 4, P_FRAGMENT, A6_ACCESS, A6_CORE);
	fb_ext_frag(&F, P_UDP, 0, 1);
	fb_udp(&F, 5060, 5060, 2000);
	fb_fill(&F, 's', 4);
	add("IPv6 first fragment of UDP 5060", SK_WCTR_frames_ip_fragment);
	fb_reset(&F);
	fb_eth(&F, ET_IPV6);
	fb_ipv6(&F, 8 + 8 + 3, P_FRAGMENT, A6_ACCESS, A6_CORE);
	fb_ext_frag(&F, P_UDP, 0, 0);
	fb_udp(&F, 5060, 5060, 8 + 3);
	fb_fill(&F, 's', 3);
	add("IPv6 atomic fragment of UDP 5060 (a whole datagram)", SK_WCTR_frames_sip);
	fb_reset(&F);
	fb_eth(&F, ET_IPV6);
	fb_ipv6(&F, 8 + 16 + 8 + 2, P_HOPOPTS, A6_CORE, A6_ACCESS);
	fb_ext_opts(&F, P_DSTOPTS, 0);
	fb_ext_opts(&F, P_UDP, 1);
	fb_udp(&F, 5060, 6000, 10);
	fb_fill(&F, 'o', 2);
	add("IPv6 hop-by-hop + destination options + UDP 5060", SK_WCTR_frames_sip);

	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "INVITE sip:x SIP/2.0\r\n");
	fb_set16(&F, 14 + 2, 1400);
	add("IPv4 total_length beyond the frame (truncated)", SK_WCTR_frames_l3_malformed);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "INVITE sip:x SIP/2.0\r\n");
	fb_set16(&F, 34 + 4, 4);
	add("UDP 5060 with length 4", SK_WCTR_frames_l3_malformed);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "INVITE sip:x SIP/2.0\r\n");
	F.b[14] = 0x43;
	add("IPv4 IHL 3", SK_WCTR_frames_l3_malformed);
	fb_ipv6_udp(&F, 0, A6_ACCESS, A6_CORE, 5060, 5060, "x");
	F.len = 14 + 30;
	add("IPv6 header truncated to 30 bytes", SK_WCTR_frames_l3_malformed);
}

static struct rte_mbuf *to_mbuf(const struct frame *fr)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty\n");
		abort();
	}
	p = rte_pktmbuf_append(m, (uint16_t)fr->len);
	if (fr->len)
		memcpy(p, fr->bytes, fr->len);
	return m;
}

/* The classification counters: each frame is counted in exactly one of them. */
static const enum sk_worker_counter classes[] = {
	SK_WCTR_frames_non_ip,	    SK_WCTR_frames_l3_malformed, SK_WCTR_frames_ip_other,
	SK_WCTR_frames_ip_fragment, SK_WCTR_frames_udp_other,	 SK_WCTR_frames_sip,
	SK_WCTR_frames_tcp_sip,	    SK_WCTR_frames_tls,
};

/*
 * Only the classification counters are compared: what the SIP and media code
 * counts on top (sip_messages, parse errors, ...) is not the classifier's.
 */
static bool counters_match(const char *when)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < SK_ARRAY_SIZE(classes); i++) {
		int c = classes[i];

		if (w->ctr[c] != expect[c]) {
			printf("#   %s: counter %s = %" PRIu64 ", expected %" PRIu64 "\n", when,
			       sk_worker_counter_names_local(c), w->ctr[c], expect[c]);
			ok = false;
		}
	}
	return ok;
}

/*
 * Send frames IDX[0..n) as one burst from SIDE; check they come back the same
 * mbufs, in order, bytes untouched, and that the counters moved as expected.
 */
static void run_burst(const char *what, enum sk_side side, const unsigned int *idx, uint16_t n)
{
	struct rte_mbuf *pkts[SK_BURST], *out[SK_OUT_MAX];
	struct rte_mbuf *sent[SK_BURST];
	uint16_t i, n_out;
	unsigned int same = 0, intact = 0;
	uint64_t port_before[SK_SIDE_COUNT][SK_PCTR_COUNT];

	memcpy(port_before, w->port_ctr, sizeof(port_before));
	for (i = 0; i < n; i++) {
		pkts[i] = to_mbuf(&frames[idx[i]]);
		sent[i] = pkts[i];
		expect[frames[idx[i]].cls]++;
	}
	memset(out, 0, sizeof(out));
	n_out = sk_worker_process(w, side, pkts, n, out, 1000000000ULL);
	SK_CHECK_EQ(n_out, n, "%s: %u frame(s) in, all out", what, n);
	for (i = 0; i < n_out && i < n; i++) {
		const struct frame *fr = &frames[idx[i]];

		if (out[i] == sent[i])
			same++;
		else
			printf("#   %s: out[%u] is not input frame %u (%s)\n", what, i, i,
			       fr->name);
		if (out[i] != NULL && rte_pktmbuf_pkt_len(out[i]) == fr->len &&
		    out[i]->nb_segs == 1 &&
		    memcmp(rte_pktmbuf_mtod(out[i], void *), fr->bytes, fr->len) == 0)
			intact++;
		else
			printf("#   %s: frame %u (%s) changed\n", what, i, fr->name);
	}
	SK_CHECK(same == n, "%s: frames come out in input order (%u/%u)", what, same, n);
	SK_CHECK(intact == n, "%s: every frame byte-identical (%u/%u)", what, intact, n);
	SK_CHECK(counters_match(what), "%s: classification counters as expected", what);
	SK_CHECK(memcmp(port_before, w->port_ctr, sizeof(port_before)) == 0,
		 "%s: sk_worker_process leaves the port rx/tx counters to its caller", what);
	for (i = 0; i < n_out; i++)
		rte_pktmbuf_free(out[i]);
}

static void check_pool_full(const char *when)
{
	SK_CHECK_EQ(rte_mempool_avail_count(pool), POOL_SIZE,
		    "%s: every mbuf is back in the pool (nothing leaked or kept)", when);
}

static void reset_worker(void)
{
	sk_worker_init(w, &(struct sk_worker_params){.cfg = &cfg, .quit = &quit});
	memset(expect, 0, sizeof(expect));
}

static void test_each_frame(void)
{
	unsigned int i;

	reset_worker();
	for (i = 0; i < n_frames; i++) {
		uint64_t before = w->ctr[frames[i].cls];

		run_burst(frames[i].name, i % 2 ? SK_SIDE_CORE : SK_SIDE_ACCESS, &i, 1);
		SK_CHECK(w->ctr[frames[i].cls] == before + 1, "%s: counted as %s", frames[i].name,
			 sk_worker_counter_names_local(frames[i].cls));
	}
	check_pool_full("one frame at a time");
}

static void test_bursts(void)
{
	unsigned int idx[SK_BURST];
	unsigned int i, round;
	char what[64];

	reset_worker();
	for (round = 0; round < 4; round++) {
		for (i = 0; i < SK_BURST; i++)
			idx[i] = (i * 7 + round * 3) % n_frames;
		snprintf(what, sizeof(what), "full burst %u (%d mixed frames)", round, SK_BURST);
		run_burst(what, round % 2 ? SK_SIDE_CORE : SK_SIDE_ACCESS, idx, SK_BURST);
	}
	for (i = 0; i < 5; i++)
		idx[i] = n_frames - 1 - i;
	run_burst("burst of 5 from core", SK_SIDE_CORE, idx, 5);
	run_burst("empty burst", SK_SIDE_ACCESS, idx, 0);
	check_pool_full("after bursts");
}

static void test_custom_ports(void)
{
	char err[256];
	unsigned int idx[4], i;
	int rc;

	rc = sk_config_set(&cfg, "sip_ports", "5080, 5061", err, sizeof(err));
	SK_CHECK(rc == 0, "sip_ports = 5080, 5061 accepted");
	reset_worker();
	n_frames = 0;
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "REGISTER");
	add("custom ports: UDP 5060->5060 is no longer SIP", SK_WCTR_frames_udp_other);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5061, 5080, "tls-ish");
	add("custom ports: UDP 5061->5080 is SIP", SK_WCTR_frames_sip);
	fb_ipv6_udp(&F, 1, A6_ACCESS, A6_CORE, 40000, 5061, "x");
	add("custom ports: VLAN IPv6 UDP ->5061 is SIP", SK_WCTR_frames_sip);
	fb_ipv4_udp(&F, 0, A4_CORE, A4_ACCESS, 5080, 1024, "y");
	add("custom ports: UDP 5080-> is SIP", SK_WCTR_frames_sip);
	for (i = 0; i < n_frames; i++)
		run_burst(frames[i].name, SK_SIDE_ACCESS, &i, 1);
	for (i = 0; i < 4; i++)
		idx[i] = 3 - i;
	run_burst("custom ports: burst of 4", SK_SIDE_CORE, idx, 4);
	SK_CHECK_EQ(w->ctr[SK_WCTR_frames_sip], 6, "custom ports: 6 SIP frames in all");
	SK_CHECK_EQ(w->ctr[SK_WCTR_frames_udp_other], 2, "custom ports: 2 other UDP frames");
	check_pool_full("custom ports");
	sk_config_defaults(&cfg);
}

/*
 * A 3000-byte SIP datagram in one frame (a jumbo frame, or a capture taken
 * with receive offloads): replay and jumbo-capable ports hand it over as a
 * chain of mbufs. It must come out whole, and be counted as what it is (a UDP
 * frame to a SIP port), not as a frame with broken headers.
 */
static void test_multiseg(void)
{
	struct rte_mbuf *head, *tail, *out[SK_OUT_MAX];
	static uint8_t big[3000], back[3000];
	uint32_t first = 1500, i;
	uint16_t n_out;

	reset_worker();
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, sizeof(big) - 14, 0x4000, P_UDP, A4_ACCESS, A4_CORE);
	fb_udp(&F, 5062, 5060, sizeof(big) - 34);
	memcpy(big, F.b, F.len);
	for (i = F.len; i < sizeof(big); i++)
		big[i] = (uint8_t)('a' + i % 26);

	head = rte_pktmbuf_alloc(pool);
	tail = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(head, (uint16_t)first), big, first);
	memcpy(rte_pktmbuf_append(tail, (uint16_t)(sizeof(big) - first)), big + first,
	       sizeof(big) - first);
	rte_pktmbuf_chain(head, tail);
	n_out = sk_worker_process(w, SK_SIDE_ACCESS, &head, 1, out, 0);
	SK_CHECK_EQ(n_out, 1, "2-segment 3000-byte UDP 5060 frame: forwarded");
	if (n_out == 1) {
		const void *p = rte_pktmbuf_read(out[0], 0, sizeof(big), back);

		SK_CHECK(rte_pktmbuf_pkt_len(out[0]) == sizeof(big) && p != NULL &&
				 memcmp(p, big, sizeof(big)) == 0,
			 "2-segment frame: all 3000 bytes unchanged");
		rte_pktmbuf_free(out[0]);
	}
	SK_CHECK_EQ(w->ctr[SK_WCTR_frames_l3_malformed], 0,
		    "2-segment frame with consistent headers is not counted l3_malformed");
	SK_CHECK_EQ(w->ctr[SK_WCTR_frames_sip], 1, "2-segment UDP 5060 frame counted as SIP");
	check_pool_full("multi-segment frame");
}

/*
 * Send frame I alone from SIDE (run_burst checks it comes out byte-identical
 * and counted in its class) and check whether the fast path took it.
 */
static void fast_one(unsigned int i, enum sk_side side, bool fast)
{
	uint64_t before = w->ctr[SK_WCTR_frames_fast_passed];
	char what[160];

	snprintf(what, sizeof(what), "%s (from %s)", frames[i].name,
		 side == SK_SIDE_CORE ? "core" : "access");
	run_burst(what, side, &i, 1);
	SK_CHECK_EQ(w->ctr[SK_WCTR_frames_fast_passed] - before, fast ? 1 : 0, "%s: %s", what,
		    fast ? "forwarded by the fast path" : "left to the general path");
}

/* The signature the fast path computes is the flow index's (sk_ftab_hash). */
static void test_fast_sig(void)
{
	struct sk_ftab ft = {.b = NULL, .mask = 0};
	unsigned int i, same = 0;
	uint32_t x = 12345;

	for (i = 0; i < 10000; i++) {
		struct sk_addr_key k;
		struct sk_ftab_pos p;
		uint8_t a[4];
		uint16_t port;

		x = x * 1103515245u + 12345u;
		memcpy(a, &x, 4);
		port = (uint16_t)(x >> 7);
		if (i == 0)
			port = 0, memset(a, 0, 4);
		sk_addr_key_set(&k, 4, a, port);
		sk_ftab_hash(&ft, &k, &p);
		same += sk_worker_pass_sig4(a, port) == p.sig;
	}
	SK_CHECK_EQ(same, 10000,
		    "fast path: its IPv4 key signature is sk_ftab_hash's (10000 keys)");
}

/* Without tables (no flow at all): what the fast path takes and what it leaves. */
static void test_fast_classes(void)
{
	static const struct {
		const char *name;
		bool fast;
	} want[] = {
		{"IPv4 UDP 5062->5060 (SIP by destination port)", false},
		{"IPv4 UDP 5060->40000 (SIP by source port)", false},
		{"IPv4 UDP 20000->30000 (RTP)", true},
		{"IPv4 UDP 5061->5080", true},
		{"VLAN IPv4 UDP 5060", false},
		{"IPv6 UDP ->5060", false},
		{"VLAN IPv6 UDP RTP", false},
		{"IPv4 UDP 5060 with Ethernet padding", false},
		{"ARP", true},
		{"VLAN ARP", false},
		{"LLDP", true},
		{"runt: 10 bytes of Ethernet header", false},
		{"IPv4 TCP ->5060", false},
		{"IPv4 TCP ->443", true},
		{"IPv4 ICMP", true},
		{"IPv6 ICMPv6", false},
		{"IPv4 first fragment of UDP 5060", false},
		{"IPv4 last fragment", false},
		{"IPv4 total_length beyond the frame (truncated)", false},
		{"UDP 5060 with length 4", false},
		{"IPv4 IHL 3", false},
	};
	unsigned int i, k, found = 0;

	reset_worker();
	build_frames();
	for (k = 0; k < SK_ARRAY_SIZE(want); k++)
		for (i = 0; i < n_frames; i++)
			if (strcmp(frames[i].name, want[k].name) == 0) {
				fast_one(i, k % 2 ? SK_SIDE_CORE : SK_SIDE_ACCESS, want[k].fast);
				found++;
			}
	SK_CHECK_EQ(found, SK_ARRAY_SIZE(want), "fast path: every listed frame built");

	/* Frames the mix above lacks. */
	n_frames = 0;
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 40, 0x4000, P_TCP, A4_ACCESS, A4_CORE);
	fb_tcp(&F, 40000, 5061);
	add("IPv4 TCP ->5061 (sip_tls_port)", SK_WCTR_frames_tls);
	expect[SK_WCTR_frames_ip_other]++; /* a TLS segment is other IP too */
	fast_one(0, SK_SIDE_ACCESS, true);
	SK_CHECK_EQ(w->ctr[SK_WCTR_frames_tls], 1, "fast path: TLS counted once");
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 5, 40, 0x4000, P_TCP, A4_CORE, A4_ACCESS);
	fb_tcp(&F, 5060, 40000);
	add("IPv4 TCP 5060-> (SIP over TCP, by source port)", SK_WCTR_frames_tcp_sip);
	fast_one(1, SK_SIDE_CORE, false);
	fb_reset(&F);
	fb_eth(&F, ET_IPV4);
	fb_ipv4(&F, 6, 20 + 4 + 8 + 2, 0, P_UDP, A4_ACCESS, A4_CORE); /* options: NOPs */
	fb_udp(&F, 20000, 30000, 10);
	fb_fill(&F, 'r', 2);
	add("IPv4 with options, UDP 20000->30000", SK_WCTR_frames_udp_other);
	fast_one(2, SK_SIDE_ACCESS, false);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5060, 5060, "REGISTER sip:big SIP/2.0\r\n");
	fb_set16(&F, 14 + 6, 0x2000);
	add("IPv4 first fragment, UDP 5060 (MF)", SK_WCTR_frames_ip_fragment);
	fast_one(3, SK_SIDE_ACCESS, false);

	/* A burst of them all, twice over: order kept, counted per burst. */
	{
		unsigned int idx[8] = {0, 1, 2, 0, 2, 1, 0, 0};
		uint64_t before = w->ctr[SK_WCTR_frames_fast_passed];

		expect[SK_WCTR_frames_ip_other] += 4; /* the TLS segments */
		run_burst("fast path: mixed burst", SK_SIDE_ACCESS, idx, 8);
		SK_CHECK_EQ(
			w->ctr[SK_WCTR_frames_fast_passed] - before, 4,
			"fast path: mixed burst: the 4 TLS segments forwarded by the fast path");
	}
	check_pool_full("fast path classes");
}

/* sip_detect = any: UDP on no SIP port goes to the general path, which finds SIP in it. */
static void test_fast_sip_detect(void)
{
	char err[256];

	SK_CHECK(sk_config_set(&cfg, "sip_detect", "any", err, sizeof(err)) == 0,
		 "sip_detect = any accepted");
	reset_worker();
	n_frames = 0;
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 5070, 5070, "OPTIONS sip:a@b SIP/2.0\r\n\r\n");
	add("sip_detect any: UDP 5070 carrying SIP", SK_WCTR_frames_udp_other);
	fast_one(0, SK_SIDE_ACCESS, false);
	SK_CHECK_EQ(w->ctr[SK_WCTR_sip_detected_other_port], 1,
		    "sip_detect any: SIP on port 5070 found (not fast-passed)");
	sk_config_defaults(&cfg);
	check_pool_full("sip_detect any");
}

/*
 * With the flow tables: an IPv4 media flow's frames (downlink to its access
 * key, uplink from it, uplink of a moved endpoint to its core key) go to the
 * general path; UDP to a port of the same address that no flow holds, and the
 * IPv6 flow's frames too (never fast), behave as they must.
 */
static void test_fast_flows(void)
{
	static const uint8_t moved[4] = {10, 9, 9, 9};
	struct sk_tables_writer *tw = calloc(1, sizeof(*tw));
	struct sk_addr_key acc, core, acc6, core6;
	uint32_t idx, idx6;
	int rc = -1;

	cfg.max_streams = 64;
	cfg.max_users = 16;
	cfg.max_dialogs = 16;
	if (tw != NULL)
		rc = sk_tables_create(tw, &cfg, 1);
	SK_CHECK(rc == 0, "tables for 64 streams created");
	if (rc != 0) {
		free(tw);
		sk_config_defaults(&cfg);
		return;
	}
	sk_addr_key_set(&acc, 4, A4_ACCESS, rte_cpu_to_be_16(40000));
	sk_addr_key_set(&core, 4, A4_CORE, rte_cpu_to_be_16(20000));
	sk_addr_key_set(&acc6, 6, A6_ACCESS, rte_cpu_to_be_16(16386));
	sk_addr_key_set(&core6, 6, A6_CORE, rte_cpu_to_be_16(16384));
	idx = sk_flow_alloc(tw);
	idx6 = sk_flow_alloc(tw);
	SK_CHECK(idx != SK_NO_INDEX && idx6 != SK_NO_INDEX, "two flow slots");
	if (idx == SK_NO_INDEX || idx6 == SK_NO_INDEX)
		goto out;
	tw->t.flow[idx].access = acc;
	tw->t.flow[idx].core = core;
	tw->t.flow[idx].kind = SK_FLOW_RTP;
	sk_flow_set_move(tw, idx, NULL);
	tw->t.flow[idx6].access = acc6;
	tw->t.flow[idx6].core = core6;
	tw->t.flow[idx6].kind = SK_FLOW_RTP;
	sk_flow_set_move(tw, idx6, NULL);
	SK_CHECK(sk_flow_publish(tw, idx) == 0 && sk_flow_publish(tw, idx6) == 0,
		 "IPv4 and IPv6 media flows published");

	reset_worker();
	w->tables = &tw->t;
	n_frames = 0;
	fb_ipv4_udp(&F, 0, A4_CORE, A4_ACCESS, 20000, 40000, "\x80\x00downlink");
	add("media flow: downlink to its access key", SK_WCTR_frames_udp_other);
	fast_one(0, SK_SIDE_CORE, false);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 40000, 20000, "\x80\x00uplink");
	add("media flow: uplink from its access key", SK_WCTR_frames_udp_other);
	fast_one(1, SK_SIDE_ACCESS, false);
	fb_ipv4_udp(&F, 0, moved, A4_CORE, 41000, 20000, "\x80\x00moved");
	add("media flow: uplink from elsewhere to its core key", SK_WCTR_frames_udp_other);
	fast_one(2, SK_SIDE_ACCESS, false);
	SK_CHECK_EQ(
		w->ctr[SK_WCTR_latch_refused], 1,
		"media flow: the stranger's uplink reached the core-key lookup (latch_refused)");
	fb_ipv6_udp(&F, 0, A6_CORE, A6_ACCESS, 16384, 16386, "\x80\x00v6");
	add("IPv6 media flow: downlink", SK_WCTR_frames_udp_other);
	fast_one(3, SK_SIDE_CORE, false);
	fb_ipv4_udp(&F, 0, A4_CORE, A4_ACCESS, 20000, 40002, "\x80\x00nobody");
	add("media flow's address, port 40002 (no flow): downlink", SK_WCTR_frames_udp_other);
	fast_one(4, SK_SIDE_CORE, true);
	fb_ipv4_udp(&F, 0, A4_ACCESS, A4_CORE, 40002, 20002, "\x80\x00nobody");
	add("media flow's address, port 40002 (no flow): uplink", SK_WCTR_frames_udp_other);
	fast_one(5, SK_SIDE_ACCESS, true);
	{
		unsigned int b[6] = {4, 0, 4, 3, 4, 4};
		uint64_t before = w->ctr[SK_WCTR_frames_fast_passed];

		run_burst("media flows: mixed burst from core", SK_SIDE_CORE, b, 6);
		SK_CHECK_EQ(w->ctr[SK_WCTR_frames_fast_passed] - before, 4,
			    "media flows: mixed burst: the 4 frames in no flow fast, in order");
	}
	w->tables = NULL;
	check_pool_full("media flows");
out:
	sk_tables_destroy(tw);
	free(tw);
	sk_config_defaults(&cfg);
}

static void test_fastpath(void)
{
	test_fast_sig();
	test_fast_classes();
	test_fast_sip_detect();
	test_fast_flows();
}

int main(int argc, char **argv)
{
	bool multiseg = argc > 1 && strcmp(argv[1], "multiseg") == 0;
	bool fastpath = argc > 1 && strcmp(argv[1], "fastpath") == 0;
	int rc;

	if (sk_test_eal_start(argv[0], "worker") < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("sk_test", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	w = rte_zmalloc("sk_test_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	SK_CHECK(pool != NULL && w != NULL, "EAL up without hugepages; mempool of %d mbufs",
		 POOL_SIZE);
	if (pool == NULL || w == NULL)
		return sk_test_done();
	sk_config_defaults(&cfg);

	if (multiseg) {
		test_multiseg();
	} else if (fastpath) {
		test_fastpath();
	} else {
		build_frames();
		test_each_frame();
		test_bursts();
		test_custom_ports();
	}

	rc = sk_test_done();
	rte_free(w);
	rte_mempool_free(pool);
	sk_test_eal_stop();
	return rc;
}
