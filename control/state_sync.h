/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session state on Redis (docs/REDIS.md). The control thread encodes state
 * changes (state_sync.c) and queues them for the Redis thread (redis_link.c);
 * what that thread reads comes back on a second ring and is decoded,
 * validated and applied on the control thread.
 */
#ifndef SK_STATE_SYNC_H
#define SK_STATE_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "session.h"

#define SK_SYNC_KEY_MAX 512
#define SK_SYNC_VAL_MAX 1536

enum sk_sync_op {
	SK_SYNC_SET = 1, /* control -> Redis: SET key value PX ttl */
	SK_SYNC_DEL,	 /* control -> Redis: DEL key */
	SK_SYNC_VALUE,	 /* Redis -> control: a key's value (ttl_ms: its PTTL) */
	SK_SYNC_RESTORED /* Redis -> control: the first full read is over */
};

struct sk_sync_rec {
	uint8_t op; /* enum sk_sync_op */
	uint8_t pad;
	uint16_t klen, vlen;
	uint32_t ttl_ms;
	uint64_t rx_ms; /* Redis -> control: when the thread read it (wall clock) */
	char key[SK_SYNC_KEY_MAX];
	char val[SK_SYNC_VAL_MAX];
};

/* Link states (show redis). */
enum sk_sync_link { SK_LINK_DOWN = 0, SK_LINK_CONNECTING, SK_LINK_UP };

struct sk_sync {
	const struct sk_config *cfg;
	char node[64];
	char host[256];
	char unix_path[256];
	int port;
	int db;
	char password[256];
	struct rte_ring *out; /* control -> Redis thread */
	struct rte_ring *in;  /* Redis thread -> control */
	pthread_t thread;
	bool thread_up;
	bool stop;		 /* atomics */
	bool restore_done;	 /* the thread finished its first read, or gave up on it */
	uint32_t link;		 /* enum sk_sync_link */
	uint64_t writes;	 /* commands answered OK */
	uint64_t errors;	 /* commands failed, connections lost, connects refused */
	uint64_t connects;	 /* connections made */
	uint64_t rewrites_seen;	 /* control thread: the connects it rewrote its state for */
	uint32_t rewrite_cursor; /* control thread: next user to write again (SK_NO_INDEX: none) */
	uint64_t resyncs;	 /* full reads done */
	uint64_t notified;	 /* keyspace notifications read */
	uint64_t in_waits;	 /* times the thread waited for room on the in ring */
	uint64_t dropped;	 /* writes not queued: queue full (control thread) */
	uint64_t restored;	 /* values applied from the first read (control thread) */
	uint64_t applied;	 /* peer values applied while running (control thread) */
	uint64_t ignored;	 /* valid values not applied: own, older epoch (control thread) */
	uint64_t rejected;	 /* malformed or wrong-version values (control thread) */
	uint64_t applied_ns;	 /* the last peer apply's time (control clock) */
	uint64_t last_delay_ms;	 /* the last peer handover: its commit to its apply here */
	uint64_t last_read_ms;	 /* of which: its commit to this node's Redis thread reading it */
};

/* Start the Redis thread and restore (cfg.redis set). -1 on error. */
int sk_sync_start(struct sk_session *s, sk_time_ns now);
/* Flush what is queued (bounded wait), stop the thread, free. */
void sk_sync_stop(struct sk_session *s);
/* Apply what the Redis thread read. Control thread, every tick. */
void sk_sync_poll(struct sk_session *s, sk_time_ns now);

/* Hooks at the session's state changes: no-ops without Redis. */
void sk_sync_user(struct sk_session *s, uint32_t user, sk_time_ns now);
void sk_sync_dialog(struct sk_session *s, uint32_t d);
void sk_sync_dialog_gone(struct sk_session *s, uint32_t d);

/* The members of `show redis` (and the redis object of show stats); any thread. */
struct sk_json;
void sk_sync_json(const struct sk_session *s, struct sk_json *j);

/* The Redis thread (redis_link.c). */
void *sk_redis_thread(void *arg);

/* Decoders, exposed for the unit test. 0 on success, -1 when malformed. */
struct sk_sync_user_rec {
	struct sk_user_key key;
	char node[64];
	uint32_t epoch;
	uint64_t at_ms; /* when it was written (wall clock, informational) */
	bool registered;
	uint8_t transport;
	uint32_t opts;
	struct sk_addr_key contact;
	unsigned int n_sig;
	struct sk_addr_key sig[SK_USER_MAX_CONTACTS];
	bool sig_hdr[SK_USER_MAX_CONTACTS];
	bool has_move;
	struct sk_move move;
	unsigned int n_bind; /* the registration's bindings (Contact URI hashes) */
	uint64_t bind[SK_USER_MAX_BINDINGS];
};

struct sk_sync_dialog_rec {
	char node[64];
	char call_id[SK_EV_CALL_ID_MAX];
	char tag[SK_EV_TAG_MAX];
	struct sk_user_key user;
	struct sk_dialog_sdp sdp[SK_SIDE_COUNT];
};

int sk_sync_decode_user(const char *prefix, const char *key, size_t klen, const char *val,
			size_t vlen, struct sk_sync_user_rec *r);
int sk_sync_decode_dialog(const char *prefix, const char *key, size_t klen, const char *val,
			  size_t vlen, struct sk_sync_dialog_rec *r);

#endif /* SK_STATE_SYNC_H */
