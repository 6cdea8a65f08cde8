/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state that workers read and the control thread writes: media flows,
 * signalling contacts, and the per-user handover record.
 *
 * Concurrency model (single writer, many lock-free readers):
 *  - Only the control thread inserts, changes and deletes entries. Workers
 *    post what they see on a ring (sk_events.h) and read the tables.
 *  - The two lookup tables are rte_hash with RW_CONCURRENCY_LF: readers never
 *    block and never see a half-inserted key.
 *  - A slot (flow, user, move record) is filled completely before the key
 *    that leads to it is published, and is never reused while a worker may
 *    still hold its index: deletions go through one rte_rcu_qsbr defer queue,
 *    and workers report a quiescent state once per poll loop. The hash key
 *    positions themselves are freed through the same queue.
 *  - A user's handover state (new address) is an immutable struct sk_move
 *    reached through one pointer: a worker sees the old record or the new
 *    one, never a mix. The replaced record is freed after a grace period.
 *  - The few fields a worker writes (a flow's latched port, its last uplink
 *    time and SSRC) are single atomics: last writer wins, which is what they
 *    mean.
 */
#ifndef SK_TABLES_H
#define SK_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include "sk_common.h"

#define SK_NO_INDEX UINT32_MAX

/*
 * An IP address and UDP port: the key of both lookup tables. Explicit padding
 * (always zero) and 8-byte alignment: the CRC hash reads it 8 bytes at a time.
 */
struct sk_addr_key {
	uint8_t family; /* 4 or 6 */
	uint8_t pad;
	uint16_t port;	  /* network order */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint8_t pad2[4];
} __rte_aligned(8);

enum sk_flow_kind {
	SK_FLOW_RTP = 0,
	SK_FLOW_RTCP = 1,
};

/*
 * One UDP media flow (the RTP or the RTCP of one m= line of a dialog), between
 * the access endpoint's SDP address and the core side's SDP address.
 */
struct sk_flow {
	/* Set by the control thread before publication; constant afterwards. */
	struct sk_addr_key access;
	struct sk_addr_key core;
	uint32_t user;	 /* index into the user slots */
	uint32_t dialog; /* control-thread dialog index (for show calls) */
	uint8_t kind;	 /* enum sk_flow_kind */
	uint8_t media_index;
	/* Written by workers (atomics). */
	uint32_t latch;		 /* SK_LATCH(generation, port): port latched for that move */
	uint32_t last_ssrc;	 /* last uplink SSRC seen (RTP only) */
	uint64_t last_uplink_ns; /* trace/TSC time of the last uplink packet */
} __rte_cache_aligned;

/* Where a user's media and signalling go now (after a handover). Immutable once published. */
struct sk_move {
	uint8_t family;
	uint8_t addr[16];    /* the committed new IP */
	uint16_t sip_port;   /* network order: the new contact's source port */
	uint32_t generation; /* increments on each handover of this user */
};

/* What workers need to know of a registered user. */
struct sk_user_rt {
	const struct sk_move *move; /* NULL until a handover; atomic load/store */
	uint8_t callinfo_ok;	    /* committed registration carries X-cisco-callinfo */
	uint8_t registered;	    /* has a committed registration */
} __rte_cache_aligned;

/*
 * A latched port belongs to one handover: tagging it with the move's
 * generation means a port latched for an earlier move is never used for a
 * later one, without a second atomic.
 */
#define SK_LATCH(gen, port_be) (((uint32_t)(gen) << 16) | (uint16_t)(port_be))
#define SK_LATCH_GEN(latch) ((uint16_t)((latch) >> 16))
#define SK_LATCH_PORT(latch) ((uint16_t)(latch))

/* Values stored in the hash tables: an index, and which key of the flow it is. */
#define SK_FLOWREF_CORE_KEY (UINT64_C(1) << 32)

struct sk_tables {
	struct rte_hash *flows;	   /* sk_addr_key -> flow index | SK_FLOWREF_CORE_KEY */
	struct rte_hash *contacts; /* sk_addr_key -> user index */
	struct sk_flow *flow;	   /* max_flows slots */
	struct sk_user_rt *user;   /* max_users slots */
	struct sk_move *moves;	   /* 2 * max_users records */
	uint32_t max_flows;
	uint32_t max_users;
	struct rte_rcu_qsbr *qsv; /* one reader thread id per worker */
	unsigned int n_readers;
};

static inline void sk_addr_key_set(struct sk_addr_key *k, int family, const uint8_t *addr,
				   uint16_t port_be)
{
	*k = (struct sk_addr_key){.family = (uint8_t)family, .port = port_be};
	__builtin_memcpy(k->addr, addr, family == 4 ? 4 : 16);
}

/* Flow index for a key, or SK_NO_INDEX; *core_key tells whether it was the core-side key. */
static inline uint32_t sk_flow_lookup(const struct sk_tables *t, const struct sk_addr_key *k,
				      bool *core_key)
{
	void *data;

	if (rte_hash_lookup_data(t->flows, k, &data) < 0)
		return SK_NO_INDEX;
	*core_key = ((uintptr_t)data & SK_FLOWREF_CORE_KEY) != 0;
	return (uint32_t)(uintptr_t)data;
}

static inline uint32_t sk_contact_lookup(const struct sk_tables *t, const struct sk_addr_key *k)
{
	void *data;

	if (rte_hash_lookup_data(t->contacts, k, &data) < 0)
		return SK_NO_INDEX;
	return (uint32_t)(uintptr_t)data;
}

static inline const struct sk_move *sk_user_move(const struct sk_tables *t, uint32_t user)
{
	return __atomic_load_n(&t->user[user].move, __ATOMIC_ACQUIRE);
}

#endif /* SK_TABLES_H */
