/* SPDX-License-Identifier: BSD-3-Clause */
/* Config reload (see reload.h). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "reload.h"
#include "sk_log.h"

/* Longest value text compared (sip_ports can be long). */
#define SK_RELOAD_VALUE_MAX 8192

static const char *reload_path;
static volatile sig_atomic_t reload_wanted;

void sk_reload_set_path(const char *config_path)
{
	reload_path = config_path;
}

void sk_reload_request(void)
{
	reload_wanted = 1;
}

void sk_reload_poll(struct sk_app *app)
{
	char err[1024];

	if (!reload_wanted)
		return;
	reload_wanted = 0;
	SK_LOG(NOTICE, "reload: SIGHUP received");
	(void)sk_reload_run(app, NULL, err, sizeof(err)); /* it logs what it did */
}

/* Member MEMBER = TEXT, a number for integer keys (as `show config` writes them). */
static void json_value(struct sk_json *j, const char *member, const struct sk_config_key *k,
		       const char *text)
{
	if (k->number)
		sk_json_u64(j, member, strtoull(text, NULL, 10));
	else
		sk_json_str(j, member, text);
}

int sk_reload_run(struct sk_app *app, struct sk_json *j, char *err, size_t errlen)
{
	struct sk_config *file = NULL, *running = NULL;
	char *was = NULL, *now = NULL;
	const struct sk_config_key *k;
	unsigned int n_changed = 0, n_restart = 0;
	char why[512];
	int rc = -1;

	if (reload_path == NULL) {
		snprintf(err, errlen, "started without --config: no file to reload");
		SK_LOG(ERR, "reload: %s", err);
		return -1;
	}
	file = malloc(sizeof(*file));
	running = malloc(sizeof(*running));
	was = malloc(SK_RELOAD_VALUE_MAX);
	now = malloc(SK_RELOAD_VALUE_MAX);
	if (file == NULL || running == NULL || was == NULL || now == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* As at start: the built-in defaults, then the file. */
	sk_config_defaults(file);
	if (sk_config_load(file, reload_path, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s; nothing changed", why);
		goto out;
	}
	sk_config_snapshot(running, &app->cfg);

	/* First every key read at start only: nothing of them changes. */
	if (j != NULL) {
		sk_json_str(j, "file", reload_path);
		sk_json_arr_begin(j, "needs_restart");
	}
	for (k = sk_config_keys; k->name != NULL; k++) {
		if (k->run_time)
			continue;
		k->format(k, running, was, SK_RELOAD_VALUE_MAX);
		k->format(k, file, now, SK_RELOAD_VALUE_MAX);
		if (strcmp(was, now) == 0)
			continue;
		n_restart++;
		SK_LOG(WARNING,
		       "reload: %s is %s in %s but stays %s: read at start only, needs a restart",
		       k->name, now, reload_path, was);
		if (j != NULL) {
			sk_json_obj_begin(j, NULL);
			sk_json_str(j, "key", k->name);
			json_value(j, "running", k, was);
			json_value(j, "file", k, now);
			sk_json_obj_end(j);
		}
	}
	if (j != NULL) {
		sk_json_arr_end(j);
		sk_json_arr_begin(j, "changed");
	}
	/* Then the keys that may change: published one by one, as `set` does. */
	for (k = sk_config_keys; k->name != NULL; k++) {
		if (!k->run_time)
			continue;
		k->format(k, running, was, SK_RELOAD_VALUE_MAX);
		k->format(k, file, now, SK_RELOAD_VALUE_MAX);
		if (strcmp(was, now) == 0)
			continue;
		if (sk_config_set_running(&app->cfg, k->name, now, why, sizeof(why)) < 0) {
			/* The file's value passed the same parser: only out of memory gets here. */
			SK_LOG(ERR, "reload: %s: %s", k->name, why);
			continue;
		}
		n_changed++;
		SK_LOG(NOTICE, "reload: %s changed from %s to %s", k->name, was, now);
		if (j != NULL) {
			sk_json_obj_begin(j, NULL);
			sk_json_str(j, "key", k->name);
			json_value(j, "old", k, was);
			json_value(j, "new", k, now);
			sk_json_obj_end(j);
		}
	}
	if (j != NULL)
		sk_json_arr_end(j);
	SK_LOG(NOTICE, "reload: %s read: %u key(s) changed, %u need a restart", reload_path,
	       n_changed, n_restart);
	rc = 0;
out:
	if (rc < 0)
		SK_LOG(ERR, "reload: %s", err);
	free(now);
	free(was);
	free(running);
	free(file);
	return rc;
}
