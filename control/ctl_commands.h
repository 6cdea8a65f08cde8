/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control commands: one table, one action function per command, shared by
 * the control socket (ctl_socket.c) and DPDK telemetry (telemetry.c), the
 * way VPP shares handlers between its CLI and its API.
 *
 * An action adds its members to the reply object; the dispatcher wraps them
 * as {"ok":true,...}, or replaces the whole reply with {"error":"..."} when
 * the action fails. Every reply is one line of JSON ending in '\n'.
 *
 * Adding a command: write `static int cmd_xxx(struct sk_ctl_req *req)`, add a
 * row to the table in ctl_commands.c. The `set KEY` commands are not rows:
 * they come from the config keys that may change at run time (sk_config.h). Rows with a telemetry
 * path are also served on DPDK's telemetry thread, so their action must only read counters
 * (sk_ctr_read), published settings (atomic loads, see sk_config_snapshot) and state that does not
 * change after start-up.
 */
#ifndef SK_CTL_COMMANDS_H
#define SK_CTL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "json_writer.h"

/* Longest command line, newline included. */
#define SK_CTL_LINE_MAX 4096
/* Most words in one command line. */
#define SK_CTL_MAX_WORDS 32

enum sk_ctl_origin {
	SK_CTL_FROM_SOCKET,    /* control thread */
	SK_CTL_FROM_TELEMETRY, /* DPDK's telemetry thread */
};

struct sk_ctl_cmd;

struct sk_ctl_req {
	struct sk_app *app; /* writable only on the control thread (SK_CTL_FROM_SOCKET) */
	const struct sk_ctl_cmd *cmd;
	enum sk_ctl_origin origin;
	int argc; /* arguments after the command words */
	char **argv;
	struct sk_json *j; /* the reply object, open: add members */
	char *err;	   /* on failure, the reason (the "error" member) */
	size_t errlen;
};

typedef int (*sk_ctl_fn)(struct sk_ctl_req *req);

struct sk_ctl_cmd {
	const char *name; /* command words, e.g. "show stats" */
	const char *args; /* argument synopsis, "" if none */
	int min_args;	  /* arguments after the words */
	int max_args;
	const char *help;
	const char *telemetry; /* DPDK telemetry path, or NULL when not exported */
	sk_ctl_fn fn;
};

/* The command table and its size. */
const struct sk_ctl_cmd *sk_ctl_commands(size_t *n);

/*
 * Run one command line of LEN bytes (no newline; may hold any byte). *REPLY
 * gets a malloc'd JSON document of *REPLY_LEN bytes, ending in '\n'; the
 * caller frees it. Returns 0, or -1 when no memory was left for the reply.
 */
int sk_ctl_execute(struct sk_app *app, enum sk_ctl_origin origin, const char *line, size_t len,
		   char **reply, size_t *reply_len);

#endif /* SK_CTL_COMMANDS_H */
