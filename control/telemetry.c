/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK telemetry adapter: control command -> JSON reply -> rte_tel_data (see telemetry.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include "ctl_commands.h"
#include "json_reader.h"
#include "sk_log.h"
#include "telemetry.h"

/*
 * The app being served, or NULL. Callbacks announce themselves in
 * tel_inflight before loading tel_app; sk_telemetry_stop clears tel_app and
 * then waits for tel_inflight to reach zero (all sequentially consistent, so
 * a callback either sees NULL or is waited for).
 */
static struct sk_app *tel_app;
static unsigned int tel_inflight;
static bool tel_registered;

static int add_member(struct rte_tel_data *d, const char *name, const struct sk_jv *v);

/* An array of one scalar kind becomes a telemetry array; anything else a dict keyed "0", "1"... */
static int fill_array(struct rte_tel_data *d, const struct sk_jv *arr)
{
	const struct sk_jv *e;
	bool all_u64 = true, all_str = true;
	char idx[24];
	size_t i = 0;

	for (e = arr->child; e != NULL; e = e->next) {
		all_u64 = all_u64 && e->type == SK_JV_NUMBER && e->is_u64;
		all_str = all_str && e->type == SK_JV_STRING;
	}
	if (all_u64) {
		rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
		for (e = arr->child; e != NULL; e = e->next)
			if (rte_tel_data_add_array_u64(d, e->u64) < 0)
				break;
		return 0;
	}
	if (all_str) {
		rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
		for (e = arr->child; e != NULL; e = e->next)
			if (rte_tel_data_add_array_string(d, e->str) < 0)
				break;
		return 0;
	}
	/* DPDK 22.11 cannot nest arrays of containers inside a container. */
	rte_tel_data_start_dict(d);
	for (e = arr->child; e != NULL; e = e->next, i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		if (add_member(d, idx, e) == -ENOSPC)
			break;
	}
	return 0;
}

static int fill_dict(struct rte_tel_data *d, const struct sk_jv *obj)
{
	const struct sk_jv *m;

	rte_tel_data_start_dict(d);
	for (m = obj->child; m != NULL; m = m->next)
		if (add_member(d, m->key, m) == -ENOSPC)
			break; /* RTE_TEL_MAX_DICT_ENTRIES */
	return 0;
}

static int add_member(struct rte_tel_data *d, const char *name, const struct sk_jv *v)
{
	struct rte_tel_data *child;
	char text[64];
	int rc;

	switch (v->type) {
	case SK_JV_NULL:
		return rte_tel_data_add_dict_string(d, name, "");
	case SK_JV_BOOL:
		return rte_tel_data_add_dict_u64(d, name, v->boolean ? 1 : 0);
	case SK_JV_STRING:
		return rte_tel_data_add_dict_string(d, name, v->str);
	case SK_JV_NUMBER:
		if (v->is_u64)
			return rte_tel_data_add_dict_u64(d, name, v->u64);
		/* No floating point in 22.11 telemetry: keep the number's text. */
		snprintf(text, sizeof(text), "%.*s", (int)v->len, v->str);
		return rte_tel_data_add_dict_string(d, name, text);
	case SK_JV_OBJECT:
	case SK_JV_ARRAY:
		child = rte_tel_data_alloc();
		if (child == NULL)
			return -ENOMEM;
		if (v->type == SK_JV_OBJECT)
			fill_dict(child, v);
		else
			fill_array(child, v);
		rc = rte_tel_data_add_dict_container(d, name, child, 0);
		if (rc != 0)
			rte_tel_data_free(child);
		return rc;
	}
	return -EINVAL;
}

static const struct sk_ctl_cmd *find_path(const char *path)
{
	size_t n, i;
	const struct sk_ctl_cmd *cmds = sk_ctl_commands(&n);

	for (i = 0; i < n; i++)
		if (cmds[i].telemetry != NULL && strcmp(cmds[i].telemetry, path) == 0)
			return &cmds[i];
	return NULL;
}

static int tel_callback(const char *path, const char *params, struct rte_tel_data *d)
{
	const struct sk_ctl_cmd *c = find_path(path);
	char line[SK_CTL_LINE_MAX];
	struct sk_jv_doc doc;
	struct sk_app *app;
	char err[256];
	char *reply = NULL, *p;
	size_t reply_len = 0;
	int rc = -1;

	if (c == NULL)
		return -EINVAL;
	/* "/sipkeep/x,a,b" arrives as params "a,b": the command's arguments. */
	snprintf(line, sizeof(line), "%s %s", c->name, params ? params : "");
	for (p = line; *p; p++)
		if (*p == ',')
			*p = ' ';

	__atomic_add_fetch(&tel_inflight, 1, __ATOMIC_SEQ_CST);
	app = __atomic_load_n(&tel_app, __ATOMIC_SEQ_CST);
	if (app != NULL)
		rc = sk_ctl_execute(app, SK_CTL_FROM_TELEMETRY, line, strlen(line), &reply,
				    &reply_len);
	__atomic_sub_fetch(&tel_inflight, 1, __ATOMIC_SEQ_CST);

	if (app == NULL) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", "sipkeep is not running");
		return 0;
	}
	if (rc < 0)
		return -ENOMEM;
	rc = sk_jv_parse(&doc, reply, reply_len, err, sizeof(err));
	free(reply);
	if (rc < 0) {
		SK_LOG(ERR, "telemetry %s: reply is not JSON: %s", path, err);
		return -EINVAL;
	}
	if (doc.root->type == SK_JV_OBJECT)
		fill_dict(d, doc.root);
	else
		rte_tel_data_string(d, "unexpected reply");
	sk_jv_free(&doc);
	return 0;
}

void sk_telemetry_start(struct sk_app *app)
{
	size_t n, i;
	const struct sk_ctl_cmd *cmds = sk_ctl_commands(&n);

	if (!tel_registered) {
		for (i = 0; i < n; i++) {
			int rc;

			if (cmds[i].telemetry == NULL)
				continue;
			rc = rte_telemetry_register_cmd(cmds[i].telemetry, tel_callback,
							cmds[i].help);
			if (rc != 0)
				SK_LOG(WARNING, "telemetry: cannot register %s: %s",
				       cmds[i].telemetry, strerror(-rc));
		}
		tel_registered = true;
	}
	__atomic_store_n(&tel_app, app, __ATOMIC_SEQ_CST);
}

void sk_telemetry_stop(void)
{
	__atomic_store_n(&tel_app, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&tel_inflight, __ATOMIC_SEQ_CST) != 0)
		usleep(100);
}
