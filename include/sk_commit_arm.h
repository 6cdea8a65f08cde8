/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Armed commits: a handover published by the worker that forwards the
 * committing 2xx, before that 2xx leaves (docs/PERSISTENCY.md, "The commit
 * on the fast path").
 *
 * When the control thread applies a re-REGISTER from a new address that
 * would move a user's media if the registrar accepted it, it builds the move
 * record (not yet reachable) and arms it here, keyed by what the worker can
 * check on the answer alone: Call-ID, CSeq, the To AOR and the address the
 * answer goes to (the REGISTER's reply address), a 2xx to REGISTER arriving
 * from the core side, before the arm's deadline. The worker that sees that
 * answer posts its event, then wins one compare-and-swap on the arm's word
 * (ARMED -> FIRING), publishes the move (the user's pointer and the copy in
 * each of the user's flows, listed in the arm) and sets FIRED. Only then is
 * the 2xx forwarded, so the next downlink frame any worker reads finds the
 * flow moved.
 *
 * Ownership: while an arm is ARMED or FIRING, the control thread writes
 * nothing of that user's move state. Whatever would (another commit, a
 * change of the user's flows, its state machine, unregistration, expiry)
 * first takes the arm back, ARMED -> FREE by compare-and-swap; losing that
 * race means a worker fired, and the control thread waits the few
 * instructions until FIRED and completes the commit before it goes on. The
 * word carries a tag that changes whenever a slot is freed, so a worker that
 * read an older arm's key never fires a newer one.
 */
#ifndef SK_COMMIT_ARM_H
#define SK_COMMIT_ARM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>
#include <rte_seqcount.h>

#include "sk_common.h"
#include "sk_events.h"
#include "sip_parse.h"
#include "sk_tables.h"

/* Flows an arm can carry: a user with more moves the slow way (at the event). */
#define SK_ARM_MAX_FLOWS 32
/* Slots probed from an arm's home slot. */
#define SK_ARM_PROBE 8

enum sk_arm_state {
	SK_ARM_FREE = 0,
	SK_ARM_ARMED = 1,  /* the control thread built it; a worker may fire it */
	SK_ARM_FIRING = 2, /* a worker won the compare-and-swap and is publishing */
	SK_ARM_FIRED = 3,  /* published; the control thread completes the commit */
};

#define SK_ARM_WORD(tag, state) ((uint64_t)(tag) << 8 | (uint64_t)(state))
#define SK_ARM_STATE(word) ((enum sk_arm_state)((word)&0xff))
#define SK_ARM_TAG(word) ((word) >> 8)

struct sk_commit_arm {
	uint64_t word; /* tag << 8 | state; atomics only */
	/* The key: written while FREE, constant while ARMED and after. */
	struct sk_addr_key reply; /* where the answer goes */
	uint32_t cseq;
	uint32_t user;
	sk_time_ns not_after;	    /* trace/TSC time: a 2xx seen later does not fire */
	const struct sk_move *move; /* built, not reachable until fired */
	uint32_t n_flows;
	uint32_t flows[SK_ARM_MAX_FLOWS];
	/* Written by the firing worker before FIRED. */
	sk_time_ns fired_at;
	uint16_t fired_by;
	char call_id[SK_EV_CALL_ID_MAX];
	char aor[SK_EV_AOR_MAX];
} __rte_cache_aligned;

/* The slots workers read; the control thread alone arms and frees them. */
struct sk_arm_table {
	struct sk_commit_arm *slot;
	uint32_t mask;	  /* slots - 1 */
	uint32_t n_armed; /* relaxed: 0 lets a worker skip the lookup */
};

/* The home slot of an answer to (CALL_ID, CSEQ). */
static inline uint32_t sk_arm_home(const struct sk_arm_table *at, const char *call_id,
				   uint32_t cseq)
{
	size_t len = strlen(call_id);
	uint32_t h = cseq;
	uint64_t w;

	/* Word loads through memcpy: the Call-ID may sit at any offset (rte_hash_crc casts). */
	for (; len >= sizeof(w); len -= sizeof(w), call_id += sizeof(w)) {
		memcpy(&w, call_id, sizeof(w));
		h = rte_hash_crc_8byte(w, h);
	}
	for (; len != 0; len--, call_id++)
		h = rte_hash_crc_1byte((uint8_t)*call_id, h);
	return h & at->mask;
}

/* Does slot A's key (read after an acquire of its word) name the answer EV? */
static inline bool sk_arm_key_is(const struct sk_commit_arm *a, const struct sk_sip_event *ev)
{
	struct sk_addr_key to;

	sk_addr_key_set(&to, ev->family, ev->dst, ev->dport);
	return a->cseq == ev->cseq && sk_addr_key_eq(&a->reply, &to) &&
	       strcmp(a->call_id, ev->call_id) == 0 && strcmp(a->aor, ev->aor) == 0;
}

/* Could EV commit an armed handover at all: a 2xx to REGISTER from core? */
static inline bool sk_arm_candidate(const struct sk_sip_event *ev)
{
	return !ev->is_request && ev->cseq_method == SK_SIP_REGISTER && ev->side == SK_SIDE_CORE &&
	       ev->status >= 200 && ev->status < 300;
}

/*
 * The armed slot whose key EV (a candidate) matches at NOW, with the word to
 * compare-and-swap in *WORD; UINT32_MAX when none.
 */
static inline uint32_t sk_arm_match(const struct sk_arm_table *at, const struct sk_sip_event *ev,
				    sk_time_ns now, uint64_t *word)
{
	uint32_t i, s;

	if (at == NULL || __atomic_load_n(&at->n_armed, __ATOMIC_RELAXED) == 0)
		return UINT32_MAX;
	s = sk_arm_home(at, ev->call_id, ev->cseq);
	for (i = 0; i < SK_ARM_PROBE; i++, s = (s + 1) & at->mask) {
		const struct sk_commit_arm *a = &at->slot[s];
		uint64_t w = __atomic_load_n(&a->word, __ATOMIC_ACQUIRE);

		if (SK_ARM_STATE(w) == SK_ARM_ARMED && sk_arm_key_is(a, ev) &&
		    now <= a->not_after) {
			*word = w;
			return s;
		}
	}
	return UINT32_MAX;
}

/* Flow F's copy of move MV (NULL: not moved), under its seqcount: its one writer calls this. */
static inline void sk_flow_write_move(struct sk_flow *f, const struct sk_move *mv)
{
	rte_seqcount_write_begin(&f->mv_seq);
	f->mv_family = mv != NULL ? mv->family : 0;
	f->mv_generation = mv != NULL ? mv->generation : 0;
	if (mv != NULL)
		memcpy(f->mv_addr, mv->addr, sizeof(f->mv_addr));
	else
		memset(f->mv_addr, 0, sizeof(f->mv_addr));
	rte_seqcount_write_end(&f->mv_seq);
}

/*
 * Fire slot S (WORD from sk_arm_match): true if this caller won it and the
 * move is published (the user's record, then every listed flow's copy).
 * Called after the answer's event is posted and before the answer leaves.
 */
static inline bool sk_arm_fire(struct sk_arm_table *at, const struct sk_tables *t, uint32_t s,
			       uint64_t word, sk_time_ns now, uint16_t worker)
{
	struct sk_commit_arm *a = &at->slot[s];
	uint64_t firing = SK_ARM_WORD(SK_ARM_TAG(word), SK_ARM_FIRING);
	uint32_t i;

	if (!__atomic_compare_exchange_n(&a->word, &word, firing, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	__atomic_store_n(&t->user[a->user].move, a->move, __ATOMIC_RELEASE);
	for (i = 0; i < a->n_flows; i++)
		sk_flow_write_move(&t->flow[a->flows[i]], a->move);
	a->fired_at = now;
	a->fired_by = worker;
	__atomic_store_n(&a->word, SK_ARM_WORD(SK_ARM_TAG(word), SK_ARM_FIRED), __ATOMIC_RELEASE);
	return true;
}

#endif /* SK_COMMIT_ARM_H */
