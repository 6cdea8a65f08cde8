/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer side of sk_tables.h: creation, publication and deferred
 * reclamation. Only the control thread calls these.
 */
#ifndef SK_CONTROL_TABLES_H
#define SK_CONTROL_TABLES_H

#include "sk_config.h"
#include "sk_tables.h"

/* Index free lists and the reclamation queue, owned by the control thread. */
struct sk_tables_writer {
	struct sk_tables t;
	uint32_t *free_flows;
	uint32_t n_free_flows;
	uint32_t *free_moves;
	uint32_t n_free_moves;
	struct rte_rcu_qsbr_dq *dq;
	/* Flows published (streams_active): a gauge other threads read with an atomic load. */
	uint32_t flows_published;
	/* Keys on each slot of t.filter (255: sticky, never cleared again). */
	uint8_t *filter_count;
	/* Flow keys moved to their second bucket to make room for another (both indexes). */
	uint64_t ftab_moved;
};

int sk_tables_create(struct sk_tables_writer *tw, const struct sk_config *cfg,
		     unsigned int n_readers);
void sk_tables_destroy(struct sk_tables_writer *tw);

/* A free flow slot (SK_NO_INDEX when full). Fill it, then sk_flow_publish. */
uint32_t sk_flow_alloc(struct sk_tables_writer *tw);
/*
 * Make a filled flow visible to workers through its access and core keys.
 * -EEXIST: a key is taken by another flow; -ENOSPC: both buckets of a key are
 * full. The slot is then given back (after a grace period if a worker may
 * have seen it).
 */
int sk_flow_publish(struct sk_tables_writer *tw, uint32_t idx);
/* Remove a published flow's keys; its slot is reused after a grace period. */
void sk_flow_retire(struct sk_tables_writer *tw, uint32_t idx);

/*
 * Map signalling address K to REF (a user index, with SK_CONTACT_FROM_HDR for
 * a Contact header's address), replacing what it mapped to. -1: table full.
 */
int sk_contact_add(struct sk_tables_writer *tw, const struct sk_addr_key *k, uint32_t ref);
void sk_contact_del(struct sk_tables_writer *tw, const struct sk_addr_key *k);

/* USER's slot starts empty: not moved, no Call-Info. */
void sk_user_reset(struct sk_tables_writer *tw, uint32_t user);

/* Does USER's committed registration carry X-cisco-callinfo (struct sk_user_rt)? */
void sk_user_set_callinfo(struct sk_tables_writer *tw, uint32_t user, bool ok);

/* Publish a new handover record for USER (copied); the old one is freed after a grace period. */
int sk_user_set_move(struct sk_tables_writer *tw, uint32_t user, const struct sk_move *mv);

/*
 * A handover record filled with MV but not reachable yet (an armed commit,
 * sk_commit_arm.h: a worker publishes it); NULL when none is free.
 * sk_move_unprepare gives back one that was never published; sk_move_retire
 * frees a record that was (after a grace period).
 */
const struct sk_move *sk_move_prepare(struct sk_tables_writer *tw, const struct sk_move *mv);
void sk_move_unprepare(struct sk_tables_writer *tw, const struct sk_move *rec);
void sk_move_retire(struct sk_tables_writer *tw, const struct sk_move *rec);

/* Give flow IDX a copy of MV (NULL: not moved): every flow of a user follows its user's move. */
void sk_flow_set_move(struct sk_tables_writer *tw, uint32_t idx, const struct sk_move *mv);

/* Free what no worker can still see. Called every control tick. */
void sk_tables_reclaim(struct sk_tables_writer *tw);

#endif /* SK_CONTROL_TABLES_H */
