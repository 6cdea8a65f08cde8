/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server: non-blocking sockets, one poll() with a zero timeout
 * per control tick, per-client line and reply buffers (see ctl_socket.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_commands.h"
#include "ctl_socket.h"
#include "sk_log.h"

#define SK_CTL_BACKLOG 64
/* Work done for one client in one tick, so that no client holds the control thread. */
#define SK_CTL_ACCEPTS_PER_TICK 32
#define SK_CTL_COMMANDS_PER_TICK 16
/* While this much output waits for a client, its next commands wait too. */
#define SK_CTL_OUT_PAUSE (64 * 1024)
/* A client whose unsent output would grow past this is dropped. */
#define SK_CTL_OUT_MAX (4 * 1024 * 1024)
/* Closing: time to flush the last reply and read what the client still sends. */
#define SK_CTL_LINGER_MS 1000
#define SK_CTL_DRAIN_MAX (64 * 1024)

enum client_state {
	CL_OPEN,     /* reading and running commands */
	CL_CLOSING,  /* last reply queued: flush it, then half-close */
	CL_DRAINING, /* write side shut: discard input until EOF, then close */
};

struct ctl_client {
	int fd;
	uint64_t id;
	enum client_state state;
	bool eof;  /* the client shut its write side */
	bool dead; /* close at the end of this tick */
	sk_time_ns last_active_ns;
	sk_time_ns deadline_ns; /* CL_CLOSING, CL_DRAINING: close by then */
	size_t drained;
	char *out; /* unsent bytes are out[out_head, out_len) */
	size_t out_head, out_len, out_cap;
	size_t in_len;
	char in[SK_CTL_LINE_MAX];
};

struct sk_ctl_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	dev_t dev;
	ino_t ino;
	sk_time_ns idle_ns;
	uint64_t next_id;
	uint64_t refused;	   /* clients refused since the last log line about it */
	sk_time_ns refused_log_ns; /* when that line may be written again */
	unsigned int n_clients;
	struct ctl_client *clients[SK_CTL_MAX_CLIENTS];
	struct pollfd pfd[SK_CTL_MAX_CLIENTS + 1];
};

/* ---- start-up ---------------------------------------------------------------------------- */

/* mkdir -p the directory part of PATH; directories we create get 0750. */
static int make_parent_dirs(const char *path)
{
	char dir[SK_CONFIG_PATH_MAX];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) == 0) {
			/* The umask may have taken bits away: the mode is part of the contract. */
			if (chmod(dir, 0750) < 0)
				SK_LOG(WARNING, "control socket: chmod 0750 %s: %s", dir,
				       strerror(errno));
			SK_LOG(INFO, "control socket: created directory %s", dir);
		} else if (errno != EEXIST) {
			SK_LOG(ERR, "control socket: cannot create directory %s: %s", dir,
			       strerror(errno));
			return -1;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static void fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path)); /* length checked by the caller */
}

/* A socket file already there: another daemon's (refuse) or a stale one (remove). */
static int check_existing(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		SK_LOG(ERR, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		SK_LOG(ERR,
		       "control socket %s: the path exists and is not a socket; remove it or set "
		       "control_socket to another path",
		       path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		SK_LOG(ERR, "control socket: socket(): %s", strerror(errno));
		return -1;
	}
	fill_addr(&sa, path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		SK_LOG(ERR,
		       "control socket %s: another sipkeep is already answering there; stop it, "
		       "or give this one another control_socket (and --file-prefix)",
		       path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		SK_LOG(ERR, "control socket %s: cannot tell whether it is in use: %s", path,
		       strerror(e));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		SK_LOG(ERR, "control socket %s: cannot remove the stale socket: %s", path,
		       strerror(errno));
		return -1;
	}
	SK_LOG(INFO, "control socket %s: removed a stale socket file", path);
	return 0;
}

static sk_time_ns idle_timeout_ns(void)
{
	const char *env = getenv(SK_CTL_IDLE_ENV);
	unsigned long long ms = SK_CTL_IDLE_MS_DEFAULT;
	char *end;

	if (env != NULL && *env != '\0') {
		errno = 0;
		ms = strtoull(env, &end, 10);
		if (errno != 0 || *end != '\0' || ms < 10 || ms > 86400000ULL) {
			SK_LOG(WARNING, "%s='%s' is not a number of ms in 10..86400000; using %u",
			       SK_CTL_IDLE_ENV, env, SK_CTL_IDLE_MS_DEFAULT);
			ms = SK_CTL_IDLE_MS_DEFAULT;
		}
	}
	return (sk_time_ns)ms * SK_NS_PER_MS;
}

int sk_ctl_socket_open(struct sk_app *app)
{
	const char *path = app->cfg.control_socket;
	struct sk_ctl_server *s;
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		SK_LOG(ERR, "control socket '%s': needs an absolute path shorter than %zu bytes",
		       path, sizeof(sa.sun_path));
		return -1;
	}
	if (make_parent_dirs(path) < 0 || check_existing(path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		SK_LOG(ERR, "control socket: socket(): %s", strerror(errno));
		return -1;
	}
	fill_addr(&sa, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		SK_LOG(ERR, "control socket %s: bind: %s%s", path, strerror(errno),
		       errno == EADDRINUSE ? " (another sipkeep started at the same time?)" : "");
		close(fd);
		return -1;
	}
	/* Not yet listening: nobody can connect before the mode is right. */
	if (chmod(path, 0660) < 0 || listen(fd, SK_CTL_BACKLOG) < 0 || stat(path, &st) < 0) {
		SK_LOG(ERR, "control socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		SK_LOG(ERR, "control socket: out of memory");
		close(fd);
		unlink(path);
		return -1;
	}
	s->fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->idle_ns = idle_timeout_ns();
	s->next_id = 1;
	app->ctl = s;
	SK_LOG(INFO, "control socket: listening on %s", path);
	return 0;
}

/* ---- clients ----------------------------------------------------------------------------- */

static size_t pending(const struct ctl_client *c)
{
	return c->out_len - c->out_head;
}

static void client_drop(struct ctl_client *c, const char *why)
{
	if (!c->dead && why != NULL)
		SK_LOG(INFO, "control: client %" PRIu64 ": %s, closing", c->id, why);
	c->dead = true;
}

static void client_free(struct ctl_client *c)
{
	close(c->fd);
	free(c->out);
	free(c);
}

static void client_flush(struct ctl_client *c, sk_time_ns now)
{
	while (!c->dead && pending(c) > 0) {
		ssize_t n =
			send(c->fd, c->out + c->out_head, pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_head += (size_t)n;
			c->last_active_ns = now;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			/* Gone mid-reply (EPIPE, ECONNRESET): nothing left to say to it. */
			client_drop(c, NULL);
			return;
		}
	}
	if (pending(c) == 0) {
		/* Next reply is adopted without a copy. */
		free(c->out);
		c->out = NULL;
		c->out_head = c->out_len = c->out_cap = 0;
	}
}

/* Queue REPLY (malloc'd, LEN bytes; ownership passes here) and start sending it. */
static void client_queue(struct ctl_client *c, char *reply, size_t len, sk_time_ns now)
{
	if (pending(c) + len > SK_CTL_OUT_MAX) {
		free(reply);
		client_drop(c, "not reading its replies (output buffer full)");
		return;
	}
	if (c->out == NULL) {
		c->out = reply;
		c->out_head = 0;
		c->out_len = c->out_cap = len;
	} else {
		if (c->out_head > 0) {
			memmove(c->out, c->out + c->out_head, pending(c));
			c->out_len -= c->out_head;
			c->out_head = 0;
		}
		if (c->out_len + len > c->out_cap) {
			size_t cap = c->out_cap * 2;
			char *p;

			if (cap < c->out_len + len)
				cap = c->out_len + len;
			p = realloc(c->out, cap);
			if (p == NULL) {
				free(reply);
				client_drop(c, "out of memory for its reply");
				return;
			}
			c->out = p;
			c->out_cap = cap;
		}
		memcpy(c->out + c->out_len, reply, len);
		c->out_len += len;
		free(reply);
	}
	client_flush(c, now);
}

/* Queue a fixed error text, then close once it is sent. */
static void client_fail(struct ctl_client *c, const char *json_line, const char *why,
			sk_time_ns now)
{
	size_t len = strlen(json_line);
	char *copy = malloc(len);

	SK_LOG(INFO, "control: client %" PRIu64 ": %s, closing", c->id, why);
	c->state = CL_CLOSING;
	c->deadline_ns = now + SK_CTL_LINGER_MS * SK_NS_PER_MS;
	if (copy == NULL) {
		client_drop(c, NULL);
		return;
	}
	memcpy(copy, json_line, len);
	client_queue(c, copy, len, now);
}

static void client_run_line(struct sk_app *app, struct ctl_client *c, const char *line, size_t len,
			    sk_time_ns now)
{
	static const char oom[] = "{\"error\":\"out of memory\"}\n";
	char *reply;
	size_t reply_len, i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* Blank lines get no reply (handy when typing into socat). */
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len)
		return;
	if (sk_ctl_execute(app, SK_CTL_FROM_SOCKET, line, len, &reply, &reply_len) < 0) {
		reply = malloc(sizeof(oom) - 1);
		if (reply == NULL) {
			client_drop(c, "out of memory");
			return;
		}
		memcpy(reply, oom, sizeof(oom) - 1);
		reply_len = sizeof(oom) - 1;
	}
	client_queue(c, reply, reply_len, now);
}

/* Run the complete lines waiting in C's input buffer, within this tick's budget. */
static void client_run(struct sk_app *app, struct ctl_client *c, sk_time_ns now)
{
	int budget = SK_CTL_COMMANDS_PER_TICK;

	while (!c->dead && c->state == CL_OPEN && budget > 0 && pending(c) < SK_CTL_OUT_PAUSE) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t used;

		if (nl == NULL) {
			if (c->in_len == sizeof(c->in)) {
				client_fail(c,
					    "{\"error\":\"line longer than 4095 bytes (4096 with "
					    "the newline)\"}\n",
					    "line too long", now);
			} else if (c->eof) {
				/* A last command without its newline still counts. */
				client_run_line(app, c, c->in, c->in_len, now);
				c->in_len = 0;
				c->state = CL_CLOSING;
				c->deadline_ns = now + SK_CTL_LINGER_MS * SK_NS_PER_MS;
			}
			return;
		}
		used = (size_t)(nl - c->in) + 1;
		client_run_line(app, c, c->in, used - 1, now);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		budget--;
	}
}

static void client_read(struct ctl_client *c, sk_time_ns now)
{
	char scratch[4096];
	int rounds = 4;

	while (!c->dead && rounds-- > 0) {
		bool draining = c->state == CL_DRAINING;
		char *dst = draining ? scratch : c->in + c->in_len;
		size_t room = draining ? sizeof(scratch) : sizeof(c->in) - c->in_len;
		ssize_t n;

		if (room == 0 || (c->state == CL_OPEN && c->eof) || c->state == CL_CLOSING)
			return;
		n = recv(c->fd, dst, room, MSG_DONTWAIT);
		if (n > 0) {
			c->last_active_ns = now;
			if (!draining) {
				c->in_len += (size_t)n;
				continue;
			}
			c->drained += (size_t)n;
			if (c->drained > SK_CTL_DRAIN_MAX)
				client_drop(c, NULL);
		} else if (n == 0) {
			if (draining)
				client_drop(c, NULL); /* clean end */
			else
				c->eof = true;
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else {
			client_drop(c, NULL);
			return;
		}
	}
}

/* Idle and closing deadlines. */
static void client_timers(const struct sk_ctl_server *s, struct ctl_client *c, sk_time_ns now)
{
	if (c->dead)
		return;
	switch (c->state) {
	case CL_OPEN:
		if (now - c->last_active_ns >= s->idle_ns)
			client_fail(c, "{\"error\":\"idle timeout: closing\"}\n", "idle", now);
		break;
	case CL_CLOSING:
		if (pending(c) == 0) {
			shutdown(c->fd, SHUT_WR);
			c->state = CL_DRAINING;
			c->deadline_ns = now + SK_CTL_LINGER_MS * SK_NS_PER_MS;
		} else if (now >= c->deadline_ns) {
			client_drop(c, "last reply not read in time");
		}
		break;
	case CL_DRAINING:
		if (now >= c->deadline_ns)
			client_drop(c, NULL);
		break;
	}
}

static void server_accept(struct sk_ctl_server *s, sk_time_ns now)
{
	static const char busy[] = "{\"error\":\"too many control clients (at most " RTE_STR(
		SK_CTL_MAX_CLIENTS) "): try again later\"}\n";
	int i;

	for (i = 0; i < SK_CTL_ACCEPTS_PER_TICK; i++) {
		struct ctl_client *c;
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				SK_LOG(WARNING, "control socket: accept: %s", strerror(errno));
			return;
		}
		if (s->n_clients == SK_CTL_MAX_CLIENTS) {
			/* A fresh socket's buffer takes this small line without blocking. */
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				SK_LOG(DEBUG, "control socket: refusing a client: %s",
				       strerror(errno));
			close(fd);
			s->refused++;
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			SK_LOG(WARNING, "control socket: out of memory for a client");
			close(fd);
			return;
		}
		c->fd = fd;
		c->id = s->next_id++;
		c->state = CL_OPEN;
		c->last_active_ns = now;
		s->clients[s->n_clients++] = c;
		SK_LOG(DEBUG, "control: client %" PRIu64 " connected", c->id);
	}
}

/* One line a second at most about refused clients, however many come. */
static void server_log_refused(struct sk_ctl_server *s, sk_time_ns now)
{
	if (s->refused == 0 || now < s->refused_log_ns)
		return;
	SK_LOG(INFO, "control socket: refused %" PRIu64 " client(s): %d already connected",
	       s->refused, SK_CTL_MAX_CLIENTS);
	s->refused = 0;
	s->refused_log_ns = now + 1000 * SK_NS_PER_MS;
}

void sk_ctl_socket_poll(struct sk_app *app, sk_time_ns now)
{
	struct sk_ctl_server *s = app->ctl;
	unsigned int i, n;
	int rc;

	if (s == NULL)
		return;
	n = s->n_clients;
	s->pfd[0] = (struct pollfd){.fd = s->fd, .events = POLLIN};
	for (i = 0; i < n; i++) {
		struct ctl_client *c = s->clients[i];
		short ev = 0;

		if (c->state == CL_DRAINING ||
		    (c->state == CL_OPEN && !c->eof && c->in_len < sizeof(c->in)))
			ev |= POLLIN;
		if (pending(c) > 0)
			ev |= POLLOUT;
		s->pfd[i + 1] = (struct pollfd){.fd = c->fd, .events = ev};
	}
	rc = poll(s->pfd, n + 1, 0);
	if (rc < 0 && errno != EINTR)
		SK_LOG(WARNING, "control socket: poll: %s", strerror(errno));

	for (i = 0; i < n; i++) {
		struct ctl_client *c = s->clients[i];
		short rev = rc > 0 ? s->pfd[i + 1].revents : 0;

		if (rev & (POLLERR | POLLNVAL)) {
			client_drop(c, NULL);
		} else if ((rev & POLLHUP) && !(rev & POLLIN)) {
			/* Both directions closed by the peer and nothing left to read. */
			client_drop(c, NULL);
		} else {
			if (rev & POLLIN)
				client_read(c, now);
			/* A peer gone entirely (POLLHUP) cannot take a reply: do not run its lines.
			 */
			if (rev & POLLHUP)
				client_drop(c, NULL);
			client_run(app, c, now);
			if (pending(c) > 0 && (rev & POLLOUT))
				client_flush(c, now);
		}
		client_timers(s, c, now);
	}
	/* Sweep the closed ones; the array stays dense. */
	for (i = 0; i < s->n_clients;) {
		struct ctl_client *c = s->clients[i];

		if (!c->dead) {
			i++;
			continue;
		}
		SK_LOG(DEBUG, "control: client %" PRIu64 " closed", c->id);
		client_free(c);
		s->clients[i] = s->clients[--s->n_clients];
	}
	if (rc > 0 && (s->pfd[0].revents & POLLIN))
		server_accept(s, now);
	server_log_refused(s, now);
}

void sk_ctl_socket_close(struct sk_app *app)
{
	struct sk_ctl_server *s = app->ctl;
	struct stat st;
	unsigned int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_clients; i++)
		client_free(s->clients[i]);
	close(s->fd);
	/* Remove the file only if it is still ours. */
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s);
	app->ctl = NULL;
}
