/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message framing: start line, header line splitting (with folding),
 * dispatch of the headers sipkeep needs, mandatory-header and body checks.
 *
 * A header line's first 16 bytes are loaded once: they give the name's end
 * and the name compare against a perfect hash entry.  Line ends come from
 * LF bit masks of the header block, 64 bytes at a time (sk_lfw_fill()), so
 * finding a line's end does not wait for the previous line's.  An unknown
 * header thus costs a few vector steps and is never tokenised.
 * Lines in unusual shapes (LWS before the colon, folds, names of 16+ bytes,
 * the last 16 bytes of the buffer) take the general path, byte-exact with it.
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
	/* [u, p) is all SK_C_URIC (the scan above): not checked again */
	if (sk_uri_parse_uric(buf, m->ruri, lim, &uri) != 0) {
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
 * Long header names by a perfect hash of (length, first two letters):
 * ((w * 295) >> 8) + len, w the two letters lower-cased as a 16-bit word,
 * taken mod 64, has no collision among these names, so a line costs one
 * table load and one compare, with no branch per candidate.  The letters
 * come straight from the line start (no load that waits for the length).
 */
static inline unsigned name_hash(const char *n, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	unsigned w = sk_ld2(n) | 0x2020u; /* one load, not two */
#else
	unsigned w = ((uint8_t)n[0] | 0x20u) | ((uint8_t)n[1] | 0x20u) << 8;
#endif

	return (((w * 295u) >> 8) + (unsigned)len) & 63u;
}

struct name_ent {
	char name[16]; /* lower case, then ':' when shorter than 16, zero padded */
	char fold[16]; /* 0x20 where name has a letter: the case bit to ignore */
	uint8_t id;
	uint8_t len;
} __attribute__((aligned(16)));

/* Generated from the names and name_hash() (no collision: checked when generated). */
static const struct name_ent name_tab[64] = {
	[0] = {"call-id:", "\x20\x20\x20\x20\0\x20\x20", SK_HDR_CALL_ID, 7},
	[2] = {"call-info:", "\x20\x20\x20\x20\0\x20\x20\x20\x20", SK_HDR_CALL_INFO, 9},
	[3] = {"expires:", "\x20\x20\x20\x20\x20\x20\x20", SK_HDR_EXPIRES, 7},
	[9] = {"via:", "\x20\x20\x20", SK_HDR_VIA, 3},
	[18] = {"accept-contact:", "\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20",
		SK_HDR_ACCEPT_CONTACT, 14},
	[21] = {"user-agent:", "\x20\x20\x20\x20\0\x20\x20\x20\x20\x20", SK_HDR_USER_AGENT, 10},
	[23] = {"from:", "\x20\x20\x20\x20", SK_HDR_FROM, 4},
	[30] = {"subject:", "\x20\x20\x20\x20\x20\x20\x20", SK_HDR_SUBJECT, 7},
	[32] = {"supported:", "\x20\x20\x20\x20\x20\x20\x20\x20\x20", SK_HDR_SUPPORTED, 9},
	[34] = {"contact:", "\x20\x20\x20\x20\x20\x20\x20", SK_HDR_CONTACT, 7},
	[39] = {"content-type:", "\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20",
		SK_HDR_CONTENT_TYPE, 12},
	[41] = {"content-length:", "\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20",
		SK_HDR_CONTENT_LENGTH, 14},
	[43] = {"content-encoding",
		"\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20\x20",
		SK_HDR_CONTENT_ENCODING, 16},
	[45] = {"require:", "\x20\x20\x20\x20\x20\x20\x20", SK_HDR_REQUIRE, 7},
	[46] = {"refer-to:", "\x20\x20\x20\x20\x20\0\x20\x20", SK_HDR_REFER_TO, 8},
	[47] = {"allow-events:", "\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20",
		SK_HDR_ALLOW_EVENTS, 12},
	[48] = {"to:", "\x20\x20", SK_HDR_TO, 2},
	[49] = {"referred-by:", "\x20\x20\x20\x20\x20\x20\x20\x20\0\x20\x20", SK_HDR_REFERRED_BY,
		11},
	[51] = {"event:", "\x20\x20\x20\x20\x20", SK_HDR_EVENT, 5},
	[52] = {"reject-contact:", "\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20",
		SK_HDR_REJECT_CONTACT, 14},
	[54] = {"session-expires:", "\x20\x20\x20\x20\x20\x20\x20\0\x20\x20\x20\x20\x20\x20\x20",
		SK_HDR_SESSION_EXPIRES, 15},
	[59] = {"cseq:", "\x20\x20\x20\x20", SK_HDR_CSEQ, 4},
	[60] = {"identity:", "\x20\x20\x20\x20\x20\x20\x20\x20", SK_HDR_IDENTITY, 8},
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
	ent = &name_tab[name_hash(n, len)];
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

#if defined(__SSE2__)
/*
 * For a name of 0 or 2..15 bytes followed by its ':' (n[len] == ':'), the first
 * 16 bytes already in x, want the bits of n[0..len]: the bits of n[0..len]
 * that equal the hash entry's (case folded).  The entry's name carries its
 * ':' too, so comparing n[0..len] settles the length as well: no separate
 * length test; an empty slot (all zero) matches nothing.
 */
static inline unsigned header_eq_x(const char *n, size_t len, __m128i x, unsigned want,
				   enum sk_sip_hdr_id *id)
{
	const struct name_ent *ent = &name_tab[name_hash(n, len)];

	*id = (enum sk_sip_hdr_id)ent->id;
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		       _mm_or_si128(x, _mm_load_si128((const __m128i *)(const void *)ent->fold)),
		       _mm_load_si128((const __m128i *)(const void *)ent->name))) &
	       want;
}
#endif

#if defined(__SSSE3__)
/*
 * ':' SP HT by low nibble (0x3a, 0x20, 0x09 differ there): a byte b is one of
 * them exactly when name_end_tab[b & 15] == b (pshufb gives 0 for b >= 0x80,
 * and the zero entries match no byte with that low nibble).
 */
#define name_end_tab _mm_setr_epi8(' ', 0, 0, 0, 0, 0, 0, 0, 0, '\t', ':', 0, 0, 0, 0, 0)
#endif

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

/* "seen" bits of the headers that must appear once (ONCE below) and of Via. */
#define SEEN(id) (UINT32_C(1) << (id))
#define MANDATORY_MASK                                                                             \
	(SEEN(SK_HDR_FROM) | SEEN(SK_HDR_TO) | SEEN(SK_HDR_CALL_ID) | SEEN(SK_HDR_CSEQ) |          \
	 SEEN(SK_HDR_VIA))

/*
 * A header that must appear once: duplicate_header on its second line, before
 * its value is looked at.  Only these and Via (mandatory) need a seen bit,
 * each a constant in its own case.
 */
#define ONCE(id)                                                                                   \
	do {                                                                                       \
		if (*seen & SEEN(id))                                                              \
			return SK_SIP_ERR_DUPLICATE_HEADER;                                        \
		*seen |= SEEN(id);                                                                 \
	} while (0)

static enum sk_sip_err parse_header(const char *buf, enum sk_sip_hdr_id id, const char *v,
				    const char *ve, const char *ls, const char *le, const char *lim,
				    struct sk_sip_msg *m, uint32_t *seen)
{
	uint32_t u;
	const char *q;

	switch (id) {
	case SK_HDR_VIA:
		*seen |= SEEN(SK_HDR_VIA);
		return sk_hdr_via(buf, v, ve, lim, m);
	case SK_HDR_FROM:
		ONCE(SK_HDR_FROM);
		return sk_hdr_addr(buf, v, ve, lim, &m->from) ? SK_SIP_ERR_BAD_FROM : SK_SIP_OK;
	case SK_HDR_TO:
		ONCE(SK_HDR_TO);
		return sk_hdr_addr(buf, v, ve, lim, &m->to) ? SK_SIP_ERR_BAD_TO : SK_SIP_OK;
	case SK_HDR_CALL_ID:
		ONCE(SK_HDR_CALL_ID);
		if (!sk_hdr_call_id_ok(v, ve, lim))
			return SK_SIP_ERR_BAD_CALL_ID;
		m->call_id = sk_mkspan(buf, v, ve);
		return SK_SIP_OK;
	case SK_HDR_CSEQ:
		ONCE(SK_HDR_CSEQ);
		return sk_hdr_cseq(buf, v, ve, lim, m);
	case SK_HDR_CONTACT:
		return sk_hdr_contact(buf, v, ve, lim, m);
	case SK_HDR_EXPIRES:
		ONCE(SK_HDR_EXPIRES);
		q = sk_parse_u32(v, ve, &u);
		if (q == NULL || q != ve)
			return SK_SIP_ERR_BAD_EXPIRES;
		m->expires = u;
		m->has_expires = 1;
		return SK_SIP_OK;
	case SK_HDR_CONTENT_LENGTH:
		ONCE(SK_HDR_CONTENT_LENGTH);
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
		/*
		 * Fail open (docs/OVERVIEW.md 3): a malformed Call-Info line
		 * is left alone and counted. None of its values is recorded (nothing can then
		 * remove part of it), it takes no callinfo_line[] slot and sets no overflow bit; it
		 * stays in hdrs[] like any recognised line.
		 */
		uint8_t n0 = m->n_callinfo, ovf0 = m->overflow;
		uint8_t line = m->n_callinfo_lines < SK_SIP_MAX_CALLINFO_LINES ? m->n_callinfo_lines
									       : 0xff;

		if (!sk_hdr_callinfo(buf, v, ve, lim, line, m)) {
			m->n_callinfo = n0;
			m->overflow = ovf0;
			if (m->n_callinfo_bad < UINT8_MAX)
				m->n_callinfo_bad++;
			return SK_SIP_OK;
		}
		if (line != 0xff) {
			m->n_callinfo_lines++;
			m->callinfo_line[line] = sk_mkspan(buf, ls, le);
		} else {
			m->overflow |= SK_SIP_OVF_CALLINFO_LINES;
		}
		return SK_SIP_OK;
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

/* The start line, after the CRLFs RFC 3261 7.5 lets precede it; *pp ends past its LF. */
static enum sk_sip_err parse_start_line(const char *buf, const char **pp, const char *e,
					struct sk_sip_msg *m)
{
	const char *p = *pp, *nl, *le;

	while (p < e && (*p == '\r' || *p == '\n'))
		p++;
	if (is_keepalive(p, e))
		return SK_SIP_ERR_KEEPALIVE;

	nl = sk_find_lf(p, e);
	if (nl == NULL)
		return SK_SIP_ERR_TRUNCATED;
	le = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	m->start_line = sk_mkspan(buf, p, nl + 1);
	*pp = nl + 1;
	if (le - p >= 4 && sk_ci_eq(p, "sip/", 4)) {
		m->is_request = 0;
		return parse_status_line(buf, p, le, m);
	}
	m->is_request = 1;
	return parse_request_line(buf, p, le, e, m);
}

/*
 * What one header-block line turned out to be. Each kind but LINE_GENERAL
 * and LINE_BAD moves *pp past the line; a header line also gives its value's
 * start, the LF ending it and its header id.
 */
enum line_kind {
	LINE_GENERAL, /* not settled by the fast path: take the general one */
	LINE_KNOWN,   /* a header sipkeep reads */
	LINE_OTHER,   /* a header it skips */
	LINE_END,     /* the empty line ending the header block */
	LINE_BAD,     /* malformed or truncated: the error is set */
};

#if defined(__SSSE3__)
/*
 * Usual line "Name: value\r\n" with 16 readable bytes (p <= e16): one load
 * gives the name's end and the name compare, the LF walk the line end.
 * Anything else is LINE_GENERAL, with p where it was.
 */
static inline __attribute__((always_inline)) enum line_kind
fast_line(const char *buf, const char **pp, const char *e, uintptr_t e16, struct sk_lfwalk *lfw,
	  const char **v, const char **nlp, enum sk_sip_hdr_id *id)
{
	const char *p = *pp, *nl;
	__m128i x;
	unsigned mt;
	size_t nlen;

	if ((uintptr_t)p > e16)
		return LINE_GENERAL;
	x = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* the name ends at ':' SP HT (one shuffle, see name_end_tab) */
	mt = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_shuffle_epi8(name_end_tab, x), x));
	nlen = (size_t)__builtin_ctz(mt | 0x10000u);
	if (nlen >= 16 || p[nlen] != ':' || !sk_lfw_fill(lfw, buf, e))
		return LINE_GENERAL;
	nl = sk_lfw_take(lfw);
	/* no LF inside the name; not folded: the next line starts with a
	 * token byte (> SP), else the exact test */
	if ((size_t)(nl - p) <= nlen || !((nl + 1 < e && (uint8_t)nl[1] > ' ') || nl + 1 == e ||
					  (nl[1] != ' ' && nl[1] != '\t')))
		return LINE_GENERAL;
	*v = p + nlen + 1;
	*nlp = nl;
	if (nlen != 1) {
		/* mt's lowest bit is nlen: want = bits 0..nlen */
		unsigned want = mt ^ (mt - 1);

		if (header_eq_x(p, nlen, x, want, id) == want) {
			*pp = nl + 1;
			return LINE_KNOWN; /* name began with a letter */
		}
	} else {
		unsigned c = ((uint8_t)p[0] | 0x20u) - 'a';

		*id = c < 26 ? (enum sk_sip_hdr_id)compact_ids[c] : SK_HDR_OTHER;
		if (*id != SK_HDR_OTHER) {
			*pp = nl + 1;
			return LINE_KNOWN;
		}
	}
	/* an unknown name must still begin with a token byte */
	if (!sk_is(*p, SK_C_TOKEN))
		return LINE_GENERAL;
	*pp = nl + 1;
	return LINE_OTHER;
}
#endif

/* Any line, in any shape the grammar allows (LWS before the colon, folds, long names). */
static inline enum line_kind general_line(const char **pp, const char *e, const char **v,
					  const char **nlp, enum sk_sip_hdr_id *id,
					  enum sk_sip_err *err)
{
	const char *p = *pp, *nl, *n;
	size_t nlen;
	bool wide;

	if (p >= e) {
		*err = SK_SIP_ERR_TRUNCATED;
		return LINE_BAD;
	}
	if (*p == '\n') {
		*pp = p + 1;
		return LINE_END;
	}
	if (*p == '\r') {
		if (p + 1 < e && p[1] == '\n') {
			*pp = p + 2;
			return LINE_END;
		}
		*err = p + 1 == e ? SK_SIP_ERR_TRUNCATED : SK_SIP_ERR_BAD_HEADER;
		return LINE_BAD;
	}
	if (!sk_is(*p, SK_C_TOKEN)) {
		*err = SK_SIP_ERR_BAD_HEADER;
		return LINE_BAD;
	}
	/* The logical line ends at the first LF not followed by SP/HT. */
	nl = sk_find_lf(p, e);
	while (nl != NULL && nl + 1 < e && (nl[1] == ' ' || nl[1] == '\t'))
		nl = sk_find_lf(nl + 1, e);
	if (nl == NULL) {
		*err = SK_SIP_ERR_TRUNCATED;
		return LINE_BAD;
	}
	wide = e - p >= 16;
	nlen = name_len(p, nl, wide);
	/* names of 16+ bytes are unknown except content-encoding */
	*id = nlen <= 16 ? header_id(p, nlen, wide && nlen < 16) : SK_HDR_OTHER;
	n = p + nlen;
	while (n < nl && (*n == ' ' || *n == '\t'))
		n++;
	if (n == nl || *n != ':') {
		*err = nl + 1 == e ? SK_SIP_ERR_TRUNCATED : SK_SIP_ERR_BAD_HEADER;
		return LINE_BAD;
	}
	*v = n + 1;
	*nlp = nl;
	*pp = nl + 1;
	return *id == SK_HDR_OTHER ? LINE_OTHER : LINE_KNOWN;
}

/*
 * A recognised header line [ls, nl]: its value from v trimmed, the line kept
 * in hdrs[] (the next slot at byte offset *hoff), the value parsed.
 */
static inline __attribute__((always_inline)) enum sk_sip_err
known_header(const char *buf, enum sk_sip_hdr_id id, const char *ls, const char *v, const char *nl,
	     const char *e, struct sk_sip_msg *m, size_t *hoff, uint32_t *seen)
{
	const char *ve;

	/*
	 * Usual shape ": value\r\n": settle it without the generic loops.
	 * v <= nl (the colon is before the LF) and *nl is readable, so
	 * the single-byte tests need no bounds check.
	 */
	ve = nl[-1] == '\r' ? nl - 1 : nl; /* nl[-1] is at worst the colon */
	if (v[0] == ' ' && (uint8_t)v[1] > ' ' && (uint8_t)ve[-1] > ' ') {
		v++; /* ": value", by far the most common */
	} else {
		if (ve > v && (uint8_t)ve[-1] <= ' ')
			ve = sk_rtrim(v, ve);
		if (*v == ' ' && v < ve)
			v++;
		if ((uint8_t)*v <= ' ')
			v = sk_skip_ws(v, ve);
	}
	if (*hoff < sizeof(m->hdrs)) {
		struct sk_sip_hdr *h = (struct sk_sip_hdr *)(void *)((char *)m->hdrs + *hoff);

		h->id = (uint8_t)id;
		sk_setspan(&h->line, buf, ls, nl + 1);
		sk_setspan(&h->value, buf, v, ve);
		*hoff += sizeof(*h);
	} else {
		m->overflow |= SK_SIP_OVF_HDRS;
	}
	return parse_header(buf, id, v, ve, ls, nl + 1, e, m, seen);
}

/* After the header block (ending at p): mandatory headers, CSeq method, the body's extent. */
static enum sk_sip_err finish(const char *buf, const char *p, const char *e, struct sk_sip_msg *m,
			      uint32_t seen)
{
	if ((seen & MANDATORY_MASK) != MANDATORY_MASK)
		return SK_SIP_ERR_MISSING_HEADER;
	if (m->is_request) {
		/* RFC 3261 8.1.1.5: the CSeq method matches the request method
		 * (two known methods are equal exactly when their enums are). */
		if (m->method != SK_SIP_METHOD_UNKNOWN || m->cseq_method != SK_SIP_METHOD_UNKNOWN) {
			if (m->cseq_method != m->method)
				return SK_SIP_ERR_CSEQ_MISMATCH;
		} else if (m->cseq_method_str.len != m->method_str.len ||
			   memcmp(buf + m->cseq_method_str.off, buf + m->method_str.off,
				  m->method_str.len) != 0) {
			return SK_SIP_ERR_CSEQ_MISMATCH;
		}
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

enum sk_sip_err sk_sip_parse(const char *buf, size_t len, struct sk_sip_msg *m)
{
	const char *p = buf, *e = buf + len;
	uint32_t seen = 0;
	/* byte offset of the next hdrs[] slot (no multiply per line);
	 * m->n_hdrs is stored at the end */
	size_t hoff = 0;
	enum sk_sip_err err;
#if defined(__SSSE3__)
	/* lines starting at or before e16 have 16 readable bytes */
	const uintptr_t e16 = len >= 16 ? (uintptr_t)e - 16 : 0;
	struct sk_lfwalk lfw; /* line ends of the usual lines (fast path) */
#endif

	if (len == 0)
		return SK_SIP_ERR_EMPTY;
	if (len > SK_SIP_MAX_LEN)
		return SK_SIP_ERR_TOO_LARGE;
	sk_zero(m, offsetof(struct sk_sip_msg, via));
	err = parse_start_line(buf, &p, e, m);
	if (err != SK_SIP_OK)
		return err;
#if defined(__SSSE3__)
	sk_lfw_init(&lfw, p);
#endif

	for (;;) {
		const char *ls = p, *v, *nl;
		enum sk_sip_hdr_id id;
		enum line_kind k;

#if defined(__SSSE3__)
		k = fast_line(buf, &p, e, e16, &lfw, &v, &nl, &id);
		if (k == LINE_OTHER)
			continue;
		if (k == LINE_GENERAL)
#endif
		{ /* without SSSE3, every line */
			k = general_line(&p, e, &v, &nl, &id, &err);
			if (k == LINE_END)
				break;
			if (k == LINE_BAD)
				return err;
#if defined(__SSSE3__)
			sk_lfw_init(&lfw, p); /* the block walk starts over after this line */
#endif
			if (k == LINE_OTHER)
				continue;
		}
		err = known_header(buf, id, ls, v, nl, e, m, &hoff, &seen);
		if (err != SK_SIP_OK)
			return err;
	}
	m->n_hdrs = (uint8_t)(hoff / sizeof(m->hdrs[0]));
	return finish(buf, p, e, m, seen);
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
