/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus /metrics (see metrics.h): one thread, one poll() over the listen
 * socket, a wake-up eventfd and at most SK_METRICS_MAX_CLIENTS non-blocking
 * connections. The reply is rendered when the request is complete, from the
 * same reads `show stats` makes (sk_stats_*_total, atomic loads), then written
 * as the client takes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "app.h"
#include "metrics.h"
#include "sip_parse.h"
#include "sk_log.h"

static const char *const port_counter_help[SK_PCTR_COUNT] = {
#define SK_X(name, help) help,
	SK_PORT_COUNTERS(SK_X)
#undef SK_X
};

static const char *const worker_counter_help[SK_WCTR_COUNT] = {
#define SK_X(name, help) help,
	SK_WORKER_COUNTERS(SK_X)
#undef SK_X
};

static const char *const control_counter_help[SK_CCTR_COUNT] = {
#define SK_X(name, help) help,
	SK_CONTROL_COUNTERS(SK_X)
#undef SK_X
};

static const char *const metrics_counter_names[SK_MCTR_COUNT] = {
#define SK_X(name, help) #name,
	SK_METRICS_COUNTERS(SK_X)
#undef SK_X
};

static const char *const metrics_counter_help[SK_MCTR_COUNT] = {
#define SK_X(name, help) help,
	SK_METRICS_COUNTERS(SK_X)
#undef SK_X
};

struct mclient {
	int fd; /* -1: free slot */
	uint64_t deadline_ms;
	size_t req_len;
	char req[SK_METRICS_REQUEST_MAX];
	char *out; /* the reply, malloc'd; NULL while reading the request */
	size_t out_len, out_off;
};

static struct {
	const struct sk_app *app;
	pthread_t thread;
	bool running;
	int listen_fd;
	int wake_fd;
	bool stop;
	unsigned int n_clients;
	struct mclient cl[SK_METRICS_MAX_CLIENTS];
	uint64_t ctr[SK_MCTR_COUNT];
} m = {.listen_fd = -1, .wake_fd = -1};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the exposition format */

/* HELP text: backslash and newline escaped. */
static void put_help(FILE *f, const char *name, const char *type, const char *help)
{
	const char *p;

	fprintf(f, "# HELP sipkeep_%s ", name);
	for (p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE sipkeep_%s %s\n", name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	char full[128];

	snprintf(full, sizeof(full), "%s_total", name);
	put_help(f, full, "counter", help);
	fprintf(f, "sipkeep_%s %" PRIu64 "\n", full, v);
}

static void render(FILE *f)
{
	const struct sk_app *app = m.app;
	const struct sk_session *s = &app->session;
	unsigned int i;
	int c, side;

	put_help(f, "uptime_seconds", "gauge", "seconds since sipkeep started");
	fprintf(f, "sipkeep_uptime_seconds %.3f\n",
		(double)(__atomic_load_n(&app->now_ns, __ATOMIC_RELAXED) - app->start_ns) / 1e9);

	/* Ports: the workers' counters summed, then what the NIC says. */
	for (c = 0; c < SK_PCTR_COUNT; c++) {
		char name[64];

		snprintf(name, sizeof(name), "port_%s_total", sk_port_counter_names[c]);
		put_help(f, name, "counter", port_counter_help[c]);
		for (side = 0; side < SK_SIDE_COUNT; side++)
			fprintf(f, "sipkeep_%s{port=\"%s\"} %" PRIu64 "\n", name,
				sk_side_name((enum sk_side)side),
				sk_stats_port_total(app, side, (enum sk_port_counter)c));
	}
	if (app->live) {
		static const struct {
			const char *name, *help;
			size_t off;
		} nic[] = {
			{"port_rx_missed_total", "frames the NIC dropped: its RX ring was full",
			 offsetof(struct rte_eth_stats, imissed)},
			{"port_rx_nombuf_total", "frames the NIC dropped: no mbuf to receive into",
			 offsetof(struct rte_eth_stats, rx_nombuf)},
			{"port_rx_errors_total", "erroneous frames received (NIC)",
			 offsetof(struct rte_eth_stats, ierrors)},
			{"port_tx_errors_total", "failed transmissions (NIC)",
			 offsetof(struct rte_eth_stats, oerrors)},
		};
		struct rte_eth_stats es[SK_SIDE_COUNT];
		bool ok[SK_SIDE_COUNT];
		size_t n;

		for (side = 0; side < SK_SIDE_COUNT; side++)
			ok[side] = rte_eth_stats_get(app->port_id[side], &es[side]) == 0;
		for (n = 0; n < RTE_DIM(nic); n++) {
			put_help(f, nic[n].name, "counter", nic[n].help);
			for (side = 0; side < SK_SIDE_COUNT; side++)
				if (ok[side])
					fprintf(f, "sipkeep_%s{port=\"%s\"} %" PRIu64 "\n",
						nic[n].name, sk_side_name((enum sk_side)side),
						*(const uint64_t *)((const char *)&es[side] +
								    nic[n].off));
		}
	}

	/* Every counter, in `show stats` order: the workers' summed, then the control thread's. */
	for (c = 0; c < SK_WCTR_COUNT; c++)
		put_counter(f, sk_worker_counter_names[c], worker_counter_help[c],
			    sk_stats_worker_total(app, (enum sk_worker_counter)c));
	for (c = 0; c < SK_CCTR_COUNT; c++)
		put_counter(f, sk_control_counter_names[c], control_counter_help[c],
			    sk_ctr_read(&s->ctr[c]));
	put_help(f, "sip_parse_errors_by_reason_total", "counter",
		 "SIP messages that did not parse, by reason");
	for (c = 0; c < SK_SIP_ERR_COUNT; c++) {
		uint64_t sum = 0;

		if (c == SK_SIP_OK)
			continue;
		for (i = 0; i < app->n_workers; i++)
			sum += sk_ctr_read(&app->workers[i].sip_parse_error[c]);
		fputs("sipkeep_sip_parse_errors_by_reason_total{reason=\"", f);
		put_label_value(f, sk_sip_err_str((enum sk_sip_err)c));
		fprintf(f, "\"} %" PRIu64 "\n", sum);
	}

	/* Table usage: what the tables hold now, and how much they can hold. */
	put_help(f, "table_in_use", "gauge",
		 "entries in use: registered users, dialogs, media flows (RTP and RTCP each)");
	fprintf(f, "sipkeep_table_in_use{table=\"users\"} %u\n",
		__atomic_load_n(&s->users_in_use, __ATOMIC_RELAXED));
	fprintf(f, "sipkeep_table_in_use{table=\"dialogs\"} %u\n",
		__atomic_load_n(&s->dialogs_in_use, __ATOMIC_RELAXED));
	fprintf(f, "sipkeep_table_in_use{table=\"flows\"} %u\n",
		__atomic_load_n(&s->tw.flows_published, __ATOMIC_RELAXED));
	put_help(f, "table_capacity", "gauge",
		 "entries a table can hold (max_users, max_dialogs, 2 * max_streams)");
	fprintf(f, "sipkeep_table_capacity{table=\"users\"} %u\n", app->cfg.max_users);
	fprintf(f, "sipkeep_table_capacity{table=\"dialogs\"} %u\n", app->cfg.max_dialogs);
	fprintf(f, "sipkeep_table_capacity{table=\"flows\"} %u\n", s->tw.t.max_flows);

	/* Per worker: its queues' frames and its polling loop. */
	put_help(f, "worker_info", "gauge", "a worker's lcore and queue, as labels (value 1)");
	for (i = 0; i < app->n_workers; i++)
		fprintf(f, "sipkeep_worker_info{worker=\"%u\",lcore=\"%u\",queue=\"%u\"} 1\n", i,
			app->workers[i].lcore_id, (unsigned int)app->workers[i].queue_id);
	for (c = 0; c < SK_PCTR_COUNT; c++) {
		char name[64];

		snprintf(name, sizeof(name), "worker_port_%s_total", sk_port_counter_names[c]);
		put_help(f, name, "counter", port_counter_help[c]);
		for (i = 0; i < app->n_workers; i++)
			for (side = 0; side < SK_SIDE_COUNT; side++)
				fprintf(f, "sipkeep_%s{worker=\"%u\",port=\"%s\"} %" PRIu64 "\n",
					name, i, sk_side_name((enum sk_side)side),
					sk_ctr_read(&app->workers[i].port_ctr[side][c]));
	}
	{
		static const struct {
			const char *name, *help;
			size_t off;
		} loop[] = {
			{"worker_busy_cycles_total", "TSC cycles spent in polls that moved frames",
			 offsetof(struct sk_worker, busy_cycles)},
			{"worker_idle_cycles_total", "TSC cycles spent in empty polls",
			 offsetof(struct sk_worker, idle_cycles)},
			{"worker_polls_total", "polling loop iterations",
			 offsetof(struct sk_worker, polls)},
		};
		size_t n;

		for (n = 0; n < RTE_DIM(loop); n++) {
			put_help(f, loop[n].name, "counter", loop[n].help);
			for (i = 0; i < app->n_workers; i++)
				fprintf(f, "sipkeep_%s{worker=\"%u\"} %" PRIu64 "\n", loop[n].name,
					i,
					sk_ctr_read(
						(const uint64_t *)((const char *)&app->workers[i] +
								   loop[n].off)));
		}
	}

	/* This server. */
	for (c = 0; c < SK_MCTR_COUNT; c++)
		put_counter(f, metrics_counter_names[c], metrics_counter_help[c], m.ctr[c]);
	put_help(f, "metrics_connections", "gauge", "metrics connections open, this one included");
	fprintf(f, "sipkeep_metrics_connections %u\n", m.n_clients);
}

/* ---- HTTP */

static void client_close(struct mclient *cl)
{
	close(cl->fd);
	cl->fd = -1;
	free(cl->out);
	cl->out = NULL;
	m.n_clients--;
}

static void reply(struct mclient *cl, const char *status, const char *extra_headers,
		  const char *body, size_t body_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		client_close(cl);
		return;
	}
	fprintf(f,
		"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: "
		"close\r\n\r\n",
		status,
		body_len && strncmp(status, "200", 3) == 0
			? "text/plain; version=0.0.4; charset=utf-8"
			: "text/plain; charset=utf-8",
		body_len, extra_headers);
	fwrite(body, 1, body_len, f);
	if (fclose(f) != 0) {
		free(buf);
		client_close(cl);
		return;
	}
	cl->out = buf;
	cl->out_len = len;
	cl->out_off = 0;
	cl->deadline_ms = mono_ms() + SK_METRICS_REPLY_TIMEOUT_MS;
}

static void reply_text(struct mclient *cl, const char *status, const char *extra_headers)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	m.ctr[SK_MCTR_metrics_requests_bad]++;
	reply(cl, status, extra_headers, body, (size_t)n);
}

/* A complete header block is in cl->req: answer it. */
static void handle_request(struct mclient *cl)
{
	char *sp1, *sp2, *eol;
	size_t plen;

	eol = strpbrk(cl->req, "\r\n");
	*eol = '\0';
	sp1 = strchr(cl->req, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		reply_text(cl, "400 Bad Request", "");
		return;
	}
	*sp1 = '\0';
	if (strcmp(cl->req, "GET") != 0) {
		reply_text(cl, "405 Method Not Allowed", "Allow: GET\r\n");
		return;
	}
	plen = (size_t)(sp2 - (sp1 + 1));
	if (!((plen == 8 || (plen > 8 && sp1[9] == '?')) && strncmp(sp1 + 1, "/metrics", 8) == 0)) {
		reply_text(cl, "404 Not Found", "");
		return;
	}
	{
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);

		if (f == NULL) {
			client_close(cl);
			return;
		}
		m.ctr[SK_MCTR_metrics_requests_served]++;
		render(f);
		if (fclose(f) != 0) {
			free(body);
			client_close(cl);
			return;
		}
		reply(cl, "200 OK", "", body, len);
		free(body);
	}
}

static void client_read(struct mclient *cl)
{
	ssize_t n = recv(cl->fd, cl->req + cl->req_len, sizeof(cl->req) - 1 - cl->req_len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->req_len += (size_t)n;
	cl->req[cl->req_len] = '\0';
	if (strstr(cl->req, "\r\n\r\n") != NULL || strstr(cl->req, "\n\n") != NULL) {
		handle_request(cl);
		return;
	}
	if (cl->req_len == sizeof(cl->req) - 1)
		reply_text(cl, "431 Request Header Fields Too Large", "");
}

static void client_write(struct mclient *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			client_close(cl);
			return;
		}
		cl->out_off += (size_t)n;
	}
	/* All sent: close our side; the client reads the rest and sees EOF. */
	shutdown(cl->fd, SHUT_WR);
	client_close(cl);
}

static void accept_clients(void)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				   "Retry-After: 1\r\nConnection: close\r\n\r\n";
	const int sndbuf = SK_METRICS_SNDBUF;

	for (;;) {
		int fd = accept4(m.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned int i;

		if (fd < 0)
			return; /* EAGAIN, or an error on one pending connection: poll again */
		if (m.n_clients == SK_METRICS_MAX_CLIENTS) {
			m.ctr[SK_MCTR_metrics_connections_refused]++;
			/* Non-blocking: a client that gets nothing sees the connection closed. */
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0) {
				/* nothing to do */
			}
			shutdown(fd, SHUT_WR);
			close(fd);
			continue;
		}
		/*
		 * A small send buffer bounds the kernel memory a client that does not
		 * read can pin; the reply is written as it drains (a few round trips).
		 */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		for (i = 0; i < SK_METRICS_MAX_CLIENTS; i++)
			if (m.cl[i].fd < 0)
				break;
		m.cl[i].fd = fd;
		m.cl[i].req_len = 0;
		m.cl[i].out = NULL;
		m.cl[i].deadline_ms = mono_ms() + SK_METRICS_REQUEST_TIMEOUT_MS;
		m.n_clients++;
	}
}

static void *metrics_thread(void *arg)
{
	struct pollfd pfd[SK_METRICS_MAX_CLIENTS + 2];
	int slot[SK_METRICS_MAX_CLIENTS + 2];

	(void)arg;
	while (!__atomic_load_n(&m.stop, __ATOMIC_RELAXED)) {
		uint64_t now = mono_ms(), next = now + 1000;
		unsigned int i, n = 0;
		int rc;

		pfd[n].fd = m.wake_fd;
		pfd[n].events = POLLIN;
		slot[n++] = -1;
		pfd[n].fd = m.listen_fd;
		pfd[n].events = POLLIN;
		slot[n++] = -1;
		for (i = 0; i < SK_METRICS_MAX_CLIENTS; i++) {
			struct mclient *cl = &m.cl[i];

			if (cl->fd < 0)
				continue;
			if (now >= cl->deadline_ms) {
				m.ctr[SK_MCTR_metrics_connections_timed_out]++;
				client_close(cl);
				continue;
			}
			if (cl->deadline_ms < next)
				next = cl->deadline_ms;
			pfd[n].fd = cl->fd;
			pfd[n].events = cl->out ? POLLOUT : POLLIN;
			slot[n++] = (int)i;
		}
		rc = poll(pfd, n, (int)(next - now));
		if (rc < 0 && errno != EINTR) {
			SK_LOG(ERR, "metrics: poll: %s", strerror(errno));
			break;
		}
		if (rc <= 0)
			continue;
		for (i = 2; i < n; i++) {
			struct mclient *cl = &m.cl[slot[i]];

			if (pfd[i].revents == 0 || cl->fd != pfd[i].fd)
				continue;
			if (cl->out == NULL)
				client_read(cl);
			else
				client_write(cl);
			/* A reply ready now: try to send it at once. */
			if (cl->fd >= 0 && cl->out != NULL && cl->out_off == 0)
				client_write(cl);
		}
		if (pfd[1].revents)
			accept_clients();
	}
	return NULL;
}

int sk_metrics_start(const struct sk_app *app)
{
	struct sk_listen_addr la;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned int i;
	int one = 1, rc;

	if (app->cfg.metrics_listen[0] == '\0')
		return 0;
	if (sk_listen_addr_parse(app->cfg.metrics_listen, &la) < 0) {
		SK_LOG(ERR, "metrics_listen '%s': not ADDR:PORT", app->cfg.metrics_listen);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (la.family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(la.port);
		memcpy(&sin->sin_addr, la.addr, 4);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(la.port);
		memcpy(&sin6->sin6_addr, la.addr, 16);
		sl = sizeof(*sin6);
	}
	m.listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m.listen_fd < 0) {
		SK_LOG(ERR, "metrics_listen %s: socket: %s", app->cfg.metrics_listen,
		       strerror(errno));
		return -1;
	}
	setsockopt(m.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (la.family == 6)
		setsockopt(m.listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(m.listen_fd, (struct sockaddr *)&ss, sl) < 0 || listen(m.listen_fd, 128) < 0) {
		SK_LOG(ERR, "metrics_listen %s: %s", app->cfg.metrics_listen, strerror(errno));
		close(m.listen_fd);
		m.listen_fd = -1;
		return -1;
	}
	m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m.wake_fd < 0) {
		SK_LOG(ERR, "metrics: eventfd: %s", strerror(errno));
		close(m.listen_fd);
		m.listen_fd = -1;
		return -1;
	}
	for (i = 0; i < SK_METRICS_MAX_CLIENTS; i++)
		m.cl[i].fd = -1;
	m.n_clients = 0;
	m.app = app;
	m.stop = false;
	rc = pthread_create(&m.thread, NULL, metrics_thread, NULL);
	if (rc != 0) {
		SK_LOG(ERR, "metrics: cannot start its thread: %s", strerror(rc));
		close(m.wake_fd);
		close(m.listen_fd);
		m.wake_fd = m.listen_fd = -1;
		return -1;
	}
	pthread_setname_np(m.thread, "sk-metrics");
	m.running = true;
	SK_LOG(INFO, "metrics: serving http://%s/metrics", app->cfg.metrics_listen);
	return 0;
}

void sk_metrics_stop(void)
{
	uint64_t one = 1;
	unsigned int i;

	if (!m.running)
		return;
	__atomic_store_n(&m.stop, true, __ATOMIC_RELAXED);
	if (write(m.wake_fd, &one, sizeof(one)) < 0) {
		/* the poll timeout (at most 1 s) wakes it anyway */
	}
	pthread_join(m.thread, NULL);
	m.running = false;
	for (i = 0; i < SK_METRICS_MAX_CLIENTS; i++)
		if (m.cl[i].fd >= 0)
			client_close(&m.cl[i]);
	close(m.wake_fd);
	close(m.listen_fd);
	m.wake_fd = m.listen_fd = -1;
}
