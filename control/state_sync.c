/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's side of session state on Redis (docs/REDIS.md):
 * values encoded at the session's state changes and queued for the Redis
 * thread; values read by it decoded, validated and applied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "json_writer.h"
#include "sk_log.h"
#include "state_sync.h"

#define SK_SYNC_VERSION 1
/* A dialog's key lives at least this long past its user's registration. */
#define SK_SYNC_DIALOG_MIN_TTL_MS (60u * 1000)
/* How long start waits for the first read (or its next value), and stop for the queue to drain. */
#define SK_SYNC_START_WAIT_MS 3000
#define SK_SYNC_STOP_WAIT_MS 3000
#define SK_SYNC_POLL_MAX 4096

/* --- encoding --- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* S with ; = % | and bytes outside printable ASCII as %XX. */
static void sb_esc(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[4];

		if (c <= 0x20 || c >= 0x7f || c == ';' || c == '=' || c == '%' || c == '|' ||
		    c == ',' || c == '+') {
			snprintf(e, sizeof(e), "%%%02X", c);
			sb_put(b, e, 3);
		} else {
			sb_put(b, s, 1);
		}
	}
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...) __rte_format_printf(2, 3);
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->overflow = true;
		return;
	}
	sb_put(b, tmp, (size_t)n);
}

static void sb_ip(struct sbuf *b, int family, const uint8_t *addr)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, ip, sizeof(ip)) == NULL)
		strcpy(ip, "0");
	sb_fmt(b, "%d,%s", family, ip);
}

static void sb_user_key(struct sbuf *b, const struct sk_user *u)
{
	sb_esc(b, sk_user_aor(u));
	sb_str(b, "|");
	sb_esc(b, sk_user_instance(u));
	sb_str(b, "|");
	sb_esc(b, sk_user_call_id(u));
}

static void user_key_str(const struct sk_session *s, const struct sk_user *u, struct sbuf *b)
{
	sb_str(b, s->cfg->redis_prefix);
	sb_str(b, ":u:");
	sb_user_key(b, u);
}

static void dialog_key_str(const struct sk_session *s, const struct sk_dialog *dg, struct sbuf *b)
{
	sb_str(b, s->cfg->redis_prefix);
	sb_str(b, ":d:");
	sb_esc(b, sk_dialog_call_id(dg));
	sb_str(b, "|");
	sb_esc(b, sk_dialog_tag(dg));
}

static void queue(struct sk_session *s, struct sk_sync_rec *r)
{
	struct sk_sync *y = s->sync;

	if (rte_ring_sp_enqueue_elem(y->out, r, sizeof(*r)) != 0)
		sk_ctr_add(&y->dropped, 1);
}

static struct sk_sync_rec *rec_init(struct sk_sync_rec *r, struct sbuf *k, struct sbuf *v)
{
	memset(r, 0, offsetof(struct sk_sync_rec, key));
	r->key[0] = r->val[0] = '\0';
	*k = (struct sbuf){.p = r->key, .cap = sizeof(r->key)};
	*v = (struct sbuf){.p = r->val, .cap = sizeof(r->val)};
	return r;
}

static void rec_send(struct sk_session *s, struct sk_sync_rec *r, struct sbuf *k, struct sbuf *v)
{
	if (k->overflow || v->overflow) {
		sk_ctr_add(&s->sync->dropped, 1);
		return;
	}
	r->klen = (uint16_t)k->len;
	r->vlen = (uint16_t)v->len;
	queue(s, r);
}

/* Wall-clock milliseconds: the "at" field, for the commit-to-apply delay across nodes. */
static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t user_ttl_ms(const struct sk_user *u, sk_time_ns now)
{
	if (!u->registered || u->expires_at <= now)
		return 0;
	return (u->expires_at - now) / SK_NS_PER_MS;
}

static void write_dialog(struct sk_session *s, uint32_t d, uint64_t ttl_ms)
{
	struct sk_dialog *dg = &s->dialogs[d];
	static struct sk_sync_rec r;
	struct sk_dialog_sdp sdp;
	struct sbuf k, v;
	unsigned int side, i;

	rec_init(&r, &k, &v);
	dialog_key_str(s, dg, &k);
	r.op = SK_SYNC_SET;
	r.ttl_ms = (uint32_t)RTE_MIN(RTE_MAX(ttl_ms, (uint64_t)SK_SYNC_DIALOG_MIN_TTL_MS),
				     (uint64_t)UINT32_MAX);
	sb_fmt(&v, "v=%d;node=", SK_SYNC_VERSION);
	sb_esc(&v, s->sync->node);
	sb_str(&v, ";user=");
	sb_user_key(&v, &s->users[dg->user]);
	for (side = 0; side < SK_SIDE_COUNT; side++) {
		sk_dialog_sdp_get(dg, side, &sdp);
		for (i = 0; i < sdp.n_media && i < SK_EV_MAX_MEDIA; i++) {
			const struct sk_ev_media *m = &sdp.media[i];

			if (m->family != 4 && m->family != 6)
				continue;
			sb_fmt(&v, ";%c%u=", side == SK_SIDE_ACCESS ? 'a' : 'c', i);
			sb_ip(&v, m->family, m->addr);
			sb_fmt(&v, ",%u,%u,%u,%u", m->port, m->rtcp_port, m->rtcp_mux, m->dir);
		}
	}
	rec_send(s, &r, &k, &v);
	dg->synced = true;
}

static bool dialog_has_flows(const struct sk_dialog *dg)
{
	unsigned int i;

	for (i = 0; i < SK_EV_MAX_MEDIA; i++)
		if (dg->flow[i][SK_FLOW_RTP] != SK_NO_INDEX)
			return true;
	return false;
}

void sk_sync_user(struct sk_session *s, uint32_t idx, sk_time_ns now)
{
	struct sk_user *u = &s->users[idx];
	static struct sk_sync_rec r;
	const struct sk_move *mv;
	struct sbuf k, v;
	uint64_t ttl;
	unsigned int i;
	uint32_t d;

	if (s->sync == NULL || s->sync_quiet)
		return;
	ttl = user_ttl_ms(u, now);
	rec_init(&r, &k, &v);
	user_key_str(s, u, &k);
	if (ttl == 0) {
		r.op = SK_SYNC_DEL;
		rec_send(s, &r, &k, &v);
		return;
	}
	r.op = SK_SYNC_SET;
	r.ttl_ms = (uint32_t)RTE_MIN(ttl, (uint64_t)UINT32_MAX);
	sb_fmt(&v, "v=%d;node=", SK_SYNC_VERSION);
	sb_esc(&v, s->sync->node);
	sb_fmt(&v, ";epoch=%" PRIu32 ";at=%" PRIu64 ";reg=1;tr=%u;opts=%" PRIu32 ";contact=",
	       u->move_generation, real_ms(), u->transport, u->opts);
	sb_ip(&v, u->contact.family, u->contact.addr);
	sb_fmt(&v, ",%u", rte_be_to_cpu_16(u->contact.port));
	sb_str(&v, ";sig=");
	for (i = 0; i < u->n_contacts; i++) {
		const struct sk_addr_key *c = &sk_user_contacts(u)[i];

		if (i > 0)
			sb_str(&v, "+");
		sb_ip(&v, c->family, c->addr);
		sb_fmt(&v, ",%u,%u", rte_be_to_cpu_16(c->port),
		       (sk_contact_lookup_ref(&s->tw.t, c) & SK_CONTACT_FROM_HDR) ? 1 : 0);
	}
	sb_str(&v, ";bind=");
	for (i = 0; i < u->n_bindings; i++)
		sb_fmt(&v, "%s%" PRIx64, i > 0 ? "+" : "", sk_user_bindings(u)[i].uri_hash);
	mv = __atomic_load_n(&s->tw.t.user[idx].move, __ATOMIC_RELAXED);
	if (mv != NULL) {
		sb_str(&v, ";mv=");
		sb_ip(&v, mv->family, mv->addr);
		sb_fmt(&v, ",%u,%u", rte_be_to_cpu_16(mv->sip_port),
		       rte_be_to_cpu_16(mv->contact_port));
	}
	rec_send(s, &r, &k, &v);
	/* The user's calls live as long as its registration: their keys follow. */
	for (d = u->first_dialog; d != SK_NO_INDEX; d = s->dialogs[d].next_of_user)
		if (s->dialogs[d].synced && s->dialogs[d].state != SK_DIALOG_ENDING)
			write_dialog(s, d, ttl);
}

void sk_sync_dialog(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (s->sync == NULL || s->sync_quiet || dg->state == SK_DIALOG_ENDING)
		return;
	if (!dialog_has_flows(dg)) {
		sk_sync_dialog_gone(s, d);
		return;
	}
	write_dialog(s, d, user_ttl_ms(&s->users[dg->user], dg->created_at));
}

void sk_sync_dialog_gone(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	static struct sk_sync_rec r;
	struct sbuf k, v;

	if (s->sync == NULL || !dg->synced)
		return;
	dg->synced = false;
	if (s->sync_quiet)
		return;
	rec_init(&r, &k, &v);
	dialog_key_str(s, dg, &k);
	r.op = SK_SYNC_DEL;
	rec_send(s, &r, &k, &v);
}

/* --- decoding: values from Redis are untrusted input --- */

static int unesc(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned int c = (unsigned char)s[i];

		if (c == '%') {
			char hx[3];
			char *end;

			if (i + 2 >= n)
				return -1;
			hx[0] = s[i + 1];
			hx[1] = s[i + 2];
			hx[2] = '\0';
			c = (unsigned int)strtoul(hx, &end, 16);
			if (end != hx + 2 || c == 0)
				return -1;
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			return -1;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Split S (N bytes) at SEP into at most MAX parts; the number of parts, -1 if more. */
static int split(const char *s, size_t n, char sep, const char **part, size_t *len, int max)
{
	int k = 0;
	size_t start = 0, i;

	for (i = 0; i <= n; i++)
		if (i == n || s[i] == sep) {
			if (k == max)
				return -1;
			part[k] = s + start;
			len[k] = i - start;
			k++;
			start = i + 1;
		}
	return k;
}

static int parse_u32(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_hex64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 16)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* "FAMILY,IP" into family and addr (16 bytes, IPv4 in the first 4). */
static int parse_ip(const char *fam, size_t flen, const char *ip, size_t ilen, uint8_t *family,
		    uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];
	uint32_t f;

	if (parse_u32(fam, flen, 6, &f) < 0 || (f != 4 && f != 6) || ilen == 0 ||
	    ilen >= sizeof(buf))
		return -1;
	memcpy(buf, ip, ilen);
	buf[ilen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(f == 4 ? AF_INET : AF_INET6, buf, addr) != 1)
		return -1;
	*family = (uint8_t)f;
	return 0;
}

/* "FAMILY,IP,PORT[,...]": an address key (port in network order); the rest in EXTRA. */
static int parse_addr(const char *s, size_t n, struct sk_addr_key *k, uint32_t *extra, int n_extra)
{
	const char *p[8];
	size_t l[8];
	uint8_t fam, addr[16];
	uint32_t port;
	int np = split(s, n, ',', p, l, 8), i;

	if (np != 3 + n_extra || parse_ip(p[0], l[0], p[1], l[1], &fam, addr) < 0 ||
	    parse_u32(p[2], l[2], 65535, &port) < 0 || port == 0)
		return -1;
	for (i = 0; i < n_extra; i++)
		if (parse_u32(p[3 + i], l[3 + i], 65535, &extra[i]) < 0)
			return -1;
	sk_addr_key_set(k, fam, addr, rte_cpu_to_be_16((uint16_t)port));
	return 0;
}

static int parse_user_key(const char *s, size_t n, struct sk_user_key *k)
{
	const char *p[3];
	size_t l[3];

	memset(k, 0, sizeof(*k));
	if (split(s, n, '|', p, l, 3) != 3 || unesc(p[0], l[0], k->aor, sizeof(k->aor)) < 0 ||
	    unesc(p[1], l[1], k->instance, sizeof(k->instance)) < 0 ||
	    unesc(p[2], l[2], k->call_id, sizeof(k->call_id)) < 0 || k->aor[0] == '\0')
		return -1;
	return 0;
}

#define SK_SYNC_MAX_FIELDS 24

struct fields {
	int n;
	const char *name[SK_SYNC_MAX_FIELDS], *val[SK_SYNC_MAX_FIELDS];
	size_t nlen[SK_SYNC_MAX_FIELDS], vlen[SK_SYNC_MAX_FIELDS];
};

/* "v=1;name=value;..." with the version checked and no name twice. */
static int parse_fields(const char *val, size_t vlen, struct fields *f)
{
	const char *p[SK_SYNC_MAX_FIELDS];
	size_t l[SK_SYNC_MAX_FIELDS];
	int i, j;
	uint32_t v;

	f->n = split(val, vlen, ';', p, l, SK_SYNC_MAX_FIELDS);
	if (f->n < 1)
		return -1;
	for (i = 0; i < f->n; i++) {
		const char *eq = memchr(p[i], '=', l[i]);

		if (eq == NULL || eq == p[i])
			return -1;
		f->name[i] = p[i];
		f->nlen[i] = (size_t)(eq - p[i]);
		f->val[i] = eq + 1;
		f->vlen[i] = l[i] - f->nlen[i] - 1;
		for (j = 0; j < i; j++)
			if (f->nlen[j] == f->nlen[i] &&
			    memcmp(f->name[j], f->name[i], f->nlen[i]) == 0)
				return -1;
	}
	if (f->nlen[0] != 1 || f->name[0][0] != 'v' ||
	    parse_u32(f->val[0], f->vlen[0], 1000, &v) < 0 || v != SK_SYNC_VERSION)
		return -1;
	return 0;
}

static bool is(const struct fields *f, int i, const char *name)
{
	return f->nlen[i] == strlen(name) && memcmp(f->name[i], name, f->nlen[i]) == 0;
}

static const char *key_rest(const char *prefix, const char *kind, const char *key, size_t klen,
			    size_t *rest)
{
	size_t pl = strlen(prefix), kl = strlen(kind);

	if (klen < pl + kl || memcmp(key, prefix, pl) != 0 || memcmp(key + pl, kind, kl) != 0)
		return NULL;
	*rest = klen - pl - kl;
	return key + pl + kl;
}

int sk_sync_decode_user(const char *prefix, const char *key, size_t klen, const char *val,
			size_t vlen, struct sk_sync_user_rec *r)
{
	struct fields f;
	size_t rl;
	const char *rest = key_rest(prefix, ":u:", key, klen, &rl);
	bool have_contact = false, have_node = false;
	int i;

	memset(r, 0, sizeof(*r));
	if (rest == NULL || parse_user_key(rest, rl, &r->key) < 0 ||
	    parse_fields(val, vlen, &f) < 0)
		return -1;
	for (i = 1; i < f.n; i++) {
		const char *v = f.val[i];
		size_t n = f.vlen[i];
		uint32_t x, extra[2];

		if (is(&f, i, "node")) {
			if (unesc(v, n, r->node, sizeof(r->node)) < 0 || r->node[0] == '\0')
				return -1;
			have_node = true;
		} else if (is(&f, i, "at")) {
			uint32_t hi;

			/* Milliseconds since 1970: 13 digits; parsed in two parts. */
			if (n < 4 || n > 16 || parse_u32(v, n - 3, UINT32_MAX, &hi) < 0 ||
			    parse_u32(v + n - 3, 3, 999, &x) < 0)
				return -1;
			r->at_ms = (uint64_t)hi * 1000 + x;
		} else if (is(&f, i, "epoch")) {
			if (parse_u32(v, n, UINT32_MAX, &r->epoch) < 0)
				return -1;
		} else if (is(&f, i, "reg")) {
			if (parse_u32(v, n, 1, &x) < 0)
				return -1;
			r->registered = x == 1;
		} else if (is(&f, i, "tr")) {
			if (parse_u32(v, n, SK_TRANSPORT_TCP, &x) < 0)
				return -1;
			r->transport = (uint8_t)x;
		} else if (is(&f, i, "opts")) {
			if (parse_u32(v, n, UINT32_MAX, &r->opts) < 0)
				return -1;
		} else if (is(&f, i, "contact")) {
			if (parse_addr(v, n, &r->contact, NULL, 0) < 0)
				return -1;
			have_contact = true;
		} else if (is(&f, i, "sig")) {
			const char *p[SK_USER_MAX_CONTACTS];
			size_t l[SK_USER_MAX_CONTACTS];
			int np = n == 0 ? 0 : split(v, n, '+', p, l, SK_USER_MAX_CONTACTS), j;

			if (np < 0)
				return -1;
			for (j = 0; j < np; j++) {
				if (parse_addr(p[j], l[j], &r->sig[j], extra, 1) < 0 ||
				    extra[0] > 1)
					return -1;
				r->sig_hdr[j] = extra[0] == 1;
			}
			r->n_sig = (unsigned int)np;
		} else if (is(&f, i, "bind")) {
			const char *p[SK_USER_MAX_BINDINGS];
			size_t l[SK_USER_MAX_BINDINGS];
			int np = n == 0 ? 0 : split(v, n, '+', p, l, SK_USER_MAX_BINDINGS), j;

			if (np < 0)
				return -1;
			for (j = 0; j < np; j++)
				if (parse_hex64(p[j], l[j], &r->bind[j]) < 0)
					return -1;
			r->n_bind = (unsigned int)np;
		} else if (is(&f, i, "mv")) {
			struct sk_addr_key a;

			if (parse_addr(v, n, &a, extra, 1) < 0 || extra[0] == 0)
				return -1;
			r->has_move = true;
			r->move.family = a.family;
			memcpy(r->move.addr, a.addr, 16);
			r->move.sip_port = a.port;
			r->move.contact_port = rte_cpu_to_be_16((uint16_t)extra[0]);
		}
		/* Unknown names are for later minor additions: skipped. */
	}
	if (!have_node || !have_contact || !r->registered || (r->has_move && r->epoch == 0))
		return -1;
	r->move.generation = r->epoch;
	return 0;
}

int sk_sync_decode_dialog(const char *prefix, const char *key, size_t klen, const char *val,
			  size_t vlen, struct sk_sync_dialog_rec *r)
{
	struct fields f;
	size_t rl;
	const char *rest = key_rest(prefix, ":d:", key, klen, &rl);
	const char *p[2];
	size_t l[2];
	bool have_user = false, have_node = false;
	int i;

	memset(r, 0, sizeof(*r));
	if (rest == NULL || split(rest, rl, '|', p, l, 2) != 2 ||
	    unesc(p[0], l[0], r->call_id, sizeof(r->call_id)) < 0 ||
	    unesc(p[1], l[1], r->tag, sizeof(r->tag)) < 0 || r->call_id[0] == '\0' ||
	    r->tag[0] == '\0' || parse_fields(val, vlen, &f) < 0)
		return -1;
	for (i = 1; i < f.n; i++) {
		const char *v = f.val[i];
		size_t n = f.vlen[i];

		if (is(&f, i, "node")) {
			if (unesc(v, n, r->node, sizeof(r->node)) < 0 || r->node[0] == '\0')
				return -1;
			have_node = true;
		} else if (is(&f, i, "user")) {
			if (parse_user_key(v, n, &r->user) < 0)
				return -1;
			have_user = true;
		} else if (f.nlen[i] == 2 && (f.name[i][0] == 'a' || f.name[i][0] == 'c') &&
			   f.name[i][1] >= '0' && f.name[i][1] < '0' + SK_EV_MAX_MEDIA) {
			int side = f.name[i][0] == 'a' ? SK_SIDE_ACCESS : SK_SIDE_CORE;
			unsigned int line = (unsigned int)(f.name[i][1] - '0');
			struct sk_ev_media *m = &r->sdp[side].media[line];
			struct sk_addr_key a;
			uint32_t extra[3];

			if (parse_addr(v, n, &a, extra, 3) < 0 || extra[0] == 0 || extra[1] > 1 ||
			    extra[2] > 255)
				return -1;
			m->family = a.family;
			memcpy(m->addr, a.addr, 16);
			m->port = rte_be_to_cpu_16(a.port);
			m->rtcp_port = (uint16_t)extra[0];
			m->rtcp_mux = (uint8_t)extra[1];
			m->dir = (uint8_t)extra[2];
			if (r->sdp[side].n_media < line + 1)
				r->sdp[side].n_media = (uint8_t)(line + 1);
		}
	}
	if (!have_node || !have_user)
		return -1;
	return 0;
}

/* --- applying --- */

/* docs/REDIS.md "Conflicts": does a peer's value at EPOCH from NODE win over local state? */
static bool peer_wins(const struct sk_sync *y, uint32_t epoch, const char *node, uint32_t local)
{
	if (epoch != local)
		return epoch > local;
	return strcmp(node, y->node) > 0;
}

static void apply_value(struct sk_session *s, const struct sk_sync_rec *r, bool restoring,
			sk_time_ns now)
{
	struct sk_sync *y = s->sync;
	const char *prefix = s->cfg->redis_prefix;
	size_t rl;

	if (key_rest(prefix, ":u:", r->key, r->klen, &rl) != NULL) {
		struct sk_sync_user_rec u;
		uint32_t idx;

		if (sk_sync_decode_user(prefix, r->key, r->klen, r->val, r->vlen, &u) < 0 ||
		    r->ttl_ms == 0) {
			sk_ctr_add(&y->rejected, 1);
			return;
		}
		if (strcmp(u.node, y->node) == 0 && !restoring) {
			sk_ctr_add(&y->ignored, 1); /* our own write, echoed */
			return;
		}
		idx = sk_user_lookup(s, &u.key);
		if (idx != SK_NO_INDEX && s->users[idx].registered &&
		    !peer_wins(y, u.epoch, u.node, s->users[idx].move_generation)) {
			sk_ctr_add(&y->ignored, 1);
			return;
		}
		if (idx != SK_NO_INDEX && s->users[idx].registered && u.epoch == 0) {
			sk_ctr_add(&y->ignored, 1);
			return;
		}
		if (sk_session_restore_user(s, &u, r->ttl_ms, now) == SK_NO_INDEX)
			return;
		if (!restoring && u.has_move) {
			uint64_t t = real_ms();

			__atomic_store_n(&y->last_delay_ms, t > u.at_ms ? t - u.at_ms : 0,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&y->last_read_ms,
					 r->rx_ms > u.at_ms ? r->rx_ms - u.at_ms : 0,
					 __ATOMIC_RELAXED);
			SK_LOG_LIMITED(
				NOTICE,
				"redis: user %s: handover epoch %" PRIu32
				" from node %s applied %" PRIu64
				" ms after its commit (read from Redis after %" PRIu64 " ms)",
				u.key.aor, u.epoch, u.node, y->last_delay_ms, y->last_read_ms);
		}
	} else if (key_rest(prefix, ":d:", r->key, r->klen, &rl) != NULL) {
		struct sk_sync_dialog_rec d;
		uint32_t user, idx;

		if (sk_sync_decode_dialog(prefix, r->key, r->klen, r->val, r->vlen, &d) < 0) {
			sk_ctr_add(&y->rejected, 1);
			return;
		}
		if (strcmp(d.node, y->node) == 0 && !restoring) {
			sk_ctr_add(&y->ignored, 1);
			return;
		}
		user = sk_user_lookup(s, &d.user);
		if (user == SK_NO_INDEX) {
			sk_ctr_add(&y->ignored, 1); /* its user comes first (or never) */
			return;
		}
		idx = sk_dialog_restore(s, user, d.call_id, d.tag, d.sdp, now);
		if (idx == SK_NO_INDEX)
			return;
		s->dialogs[idx].synced = true; /* its key is there: deleted when the call ends */
	} else {
		sk_ctr_add(&y->rejected, 1);
		return;
	}
	if (restoring) {
		sk_ctr_add(&y->restored, 1);
	} else {
		sk_ctr_add(&y->applied, 1);
		__atomic_store_n(&y->applied_ns, now, __ATOMIC_RELAXED);
	}
}

/* Users sort before dialogs in a read, but a notification may bring a dialog first. */
static unsigned int poll_in(struct sk_session *s, sk_time_ns now, bool restoring, bool *done)
{
	static struct sk_sync_rec r;
	unsigned int n = 0;

	s->sync_quiet = true;
	while (n < SK_SYNC_POLL_MAX && rte_ring_sc_dequeue_elem(s->sync->in, &r, sizeof(r)) == 0) {
		n++;
		if (r.op == SK_SYNC_RESTORED) {
			if (done != NULL)
				*done = true;
			continue;
		}
		if (r.op != SK_SYNC_VALUE || r.klen >= sizeof(r.key) || r.vlen >= sizeof(r.val)) {
			sk_ctr_add(&s->sync->rejected, 1);
			continue;
		}
		r.key[r.klen] = '\0';
		r.val[r.vlen] = '\0';
		apply_value(s, &r, restoring, now);
	}
	s->sync_quiet = false;
	return n;
}

/*
 * After a reconnect (Redis restarted empty, or keys lost meanwhile) every
 * registered user and its calls are written again, a bounded batch per tick
 * so that the queue keeps room for new changes.
 */
static void rewrite_some(struct sk_session *s, sk_time_ns now)
{
	struct sk_sync *y = s->sync;
	uint64_t c = __atomic_load_n(&y->connects, __ATOMIC_RELAXED);
	unsigned int room, n = 0;

	if (c != y->rewrites_seen) {
		y->rewrites_seen = c;
		y->rewrite_cursor = 0;
	}
	if (y->rewrite_cursor == SK_NO_INDEX)
		return;
	room = rte_ring_free_count(y->out) / 2;
	while (y->rewrite_cursor < s->users_hwm && n + 1 + SK_EV_MAX_MEDIA < room) {
		uint32_t i = y->rewrite_cursor++;

		if (s->users[i].in_use && s->users[i].registered) {
			sk_sync_user(s, i, now);
			n += 1 + s->users[i].n_dialogs;
		}
	}
	if (y->rewrite_cursor >= s->users_hwm)
		y->rewrite_cursor = SK_NO_INDEX;
}

void sk_sync_poll(struct sk_session *s, sk_time_ns now)
{
	if (s->sync == NULL)
		return;
	poll_in(s, now, false, NULL);
	rewrite_some(s, now);
}

static int read_password(const char *path, char *out, size_t cap)
{
	FILE *f;
	size_t n;

	out[0] = '\0';
	if (path[0] == '\0')
		return 0;
	f = fopen(path, "r");
	if (f == NULL) {
		SK_LOG(ERR, "redis_password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(out, (int)cap, f) == NULL)
		out[0] = '\0';
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return 0;
}

/* "HOST:PORT[/DB]" or "unix:PATH[/DB]". */
static int parse_target(struct sk_sync *y, const char *spec)
{
	char buf[SK_CONFIG_PATH_MAX];
	char *slash, *colon, *end;
	long v;

	snprintf(buf, sizeof(buf), "%s", spec);
	y->db = 0;
	slash = strrchr(buf, '/');
	if (slash != NULL && slash[1] != '\0' &&
	    strspn(slash + 1, "0123456789") == strlen(slash + 1)) {
		v = strtol(slash + 1, &end, 10);
		if (v < 0 || v > 65535)
			return -1;
		y->db = (int)v;
		*slash = '\0';
	}
	if (strncmp(buf, "unix:", 5) == 0) {
		if (buf[5] == '\0' || strlen(buf + 5) >= sizeof(y->unix_path))
			return -1;
		snprintf(y->unix_path, sizeof(y->unix_path), "%s", buf + 5);
		return 0;
	}
	colon = strrchr(buf, ':');
	if (colon == NULL || colon == buf)
		return -1;
	*colon = '\0';
	v = strtol(colon + 1, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	y->port = (int)v;
	if (buf[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		snprintf(y->host, sizeof(y->host), "%s", buf + 1);
	} else {
		snprintf(y->host, sizeof(y->host), "%s", buf);
	}
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sk_sync_start(struct sk_session *s, sk_time_ns now)
{
	const struct sk_config *cfg = s->cfg;
	struct sk_sync *y;
	uint64_t deadline;
	bool done = false;

	if (cfg->redis[0] == '\0')
		return 0;
	/* The prefix goes into SCAN MATCH and channel patterns: no glob characters. */
	if (cfg->redis_prefix[0] == '\0' ||
	    strspn(cfg->redis_prefix,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		   "-_.") != strlen(cfg->redis_prefix)) {
		SK_LOG(ERR, "redis_prefix '%s': letters, digits, '-', '_' and '.' only",
		       cfg->redis_prefix);
		return -1;
	}
	y = rte_zmalloc("sk_sync", sizeof(*y), RTE_CACHE_LINE_SIZE);
	if (y == NULL)
		return -1;
	y->cfg = cfg;
	if (parse_target(y, cfg->redis) < 0) {
		SK_LOG(ERR, "redis: '%s' is not HOST:PORT[/DB] or unix:PATH[/DB]", cfg->redis);
		rte_free(y);
		return -1;
	}
	if (read_password(cfg->redis_password_file, y->password, sizeof(y->password)) < 0) {
		rte_free(y);
		return -1;
	}
	if (cfg->node_id[0] != '\0')
		snprintf(y->node, sizeof(y->node), "%s", cfg->node_id);
	else if (gethostname(y->node, sizeof(y->node) - 1) != 0 || y->node[0] == '\0')
		snprintf(y->node, sizeof(y->node), "sipkeep");
	y->out = rte_ring_create_elem("sk_redis_out", sizeof(struct sk_sync_rec),
				      rte_align32pow2(cfg->redis_queue + 1), (int)rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	y->in = rte_ring_create_elem("sk_redis_in", sizeof(struct sk_sync_rec), 1024,
				     (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (y->out == NULL || y->in == NULL) {
		SK_LOG(ERR, "redis: cannot make its queues: %s", rte_strerror(rte_errno));
		rte_ring_free(y->out);
		rte_ring_free(y->in);
		rte_free(y);
		return -1;
	}
	if (pthread_create(&y->thread, NULL, sk_redis_thread, y) != 0) {
		SK_LOG(ERR, "redis: cannot start its thread");
		rte_ring_free(y->out);
		rte_ring_free(y->in);
		rte_free(y);
		return -1;
	}
	y->thread_up = true;
	y->rewrite_cursor = SK_NO_INDEX;
	s->sync = y;
	SK_LOG(INFO, "redis: %s as node %s, prefix %s%s%s", cfg->redis, y->node, cfg->redis_prefix,
	       cfg->redis_restore ? ", restoring" : "", cfg->redis_follow ? ", following" : "");
	/* The first read applies before the first frame, so that restored calls carry on. */
	deadline = mono_ms() + SK_SYNC_START_WAIT_MS;
	while (!done && mono_ms() < deadline) {
		if (poll_in(s, now, true, &done) != 0) {
			deadline = mono_ms() + SK_SYNC_START_WAIT_MS; /* a large restore goes on */
		} else {
			if (__atomic_load_n(&y->restore_done, __ATOMIC_ACQUIRE) &&
			    rte_ring_count(y->in) == 0)
				break;
			usleep(1000);
		}
	}
	/* State made before a first connect is written once one comes. */
	y->rewrites_seen = __atomic_load_n(&y->connects, __ATOMIC_RELAXED);
	if (done)
		SK_LOG(NOTICE, "redis: %" PRIu64 " value(s) restored, %" PRIu64 " rejected",
		       y->restored, y->rejected);
	else if (__atomic_load_n(&y->link, __ATOMIC_RELAXED) != SK_LINK_UP)
		SK_LOG(WARNING, "redis: %s unreachable; starting without it, retrying", cfg->redis);
	return 0;
}

void sk_sync_stop(struct sk_session *s)
{
	struct sk_sync *y = s->sync;
	uint64_t deadline = mono_ms() + SK_SYNC_STOP_WAIT_MS;

	if (y == NULL)
		return;
	/* What is queued goes out first while the link is up (bounded). */
	while (rte_ring_count(y->out) != 0 &&
	       __atomic_load_n(&y->link, __ATOMIC_RELAXED) == SK_LINK_UP && mono_ms() < deadline)
		usleep(1000);
	usleep(50 * 1000); /* the last batch taken off the ring gets its answers */
	__atomic_store_n(&y->stop, true, __ATOMIC_RELEASE);
	if (y->thread_up)
		pthread_join(y->thread, NULL);
	rte_ring_free(y->out);
	rte_ring_free(y->in);
	rte_free(y);
	s->sync = NULL;
}

static const char *const link_names[] = {"down", "connecting", "up"};

void sk_sync_json(const struct sk_session *s, struct sk_json *j)
{
	const struct sk_sync *y = s->sync;
	uint32_t link = y ? __atomic_load_n(&y->link, __ATOMIC_RELAXED) : 0;

	/* Without redis the same members, zero: one shape for tables and scrapers. */
	sk_json_bool(j, "configured", y != NULL);
	sk_json_str(j, "server", y ? y->cfg->redis : "-");
	sk_json_str(j, "node_id", y ? y->node : "-");
	sk_json_str(j, "link",
		    y == NULL			 ? "off"
		    : link < RTE_DIM(link_names) ? link_names[link]
						 : "?");
	sk_json_u64(j, "queue_depth", y ? rte_ring_count(y->out) : 0);
	sk_json_u64(j, "queue_size", y ? rte_ring_get_capacity(y->out) : 0);
	sk_json_u64(j, "writes", y ? __atomic_load_n(&y->writes, __ATOMIC_RELAXED) : 0);
	sk_json_u64(j, "writes_dropped", y ? sk_ctr_read(&y->dropped) : 0);
	sk_json_u64(j, "errors", y ? __atomic_load_n(&y->errors, __ATOMIC_RELAXED) : 0);
	sk_json_u64(j, "connects", y ? __atomic_load_n(&y->connects, __ATOMIC_RELAXED) : 0);
	sk_json_u64(j, "resyncs", y ? __atomic_load_n(&y->resyncs, __ATOMIC_RELAXED) : 0);
	sk_json_u64(j, "notifications", y ? __atomic_load_n(&y->notified, __ATOMIC_RELAXED) : 0);
	sk_json_u64(j, "restored", y ? sk_ctr_read(&y->restored) : 0);
	sk_json_u64(j, "peer_updates_applied", y ? sk_ctr_read(&y->applied) : 0);
	sk_json_u64(j, "values_ignored", y ? sk_ctr_read(&y->ignored) : 0);
	sk_json_u64(j, "values_rejected", y ? sk_ctr_read(&y->rejected) : 0);
	sk_json_u64(j, "last_peer_handover_delay_ms",
		    y ? __atomic_load_n(&y->last_delay_ms, __ATOMIC_RELAXED) : 0);
	sk_json_u64(j, "last_peer_handover_read_ms",
		    y ? __atomic_load_n(&y->last_read_ms, __ATOMIC_RELAXED) : 0);
}
