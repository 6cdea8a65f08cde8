/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small JSON parser for control replies: sipkeepctl reads the daemon's
 * answers with it, and the DPDK telemetry adapter turns the same documents
 * into rte_tel_data. No DPDK dependency; plain malloc.
 *
 * The whole document is parsed into a tree of values that live until
 * sk_jv_free(). Object members keep their order.
 */
#ifndef SK_JSON_READER_H
#define SK_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is refused (the parser recurses). */
#define SK_JV_MAX_DEPTH 64

enum sk_jv_type {
	SK_JV_NULL,
	SK_JV_BOOL,
	SK_JV_NUMBER,
	SK_JV_STRING,
	SK_JV_ARRAY,
	SK_JV_OBJECT,
};

struct sk_jv {
	enum sk_jv_type type;
	const char *key; /* member name when inside an object, else NULL */
	/*
	 * STRING: the decoded value, NUL-terminated (may hold NUL bytes: use len).
	 * NUMBER: the number as written in the document.
	 */
	const char *str;
	size_t len;
	bool boolean;
	bool is_u64; /* NUMBER that is an integer in 0..UINT64_MAX: u64 holds it */
	bool is_i64; /* NUMBER that is an integer in INT64_MIN..INT64_MAX: i64 holds it */
	uint64_t u64;
	int64_t i64;
	double num;	     /* every NUMBER */
	size_t count;	     /* ARRAY / OBJECT: number of children */
	struct sk_jv *child; /* ARRAY / OBJECT: first element or member */
	struct sk_jv *next;  /* next sibling in the parent */
};

struct sk_jv_chunk;

struct sk_jv_doc {
	struct sk_jv *root;
	char *text;		    /* private copy; strings point into it */
	struct sk_jv_chunk *chunks; /* value storage */
};

/*
 * Parse LEN bytes of TEXT (one JSON value; surrounding white space allowed).
 * Returns 0, or -1 with a reason ("offset N: ...") in ERR.
 */
int sk_jv_parse(struct sk_jv_doc *doc, const char *text, size_t len, char *err, size_t errlen);

void sk_jv_free(struct sk_jv_doc *doc);

/* Member KEY of object OBJ, or NULL (also when OBJ is NULL or not an object). */
const struct sk_jv *sk_jv_get(const struct sk_jv *obj, const char *key);

/* The name of a type, for messages. */
const char *sk_jv_type_name(enum sk_jv_type t);

#endif /* SK_JSON_READER_H */
