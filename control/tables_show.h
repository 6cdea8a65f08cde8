/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `show tables` (and /sipkeep/tables in telemetry): capacity, entries in use
 * and memory of every table sipkeep holds. Safe on any thread: capacities are
 * fixed at start, in-use counts are gauges (atomic loads) or rte_hash counts
 * of single-writer tables, and sizes are computed from the capacities.
 */
#ifndef SK_TABLES_SHOW_H
#define SK_TABLES_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "json_writer.h"

#define SK_TABLES_MAX 8

struct sk_table_usage {
	const char *name;
	const char *help;
	uint64_t capacity;
	uint64_t in_use; /* valid when has_in_use */
	uint64_t bytes;	 /* valid when has_bytes */
	bool has_in_use;
	bool has_bytes;
	bool per_worker; /* capacity and bytes are the sum over the workers */
};

/* Fill OUT (SK_TABLES_MAX entries); returns how many tables there are. */
size_t sk_tables_usage(const struct sk_app *app, struct sk_table_usage *out);

/* Add "tables": [{name, capacity, in_use, bytes, ...}] to an open JSON object. */
void sk_tables_json(const struct sk_app *app, struct sk_json *j);

#endif /* SK_TABLES_SHOW_H */
