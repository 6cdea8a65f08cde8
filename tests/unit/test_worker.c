/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's per-burst work (sk_worker_process) on frames built in mbufs:
 * every frame comes out unchanged and in order, and the classification
 * counters say SIP / other UDP / non-IP / fragment / malformed / ip_other.
 * Runs a real EAL without hugepages, devices or shared config.
 *
 *   test_worker            classification and pass-through
 *   test_worker multiseg   a frame chained over two mbufs (headers in the first)
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

int main(int argc, char **argv)
{
	bool multiseg = argc > 1 && strcmp(argv[1], "multiseg") == 0;
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
