/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reload: `sipkeepctl reload` and SIGHUP read the config file the
 * daemon started with again. The file is loaded into a scratch config first
 * (built-in defaults, then the file, as at start); an error changes nothing
 * and names the file, line and key. Otherwise each key that may change at run
 * time (SK_AT_RUN_TIME) and differs takes the file's value, published the way
 * `set` publishes it (sk_config_set_running); a key read at start only that
 * differs is listed as needing a restart and keeps its value.
 */
#ifndef SK_RELOAD_H
#define SK_RELOAD_H

#include <stddef.h>

#include "app.h"

struct sk_json;

/* The file to read again: the --config path (NULL: none, reload is refused). */
void sk_reload_set_path(const char *config_path);

/* Ask for a reload from a signal handler: async-signal-safe, acted on by sk_reload_poll. */
void sk_reload_request(void);

/* Control thread, each tick: do the reload a signal asked for, and log what it did. */
void sk_reload_poll(struct sk_app *app);

/*
 * Reload now (control thread). J, if not NULL, gets the members "file",
 * "changed" ([{key, old, new}]) and "needs_restart" ([{key, running, file}]).
 * Returns 0, or -1 with the reason in ERR (nothing changed then). Logs either way.
 */
int sk_reload_run(struct sk_app *app, struct sk_json *j, char *err, size_t errlen);

#endif /* SK_RELOAD_H */
