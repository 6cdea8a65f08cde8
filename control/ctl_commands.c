/* SPDX-License-Identifier: BSD-3-Clause */
/* The control command table, its actions and the dispatcher (see ctl_commands.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>

#include "ctl_commands.h"
#include "reload.h"
#include "sk_log.h"
#include "state_sync.h"
#include "tables_show.h"

/* Longest value sk_config_get writes that we show (sip_ports can be long). */
#define SK_CTL_VALUE_MAX 8192
/* User input quoted back in an error message is cut to this many bytes. */
#define SK_CTL_QUOTE_MAX 64

static int req_fail(struct sk_ctl_req *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int req_fail(struct sk_ctl_req *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->err, req->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- settings ---------------------------------------------------------------------------- */

/* Member MEMBER = the value of setting K in CFG: a number for integer keys, else a string. */
static void json_setting(struct sk_json *j, const char *member, const struct sk_config *cfg,
			 const struct sk_config_key *k)
{
	char buf[SK_CTL_VALUE_MAX];

	k->format(k, cfg, buf, sizeof(buf));
	if (k->number)
		sk_json_u64(j, member, strtoull(buf, NULL, 10));
	else
		sk_json_str(j, member, buf);
}

/* `set KEY VALUE`: one command per key that may change at run time (see commands_build). */
static int cmd_set(struct sk_ctl_req *req)
{
	struct sk_app *app = req->app;
	const char *key = req->cmd->name + strlen("set ");
	const struct sk_config_key *k = sk_config_key(key);
	char before[SK_CTL_VALUE_MAX], after[SK_CTL_VALUE_MAX];
	char why[512];

	if (req->origin != SK_CTL_FROM_SOCKET)
		return req_fail(req, "'%s' changes settings: control socket only", req->cmd->name);
	k->format(k, &app->cfg, before, sizeof(before));
	if (sk_config_set_running(&app->cfg, key, req->argv[0], why, sizeof(why)) < 0)
		return req_fail(req, "%s", why);
	k->format(k, &app->cfg, after, sizeof(after));
	SK_LOG(INFO, "control: %s changed from %s to %s", key, before, after);
	sk_json_str(req->j, "key", key);
	json_setting(req->j, "value", &app->cfg, k);
	if (k->number)
		sk_json_u64(req->j, "previous", strtoull(before, NULL, 10));
	else
		sk_json_str(req->j, "previous", before);
	return 0;
}

static int cmd_show_config(struct sk_ctl_req *req)
{
	struct sk_config *cfg = malloc(sizeof(*cfg));
	const struct sk_config_key *k;

	if (cfg == NULL)
		return req_fail(req, "out of memory");
	sk_config_snapshot(cfg, &req->app->cfg);
	sk_json_obj_begin(req->j, "config");
	for (k = sk_config_keys; k->name != NULL; k++)
		json_setting(req->j, k->name, cfg, k);
	sk_json_obj_end(req->j);
	free(cfg);
	/* What `set` accepts. */
	sk_json_arr_begin(req->j, "runtime_settable");
	for (k = sk_config_keys; k->name != NULL; k++)
		if (k->run_time)
			sk_json_str(req->j, NULL, k->name);
	sk_json_arr_end(req->j);
	return 0;
}

/* `reload`: read the config file again (reload.c); the socket's thread only: it changes settings.
 */
static int cmd_reload(struct sk_ctl_req *req)
{
	if (req->origin != SK_CTL_FROM_SOCKET)
		return req_fail(req, "'reload' changes settings: control socket only");
	return sk_reload_run(req->app, req->j, req->err, req->errlen);
}

/* ---- counters, workers, ports ------------------------------------------------------------ */

static int cmd_show_stats(struct sk_ctl_req *req)
{
	sk_stats_json_members(req->app, req->j);
	return 0;
}

static int cmd_show_redis(struct sk_ctl_req *req)
{
	sk_sync_json(&req->app->session, req->j);
	return 0;
}

static int cmd_show_workers(struct sk_ctl_req *req)
{
	const struct sk_app *app = req->app;
	unsigned int i;
	int side;

	sk_json_u64(req->j, "tsc_hz", rte_get_tsc_hz());
	sk_json_arr_begin(req->j, "workers");
	for (i = 0; i < app->n_workers; i++) {
		const struct sk_worker *w = &app->workers[i];
		uint64_t busy = sk_ctr_read(&w->busy_cycles);
		uint64_t idle = sk_ctr_read(&w->idle_cycles);
		uint64_t rx = 0, tx = 0, dropped = 0;

		for (side = 0; side < SK_SIDE_COUNT; side++) {
			rx += sk_ctr_read(&w->port_ctr[side][SK_PCTR_rx]);
			tx += sk_ctr_read(&w->port_ctr[side][SK_PCTR_tx]);
			dropped += sk_ctr_read(&w->port_ctr[side][SK_PCTR_tx_dropped]);
		}
		sk_json_obj_begin(req->j, NULL);
		sk_json_u64(req->j, "worker", w->index);
		sk_json_u64(req->j, "lcore", w->lcore_id);
		sk_json_u64(req->j, "queue", w->queue_id);
		sk_json_u64(req->j, "polls", sk_ctr_read(&w->polls));
		sk_json_u64(req->j, "busy_cycles", busy);
		sk_json_u64(req->j, "idle_cycles", idle);
		/* Since start: share of the polling time spent on polls that moved frames. */
		sk_json_double(req->j, "busy_pct",
			       busy + idle ? 100.0 * (double)busy / (double)(busy + idle) : 0.0);
		sk_json_u64(req->j, "rx", rx);
		sk_json_u64(req->j, "tx", tx);
		sk_json_u64(req->j, "tx_dropped", dropped);
		sk_json_obj_end(req->j);
	}
	sk_json_arr_end(req->j);
	return 0;
}

static void json_port(struct sk_json *j, enum sk_side side, uint16_t port)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_eth_dev_info info;
	struct rte_ether_addr addr;
	struct rte_eth_link link;
	struct rte_eth_stats st;

	sk_json_obj_begin(j, NULL);
	sk_json_str(j, "side", sk_side_name(side));
	sk_json_u64(j, "port_id", port);
	if (rte_eth_dev_get_name_by_port(port, name) == 0)
		sk_json_str(j, "name", name);
	if (rte_eth_dev_info_get(port, &info) == 0) {
		sk_json_str(j, "driver", info.driver_name);
		sk_json_u64(j, "rx_queues", info.nb_rx_queues);
		sk_json_u64(j, "tx_queues", info.nb_tx_queues);
	}
	if (rte_eth_macaddr_get(port, &addr) == 0) {
		rte_ether_format_addr(mac, sizeof(mac), &addr);
		sk_json_str(j, "mac", mac);
	}
	if (rte_eth_link_get_nowait(port, &link) == 0) {
		sk_json_bool(j, "link_up", link.link_status == RTE_ETH_LINK_UP);
		if (link.link_status == RTE_ETH_LINK_UP) {
			if (link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
				sk_json_u64(j, "link_speed_mbps", link.link_speed);
			sk_json_str(j, "link_duplex",
				    link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
			sk_json_bool(j, "link_autoneg", link.link_autoneg == RTE_ETH_LINK_AUTONEG);
		}
	}
	if (rte_eth_stats_get(port, &st) == 0) {
		sk_json_obj_begin(j, "stats");
		sk_json_u64(j, "ipackets", st.ipackets);
		sk_json_u64(j, "opackets", st.opackets);
		sk_json_u64(j, "ibytes", st.ibytes);
		sk_json_u64(j, "obytes", st.obytes);
		sk_json_u64(j, "imissed", st.imissed);
		sk_json_u64(j, "ierrors", st.ierrors);
		sk_json_u64(j, "oerrors", st.oerrors);
		sk_json_u64(j, "rx_nombuf", st.rx_nombuf);
		sk_json_obj_end(j);
	}
	sk_json_obj_end(j);
}

static int cmd_show_ports(struct sk_ctl_req *req)
{
	const struct sk_app *app = req->app;
	int side;

	sk_json_arr_begin(req->j, "ports");
	for (side = 0; app->live && side < SK_SIDE_COUNT; side++)
		json_port(req->j, (enum sk_side)side, app->port_id[side]);
	sk_json_arr_end(req->j);
	return 0;
}

static int cmd_show_tables(struct sk_ctl_req *req)
{
	sk_tables_json(req->app, req->j);
	return 0;
}

/* ---- users and calls (control thread only: no telemetry path) ---------------------------- */

#define SK_CTL_LIST_DEFAULT 100

static int list_limit(struct sk_ctl_req *req, uint32_t *limit)
{
	char *end;
	unsigned long v;

	*limit = SK_CTL_LIST_DEFAULT;
	if (req->argc == 0)
		return 0;
	v = strtoul(req->argv[0], &end, 10);
	if (*req->argv[0] == '\0' || *end != '\0' || v == 0 || v > UINT32_MAX)
		return req_fail(req, "'%s' is not a count (1..%u)", req->argv[0], UINT32_MAX);
	*limit = (uint32_t)v;
	return 0;
}

static sk_time_ns ctl_now(const struct sk_app *app)
{
	return __atomic_load_n(&app->now_ns, __ATOMIC_RELAXED);
}

static int cmd_show_users(struct sk_ctl_req *req)
{
	uint32_t limit;

	if (list_limit(req, &limit) < 0)
		return -1;
	return sk_session_json_users(&req->app->session, req->j, limit, ctl_now(req->app));
}

static int cmd_show_user(struct sk_ctl_req *req)
{
	if (sk_session_json_user(&req->app->session, req->j, req->argv[0], ctl_now(req->app)) < 0)
		return req_fail(req, "no user '%s' (AORs are user@host, host lower-case)",
				req->argv[0]);
	return 0;
}

static int cmd_show_calls(struct sk_ctl_req *req)
{
	uint32_t limit;

	if (list_limit(req, &limit) < 0)
		return -1;
	return sk_session_json_calls(&req->app->session, req->j, limit, ctl_now(req->app));
}

static int cmd_flush_user(struct sk_ctl_req *req)
{
	int n = sk_session_flush_user(&req->app->session, req->argv[0]);

	if (n == 0)
		return req_fail(req, "no user '%s'", req->argv[0]);
	sk_json_u64(req->j, "flushed", (uint64_t)n);
	return 0;
}

/* ---- help and the table ------------------------------------------------------------------ */

static int cmd_help(struct sk_ctl_req *req);

/* Every command but `set`, in the order `help` lists them. */
static const struct sk_ctl_cmd fixed_commands[] = {
	{"help", "[COMMAND...]", 0, SK_CTL_MAX_WORDS,
	 "list commands, or those starting with COMMAND", NULL, cmd_help},
	{"show stats", "", 0, 0, "every counter: per port, per worker, and totals",
	 "/sipkeep/stats", cmd_show_stats},
	{"show ports", "", 0, 0, "DPDK ports: id, name, driver, queues, MAC, link and NIC counters",
	 "/sipkeep/ports", cmd_show_ports},
	{"show workers", "", 0, 0, "per worker: lcore, queue, polls, busy/idle cycles, busy %",
	 "/sipkeep/workers", cmd_show_workers},
	{"show config", "", 0, 0, "every setting and its current value", "/sipkeep/config",
	 cmd_show_config},
	{"reload", "", 0, 0,
	 "read the config file again: keys settable at run time take its values, the others "
	 "are listed as needing a restart; a file with an error changes nothing",
	 NULL, cmd_reload},
	{"show tables", "", 0, 0, "per table: capacity, entries in use, bytes", "/sipkeep/tables",
	 cmd_show_tables},
	{"show users", "[N]", 0, 1,
	 "registered users: contact, options, state, handovers (first N)", NULL, cmd_show_users},
	{"show user", "AOR", 1, 1, "one user (every instance of the AOR user@host)", NULL,
	 cmd_show_user},
	{"show calls", "[N]", 0, 1, "dialogs with their streams, addresses and latch state", NULL,
	 cmd_show_calls},
	{"flush user", "AOR", 1, 1, "forget a user now: its registration, calls and media state",
	 NULL, cmd_flush_user},
	{"show redis", "", 0, 0,
	 "session state on Redis: link, queue depth, writes, errors, restores, peer updates",
	 "/sipkeep/redis", cmd_show_redis},
};

/* The fixed commands, then `set KEY` for each key that may change at run time. */
static struct sk_ctl_cmd commands[SK_ARRAY_SIZE(fixed_commands) + SK_CONFIG_MAX_KEYS];
static size_t n_commands;
static char set_words[SK_CONFIG_MAX_KEYS][sizeof("set ") + SK_CONFIG_NAME_MAX];
static char set_syntax[SK_CONFIG_MAX_KEYS][128];
static pthread_once_t commands_once = PTHREAD_ONCE_INIT;

static void commands_build(void)
{
	const struct sk_config_key *k;
	size_t n_set = 0;

	memcpy(commands, fixed_commands, sizeof(fixed_commands));
	n_commands = SK_ARRAY_SIZE(fixed_commands);
	for (k = sk_config_keys; k->name != NULL; k++) {
		if (!k->run_time)
			continue;
		snprintf(set_words[n_set], sizeof(set_words[n_set]), "set %s", k->name);
		sk_config_syntax(k, set_syntax[n_set], sizeof(set_syntax[n_set]));
		commands[n_commands++] = (struct sk_ctl_cmd){
			.name = set_words[n_set],
			.args = set_syntax[n_set],
			.min_args = 1,
			.max_args = 1,
			.help = k->help,
			.fn = cmd_set,
		};
		n_set++;
	}
}

const struct sk_ctl_cmd *sk_ctl_commands(size_t *n)
{
	pthread_once(&commands_once, commands_build);
	*n = n_commands;
	return commands;
}

/*
 * How many leading words of WORDS match command NAME (case-insensitive);
 * *NAME_WORDS gets the number of words in NAME.
 */
static int match_words(const char *name, char **words, int nwords, int *name_words)
{
	int matched = 0, total = 0;
	bool still = true;
	const char *p = name;

	while (*p) {
		size_t len = strcspn(p, " ");

		if (still && total < nwords && strlen(words[total]) == len &&
		    strncasecmp(words[total], p, len) == 0)
			matched++;
		else
			still = false;
		total++;
		p += len;
		p += strspn(p, " ");
	}
	*name_words = total;
	return matched;
}

/* The K-th word of NAME into BUF. */
static void nth_word(const char *name, int k, char *buf, size_t buflen)
{
	const char *p = name;
	size_t len;

	while (k-- > 0) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	len = strcspn(p, " ");
	snprintf(buf, buflen, "%.*s", (int)len, p);
}

static int cmd_help(struct sk_ctl_req *req)
{
	size_t i, shown = 0;

	sk_json_arr_begin(req->j, "commands");
	for (i = 0; i < n_commands; i++) {
		const struct sk_ctl_cmd *c = &commands[i];
		int total;

		if (req->origin == SK_CTL_FROM_TELEMETRY && c->telemetry == NULL)
			continue;
		if (match_words(c->name, req->argv, req->argc, &total) < req->argc)
			continue;
		sk_json_obj_begin(req->j, NULL);
		sk_json_str(req->j, "command", c->name);
		sk_json_str(req->j, "args", c->args);
		sk_json_str(req->j, "help", c->help);
		if (c->telemetry)
			sk_json_str(req->j, "telemetry", c->telemetry);
		sk_json_obj_end(req->j);
		shown++;
	}
	sk_json_arr_end(req->j);
	if (shown == 0)
		return req_fail(req, "help: no command starts with '%.*s'", SK_CTL_QUOTE_MAX,
				req->argv[0]);
	return 0;
}

/* Reject bytes a command never holds: NUL and control characters (tabs separate words). */
static int check_bytes(const char *line, size_t len, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0') {
			snprintf(err, errlen, "command contains a NUL byte (offset %zu)", i);
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(err, errlen, "command contains control byte 0x%02x (offset %zu)",
				 c, i);
			return -1;
		}
	}
	return 0;
}

/* Words as the user typed them, for messages: "show foo". */
static void join_words(char **words, int n, char *buf, size_t buflen)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && used < buflen; i++)
		used += (size_t)snprintf(buf + used, buflen - used, "%s%s", i ? " " : "", words[i]);
	if (used >= buflen && buflen > 4)
		memcpy(buf + buflen - 4, "...", 4);
}

/* No command matched all of its words: say what was expected. */
static void unknown_command(char **words, int nwords, char *err, size_t errlen)
{
	char typed[SK_CTL_QUOTE_MAX + 4], prefix[SK_CTL_QUOTE_MAX + 4], next[64];
	size_t used;
	size_t i;
	int depth = 0, total, listed = 0;

	/* The deepest word prefix shared with some command. */
	for (i = 0; i < n_commands; i++) {
		int m = match_words(commands[i].name, words, nwords, &total);

		if (m > depth)
			depth = m;
	}
	join_words(words, nwords, typed, sizeof(typed));
	if (depth == 0) {
		snprintf(err, errlen, "unknown command '%s' (try 'help')", typed);
		return;
	}
	join_words(words, depth, prefix, sizeof(prefix));
	used = (size_t)snprintf(err, errlen, "%s command '%s': '%s' takes one of:",
				depth == nwords ? "incomplete" : "unknown", typed, prefix);
	for (i = 0; i < n_commands && used < errlen; i++) {
		if (match_words(commands[i].name, words, nwords, &total) != depth || total <= depth)
			continue;
		nth_word(commands[i].name, depth, next, sizeof(next));
		used += (size_t)snprintf(err + used, errlen - used, "%s %s", listed ? "," : "",
					 next);
		listed++;
	}
}

static const struct sk_ctl_cmd *find_command(char **words, int nwords, int *consumed)
{
	const struct sk_ctl_cmd *best = NULL;
	int best_words = 0;
	size_t i;

	for (i = 0; i < n_commands; i++) {
		int total, m = match_words(commands[i].name, words, nwords, &total);

		if (m == total && total > best_words) {
			best = &commands[i];
			best_words = total;
		}
	}
	*consumed = best_words;
	return best;
}

static int check_args(const struct sk_ctl_cmd *c, int argc, char **argv, char *err, size_t errlen)
{
	if (argc < c->min_args) {
		snprintf(err, errlen, "'%s' needs %s (usage: %s %s)", c->name, c->args, c->name,
			 c->args);
		return -1;
	}
	if (argc > c->max_args) {
		const char *extra = argv[c->max_args];

		if (c->max_args == 0)
			snprintf(err, errlen, "'%s' takes no argument, got '%.*s'", c->name,
				 SK_CTL_QUOTE_MAX, extra);
		else
			snprintf(err, errlen, "'%s': unexpected argument '%.*s' (usage: %s %s)",
				 c->name, SK_CTL_QUOTE_MAX, extra, c->name, c->args);
		return -1;
	}
	return 0;
}

/* Open a reply document in memory. */
static FILE *reply_open(char **buf, size_t *len, struct sk_json *j)
{
	FILE *f = open_memstream(buf, len);

	if (f == NULL)
		return NULL;
	sk_json_init(j, f, false);
	sk_json_obj_begin(j, NULL);
	return f;
}

static int reply_close(FILE *f, struct sk_json *j, char **buf)
{
	sk_json_obj_end(j);
	if (ferror(f)) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	if (fclose(f) != 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

static int reply_error(const char *msg, char **reply, size_t *reply_len)
{
	struct sk_json j;
	FILE *f = reply_open(reply, reply_len, &j);

	if (f == NULL)
		return -1;
	sk_json_str(&j, "error", msg);
	return reply_close(f, &j, reply);
}

int sk_ctl_execute(struct sk_app *app, enum sk_ctl_origin origin, const char *line, size_t len,
		   char **reply, size_t *reply_len)
{
	char text[SK_CTL_LINE_MAX + 1];
	char *words[SK_CTL_MAX_WORDS + 1];
	char err[1024];
	const struct sk_ctl_cmd *c;
	struct sk_ctl_req req;
	struct sk_json j;
	char *save = NULL, *w;
	int nwords = 0, consumed, rc;
	FILE *f;

	*reply = NULL;
	*reply_len = 0;
	pthread_once(&commands_once, commands_build);
	if (len > SK_CTL_LINE_MAX - 1) {
		snprintf(err, sizeof(err), "command longer than %d bytes", SK_CTL_LINE_MAX - 1);
		return reply_error(err, reply, reply_len);
	}
	if (check_bytes(line, len, err, sizeof(err)) < 0)
		return reply_error(err, reply, reply_len);
	memcpy(text, line, len);
	text[len] = '\0';
	for (w = strtok_r(text, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (nwords == SK_CTL_MAX_WORDS) {
			snprintf(err, sizeof(err), "more than %d words in one command",
				 SK_CTL_MAX_WORDS);
			return reply_error(err, reply, reply_len);
		}
		words[nwords++] = w;
	}
	words[nwords] = NULL;
	if (nwords == 0)
		return reply_error("empty command (try 'help')", reply, reply_len);
	c = find_command(words, nwords, &consumed);
	if (c == NULL) {
		unknown_command(words, nwords, err, sizeof(err));
		return reply_error(err, reply, reply_len);
	}
	if (origin == SK_CTL_FROM_TELEMETRY && c->telemetry == NULL) {
		snprintf(err, sizeof(err), "'%s' is not available over telemetry", c->name);
		return reply_error(err, reply, reply_len);
	}
	if (check_args(c, nwords - consumed, words + consumed, err, sizeof(err)) < 0)
		return reply_error(err, reply, reply_len);

	f = reply_open(reply, reply_len, &j);
	if (f == NULL)
		return -1;
	/* Telemetry has its own envelope: no "ok" there. */
	if (origin == SK_CTL_FROM_SOCKET)
		sk_json_bool(&j, "ok", true);
	err[0] = '\0';
	req = (struct sk_ctl_req){
		.app = app,
		.cmd = c,
		.origin = origin,
		.argc = nwords - consumed,
		.argv = words + consumed,
		.j = &j,
		.err = err,
		.errlen = sizeof(err),
	};
	rc = c->fn(&req);
	if (reply_close(f, &j, reply) < 0)
		return -1;
	if (rc == 0)
		return 0;
	free(*reply);
	*reply = NULL;
	return reply_error(err[0] ? err : "command failed", reply, reply_len);
}
