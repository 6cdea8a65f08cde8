/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The media flow index (struct sk_ftab in sk_tables.h, written by
 * control/tables.c): lookups of both keys of every flow, refusal of a key
 * another flow owns, second buckets and their spill counters, retirement and
 * reclamation after a grace period, the flow's copy of its user's move, and a
 * reader thread looking flows up while this thread publishes and retires
 * them. Runs a real EAL without hugepages, devices or shared config.
 *
 *   test_flow_table                 all of the above
 *   test_flow_table failed_publish  a reader racing a publish whose core key
 *                                   does not fit (see test_failed_publish)
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_rcu_qsbr.h>

#include "sk_config.h"
#include "sk_tables.h"
#include "eal_fixture.h"
#include "sk_test.h"
#include "tables.h"

static struct sk_config cfg;
static cpu_set_t all_cpus; /* the process's CPUs before the EAL pinned this thread */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Distinct keys from a number: IPv4 10.0.0.0/8 (even N) or IPv6
 * 2001:db8:1::/48 (odd N), with N also in the port. SPACE (0..255) keeps key
 * sets apart: access keys, core keys, and others.
 */
static void key_of(struct sk_addr_key *k, uint32_t n, uint8_t space)
{
	uint8_t a[16] = {0};

	if (n % 2 == 0) {
		a[0] = 10;
		a[1] = space;
		a[2] = (uint8_t)(n >> 9);
		a[3] = (uint8_t)(n >> 1);
		sk_addr_key_set(k, 4, a, rte_cpu_to_be_16((uint16_t)(1024 + (n >> 17))));
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[5] = 1;
		a[6] = space;
		a[12] = (uint8_t)(n >> 24);
		a[13] = (uint8_t)(n >> 16);
		a[14] = (uint8_t)(n >> 8);
		a[15] = (uint8_t)n;
		sk_addr_key_set(k, 6, a, rte_cpu_to_be_16((uint16_t)(2000 + n % 30000)));
	}
}

/* A key no test publishes: 192.0.2.0/24 or 2001:db8:ffff::/48 with random bits. */
static void absent_key(struct sk_addr_key *k, uint64_t *rng)
{
	uint64_t r = rng_next(rng), r2 = rng_next(rng);
	uint8_t a[16] = {0};

	if (r & 1) {
		a[0] = 192;
		a[1] = 0;
		a[2] = 2;
		a[3] = (uint8_t)(r >> 8);
		sk_addr_key_set(k, 4, a, (uint16_t)(r >> 16));
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[4] = 0xff;
		a[5] = 0xff;
		memcpy(&a[8], &r2, 8);
		sk_addr_key_set(k, 6, a, (uint16_t)(r >> 16));
	}
}

static int tables_create(struct sk_tables_writer *tw, uint32_t max_streams)
{
	cfg.max_streams = max_streams;
	cfg.max_users = 16;
	cfg.max_dialogs = 16;
	return sk_tables_create(tw, &cfg, 1);
}

/* Allocate, fill (as control/dialogs.c ensure_flow does) and publish: the index, or SK_NO_INDEX. */
static uint32_t flow_add(struct sk_tables_writer *tw, const struct sk_addr_key *access,
			 const struct sk_addr_key *core, int *rc)
{
	uint32_t idx = sk_flow_alloc(tw);
	struct sk_flow *f;

	*rc = -2;
	if (idx == SK_NO_INDEX)
		return SK_NO_INDEX;
	f = &tw->t.flow[idx];
	f->access = *access;
	f->core = *core;
	f->user = 0;
	f->dialog = idx;
	f->kind = SK_FLOW_RTP;
	sk_flow_set_move(tw, idx, NULL);
	*rc = sk_flow_publish(tw, idx);
	return idx;
}

/* Flow slots not free: published, or retired and not yet reclaimed. */
static uint32_t slots_held(const struct sk_tables_writer *tw)
{
	return tw->t.max_flows - tw->n_free_flows;
}

/* Bits set in the negative filter. */
static uint64_t filter_bits(const struct sk_tables *t)
{
	uint64_t n = 0, words = (UINT64_C(1) << (64 - t->filter.shift)) / 64, i;

	for (i = 0; i < RTE_MAX(words, (uint64_t)1); i++)
		n += (uint64_t)__builtin_popcountll(t->filter.bits[i]);
	return n;
}

/* Give back a slot that was never published. */
static void flow_unalloc(struct sk_tables_writer *tw, uint32_t idx)
{
	tw->free_flows[tw->n_free_flows++] = idx;
}

/* Does K lead to flow IDX, as its core key when CORE? */
static bool finds(const struct sk_tables *t, const struct sk_addr_key *k, uint32_t idx, bool core)
{
	bool ck = !core;

	return sk_flow_lookup(t, k, &ck) == idx && ck == core;
}

static bool absent(const struct sk_tables *t, const struct sk_addr_key *k)
{
	bool ck;

	return sk_flow_lookup(t, k, &ck) == SK_NO_INDEX;
}

/*
 * 0. sk_addr_key_set builds the key as whole words (the hash and the compare
 * read it so): byte for byte the struct its fields describe, padding zero.
 */
static void test_key_layout(void)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 2,  3,  4,
				       5,    6,	   7,	 8,    9, 10, 11, 0xfe};
	static const uint8_t v4[16] = {192, 0, 2, 77, 0xaa, 0xbb}; /* bytes past 4 ignored */
	struct sk_addr_key got, want;
	int ok = 0;

	memset(&got, 0xa5, sizeof(got)); /* whatever was there before */
	sk_addr_key_set(&got, 4, v4, rte_cpu_to_be_16(40000));
	memset(&want, 0, sizeof(want));
	want.family = 4;
	want.port = rte_cpu_to_be_16(40000);
	memcpy(want.addr, v4, 4);
	ok += memcmp(&got, &want, sizeof(got)) == 0;

	memset(&got, 0x5a, sizeof(got));
	sk_addr_key_set(&got, 6, v6, rte_cpu_to_be_16(5004));
	memset(&want, 0, sizeof(want));
	want.family = 6;
	want.port = rte_cpu_to_be_16(5004);
	memcpy(want.addr, v6, 16);
	ok += memcmp(&got, &want, sizeof(got)) == 0;
	SK_CHECK_EQ(ok, 2, "key layout: IPv4 and IPv6 keys are their fields, padding zero");
}

/*
 * The burst lookup (sk_flow_burst_add, sk_flow_burst_finish) of the N_FLOWS
 * flows of test_insert_lookup (IDX: their slots): bursts of their access keys
 * and their core keys (never an access key), every third result slot skipped.
 */
#define N_FLOWS 2000
static void burst_lookups(const struct sk_tables_writer *tw, const uint32_t *idx)
{
	struct sk_flow_burst fb;
	uint32_t got[SK_FLOW_BURST];
	struct sk_addr_key k;
	unsigned int i, j, n, ok = 0, untouched = 0, skipped = 0;

	for (i = 0; i < N_FLOWS; i += n) {
		n = RTE_MIN(N_FLOWS - i, (unsigned int)SK_FLOW_BURST);
		fb.n = 0;
		for (j = 0; j < n; j++) {
			got[j] = SK_FLOW_NOT_LOOKED_UP;
			if (j % 3 == 2) {
				skipped++;
				continue;
			}
			key_of(&k, i + j, j % 3 == 0 ? 1 : 2);
			/* The negative filter may answer a core key (no flow's access key) at once.
			 */
			if (!sk_flow_burst_add(&tw->t, &fb, k.family, k.addr, k.port, (uint16_t)j))
				got[j] = SK_NO_INDEX;
		}
		sk_flow_burst_finish(&tw->t, &fb, got);
		for (j = 0; j < n; j++) {
			if (j % 3 == 2)
				untouched += got[j] == SK_FLOW_NOT_LOOKED_UP;
			else
				ok += got[j] == (j % 3 == 0 ? idx[i + j] : SK_NO_INDEX);
		}
	}
	SK_CHECK(ok + untouched == N_FLOWS && untouched == skipped,
		 "burst: access keys find their flow, core keys none, skipped slots untouched "
		 "(%u of %u)",
		 ok + untouched, N_FLOWS);
}

/* 1. Both keys of 2000 flows (IPv4 and IPv6) lead to their flow; absent keys to nothing. */
static void test_insert_lookup(void)
{
	static uint32_t idx[N_FLOWS];
	struct sk_tables_writer tw;
	struct sk_addr_key a, c;
	unsigned int i, published = 0, acc_ok = 0, core_ok = 0, absent_ok = 0, distinct = 1;
	uint64_t rng = 0x1234567;
	int rc;

	if (!SK_CHECK(tables_create(&tw, N_FLOWS / 2 + 24) == 0, "insert: tables created"))
		return;
	for (i = 0; i < N_FLOWS; i++) {
		key_of(&a, i, 1);
		key_of(&c, i, 2);
		idx[i] = flow_add(&tw, &a, &c, &rc);
		if (idx[i] != SK_NO_INDEX && rc == 0)
			published++;
		if (i > 0 && idx[i] == idx[i - 1])
			distinct = 0;
	}
	SK_CHECK_EQ(published, N_FLOWS, "insert: %u flows (IPv4 and IPv6 keys) published", N_FLOWS);
	SK_CHECK(distinct, "insert: every flow has its own slot");
	SK_CHECK(filter_bits(&tw.t) > 0 && filter_bits(&tw.t) <= 2 * N_FLOWS,
		 "insert: the negative filter holds a bit per key at most (%u for %u keys)",
		 (unsigned int)filter_bits(&tw.t), 2 * N_FLOWS);
	SK_CHECK(tw.flows_published == N_FLOWS && slots_held(&tw) == N_FLOWS,
		 "insert: flows_published counts them, each holds a slot");
	for (i = 0; i < N_FLOWS; i++) {
		key_of(&a, i, 1);
		key_of(&c, i, 2);
		acc_ok += finds(&tw.t, &a, idx[i], false);
		core_ok += finds(&tw.t, &c, idx[i], true);
	}
	SK_CHECK_EQ(acc_ok, N_FLOWS, "insert: every access key finds its flow, core_key false");
	SK_CHECK_EQ(core_ok, N_FLOWS, "insert: every core key finds its flow, core_key true");
	for (i = 0; i < 10000; i++) {
		absent_key(&a, &rng);
		absent_ok += absent(&tw.t, &a);
	}
	/* Keys of the same numbers in other spaces, and ports next to the published ones. */
	for (i = 0; i < N_FLOWS; i++) {
		key_of(&a, i, 3);
		absent_ok += absent(&tw.t, &a);
		key_of(&a, i, 1);
		a.port ^= 0x0100;
		absent_ok += absent(&tw.t, &a);
	}
	SK_CHECK_EQ(absent_ok, 10000 + 2 * N_FLOWS,
		    "insert: 10000 random absent keys and %u near misses find nothing",
		    2 * N_FLOWS);
	burst_lookups(&tw, idx);
	sk_tables_destroy(&tw);
}

/* 2. A key another live flow owns is refused, whichever side it is on; the owner keeps it. */
static void test_duplicates(void)
{
	struct sk_tables_writer tw;
	struct sk_addr_key a, c, x, y;
	uint32_t owner, v4owner, i1;
	int rc, rc1, rc2, rc3, rc4;

	if (!SK_CHECK(tables_create(&tw, 16) == 0, "duplicate: tables created"))
		return;
	key_of(&a, 7, 1); /* IPv6 */
	key_of(&c, 7, 2);
	key_of(&x, 8, 1); /* IPv4 */
	key_of(&y, 8, 2);
	owner = flow_add(&tw, &a, &c, &rc);
	SK_CHECK(owner != SK_NO_INDEX && rc == 0, "duplicate: the owner flow is published");
	v4owner = flow_add(&tw, &x, &y, &rc);
	SK_CHECK(v4owner != SK_NO_INDEX && rc == 0, "duplicate: an IPv4 owner flow is published");

	key_of(&x, 100, 2);
	i1 = flow_add(&tw, &a, &x, &rc1); /* the owner's access key as access key */
	key_of(&x, 101, 1);
	flow_add(&tw, &x, &c, &rc2); /* the owner's core key as core key */
	key_of(&x, 102, 2);
	flow_add(&tw, &c, &x, &rc3); /* the owner's core key as access key */
	key_of(&x, 8, 2);	     /* the IPv4 owner's core key */
	key_of(&y, 103, 1);
	flow_add(&tw, &y, &x, &rc4);
	SK_CHECK(rc1 == -EEXIST, "duplicate: another flow with the owner's access key is refused");
	SK_CHECK(rc2 == -EEXIST, "duplicate: another flow with the owner's core key is refused");
	SK_CHECK(rc3 == -EEXIST,
		 "duplicate: the owner's core key as another flow's access key is refused");
	SK_CHECK(rc4 == -EEXIST, "duplicate: an IPv4 core key taken by another flow is refused");
	SK_CHECK(tw.flows_published == 2 && slots_held(&tw) == 2,
		 "duplicate: the refused flows are not counted and their slots went back");
	SK_CHECK(finds(&tw.t, &a, owner, false) && finds(&tw.t, &c, owner, true),
		 "duplicate: the owner still resolves by both keys");
	key_of(&x, 8, 1);
	SK_CHECK(finds(&tw.t, &x, v4owner, false) && absent(&tw.t, &y),
		 "duplicate: the IPv4 owner still resolves; the refused flow's own key does not");
	key_of(&x, 100, 2);
	key_of(&y, 101, 1);
	SK_CHECK(absent(&tw.t, &x) && absent(&tw.t, &y),
		 "duplicate: the refused flows' other keys were not published either");

	/* Once the owner is retired, its keys can go to a new flow. */
	sk_flow_retire(&tw, owner);
	i1 = flow_add(&tw, &a, &c, &rc);
	SK_CHECK(rc == 0 && finds(&tw.t, &a, i1, false) && finds(&tw.t, &c, i1, true),
		 "duplicate: the keys of a retired flow go to the next flow that wants them");
	sk_tables_destroy(&tw);
}

/*
 * A key numbered from *N in SPACE whose buckets are B1 (and B2 unless
 * UINT32_MAX). Both indexes have the same size and hash: a key's buckets are
 * the same numbers in either.
 */
static void key_in(const struct sk_tables *t, struct sk_addr_key *k, uint32_t *n, uint8_t space,
		   uint32_t b1, uint32_t b2)
{
	struct sk_ftab_pos p;

	for (;; (*n)++) {
		key_of(k, *n, space);
		sk_ftab_hash(&t->by_access, k, &p);
		if (p.b1 == b1 && (b2 == UINT32_MAX || sk_ftab_b2(&t->by_access, &p) == b2)) {
			(*n)++;
			return;
		}
	}
}

/* A key from *N in SPACE whose buckets are none of AVOID[0..n). */
static void key_outside(const struct sk_tables *t, struct sk_addr_key *k, uint32_t *n,
			uint8_t space, const uint32_t *avoid, unsigned int n_avoid)
{
	struct sk_ftab_pos p;
	unsigned int i;
	bool hit;

	for (;; (*n)++) {
		key_of(k, *n, space);
		sk_ftab_hash(&t->by_access, k, &p);
		hit = false;
		for (i = 0; i < n_avoid; i++)
			hit |= p.b1 == avoid[i] || sk_ftab_b2(&t->by_access, &p) == avoid[i];
		if (!hit) {
			(*n)++;
			return;
		}
	}
}

static unsigned int bucket_used(const struct sk_tables *t, uint32_t b)
{
	unsigned int i, n = 0;

	for (i = 0; i < SK_FTAB_WAYS; i++)
		n += t->by_access.b[b].e[i] != 0;
	return n;
}

/*
 * 3. Collisions. Keys that share their first bucket T1: the 8th and later go to
 * their second bucket and count in T1's spill. With keys that also share
 * their second bucket T2, the 15th finds both full and its flow is refused.
 */
#define N_COLL 14
static void test_collisions(void)
{
	struct sk_tables_writer tw;
	struct sk_addr_key ak[N_COLL + 2], ck[N_COLL + 2], k;
	uint32_t idx[N_COLL + 2], avoid[2], t1, t2, na = 0, nc = 0, extra;
	struct sk_ftab_pos p;
	unsigned int i, ok, found;
	int rc;
	bool spill_ok = true;

	if (!SK_CHECK(tables_create(&tw, 16) == 0, "collisions: tables created"))
		return;
	SK_NOTE("collisions: %u buckets of %d for %u flows", tw.t.by_access.mask + 1, SK_FTAB_WAYS,
		tw.t.max_flows);

	/* First: keys sharing T1, second buckets wherever their hash puts them. */
	key_of(&k, 0, 1);
	sk_ftab_hash(&tw.t.by_access, &k, &p);
	t1 = p.b1;
	avoid[0] = t1;
	for (i = 0; i < 10; i++) {
		key_in(&tw.t, &ak[i], &na, 1, t1, UINT32_MAX);
		key_outside(&tw.t, &ck[i], &nc, 2, avoid, 1);
		idx[i] = flow_add(&tw, &ak[i], &ck[i], &rc);
		if (rc != 0)
			spill_ok = false;
		if (tw.t.by_access.b[t1].spill != (i < SK_FTAB_WAYS ? 0 : i + 1 - SK_FTAB_WAYS))
			spill_ok = false;
	}
	SK_CHECK(spill_ok,
		 "collisions: 10 keys with first bucket %u published; spill 0 while it "
		 "has room, then one per key beyond %d",
		 t1, SK_FTAB_WAYS);
	SK_CHECK_EQ(bucket_used(&tw.t, t1), SK_FTAB_WAYS, "collisions: bucket %u is full", t1);
	for (i = 0, found = 0; i < 10; i++)
		found += finds(&tw.t, &ak[i], idx[i], false) && finds(&tw.t, &ck[i], idx[i], true);
	SK_CHECK_EQ(found, 10, "collisions: all 10 flows found by both keys (3 in second buckets)");
	for (i = 0, ok = 0; i < 10; i++)
		sk_flow_retire(&tw, idx[i]);
	for (i = 0; i < 10; i++)
		ok += absent(&tw.t, &ak[i]) && absent(&tw.t, &ck[i]);
	SK_CHECK(ok == 10 && tw.t.by_access.b[t1].spill == 0 && bucket_used(&tw.t, t1) == 0,
		 "collisions: retired, none found, bucket %u empty and its spill back to 0", t1);
	sk_tables_reclaim(&tw); /* no reader online: the slots come back now */
	SK_CHECK_EQ(slots_held(&tw), 0, "collisions: every slot back");

	/* Then: keys sharing T1 and T2, core keys in neither. */
	key_in(&tw.t, &k, &na, 1, t1, UINT32_MAX);
	sk_ftab_hash(&tw.t.by_access, &k, &p);
	t2 = sk_ftab_b2(&tw.t.by_access, &p);
	avoid[1] = t2;
	spill_ok = true;
	for (i = 0; i < N_COLL; i++) {
		key_in(&tw.t, &ak[i], &na, 1, t1, t2);
		key_outside(&tw.t, &ck[i], &nc, 2, avoid, 2);
		idx[i] = flow_add(&tw, &ak[i], &ck[i], &rc);
		if (rc != 0)
			spill_ok = false;
		if (tw.t.by_access.b[t1].spill != (i < SK_FTAB_WAYS ? 0 : i + 1 - SK_FTAB_WAYS))
			spill_ok = false;
	}
	SK_CHECK(spill_ok,
		 "collisions: %d keys with buckets %u and %u published, spill of %u "
		 "counts the %d in %u",
		 N_COLL, t1, t2, t1, N_COLL - SK_FTAB_WAYS, t2);
	SK_CHECK(bucket_used(&tw.t, t1) == SK_FTAB_WAYS && bucket_used(&tw.t, t2) == SK_FTAB_WAYS,
		 "collisions: buckets %u and %u both full", t1, t2);

	/* The 15th access key has no room: refused, nothing of it published. */
	key_in(&tw.t, &ak[N_COLL], &na, 1, t1, t2);
	key_outside(&tw.t, &ck[N_COLL], &nc, 2, avoid, 2);
	idx[N_COLL] = flow_add(&tw, &ak[N_COLL], &ck[N_COLL], &rc);
	SK_CHECK(rc == -ENOSPC && absent(&tw.t, &ak[N_COLL]) && absent(&tw.t, &ck[N_COLL]),
		 "collisions: a 15th access key for full buckets %u/%u: publish refused, neither "
		 "key found",
		 t1, t2);
	/*
	 * Core keys have an index of their own: a core key whose bucket numbers
	 * are the full ones here still fits (test_failed_publish fills a core
	 * key's buckets).
	 */
	key_outside(&tw.t, &ak[N_COLL + 1], &na, 1, avoid, 2);
	key_in(&tw.t, &ck[N_COLL + 1], &nc, 2, t1, t2);
	extra = flow_add(&tw, &ak[N_COLL + 1], &ck[N_COLL + 1], &rc);
	SK_CHECK(rc == 0 && finds(&tw.t, &ak[N_COLL + 1], extra, false) &&
			 finds(&tw.t, &ck[N_COLL + 1], extra, true),
		 "collisions: a core key with the numbers of full access buckets %u/%u is "
		 "published (its own index)",
		 t1, t2);
	sk_flow_retire(&tw, extra);
	SK_CHECK_EQ(tw.t.by_access.b[t1].spill, N_COLL - SK_FTAB_WAYS,
		    "collisions: the refusals left the spill count alone");
	for (i = 0, found = 0; i < N_COLL; i++)
		found += finds(&tw.t, &ak[i], idx[i], false) && finds(&tw.t, &ck[i], idx[i], true);
	SK_CHECK_EQ(found, N_COLL, "collisions: all %d published flows still found", N_COLL);

	/* A first-bucket entry goes: the spilled keys are still found, a new key takes its place.
	 */
	sk_flow_retire(&tw, idx[0]);
	for (i = 1, found = 0; i < N_COLL; i++)
		found += finds(&tw.t, &ak[i], idx[i], false);
	SK_CHECK(absent(&tw.t, &ak[0]) && found == N_COLL - 1,
		 "collisions: one retired from bucket %u, the other %d (7 spilled) still found", t1,
		 N_COLL - 1);
	ak[0] = ak[N_COLL];
	idx[0] = flow_add(&tw, &ak[0], &ck[N_COLL], &rc);
	SK_CHECK(rc == 0 && finds(&tw.t, &ak[0], idx[0], false) &&
			 tw.t.by_access.b[t1].spill == N_COLL - SK_FTAB_WAYS,
		 "collisions: the refused key now fits in bucket %u; spill unchanged", t1);

	/* The spilled ones go: spill back to 0, the others found. */
	for (i = SK_FTAB_WAYS; i < N_COLL; i++)
		sk_flow_retire(&tw, idx[i]);
	for (i = 0, found = 0, ok = 0; i < N_COLL; i++) {
		if (i < SK_FTAB_WAYS)
			found += finds(&tw.t, &ak[i], idx[i], false) &&
				 finds(&tw.t, &ck[i == 0 ? N_COLL : i], idx[i], true);
		else
			ok += absent(&tw.t, &ak[i]) && absent(&tw.t, &ck[i]);
	}
	SK_CHECK_EQ(tw.t.by_access.b[t1].spill, 0,
		    "collisions: spilled flows retired, spill of %u is 0", t1);
	SK_CHECK_EQ(bucket_used(&tw.t, t2), 0, "collisions: bucket %u empty again", t2);
	SK_CHECK(found == SK_FTAB_WAYS && ok == N_COLL - SK_FTAB_WAYS,
		 "collisions: the %d in bucket %u found, the retired ones not", SK_FTAB_WAYS, t1);
	/* A key that spilled before finds room in its first bucket only once there is some. */
	extra = 0;
	key_in(&tw.t, &k, &na, 1, t1, t2);
	key_outside(&tw.t, &ck[N_COLL + 1], &nc, 2, avoid, 2);
	extra = flow_add(&tw, &k, &ck[N_COLL + 1], &rc);
	SK_CHECK(rc == 0 && finds(&tw.t, &k, extra, false) && tw.t.by_access.b[t1].spill == 1,
		 "collisions: with bucket %u full again, the next key spills (spill 1)", t1);
	sk_tables_destroy(&tw);
}

/*
 * 3b. Making room. A key whose two buckets T1 and T2 are full moves one key
 * of T1 that sits in its own first bucket to its second bucket B (which has
 * room), and takes the way it freed: nothing refused, every key found, the
 * moved key counted in T1's spill; all retired, every spill back to 0.
 */
static void test_displace(void)
{
	struct sk_tables_writer tw;
	struct sk_addr_key ak[2 * SK_FTAB_WAYS + 1], ck[2 * SK_FTAB_WAYS + 1], k;
	uint32_t idx[2 * SK_FTAB_WAYS + 1], avoid[2], t1, t2, b, na = 0, nc = 0, spills;
	struct sk_ftab_pos p;
	unsigned int i, found, bad = 0, n = 2 * SK_FTAB_WAYS + 1;
	int rc;

	if (!SK_CHECK(tables_create(&tw, 64) == 0, "displace: tables created"))
		return;
	key_of(&k, 0, 1);
	sk_ftab_hash(&tw.t.by_access, &k, &p);
	t1 = p.b1;
	t2 = sk_ftab_b2(&tw.t.by_access, &p);
	avoid[0] = t1;
	avoid[1] = t2;
	/* T1: keys whose second bucket is neither T1 nor T2. */
	for (i = 0; i < SK_FTAB_WAYS; i++) {
		do {
			key_in(&tw.t, &ak[i], &na, 1, t1, UINT32_MAX);
			sk_ftab_hash(&tw.t.by_access, &ak[i], &p);
			b = sk_ftab_b2(&tw.t.by_access, &p);
		} while (b == t2);
	}
	/* T2: keys whose first bucket it is. */
	for (; i < 2 * SK_FTAB_WAYS; i++)
		key_in(&tw.t, &ak[i], &na, 1, t2, UINT32_MAX);
	/* The last one: first bucket T1, second T2. */
	key_in(&tw.t, &ak[i], &na, 1, t1, t2);
	for (i = 0; i < n; i++) {
		key_outside(&tw.t, &ck[i], &nc, 2, avoid, 2);
		idx[i] = flow_add(&tw, &ak[i], &ck[i], &rc);
		bad += rc != 0;
		if (i == 2 * SK_FTAB_WAYS - 1)
			bad += bucket_used(&tw.t, t1) != SK_FTAB_WAYS ||
			       bucket_used(&tw.t, t2) != SK_FTAB_WAYS || tw.ftab_moved != 0;
	}
	SK_CHECK_EQ(bad, 0, "displace: buckets %u and %u filled, then a key for both published", t1,
		    t2);
	SK_CHECK(tw.ftab_moved == 1 && tw.t.by_access.b[t1].spill == 1 &&
			 bucket_used(&tw.t, t1) == SK_FTAB_WAYS &&
			 bucket_used(&tw.t, t2) == SK_FTAB_WAYS,
		 "displace: one key of %u moved to its second bucket (spill 1), the new key in "
		 "its place",
		 t1);
	for (i = 0, found = 0; i < n; i++)
		found += finds(&tw.t, &ak[i], idx[i], false) && finds(&tw.t, &ck[i], idx[i], true);
	SK_CHECK_EQ(found, n, "displace: all %u flows found by both keys", n);
	for (i = 0; i < n; i++)
		sk_flow_retire(&tw, idx[i]);
	for (b = 0, spills = 0, found = 0; b <= tw.t.by_access.mask; b++) {
		spills += tw.t.by_access.b[b].spill;
		found += bucket_used(&tw.t, b);
	}
	for (i = 0; i < n; i++)
		found += !absent(&tw.t, &ak[i]);
	SK_CHECK(spills == 0 && found == 0,
		 "displace: all retired: no key found, every bucket empty, every spill 0");
	sk_tables_destroy(&tw);
}

/* 4. Retired keys are gone; their slots come back after a grace period, and are reused. */
#define N_RETIRE 64
static void test_retire_reclaim(void)
{
	struct sk_tables_writer tw;
	struct sk_addr_key a, c;
	uint32_t idx[N_RETIRE], again[N_RETIRE / 2];
	unsigned int i, j, found = 0, gone = 0, kept = 0, reused = 0;
	uint32_t in_use;
	int rc, bad_rc = 0;

	if (!SK_CHECK(tables_create(&tw, 64) == 0, "retire: tables created"))
		return;
	/* This thread is the registered reader 0, online: it holds back grace periods. */
	SK_CHECK(rte_rcu_qsbr_thread_register(tw.t.qsv, 0) == 0,
		 "retire: reader 0 registered with the tables' QSBR");
	rte_rcu_qsbr_thread_online(tw.t.qsv, 0);
	for (i = 0; i < N_RETIRE; i++) {
		key_of(&a, i, 1);
		key_of(&c, i, 2);
		idx[i] = flow_add(&tw, &a, &c, &rc);
		bad_rc |= rc;
	}
	SK_CHECK(bad_rc == 0, "retire: %d flows published", N_RETIRE);
	in_use = slots_held(&tw);
	for (i = 0; i < N_RETIRE; i += 2)
		sk_flow_retire(&tw, idx[i]);
	SK_CHECK_EQ(tw.flows_published, in_use - N_RETIRE / 2,
		    "retire: flows_published drops when a flow is retired");
	for (i = 0; i < N_RETIRE; i++) {
		key_of(&a, i, 1);
		key_of(&c, i, 2);
		if (i % 2 == 0)
			gone += absent(&tw.t, &a) && absent(&tw.t, &c);
		else
			kept += finds(&tw.t, &a, idx[i], false) && finds(&tw.t, &c, idx[i], true);
	}
	SK_CHECK(gone == N_RETIRE / 2 && kept == N_RETIRE / 2,
		 "retire: the %d retired flows' keys are not found, the others' are", N_RETIRE / 2);
	sk_tables_reclaim(&tw);
	SK_CHECK_EQ(slots_held(&tw), in_use,
		    "retire: while the reader has not been quiescent, no slot comes back");
	rte_rcu_qsbr_quiescent(tw.t.qsv, 0);
	sk_tables_reclaim(&tw);
	SK_CHECK_EQ(slots_held(&tw), in_use - N_RETIRE / 2,
		    "retire: after the reader's quiescent state, reclaim gives back the %d slots",
		    N_RETIRE / 2);
	/* The next allocations are the retired slots. */
	for (i = 0; i < N_RETIRE / 2; i++) {
		key_of(&a, 1000 + i, 1);
		key_of(&c, 1000 + i, 2);
		again[i] = flow_add(&tw, &a, &c, &rc);
		bad_rc |= rc;
		for (j = 0; j < N_RETIRE; j += 2)
			if (again[i] == idx[j]) {
				reused++;
				break;
			}
	}
	SK_CHECK(bad_rc == 0 && reused == N_RETIRE / 2,
		 "retire: %d new flows published in exactly the reclaimed slots (%u)", N_RETIRE / 2,
		 reused);
	for (i = 0, found = 0; i < N_RETIRE / 2; i++) {
		key_of(&a, 1000 + i, 1);
		key_of(&c, 1000 + i, 2);
		found += finds(&tw.t, &a, again[i], false) && finds(&tw.t, &c, again[i], true);
		key_of(&a, 2 * i, 1);
		found += absent(&tw.t, &a);
	}
	SK_CHECK_EQ(found, N_RETIRE, "retire: reused slots found by their new keys, not the old");
	/* Retire everything; the reader goes offline: nothing holds the grace period back. */
	for (i = 1; i < N_RETIRE; i += 2)
		sk_flow_retire(&tw, idx[i]);
	for (i = 0; i < N_RETIRE / 2; i++)
		sk_flow_retire(&tw, again[i]);
	rte_rcu_qsbr_thread_offline(tw.t.qsv, 0);
	sk_tables_reclaim(&tw);
	SK_CHECK(slots_held(&tw) == 0 && tw.flows_published == 0,
		 "retire: all retired, reader offline: all slots back");
	SK_CHECK(filter_bits(&tw.t) == 0,
		 "retire: every key gone, the negative filter has no bit left set");
	rte_rcu_qsbr_thread_unregister(tw.t.qsv, 0);
	sk_tables_destroy(&tw);
}

/* 5. A reader looking flows up while this thread publishes and retires them. */
#define STRESS_PAIRS 768
#define STRESS_STABLE 64 /* flows published before the reader starts, never retired */
#define STRESS_DENSE 64	 /* buckets that the access keys share */
#define STRESS_BATCH 32
#define STRESS_NS UINT64_C(2000000000)

struct stress {
	struct sk_tables_writer tw;
	struct sk_addr_key ak[STRESS_PAIRS], ck[STRESS_PAIRS];
	struct sk_addr_key sa[STRESS_STABLE], sc[STRESS_STABLE];
	uint32_t stable[STRESS_STABLE];
	bool go, stop, online;
	/* The reader's tallies. */
	uint64_t lookups, hits, absent_hits, violations, batches, stable_lookups, stable_misses;
	char first_violation[200];
};

static void violation(struct stress *s, const char *what, uint32_t pair, uint32_t idx)
{
	if (s->violations++ == 0)
		snprintf(s->first_violation, sizeof(s->first_violation), "%s (pair %u, flow %u)",
			 what, pair, idx);
}

static void *stress_reader(void *arg)
{
	struct stress *s = arg;
	const struct sk_tables *t = &s->tw.t;
	struct {
		uint32_t idx, pair;
		bool core;
	} hit[STRESS_BATCH];
	struct sk_addr_key miss;
	uint64_t rng = 0x9e3779b97f4a7c15;
	unsigned int i, n_hit;

	rte_rcu_qsbr_thread_register(t->qsv, 0);
	rte_rcu_qsbr_thread_online(t->qsv, 0);
	__atomic_store_n(&s->online, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		sched_yield();
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		n_hit = 0;
		for (i = 0; i < STRESS_BATCH; i++) {
			uint64_t r = rng_next(&rng);
			uint32_t pair = (uint32_t)(r >> 8) % STRESS_PAIRS, idx;
			bool core = (r & 1) != 0, ck = !core;

			if ((r & 0xe) == 0) {
				/* One lookup in 8 is of a key no flow ever has. */
				absent_key(&miss, &rng);
				if (sk_flow_lookup(t, &miss, &ck) != SK_NO_INDEX)
					s->absent_hits++;
				s->lookups++;
				continue;
			}
			if ((r & 0xe) == 2) {
				/* One in 8 is of a flow that stays published: always found. */
				pair = pair % STRESS_STABLE;
				idx = sk_flow_lookup(t, core ? &s->sc[pair] : &s->sa[pair], &ck);
				s->lookups++;
				s->stable_lookups++;
				if (idx != s->stable[pair] || ck != core)
					s->stable_misses++;
				continue;
			}
			idx = sk_flow_lookup(t, core ? &s->ck[pair] : &s->ak[pair], &ck);
			s->lookups++;
			if (idx == SK_NO_INDEX)
				continue;
			if (idx >= t->max_flows) {
				violation(s, "index beyond the flow slots", pair, idx);
				continue;
			}
			if (ck != core)
				violation(s, "core_key says the other side", pair, idx);
			hit[n_hit].idx = idx;
			hit[n_hit].pair = pair;
			hit[n_hit].core = core;
			n_hit++;
		}
		/*
		 * Only now, after the whole batch, the flows found are read: a
		 * slot reused before the grace period would show here.
		 */
		for (i = 0; i < n_hit; i++) {
			const struct sk_flow *f = &t->flow[hit[i].idx];
			uint32_t p = hit[i].pair;

			if (!sk_addr_key_eq(hit[i].core ? &f->core : &f->access,
					    hit[i].core ? &s->ck[p] : &s->ak[p]))
				violation(s, "the flow found does not have the key looked up", p,
					  hit[i].idx);
			else if (!sk_addr_key_eq(hit[i].core ? &f->access : &f->core,
						 hit[i].core ? &s->ak[p] : &s->ck[p]))
				violation(s, "the flow found has another pair's other key", p,
					  hit[i].idx);
		}
		s->hits += n_hit;
		s->batches++;
		rte_rcu_qsbr_quiescent(t->qsv, 0);
	}
	rte_rcu_qsbr_thread_offline(t->qsv, 0);
	rte_rcu_qsbr_thread_unregister(t->qsv, 0);
	return NULL;
}

static bool reader_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc;

	pthread_attr_init(&attr);
	/* Any CPU of the process, not only the main lcore's, so both threads can run at once. */
	if (CPU_COUNT(&all_cpus) > 0)
		pthread_attr_setaffinity_np(&attr, sizeof(all_cpus), &all_cpus);
	rc = pthread_create(th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc == 0;
}

static void test_stress(void)
{
	struct stress *s = calloc(1, sizeof(*s));
	static uint32_t live[STRESS_PAIRS];
	uint64_t rng = 42, t0, ops = 0, published = 0, retired = 0, alloc_fail = 0, pub_fail = 0;
	uint64_t reclaims = 0, spill, max_spill = 0, rounds = 0, rounds_spilled = 0;
	pthread_t th;
	unsigned int i;
	uint32_t na, nc;
	int rc, bad_rc = 0;

	/*
	 * Slots for half the pairs at a time (and the stable flows): the table
	 * is as full as its sizing allows, some keys go to second buckets, and
	 * a slot is reused as soon as its grace period allows.
	 */
	if (s == NULL || !SK_CHECK(tables_create(&s->tw, STRESS_PAIRS / 2 + STRESS_STABLE) == 0,
				   "stress: tables")) {
		free(s);
		return;
	}
	for (i = 0, na = 0; i < STRESS_STABLE; i++) {
		struct sk_ftab_pos p;

		/*
		 * Every other one in the dense buckets below: the access keys
		 * published later move them to their second buckets to make room,
		 * while the reader looks them up.
		 */
		do {
			key_of(&s->sa[i], na++, 4);
			sk_ftab_hash(&s->tw.t.by_access, &s->sa[i], &p);
		} while (i % 2 == 0 && p.b1 >= STRESS_DENSE);
		key_of(&s->sc[i], i, 5);
		s->stable[i] = flow_add(&s->tw, &s->sa[i], &s->sc[i], &rc);
		bad_rc |= rc;
	}
	SK_CHECK(bad_rc == 0, "stress: %d stable flows published", STRESS_STABLE);
	/*
	 * The access keys crowd into the first STRESS_DENSE buckets (about 6 live
	 * per bucket of 7): many go to their second bucket, spill counts come and
	 * go under the reader. The core keys (in their own index) stay out of
	 * those bucket numbers too.
	 */
	for (i = 0, na = 0, nc = 0; i < STRESS_PAIRS; i++) {
		struct sk_ftab_pos p;

		do {
			key_of(&s->ak[i], na++, 1);
			sk_ftab_hash(&s->tw.t.by_access, &s->ak[i], &p);
		} while (p.b1 >= STRESS_DENSE);
		do {
			key_of(&s->ck[i], nc++, 2);
			sk_ftab_hash(&s->tw.t.by_access, &s->ck[i], &p);
		} while (p.b1 < STRESS_DENSE || sk_ftab_b2(&s->tw.t.by_access, &p) < STRESS_DENSE);
		live[i] = SK_NO_INDEX;
	}
	if (!SK_CHECK(reader_start(&th, stress_reader, s), "stress: reader thread started")) {
		sk_tables_destroy(&s->tw);
		free(s);
		return;
	}
	while (!__atomic_load_n(&s->online, __ATOMIC_ACQUIRE))
		sched_yield();
	__atomic_store_n(&s->go, true, __ATOMIC_RELEASE);
	t0 = now_ns();
	while (now_ns() - t0 < STRESS_NS) {
		for (i = 0; i < 64; i++, ops++) {
			uint32_t pair = (uint32_t)(rng_next(&rng) >> 16) % STRESS_PAIRS;

			if (i % 8 == 0) {
				sk_tables_reclaim(&s->tw);
				reclaims++;
			}
			if (live[pair] != SK_NO_INDEX) {
				sk_flow_retire(&s->tw, live[pair]);
				live[pair] = SK_NO_INDEX;
				retired++;
				continue;
			}
			live[pair] = flow_add(&s->tw, &s->ak[pair], &s->ck[pair], &rc);
			if (live[pair] == SK_NO_INDEX) {
				alloc_fail++;
			} else if (rc != 0) {
				/* Both buckets of the access key full: the slot went back. */
				pub_fail++;
				live[pair] = SK_NO_INDEX;
			} else {
				published++;
			}
		}
		for (i = 0, spill = 0; i <= s->tw.t.by_access.mask; i++)
			spill += s->tw.t.by_access.b[i].spill;
		max_spill = RTE_MAX(max_spill, spill);
		rounds_spilled += spill > 0;
		rounds++;
		sched_yield(); /* a shared machine: let the reader run even on one CPU */
	}
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);

	SK_NOTE("stress: writer %" PRIu64 " ops: %" PRIu64 " published, %" PRIu64
		" retired, %" PRIu64 " alloc failures, %" PRIu64 " publish failures, %" PRIu64
		" reclaims; keys in second buckets: up to %" PRIu64 " at once, in %" PRIu64
		" of %" PRIu64 " rounds; %" PRIu64 " keys moved to make room",
		ops, published, retired, alloc_fail, pub_fail, reclaims, max_spill, rounds_spilled,
		rounds, s->tw.ftab_moved);
	SK_CHECK(s->tw.ftab_moved > 0,
		 "stress: keys were moved to their second buckets to make room while the reader "
		 "ran (%" PRIu64 ")",
		 s->tw.ftab_moved);
	SK_NOTE("stress: reader %" PRIu64 " lookups in %" PRIu64 " batches, %" PRIu64
		" hits, %" PRIu64 " violations%s%s",
		s->lookups, s->batches, s->hits, s->violations, s->violations ? ": first: " : "",
		s->first_violation);
	SK_CHECK_EQ(s->violations, 0,
		    "stress: every flow the reader found had the key it looked up (and the pair's "
		    "other key), read after its batch, before its quiescent state");
	SK_CHECK_EQ(s->absent_hits, 0, "stress: keys no flow has were never found");
	SK_CHECK(s->stable_lookups > 0 && s->stable_misses == 0,
		 "stress: flows published all along were found by every one of %" PRIu64
		 " lookups (%" PRIu64 " misses)",
		 s->stable_lookups, s->stable_misses);
	SK_CHECK(s->hits > 0, "stress: the reader found flows (%" PRIu64 ")", s->hits);
	SK_CHECK(s->lookups > 20000, "stress: the reader did %" PRIu64 " lookups (> 20000)",
		 s->lookups);
	SK_CHECK(published > 1000 && retired > 1000,
		 "stress: the writer published %" PRIu64 " and retired %" PRIu64 " flows",
		 published, retired);
	SK_CHECK(max_spill > 0, "stress: keys went to their second bucket under the reader");

	/* After the run: the table holds exactly the live flows. */
	{
		unsigned int ok = 0, n_live = 0;

		for (i = 0; i < STRESS_PAIRS; i++) {
			if (live[i] != SK_NO_INDEX) {
				n_live++;
				ok += finds(&s->tw.t, &s->ak[i], live[i], false) &&
				      finds(&s->tw.t, &s->ck[i], live[i], true);
			} else {
				ok += absent(&s->tw.t, &s->ak[i]) && absent(&s->tw.t, &s->ck[i]);
			}
		}
		sk_tables_reclaim(&s->tw);
		SK_CHECK(ok == STRESS_PAIRS && slots_held(&s->tw) == n_live + STRESS_STABLE,
			 "stress: afterwards the %u live flows are found, the others not, and only "
			 "they hold slots (%u)",
			 n_live, slots_held(&s->tw));
	}
	sk_tables_destroy(&s->tw);
	free(s);
}

/* 6. The flow's copy of its user's move. */
static void test_move(void)
{
	struct sk_tables_writer tw;
	struct sk_addr_key a, c;
	struct sk_move mv4 = {.family = 4, .addr = {198, 51, 100, 7}, .generation = 3};
	struct sk_move mv6 = {.family = 6,
			      .addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9},
			      .generation = 70000};
	struct sk_move got;
	const struct sk_move *r;
	uint32_t idx;
	int rc;

	if (!SK_CHECK(tables_create(&tw, 16) == 0, "move: tables created"))
		return;
	key_of(&a, 1, 1);
	key_of(&c, 1, 2);
	idx = flow_add(&tw, &a, &c, &rc);
	if (!SK_CHECK(idx != SK_NO_INDEX && rc == 0, "move: flow published")) {
		sk_tables_destroy(&tw);
		return;
	}
	memset(&got, 0xa5, sizeof(got));
	SK_CHECK(sk_flow_move(&tw.t.flow[idx], &got) == NULL, "move: a new flow is not moved");

	sk_flow_set_move(&tw, idx, &mv4);
	r = sk_flow_move(&tw.t.flow[idx], &got);
	SK_CHECK(r == &got && got.family == 4 && got.generation == 3 &&
			 memcmp(got.addr, mv4.addr, 16) == 0,
		 "move: an IPv4 move reads back as set (address, generation)");
	sk_flow_set_move(&tw, idx, &mv6);
	r = sk_flow_move(&tw.t.flow[idx], &got);
	SK_CHECK(r == &got && got.family == 6 && got.generation == 70000 &&
			 memcmp(got.addr, mv6.addr, 16) == 0,
		 "move: an IPv6 move replaces it and reads back as set");
	sk_flow_set_move(&tw, idx, &mv4);
	r = sk_flow_move(&tw.t.flow[idx], &got);
	SK_CHECK(r == &got && got.family == 4 && memcmp(got.addr, mv4.addr, 16) == 0,
		 "move: back to IPv4: the IPv6 address's tail does not linger");
	sk_flow_set_move(&tw, idx, NULL);
	SK_CHECK(sk_flow_move(&tw.t.flow[idx], &got) == NULL && got.generation == 0,
		 "move: NULL: not moved again");
	SK_CHECK((rte_seqcount_read_begin(&tw.t.flow[idx].mv_seq) & 1) == 0,
		 "move: no write left open on the sequence counter");
	SK_CHECK(finds(&tw.t, &a, idx, false) && finds(&tw.t, &c, idx, true),
		 "move: the flow's keys are untouched by its moves");
	sk_tables_destroy(&tw);
}

/*
 * A publish whose access key is added and whose core key then finds both its
 * buckets full returns -1 after taking the access key back out. For that
 * moment the access key was in the table: a reader may have found the flow,
 * so the slot may be reused only after a grace period (sk_flow_publish defers
 * it; it once went straight back on the free list, and the next sk_flow_alloc
 * refilled it under that reader). This mode races a reader against exactly
 * that sequence, the writer reallocating slots as fast as it can, and counts:
 *  - seen: lookups of the doomed access key that found its flow (a flow
 *    whose publication failed was visible);
 *  - reused: of those, how many read back another key after the slot was
 *    refilled, before the reader's quiescent state.
 */
struct race {
	struct sk_tables_writer tw;
	struct sk_addr_key doomed, other;
	bool go, stop, online;
	uint64_t lookups, seen, reused;
};

static void *race_reader(void *arg)
{
	struct race *s = arg;
	const struct sk_tables *t = &s->tw.t;
	uint32_t held[STRESS_BATCH];
	unsigned int i, n;
	bool ck;

	rte_rcu_qsbr_thread_register(t->qsv, 0);
	rte_rcu_qsbr_thread_online(t->qsv, 0);
	__atomic_store_n(&s->online, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		sched_yield();
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0, n = 0; i < STRESS_BATCH; i++) {
			uint32_t idx = sk_flow_lookup(t, &s->doomed, &ck);

			s->lookups++;
			if (idx != SK_NO_INDEX)
				held[n++] = idx;
		}
		for (i = 0; i < n; i++)
			if (!sk_addr_key_eq(&t->flow[held[i]].access, &s->doomed))
				s->reused++;
		s->seen += n;
		rte_rcu_qsbr_quiescent(t->qsv, 0);
	}
	rte_rcu_qsbr_thread_offline(t->qsv, 0);
	rte_rcu_qsbr_thread_unregister(t->qsv, 0);
	return NULL;
}

static void test_failed_publish(void)
{
	struct race *s = calloc(1, sizeof(*s));
	struct sk_addr_key fill[2 * SK_FTAB_WAYS], ck, k;
	uint32_t avoid[2], na = 0, nc = 0, idx, t1, t2;
	uint64_t t0, attempts = 0, refused = 0;
	struct sk_ftab_pos p;
	pthread_t th;
	unsigned int i;
	int rc, bad = 0;

	if (s == NULL || !SK_CHECK(tables_create(&s->tw, 16) == 0, "failed publish: tables")) {
		free(s);
		return;
	}
	/* Fill both buckets of one core key. */
	key_of(&k, 0, 2);
	sk_ftab_hash(&s->tw.t.by_access, &k, &p);
	t1 = p.b1;
	t2 = sk_ftab_b2(&s->tw.t.by_access, &p);
	avoid[0] = t1;
	avoid[1] = t2;
	for (i = 0; i < 2 * SK_FTAB_WAYS; i++) {
		key_in(&s->tw.t, &fill[i], &nc, 2, t1, t2);
		key_outside(&s->tw.t, &k, &na, 1, avoid, 2);
		flow_add(&s->tw, &k, &fill[i], &rc);
		bad |= rc;
	}
	key_in(&s->tw.t, &ck, &nc, 2, t1, t2);
	key_outside(&s->tw.t, &s->doomed, &na, 1, avoid, 2);
	key_outside(&s->tw.t, &s->other, &na, 1, avoid, 2);
	SK_CHECK(bad == 0, "failed publish: buckets %u and %u full", t1, t2);

	if (!SK_CHECK(reader_start(&th, race_reader, s), "failed publish: reader started")) {
		sk_tables_destroy(&s->tw);
		free(s);
		return;
	}
	while (!__atomic_load_n(&s->online, __ATOMIC_ACQUIRE))
		sched_yield();
	__atomic_store_n(&s->go, true, __ATOMIC_RELEASE);
	t0 = now_ns();
	while (now_ns() - t0 < STRESS_NS) {
		for (i = 0; i < 256; i++) {
			/* A flow whose core key does not fit, as ensure_flow would make it. */
			idx = flow_add(&s->tw, &s->doomed, &ck, &rc);
			if (idx == SK_NO_INDEX)
				continue; /* every slot waits for its grace period */
			attempts++;
			/* A refused publish gives its slot back itself, after a grace period. */
			if (rc < 0)
				refused++;
			/* The slot's next user: another flow's keys land in it. */
			idx = sk_flow_alloc(&s->tw);
			if (idx != SK_NO_INDEX) {
				s->tw.t.flow[idx].access = s->other;
				flow_unalloc(&s->tw, idx);
			}
		}
		/* Slots of failed publishes come back only after the reader's quiescent state. */
		sk_tables_reclaim(&s->tw);
		sched_yield();
	}
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	SK_NOTE("failed publish: %" PRIu64 " attempts, %" PRIu64 " refused; reader: %" PRIu64
		" lookups, %" PRIu64 " found the failed flow, %" PRIu64
		" of those read back another key",
		attempts, refused, s->lookups, s->seen, s->reused);
	SK_CHECK_EQ(refused, attempts, "failed publish: every such publish returns -1");
	SK_CHECK_EQ(s->reused, 0,
		    "failed publish: no reader sees the slot refilled before its quiescent state");
	sk_tables_destroy(&s->tw);
	free(s);
}

int main(int argc, char **argv)
{
	bool race = argc > 1 && strcmp(argv[1], "failed_publish") == 0;
	int rc;

	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus) != 0)
		CPU_ZERO(&all_cpus);
	if (sk_test_eal_start(argv[0], "flow_table") < 0)
		return 1;
	sk_config_defaults(&cfg);
	SK_NOTE("%d CPU(s) for the reader thread", CPU_COUNT(&all_cpus));

	if (race) {
		test_failed_publish();
	} else {
		test_key_layout();
		test_insert_lookup();
		test_duplicates();
		test_collisions();
		test_displace();
		test_retire_reclaim();
		test_stress();
		test_move();
	}

	rc = sk_test_done();
	sk_test_eal_stop();
	return rc;
}
