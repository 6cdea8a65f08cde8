/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Call-Info rewrite path on one core: the worker's own per-frame code
 * (sk_worker_process: L2-L4 parse, SIP parse, Call-Info policy, in-place
 * removal, IP/UDP length and checksum fixes) over UDP frames carrying Cisco
 * messages with remotecc Call-Info, with callinfo_policy = strip, next to the
 * same frames with callinfo_policy = pass (parse only). Both runs copy each
 * frame back into its mbuf before processing it (the rewrite changes it), so
 * the ratio isolates what the policy costs.
 *
 *   bench_callinfo [SECONDS_PER_RUN]        (EAL: no hugepages, no devices)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "sk_log.h"
#include "sk_worker.h"

#define N_FRAMES 4

static const char *const messages[N_FRAMES] = {
	"INVITE sip:1001@10.1.0.5:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1a2b3c\r\n"
	"From: \"Reception\" <sip:1000@cucm.example.com>;tag=11~22\r\n"
	"To: <sip:1001@cucm.example.com>\r\n"
	"Call-ID: 8a3f2c00-1dd1-11b2-8a11-0050569c1234@192.0.2.10\r\n"
	"CSeq: 101 INVITE\r\n"
	"Call-Info: <urn:x-cisco-remotecc:callinfo>;security= NotAuthenticated;orientation= "
	"to;gci= 1-4711;isVoip;call-instance= 1\r\n"
	"Call-Info: <http://www.example.com/reception.png>;purpose=icon\r\n"
	"Max-Forwards: 70\r\n"
	"Contact: <sip:1000@192.0.2.10:5060;transport=udp>\r\n"
	"Supported: timer,resource-priority,replaces\r\n"
	"Allow: INVITE, OPTIONS, INFO, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, SUBSCRIBE, "
	"NOTIFY\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 183\r\n\r\n"
	"v=0\r\no=CiscoSystemsCCM-SIP 2000 1 IN IP4 192.0.2.10\r\ns=SIP Call\r\n"
	"c=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 8 101\r\n"
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n",
	"SIP/2.0 180 Ringing\r\n"
	"Via: SIP/2.0/UDP 10.1.0.5:5060;branch=z9hG4bK7d8e9f;rport=5060\r\n"
	"From: <sip:1001@cucm.example.com>;tag=a1b2c3\r\n"
	"To: <sip:1002@cucm.example.com>;tag=33~44\r\n"
	"Call-ID: 00505699-12340001-0a0b0c0d@10.1.0.5\r\n"
	"CSeq: 102 INVITE\r\n"
	"Call-Info: <urn:x-cisco-remotecc:callinfo>;security= Unknown;orientation= from;gci= "
	"1-4712;isVoip;call-instance= 1\r\n"
	"Contact: <sip:1002@192.0.2.10:5060>\r\n"
	"Content-Length: 0\r\n\r\n",
	"UPDATE sip:1001@10.1.0.5:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK9f8e7d\r\n"
	"From: <sip:1000@cucm.example.com>;tag=11~22\r\n"
	"To: <sip:1001@cucm.example.com>;tag=a1b2c3\r\n"
	"Call-ID: 8a3f2c00-1dd1-11b2-8a11-0050569c1234@192.0.2.10\r\n"
	"CSeq: 103 UPDATE\r\n"
	"Call-Info: <http://www.example.com/x>;purpose=info, "
	"<urn:x-cisco-remotecc:callinfo>;security= NotAuthenticated;\r\n"
	" orientation= to;gci= 1-4711, <http://www.example.com/y.png>;purpose=icon\r\n"
	"Content-Length: 0\r\n\r\n",
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 10.1.0.5:5060;branch=z9hG4bK7d8e9f;rport=5060\r\n"
	"From: <sip:1001@cucm.example.com>;tag=a1b2c3\r\n"
	"To: <sip:1002@cucm.example.com>;tag=33~44\r\n"
	"Call-ID: 00505699-12340001-0a0b0c0d@10.1.0.5\r\n"
	"CSeq: 102 INVITE\r\n"
	"Call-Info: <urn:x-cisco-remotecc:callinfo>;security= Unknown;orientation= from\r\n"
	"Contact: <sip:1002@192.0.2.10:5060>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 96\r\n\r\n"
	"v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
	"m=audio 20002 RTP/AVP 0\r\n",
};

struct frame {
	uint8_t bytes[2048];
	uint16_t len;
};

/* An Ethernet/IPv4/UDP frame from core (UCM) to the phone carrying MSG. */
static void build(struct frame *f, const char *msg)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f->bytes;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	size_t n = strlen(msg);

	memset(f, 0, sizeof(*f));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0xc000020a); /* 192.0.2.10 */
	ip->dst_addr = rte_cpu_to_be_32(0x0a010005); /* 10.1.0.5 */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + n));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = udp->dst_port = rte_cpu_to_be_16(5060);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + n));
	memcpy(udp + 1, msg, n);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	f->len = (uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + n);
}

struct result {
	double mps;
	double cycles;
	uint64_t removed;
};

static struct result run(struct sk_worker *w, struct sk_config *cfg, enum sk_callinfo_policy p,
			 const struct frame *frames, struct rte_mempool *pool, double seconds)
{
	struct rte_mbuf *m[N_FRAMES], *out[SK_OUT_MAX];
	uint64_t hz = rte_get_tsc_hz(), start, end, n = 0, removed0;
	struct result r;
	unsigned int i;

	cfg->callinfo_policy = p;
	removed0 = w->ctr[SK_WCTR_callinfo_removed];
	start = rte_rdtsc();
	end = start + (uint64_t)(seconds * (double)hz);
	while (rte_rdtsc() < end) {
		for (i = 0; i < 256; i++) {
			unsigned int k = i % N_FRAMES;
			uint16_t n_out;

			m[k] = rte_pktmbuf_alloc(pool);
			memcpy(rte_pktmbuf_append(m[k], frames[k].len), frames[k].bytes,
			       frames[k].len);
			n_out = sk_worker_process(w, SK_SIDE_CORE, &m[k], 1, out, 0);
			rte_pktmbuf_free_bulk(out, n_out);
		}
		n += 256;
	}
	r.cycles = (double)(rte_rdtsc() - start) / (double)n;
	r.mps = (double)hz / r.cycles;
	r.removed = w->ctr[SK_WCTR_callinfo_removed] - removed0;
	return r;
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
			    "256",
			    "--log-level=lib.eal:error",
			    "--file-prefix",
			    prefix};
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	static struct frame frames[N_FRAMES];
	struct rte_mempool *pool;
	struct sk_worker *w;
	struct sk_config cfg;
	struct result pass[2], strip[2];
	bool quit = false;
	int i;

	snprintf(prefix, sizeof(prefix), "bench-callinfo-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "bench_callinfo: EAL init failed\n");
		return 1;
	}
	rte_log_set_level(sk_logtype, RTE_LOG_WARNING);
	pool = rte_pktmbuf_pool_create("bench", 1023, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	w = rte_zmalloc("worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (pool == NULL || w == NULL) {
		fprintf(stderr, "bench_callinfo: out of memory\n");
		return 1;
	}
	sk_config_defaults(&cfg);
	sk_worker_init(w, &(struct sk_worker_params){.cfg = &cfg, .quit = &quit});
	for (i = 0; i < N_FRAMES; i++)
		build(&frames[i], messages[i]);

	/* Alternate the two, twice: a noisy machine affects both alike. */
	for (i = 0; i < 2; i++) {
		pass[i] = run(w, &cfg, SK_CALLINFO_PASS, frames, pool, seconds);
		strip[i] = run(w, &cfg, SK_CALLINFO_STRIP, frames, pool, seconds);
	}
	if (strip[0].removed == 0 || pass[0].removed != 0) {
		fprintf(stderr, "bench_callinfo: the policy did not act as expected\n");
		return 1;
	}
	printf("Call-Info rewrite path, one core, %d Cisco messages (INVITE, 180, UPDATE, 200),"
	       " frames from core, %.1f s per run\n",
	       N_FRAMES, seconds);
	printf("%-34s %12s %14s\n", "", "msgs/s", "cycles/msg");
	for (i = 0; i < 2; i++) {
		printf("run %d  parse only (policy pass)       %12.0f %14.0f\n", i + 1, pass[i].mps,
		       pass[i].cycles);
		printf("run %d  parse + strip + checksums       %12.0f %14.0f   (%" PRIu64
		       " values removed)\n",
		       i + 1, strip[i].mps, strip[i].cycles, strip[i].removed);
	}
	printf("rewrite path / parse only: %.2f (best runs)\n",
	       RTE_MAX(strip[0].mps, strip[1].mps) / RTE_MAX(pass[0].mps, pass[1].mps));
	rte_free(w);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
