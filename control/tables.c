/* SPDX-License-Identifier: BSD-3-Clause */
/* The tables library: the writer (tables.h) and the key helpers of sk_tables.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "sk_commit_arm.h"
#include "sk_counters.h"
#include "sk_log.h"
#include "tables.h"

/* What the defer queue holds: a slot or a hash key position to free after a grace period. */
enum dq_kind {
	DQ_FLOW_SLOT = 1,
	DQ_MOVE_SLOT,
	DQ_CONTACT_KEY_POS,
};

struct dq_entry {
	uint32_t kind;
	uint32_t idx;
};

static void dq_free(void *p, void *e, unsigned int n)
{
	struct sk_tables_writer *tw = p;
	struct dq_entry *entries = e;
	unsigned int i;

	for (i = 0; i < n; i++) {
		switch (entries[i].kind) {
		case DQ_FLOW_SLOT:
			tw->free_flows[tw->n_free_flows++] = entries[i].idx;
			break;
		case DQ_MOVE_SLOT:
			tw->free_moves[tw->n_free_moves++] = entries[i].idx;
			break;
		case DQ_CONTACT_KEY_POS:
			rte_hash_free_key_with_position(tw->t.contacts, (int32_t)entries[i].idx);
			break;
		}
	}
}

static void defer(struct sk_tables_writer *tw, enum dq_kind kind, uint32_t idx)
{
	struct dq_entry e = {.kind = kind, .idx = idx};

	/* The queue holds every slot and key there is, so it cannot overflow. */
	if (rte_rcu_qsbr_dq_enqueue(tw->dq, &e) != 0)
		SK_LOG_LIMITED(ERR, "reclamation queue full: slot %u of kind %d leaked", idx, kind);
}

static struct rte_hash *create_hash(const char *name, uint32_t entries)
{
	/*
	 * Extendable buckets: the table takes every key up to ENTRIES, whatever
	 * their hashes (a cuckoo table alone may refuse one earlier).
	 */
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries,
		.key_len = sizeof(struct sk_addr_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = (int)rte_socket_id(),
		/* One writer (this thread), lock-free readers (the workers). */
		.extra_flag =
			RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	return rte_hash_create(&p);
}

/* The contact table's size: max_contacts, or by default two per user (at least 4096). */
static uint32_t contacts_capacity(const struct sk_config *cfg)
{
	if (cfg->max_contacts != 0)
		return cfg->max_contacts;
	return RTE_MAX(cfg->max_users * 2, 4096u);
}

int sk_tables_create(struct sk_tables_writer *tw, const struct sk_config *cfg,
		     unsigned int n_readers)
{
	struct sk_tables *t = &tw->t;
	struct rte_rcu_qsbr_dq_parameters dqp;
	uint32_t i, dq_size, n_contacts;
	uint64_t filter_slots;
	size_t qsz;

	memset(tw, 0, sizeof(*tw));
	t->max_flows = cfg->max_streams * 2;
	t->max_users = cfg->max_users;
	t->n_readers = n_readers;
	/*
	 * One key per flow in each index, at most SK_FTAB_LOAD keys per bucket of
	 * 7 when every flow is in use (ftab_add moves a key to its second bucket
	 * to make room when both of a new key's are full).
	 */
	t->by_access.mask = rte_align32pow2((t->max_flows + SK_FTAB_LOAD - 1) / SK_FTAB_LOAD) - 1;
	t->by_core.mask = t->by_access.mask;
	t->by_access.b =
		rte_zmalloc("sk_flows_by_access", sizeof(*t->by_access.b) * (t->by_access.mask + 1),
			    RTE_CACHE_LINE_SIZE);
	t->by_core.b =
		rte_zmalloc("sk_flows_by_core", sizeof(*t->by_core.b) * (t->by_core.mask + 1),
			    RTE_CACHE_LINE_SIZE);
	/*
	 * max_contacts addresses (0: two per user, what a device behind NAT
	 * uses: its source and its Contact address), counting keys deleted but
	 * not yet reclaimed (their position is freed only after a grace period,
	 * at the end of the tick that deleted them). A user may keep up to
	 * SK_USER_MAX_CONTACTS; an address past the table's size is refused and
	 * counted (contacts_refused).
	 */
	n_contacts = contacts_capacity(cfg);
	t->contacts = create_hash("sk_contacts", n_contacts);
	t->flow = rte_zmalloc("sk_flow", sizeof(*t->flow) * t->max_flows, RTE_CACHE_LINE_SIZE);
	t->user = rte_zmalloc("sk_user", sizeof(*t->user) * t->max_users, RTE_CACHE_LINE_SIZE);
	t->moves =
		rte_zmalloc("sk_moves", sizeof(*t->moves) * t->max_users * 2, RTE_CACHE_LINE_SIZE);
	qsz = rte_rcu_qsbr_get_memsize(n_readers);
	t->qsv = rte_zmalloc("sk_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	/* 8 filter slots per key the two indexes can hold: about 1 in 9 false positives when full.
	 */
	t->filter.shift = 64 - rte_log2_u32(rte_align32pow2(t->max_flows * 2 * 8));
	filter_slots = UINT64_C(1) << (64 - t->filter.shift);
	t->filter.bits = rte_zmalloc("sk_flow_filter", RTE_MAX(filter_slots / 8, (uint64_t)8),
				     RTE_CACHE_LINE_SIZE);
	tw->filter_count = calloc(filter_slots, 1);
	tw->free_flows = malloc(sizeof(uint32_t) * t->max_flows);
	tw->free_moves = malloc(sizeof(uint32_t) * t->max_users * 2);
	if (!t->by_access.b || !t->by_core.b || !t->contacts || !t->flow || !t->user || !t->moves ||
	    !t->qsv || !tw->free_flows || !tw->free_moves || !t->filter.bits || !tw->filter_count) {
		SK_LOG(ERR,
		       "cannot allocate tables for %u users and %u streams: %s (give DPDK more "
		       "memory, or lower max_users / max_streams)",
		       cfg->max_users, cfg->max_streams, rte_strerror(rte_errno));
		sk_tables_destroy(tw);
		return -1;
	}
	rte_rcu_qsbr_init(t->qsv, n_readers);
	/* Hand out low indexes first: stack in reverse. */
	for (i = 0; i < t->max_flows; i++)
		tw->free_flows[i] = t->max_flows - 1 - i;
	tw->n_free_flows = t->max_flows;
	for (i = 0; i < t->max_users * 2; i++)
		tw->free_moves[i] = t->max_users * 2 - 1 - i;
	tw->n_free_moves = t->max_users * 2;

	/* Every slot and key that can be deleted: flows, moves (2 per user), contact keys. */
	dq_size = t->max_flows * 3 + t->max_users * 3 + n_contacts + 2048;
	memset(&dqp, 0, sizeof(dqp));
	dqp.name = "sk_reclaim";
	dqp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE; /* only this thread enqueues and reclaims */
	dqp.size = dq_size;
	dqp.esize = sizeof(struct dq_entry);
	dqp.trigger_reclaim_limit = dq_size + 1; /* reclaim from the control tick, not inline */
	dqp.max_reclaim_size = dq_size;
	dqp.free_fn = dq_free;
	dqp.p = tw;
	dqp.v = t->qsv;
	tw->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (tw->dq == NULL) {
		SK_LOG(ERR, "cannot create the reclamation queue: %s", rte_strerror(rte_errno));
		sk_tables_destroy(tw);
		return -1;
	}
	return 0;
}

void sk_tables_destroy(struct sk_tables_writer *tw)
{
	struct sk_tables *t = &tw->t;

	if (tw->dq)
		rte_rcu_qsbr_dq_delete(tw->dq);
	rte_free(t->by_access.b);
	rte_free(t->by_core.b);
	rte_hash_free(t->contacts);
	rte_free(t->flow);
	rte_free(t->user);
	rte_free(t->moves);
	rte_free(t->qsv);
	rte_free(t->filter.bits);
	free(tw->filter_count);
	free(tw->free_flows);
	free(tw->free_moves);
	memset(tw, 0, sizeof(*tw));
}

uint32_t sk_flow_alloc(struct sk_tables_writer *tw)
{
	uint32_t idx;

	if (tw->n_free_flows == 0)
		return SK_NO_INDEX;
	idx = tw->free_flows[--tw->n_free_flows];
	memset(&tw->t.flow[idx], 0, sizeof(tw->t.flow[idx]));
	return idx;
}

/* The index a flow reference's key goes in. */
static struct sk_ftab *ftab_of(struct sk_tables_writer *tw, uint32_t ref)
{
	return (ref & SK_FTAB_CORE_REF) ? &tw->t.by_core : &tw->t.by_access;
}

/*
 * One more key on SIG's filter slot: its bit is set (and visible, release)
 * before the caller publishes the key.
 */
static void filter_add(struct sk_tables_writer *tw, uint32_t sig)
{
	struct sk_filter *f = &tw->t.filter;
	uint32_t slot = sk_filter_slot(f, sig);

	if (tw->filter_count[slot] == UINT8_MAX)
		return;
	if (tw->filter_count[slot]++ == 0)
		__atomic_store_n(&f->bits[slot >> 6],
				 f->bits[slot >> 6] | UINT64_C(1) << (slot & 63), __ATOMIC_RELEASE);
}

/* One key fewer on SIG's slot (already unpublished): the last one clears the bit. */
static void filter_del(struct sk_tables_writer *tw, uint32_t sig)
{
	struct sk_filter *f = &tw->t.filter;
	uint32_t slot = sk_filter_slot(f, sig);

	if (tw->filter_count[slot] == UINT8_MAX || tw->filter_count[slot] == 0)
		return;
	if (--tw->filter_count[slot] == 0)
		__atomic_store_n(&f->bits[slot >> 6],
				 f->bits[slot >> 6] & ~(UINT64_C(1) << (slot & 63)),
				 __ATOMIC_RELEASE);
}

/* The first empty way of bucket B of FT, or SK_FTAB_WAYS. */
static unsigned int ftab_free_way(const struct sk_ftab *ft, uint32_t b)
{
	unsigned int i;

	for (i = 0; i < SK_FTAB_WAYS; i++)
		if (ft->b[b].e[i] == 0)
			return i;
	return SK_FTAB_WAYS;
}

/*
 * Make room in full bucket B: move one of its keys that sits in its first
 * bucket to its second, if that one has room; the way it freed, or
 * SK_FTAB_WAYS. Readers never miss the moved key: its first bucket's spill
 * count goes up, then the key is stored in its second bucket, then it leaves
 * the first (all release); a reader that finds it gone from the first bucket
 * sees the spill and the copy.
 */
static unsigned int ftab_displace(struct sk_tables_writer *tw, struct sk_ftab *ft, uint32_t b)
{
	unsigned int i, w;

	for (i = 0; i < SK_FTAB_WAYS; i++) {
		uint64_t e = ft->b[b].e[i];
		struct sk_ftab_pos q = {.b1 = b, .sig = (uint32_t)(e >> 32)};
		uint32_t b2;

		if (e == 0 || sk_ftab_b1(ft, q.sig) != b)
			continue; /* already in its second bucket */
		b2 = sk_ftab_b2(ft, &q);
		w = ftab_free_way(ft, b2);
		if (w == SK_FTAB_WAYS)
			continue;
		__atomic_store_n(&ft->b[b].spill, ft->b[b].spill + 1, __ATOMIC_RELEASE);
		__atomic_store_n(&ft->b[b2].e[w], e, __ATOMIC_RELEASE);
		__atomic_store_n(&ft->b[b].e[i], 0, __ATOMIC_RELEASE);
		tw->ftab_moved++;
		return i;
	}
	return SK_FTAB_WAYS;
}

static int ftab_add(struct sk_tables_writer *tw, const struct sk_addr_key *k, uint32_t ref)
{
	struct sk_ftab *ft = ftab_of(tw, ref);
	struct sk_ftab_pos p;
	unsigned int w;
	uint32_t b2;

	sk_ftab_hash(ft, k, &p);
	b2 = sk_ftab_b2(ft, &p);
	filter_add(tw, p.sig);
	w = ftab_free_way(ft, p.b1);
	if (w == SK_FTAB_WAYS && ftab_free_way(ft, b2) == SK_FTAB_WAYS)
		w = ftab_displace(tw, ft, p.b1); /* both full: room in the first one, if it can */
	if (w < SK_FTAB_WAYS) {
		/* Release: the flow's contents before the entry that leads to it. */
		__atomic_store_n(&ft->b[p.b1].e[w], (uint64_t)p.sig << 32 | ref, __ATOMIC_RELEASE);
		return 0;
	}
	w = ftab_free_way(ft, b2);
	if (w == SK_FTAB_WAYS)
		w = ftab_displace(tw, ft, b2);
	if (w < SK_FTAB_WAYS) {
		__atomic_store_n(&ft->b[p.b1].spill, ft->b[p.b1].spill + 1, __ATOMIC_RELEASE);
		__atomic_store_n(&ft->b[b2].e[w], (uint64_t)p.sig << 32 | ref, __ATOMIC_RELEASE);
		return 0;
	}
	filter_del(tw, p.sig);
	return -1;
}

/*
 * Remove K's entry if it still refers to REF. A worker that read it just
 * before still holds a flow that is only freed after a grace period.
 */
static void ftab_del(struct sk_tables_writer *tw, const struct sk_addr_key *k, uint32_t ref)
{
	struct sk_ftab *ft = ftab_of(tw, ref);
	struct sk_ftab_pos p;
	uint64_t want;
	unsigned int i;
	uint32_t b2;

	sk_ftab_hash(ft, k, &p);
	b2 = sk_ftab_b2(ft, &p);
	want = (uint64_t)p.sig << 32 | ref;
	for (i = 0; i < SK_FTAB_WAYS; i++)
		if (ft->b[p.b1].e[i] == want) {
			__atomic_store_n(&ft->b[p.b1].e[i], 0, __ATOMIC_RELEASE);
			filter_del(tw, p.sig);
			return;
		}
	for (i = 0; i < SK_FTAB_WAYS; i++)
		if (ft->b[b2].e[i] == want) {
			__atomic_store_n(&ft->b[b2].e[i], 0, __ATOMIC_RELEASE);
			__atomic_store_n(&ft->b[p.b1].spill, ft->b[p.b1].spill - 1,
					 __ATOMIC_RELEASE);
			filter_del(tw, p.sig);
			return;
		}
}

int sk_flow_publish(struct sk_tables_writer *tw, uint32_t idx)
{
	const struct sk_flow *f = &tw->t.flow[idx];
	bool core;

	/* A key another flow owns stays with it: a new call never steals live media. */
	if (sk_flow_lookup(&tw->t, &f->access, &core) != SK_NO_INDEX ||
	    sk_flow_lookup(&tw->t, &f->core, &core) != SK_NO_INDEX) {
		tw->free_flows[tw->n_free_flows++] = idx;
		return -EEXIST;
	}
	if (ftab_add(tw, &f->access, idx) < 0) {
		/* Nothing was visible: the slot goes straight back. */
		tw->free_flows[tw->n_free_flows++] = idx;
		return -ENOSPC;
	}
	if (ftab_add(tw, &f->core, idx | SK_FTAB_CORE_REF) < 0) {
		/* A worker may have found the flow by its access key meanwhile. */
		ftab_del(tw, &f->access, idx);
		defer(tw, DQ_FLOW_SLOT, idx);
		return -ENOSPC;
	}
	sk_gauge_add(&tw->flows_published, 1);
	return 0;
}

void sk_flow_retire(struct sk_tables_writer *tw, uint32_t idx)
{
	const struct sk_flow *f = &tw->t.flow[idx];

	ftab_del(tw, &f->access, idx);
	ftab_del(tw, &f->core, idx | SK_FTAB_CORE_REF);
	defer(tw, DQ_FLOW_SLOT, idx);
	sk_gauge_add(&tw->flows_published, -1);
}

int sk_contact_add(struct sk_tables_writer *tw, const struct sk_addr_key *k, uint32_t ref)
{
	/* A key already there changes its data in place (one atomic store): no reader misses it. */
	return rte_hash_add_key_data(tw->t.contacts, k, (void *)(uintptr_t)ref) < 0 ? -1 : 0;
}

void sk_contact_del(struct sk_tables_writer *tw, const struct sk_addr_key *k)
{
	int32_t pos = rte_hash_del_key(tw->t.contacts, k);

	if (pos >= 0)
		defer(tw, DQ_CONTACT_KEY_POS, (uint32_t)pos);
}

void sk_flow_set_move(struct sk_tables_writer *tw, uint32_t idx, const struct sk_move *mv)
{
	sk_flow_write_move(&tw->t.flow[idx], mv);
}

void sk_user_reset(struct sk_tables_writer *tw, uint32_t user)
{
	memset(&tw->t.user[user], 0, sizeof(tw->t.user[user]));
}

void sk_user_set_callinfo(struct sk_tables_writer *tw, uint32_t user, bool ok)
{
	__atomic_store_n(&tw->t.user[user].callinfo_ok, ok ? 1 : 0, __ATOMIC_RELEASE);
}

int sk_user_set_move(struct sk_tables_writer *tw, uint32_t user, const struct sk_move *mv)
{
	struct sk_user_rt *u = &tw->t.user[user];
	const struct sk_move *old = u->move;
	struct sk_move *rec = NULL;

	if (mv != NULL) {
		uint32_t slot;

		if (tw->n_free_moves == 0)
			return -1;
		slot = tw->free_moves[--tw->n_free_moves];
		rec = &tw->t.moves[slot];
		*rec = *mv;
	}
	__atomic_store_n(&u->move, rec, __ATOMIC_RELEASE);
	if (old != NULL)
		defer(tw, DQ_MOVE_SLOT, (uint32_t)(old - tw->t.moves));
	return 0;
}

const struct sk_move *sk_move_prepare(struct sk_tables_writer *tw, const struct sk_move *mv)
{
	struct sk_move *rec;

	if (tw->n_free_moves == 0)
		return NULL;
	rec = &tw->t.moves[tw->free_moves[--tw->n_free_moves]];
	*rec = *mv;
	return rec;
}

void sk_move_unprepare(struct sk_tables_writer *tw, const struct sk_move *rec)
{
	tw->free_moves[tw->n_free_moves++] = (uint32_t)(rec - tw->t.moves);
}

void sk_move_retire(struct sk_tables_writer *tw, const struct sk_move *rec)
{
	if (rec != NULL)
		defer(tw, DQ_MOVE_SLOT, (uint32_t)(rec - tw->t.moves));
}

void sk_tables_reclaim(struct sk_tables_writer *tw)
{
	unsigned int freed, pending, avail;

	rte_rcu_qsbr_dq_reclaim(tw->dq, UINT32_MAX, &freed, &pending, &avail);
}

const char *sk_addr_key_str(const struct sk_addr_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, len, k->family == 4 ? "%s:%u" : "[%s]:%u", a, ntohs(k->port));
	return buf;
}
