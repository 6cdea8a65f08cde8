/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a Unix stream socket at cfg.control_socket, served by
 * the control thread from sk_control_tick without ever blocking it. One
 * command a line in, one JSON document a line out (ctl_commands.h).
 *
 * Limits: SK_CTL_MAX_CLIENTS clients at once (more get an error and are
 * closed); lines of at most SK_CTL_LINE_MAX bytes with the newline (longer:
 * error, then close); replies wait in a bounded per-client buffer (a client
 * that does not read stops getting its commands run, and is dropped when
 * idle or when a reply would not fit); clients idle for the idle timeout
 * (SIPKEEP_CONTROL_IDLE_MS in the environment, default 30 s) are dropped.
 */
#ifndef SK_CTL_SOCKET_H
#define SK_CTL_SOCKET_H

#include "app.h"

#define SK_CTL_MAX_CLIENTS 64
#define SK_CTL_IDLE_MS_DEFAULT 30000
#define SK_CTL_IDLE_ENV "SIPKEEP_CONTROL_IDLE_MS"

/*
 * Create the socket (and its directory, 0750, if missing); the socket file
 * gets mode 0660. A stale socket file is removed; a path where another
 * daemon answers is refused. Returns -1 after logging why.
 */
int sk_ctl_socket_open(struct sk_app *app);

/* Accept, read, run commands, write: everything that is ready now, without waiting. */
void sk_ctl_socket_poll(struct sk_app *app, sk_time_ns now);

/* Close every client, the socket, and remove the socket file. Safe when not open. */
void sk_ctl_socket_close(struct sk_app *app);

#endif /* SK_CTL_SOCKET_H */
