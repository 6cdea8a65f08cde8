/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser benchmark: the same corpus of Cisco-like SIP messages parsed by
 * sipkeep, libosip2 and sofia-sip on one core, plus the two places where
 * Hyperscan was a candidate (SIP detection, header location), each against
 * its hand-written counterpart.
 *
 *   bench_parse [-t SECONDS] [-m] [CORPUS_DIR]
 *
 * -m adds a per-message table of the sipkeep parse alone: SIP (sk_sip_parse)
 * and SDP (sk_sip_find_sdp + sk_sdp_parse) separately.
 *
 * libosip2 and sofia-sip declare clashing sdp_* types, so each lives in its
 * own file (bench_osip.c, bench_sofia.c).
 *
 * Run through bench/run_parse.sh, which preloads jemalloc so the two
 * allocating parsers get a fast allocator too.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include <hs.h>

#include "sdp_parse.h"
#include "sip_detect.h"
#include "sip_parse.h"

#ifndef BENCH_CORPUS_DIR
#define BENCH_CORPUS_DIR "bench/corpus"
#endif

#include "bench_parse.h"

#define MAX_MSGS 64

static struct msgbuf msgs[MAX_MSGS];
static size_t n_msgs;
static volatile uint64_t sink;

/*
 * Thread CPU time, not wall time: the figures stay meaningful on a shared
 * machine where another process may take the core for a while.
 */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t tsc(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return 0;
#endif
}

/* TSC ticks per ns, so CPU time converts to cycles (0 without a TSC). */
static double tsc_per_ns(void)
{
	uint64_t w0 = wall_ns(), c0 = tsc(), w1;

	do
		w1 = wall_ns();
	while (w1 - w0 < 200000000u);
	return (double)(tsc() - c0) / (double)(w1 - w0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct msgbuf *)a)->name, ((const struct msgbuf *)b)->name);
}

static void load_corpus(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		fprintf(stderr, "bench_parse: cannot open corpus %s\n", dir);
		exit(2);
	}
	while ((de = readdir(d)) != NULL && n_msgs < MAX_MSGS) {
		char path[4096];
		size_t nl = strlen(de->d_name);
		struct msgbuf *mb = &msgs[n_msgs];
		FILE *f;
		long sz;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".sip") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		fseek(f, 0, SEEK_SET);
		mb->buf = malloc((size_t)sz + 1);
		if (mb->buf == NULL || fread(mb->buf, 1, (size_t)sz, f) != (size_t)sz) {
			fclose(f);
			exit(2);
		}
		fclose(f);
		mb->buf[sz] = '\0';
		mb->len = (size_t)sz;
		snprintf(mb->name, sizeof(mb->name), "%.*s", (int)(nl - 4), de->d_name);
		n_msgs++;
	}
	closedir(d);
	qsort(msgs, n_msgs, sizeof(msgs[0]), by_name);
	if (n_msgs == 0) {
		fprintf(stderr, "bench_parse: no .sip files in %s\n", dir);
		exit(2);
	}
}

/* --- the three parsers, each doing the same job: SIP headers, URIs, SDP --- */

/* sipkeep: every field sk_sip_parse() extracts, plus SDP when the body has one */
static uint64_t parse_sipkeep(const struct msgbuf *mb)
{
	struct sk_sip_msg m;
	struct sk_span s;
	uint64_t acc;

	if (sk_sip_parse(mb->buf, mb->len, &m) != SK_SIP_OK)
		abort();
	acc = m.cseq + m.n_via + m.supported + m.call_id.len + m.from.tag.len;
	if (sk_sip_find_sdp(mb->buf, &m, &s)) {
		struct sk_sdp sdp;

		if (sk_sdp_parse(mb->buf, s, &sdp) != SK_SDP_OK)
			abort();
		acc += sdp.n_media + sdp.media[0].port;
	}
	return acc;
}

/* the same, plus the URI helper on From, To and every Contact (as libosip2 and
 * sofia-sip split those URIs into user/host/port during their parse) */
static uint64_t parse_sipkeep_uris(const struct msgbuf *mb)
{
	struct sk_sip_msg m;
	struct sk_sip_uri u;
	struct sk_span s;
	uint64_t acc;

	if (sk_sip_parse(mb->buf, mb->len, &m) != SK_SIP_OK)
		abort();
	acc = m.cseq + m.n_via + m.supported + m.call_id.len + m.from.tag.len;
	if (sk_sip_uri_parse_in(mb->buf, mb->len, m.from.uri, &u) == 0)
		acc += u.host.len;
	if (sk_sip_uri_parse_in(mb->buf, mb->len, m.to.uri, &u) == 0)
		acc += u.host.len;
	for (unsigned i = 0; i < m.n_contact; i++)
		if (sk_sip_uri_parse_in(mb->buf, mb->len, m.contact[i].uri, &u) == 0)
			acc += u.port;
	if (sk_sip_find_sdp(mb->buf, &m, &s)) {
		struct sk_sdp sdp;

		if (sk_sdp_parse(mb->buf, s, &sdp) != SK_SDP_OK)
			abort();
		acc += sdp.n_media + sdp.media[0].port;
	}
	return acc;
}

/* --- Hyperscan candidates --- */

static hs_database_t *detect_db, *locate_db;
static hs_scratch_t *detect_scratch, *locate_scratch;

static int hs_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(int *)ctx = 1;
	return 1;
}

static int hs_locate_hit(unsigned id, unsigned long long from, unsigned long long to,
			 unsigned flags, void *ctx)
{
	(void)from;
	(void)flags;
	((uint32_t *)ctx)[id & 15] = (uint32_t)to;
	return 0;
}

static void compile_hs(void)
{
	static const char *const detect[] = {
		"^(?:INVITE|ACK|BYE|CANCEL|REGISTER|OPTIONS|PRACK|UPDATE|INFO|SUBSCRIBE|NOTIFY|"
		"REFER|MESSAGE|PUBLISH) \\S+ SIP/2\\.0\\r?\\n",
		"^SIP/2\\.0 [1-6]\\d\\d ",
	};
	static const unsigned dflags[] = {HS_FLAG_SINGLEMATCH, HS_FLAG_SINGLEMATCH};
	static const unsigned dids[] = {0, 1};
	/* the headers sk_sip_parse tokenises, long and compact names */
	static const char *const locate[] = {
		"^(?:via|v)[ \\t]*:",
		"^(?:from|f)[ \\t]*:",
		"^(?:to|t)[ \\t]*:",
		"^(?:call-id|i)[ \\t]*:",
		"^cseq[ \\t]*:",
		"^(?:contact|m)[ \\t]*:",
		"^expires[ \\t]*:",
		"^(?:content-length|l)[ \\t]*:",
		"^(?:content-type|c)[ \\t]*:",
		"^(?:supported|k)[ \\t]*:",
		"^require[ \\t]*:",
		"^call-info[ \\t]*:",
		"^user-agent[ \\t]*:",
	};
	unsigned lflags[13], lids[13];
	hs_compile_error_t *err;

	for (unsigned i = 0; i < 13; i++) {
		lflags[i] = HS_FLAG_CASELESS | HS_FLAG_MULTILINE;
		lids[i] = i;
	}
	if (hs_compile_multi(detect, dflags, dids, 2, HS_MODE_BLOCK, NULL, &detect_db, &err) ||
	    hs_compile_multi(locate, lflags, lids, 13, HS_MODE_BLOCK, NULL, &locate_db, &err) ||
	    hs_alloc_scratch(detect_db, &detect_scratch) ||
	    hs_alloc_scratch(locate_db, &locate_scratch)) {
		fprintf(stderr, "hyperscan compile failed\n");
		exit(2);
	}
}

/* Hand-written locator: the same line walk sk_sip_parse does, with no field parsing. */
static uint64_t locate_hand(const struct msgbuf *mb)
{
	const char *p = mb->buf, *e = p + mb->hdr_len, *nl;
	uint32_t found[16] = {0};

	nl = memchr(p, '\n', (size_t)(e - p));
	p = nl + 1;
	while (p < e && *p != '\r' && *p != '\n') {
		const char *n = p;
		size_t len;
		int id = -1;

		while (p < e && *p != ':' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - n);
		switch (len) {
		case 1:
			switch (n[0] | 0x20) {
			case 'v':
				id = 0;
				break;
			case 'f':
				id = 1;
				break;
			case 't':
				id = 2;
				break;
			case 'i':
				id = 3;
				break;
			case 'm':
				id = 5;
				break;
			case 'l':
				id = 7;
				break;
			case 'c':
				id = 8;
				break;
			case 'k':
				id = 9;
				break;
			}
			break;
		case 2:
			id = strncasecmp(n, "to", 2) ? -1 : 2;
			break;
		case 3:
			id = strncasecmp(n, "via", 3) ? -1 : 0;
			break;
		case 4:
			id = !strncasecmp(n, "from", 4) ? 1 : !strncasecmp(n, "cseq", 4) ? 4 : -1;
			break;
		case 7:
			id = !strncasecmp(n, "call-id", 7)   ? 3
			     : !strncasecmp(n, "contact", 7) ? 5
			     : !strncasecmp(n, "expires", 7) ? 6
			     : !strncasecmp(n, "require", 7) ? 10
							     : -1;
			break;
		case 9:
			id = !strncasecmp(n, "supported", 9)   ? 9
			     : !strncasecmp(n, "call-info", 9) ? 11
							       : -1;
			break;
		case 10:
			id = strncasecmp(n, "user-agent", 10) ? -1 : 12;
			break;
		case 12:
			id = strncasecmp(n, "content-type", 12) ? -1 : 8;
			break;
		case 14:
			id = strncasecmp(n, "content-length", 14) ? -1 : 7;
			break;
		}
		if (id >= 0)
			found[id] = (uint32_t)(p - mb->buf);
		nl = memchr(p, '\n', (size_t)(e - p));
		while (nl != NULL && nl + 1 < e && (nl[1] == ' ' || nl[1] == '\t'))
			nl = memchr(nl + 1, '\n', (size_t)(e - nl - 1));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return found[0] + found[4] + found[7];
}

static uint64_t locate_hs(const struct msgbuf *mb)
{
	uint32_t found[16] = {0};

	hs_scan(locate_db, mb->buf, (unsigned)mb->hdr_len, 0, locate_scratch, hs_locate_hit, found);
	return found[0] + found[4] + found[7];
}

/* detection runs on SIP and non-SIP (RTP) payloads alike */
static struct msgbuf rtp[MAX_MSGS];

static uint64_t detect_hand(const struct msgbuf *mb)
{
	return sk_sip_detect(mb->buf, mb->len);
}

static uint64_t detect_hs(const struct msgbuf *mb)
{
	int hit = 0;

	hs_scan(detect_db, mb->buf, (unsigned)mb->len, 0, detect_scratch, hs_hit, &hit);
	return (uint64_t)hit;
}

struct result {
	double ns;
	double cycles;
};

/* per-message table: SIP alone, and SDP alone on an already parsed message */
static struct sk_sip_msg msg_parsed[MAX_MSGS];

static uint64_t sip_only(const struct msgbuf *mb)
{
	struct sk_sip_msg m;

	if (sk_sip_parse(mb->buf, mb->len, &m) != SK_SIP_OK)
		abort();
	return m.cseq + m.n_via + m.supported + m.call_id.len + m.from.tag.len;
}

static uint64_t sdp_only(const struct msgbuf *mb)
{
	const struct sk_sip_msg *m = &msg_parsed[mb - msgs];
	struct sk_span s;
	struct sk_sdp sdp;

	if (!sk_sip_find_sdp(mb->buf, m, &s) || sk_sdp_parse(mb->buf, s, &sdp) != SK_SDP_OK)
		abort();
	return sdp.n_media + sdp.media[0].port;
}

static double ghz;

/* Best of 5 runs of at least min_s CPU seconds each, over set[0..n). */
static struct result measure(uint64_t (*fn)(const struct msgbuf *), const struct msgbuf *set,
			     size_t n, double min_s)
{
	struct result best = {1e30, 1e30};

	for (unsigned i = 0; i < n; i++) /* warm caches and allocator */
		sink += fn(&set[i]);
	for (int rep = 0; rep < 5; rep++) {
		uint64_t t0 = cpu_ns(), t1, count = 0;

		do {
			for (int k = 0; k < 64; k++)
				for (size_t i = 0; i < n; i++)
					sink += fn(&set[i]);
			count += 64 * n;
			t1 = cpu_ns();
		} while ((double)(t1 - t0) < min_s * 1e9);
		if ((double)(t1 - t0) / (double)count < best.ns)
			best.ns = (double)(t1 - t0) / (double)count;
	}
	best.cycles = best.ns * ghz;
	return best;
}

static void row(const char *name, struct result r, double base)
{
	printf("  %-22s %10.1f %12.0f %14.0f %9.1fx\n", name, r.ns, r.cycles, 1e9 / r.ns,
	       r.ns / base);
}

int main(int argc, char **argv)
{
	const char *dir = BENCH_CORPUS_DIR;
	double min_s = 1.0, bytes = 0;
	int per_msg = 0;
	struct result sk, sku, os, so, dh, dhs, lh, lhs;
	size_t n_sdp = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			min_s = atof(argv[++i]);
		else if (strcmp(argv[i], "-m") == 0)
			per_msg = 1;
		else
			dir = argv[i];
	}
	load_corpus(dir);
	ghz = tsc_per_ns();
	bench_osip_init();
	compile_hs();
	for (size_t i = 0; i < n_msgs; i++) {
		struct sk_sip_msg m;
		struct sk_span s;
		enum sk_sip_err e = sk_sip_parse(msgs[i].buf, msgs[i].len, &m);

		if (e != SK_SIP_OK) {
			fprintf(stderr, "%s: sipkeep: %s\n", msgs[i].name, sk_sip_err_str(e));
			return 1;
		}
		msgs[i].hdr_len = m.hdr_end;
		n_sdp += sk_sip_find_sdp(msgs[i].buf, &m, &s);
		bytes += (double)msgs[i].len;
		/* every parser must accept every message, or the race is void */
		(void)parse_osip(&msgs[i]);
		(void)parse_sofia(&msgs[i]);
		/* an RTP-sized non-SIP payload per SIP message for the detection test */
		rtp[i].len = 172;
		rtp[i].buf = malloc(rtp[i].len + 1);
		for (size_t k = 0; k < rtp[i].len; k++)
			rtp[i].buf[k] = (char)((k * 131u + i * 17u) & 0xff);
		rtp[i].buf[0] = (char)0x80;
		rtp[i].buf[1] = 0x00;
	}
	memcpy(&rtp[n_msgs], msgs, n_msgs * sizeof(msgs[0])); /* half SIP, half RTP */

	printf("sipkeep parser benchmark: %zu messages (%zu with SDP), avg %.0f bytes, one core,\n"
	       "best of 5 runs of >= %.1f s of thread CPU time each. Columns: ns/msg, cycles/msg\n"
	       "(CPU time x TSC rate %.2f GHz), msgs/s, x sipkeep.\n\n",
	       n_msgs, n_sdp, bytes / (double)n_msgs, min_s, ghz);
	printf("full parse (SIP start line + all headers + SDP; sipkeep tokenises the fields\n"
	       "listed in docs/PARSER.md, the others parse every header they know):\n");
	sk = measure(parse_sipkeep, msgs, n_msgs, min_s);
	row("sipkeep", sk, sk.ns);
	sku = measure(parse_sipkeep_uris, msgs, n_msgs, min_s);
	row("sipkeep + URI helper", sku, sk.ns);
	os = measure(parse_osip, msgs, n_msgs, min_s);
	row("libosip2", os, sk.ns);
	so = measure(parse_sofia, msgs, n_msgs, min_s);
	row("sofia-sip", so, sk.ns);
	printf("  libosip2/sipkeep = %.1fx (goal >= 20x), sofia-sip/sipkeep = %.1fx (goal >= "
	       "10x)\n",
	       os.ns / sk.ns, so.ns / sk.ns);
	printf("  with URI helper:  libosip2 %.1fx, sofia-sip %.1fx\n\n", os.ns / sku.ns,
	       so.ns / sku.ns);

	if (per_msg) {
		printf("sipkeep per message (ns; lines up to the empty one included; SDP =\n"
		       "sk_sip_find_sdp + sk_sdp_parse on the parsed message):\n");
		printf("  %-22s %6s %6s %8s %8s\n", "message", "bytes", "lines", "SIP", "SDP");
		for (size_t i = 0; i < n_msgs; i++) {
			struct sk_span sp;
			struct result r = measure(sip_only, &msgs[i], 1, min_s / 4);
			unsigned lines = 0;

			(void)sk_sip_parse(msgs[i].buf, msgs[i].len, &msg_parsed[i]);
			for (size_t k = 0; k < msgs[i].hdr_len; k++)
				lines += msgs[i].buf[k] == '\n';
			printf("  %-22s %6zu %6u %8.0f", msgs[i].name, msgs[i].len, lines, r.ns);
			if (sk_sip_find_sdp(msgs[i].buf, &msg_parsed[i], &sp))
				printf(" %8.0f\n", measure(sdp_only, &msgs[i], 1, min_s / 4).ns);
			else
				printf("\n");
		}
		printf("\n");
	}

	printf("SIP detection on non-SIP ports (per payload, %zu SIP + %zu RTP):\n", n_msgs,
	       n_msgs);
	dh = measure(detect_hand, rtp, 2 * n_msgs, min_s);
	row("hand-written", dh, dh.ns);
	dhs = measure(detect_hs, rtp, 2 * n_msgs, min_s);
	row("hyperscan", dhs, dh.ns);
	printf("  kept: %s\n\n", dh.ns <= dhs.ns ? "hand-written (sk_sip_detect)" : "HYPERSCAN?!");

	printf("header location (13 header names, long + compact, per message):\n");
	lh = measure(locate_hand, msgs, n_msgs, min_s);
	row("hand-written", lh, lh.ns);
	lhs = measure(locate_hs, msgs, n_msgs, min_s);
	row("hyperscan", lhs, lh.ns);
	printf("  kept: %s (the full sipkeep parse above costs %.0f ns)\n",
	       lh.ns <= lhs.ns ? "hand-written line walk" : "HYPERSCAN?!", sk.ns);
	return sink == 42 ? 1 : 0;
}
