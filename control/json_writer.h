/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small streaming JSON writer over a FILE: the control socket, --stats-json
 * and the shutdown report all produce their documents with it.
 */
#ifndef SK_JSON_WRITER_H
#define SK_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SK_JSON_MAX_DEPTH 16

struct sk_json {
	FILE *f;
	int depth;
	bool first[SK_JSON_MAX_DEPTH];
	bool pretty;
};

void sk_json_init(struct sk_json *j, FILE *f, bool pretty);
void sk_json_obj_begin(struct sk_json *j, const char *key);
void sk_json_obj_end(struct sk_json *j);
void sk_json_arr_begin(struct sk_json *j, const char *key);
void sk_json_arr_end(struct sk_json *j);
void sk_json_u64(struct sk_json *j, const char *key, uint64_t v);
void sk_json_i64(struct sk_json *j, const char *key, int64_t v);
void sk_json_double(struct sk_json *j, const char *key, double v);
void sk_json_bool(struct sk_json *j, const char *key, bool v);
void sk_json_str(struct sk_json *j, const char *key, const char *v);
/* A string of LEN bytes that need not be NUL-terminated (e.g. a slice of a packet). */
void sk_json_strn(struct sk_json *j, const char *key, const char *v, size_t len);
void sk_json_null(struct sk_json *j, const char *key);

#endif /* SK_JSON_WRITER_H */
