/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message framing: start line, header line splitting (with folding),
 * dispatch of the headers sipkeep needs, mandatory-header and body checks.
 *
 * Line ends are found 16 bytes at a time (sk_find_lf); a header name is
 * measured with one vector compare and recognised by a perfect hash and one
 * more compare, so an unknown header costs two short vector steps and is
 * never tokenised.
 */
#include <string.h>

#include "sip_lex.h"

static const char *const err_names[SK_SIP_ERR_COUNT] = {
	[SK_SIP_OK] = "ok",
	[SK_SIP_ERR_EMPTY] = "empty",
	[SK_SIP_ERR_KEEPALIVE] = "keepalive",
	[SK_SIP_ERR_TOO_LARGE] = "too_large",
	[SK_SIP_ERR_BAD_START_LINE] = "bad_start_line",
	[SK_SIP_ERR_BAD_VERSION] = "bad_version",
	[SK_SIP_ERR_BAD_STATUS] = "bad_status",
	[SK_SIP_ERR_BAD_REQUEST_URI] = "bad_request_uri",
	[SK_SIP_ERR_TRUNCATED] = "truncated",
	[SK_SIP_ERR_BAD_HEADER] = "bad_header",
	[SK_SIP_ERR_DUPLICATE_HEADER] = "duplicate_header",
	[SK_SIP_ERR_MISSING_HEADER] = "missing_mandatory_header",
	[SK_SIP_ERR_BAD_VIA] = "bad_via",
	[SK_SIP_ERR_BAD_FROM] = "bad_from",
	[SK_SIP_ERR_BAD_TO] = "bad_to",
	[SK_SIP_ERR_BAD_CALL_ID] = "bad_call_id",
	[SK_SIP_ERR_BAD_CSEQ] = "bad_cseq",
	[SK_SIP_ERR_CSEQ_MISMATCH] = "cseq_method_mismatch",
	[SK_SIP_ERR_BAD_CONTACT] = "bad_contact",
	[SK_SIP_ERR_BAD_EXPIRES] = "bad_expires",
	[SK_SIP_ERR_BAD_CONTENT_LENGTH] = "bad_content_length",
	[SK_SIP_ERR_CONTENT_LENGTH_BEYOND] = "content_length_beyond_packet",
	[SK_SIP_ERR_BAD_OPTION_TAGS] = "bad_option_tags",
	[SK_SIP_ERR_BAD_CALL_INFO] = "bad_call_info",
};

const char *sk_sip_err_str(enum sk_sip_err err)
{
	if ((unsigned)err >= SK_SIP_ERR_COUNT)
		return "unknown";
	return err_names[err];
}

static const char *const method_names[SK_SIP_METHOD_COUNT] = {
	[SK_SIP_METHOD_UNKNOWN] = "UNKNOWN",
	[SK_SIP_INVITE] = "INVITE",
	[SK_SIP_ACK] = "ACK",
	[SK_SIP_BYE] = "BYE",
	[SK_SIP_CANCEL] = "CANCEL",
	[SK_SIP_REGISTER] = "REGISTER",
	[SK_SIP_OPTIONS] = "OPTIONS",
	[SK_SIP_PRACK] = "PRACK",
	[SK_SIP_UPDATE] = "UPDATE",
	[SK_SIP_INFO] = "INFO",
	[SK_SIP_SUBSCRIBE] = "SUBSCRIBE",
	[SK_SIP_NOTIFY] = "NOTIFY",
	[SK_SIP_REFER] = "REFER",
	[SK_SIP_MESSAGE] = "MESSAGE",
	[SK_SIP_PUBLISH] = "PUBLISH",
};

const char *sk_sip_method_str(enum sk_sip_method m)
{
	if ((unsigned)m >= SK_SIP_METHOD_COUNT)
		return "UNKNOWN";
	return method_names[m];
}

#define METHOD_IS(s, len, m)                                                                       \
	(memcmp((s), method_names[m], (len)) == 0 ? (m) : SK_SIP_METHOD_UNKNOWN)

enum sk_sip_method sk_sip_method_from(const char *s, size_t len)
{
	/* Methods are case-sensitive (RFC 3261 7.1), so plain memcmp. */
	switch (len) {
	case 3:
		return s[0] == 'A' ? METHOD_IS(s, 3, SK_SIP_ACK) : METHOD_IS(s, 3, SK_SIP_BYE);
	case 4:
		return METHOD_IS(s, 4, SK_SIP_INFO);
	case 5:
		return s[0] == 'P' ? METHOD_IS(s, 5, SK_SIP_PRACK) : METHOD_IS(s, 5, SK_SIP_REFER);
	case 6:
		switch (s[0]) {
		case 'I':
			return METHOD_IS(s, 6, SK_SIP_INVITE);
		case 'C':
			return METHOD_IS(s, 6, SK_SIP_CANCEL);
		case 'U':
			return METHOD_IS(s, 6, SK_SIP_UPDATE);
		case 'N':
			return METHOD_IS(s, 6, SK_SIP_NOTIFY);
		}
		return SK_SIP_METHOD_UNKNOWN;
	case 7:
		switch (s[0]) {
		case 'O':
			return METHOD_IS(s, 7, SK_SIP_OPTIONS);
		case 'M':
			return METHOD_IS(s, 7, SK_SIP_MESSAGE);
		case 'P':
			return METHOD_IS(s, 7, SK_SIP_PUBLISH);
		}
		return SK_SIP_METHOD_UNKNOWN;
	case 8:
		return METHOD_IS(s, 8, SK_SIP_REGISTER);
	case 9:
		return METHOD_IS(s, 9, SK_SIP_SUBSCRIBE);
	}
	return SK_SIP_METHOD_UNKNOWN;
}

/* "SIP/2.0" with the protocol name compared case-insensitively (ABNF literal). */
static inline bool is_sip20(const char *p)
{
	return sk_ci_eq(p, "sip/2.0", 7);
}

static enum sk_sip_err parse_status_line(const char *buf, const char *p, const char *le,
					 struct sk_sip_msg *m)
{
	if (le - p < 11 || !is_sip20(p) || p[7] != ' ')
		return SK_SIP_ERR_BAD_VERSION;
	p += 8;
	if (p[0] < '1' || p[0] > '6' || !sk_is(p[1], SK_C_DIGIT) || !sk_is(p[2], SK_C_DIGIT))
		return SK_SIP_ERR_BAD_STATUS;
	m->status = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	p += 3;
	/* A missing " reason" is tolerated; anything else glued to the code is not. */
	if (p < le) {
		if (*p != ' ')
			return SK_SIP_ERR_BAD_STATUS;
		p++;
	}
	m->reason = sk_mkspan(buf, p, le);
	return SK_SIP_OK;
}

static enum sk_sip_err parse_request_line(const char *buf, const char *p, const char *le,
					  const char *lim, struct sk_sip_msg *m)
{
	const char *s = p, *u;
	struct sk_sip_uri uri;

	p = sk_skip(p, le, SK_C_TOKEN);
	if (p == s || p == le || *p != ' ')
		return SK_SIP_ERR_BAD_START_LINE;
	m->method_str = sk_mkspan(buf, s, p);
	m->method = (uint8_t)sk_sip_method_from(s, (size_t)(p - s));
	u = ++p;
	/* Exactly one SP between elements, no LWS inside the URI (RFC 4475 3.1.2.8/9). */
	p = sk_skipl(u, le, lim, SK_C_URIC);
	if (p < le && *p != ' ' && (uint8_t)*p > ' ')
		return SK_SIP_ERR_BAD_REQUEST_URI; /* e.g. '<' of RFC 4475 3.1.2.7 */
	if (p == u || p == le || *p != ' ')
		return SK_SIP_ERR_BAD_START_LINE;
	m->ruri = sk_mkspan(buf, u, p);
	p++;
	if (le - p != 7 || !is_sip20(p)) {
		if (le - p >= 4 && sk_ci_eq(p, "sip/", 4) && sk_skip(p + 4, le, SK_C_TOKEN) == le)
			return SK_SIP_ERR_BAD_VERSION;
		return SK_SIP_ERR_BAD_START_LINE;
	}
	if (sk_scheme_end(u, p - 1) == NULL)
		return SK_SIP_ERR_BAD_REQUEST_URI;
	if (sk_uri_parse_lim(buf, m->ruri, lim, &uri) != 0) {
		if (uri.scheme == SK_URI_SIP || uri.scheme == SK_URI_SIPS)
			return SK_SIP_ERR_BAD_REQUEST_URI;
	} else if (uri.headers.off != 0) {
		/* RFC 3261 19.1.1: headers are not allowed in a Request-URI. */
		return SK_SIP_ERR_BAD_REQUEST_URI;
	}
	return SK_SIP_OK;
}

/* Header ids for the one-letter compact forms (RFC 3261 7.3.3 and IANA registry). */
static const uint8_t compact_ids[26] = {
	['a' - 'a'] = SK_HDR_ACCEPT_CONTACT,
	['b' - 'a'] = SK_HDR_REFERRED_BY,
	['c' - 'a'] = SK_HDR_CONTENT_TYPE,
	['e' - 'a'] = SK_HDR_CONTENT_ENCODING,
	['f' - 'a'] = SK_HDR_FROM,
	['i' - 'a'] = SK_HDR_CALL_ID,
	['j' - 'a'] = SK_HDR_REJECT_CONTACT,
	['k' - 'a'] = SK_HDR_SUPPORTED,
	['l' - 'a'] = SK_HDR_CONTENT_LENGTH,
	['m' - 'a'] = SK_HDR_CONTACT,
	['o' - 'a'] = SK_HDR_EVENT,
	['r' - 'a'] = SK_HDR_REFER_TO,
	['s' - 'a'] = SK_HDR_SUBJECT,
	['t' - 'a'] = SK_HDR_TO,
	['u' - 'a'] = SK_HDR_ALLOW_EVENTS,
	['v' - 'a'] = SK_HDR_VIA,
	['x' - 'a'] = SK_HDR_SESSION_EXPIRES,
	['y' - 'a'] = SK_HDR_IDENTITY,
};

/*
 * Long header names by a perfect hash of (length, first and last letter):
 * (len + 14 * first + 7 * last) & 63 has no collision among these names, so
 * a line costs one table load and one compare, with no branch per candidate.
 */
#define NAME_HASH(len, first, last)                                                                \
	(((unsigned)(len) + 14u * ((uint8_t)(first) | 0x20u) + 7u * ((uint8_t)(last) | 0x20u)) &   \
	 63u)

struct name_ent {
	uint8_t id;
	uint8_t len;
	char name[16]; /* lower case, zero padded */
	char fold[16]; /* 0x20 where name has a letter: the case bit to ignore */
} __attribute__((aligned(16)));

/* Generated from the names and NAME_HASH (no collision: checked when generated). */
static const struct name_ent name_tab[64] = {
	[5] = {SK_HDR_CSEQ, 4, "cseq", "\x20\x20\x20\x20"},
	[6] = {SK_HDR_REQUIRE, 7, "require", "\x20\x20\x20\x20\x20\x20\x20"},
	[8] = {SK_HDR_ACCEPT_CONTACT, 14, "accept-contact",
	       "\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20"},
	[11] = {SK_HDR_CONTENT_ENCODING, 16, "content-encoding",
		"\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20"},
	[13] = {SK_HDR_REFER_TO, 8, "refer-to", "\x20\x20\x20\x20\x20\0\x20\x20"},
	[15] = {SK_HDR_SUPPORTED, 9, "supported", "\x20\x20\x20\x20\x20\x20\x20\x20\x20"},
	[16] = {SK_HDR_CONTENT_LENGTH, 14, "content-length",
		"\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20"},
	[19] = {SK_HDR_FROM, 4, "from", "\x20\x20\x20\x20"},
	[21] = {SK_HDR_IDENTITY, 8, "identity", "\x20\x20\x20\x20\x20\x20\x20\x20"},
	[22] = {SK_HDR_REFERRED_BY, 11, "referred-by",
		"\x20\x20\x20\x20\x20\x20\x20\x20\0\x20\x20"},
	[28] = {SK_HDR_USER_AGENT, 10, "user-agent", "\x20\x20\x20\x20\0\x20\x20\x20\x20\x20"},
	[29] = {SK_HDR_CONTACT, 7, "contact", "\x20\x20\x20\x20\x20\x20\x20"},
	[30] = {SK_HDR_VIA, 3, "via", "\x20\x20\x20"},
	[35] = {SK_HDR_TO, 2, "to", "\x20\x20"},
	[45] = {SK_HDR_CALL_ID, 7, "call-id", "\x20\x20\x20\x20\0\x20\x20"},
	[50] = {SK_HDR_EXPIRES, 7, "expires", "\x20\x20\x20\x20\x20\x20\x20"},
	[54] = {SK_HDR_REJECT_CONTACT, 14, "reject-contact",
		"\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20"},
	[55] = {SK_HDR_EVENT, 5, "event", "\x20\x20\x20\x20\x20"},
	[57] = {SK_HDR_CONTENT_TYPE, 12, "content-type",
		"\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20"},
	[60] = {SK_HDR_CALL_INFO, 9, "call-info", "\x20\x20\x20\x20\0\x20\x20\x20\x20"},
	[61] = {SK_HDR_SUBJECT, 7, "subject", "\x20\x20\x20\x20\x20\x20\x20"},
	[62] = {SK_HDR_SESSION_EXPIRES, 15, "session-expires",
		"\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20"},
	[63] = {SK_HDR_ALLOW_EVENTS, 12, "allow-events",
		"\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20"},
};

static inline bool is_name_end(char c)
{
	return c == ':' || c == ' ' || c == '\t';
}

/*
 * Header id of the name n[0..len): compact forms by table, long names by
 * the perfect hash.  With SSE2 and 16 readable bytes the compare is one
 * vector op; otherwise a word-wise compare.
 */
static inline enum sk_sip_hdr_id header_id(const char *n, size_t len, bool wide)
{
	const struct name_ent *ent;
	char c = sk_lower(n[0]);

	if (len == 1)
		return (c >= 'a' && c <= 'z') ? compact_ids[c - 'a'] : SK_HDR_OTHER;
	ent = &name_tab[NAME_HASH(len, n[0], n[len - 1])];
	if (ent->len != len)
		return SK_HDR_OTHER;
#if defined(__SSE2__)
	if (wide) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)n);
		__m128i f = _mm_loadu_si128((const __m128i *)(const void *)ent->fold);
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)ent->name);
		unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(x, f), w));
		unsigned want = (1u << len) - 1;

		return (eq & want) == want ? (enum sk_sip_hdr_id)ent->id : SK_HDR_OTHER;
	}
#else
	(void)wide;
#endif
	for (size_t i = 0; i < len; i++)
		if ((n[i] | ent->fold[i]) != ent->name[i])
			return SK_HDR_OTHER;
	return (enum sk_sip_hdr_id)ent->id;
}

/* Length of the header name at p: bytes before the first ':' SP or HT (le if none). */
static inline size_t name_len(const char *p, const char *le, bool wide)
{
	const char *q = p;

#if defined(__SSE2__)
	if (wide) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')),
						  _mm_cmpeq_epi8(x, _mm_set1_epi8(' '))),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))));

		if (m != 0 && p + __builtin_ctz(m) < le)
			return (size_t)__builtin_ctz(m);
		q = p + 16 < le ? p + 16 : le;
		if (m != 0)
			return (size_t)(le - p);
	}
#else
	(void)wide;
#endif
	while (q < le && !is_name_end(*q))
		q++;
	return (size_t)(q - p);
}

/* Headers that must appear once; the bit is also the "seen" mark. */
#define SEEN(id) (UINT32_C(1) << (id))
#define SINGLE_MASK                                                                                \
	(SEEN(SK_HDR_FROM) | SEEN(SK_HDR_TO) | SEEN(SK_HDR_CALL_ID) | SEEN(SK_HDR_CSEQ) |          \
	 SEEN(SK_HDR_EXPIRES) | SEEN(SK_HDR_CONTENT_LENGTH))
#define MANDATORY_MASK                                                                             \
	(SEEN(SK_HDR_FROM) | SEEN(SK_HDR_TO) | SEEN(SK_HDR_CALL_ID) | SEEN(SK_HDR_CSEQ) |          \
	 SEEN(SK_HDR_VIA))

static enum sk_sip_err parse_header(const char *buf, enum sk_sip_hdr_id id, const char *v,
				    const char *ve, const char *ls, const char *le, const char *lim,
				    struct sk_sip_msg *m)
{
	uint32_t u;
	const char *q;

	switch (id) {
	case SK_HDR_VIA:
		return sk_hdr_via(buf, v, ve, lim, m);
	case SK_HDR_FROM:
		return sk_hdr_addr(buf, v, ve, lim, &m->from) ? SK_SIP_ERR_BAD_FROM : SK_SIP_OK;
	case SK_HDR_TO:
		return sk_hdr_addr(buf, v, ve, lim, &m->to) ? SK_SIP_ERR_BAD_TO : SK_SIP_OK;
	case SK_HDR_CALL_ID:
		if (!sk_hdr_call_id_ok(v, ve, lim))
			return SK_SIP_ERR_BAD_CALL_ID;
		m->call_id = sk_mkspan(buf, v, ve);
		return SK_SIP_OK;
	case SK_HDR_CSEQ:
		return sk_hdr_cseq(buf, v, ve, m);
	case SK_HDR_CONTACT:
		return sk_hdr_contact(buf, v, ve, lim, m);
	case SK_HDR_EXPIRES:
		q = sk_parse_u32(v, ve, &u);
		if (q == NULL || q != ve)
			return SK_SIP_ERR_BAD_EXPIRES;
		m->expires = u;
		m->has_expires = 1;
		return SK_SIP_OK;
	case SK_HDR_CONTENT_LENGTH:
		q = sk_parse_u32(v, ve, &u);
		if (q == NULL || q != ve)
			return SK_SIP_ERR_BAD_CONTENT_LENGTH;
		m->content_length = u;
		m->has_content_length = 1;
		return SK_SIP_OK;
	case SK_HDR_CONTENT_TYPE:
		/* Some UAs (SIPp scenarios among them) repeat an identical
		 * Content-Type; only a conflicting one is ambiguous. */
		if (m->content_type.len != 0 || m->content_type.off != 0) {
			if (m->content_type.len != ve - v ||
			    memcmp(buf + m->content_type.off, v, (size_t)(ve - v)) != 0)
				return SK_SIP_ERR_DUPLICATE_HEADER;
			return SK_SIP_OK;
		}
		m->content_type = sk_mkspan(buf, v, ve);
		return SK_SIP_OK;
	case SK_HDR_SUPPORTED:
		return sk_hdr_opt_tags(v, ve, lim, &m->supported) ? SK_SIP_ERR_BAD_OPTION_TAGS
								  : SK_SIP_OK;
	case SK_HDR_REQUIRE:
		return sk_hdr_opt_tags(v, ve, lim, &m->require) ? SK_SIP_ERR_BAD_OPTION_TAGS
								: SK_SIP_OK;
	case SK_HDR_CALL_INFO: {
		uint8_t line = 0xff;

		if (m->n_callinfo_lines < SK_SIP_MAX_CALLINFO_LINES) {
			line = m->n_callinfo_lines++;
			m->callinfo_line[line] = sk_mkspan(buf, ls, le);
		} else {
			m->overflow |= SK_SIP_OVF_CALLINFO_LINES;
		}
		return sk_hdr_callinfo(buf, v, ve, lim, line, m);
	}
	case SK_HDR_USER_AGENT:
		if (m->user_agent.len == 0)
			m->user_agent = sk_mkspan(buf, v, ve);
		return SK_SIP_OK;
	default:
		return SK_SIP_OK;
	}
}

/* Only CR, LF, SP, HT or NUL: NAT keep-alives that reach the SIP port. */
static bool is_keepalive(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p != '\r' && *p != '\n' && *p != ' ' && *p != '\t' && *p != '\0')
			return false;
	return true;
}

enum sk_sip_err sk_sip_parse(const char *buf, size_t len, struct sk_sip_msg *m)
{
	const char *p = buf, *e = buf + len, *nl, *le;
	uint32_t seen = 0;
	enum sk_sip_err err;

	if (len == 0)
		return SK_SIP_ERR_EMPTY;
	if (len > SK_SIP_MAX_LEN)
		return SK_SIP_ERR_TOO_LARGE;
	memset(m, 0, offsetof(struct sk_sip_msg, via));

	/* RFC 3261 7.5: CRLFs before the start line are ignored. */
	while (p < e && (*p == '\r' || *p == '\n'))
		p++;
	if (is_keepalive(p, e))
		return SK_SIP_ERR_KEEPALIVE;

	nl = sk_find_lf(p, e);
	if (nl == NULL)
		return SK_SIP_ERR_TRUNCATED;
	le = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	m->start_line = sk_mkspan(buf, p, nl + 1);
	if (le - p >= 4 && sk_ci_eq(p, "sip/", 4)) {
		m->is_request = 0;
		err = parse_status_line(buf, p, le, m);
	} else {
		m->is_request = 1;
		err = parse_request_line(buf, p, le, e, m);
	}
	if (err != SK_SIP_OK)
		return err;
	p = nl + 1;

	for (;;) {
		const char *ls = p, *v, *ve, *n;
		enum sk_sip_hdr_id id;
		size_t nlen;
		bool wide;

		if (p >= e)
			return SK_SIP_ERR_TRUNCATED;
		if (*p == '\n') {
			p++;
			break;
		}
		if (*p == '\r') {
			if (p + 1 < e && p[1] == '\n') {
				p += 2;
				break;
			}
			return p + 1 == e ? SK_SIP_ERR_TRUNCATED : SK_SIP_ERR_BAD_HEADER;
		}
		if (!sk_is(*p, SK_C_TOKEN))
			return SK_SIP_ERR_BAD_HEADER;
		/* The logical line ends at the first LF not followed by SP/HT. */
		nl = sk_find_lf(p, e);
		while (nl != NULL && nl + 1 < e && (nl[1] == ' ' || nl[1] == '\t'))
			nl = sk_find_lf(nl + 1, e);
		if (nl == NULL)
			return SK_SIP_ERR_TRUNCATED;
		wide = e - p >= 16;
		nlen = name_len(p, nl, wide);
		/* names of 16+ bytes are unknown except content-encoding */
		id = nlen <= 16 ? header_id(p, nlen, wide && nlen < 16) : SK_HDR_OTHER;
		n = p + nlen;
		while (n < nl && (*n == ' ' || *n == '\t'))
			n++;
		if (n == nl || *n != ':')
			return nl + 1 == e ? SK_SIP_ERR_TRUNCATED : SK_SIP_ERR_BAD_HEADER;
		v = n + 1;
		p = nl + 1;
		if (id == SK_HDR_OTHER)
			continue;

		/* usual shape ": value\r\n": settle it without the generic loops */
		ve = (nl > v && nl[-1] == '\r') ? nl - 1 : nl;
		if (ve > v && sk_is(ve[-1], SK_C_WS))
			ve = sk_rtrim(v, ve);
		if (v < ve && *v == ' ')
			v++;
		v = sk_skip_ws(v, ve);
		if (seen & SEEN(id) & SINGLE_MASK)
			return SK_SIP_ERR_DUPLICATE_HEADER;
		seen |= SEEN(id);
		if (m->n_hdrs < SK_SIP_MAX_HDRS) {
			struct sk_sip_hdr *h = &m->hdrs[m->n_hdrs++];

			h->id = (uint8_t)id;
			h->line = sk_mkspan(buf, ls, p);
			h->value = sk_mkspan(buf, v, ve);
		} else {
			m->overflow |= SK_SIP_OVF_HDRS;
		}
		err = parse_header(buf, id, v, ve, ls, p, e, m);
		if (err != SK_SIP_OK)
			return err;
	}

	if ((seen & MANDATORY_MASK) != MANDATORY_MASK)
		return SK_SIP_ERR_MISSING_HEADER;
	if (m->is_request) {
		/* RFC 3261 8.1.1.5: the CSeq method matches the request method. */
		if (m->cseq_method_str.len != m->method_str.len ||
		    memcmp(buf + m->cseq_method_str.off, buf + m->method_str.off,
			   m->method_str.len) != 0)
			return SK_SIP_ERR_CSEQ_MISMATCH;
	}

	m->hdr_end = (uint16_t)(p - buf);
	if (m->has_content_length) {
		if (m->content_length > (uint32_t)(e - p))
			return SK_SIP_ERR_CONTENT_LENGTH_BEYOND;
		m->body = sk_mkspan(buf, p, p + m->content_length);
	} else {
		/* UDP without Content-Length: the body is the rest of the datagram. */
		m->body = sk_mkspan(buf, p, e);
	}
	m->msg_len = (uint16_t)sk_span_end(m->body);
	return SK_SIP_OK;
}

const struct sk_sip_hdr *sk_sip_hdr_find(const struct sk_sip_msg *msg, enum sk_sip_hdr_id id,
					 unsigned *pos)
{
	unsigned i = pos ? *pos : 0;

	for (; i < msg->n_hdrs; i++) {
		if (msg->hdrs[i].id == id) {
			if (pos)
				*pos = i + 1;
			return &msg->hdrs[i];
		}
	}
	if (pos)
		*pos = i;
	return NULL;
}
