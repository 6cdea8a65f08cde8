/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipkeepctl: send one command to the sipkeep daemon's control socket and
 * print the reply, as tables for people or as the daemon's JSON (--json).
 * No DPDK: a Unix socket and the small JSON parser in json_reader.c.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json_reader.h"
#include "sk_config.h"

#define DEFAULT_TIMEOUT_S 10
#define LINE_MAX_BYTES 4095	     /* the daemon's limit, newline excluded */
#define REPLY_MAX (64 * 1024 * 1024) /* refuse replies larger than this */
/* Per-worker columns in `show stats` up to this many workers. */
#define MAX_WORKER_COLUMNS 8

enum exit_code {
	EXIT_OK = 0,
	EXIT_DAEMON_ERROR = 1, /* the daemon answered {"error": ...} */
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3, /* cannot connect, no reply, or a reply that is not JSON */
};

static const char *prog = "sipkeepctl";

/* The daemon's own default (sk_config.h), so that the two never disagree. */
static const char *default_socket(void)
{
	return sk_config_key("control_socket")->def;
}

static void usage(FILE *f)
{
	const struct sk_config_key *k;
	char syntax[128];

	fprintf(f,
		"Usage: %s [-s PATH] [--json] [-t SECONDS] COMMAND...\n"
		"       %s --help\n"
		"\n"
		"Send COMMAND to the sipkeep daemon and print its reply.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH    control socket (default %s)\n"
		"  -j, --json           print the daemon's JSON reply as it is\n"
		"  -t, --timeout SECS   wait at most SECS for the reply (default %d)\n"
		"  -h, --help           this text\n"
		"\n"
		"Commands (the daemon's own list: %s help):\n"
		"  help [COMMAND...]              list commands\n"
		"  show stats                     counters per port, per worker and totals\n"
		"  show ports                     DPDK ports, link state, NIC counters\n"
		"  show workers                   worker lcores, queues, busy/idle cycles\n"
		"  show config                    every setting\n"
		"  show tables                    capacity, entries in use and bytes per table\n"
		"  show users [N]                 registered users, state, handovers (first N)\n"
		"  show user AOR                  one user (user@host), every instance\n"
		"  show calls [N]                 dialogs, streams, addresses, latched ports\n"
		"  flush user AOR                 forget a user's registration, calls and media\n"
		"  show redis                     session state on Redis: link, queue, writes, "
		"restores\n"
		"  reload                         read the config file again (SIGHUP does the "
		"same)\n"
		"  set KEY VALUE                  change a setting; KEY is one of:\n",
		prog, prog, default_socket(), DEFAULT_TIMEOUT_S, prog);
	for (k = sk_config_keys; k->name != NULL; k++) {
		if (!k->run_time)
			continue;
		sk_config_syntax(k, syntax, sizeof(syntax));
		fprintf(f, "    %-28s %s\n", k->name, syntax);
	}
	fprintf(f, "\n"
		   "Exit status: 0 done; 1 the daemon answered with an error; 2 usage error;\n"
		   "3 no daemon on the socket, no reply in time, or a reply that is not JSON.\n");
}

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* ---- talking to the daemon --------------------------------------------------------------- */

static int connect_daemon(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die(EXIT_USAGE, "socket path too long (at most %zu bytes): %s",
		    sizeof(sa.sun_path) - 1, path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EXIT_NO_DAEMON, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(EXIT_NO_DAEMON, "cannot connect to %s: %s (is sipkeep running?)", path,
		    strerror(errno));
	return fd;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_all(int fd, const char *path, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_NO_DAEMON, "%s: sending the command: %s", path, strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Read one reply line; returns its length (newline included). */
static size_t read_reply(int fd, const char *path, int timeout_s, char **out)
{
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (buf == NULL)
		die(EXIT_NO_DAEMON, "out of memory");
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left = deadline - now_ms();
		char *nl;
		ssize_t n;
		int rc;

		if (left <= 0)
			die(EXIT_NO_DAEMON, "%s: no reply within %d s", path, timeout_s);
		rc = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			die(EXIT_NO_DAEMON, "%s: poll: %s", path, strerror(errno));
		if (rc == 0)
			continue;
		if (cap - len < 4096) {
			char *p;

			if (cap >= REPLY_MAX)
				die(EXIT_NO_DAEMON, "%s: reply larger than %d bytes", path,
				    REPLY_MAX);
			cap *= 2;
			p = realloc(buf, cap);
			if (p == NULL)
				die(EXIT_NO_DAEMON, "out of memory");
			buf = p;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_NO_DAEMON, "%s: reading the reply: %s", path, strerror(errno));
		if (n == 0)
			die(EXIT_NO_DAEMON, "%s: the daemon closed the connection without a reply",
			    path);
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl != NULL) {
			*out = buf;
			return (size_t)(nl - buf) + 1;
		}
	}
}

/* ---- tables ------------------------------------------------------------------------------ */

struct table {
	size_t ncols;
	size_t nrows; /* row 0 is the header */
	size_t cap;
	char **cells;
};

static void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

static size_t table_row(struct table *t)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof(*p));

		if (p == NULL)
			die(EXIT_NO_DAEMON, "out of memory");
		t->cells = p;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = NULL;
	return t->nrows++;
}

static void table_set(struct table *t, size_t row, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void table_set(struct table *t, size_t row, size_t col, const char *fmt, ...)
{
	char **cell = &t->cells[row * t->ncols + col];
	va_list ap;

	free(*cell);
	va_start(ap, fmt);
	if (vasprintf(cell, fmt, ap) < 0)
		die(EXIT_NO_DAEMON, "out of memory");
	va_end(ap);
}

static bool looks_numeric(const char *s)
{
	if (s == NULL || *s == '\0')
		return true;
	if (*s == '-')
		s++;
	if (*s == '\0')
		return true; /* "-" for missing */
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == '%'))
			return false;
	return true;
}

/* First column left-aligned; a column of numbers right-aligned. */
static void table_print(struct table *t)
{
	size_t *width = calloc(t->ncols, sizeof(*width));
	bool *right = calloc(t->ncols, sizeof(*right));
	size_t r, c;

	if (width == NULL || right == NULL)
		die(EXIT_NO_DAEMON, "out of memory");
	for (c = 0; c < t->ncols; c++) {
		right[c] = c > 0;
		for (r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t len = s ? strlen(s) : 0;

			if (len > width[c])
				width[c] = len;
			if (r > 0 && !looks_numeric(s))
				right[c] = false;
		}
	}
	for (r = 0; r < t->nrows; r++) {
		size_t pad = 0; /* spaces owed: written only when something follows */

		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t len = s ? strlen(s) : 0;

			if (len == 0) {
				pad += width[c] + 2;
				continue;
			}
			if (right[c])
				pad += width[c] - len;
			printf("%*s%s", (int)pad, "", s);
			pad = 2 + (right[c] ? 0 : width[c] - len);
		}
		fputc('\n', stdout);
	}
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(width);
	free(right);
	memset(t, 0, sizeof(*t));
}

/* ---- values ------------------------------------------------------------------------------ */

static bool is_scalar(const struct sk_jv *v)
{
	return v != NULL && v->type != SK_JV_OBJECT && v->type != SK_JV_ARRAY;
}

/* A scalar as text, in BUF. */
static const char *scalar_text(const struct sk_jv *v, char *buf, size_t buflen)
{
	if (v == NULL)
		return "-";
	switch (v->type) {
	case SK_JV_NULL:
		return "-";
	case SK_JV_BOOL:
		return v->boolean ? "yes" : "no";
	case SK_JV_STRING:
		return v->str;
	case SK_JV_NUMBER:
		if (v->is_i64 || v->is_u64)
			snprintf(buf, buflen, "%.*s", (int)v->len, v->str);
		else
			snprintf(buf, buflen, "%.2f", v->num);
		return buf;
	case SK_JV_ARRAY:
		return "[...]";
	case SK_JV_OBJECT:
		return "{...}";
	}
	return "?";
}

static void upper(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < dstlen; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 'a' + 'A') : src[i];
	dst[i] = '\0';
}

/* Generic: "key: value" lines, objects flattened to dotted keys. */
static void print_flat(const char *prefix, const struct sk_jv *v)
{
	char key[512], num[64];
	const struct sk_jv *m;
	size_t i = 0;

	if (is_scalar(v)) {
		printf("%s: %s\n", prefix, scalar_text(v, num, sizeof(num)));
		return;
	}
	for (m = v->child; m != NULL; m = m->next, i++) {
		if (v->type == SK_JV_OBJECT) {
			if (*prefix == '\0' && strcmp(m->key, "ok") == 0)
				continue;
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", m->key);
		} else {
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
		}
		print_flat(key, m);
	}
	if (v->count == 0 && *prefix)
		printf("%s: %s\n", prefix, v->type == SK_JV_OBJECT ? "{}" : "[]");
}

/* An array of flat objects as a table: one row per element, one column per scalar member. */
static void print_rows(const struct sk_jv *arr)
{
	const struct sk_jv *first = arr ? arr->child : NULL, *e, *m;
	char name[128], num[64];
	struct table t;
	size_t ncols = 0, col, row;

	if (first == NULL || first->type != SK_JV_OBJECT) {
		if (arr)
			print_flat("", arr);
		return;
	}
	for (m = first->child; m != NULL; m = m->next)
		ncols += is_scalar(m);
	table_init(&t, ncols);
	row = table_row(&t);
	col = 0;
	for (m = first->child; m != NULL; m = m->next) {
		if (!is_scalar(m))
			continue;
		upper(name, sizeof(name), m->key);
		table_set(&t, row, col++, "%s", name);
	}
	for (e = arr->child; e != NULL; e = e->next) {
		row = table_row(&t);
		col = 0;
		for (m = first->child; m != NULL; m = m->next) {
			if (!is_scalar(m))
				continue;
			table_set(&t, row, col++, "%s",
				  scalar_text(sk_jv_get(e, m->key), num, sizeof(num)));
		}
	}
	table_print(&t);
}

/* ---- per-command printers ---------------------------------------------------------------- */

static void print_uptime(const struct sk_jv *doc)
{
	const struct sk_jv *mode = sk_jv_get(doc, "mode"), *up = sk_jv_get(doc, "uptime_ms");
	unsigned long long s = up && up->is_u64 ? up->u64 / 1000 : 0;

	printf("mode %s, uptime %llud %02lluh %02llum %02llus\n",
	       mode && mode->type == SK_JV_STRING ? mode->str : "?", s / 86400, s / 3600 % 24,
	       s / 60 % 60, s % 60);
}

static void print_stats(const struct sk_jv *doc)
{
	const struct sk_jv *ports = sk_jv_get(doc, "ports"), *ctr = sk_jv_get(doc, "counters");
	const struct sk_jv *workers = sk_jv_get(doc, "workers"), *p, *m, *w;
	size_t nw = workers && workers->type == SK_JV_ARRAY ? workers->count : 0;
	bool per_worker = nw > 0 && nw <= MAX_WORKER_COLUMNS;
	char name[128], num[64];
	struct table t;
	size_t row, col;

	print_uptime(doc);

	/* Ports: one row per side, one column per counter. */
	if (ports && ports->child && ports->child->type == SK_JV_OBJECT) {
		fputc('\n', stdout);
		table_init(&t, 1 + ports->child->count);
		row = table_row(&t);
		table_set(&t, row, 0, "PORT");
		col = 1;
		for (m = ports->child->child; m != NULL; m = m->next) {
			upper(name, sizeof(name), m->key);
			table_set(&t, row, col++, "%s", name);
		}
		for (p = ports->child; p != NULL; p = p->next) {
			row = table_row(&t);
			table_set(&t, row, 0, "%s", p->key);
			col = 1;
			for (m = ports->child->child; m != NULL; m = m->next)
				table_set(&t, row, col++, "%s",
					  scalar_text(sk_jv_get(p, m->key), num, sizeof(num)));
		}
		table_print(&t);
	}

	/* Counters: one row each; TOTAL, then one column per worker. */
	fputc('\n', stdout);
	table_init(&t, 2 + (per_worker ? nw : 0));
	row = table_row(&t);
	table_set(&t, row, 0, "COUNTER");
	table_set(&t, row, 1, "TOTAL");
	col = 2;
	for (w = per_worker ? workers->child : NULL; w != NULL; w = w->next) {
		const struct sk_jv *idx = sk_jv_get(w, "worker");

		table_set(&t, row, col++, "W%s", scalar_text(idx, num, sizeof(num)));
	}
	/* Port counters per side, as each worker counts them. */
	for (p = ports ? ports->child : NULL; p != NULL; p = p->next) {
		const struct sk_jv *w0 = workers ? sk_jv_get(workers->child, p->key) : NULL;

		for (m = w0 ? w0->child : NULL; m != NULL; m = m->next) {
			row = table_row(&t);
			table_set(&t, row, 0, "%s.%s", p->key, m->key);
			table_set(&t, row, 1, "%s",
				  scalar_text(sk_jv_get(p, m->key), num, sizeof(num)));
			col = 2;
			for (w = per_worker ? workers->child : NULL; w != NULL; w = w->next)
				table_set(&t, row, col++, "%s",
					  scalar_text(sk_jv_get(sk_jv_get(w, p->key), m->key), num,
						      sizeof(num)));
		}
	}
	for (m = ctr ? ctr->child : NULL; m != NULL; m = m->next) {
		row = table_row(&t);
		table_set(&t, row, 0, "%s", m->key);
		table_set(&t, row, 1, "%s", scalar_text(m, num, sizeof(num)));
		col = 2;
		for (w = per_worker ? workers->child : NULL; w != NULL; w = w->next) {
			const struct sk_jv *v = sk_jv_get(w, m->key);

			table_set(&t, row, col++, "%s", v ? scalar_text(v, num, sizeof(num)) : "");
		}
	}
	table_print(&t);
	if (nw > MAX_WORKER_COLUMNS)
		printf("(%zu workers: per-worker counters with --json)\n", nw);

	/* Any other section (e.g. sip_parse_error_reasons): name / value. */
	for (m = doc->child; m != NULL; m = m->next) {
		static const char *const known[] = {"ok",    "mode",	 "uptime_ms",
						    "ports", "counters", "workers"};
		bool skip = false;
		size_t k;

		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			skip = skip || strcmp(m->key, known[k]) == 0;
		if (skip)
			continue;
		fputc('\n', stdout);
		if (m->type != SK_JV_OBJECT) {
			print_flat(m->key, m);
			continue;
		}
		table_init(&t, 2);
		row = table_row(&t);
		upper(name, sizeof(name), m->key);
		table_set(&t, row, 0, "%s", name);
		table_set(&t, row, 1, "VALUE");
		for (p = m->child; p != NULL; p = p->next) {
			row = table_row(&t);
			table_set(&t, row, 0, "%s", p->key);
			table_set(&t, row, 1, "%s", scalar_text(p, num, sizeof(num)));
		}
		table_print(&t);
	}
}

static void print_workers(const struct sk_jv *doc)
{
	const struct sk_jv *hz = sk_jv_get(doc, "tsc_hz");

	if (hz && hz->is_u64)
		printf("TSC %.3f GHz\n\n", (double)hz->u64 / 1e9);
	print_rows(sk_jv_get(doc, "workers"));
}

/* Append the flattened scalar members of OBJ as rows NAME / value, one column per port. */
static void port_rows(struct table *t, const struct sk_jv *ports, const struct sk_jv *obj,
		      const char *prefix)
{
	const struct sk_jv *m, *p;
	char name[256], num[64];

	for (m = obj->child; m != NULL; m = m->next) {
		size_t row, col = 1;

		snprintf(name, sizeof(name), "%s%s", prefix, m->key);
		if (m->type == SK_JV_OBJECT) {
			char sub[sizeof(name) + 1];

			snprintf(sub, sizeof(sub), "%s.", name);
			port_rows(t, ports, m, sub);
			continue;
		}
		if (strcmp(name, "side") == 0)
			continue;
		row = table_row(t);
		table_set(t, row, 0, "%s", name);
		for (p = ports->child; p != NULL; p = p->next, col++) {
			const struct sk_jv *v = p;
			char path[256], *save = NULL, *part;

			/* Walk the dotted name down in this port's object. */
			snprintf(path, sizeof(path), "%s", name);
			for (part = strtok_r(path, ".", &save); part && v;
			     part = strtok_r(NULL, ".", &save))
				v = sk_jv_get(v, part);
			table_set(t, row, col, "%s", scalar_text(v, num, sizeof(num)));
		}
	}
}

static void print_ports(const struct sk_jv *doc)
{
	const struct sk_jv *ports = sk_jv_get(doc, "ports"), *p;
	struct table t;
	size_t row, col = 1;
	char num[64];

	if (ports == NULL || ports->type != SK_JV_ARRAY || ports->child == NULL ||
	    ports->child->type != SK_JV_OBJECT) {
		printf("no ports\n");
		return;
	}
	/* Transposed: one column per port, one row per field. */
	table_init(&t, 1 + ports->count);
	row = table_row(&t);
	table_set(&t, row, 0, "PORT");
	for (p = ports->child; p != NULL; p = p->next)
		table_set(&t, row, col++, "%s",
			  scalar_text(sk_jv_get(p, "side"), num, sizeof(num)));
	port_rows(&t, ports, ports->child, "");
	table_print(&t);
}

static void print_config(const struct sk_jv *doc)
{
	const struct sk_jv *cfg = sk_jv_get(doc, "config"),
			   *set = sk_jv_get(doc, "runtime_settable");
	const struct sk_jv *m, *s;
	struct table t;
	char num[64];

	table_init(&t, 3);
	table_set(&t, table_row(&t), 0, "KEY");
	table_set(&t, 0, 1, "VALUE");
	for (m = cfg ? cfg->child : NULL; m != NULL; m = m->next) {
		size_t row = table_row(&t);
		bool settable = false;

		for (s = set ? set->child : NULL; s != NULL; s = s->next)
			settable = settable ||
				   (s->type == SK_JV_STRING && strcmp(s->str, m->key) == 0);
		table_set(&t, row, 0, "%s", m->key);
		table_set(&t, row, 1, "%s", scalar_text(m, num, sizeof(num)));
		if (settable)
			table_set(&t, row, 2, "*");
	}
	table_print(&t);
	if (set && set->count)
		printf("\n* can be changed at run time: %s set KEY VALUE\n", prog);
}

static void print_help(const struct sk_jv *doc)
{
	const struct sk_jv *cmds = sk_jv_get(doc, "commands"), *c;
	struct table t;

	table_init(&t, 2);
	table_set(&t, table_row(&t), 0, "COMMAND");
	table_set(&t, 0, 1, "DESCRIPTION");
	for (c = cmds ? cmds->child : NULL; c != NULL; c = c->next) {
		const struct sk_jv *name = sk_jv_get(c, "command"), *args = sk_jv_get(c, "args");
		const struct sk_jv *help = sk_jv_get(c, "help");
		size_t row = table_row(&t);

		table_set(&t, row, 0, "%s%s%s", name ? name->str : "?",
			  args && args->len ? " " : "", args && args->len ? args->str : "");
		table_set(&t, row, 1, "%s", help ? help->str : "");
	}
	table_print(&t);
}

static void print_tables(const struct sk_jv *doc)
{
	print_rows(sk_jv_get(doc, "tables"));
}

static void print_set(const struct sk_jv *doc)
{
	const struct sk_jv *key = sk_jv_get(doc, "key");
	char a[64], b[64];

	if (key == NULL || key->type != SK_JV_STRING) {
		print_flat("", doc);
		return;
	}
	printf("%s = %s (was %s)\n", key->str, scalar_text(sk_jv_get(doc, "value"), a, sizeof(a)),
	       scalar_text(sk_jv_get(doc, "previous"), b, sizeof(b)));
}

static const struct {
	const char *words;
	void (*print)(const struct sk_jv *doc);
} printers[] = {
	{"show stats", print_stats},   {"show ports", print_ports}, {"show workers", print_workers},
	{"show config", print_config}, {"help", print_help},	    {"set", print_set},
	{"show tables", print_tables},
};

/* Does COMMAND start with the words of WORDS (case-insensitive, any spacing)? */
static bool starts_with_words(const char *command, const char *words)
{
	while (*words) {
		size_t n = strcspn(words, " ");
		size_t m;

		command += strspn(command, " \t");
		m = strcspn(command, " \t");
		if (m != n || strncasecmp(command, words, n) != 0)
			return false;
		command += m;
		words += n;
		words += strspn(words, " ");
	}
	return true;
}

static void print_human(const char *command, const struct sk_jv *doc)
{
	size_t i;

	for (i = 0; i < sizeof(printers) / sizeof(printers[0]); i++) {
		if (starts_with_words(command, printers[i].words)) {
			printers[i].print(doc);
			return;
		}
	}
	print_flat("", doc);
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = default_socket();
	bool json = false;
	int timeout_s = DEFAULT_TIMEOUT_S;
	char *command, *reply = NULL, err[256];
	const struct sk_jv *error;
	struct sk_jv_doc doc;
	size_t len = 0, reply_len;
	int c, i, fd, rc;

	if (argc > 0 && argv[0] != NULL && strrchr(argv[0], '/') != NULL)
		prog = strrchr(argv[0], '/') + 1;
	else if (argc > 0 && argv[0] != NULL)
		prog = argv[0];
	/* '+': options end at the command, so "set x -1" reaches the daemon as typed. */
	while ((c = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600)
				die(EXIT_USAGE,
				    "--timeout: '%s' is not a number of seconds in 1..3600",
				    optarg);
			timeout_s = (int)v;
			break;
		}
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	command = malloc(len + 1);
	if (command == NULL)
		die(EXIT_NO_DAEMON, "out of memory");
	command[0] = '\0';
	for (i = optind; i < argc; i++) {
		if (strpbrk(argv[i], "\r\n") != NULL)
			die(EXIT_USAGE, "a command is one line: no newlines in '%s'", argv[i]);
		strcat(command, argv[i]);
		strcat(command, i + 1 < argc ? " " : "\n");
	}
	if (len - 1 > LINE_MAX_BYTES)
		die(EXIT_USAGE, "command longer than %d bytes", LINE_MAX_BYTES);

	fd = connect_daemon(path);
	send_all(fd, path, command, len);
	reply_len = read_reply(fd, path, timeout_s, &reply);
	close(fd);

	if (sk_jv_parse(&doc, reply, reply_len, err, sizeof(err)) < 0)
		die(EXIT_NO_DAEMON, "%s: the reply is not JSON (%s)", path, err);
	if (doc.root->type != SK_JV_OBJECT)
		die(EXIT_NO_DAEMON, "%s: the reply is a JSON %s, not an object", path,
		    sk_jv_type_name(doc.root->type));
	error = sk_jv_get(doc.root, "error");
	if (json) {
		fwrite(reply, 1, reply_len, stdout);
		rc = error ? EXIT_DAEMON_ERROR : EXIT_OK;
	} else if (error) {
		fprintf(stderr, "%s: %s\n", prog,
			error->type == SK_JV_STRING ? error->str : "the daemon reported an error");
		rc = EXIT_DAEMON_ERROR;
	} else {
		command[len - 1] = '\0';
		print_human(command, doc.root);
		rc = EXIT_OK;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
		rc = rc == EXIT_OK ? EXIT_NO_DAEMON : rc;
	}
	sk_jv_free(&doc);
	free(reply);
	free(command);
	return rc;
}
