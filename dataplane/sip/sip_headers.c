/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Field parsers for the headers sipkeep reads: Via, From/To, Contact, CSeq,
 * Call-ID, Supported/Require and Call-Info.  Each gets one logical header
 * value with LWS trimmed at both ends; CR and LF left inside come from
 * folded continuation lines and count as whitespace.
 */
#include <string.h>

#include "sip_lex.h"

enum param_kind { PK_PLAIN, PK_VIA, PK_ADDR, PK_CONTACT };

/*
 * Hands one param (name n/nl, value v/vl as written or v NULL, p just after
 * it) to its owner.  Returns false when the param makes the value malformed.
 */
static inline __attribute__((always_inline)) bool param_apply(const char *buf, enum param_kind k,
							      void *obj, const char *n, size_t nl,
							      const char *v, size_t vl,
							      const char *p, const char *lim)
{
	if (k == PK_VIA) {
		struct sk_sip_via *via = obj;

		if (sk_ci_eqn(n, nl, SK_LIT("branch"))) {
			via->branch = sk_mkspan(buf, v ? v : p, v ? v + vl : p);
		} else if (sk_ci_eqn(n, nl, SK_LIT("received"))) {
			via->received = sk_mkspan(buf, v ? v : p, v ? v + vl : p);
		} else if (sk_ci_eqn(n, nl, SK_LIT("rport"))) {
			via->has_rport = 1;
			if (v != NULL) {
				uint32_t port;
				const char *d = sk_parse_u32(v, v + vl, &port);

				if (d != v + vl || port > 65535)
					return false;
				via->rport = sk_mkspan(buf, v, v + vl);
			}
		}
	} else if (k == PK_ADDR) {
		struct sk_sip_addr *a = obj;

		if (sk_ci_eqn(n, nl, SK_LIT("tag"))) {
			if (v == NULL || *v == '"')
				return false;
			a->tag = sk_mkspan(buf, v, v + vl);
		}
	} else if (k == PK_CONTACT) {
		struct sk_sip_contact *c = obj;
		int opt;

		if (sk_ci_eqn(n, nl, SK_LIT("expires"))) {
			if (v == NULL || sk_parse_u32(v, v + vl, &c->expires) != v + vl)
				return false;
			c->has_expires = 1;
		} else if (sk_ci_eqn(n, nl, SK_LIT("+sip.instance"))) {
			if (v != NULL && *v == '"' && vl >= 2)
				c->instance = sk_mkspan(buf, v + 1, v + vl - 1);
			else if (v != NULL)
				c->instance = sk_mkspan(buf, v, v + vl);
		} else {
			/* RFC 3840 feature tags are "+name"; Cisco also sends bare names. */
			if (*n == '+') {
				n++;
				nl--;
			}
			opt = sk_opt_lookup_inl(n, nl, lim);
			if (opt >= 0)
				c->feature_opts |= SK_OPT_BIT(opt);
		}
	}
	return true;
}

/*
 * *( LWS ";" param ), handing the params of interest to their owner.
 * Returns the first byte after LWS that is not ';' (end of value or ','),
 * or NULL on a malformed param (e.g. ";;" of RFC 4475 3.1.2.1).  The usual
 * shapes take sk_param_fast(), anything else sk_param_one().
 */
static inline __attribute__((always_inline)) const char *params(const char *buf, const char *p,
								const char *e, const char *lim,
								enum param_kind k, void *obj,
								struct sk_span *pspan)
{
	const char *s, *last, *n, *v;
	size_t nl, vl;

	p = sk_skip_ws(p, e);
	s = last = p;
	while (p < e && *p == ';') {
		const char *q = sk_param_fast(p + 1, e, lim, &n, &nl, &v, &vl);

		if (q != NULL) {
			p = q;
		} else {
			p = sk_param_one(p + 1, e, lim, &n, &nl, &v, &vl);
			if (p == NULL)
				return NULL;
		}
		last = p;
		if (!param_apply(buf, k, obj, n, nl, v, vl, p, lim))
			return NULL;
		p = sk_skip_ws(p, e);
	}
	if (last != s)
		*pspan = sk_mkspan(buf, s, last);
	return p;
}

/*
 * name-addr / addr-spec.  The URI inside <> must have no LWS (RFC 4475
 * 3.1.2.14); an unbracketed URI ends at ';' ',' '?' or LWS, and a '?' there
 * is then rejected by the caller, as RFC 3261 20 requires <> for it.
 */
static inline __attribute__((always_inline)) const char *
name_addr(const char *buf, const char *p, const char *e, const char *lim, struct sk_span *disp,
	  struct sk_span *uri, uint8_t *bracketed)
{
	const char *q;

	if (p == e)
		return NULL;
	if (*p == '"') {
		q = sk_skip_quoted(p, e, lim);
		if (q == NULL)
			return NULL;
		*disp = sk_mkspan(buf, p, q);
		p = sk_skip_ws(q, e);
		if (p == e || *p != '<')
			return NULL;
	} else if (*p != '<') {
		q = sk_skipl(p, e, lim, SK_C_TOKEN | SK_C_WS);
		if (q < e && *q == '<') {
			*disp = sk_mkspan(buf, p, sk_rtrim(p, q));
			p = q;
		} else {
			if (sk_scheme_end(p, e) == NULL)
				return NULL;
			q = p;
			while (q < e && sk_is(*q, SK_C_URIC) && *q != ';' && *q != ',' && *q != '?')
				q++;
			*uri = sk_mkspan(buf, p, q);
			*bracketed = 0;
			return q;
		}
	}
	q = sk_skipl(p + 1, e, lim, SK_C_URIC);
	if (q == e || *q != '>' || sk_scheme_end(p + 1, q) == NULL)
		return NULL;
	*uri = sk_mkspan(buf, p + 1, q);
	*bracketed = 1;
	return q + 1;
}

enum sk_sip_err sk_hdr_addr(const char *buf, const char *p, const char *e, const char *lim,
			    struct sk_sip_addr *a)
{
	const char *s = p;

	p = name_addr(buf, p, e, lim, &a->display, &a->uri, &a->bracketed);
	if (p == NULL)
		return SK_SIP_ERR_BAD_FROM;
	p = params(buf, p, e, lim, PK_ADDR, a, &a->params);
	if (p != e)
		return SK_SIP_ERR_BAD_FROM;
	a->value = sk_mkspan(buf, s, e);
	return SK_SIP_OK;
}

static const char *via_value(const char *buf, const char *p, const char *e, const char *lim,
			     struct sk_sip_via *v)
{
	const char *s = p, *t;
	uint32_t port;

	/* Common spelling "SIP/2.0/UDP " (any 3-letter transport): one compare
	 * instead of five dependent token scans. */
	if (e - p > 12 && sk_ci_eq(p, "sip/2.0/", 8) && sk_is(p[8], SK_C_TOKEN) &&
	    sk_is(p[9], SK_C_TOKEN) && sk_is(p[10], SK_C_TOKEN) &&
	    (p[11] == ' ' || p[11] == '\t')) {
		v->transport = sk_mkspan(buf, p + 8, p + 11);
		p = sk_skip_ws(p + 12, e);
		if (p == e)
			return NULL;
		goto sent_by;
	}
	/* sent-protocol: "SIP" SLASH "2.0" SLASH transport, SLASH = SWS "/" SWS */
	t = sk_skip(p, e, SK_C_TOKEN);
	if (!sk_ci_eqn(p, (size_t)(t - p), SK_LIT("sip")))
		return NULL;
	p = sk_skip_ws(t, e);
	if (p == e || *p != '/')
		return NULL;
	p = sk_skip_ws(p + 1, e);
	t = sk_skip(p, e, SK_C_TOKEN);
	if (t - p != 3 || memcmp(p, "2.0", 3) != 0)
		return NULL;
	p = sk_skip_ws(t, e);
	if (p == e || *p != '/')
		return NULL;
	p = sk_skip_ws(p + 1, e);
	t = sk_skip(p, e, SK_C_TOKEN);
	if (t == p)
		return NULL;
	v->transport = sk_mkspan(buf, p, t);
	p = sk_skip_ws(t, e);
	if (p == t || p == e)
		return NULL;

sent_by:
	/* sent-by = host [ COLON port ] */
	if (*p == '[') {
		t = sk_skip(p + 1, e, SK_C_HEX);
		while (t < e && (*t == ':' || *t == '.' || sk_is(*t, SK_C_HEX)))
			t++;
		if (t == e || *t != ']' || t - p < 3)
			return NULL;
		v->host = sk_mkspan(buf, p + 1, t);
		v->host_ipv6 = 1;
		t++;
	} else {
		t = sk_skipl(p, e, lim, SK_C_HOST);
		if (t == p)
			return NULL;
		v->host = sk_mkspan(buf, p, t);
	}
	p = sk_skip_ws(t, e);
	if (p < e && *p == ':') {
		p = sk_skip_ws(p + 1, e);
		t = sk_parse_u32(p, e, &port);
		if (t == NULL || t - p > 5 || port > 65535)
			return NULL;
		v->port = (uint16_t)port;
		p = t;
	}
	p = params(buf, p, e, lim, PK_VIA, v, &v->params);
	if (p == NULL)
		return NULL;
	/* at e no trim: header values come trimmed (only a ',' leaves LWS) */
	v->value = sk_mkspan(buf, s, p == e ? p : sk_rtrim(s, p));
	return p;
}

enum sk_sip_err sk_hdr_via(const char *buf, const char *p, const char *e, const char *lim,
			   struct sk_sip_msg *m)
{
	struct sk_sip_via spare;

	for (;;) {
		struct sk_sip_via *v = m->n_via < SK_SIP_MAX_VIA ? &m->via[m->n_via] : &spare;

		memset(v, 0, sizeof(*v));
		p = via_value(buf, p, e, lim, v);
		if (p == NULL)
			return SK_SIP_ERR_BAD_VIA;
		if (m->n_via < SK_SIP_MAX_VIA)
			m->n_via++;
		else
			m->overflow |= SK_SIP_OVF_VIA;
		m->via_total++;
		if (p == e)
			return SK_SIP_OK;
		if (*p != ',')
			return SK_SIP_ERR_BAD_VIA;
		p = sk_skip_ws(p + 1, e);
	}
}

enum sk_sip_err sk_hdr_contact(const char *buf, const char *p, const char *e, const char *lim,
			       struct sk_sip_msg *m)
{
	struct sk_sip_contact spare;

	if (e - p == 1 && *p == '*') {
		m->contact_star = 1;
		return SK_SIP_OK;
	}
	for (;;) {
		struct sk_sip_contact *c =
			m->n_contact < SK_SIP_MAX_CONTACT ? &m->contact[m->n_contact] : &spare;
		const char *s = p;

		memset(c, 0, sizeof(*c));
		p = name_addr(buf, p, e, lim, &c->display, &c->uri, &c->bracketed);
		if (p == NULL)
			return SK_SIP_ERR_BAD_CONTACT;
		p = params(buf, p, e, lim, PK_CONTACT, c, &c->params);
		if (p == NULL)
			return SK_SIP_ERR_BAD_CONTACT;
		c->value = sk_mkspan(buf, s, p == e ? p : sk_rtrim(s, p)); /* as in Via */
		if (m->n_contact < SK_SIP_MAX_CONTACT)
			m->n_contact++;
		else
			m->overflow |= SK_SIP_OVF_CONTACT;
		if (p == e)
			return SK_SIP_OK;
		if (*p != ',')
			return SK_SIP_ERR_BAD_CONTACT;
		p = sk_skip_ws(p + 1, e);
	}
}

#if defined(__SSSE3__)
/*
 * The usual list: option tags separated by single commas, nothing else.
 * One pass 16 bytes a step checks that every byte is a token byte or a
 * comma and walks the commas of the same load; each comma ends a tag.
 * Returns -1, leaving *acc alone, for anything else (LWS, an empty tag, a
 * non-token byte): the general loop then decides.  32 bytes past e must be
 * readable (the tag lookup compares 32 bytes).
 */
static inline int opt_tags_plain(const char *p, const char *e, uint32_t *acc)
{
	/* sk_cls_lo's TOKEN row with ',' (0x2c: low nibble 12, bit 2) added */
	const __m128i tc =
		_mm_or_si128(_mm_load_si128((const __m128i *)(const void *)sk_cls_lo[0]),
			     _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0));
	const __m128i hibit =
		_mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i nib = _mm_set1_epi8(0x0f), comma = _mm_set1_epi8(',');
	const char *ts = p; /* start of the current tag */
	uint32_t a = *acc;
	int opt;

	for (const char *q = p; q < e; q += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i r = _mm_and_si128(
			_mm_shuffle_epi8(tc, x),
			_mm_shuffle_epi8(hibit, _mm_and_si128(_mm_srli_epi16(x, 4), nib)));
		unsigned valid = e - q >= 16 ? 0xffffu : (1u << (e - q)) - 1;
		unsigned bad = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_setzero_si128()));
		unsigned com = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, comma)) & valid;

		if (bad & valid)
			return -1;
		while (com != 0) {
			const char *end = q + __builtin_ctz(com);

			if (end == ts)
				return -1; /* empty tag */
			opt = sk_opt_lookup_inl(ts, (size_t)(end - ts), ts + 32);
			a |= SK_OPT_BIT(opt >= 0 ? opt : SK_OPT_OTHER);
			ts = end + 1;
			com &= com - 1;
		}
	}
	if (ts == e)
		return -1; /* trailing comma */
	opt = sk_opt_lookup_inl(ts, (size_t)(e - ts), ts + 32);
	*acc = a | SK_OPT_BIT(opt >= 0 ? opt : SK_OPT_OTHER);
	return 0;
}
#endif

/* [ option-tag *( COMMA option-tag ) ]: an empty Supported is legal. */
int sk_hdr_opt_tags(const char *p, const char *e, const char *lim, uint32_t *mask)
{
	uint32_t acc = *mask;
	const char *t;
	int opt;

	if (p == e)
		return 0;
#if defined(__SSSE3__)
	if (lim - e >= 32 && opt_tags_plain(p, e, mask) == 0)
		return 0;
#endif
	for (;;) {
#if defined(__SSSE3__)
		/*
		 * Cisco lists run to 15+ tags: take token and comma positions for
		 * 64 bytes at once and walk the bits, so tags do not each wait on
		 * a dependent vector scan.  A tag crossing the window starts the
		 * next window; anything unusual (LWS, a malformed list) takes one
		 * step of the general loop below, then the windows resume.
		 */
		if (lim - p >= 64) {
			const char *w = p;
			size_t avail = (size_t)(e - w);
			uint64_t valid = avail >= 64 ? ~0ull : (1ull << avail) - 1;
			uint64_t tok = sk_cls64(w, SK_C_TOKEN) & valid,
				 com = sk_eq64(w, ',') & valid;
			unsigned o = 0, end;

			for (;;) {
				uint64_t rest;

				if (!(tok >> o & 1)) {
					p = sk_skip_ws(w + o, e); /* LWS after a comma */
					goto one;
				}
				rest = ~tok & (~0ull << o);
				if (rest == 0) {
					p = w + o; /* tag runs past the window */
					if (o == 0)
						goto one;
					break;
				}
				end = (unsigned)__builtin_ctzll(rest);
				opt = sk_opt_lookup_inl(w + o, end - o, lim);
				acc |= SK_OPT_BIT(opt >= 0 ? opt : SK_OPT_OTHER);
				if (end >= avail) {
					*mask = acc;
					return 0;
				}
				if (!(com >> end & 1)) {
					p = w + end;
					goto after_tag;
				}
				o = end + 1;
				if (o >= 64) {
					p = sk_skip_ws(w + o, e); /* next tag, new window */
					break;
				}
			}
			continue;
		}
	one:
#endif
		t = sk_skipl(p, e, lim, SK_C_TOKEN);
		if (t == p)
			return -1;
		opt = sk_opt_lookup_inl(p, (size_t)(t - p), lim);
		acc |= SK_OPT_BIT(opt >= 0 ? opt : SK_OPT_OTHER);
		p = t;
#if defined(__SSSE3__)
	after_tag:
#endif
		p = sk_skip_ws(p, e);
		if (p == e) {
			*mask = acc;
			return 0;
		}
		if (*p != ',')
			return -1;
		p = sk_skip_ws(p + 1, e);
	}
}

/*
 * Call-Info = info *( COMMA info ), info = LAQUOT absoluteURI RAQUOT *( SEMI info-param )
 *
 * Values go straight into m->callinfo[] (no copy through the stack: a
 * struct built field by field and copied whole stalls on store forwarding).
 * Returns false when the line does not parse; the caller then drops what
 * was recorded from it.
 */
bool sk_hdr_callinfo(const char *buf, const char *p, const char *e, const char *lim, uint8_t line,
		     struct sk_sip_msg *m)
{
	struct sk_sip_callinfo spare;

	for (;;) {
		struct sk_sip_callinfo *ci =
			m->n_callinfo < SK_SIP_MAX_CALLINFO ? &m->callinfo[m->n_callinfo] : &spare;
		const char *q, *s = p;

		if (p == e || *p != '<')
			return false;
		q = sk_skipl(p + 1, e, lim, SK_C_URIC);
		if (q == e || *q != '>' || sk_scheme_end(p + 1, q) == NULL)
			return false;
		ci->line = line;
		ci->uri = sk_mkspan(buf, p + 1, q);
		ci->params = (struct sk_span){0, 0};
		p = params(buf, q + 1, e, lim, PK_PLAIN, NULL, &ci->params);
		if (p == NULL)
			return false;
		ci->value = sk_mkspan(buf, s, p == e ? p : sk_rtrim(s, p)); /* as in Via */
		if (m->n_callinfo < SK_SIP_MAX_CALLINFO)
			m->n_callinfo++;
		else
			m->overflow |= SK_SIP_OVF_CALLINFO;
		if (p == e)
			return true;
		if (*p != ',')
			return false;
		p = sk_skip_ws(p + 1, e);
	}
}
