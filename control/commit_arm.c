/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Armed commits, the control thread's side (commit_arm.h). The slots live in
 * DPDK memory that workers read (struct sk_arm_table); what only this thread
 * needs (which pending REGISTER an arm is for, the record it replaces) is in
 * arrays of its own.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "commit_arm.h"
#include "session.h"
#include "sk_log.h"

enum arm_phase {
	PHASE_IDLE = 0,	 /* slot free */
	PHASE_ARMED,	 /* armed, or fired and not yet seen by this thread */
	PHASE_ADOPTING,	 /* fired; its commit is being applied */
	PHASE_ADOPTED,	 /* that commit took the fired move */
	PHASE_COMPLETED, /* committed before its 2xx's event came: absorb that event */
};

struct arm_ctl {
	uint8_t phase; /* enum arm_phase */
	uint32_t pending;
	const struct sk_move *old; /* the user's record when armed */
	sk_time_ns forget_at;	   /* PHASE_COMPLETED */
};

struct sk_commit_arms {
	struct sk_arm_table t;
	struct arm_ctl *ctl;
	uint32_t *of_user;    /* max_users: slot or SK_NO_INDEX */
	uint32_t *of_pending; /* max_pending_registers: slot or SK_NO_INDEX */
	uint32_t n_in_use;    /* slots not PHASE_IDLE */
};

static uint32_t *index_map(uint32_t n)
{
	uint32_t *m = malloc(sizeof(uint32_t) * n);

	if (m != NULL)
		memset(m, 0xff, sizeof(uint32_t) * n); /* SK_NO_INDEX */
	return m;
}

int sk_arms_create(struct sk_session *s)
{
	const struct sk_config *cfg = s->cfg;
	struct sk_commit_arms *a;
	uint32_t n;

	if (cfg->handover_arm_ms == 0)
		return 0;
	/*
	 * Answers in flight at once: a storm of 10k handovers/s with a 50 ms
	 * registrar round trip arms 500, an eighth of 4096 slots (2 MiB).
	 */
	n = rte_align32pow2(RTE_MAX(RTE_MIN(cfg->max_pending_registers, 4096u), 1024u));
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -1;
	a->t.mask = n - 1;
	a->t.slot = rte_zmalloc("sk_commit_arms", sizeof(*a->t.slot) * n, RTE_CACHE_LINE_SIZE);
	a->ctl = calloc(n, sizeof(*a->ctl));
	a->of_user = index_map(cfg->max_users);
	a->of_pending = index_map(cfg->max_pending_registers);
	s->arms = a;
	if (a->t.slot == NULL || a->ctl == NULL || a->of_user == NULL || a->of_pending == NULL) {
		sk_arms_destroy(s);
		return -1;
	}
	return 0;
}

void sk_arms_destroy(struct sk_session *s)
{
	struct sk_commit_arms *a = s->arms;

	if (a == NULL)
		return;
	rte_free(a->t.slot);
	free(a->ctl);
	free(a->of_user);
	free(a->of_pending);
	free(a);
	s->arms = NULL;
}

struct sk_arm_table *sk_arms_table(struct sk_session *s)
{
	return s->arms != NULL ? &s->arms->t : NULL;
}

static uint64_t word_of(const struct sk_commit_arm *slot)
{
	return __atomic_load_n(&slot->word, __ATOMIC_ACQUIRE);
}

/* Slot I goes back to FREE with a new tag: no worker can fire what it read of it before. */
static void slot_free(struct sk_commit_arms *a, uint32_t i)
{
	struct sk_commit_arm *slot = &a->t.slot[i];

	__atomic_store_n(&slot->word, SK_ARM_WORD(SK_ARM_TAG(word_of(slot)) + 1, SK_ARM_FREE),
			 __ATOMIC_RELEASE);
	a->ctl[i].phase = PHASE_IDLE;
	a->n_in_use--;
}

/* Slot I no longer stands for its user and pending REGISTER. */
static void slot_unmap(struct sk_commit_arms *a, uint32_t i)
{
	const struct sk_commit_arm *slot = &a->t.slot[i];

	if (a->of_user[slot->user] == i)
		a->of_user[slot->user] = SK_NO_INDEX;
	if (a->of_pending[a->ctl[i].pending] == i)
		a->of_pending[a->ctl[i].pending] = SK_NO_INDEX;
}

/*
 * Take armed slot I back. True: done (it was ARMED; its record was never
 * visible). False: a worker fired it; on return it is FIRED.
 */
static bool take_back(struct sk_session *s, uint32_t i)
{
	struct sk_commit_arms *a = s->arms;
	struct sk_commit_arm *slot = &a->t.slot[i];
	uint64_t w = word_of(slot);

	if (SK_ARM_STATE(w) == SK_ARM_ARMED &&
	    __atomic_compare_exchange_n(&slot->word, &w,
					SK_ARM_WORD(SK_ARM_TAG(w) + 1, SK_ARM_FREE), false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_sub(&a->t.n_armed, 1, __ATOMIC_RELAXED);
		sk_move_unprepare(&s->tw, slot->move);
		slot_unmap(a, i);
		a->ctl[i].phase = PHASE_IDLE;
		a->n_in_use--;
		return true;
	}
	/* FIRING lasts a few stores of the worker that won. */
	while (SK_ARM_STATE(word_of(slot)) != SK_ARM_FIRED)
		rte_pause();
	return false;
}

void sk_arm_request(struct sk_session *s, uint32_t pidx, sk_time_ns now)
{
	struct sk_commit_arms *a = s->arms;
	const struct sk_pending *p = &s->pending[pidx];
	struct sk_commit_arm *slot = NULL;
	sk_time_ns not_after;
	uint32_t user, flows[SK_ARM_MAX_FLOWS], n_flows, i, at = 0;
	uint16_t contact_port;
	struct sk_move mv;

	if (a == NULL || a->of_pending[pidx] != SK_NO_INDEX || p->hep || p->conflicting ||
	    !sk_session_would_move(s, p, &user, &contact_port) || a->of_user[user] != SK_NO_INDEX)
		return;
	not_after = now + (sk_time_ns)s->cfg->handover_arm_ms * SK_NS_PER_MS;
	if (!sk_persist_would_move(s, user, p->opts, now, &not_after))
		return;
	n_flows = sk_persist_user_flows(s, user, flows, SK_ARM_MAX_FLOWS);
	if (n_flows > SK_ARM_MAX_FLOWS)
		return;
	at = sk_arm_home(&a->t, p->key.call_id, p->key.cseq);
	for (i = 0; i < SK_ARM_PROBE; i++, at = (at + 1) & a->t.mask)
		if (a->ctl[at].phase == PHASE_IDLE) {
			slot = &a->t.slot[at];
			break;
		}
	if (slot == NULL) {
		sk_session_count(s, SK_CCTR_handovers_arm_refused);
		return;
	}
	memset(&mv, 0, sizeof(mv));
	mv.family = p->src.family;
	memcpy(mv.addr, p->src.addr, sizeof(mv.addr));
	mv.sip_port = p->src.port;
	mv.contact_port = contact_port;
	mv.generation = s->users[user].move_generation + 1;
	slot->move = sk_move_prepare(&s->tw, &mv);
	if (slot->move == NULL) {
		sk_session_count(s, SK_CCTR_handovers_arm_refused);
		return;
	}
	slot->reply = p->key.reply;
	slot->cseq = p->key.cseq;
	slot->user = user;
	slot->not_after = not_after;
	slot->n_flows = n_flows;
	memcpy(slot->flows, flows, sizeof(flows[0]) * n_flows);
	slot->fired_at = 0;
	slot->fired_by = 0;
	RTE_BUILD_BUG_ON(sizeof(slot->call_id) != sizeof(p->key.call_id) ||
			 sizeof(slot->aor) != sizeof(p->key.aor));
	memcpy(slot->call_id, p->key.call_id, sizeof(slot->call_id));
	memcpy(slot->aor, p->key.aor, sizeof(slot->aor));
	a->ctl[at] = (struct arm_ctl){
		.phase = PHASE_ARMED, .pending = pidx, .old = s->tw.t.user[user].move};
	a->of_user[user] = at;
	a->of_pending[pidx] = at;
	a->n_in_use++;
	__atomic_fetch_add(&a->t.n_armed, 1, __ATOMIC_RELAXED);
	/* Release: the key and the record before a worker can see ARMED. */
	__atomic_store_n(&slot->word, SK_ARM_WORD(SK_ARM_TAG(word_of(slot)), SK_ARM_ARMED),
			 __ATOMIC_RELEASE);
	sk_session_count(s, SK_CCTR_handovers_armed);
}

bool sk_arm_resolve(struct sk_session *s, uint32_t pidx, bool ok)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i;

	if (a == NULL || (i = a->of_pending[pidx]) == SK_NO_INDEX)
		return false;
	if (take_back(s, i)) {
		if (!ok)
			sk_session_count(s, SK_CCTR_handovers_arm_cancelled);
		return false;
	}
	__atomic_fetch_sub(&a->t.n_armed, 1, __ATOMIC_RELAXED);
	a->ctl[i].phase = PHASE_ADOPTING;
	return true;
}

const struct sk_move *sk_arm_adopt(struct sk_session *s, uint32_t user)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i;

	if (a == NULL || (i = a->of_user[user]) == SK_NO_INDEX || a->ctl[i].phase != PHASE_ADOPTING)
		return NULL;
	a->ctl[i].phase = PHASE_ADOPTED;
	return a->t.slot[i].move;
}

/* After the commit of fired slot I: the record it replaced goes, and the slot. */
static void finish(struct sk_session *s, uint32_t i, bool keep_for_answer, sk_time_ns now)
{
	struct sk_commit_arms *a = s->arms;
	const struct sk_commit_arm *slot = &a->t.slot[i];
	bool adopted = a->ctl[i].phase == PHASE_ADOPTED;

	slot_unmap(a, i);
	sk_move_retire(&s->tw, a->ctl[i].old);
	if (!adopted) {
		/*
		 * The commit did not reach the move (cannot happen while every
		 * change of the user takes its arm back first): the published
		 * record stays the user's all the same.
		 */
		SK_LOG_LIMITED(ERR, "user %u: fired handover not adopted by its commit; applied",
			       slot->user);
		if (s->users[slot->user].in_use)
			sk_persist_apply_move(s, slot->user, slot->move, now);
	}
	if (keep_for_answer) {
		a->ctl[i].phase = PHASE_COMPLETED;
		a->ctl[i].forget_at = now + (sk_time_ns)s->cfg->register_timeout_ms * SK_NS_PER_MS;
	} else {
		slot_free(a, i);
	}
}

void sk_arm_done(struct sk_session *s, uint32_t pidx, sk_time_ns now)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i;

	if (a == NULL || (i = a->of_pending[pidx]) == SK_NO_INDEX)
		return;
	finish(s, i, false, now);
}

/* Fired slot I is committed now, before its answer's event is applied. */
static void complete_early(struct sk_session *s, uint32_t i, bool free_pending)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t pidx = a->ctl[i].pending;
	sk_time_ns at = a->t.slot[i].fired_at;

	__atomic_fetch_sub(&a->t.n_armed, 1, __ATOMIC_RELAXED);
	a->ctl[i].phase = PHASE_ADOPTING;
	sk_session_commit_pending(s, pidx, at);
	finish(s, i, true, at);
	if (free_pending)
		sk_session_pending_free(s, pidx);
}

bool sk_arm_settle(struct sk_session *s, uint32_t user)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i;

	if (a == NULL || (i = a->of_user[user]) == SK_NO_INDEX || a->ctl[i].phase != PHASE_ARMED)
		return false;
	if (take_back(s, i)) {
		sk_session_count(s, SK_CCTR_handovers_arm_cancelled);
		return false;
	}
	complete_early(s, i, true);
	return true;
}

void sk_arm_pending_gone(struct sk_session *s, uint32_t pidx)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i;

	if (a == NULL || (i = a->of_pending[pidx]) == SK_NO_INDEX || a->ctl[i].phase != PHASE_ARMED)
		return;
	if (take_back(s, i)) {
		sk_session_count(s, SK_CCTR_handovers_arm_cancelled);
		return;
	}
	complete_early(s, i, false);
}

bool sk_arm_absorb(struct sk_session *s, const struct sk_sip_event *ev)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i, at;

	if (a == NULL || a->n_in_use == 0 || !sk_arm_candidate(ev))
		return false;
	at = sk_arm_home(&a->t, ev->call_id, ev->cseq);
	for (i = 0; i < SK_ARM_PROBE; i++, at = (at + 1) & a->t.mask)
		if (a->ctl[at].phase == PHASE_COMPLETED && sk_arm_key_is(&a->t.slot[at], ev)) {
			slot_free(a, at);
			return true;
		}
	return false;
}

void sk_arms_expire(struct sk_session *s, sk_time_ns now)
{
	struct sk_commit_arms *a = s->arms;
	uint32_t i;

	if (a == NULL || a->n_in_use == 0)
		return;
	for (i = 0; i <= a->t.mask; i++) {
		const struct sk_commit_arm *slot = &a->t.slot[i];

		if (a->ctl[i].phase == PHASE_COMPLETED && now >= a->ctl[i].forget_at)
			slot_free(a, i);
		else if (a->ctl[i].phase == PHASE_ARMED && now > slot->not_after) {
			/* Its answer did not come in time; a later one commits the slow way. */
			if (take_back(s, i))
				sk_session_count(s, SK_CCTR_handovers_arm_cancelled);
			else
				complete_early(s, i, true);
		}
	}
}
