/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: SIP parse, then SDP of the body (plain or multipart),
 * the URI helper on every URI found, the param iterators, detection and the
 * scanner matcher.  Invariants (every span inside the input) are asserted so
 * a logic slip shows up as a crash, not only memory errors.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sdp_parse.h"
#include "sip_detect.h"
#include "sip_parse.h"

static struct sk_scanner *scanner;

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static size_t in_len;

static void span_ok(struct sk_span s)
{
	REQUIRE(sk_span_end(s) <= in_len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	size_t n = 0;

	(void)argc;
	(void)argv;
	while (sk_scanner_default_sigs[n] != NULL)
		n++;
	scanner = sk_scanner_compile(sk_scanner_default_sigs, n, err, sizeof(err));
	if (scanner == NULL)
		abort();
	return 0;
}

static void walk_params(const char *buf, struct sk_span params)
{
	struct sk_sip_param_iter it;
	struct sk_span n, v;
	int guard = 0;

	span_ok(params);
	sk_sip_param_iter_init(&it, params);
	while (sk_sip_param_next(buf, &it, &n, &v)) {
		span_ok(n);
		span_ok(v);
		REQUIRE(n.len > 0);
		REQUIRE(++guard < 70000);
	}
}

static void uri(const char *buf, struct sk_span s)
{
	struct sk_sip_uri u;

	span_ok(s);
	if (sk_sip_uri_parse(buf, s, &u) == 0) {
		span_ok(u.user);
		span_ok(u.password);
		span_ok(u.host);
		span_ok(u.params);
		span_ok(u.headers);
		REQUIRE(u.host.len > 0);
		REQUIRE(u.host.off >= s.off && sk_span_end(u.host) <= sk_span_end(s));
		walk_params(buf, u.params);
	}
}

static void sdp(const char *buf, struct sk_span body)
{
	struct sk_sdp sd;

	span_ok(body);
	if (sk_sdp_parse(buf, body, &sd) != SK_SDP_OK)
		return;
	REQUIRE(sd.n_media <= SK_SDP_MAX_MEDIA);
	span_ok(sd.conn.line);
	for (unsigned i = 0; i < sd.n_media; i++) {
		const struct sk_sdp_media *m = &sd.media[i];

		span_ok(m->line);
		span_ok(m->port_text);
		span_ok(m->proto);
		span_ok(m->fmts);
		span_ok(m->conn.addr_text);
		REQUIRE(m->line.off >= body.off && sk_span_end(m->line) <= sk_span_end(body));
		REQUIRE(sk_sdp_media_conn(&sd, i) != NULL);
		(void)sk_sdp_media_dir(&sd, i);
		(void)sk_sdp_media_rtcp_port(&sd, i);
	}
}

/* Option tags of every header id, by a plain byte loop: the reference for
 * the vectorised list walk. */
static uint32_t opt_tags_reference(const char *buf, const struct sk_sip_msg *m, int id)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < m->n_hdrs; i++) {
		const char *p, *e;

		if (m->hdrs[i].id != id)
			continue;
		p = buf + m->hdrs[i].value.off;
		e = p + m->hdrs[i].value.len;
		while (p < e) {
			const char *s, *t;
			int o;

			while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
				p++;
			s = p;
			while (p < e && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' &&
			       *p != '\n')
				p++;
			t = p;
			while (p < e && *p != ',')
				p++;
			if (p < e)
				p++;
			o = sk_sip_opt_lookup(s, (size_t)(t - s));
			mask |= SK_OPT_BIT(o >= 0 ? o : SK_OPT_OTHER);
		}
	}
	return mask;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sk_sip_msg m;
	struct sk_span body;
	uint16_t len16 = size > SK_SIP_MAX_LEN ? SK_SIP_MAX_LEN : (uint16_t)size;

	in_len = size;
	/* The User-Agent walk on any bytes: comments, versions, cut tokens. */
	(void)sk_scanner_match_ua(scanner, buf, size);
	(void)sk_sip_detect(buf, size);
	if (sk_sip_parse(buf, size, &m) == SK_SIP_OK) {
		REQUIRE(m.msg_len <= size && m.hdr_end <= m.msg_len);
		REQUIRE(m.body.off == m.hdr_end && sk_span_end(m.body) == m.msg_len);
		REQUIRE(m.n_via <= SK_SIP_MAX_VIA && m.n_via >= 1);
		REQUIRE(m.n_contact <= SK_SIP_MAX_CONTACT && m.n_hdrs <= SK_SIP_MAX_HDRS);
		REQUIRE(m.call_id.len > 0 && m.from.uri.len > 0 && m.to.uri.len > 0);
		span_ok(m.start_line);
		span_ok(m.call_id);
		span_ok(m.user_agent);
		span_ok(m.content_type);
		if (m.is_request)
			uri(buf, m.ruri);
		else
			REQUIRE(m.status >= 100 && m.status <= 699);
		uri(buf, m.from.uri);
		uri(buf, m.to.uri);
		walk_params(buf, m.from.params);
		walk_params(buf, m.to.params);
		for (unsigned i = 0; i < m.n_via; i++) {
			span_ok(m.via[i].value);
			span_ok(m.via[i].host);
			REQUIRE(m.via[i].host.len > 0);
			walk_params(buf, m.via[i].params);
		}
		for (unsigned i = 0; i < m.n_contact; i++) {
			uri(buf, m.contact[i].uri);
			walk_params(buf, m.contact[i].params);
			(void)sk_sip_contact_has_feature(buf, &m.contact[i],
							 "x-cisco-sessionpersist");
		}
		REQUIRE(m.n_callinfo <= SK_SIP_MAX_CALLINFO &&
			m.n_callinfo_lines <= SK_SIP_MAX_CALLINFO_LINES);
		for (unsigned i = 0; i < m.n_callinfo; i++) {
			span_ok(m.callinfo[i].value);
			walk_params(buf, m.callinfo[i].params);
			REQUIRE(m.callinfo[i].line < m.n_callinfo_lines ||
				m.callinfo[i].line == 0xff);
			if (m.callinfo[i].line != 0xff) {
				struct sk_span l = m.callinfo_line[m.callinfo[i].line];

				REQUIRE(m.callinfo[i].value.off >= l.off &&
					sk_span_end(m.callinfo[i].value) <= sk_span_end(l));
			}
		}
		/* every Call-Info line is either recorded or counted malformed, never both */
		if (!(m.overflow & (SK_SIP_OVF_HDRS | SK_SIP_OVF_CALLINFO_LINES)) &&
		    m.n_callinfo_bad < 255) {
			unsigned n_ci = 0, good = 0;

			for (unsigned i = 0; i < m.n_hdrs; i++) {
				if (m.hdrs[i].id != SK_HDR_CALL_INFO)
					continue;
				n_ci++;
				for (unsigned j = 0; j < m.n_callinfo_lines; j++)
					good += m.callinfo_line[j].off == m.hdrs[i].line.off &&
						m.callinfo_line[j].len == m.hdrs[i].line.len;
			}
			REQUIRE(good == m.n_callinfo_lines && n_ci == good + m.n_callinfo_bad);
		}
		for (unsigned i = 0; i < m.n_hdrs; i++) {
			span_ok(m.hdrs[i].line);
			REQUIRE(m.hdrs[i].value.off >= m.hdrs[i].line.off &&
				sk_span_end(m.hdrs[i].value) <= sk_span_end(m.hdrs[i].line));
		}
		if (!(m.overflow & SK_SIP_OVF_HDRS))
			REQUIRE(opt_tags_reference(buf, &m, SK_HDR_SUPPORTED) == m.supported &&
				opt_tags_reference(buf, &m, SK_HDR_REQUIRE) == m.require);
		(void)sk_sip_msg_opts(&m);
		(void)sk_scanner_match(scanner, buf, &m);
		if (sk_sip_find_sdp(buf, &m, &body)) {
			REQUIRE(body.off >= m.body.off && sk_span_end(body) <= m.msg_len);
			sdp(buf, body);
		}
	}
	/* the raw input as an SDP body and as a URI, to reach those parsers directly */
	sdp(buf, (struct sk_span){0, len16});
	uri(buf, (struct sk_span){0, len16});
	return 0;
}
