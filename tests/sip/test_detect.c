/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP detection (hand-written, checked against the reference regex compiled
 * with Hyperscan) and the scanner signature matcher (whole User-Agent
 * product names, one set shared by threads).
 */
#include <pthread.h>
#include <stdint.h>

#include <hs.h>

#include "sip_detect.h"
#include "sip_fixture.h"

static struct tbuf tb;

static bool D(const char *s)
{
	tbuf_set(&tb, s, strlen(s));
	return sk_sip_detect(tb.buf, tb.len);
}

static void detect_positive(void)
{
	static const char *const m[] = {"INVITE",  "ACK",   "BYE",     "CANCEL", "REGISTER",
					"OPTIONS", "PRACK", "UPDATE",  "INFO",	 "SUBSCRIBE",
					"NOTIFY",  "REFER", "MESSAGE", "PUBLISH"};
	char line[128];

	for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(line, sizeof(line), "%s sip:bob@example.com SIP/2.0\r\nVia: x\r\n", m[i]);
		SK_CHECK(D(line), "%s", line);
		snprintf(line, sizeof(line), "%s sip:b SIP/2.0\n", m[i]);
		SK_CHECK(D(line), "%s (LF)", line);
	}
	SK_CHECK(D("SIP/2.0 200 OK\r\n"), "200");
	SK_CHECK(D("SIP/2.0 100 "), "100, nothing after");
	SK_CHECK(D("SIP/2.0 699 x"), "699");
}

static void detect_negative(void)
{
	static const char *const neg[] = {
		"",
		"INVITE",
		"SIP/2.0 200",
		"SIP/2.0 700 X\r\n",
		"SIP/2.0 099 X\r\n",
		"SIP/2.0 2000 X\r\n",
		"SIP/2.0 200OK\r\n",
		"SIP/3.0 200 OK\r\n",
		"FOO sip:b@x SIP/2.0\r\n",
		"invite sip:b@x SIP/2.0\r\n",
		"INVITE  sip:b@x SIP/2.0\r\n",
		"INVITE sip:b@x  SIP/2.0\r\n",
		"INVITE sip:b@x SIP/2.0 \r\n",
		"INVITE sip:b@x SIP/2.0",
		"INVITE sip:b@x SIP/2.0\r",
		"INVITE sip:b@x SIP/2.1\r\n",
		"INVITE sip:b@x\r\n SIP/2.0\r\n",
		"INVITE\tsip:b@x SIP/2.0\r\n",
		"GET / HTTP/1.1\r\n",
		"\x80\x08\x12\x34\x00\x00\x00\xa0\xde\xad\xbe\xef payload",
	};

	for (unsigned i = 0; i < sizeof(neg) / sizeof(neg[0]); i++)
		SK_CHECK(!D(neg[i]), "detected \"%s\"", neg[i]);
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(int *)ctx = 1;
	return 1;
}

/* The same decision as the reference regex, on many generated inputs. */
static void detect_matches_regex(void)
{
	static const char *const pats[] = {
		"^(?:INVITE|ACK|BYE|CANCEL|REGISTER|OPTIONS|PRACK|UPDATE|INFO|SUBSCRIBE|NOTIFY|"
		"REFER|MESSAGE|PUBLISH) \\S+ SIP/2\\.0\\r?\\n",
		"^SIP/2\\.0 [1-6]\\d\\d ",
	};
	static const unsigned flags[] = {HS_FLAG_SINGLEMATCH, HS_FLAG_SINGLEMATCH};
	static const unsigned ids[] = {0, 1};
	static const char *const seeds[] = {
		"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n",
		"SIP/2.0 180 Ringing\r\n",
		"REGISTER sips:[2001:db8::1]:5061 SIP/2.0\n",
		"SUBSCRIBE x SIP/2.0\r\n",
	};
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *cerr = NULL;
	uint64_t rng = 42;
	char buf[96];
	int mismatches = 0, n = 0, positives = 0;

	SK_CHECK(hs_compile_multi(pats, flags, ids, 2, HS_MODE_BLOCK, NULL, &db, &cerr) ==
			 HS_SUCCESS,
		 "compile");
	if (db == NULL)
		return;
	SK_CHECK(hs_alloc_scratch(db, &scratch) == HS_SUCCESS, "scratch");
	for (int round = 0; round < 200000; round++) {
		const char *seed = seeds[round % 4];
		size_t len = strlen(seed);
		int hit = 0;

		memcpy(buf, seed, len);
		/* mutate 1-3 bytes with bytes that matter to the grammar */
		for (int k = (int)(rng % 3) + 1; k > 0; k--) {
			static const char alphabet[] = " \t\r\nSIP/2.0Ax\x80\x00";

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[(rng >> 33) % len] = alphabet[(rng >> 17) % (sizeof(alphabet) - 1)];
		}
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((rng >> 40) % 4 == 0)
			len = (size_t)((rng >> 20) % (len + 1));
		tbuf_set(&tb, buf, len);
		hit = 0;
		hs_scan(db, tb.buf, (unsigned)tb.len, 0, scratch, on_hit, &hit);
		n++;
		positives += hit;
		if (hit != (int)sk_sip_detect(tb.buf, tb.len)) {
			if (mismatches++ < 5)
				fprintf(stderr, "  mismatch (regex %d) on \"%.*s\"\n", hit,
					(int)tb.len, tb.buf);
		}
	}
	SK_CHECK(mismatches == 0, "%d of %d inputs disagree with the regex", mismatches, n);
	printf("     %d generated inputs, %d SIP per the regex, all agree: %s\n", n, positives,
	       mismatches ? "no" : "yes");
	hs_free_scratch(scratch);
	hs_free_database(db);
}

static struct sk_sip_msg msg;

static enum sk_sip_err P(const char *ua, const char *from)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "OPTIONS sip:100@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP "
		 "1.2.3.4:5060;branch=z9hG4bK1\r\n"
		 "From: %s;tag=1\r\nTo: <sip:100@10.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
		 "%s%s%sContent-Length: 0\r\n\r\n",
		 from, ua ? "User-Agent: " : "", ua ? ua : "", ua ? "\r\n" : "");
	tbuf_set(&tb, text, strlen(text));
	return sk_sip_parse(tb.buf, tb.len, &msg);
}

static struct sk_scanner *compile_defaults(void)
{
	char err[256] = "";
	size_t n = 0;
	struct sk_scanner *sc;

	while (sk_scanner_default_sigs[n] != NULL)
		n++;
	sc = sk_scanner_compile(sk_scanner_default_sigs, n, err, sizeof(err));
	SK_CHECK(sc != NULL, "compile defaults: %s", err);
	if (sc != NULL)
		SK_CHECK_EQ(sk_scanner_count(sc), n, "%s", __func__);
	return sc;
}

#define UA(sc, text) sk_scanner_match_ua(sc, text, strlen(text))

static void scanner_defaults(void)
{
	struct sk_scanner *sc = compile_defaults();

	if (sc == NULL)
		return;
	/* What the tools send. */
	SK_CHECK_EQ(P("friendly-scanner", "<sip:100@1.1.1.1>"), SK_SIP_OK, "%s", __func__);
	SK_CHECK(sk_scanner_match(sc, tb.buf, &msg), "friendly-scanner UA");
	SK_CHECK_EQ(sk_scanner_match_sig(sc, tb.buf, &msg), 0, "%s", __func__);
	SK_CHECK(UA(sc, "SIPVicious 0.3.4") >= 0, "product names match caselessly");
	SK_CHECK(UA(sc, "sipcli/v1.8") >= 0, "sipcli/v1.8: product name before the version");
	SK_CHECK(UA(sc, "VaxSIPUserAgent/3.1") >= 0, "VaxSIPUserAgent/3.1");
	SK_CHECK(UA(sc, "pplsip") >= 0 && UA(sc, "sundayddr") >= 0 && UA(sc, "iWar") >= 0,
		 "pplsip, sundayddr, iWar");
	SK_CHECK(UA(sc, "Linphone/5.0 (Linux) friendly-scanner") >= 0,
		 "a scanner's product token after others");
	/* Real users: whole tokens only, never substrings. */
	SK_CHECK(UA(sc, "Acme SIPClient/2.1") < 0, "Acme SIPClient/2.1 is not sipcli");
	SK_CHECK(UA(sc, "Rajesh Tiwari") < 0, "Tiwari is not iWar");
	SK_CHECK(UA(sc, "iWarp/1.0") < 0 && UA(sc, "my-sipvicious-test") < 0,
		 "a longer token containing a signature does not match");
	SK_CHECK(UA(sc, "Phone/1.0 (tested against sipvicious)") < 0,
		 "words in a comment are not products");
	SK_CHECK(UA(sc, "Phone/1.0 (a (nested \\) sipcli) x") < 0, "nested comments, quoted pairs");
	SK_CHECK(UA(sc, "Phone/sipcli") < 0, "a product version is not a product name");
	SK_CHECK(UA(sc, "") < 0 && UA(sc, "(") < 0 && UA(sc, "/") < 0, "empty and broken values");
	/* The From display name is never looked at. */
	SK_CHECK_EQ(P(NULL, "\"sipvicious\"<sip:100@1.1.1.1>"), SK_SIP_OK, "%s", __func__);
	SK_CHECK(!sk_scanner_match(sc, tb.buf, &msg), "From display name is not matched");
	SK_CHECK_EQ(P("Cisco-CP8865/14.1.1", "\"Rajesh Tiwari\" <sip:1001@cucm.example.com>"),
		    SK_SIP_OK, "%s", __func__);
	SK_CHECK(!sk_scanner_match(sc, tb.buf, &msg), "Cisco phone is not a scanner");
	SK_CHECK_EQ(P(NULL, "<sip:1001@cucm.example.com>"), SK_SIP_OK, "%s", __func__);
	SK_CHECK(!sk_scanner_match(sc, tb.buf, &msg), "no UA at all");
	sk_scanner_free(sc);
}

static void scanner_custom_and_errors(void)
{
	const char *sigs[] = {"evil-agent", "x.y", "EVIL-agent"};
	const char *bad[] = {"ok", "x(y"};
	const char *spaced[] = {"two words"};
	const char *empty[] = {""};
	char err[256] = "";
	struct sk_scanner *sc = sk_scanner_compile(sigs, 3, err, sizeof(err));

	SK_CHECK(sc != NULL, "token signatures compile: %s", err);
	if (sc == NULL)
		return;
	SK_CHECK_EQ(UA(sc, "my x.y/2 phone"), 1, "%s", __func__);
	SK_CHECK_EQ(UA(sc, "xy"), -1, "%s", __func__);
	SK_CHECK_EQ(P("EVIL-AGENT", "<sip:a@b>"), SK_SIP_OK, "%s", __func__);
	SK_CHECK_EQ(sk_scanner_match_sig(sc, tb.buf, &msg), 0, "%s", __func__);
	sk_scanner_free(sc);

	err[0] = '\0';
	SK_CHECK(sk_scanner_compile(bad, 2, err, sizeof(err)) == NULL && strstr(err, "x(y"),
		 "a signature that is not a token is refused, named");
	printf("     error for x(y: \"%s\"\n", err);
	SK_CHECK(sk_scanner_compile(spaced, 1, err, sizeof(err)) == NULL, "two words refused");
	err[0] = '\0';
	SK_CHECK(sk_scanner_compile(empty, 1, err, sizeof(err)) == NULL, "empty signature refused");
	SK_CHECK(err[0] != '\0', "error string given");
	err[0] = '\0';
	SK_CHECK(sk_scanner_compile(sigs, 0, err, sizeof(err)) == NULL && err[0], "empty list");
}

struct worker {
	const struct sk_scanner *sc;
	int hits;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	static const char ua[] = "Mozilla/5.0 (X11) friendly-scanner";

	for (int i = 0; i < 20000; i++)
		w->hits += UA(w->sc, ua) >= 0;
	return NULL;
}

static void scanner_threads(void)
{
	struct sk_scanner *sc = compile_defaults();
	struct worker w[4];
	pthread_t th[4];

	if (sc == NULL)
		return;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){sc, 0};
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		SK_CHECK_EQ(w[i].hits, 20000, "%s", __func__);
	}
	sk_scanner_free(sc);
}

int main(void)
{
	SK_RUN(detect_positive, "every method + status lines detected");
	SK_RUN(detect_negative, "named non-SIP first lines rejected");
	SK_RUN(detect_matches_regex, "hand-written == Hyperscan regex on mutations");
	SK_RUN(scanner_defaults, "default signatures: whole User-Agent product names");
	SK_RUN(scanner_custom_and_errors, "custom product-name list, compile errors");
	SK_RUN(scanner_threads, "4 threads share one signature set");
	tbuf_free(&tb);
	return sk_test_done();
}
