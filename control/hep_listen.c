/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HEP mirror on the control thread (hep_listen.h, docs/HEP.md). Sockets
 * are non-blocking and polled from the control loop with a bounded amount of
 * work per tick; every frame goes allowlist, decode, auth key, SIP parse,
 * side, event (sk_sip_event_fill, the workers' builder), dedup, apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "hep_listen.h"
#include "sip_parse.h"
#include "sk_events.h"
#include "sk_hep.h"
#include "sk_log.h"
#include "sk_pkt.h"
#include "sk_sip_methods.h"

/* Bounds of the TCP side and of one tick's work. */
#define HEP_MAX_CONNS 16
#define HEP_CONN_BUF 65536 /* a HEPv3 frame is at most 65535 bytes */
#define HEP_IDLE_NS (60000 * SK_NS_PER_MS)
#define HEP_FRAMES_PER_TICK 64

struct hep_conn {
	int fd; /* -1: free */
	uint8_t family;
	uint8_t peer[16];
	uint32_t used;
	sk_time_ns last;
	uint8_t *buf;
};

struct sk_hep {
	struct sk_listen_addr addr;
	int udp_fd, tcp_fd;
	struct hep_conn conns[HEP_MAX_CONNS];
	struct sk_sip_msg msg;
	struct sk_sdp sdp;
	struct sk_sip_event ev;
	uint8_t dgram[65536];
};

/* sk_hep_err -> its counter, in enum order. */
static const enum sk_control_counter err_ctr[SK_HEP_ERR_COUNT] = {
	[SK_HEP_ERR_TRUNCATED] = SK_CCTR_hep_truncated,
	[SK_HEP_ERR_BAD_MAGIC] = SK_CCTR_hep_bad_magic,
	[SK_HEP_ERR_BAD_LENGTH] = SK_CCTR_hep_bad_length,
	[SK_HEP_ERR_DUPLICATE] = SK_CCTR_hep_duplicate_chunk,
	[SK_HEP_ERR_MISSING] = SK_CCTR_hep_missing_chunks,
	[SK_HEP_ERR_COMPRESSED] = SK_CCTR_hep_compressed,
	[SK_HEP_ERR_NO_PAYLOAD] = SK_CCTR_hep_no_payload,
	[SK_HEP_ERR_PAYLOAD_BIG] = SK_CCTR_hep_payload_too_big,
	[SK_HEP_ERR_NOT_SIP] = SK_CCTR_hep_not_sip,
};

static const char *addr_str(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static void count(struct sk_app *app, enum sk_control_counter c)
{
	sk_session_count(&app->session, c);
}

/*
 * The side a mirrored message came from: from access when its source is in
 * access_prefixes, from core when its destination is; both or neither: none.
 */
static int mirror_side(const struct sk_config *cfg, const struct sk_hep_msg *m)
{
	bool src = sk_config_is_access_addr(cfg, m->family, m->src);
	bool dst = sk_config_is_access_addr(cfg, m->family, m->dst);

	if (src == dst)
		return -1;
	return src ? SK_SIDE_ACCESS : SK_SIDE_CORE;
}

/*
 * UDP (17) as UDP; anything else (TCP, or a sender's own code for TLS) to or
 * from sip_tls_port as TLS, else as TCP.
 */
#define HEP_PROTO_KAMAILIO_TLS 22

static enum sk_transport mirror_transport(const struct sk_config *cfg, const struct sk_hep_msg *m)
{
	if (m->ip_proto == IPPROTO_UDP)
		return SK_TRANSPORT_UDP;
	/*
	 * Kamailio's siptrace writes 22 in the protocol chunk for what it took
	 * over TLS, whatever the port; others write 6 (TCP): then the port says.
	 */
	if (m->ip_proto == HEP_PROTO_KAMAILIO_TLS)
		return SK_TRANSPORT_TLS;
	return m->sport == cfg->sip_tls_port || m->dport == cfg->sip_tls_port ? SK_TRANSPORT_TLS
									      : SK_TRANSPORT_TCP;
}

static void apply_sip(struct sk_app *app, struct sk_hep *h, const struct sk_hep_msg *m,
		      sk_time_ns now)
{
	const char *buf = (const char *)m->payload;
	struct sk_pkt_meta meta;
	enum sk_sip_err err;
	int side;

	err = sk_sip_parse(buf, m->payload_len, &h->msg);
	if (err != SK_SIP_OK) {
		count(app, SK_CCTR_hep_sip_parse_errors);
		return;
	}
	side = mirror_side(&app->cfg, m);
	if (side < 0) {
		count(app, SK_CCTR_hep_side_unknown);
		return;
	}
	if (!sk_sip_tracked(h->msg.cseq_method, h->msg.is_request, (enum sk_side)side))
		return;
	memset(&meta, 0, sizeof(meta));
	meta.ip_version = m->family;
	meta.l4_proto = m->ip_proto;
	meta.sport = m->sport;
	meta.dport = m->dport;
	memcpy(meta.src, m->src, 16);
	memcpy(meta.dst, m->dst, 16);
	if (!sk_sip_event_fill(&h->ev, &h->msg, &h->sdp, (enum sk_side)side, &meta, buf,
			       m->payload_len, mirror_transport(&app->cfg, m), now, UINT16_MAX)) {
		count(app, SK_CCTR_hep_fields_too_long);
		return;
	}
	h->ev.hep = 1;
	if (sk_session_dedup(&app->session, &h->ev)) {
		count(app, SK_CCTR_hep_duplicates);
		return;
	}
	count(app, SK_CCTR_hep_applied);
	sk_session_apply(&app->session, &h->ev);
}

void sk_hep_input(struct sk_app *app, int family, const uint8_t *from, const uint8_t *data,
		  size_t len, sk_time_ns now)
{
	struct sk_hep *h = app->hep;
	struct sk_hep_msg m;
	enum sk_hep_err err;
	char a[64];

	if (h == NULL)
		return;
	count(app, SK_CCTR_hep_frames);
	if (!sk_prefix_set_has(&app->cfg.hep_sources, family, from)) {
		count(app, SK_CCTR_hep_source_refused);
		SK_LOG_LIMITED(WARNING, "HEP from %s: not in hep_sources, ignored",
			       addr_str(family, from, a, sizeof(a)));
		return;
	}
	err = sk_hep_parse(data, len, &m);
	if (m.n_unknown != 0)
		sk_ctr_add(&app->session.ctr[SK_CCTR_hep_unknown_chunks], m.n_unknown);
	if (err != SK_HEP_OK) {
		count(app, err_ctr[err]);
		if (err != SK_HEP_ERR_NOT_SIP)
			SK_LOG_LIMITED(WARNING, "HEP from %s: %s, dropped",
				       addr_str(family, from, a, sizeof(a)), sk_hep_err_name(err));
		return;
	}
	if (!sk_hep_auth_ok(&m, app->cfg.hep_auth_key)) {
		count(app, SK_CCTR_hep_auth_refused);
		SK_LOG_LIMITED(WARNING, "HEP from %s: wrong or no auth key, ignored",
			       addr_str(family, from, a, sizeof(a)));
		return;
	}
	apply_sip(app, h, &m, now);
}

bool sk_hep_replay_frame(struct sk_app *app, const uint8_t *frame, uint32_t len, sk_time_ns now)
{
	struct sk_hep *h = app->hep;
	struct sk_pkt_meta meta;
	static const uint8_t any[16];

	if (h == NULL)
		return false;
	sk_pkt_parse(frame, len, &meta);
	if (meta.ip_version != h->addr.family || meta.l4_proto != IPPROTO_UDP ||
	    meta.cls == SK_PKT_L3_MALFORMED || meta.dport != h->addr.port)
		return false;
	if (memcmp(h->addr.addr, any, 16) != 0 &&
	    memcmp(h->addr.addr, meta.dst, h->addr.family == 4 ? 4 : 16) != 0)
		return false;
	if ((uint32_t)meta.payload_off + meta.payload_len > len)
		return false;
	sk_hep_input(app, meta.ip_version, meta.src, frame + meta.payload_off, meta.payload_len,
		     now);
	return true;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static socklen_t sockaddr_of(const struct sk_listen_addr *la, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (la->family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(la->port);
		memcpy(&s4->sin_addr, la->addr, 4);
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(la->port);
		memcpy(&s6->sin6_addr, la->addr, 16);
		return sizeof(*s6);
	}
}

/* The sender's family and address; an IPv4-mapped IPv6 address is IPv4. */
static int peer_of(const struct sockaddr_storage *ss, uint8_t addr[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 4;
	}
	if (ss->ss_family != AF_INET6)
		return 0;
	memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	if (memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		return 4;
	}
	return 6;
}

static int open_socket(const struct sk_listen_addr *la, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(la, &ss);
	int one = 1, fd;

	fd = socket(la->family == 4 ? AF_INET : AF_INET6, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    set_nonblock(fd) < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    (type == SOCK_STREAM && listen(fd, HEP_MAX_CONNS) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

int sk_hep_open(struct sk_app *app)
{
	struct sk_hep *h;
	unsigned int i;

	if (app->cfg.hep_listen[0] == '\0')
		return 0;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -1;
	h->udp_fd = h->tcp_fd = -1;
	for (i = 0; i < HEP_MAX_CONNS; i++)
		h->conns[i].fd = -1;
	if (sk_listen_addr_parse(app->cfg.hep_listen, &h->addr) < 0) {
		free(h);
		return -1;
	}
	app->hep = h;
	if (app->cfg.hep_sources.n == 0)
		SK_LOG(WARNING, "hep_listen %s with hep_sources empty: no HEP is accepted",
		       app->cfg.hep_listen);
	if (!app->live)
		return 0;
	h->udp_fd = open_socket(&h->addr, SOCK_DGRAM);
	h->tcp_fd = open_socket(&h->addr, SOCK_STREAM);
	if (h->udp_fd < 0 || h->tcp_fd < 0) {
		SK_LOG(ERR, "hep_listen %s: %s", app->cfg.hep_listen, strerror(errno));
		sk_hep_close(app);
		return -1;
	}
	SK_LOG(INFO, "HEP mirror on %s (UDP and TCP), %u source prefix(es)%s", app->cfg.hep_listen,
	       app->cfg.hep_sources.n, app->cfg.hep_auth_key[0] ? ", auth key required" : "");
	return 0;
}

static void conn_close(struct hep_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->used = 0;
}

void sk_hep_close(struct sk_app *app)
{
	struct sk_hep *h = app->hep;
	unsigned int i;

	if (h == NULL)
		return;
	for (i = 0; i < HEP_MAX_CONNS; i++) {
		if (h->conns[i].fd >= 0)
			conn_close(&h->conns[i]);
		free(h->conns[i].buf);
	}
	if (h->udp_fd >= 0)
		close(h->udp_fd);
	if (h->tcp_fd >= 0)
		close(h->tcp_fd);
	free(h);
	app->hep = NULL;
}

static unsigned int poll_udp(struct sk_app *app, struct sk_hep *h, unsigned int budget,
			     sk_time_ns now)
{
	unsigned int n = 0;

	while (n < budget) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		uint8_t peer[16];
		ssize_t r;
		int fam;

		r = recvfrom(h->udp_fd, h->dgram, sizeof(h->dgram), 0, (struct sockaddr *)&ss, &sl);
		if (r < 0)
			break;
		n++;
		fam = peer_of(&ss, peer);
		if (fam != 0)
			sk_hep_input(app, fam, peer, h->dgram, (size_t)r, now);
	}
	return n;
}

static void accept_conns(struct sk_app *app, struct sk_hep *h, sk_time_ns now)
{
	unsigned int tries, i;

	for (tries = 0; tries < 4; tries++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct hep_conn *c = NULL;
		int fd;

		uint8_t peer[16];
		int fam;

		fd = accept4(h->tcp_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* An outsider holds no connection slot: refused at once. */
		fam = peer_of(&ss, peer);
		if (fam == 0 || !sk_prefix_set_has(&app->cfg.hep_sources, fam, peer)) {
			count(app, SK_CCTR_hep_source_refused);
			close(fd);
			continue;
		}
		for (i = 0; i < HEP_MAX_CONNS && c == NULL; i++)
			if (h->conns[i].fd < 0)
				c = &h->conns[i];
		if (c != NULL && c->buf == NULL)
			c->buf = malloc(HEP_CONN_BUF);
		if (c == NULL || c->buf == NULL) {
			count(app, SK_CCTR_hep_tcp_refused);
			SK_LOG_LIMITED(WARNING, "HEP over TCP: %u connections open, one refused",
				       HEP_MAX_CONNS);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->family = (uint8_t)fam;
		memcpy(c->peer, peer, 16);
		c->used = 0;
		c->last = now;
	}
}

/* Frames whole in the buffer, up to BUDGET; false when the stream is no HEPv3. */
static bool conn_frames(struct sk_app *app, struct hep_conn *c, unsigned int *budget,
			sk_time_ns now)
{
	uint32_t off = 0;

	while (*budget > 0) {
		long n = sk_hep_frame_len(c->buf + off, c->used - off);

		if (n < 0)
			return false;
		if (n == 0 || (uint32_t)n > c->used - off)
			break;
		sk_hep_input(app, c->family, c->peer, c->buf + off, (size_t)n, now);
		off += (uint32_t)n;
		(*budget)--;
	}
	memmove(c->buf, c->buf + off, c->used - off);
	c->used -= off;
	return true;
}

static void poll_tcp(struct sk_app *app, struct sk_hep *h, unsigned int budget, sk_time_ns now)
{
	unsigned int i;

	accept_conns(app, h, now);
	for (i = 0; i < HEP_MAX_CONNS; i++) {
		struct hep_conn *c = &h->conns[i];
		ssize_t r = 0;

		if (c->fd < 0)
			continue;
		if (c->used < HEP_CONN_BUF) {
			r = recv(c->fd, c->buf + c->used, HEP_CONN_BUF - c->used, 0);
			if (r == 0 ||
			    (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
				conn_close(c);
				continue;
			}
			if (r > 0) {
				c->used += (uint32_t)r;
				c->last = now;
			}
		}
		if (!conn_frames(app, c, &budget, now)) {
			count(app, SK_CCTR_hep_tcp_closed_bad);
			conn_close(c);
		} else if (now - c->last > HEP_IDLE_NS) {
			count(app, SK_CCTR_hep_tcp_closed_idle);
			conn_close(c);
		}
	}
}

void sk_hep_poll(struct sk_app *app, sk_time_ns now)
{
	struct sk_hep *h = app->hep;
	unsigned int used;

	if (h == NULL || h->udp_fd < 0)
		return;
	used = poll_udp(app, h, HEP_FRAMES_PER_TICK, now);
	poll_tcp(app, h, HEP_FRAMES_PER_TICK - used / 2, now);
}
