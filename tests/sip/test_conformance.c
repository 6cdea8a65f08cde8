/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Conformance against the RFC 4475 (SIP torture) and RFC 5118 (IPv6
 * torture) messages in shared/conformance, driven by their MANIFEST.tsv
 * verdicts.  Usage: test_conformance CONFORMANCE_DIR.  Exits 77 (skip) when
 * the directory is absent.
 *
 * Messages (c) The IETF Trust / The Internet Society, from RFC 4475 and
 * RFC 5118 Appendix A.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdp_parse.h"
#include "sip_detect.h"
#include "sip_parse.h"
#include "sip_fixture.h"

/*
 * Expected values of every message marked valid, derived from the message
 * bytes (headers unfolded, compact names expanded).  body_len is the
 * Content-Length, or the rest of the datagram when there is none.
 */
struct valid_case {
	const char *file;
	const char *method; /* NULL for responses */
	const char *ruri;
	int status;
	const char *call_id;
	unsigned cseq;
	const char *cseq_method;
	unsigned body_len;
};

static const struct valid_case valid_cases[] = {
	{"rfc4475/wsinv.dat", "INVITE", "sip:vivekg@chair-dnrc.example.com;unknownparam", 0,
	 "wsinv.ndaksdj@192.0.2.1", 9, "INVITE", 150},
	{"rfc4475/intmeth.dat", "!interesting-Method0123456789_*+`.%indeed'~",
	 "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy\?,/"
	 ";;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
	 0, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][\?}{", 139122385,
	 "!interesting-Method0123456789_*+`.%indeed'~", 0},
	{"rfc4475/esc01.dat", "INVITE", "sip:sips%3Auser%40example.com@example.net", 0,
	 "esc01.239409asdfakjkn23onasd0-3234", 234234, "INVITE", 150},
	{"rfc4475/escnull.dat", "REGISTER", "sip:example.com", 0,
	 "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", 14398234, "REGISTER", 0},
	{"rfc4475/esc02.dat", "RE%47IST%45R", "sip:registrar.example.com", 0,
	 "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", 29344, "RE%47IST%45R", 0},
	{"rfc4475/lwsdisp.dat", "OPTIONS", "sip:user@example.com", 0,
	 "lwsdisp.1234abcd@funky.example.com", 60, "OPTIONS", 0},
	{"rfc4475/longreq.dat", "INVITE", "sip:user@example.com", 0,
	 "longreq."
	 "onereallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyre"
	 "allyreallyreallyreallyreallyreallylongcallid",
	 3882340, "INVITE", 150},
	{"rfc4475/dblreq.dat", "REGISTER", "sip:example.com", 0,
	 "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 8, "REGISTER", 0},
	{"rfc4475/semiuri.dat", "OPTIONS", "sip:user;par=u%40example.net@example.com", 0,
	 "semiuri.0ha0isndaksdj", 8, "OPTIONS", 0},
	{"rfc4475/transports.dat", "OPTIONS", "sip:user@example.com", 0,
	 "transports.kijh4akdnaqjkwendsasfdj", 60, "OPTIONS", 0},
	{"rfc4475/mpart01.dat", "MESSAGE", "sip:kumiko@example.org", 0,
	 "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", 1, "MESSAGE", 553},
	{"rfc4475/unreason.dat", NULL, NULL, 200, "unreason.1234ksdfak3j2erwedfsASdf", 35, "INVITE",
	 154},
	{"rfc4475/noreason.dat", NULL, NULL, 100, "noreason.asndj203insdf99223ndf", 35, "INVITE",
	 0},
	{"rfc4475/badbranch.dat", "OPTIONS", "sip:user@example.com", 0,
	 "badbranch.sadonfo23i420jv0as0derf3j3n", 8, "OPTIONS", 0},
	{"rfc4475/unkscm.dat", "OPTIONS", "nobodyKnowsThisScheme:totallyopaquecontent", 0,
	 "unkscm.nasdfasser0q239nwsdfasdkl34", 3923423, "OPTIONS", 0},
	{"rfc4475/novelsc.dat", "OPTIONS", "soap.beep://192.0.2.103:3002", 0,
	 "novelsc.asdfasser0q239nwsdfasdkl34", 3923423, "OPTIONS", 0},
	{"rfc4475/unksm2.dat", "REGISTER", "sip:example.com", 0,
	 "unksm2.daksdj@hyphenated-host.example.com", 234902, "REGISTER", 0},
	{"rfc4475/bext01.dat", "OPTIONS", "sip:user@example.com", 0, "bext01.0ha0isndaksdj", 8,
	 "OPTIONS", 0},
	{"rfc4475/invut.dat", "INVITE", "sip:user@example.com", 0,
	 "invut.0ha0isndaksdjadsfij34n23d", 235448, "INVITE", 40},
	{"rfc4475/regaut01.dat", "REGISTER", "sip:example.com", 0, "regaut01.0ha0isndaksdj", 9338,
	 "REGISTER", 0},
	{"rfc4475/bcast.dat", NULL, NULL, 200, "bcast.0384840201234ksdfak3j2erwedfsASdf", 35,
	 "INVITE", 154},
	{"rfc4475/zeromf.dat", "OPTIONS", "sip:user@example.com", 0,
	 "zeromf.jfasdlfnm2o2l43r5u0asdfas", 39234321, "OPTIONS", 0},
	{"rfc4475/cparam01.dat", "REGISTER", "sip:example.com", 0,
	 "cparam01.70710@saturn.example.com", 2, "REGISTER", 0},
	{"rfc4475/cparam02.dat", "REGISTER", "sip:example.com", 0,
	 "cparam02.70710@saturn.example.com", 3, "REGISTER", 0},
	{"rfc4475/regescrt.dat", "REGISTER", "sip:example.com", 0,
	 "regescrt.k345asrl3fdbv@192.0.2.1", 14398234, "REGISTER", 0},
	{"rfc4475/sdp01.dat", "INVITE", "sip:user@example.com", 0, "sdp01.ndaksdj9342dasdd", 8,
	 "INVITE", 150},
	{"rfc4475/inv2543.dat", "INVITE", "sip:UserB@example.com", 0,
	 "inv2543.1717@ift.client.example.com", 56, "INVITE", 105},
	{"rfc5118/ipv6-good.dat", "REGISTER", "sip:[2001:db8::10]", 0,
	 "SSG9559905523997077@hlau_4100", 98176, "REGISTER", 0},
	{"rfc5118/port-ambiguous.dat", "REGISTER", "sip:[2001:db8::10:5070]", 0,
	 "SSG9559905523997077@hlau_4100", 98176, "REGISTER", 0},
	{"rfc5118/port-unambiguous.dat", "REGISTER", "sip:[2001:db8::10]:5070", 0,
	 "SSG9559905523997077@hlau_4100", 98176, "REGISTER", 0},
	{"rfc5118/via-received-param-with-delim.dat", "BYE", "sip:[2001:db8::10]", 0,
	 "SSG9559905523997077@hlau_4100", 321, "BYE", 0},
	{"rfc5118/via-received-param-no-delim.dat", "OPTIONS", "sip:[2001:db8::10]", 0,
	 "SSG95523997077@hlau_4100", 921, "OPTIONS", 0},
	{"rfc5118/ipv6-in-sdp.dat", "INVITE", "sip:user@[2001:db8::10]", 0,
	 "SSG9559905523997077@hlau_4100", 8612, "INVITE", 251},
	{"rfc5118/mult-ip-in-header.dat", "BYE", "sip:user@host.example.net", 0, "997077@lau_4100",
	 89187, "BYE", 0},
	{"rfc5118/mult-ip-in-sdp.dat", "INVITE", "sip:user@[2001:db8::10]", 0,
	 "SSG9559905523997077@hlau_4100", 8912, "INVITE", 189},
	{"rfc5118/ipv4-mapped-ipv6.dat", "INVITE", "sip:user@example.com", 0,
	 "SSG9559905523997077@hlau_4100", 612, "INVITE", 245},
	{"rfc5118/ipv6-bug-abnf-3-colons.dat", "OPTIONS", "sip:user@[2001:db8:::192.0.2.1]", 0,
	 "G9559905523997077@hlau_4100", 689, "OPTIONS", 0},
	{"rfc5118/ipv6-correct-abnf-2-colons.dat", "OPTIONS", "sip:user@[2001:db8::192.0.2.1]", 0,
	 "G9559905523997077@hlau_4100", 689, "OPTIONS", 0},
};

/* Invalid messages: the reason sipkeep reports, or a tolerated parse. */
struct invalid_case {
	const char *file;
	enum sk_sip_err err; /* SK_SIP_OK: tolerated, see why */
	const char *why;
};

static const struct invalid_case invalid_cases[] = {
	{"rfc4475/badinv01.dat", SK_SIP_ERR_BAD_VIA, "empty Via params ';;,;,,'"},
	{"rfc4475/clerr.dat", SK_SIP_ERR_CONTENT_LENGTH_BEYOND, "Content-Length > body over UDP"},
	{"rfc4475/ncl.dat", SK_SIP_ERR_BAD_CONTENT_LENGTH, "negative Content-Length"},
	{"rfc4475/scalar02.dat", SK_SIP_ERR_BAD_CSEQ, "CSeq >= 2^31"},
	{"rfc4475/scalarlg.dat", SK_SIP_ERR_BAD_CSEQ, "CSeq >= 2^31"},
	{"rfc4475/quotbal.dat", SK_SIP_ERR_BAD_TO, "unterminated quoted display name"},
	{"rfc4475/ltgtruri.dat", SK_SIP_ERR_BAD_REQUEST_URI, "Request-URI in <>"},
	{"rfc4475/lwsruri.dat", SK_SIP_ERR_BAD_START_LINE, "LWS inside the Request-URI"},
	{"rfc4475/lwsstart.dat", SK_SIP_ERR_BAD_START_LINE, "several SP between elements"},
	{"rfc4475/trws.dat", SK_SIP_ERR_BAD_START_LINE, "trailing SP after SIP/2.0"},
	{"rfc4475/escruri.dat", SK_SIP_ERR_BAD_REQUEST_URI, "headers (?Route=) in Request-URI"},
	{"rfc4475/baddate.dat", SK_SIP_OK,
	 "tolerated: RFC 4475 3.1.2.12 allows ignoring the Date value, which sipkeep never reads"},
	{"rfc4475/regbadct.dat", SK_SIP_ERR_BAD_CONTACT, "'?' in a Contact URI without <>"},
	{"rfc4475/badaspec.dat", SK_SIP_ERR_BAD_TO, "LWS inside <> of To"},
	{"rfc4475/baddn.dat", SK_SIP_ERR_BAD_FROM, "unquoted display name with ','"},
	{"rfc4475/badvers.dat", SK_SIP_ERR_BAD_VERSION, "SIP/7.0"},
	{"rfc4475/mismatch01.dat", SK_SIP_ERR_CSEQ_MISMATCH, "OPTIONS vs CSeq INVITE"},
	{"rfc4475/mismatch02.dat", SK_SIP_ERR_CSEQ_MISMATCH, "NEWMETHOD vs CSeq INVITE"},
	{"rfc4475/bigcode.dat", SK_SIP_ERR_BAD_STATUS, "status code 4294967301"},
	{"rfc4475/insuf.dat", SK_SIP_ERR_MISSING_HEADER, "no Call-ID, From or To"},
	{"rfc4475/multi01.dat", SK_SIP_ERR_DUPLICATE_HEADER, "two CSeq / Call-ID / To / From"},
	{"rfc4475/mcl01.dat", SK_SIP_ERR_DUPLICATE_HEADER, "two conflicting Content-Length"},
	{"rfc5118/ipv6-bad.dat", SK_SIP_ERR_BAD_REQUEST_URI, "IPv6 host without []"},
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	/* exactly sized: ASan catches any read past the message */
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *conf_dir;
static int n_valid_ok, n_valid, n_invalid_ok, n_invalid, n_tolerant, n_na;

static const struct valid_case *find_valid(const char *key)
{
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		if (strcmp(valid_cases[i].file, key) == 0)
			return &valid_cases[i];
	return NULL;
}

static const struct invalid_case *find_invalid(const char *key)
{
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++)
		if (strcmp(invalid_cases[i].file, key) == 0)
			return &invalid_cases[i];
	return NULL;
}

/* Every prefix, each in its own exactly-sized buffer: no length may over-read. */
static void parse_prefixes(const char *data, size_t len)
{
	struct tbuf t = {0};
	struct sk_sip_msg m;
	struct sk_sdp sdp;
	struct sk_span s;

	for (size_t n = 0; n <= len; n++) {
		tbuf_set(&t, data, n);
		(void)sk_sip_detect(t.buf, t.len);
		if (sk_sip_parse(t.buf, t.len, &m) == SK_SIP_OK && sk_sip_find_sdp(t.buf, &m, &s))
			(void)sk_sdp_parse(t.buf, s, &sdp);
	}
	tbuf_free(&t);
}

static void check_valid(const char *key, const char *buf, size_t len)
{
	const struct valid_case *vc = find_valid(key);
	struct sk_sip_msg m;
	enum sk_sip_err err;
	unsigned int f0 = sk_test_failures;

	n_valid++;
	SK_CHECK(vc != NULL, "%s: no expected values in the table", key);
	if (vc == NULL)
		return;
	err = sk_sip_parse(buf, len, &m);
	SK_CHECK(err == SK_SIP_OK, "%s: %s", key, sk_sip_err_str(err));
	if (err != SK_SIP_OK) {
		printf("FAIL valid   %-44s %s\n", key, sk_sip_err_str(err));
		return;
	}
	if (vc->method != NULL) {
		SK_CHECK(m.is_request, "%s", key);
		SK_CHECK_SPAN(buf, m.method_str, vc->method);
		SK_CHECK_SPAN(buf, m.ruri, vc->ruri);
		SK_CHECK_EQ(m.method, sk_sip_method_from(vc->method, strlen(vc->method)), "%s",
			    __func__);
	} else {
		SK_CHECK(!m.is_request, "%s", key);
		SK_CHECK_EQ(m.status, vc->status, "%s", __func__);
	}
	SK_CHECK_SPAN(buf, m.call_id, vc->call_id);
	SK_CHECK_EQ(m.cseq, vc->cseq, "%s", __func__);
	SK_CHECK_SPAN(buf, m.cseq_method_str, vc->cseq_method);
	SK_CHECK_EQ(m.body.len, vc->body_len, "%s", __func__);
	SK_CHECK(m.n_via >= 1 && m.from.uri.len > 0 && m.to.uri.len > 0, "%s: Via/From/To", key);
	if (sk_test_failures == f0)
		n_valid_ok++;
	printf("%s valid   %-44s %s %.*s cseq=%u body=%u\n",
	       sk_test_failures == f0 ? "ok  " : "FAIL", key, m.is_request ? "request" : "response",
	       m.is_request ? (int)m.method_str.len : 3,
	       m.is_request ? buf + m.method_str.off : buf + m.start_line.off + 8, m.cseq,
	       m.body.len);
}

static void check_invalid(const char *key, const char *buf, size_t len)
{
	const struct invalid_case *ic = find_invalid(key);
	struct sk_sip_msg m;
	enum sk_sip_err err = sk_sip_parse(buf, len, &m);

	n_invalid++;
	SK_CHECK(ic != NULL, "%s: no expectation in the table (got %s)", key, sk_sip_err_str(err));
	if (ic == NULL)
		return;
	SK_CHECK(err == ic->err, "%s: got %s, want %s", key, sk_sip_err_str(err),
		 sk_sip_err_str(ic->err));
	if (err == ic->err) {
		n_invalid_ok++;
		if (err == SK_SIP_OK)
			n_tolerant++;
	}
	printf("%s invalid %-44s %s (%s)\n", err == ic->err ? "ok  " : "FAIL", key,
	       err == SK_SIP_OK ? "TOLERANT" : sk_sip_err_str(err), ic->why);
}

static void run_dir(const char *sub)
{
	char path[4096], line[8192];
	FILE *man;

	snprintf(path, sizeof(path), "%s/%s/MANIFEST.tsv", conf_dir, sub);
	man = fopen(path, "r");
	SK_CHECK(man != NULL, "cannot open %s: %s", path, strerror(errno));
	if (man == NULL)
		return;
	if (fgets(line, sizeof(line), man) == NULL) { /* header row */
		fclose(man);
		return;
	}
	while (fgets(line, sizeof(line), man) != NULL) {
		char *file = strtok(line, "\t"), *section = strtok(NULL, "\t");
		char *verdict = strtok(NULL, "\t");
		char key[512];
		size_t len;
		char *buf;

		if (file == NULL || section == NULL || verdict == NULL)
			continue;
		snprintf(key, sizeof(key), "%s/%s", sub, file);
		snprintf(path, sizeof(path), "%s/%s/%s", conf_dir, sub, file);
		buf = read_file(path, &len);
		SK_CHECK(buf != NULL, "cannot read %s", path);
		if (buf == NULL)
			continue;
		if (strcmp(verdict, "valid") == 0) {
			check_valid(key, buf, len);
		} else if (strcmp(verdict, "invalid") == 0) {
			check_invalid(key, buf, len);
		} else {
			struct sk_sip_msg m;

			n_na++;
			printf("ok   n/a     %-44s %s (no verdict: must only not crash)\n", key,
			       sk_sip_err_str(sk_sip_parse(buf, len, &m)));
		}
		parse_prefixes(buf, len);
		free(buf);
	}
	fclose(man);
}

/* SDP details of the RFC 5118 messages whose point is IPv6 in SDP. */
static void check_sdp_file(const char *key, int n_media, const int *afs)
{
	char path[4096];
	size_t len;
	char *buf;
	struct sk_sip_msg m;
	struct sk_sdp sdp;
	struct sk_span s;

	snprintf(path, sizeof(path), "%s/%s", conf_dir, key);
	buf = read_file(path, &len);
	SK_CHECK(buf != NULL, "cannot read %s", path);
	if (buf == NULL)
		return;
	SK_CHECK_EQ(sk_sip_parse(buf, len, &m), SK_SIP_OK, "%s", __func__);
	SK_CHECK(sk_sip_find_sdp(buf, &m, &s), "%s: no SDP", key);
	SK_CHECK_EQ(sk_sdp_parse(buf, s, &sdp), SK_SDP_OK, "%s", __func__);
	SK_CHECK_EQ(sdp.n_media, n_media, "%s", __func__);
	for (int i = 0; i < n_media && i < sdp.n_media; i++) {
		const struct sk_sdp_conn *c = sk_sdp_media_conn(&sdp, (unsigned)i);

		SK_CHECK(c != NULL && c->af == afs[i], "%s media %d af %d", key, i, c ? c->af : -1);
	}
	printf("ok   sdp     %-44s %d media, address families checked\n", key, n_media);
	free(buf);
}

int main(int argc, char **argv)
{
	struct stat st;

	if (argc < 2 || stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("SKIP: conformance directory %s not found (expected shared/conformance "
		       "beside the source tree)\n",
		       argc < 2 ? "(none given)" : argv[1]);
		return 77;
	}
	conf_dir = argv[1];
	sk_test_verbose = false; /* one line per message, printed by check_valid & co */
	run_dir("rfc4475");
	run_dir("rfc5118");
	check_sdp_file("rfc5118/ipv6-in-sdp.dat", 2, (const int[]){SK_SDP_AF_IP6, SK_SDP_AF_IP6});
	check_sdp_file("rfc5118/mult-ip-in-sdp.dat", 2,
		       (const int[]){SK_SDP_AF_IP4, SK_SDP_AF_IP6});
	check_sdp_file("rfc5118/ipv4-mapped-ipv6.dat", 2,
		       (const int[]){SK_SDP_AF_IP6, SK_SDP_AF_IP6});
	printf("conformance: valid %d/%d parsed with the expected fields; invalid %d/%d as "
	       "expected (%d rejected, %d tolerated); %d without verdict\n",
	       n_valid_ok, n_valid, n_invalid_ok, n_invalid, n_invalid_ok - n_tolerant, n_tolerant,
	       n_na);
	return sk_test_done();
}
