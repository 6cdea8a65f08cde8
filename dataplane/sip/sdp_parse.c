/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SDP (RFC 4566) lines sipkeep needs to follow media: c=, m=, a=rtcp
 * (RFC 3605), a=rtcp-mux (RFC 5761) and the direction attributes.  Every
 * other line is checked for the <type>=<value> shape only.  Line ends may be
 * CRLF or LF (RFC 4566 5 allows both); blank lines are skipped because some
 * stacks pad the body with an extra CRLF.
 */
#include <string.h>

#include "sdp_parse.h"
#include "sip_lex.h"

static const char *const sdp_err_names[SK_SDP_ERR_COUNT] = {
	[SK_SDP_OK] = "ok",
	[SK_SDP_ERR_EMPTY] = "sdp_empty",
	[SK_SDP_ERR_NO_VERSION] = "sdp_no_version",
	[SK_SDP_ERR_BAD_LINE] = "sdp_bad_line",
	[SK_SDP_ERR_BAD_CONNECTION] = "sdp_bad_connection",
	[SK_SDP_ERR_BAD_MEDIA] = "sdp_bad_media",
	[SK_SDP_ERR_BAD_RTCP] = "sdp_bad_rtcp",
};

const char *sk_sdp_err_str(enum sk_sdp_err err)
{
	if ((unsigned)err >= SK_SDP_ERR_COUNT)
		return "unknown";
	return sdp_err_names[err];
}

int sk_ip4_parse(const char *s, size_t len, uint8_t out[4])
{
	const char *p = s, *e = s + len;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, nd = 0;

		if (i > 0) {
			if (p == e || *p != '.')
				return -1;
			p++;
		}
		while (p < e && *p >= '0' && *p <= '9' && nd < 4) {
			v = v * 10 + (unsigned)(*p - '0');
			p++;
			nd++;
		}
		if (nd == 0 || nd > 3 || v > 255)
			return -1;
		out[i] = (uint8_t)v;
	}
	return p == e ? 0 : -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int sk_ip6_parse(const char *s, size_t len, uint8_t out[16])
{
	const char *p = s, *e = s + len;
	uint16_t w[8];
	int nw = 0, gap = -1;

	if (p < e && *p == ':') {
		if (e - p < 2 || p[1] != ':')
			return -1;
		p += 2;
		gap = 0;
	}
	while (p < e) {
		const char *g = p;
		unsigned v = 0;
		int nd = 0, h;

		if (nw == 8)
			return -1;
		while (p < e && (h = hexval(*p)) >= 0 && nd < 5) {
			v = (v << 4) | (unsigned)h;
			p++;
			nd++;
		}
		if (p < e && *p == '.') {
			/* embedded IPv4 (e.g. ::ffff:192.0.2.1) ends the address */
			uint8_t v4[4];

			if (nw > 6 || sk_ip4_parse(g, (size_t)(e - g), v4) != 0)
				return -1;
			w[nw++] = (uint16_t)(v4[0] << 8 | v4[1]);
			w[nw++] = (uint16_t)(v4[2] << 8 | v4[3]);
			p = e;
			break;
		}
		if (nd == 0 || nd > 4)
			return -1;
		w[nw++] = (uint16_t)v;
		if (p == e)
			break;
		if (*p != ':')
			return -1;
		p++;
		if (p < e && *p == ':') {
			if (gap >= 0)
				return -1;
			gap = nw;
			p++;
		} else if (p == e) {
			return -1;
		}
	}
	if (gap < 0 ? nw != 8 : nw > 7)
		return -1;
	if (gap < 0)
		gap = nw;
	/* words after the "::" go to the end; the gap between is zeros */
	uint16_t full[8] = {0};

	for (int i = 0; i < nw; i++)
		full[i < gap ? i : 8 - nw + i] = w[i];
	for (int i = 0; i < 8; i++) {
		out[2 * i] = (uint8_t)(full[i] >> 8);
		out[2 * i + 1] = (uint8_t)full[i];
	}
	return 0;
}

static const char *skip_sp(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	return p;
}

static const char *word_end(const char *p, const char *e)
{
	while (p < e && *p != ' ')
		p++;
	return p;
}

/* A host name; all digits and dots is a broken IPv4 address, not a name. */
static bool is_fqdn(const char *p, const char *e)
{
	bool alpha = false;

	if (p == e || sk_skip(p, e, SK_C_HOST) != e)
		return false;
	for (; p < e; p++)
		if (*p != '.' && !(*p >= '0' && *p <= '9'))
			alpha = true;
	return alpha;
}

/* "IN" SP addrtype SP address[/ttl][/n]; p at "IN", e at end of value. */
static int parse_addr(const char *buf, const char *p, const char *e, struct sk_sdp_conn *c)
{
	const char *t = word_end(p, e), *a, *ae, *sl;
	uint32_t v;
	bool ip6;

	if (t - p != 2 || memcmp(p, "IN", 2) != 0)
		return -1;
	p = skip_sp(t, e);
	t = word_end(p, e);
	if (t - p != 3 || memcmp(p, "IP", 2) != 0 || (p[2] != '4' && p[2] != '6'))
		return -1;
	ip6 = p[2] == '6';
	a = skip_sp(t, e);
	ae = word_end(a, e);
	if (ae == a || skip_sp(ae, e) != e)
		return -1;
	sl = memchr(a, '/', (size_t)(ae - a));
	c->addr_text = sk_mkspan(buf, a, sl ? sl : ae);
	c->n_addr = 1;
	c->ttl = 0;
	if (!ip6 && sk_ip4_parse(a, (size_t)((sl ? sl : ae) - a), c->addr) == 0)
		c->af = SK_SDP_AF_IP4;
	else if (ip6 && sk_ip6_parse(a, (size_t)((sl ? sl : ae) - a), c->addr) == 0)
		c->af = SK_SDP_AF_IP6;
	else if (is_fqdn(a, sl ? sl : ae))
		c->af = SK_SDP_AF_FQDN;
	else
		return -1;
	if (sl == NULL)
		return 0;
	/* IP4: /ttl[/n]; IP6: /n (RFC 4566 5.7) */
	t = sk_parse_u32(sl + 1, ae, &v);
	if (t == NULL || v > (ip6 ? 65535u : 255u))
		return -1;
	if (ip6) {
		c->n_addr = (uint16_t)v;
		return t == ae ? 0 : -1;
	}
	c->ttl = (uint8_t)v;
	if (t == ae)
		return 0;
	if (*t != '/')
		return -1;
	sl = t;
	t = sk_parse_u32(sl + 1, ae, &v);
	if (t != ae || v > 65535)
		return -1;
	c->n_addr = (uint16_t)v;
	return 0;
}

/* <media> SP <port>[/<number of ports>] SP <proto> SP <fmt> ... */
static int parse_m(const char *buf, const char *p, const char *e, struct sk_sdp_media *m)
{
	const char *t = word_end(p, e);
	uint32_t v;

	if (t == p)
		return -1;
	m->media = sk_mkspan(buf, p, t);
	p = skip_sp(t, e);
	t = sk_parse_u32(p, e, &v);
	if (t == NULL || v > 65535)
		return -1;
	m->port = (uint16_t)v;
	m->port_text = sk_mkspan(buf, p, t);
	m->n_ports = 1;
	if (t < e && *t == '/') {
		p = t + 1;
		t = sk_parse_u32(p, e, &v);
		if (t == NULL || v == 0 || v > 65535)
			return -1;
		m->n_ports = (uint16_t)v;
	}
	if (t == e || *t != ' ')
		return -1;
	p = skip_sp(t, e);
	t = word_end(p, e);
	if (t == p)
		return -1;
	m->proto = sk_mkspan(buf, p, t);
	p = skip_sp(t, e);
	m->fmts = sk_mkspan(buf, p, e);
	return 0;
}

/* rtcp-attribute = "a=rtcp:" port [nettype space addrtype space connection-address] */
static int parse_rtcp(const char *buf, const char *p, const char *e, struct sk_sdp_media *m)
{
	uint32_t v;
	const char *t = sk_parse_u32(p, e, &v);

	if (t == NULL || v > 65535)
		return -1;
	m->rtcp_port = (uint16_t)v;
	m->rtcp_text = sk_mkspan(buf, p, t);
	m->has_rtcp = 1;
	if (t == e)
		return 0;
	if (*t != ' ')
		return -1;
	t = skip_sp(t, e);
	if (t == e)
		return 0;
	return parse_addr(buf, t, e, &m->rtcp_addr);
}

static uint8_t direction(const char *p, size_t n)
{
	if (n == 8 && memcmp(p, "sendrecv", 8) == 0)
		return SK_SDP_SENDRECV;
	if (n == 8 && memcmp(p, "sendonly", 8) == 0)
		return SK_SDP_SENDONLY;
	if (n == 8 && memcmp(p, "recvonly", 8) == 0)
		return SK_SDP_RECVONLY;
	if (n == 8 && memcmp(p, "inactive", 8) == 0)
		return SK_SDP_INACTIVE;
	return SK_SDP_DIR_UNSPEC;
}

enum sk_sdp_err sk_sdp_parse(const char *buf, struct sk_span body, struct sk_sdp *sdp)
{
	const char *p = buf + body.off, *e = p + body.len;
	struct sk_sdp_media spare, *m = NULL;
	struct sk_lfwalk lfw; /* line ends: see sk_lfw_fill() */
	bool first = true;

	sk_zero(sdp, offsetof(struct sk_sdp, media));
	if (body.len == 0)
		return SK_SDP_ERR_EMPTY;
	sk_lfw_init(&lfw, p);
	while (p < e) {
		const char *nl = sk_lfw_fill(&lfw, buf + body.off, e) ? sk_lfw_take(&lfw) : NULL;
		const char *next = nl ? nl + 1 : e;
		const char *le = nl ? nl : e;
		const char *v;

		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			p = next;
			continue;
		}
		if (le - p < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z')
			return first ? SK_SDP_ERR_NO_VERSION : SK_SDP_ERR_BAD_LINE;
		if (first) {
			if (p[0] != 'v' || le - p != 3 || p[2] != '0')
				return SK_SDP_ERR_NO_VERSION;
			first = false;
		}
		v = p + 2;
		switch (p[0]) {
		case 'c': {
			struct sk_sdp_conn *c = m ? &m->conn : &sdp->conn;

			/* several media-level c= are legal (layered multicast): keep the first */
			if (c->af == SK_SDP_AF_NONE) {
				if (parse_addr(buf, v, le, c) != 0)
					return SK_SDP_ERR_BAD_CONNECTION;
				c->line = sk_mkspan(buf, p, next);
			}
			break;
		}
		case 'm':
			if (sdp->n_media < SK_SDP_MAX_MEDIA) {
				m = &sdp->media[sdp->n_media++];
			} else {
				m = &spare;
				sdp->overflow = 1;
			}
			sk_zero(m, sizeof(*m));
			sdp->media_total++;
			if (parse_m(buf, v, le, m) != 0)
				return SK_SDP_ERR_BAD_MEDIA;
			m->line = sk_mkspan(buf, p, next);
			break;
		case 'a': {
			/* the attributes wanted are all short names: compare words
			 * instead of looking for the ':' first */
			size_t n = (size_t)(le - v);
			uint8_t d;

			if (n >= 4 && memcmp(v, "rtcp", 4) == 0) {
				if (n == 8 && memcmp(v + 4, "-mux", 4) == 0) {
					if (m != NULL)
						m->rtcp_mux = 1;
				} else if (n > 4 && v[4] == ':' && m != NULL) {
					/* session-level a=rtcp is meaningless: ignored */
					if (parse_rtcp(buf, v + 5, le, m) != 0)
						return SK_SDP_ERR_BAD_RTCP;
				}
			} else if (n == 8 && (d = direction(v, n)) != SK_SDP_DIR_UNSPEC) {
				if (m != NULL)
					m->dir = d;
				else
					sdp->dir = d;
			}
			break;
		}
		default:
			break;
		}
		p = next;
	}
	return first ? SK_SDP_ERR_NO_VERSION : SK_SDP_OK;
}

const struct sk_sdp_conn *sk_sdp_media_conn(const struct sk_sdp *sdp, unsigned i)
{
	if (i >= sdp->n_media)
		return NULL;
	if (sdp->media[i].conn.af != SK_SDP_AF_NONE)
		return &sdp->media[i].conn;
	return &sdp->conn;
}

enum sk_sdp_dir sk_sdp_media_dir(const struct sk_sdp *sdp, unsigned i)
{
	if (i < sdp->n_media && sdp->media[i].dir != SK_SDP_DIR_UNSPEC)
		return (enum sk_sdp_dir)sdp->media[i].dir;
	if (sdp->dir != SK_SDP_DIR_UNSPEC)
		return (enum sk_sdp_dir)sdp->dir;
	return SK_SDP_SENDRECV;
}

uint16_t sk_sdp_media_rtcp_port(const struct sk_sdp *sdp, unsigned i)
{
	const struct sk_sdp_media *m;

	if (i >= sdp->n_media)
		return 0;
	m = &sdp->media[i];
	if (m->rtcp_mux)
		return m->port;
	if (m->has_rtcp)
		return m->rtcp_port;
	return (uint16_t)(m->port + 1);
}
