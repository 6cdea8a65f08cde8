/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state that workers read and the control thread writes: media flows,
 * signalling contacts, and the per-user handover record.
 *
 * Concurrency model (single writer, many lock-free readers):
 *  - Only the control thread inserts, changes and deletes entries. Workers
 *    post what they see on a ring (sk_events.h) and read the tables.
 *  - Contacts (signalling address -> user) are an rte_hash with
 *    RW_CONCURRENCY_LF. Media flows have an index of their own (struct
 *    sk_ftab below): every media frame looks one up, and rte_hash costs two
 *    dependent cache lines (bucket, then key slot) before the flow's own;
 *    this index costs one, its hit confirmed on the key the flow holds in
 *    the line the frame reads next (docs/PERFORMANCE.md, "RTP path"). Its
 *    entries are single 64-bit words: readers never block and never see a
 *    half-inserted key. Access keys and core keys have an index each:
 *    nearly every media frame looks up an access key (downlink: its
 *    destination; uplink: its source), and an index of those alone is half
 *    the memory for the frames to miss in.
 *  - A slot (flow, user, move record) is filled completely before the key
 *    that leads to it is published, and is never reused while a worker may
 *    still hold its index: deletions go through one rte_rcu_qsbr defer queue,
 *    and workers report a quiescent state once per poll loop. The contact
 *    table's key positions are freed through the same queue.
 *  - A user's handover state (new address) is an immutable struct sk_move
 *    reached through one pointer: a worker sees the old record or the new
 *    one, never a mix. The replaced record is freed after a grace period.
 *    Each of the user's flows carries a copy (address, generation) under a
 *    seqcount, rewritten by the control thread whenever the move changes, so
 *    that a media frame reads its flow's first line and nothing else.
 *  - The few fields a worker writes are single atomics: a flow's last uplink
 *    time and SSRCs (last writer wins, which is what they mean) and its latch
 *    word (port, move generation, confirmed), changed only by compare-and-swap
 *    so that racing workers agree on one port.
 */
#ifndef SK_TABLES_H
#define SK_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_seqcount.h>
#include <rte_rcu_qsbr.h>

#include "sk_common.h"

#define SK_NO_INDEX UINT32_MAX

/*
 * Signalling addresses a user keeps (REGISTER sources and Contact addresses,
 * old ones and the current): the contact table is sized for this many per user.
 */
#define SK_USER_MAX_CONTACTS 4

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
	/* First cache line: everything a downlink frame reads. */
	struct sk_addr_key access; /* set before publication, constant afterwards */
	/*
	 * A copy of the user's move record (user[user].move; mv_family 0: not
	 * moved), written by the control thread under mv_seq so that a media
	 * frame finds it in this line instead of two more cache misses away.
	 */
	rte_seqcount_t mv_seq;
	uint32_t latch; /* written by workers: SK_LATCH(generation, port) for that move */
	uint8_t mv_family;
	uint8_t kind; /* enum sk_flow_kind */
	uint8_t pad[2];
	uint32_t mv_generation;
	uint8_t mv_addr[16];
	uint32_t user;	 /* index into the user slots */
	uint32_t dialog; /* the control thread's dialog index: whose key this is */
	/* Second line: the core side (uplink). */
	struct sk_addr_key core; /* set before publication, constant afterwards */
	/* Written by workers (atomics). */
	uint32_t last_ssrc; /* last uplink SSRC seen (RTCP: the sender's) */
	/*
	 * The stream's own SSRC (0: not known yet): learned from the SDP address
	 * before a move and from a confirmed latch's port afterwards, never from
	 * a tentative one. It decides who may hold the latch (SK_LATCH_CONFIRMED).
	 */
	uint32_t known_ssrc;
	uint64_t last_uplink_ns; /* trace/TSC time of the last uplink packet */
} __rte_cache_aligned;

/*
 * A media flow index (one for access keys, one for core keys): one cache
 * line per lookup.
 * A bucket holds 7 entries (32-bit signature << 32 | flow reference) and the
 * number of keys that wanted it but went to their second bucket. A candidate
 * is confirmed against the key stored in the flow (its first line, which the
 * frame needs next anyway). One writer (the control thread), lock-free
 * readers: an entry is one atomic 64-bit word, stored after its flow is
 * filled. The index is sized for SK_FTAB_LOAD keys per bucket with every
 * flow in use (fewer lines for the TLB and the cache to hold). A key whose
 * two buckets are full makes room by moving one key of its first bucket (or
 * else its second) to that key's own second bucket; the moved key's spill is
 * counted and its copy stored before it leaves, so a reader never misses it.
 * A key for which neither bucket can make room is refused.
 */
#define SK_FTAB_WAYS 7
#define SK_FTAB_LOAD 4			     /* keys per bucket of 7 at max_streams */
#define SK_FTAB_CORE_REF (UINT32_C(1) << 31) /* the reference is the flow's core key */
#define SK_FTAB_NONE UINT32_MAX

struct sk_ftab_bucket {
	uint64_t e[SK_FTAB_WAYS]; /* 0: empty */
	uint32_t spill;		  /* keys of this bucket stored in their second one */
	uint32_t pad;
} __rte_cache_aligned;

struct sk_ftab {
	struct sk_ftab_bucket *b;
	uint32_t mask; /* buckets - 1 */
};

/* Where a key may be: its first bucket and its signature (never 0); sk_ftab_b2 the second. */
struct sk_ftab_pos {
	uint32_t b1, sig;
};

/*
 * A key's first bucket, from its signature: the middle bits of a product
 * with an odd constant. The CRC is linear, and the addresses of a site's
 * phones differ in a few low bits, so its low bits as the bucket number
 * crowded some buckets (at 4 keys per bucket, 116k of 2M keys needed moving
 * and 43 found no room); mixed, the keys spread as random ones would. A
 * function of the signature alone, so that the writer knows where a key it
 * finds in a bucket belongs.
 */
static inline uint32_t sk_ftab_b1(const struct sk_ftab *ft, uint32_t sig)
{
	return (uint32_t)(((uint64_t)sig * UINT64_C(0xc2b2ae3d27d4eb4f)) >> 32) & ft->mask;
}

static inline void sk_ftab_hash(const struct sk_ftab *ft, const void *key24, struct sk_ftab_pos *p)
{
	uint64_t w[3];
	uint32_t h;

	__builtin_memcpy(w, key24, sizeof(w));
	/* An IPv4 key is all in its first word (the rest is zero): one CRC step, not three. */
	h = rte_hash_crc_8byte(w[0], 0);
	if (unlikely((w[1] | w[2]) != 0))
		h = rte_hash_crc_8byte(w[2], rte_hash_crc_8byte(w[1], h));
	p->sig = h != 0 ? h : 1;
	p->b1 = sk_ftab_b1(ft, p->sig);
}

/*
 * The second bucket, needed only when the first one spilled: from the high
 * half of the signature times the golden ratio, which mixes every bit of it,
 * so keys sharing the first bucket spread over the others.
 */
static inline uint32_t sk_ftab_b2(const struct sk_ftab *ft, const struct sk_ftab_pos *p)
{
	uint32_t b2 =
		(uint32_t)(((uint64_t)p->sig * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & ft->mask;

	return b2 != p->b1 ? b2 : b2 ^ 1;
}

/* Where a user's media and signalling go now (after a handover). Immutable once published. */
struct sk_move {
	uint8_t family;
	uint8_t addr[16];  /* the committed new IP */
	uint16_t sip_port; /* network order: the new contact's source port */
	/*
	 * Network order: the port of the new REGISTER's Contact when it names
	 * the new IP (a phone that sends from a high port and listens on 5060);
	 * else sip_port. Core signalling to an old Contact address goes here.
	 */
	uint16_t contact_port;
	uint32_t generation; /* increments on each handover of this user */
};

/*
 * What workers need to know of a registered user. 16 bytes, four users to a
 * cache line: the control thread writes one only on a registration or a
 * handover, so sharing a line costs workers nearly nothing, and a line per
 * user would be 48 MiB more at a million users.
 */
struct sk_user_rt {
	const struct sk_move *move; /* NULL until a handover; atomic load/store */
	uint8_t callinfo_ok;	    /* committed registration carries X-cisco-callinfo */
};

/*
 * A latched port belongs to one handover: tagging it with the move's
 * generation (its low 15 bits) means a port latched for an earlier move is
 * never used for a later one, without a second atomic. Bit 16 says the latch
 * is confirmed: its port's packets carried the stream's known SSRC. A
 * tentative latch (an unknown SSRC, or none known) gives way to the first
 * port whose packets carry the known SSRC; a confirmed one never gives way
 * for the rest of that move (docs/PERSISTENCY.md, "Who may latch").
 */
#define SK_LATCH_GEN_MASK 0x7fffu
#define SK_LATCH_CONFIRMED (UINT32_C(1) << 16)
#define SK_LATCH(gen, port_be) ((((uint32_t)(gen)&SK_LATCH_GEN_MASK) << 17) | (uint16_t)(port_be))
#define SK_LATCH_PORT(latch) ((uint16_t)(latch))

/* Does LATCH hold a port for the move of generation GEN? */
static inline bool sk_latch_is_for(uint32_t latch, uint32_t gen)
{
	return (latch >> 17) == (gen & SK_LATCH_GEN_MASK) && SK_LATCH_PORT(latch) != 0;
}

/* The port (network order) latched for the move of generation GEN, 0 if none yet. */
static inline uint16_t sk_latch_port(uint32_t latch, uint32_t gen)
{
	return sk_latch_is_for(latch, gen) ? SK_LATCH_PORT(latch) : 0;
}

/*
 * The negative filter in front of both flow indexes: one bit per slot, set
 * while any published key (access or core) hashes to it, 8 slots per key
 * the indexes can hold (32 KiB for the default max_streams, 4 MiB for 1M).
 * A frame whose key finds its bit clear is in no flow: it skips the bucket
 * line, which at 1M streams is a miss to memory, and the scan of its 7 ways.
 * A set bit only sends the frame to the index (false positives about 1 in 9
 * with every key in use; they cost the lookup, never a wrong answer). The
 * control thread sets a bit before it publishes the key and clears it when
 * the last key on it goes (a counter per bit, on its side).
 */
struct sk_filter {
	uint64_t *bits;
	uint32_t shift; /* slot = (sig * golden ratio) >> shift, over 64 bits */
};

/* K's slot in F from its signature (sk_ftab_hash: the same for both indexes). */
static inline uint32_t sk_filter_slot(const struct sk_filter *f, uint32_t sig)
{
	return (uint32_t)(((uint64_t)sig * UINT64_C(0xd6e8feb86659fd93)) >> f->shift);
}

/* May the key of signature SIG be in a flow index? false: it is in neither. */
static inline bool sk_filter_may_hold(const struct sk_filter *f, uint32_t sig)
{
	uint32_t slot = sk_filter_slot(f, sig);

	return (__atomic_load_n(&f->bits[slot >> 6], __ATOMIC_RELAXED) >> (slot & 63)) & 1;
}

struct sk_tables {
	struct sk_ftab by_access;  /* flows' access keys -> flow index */
	struct sk_ftab by_core;	   /* flows' core keys -> flow index | SK_FTAB_CORE_REF */
	struct sk_filter filter;   /* both indexes' keys (same hash): a clear bit is a miss */
	struct rte_hash *contacts; /* sk_addr_key -> user index [| SK_CONTACT_FROM_HDR] */
	struct sk_flow *flow;	   /* max_flows slots */
	struct sk_user_rt *user;   /* max_users slots */
	struct sk_move *moves;	   /* 2 * max_users records */
	uint32_t max_flows;
	uint32_t max_users;
	struct rte_rcu_qsbr *qsv; /* one reader thread id per worker */
	unsigned int n_readers;
};

/*
 * Built as the three words the hash and the compare read: byte stores
 * followed by word loads of the same bytes defeat store-to-load forwarding,
 * and each media frame would wait for its key to reach the cache (about a
 * tenth of the RTP path's cycles, docs/PERFORMANCE.md).
 */
static inline void sk_addr_key_set(struct sk_addr_key *k, int family, const uint8_t *addr,
				   uint16_t port_be)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w[3] = {0, 0, 0};
	uint32_t a4;

	__builtin_memcpy(&a4, addr, 4);
	/* family at byte 0, port at bytes 2-3, the address from byte 4 on. */
	w[0] = (uint64_t)(uint8_t)family | (uint64_t)port_be << 16 | (uint64_t)a4 << 32;
	if (family != 4) {
		__builtin_memcpy(&w[1], addr + 4, 8);
		__builtin_memcpy(&a4, addr + 12, 4);
		w[2] = a4;
	}
	RTE_BUILD_BUG_ON(sizeof(*k) != sizeof(w) || offsetof(struct sk_addr_key, addr) != 4);
	__builtin_memcpy(k, w, sizeof(w));
#else
	*k = (struct sk_addr_key){.family = (uint8_t)family, .port = port_be};
	__builtin_memcpy(k->addr, addr, family == 4 ? 4 : 16);
#endif
}

/* "IP:port" or "[IPv6]:port" of K, in BUF (LEN bytes); returns BUF. */
const char *sk_addr_key_str(const struct sk_addr_key *k, char *buf, size_t len);

static inline bool sk_addr_key_eq(const struct sk_addr_key *a, const struct sk_addr_key *b)
{
	uint64_t x[3], y[3];

	RTE_BUILD_BUG_ON(sizeof(*a) != sizeof(x));
	__builtin_memcpy(x, a, sizeof(x));
	__builtin_memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

/* Is REF (a flow reference) the one of key K? */
static inline bool sk_ftab_ref_is(const struct sk_tables *t, uint32_t ref,
				  const struct sk_addr_key *k)
{
	const struct sk_flow *f = &t->flow[ref & ~SK_FTAB_CORE_REF];

	return sk_addr_key_eq((ref & SK_FTAB_CORE_REF) ? &f->core : &f->access, k);
}

/*
 * The first entry of BK from way I on whose signature is SIG: its way, its
 * flow reference in *REF; SK_FTAB_WAYS when there is none.
 */
static inline unsigned int sk_ftab_scan(const struct sk_ftab_bucket *bk, uint32_t sig,
					unsigned int i, uint32_t *ref)
{
	for (; i < SK_FTAB_WAYS; i++) {
		uint64_t e = __atomic_load_n(&bk->e[i], __ATOMIC_ACQUIRE);

		if (e != 0 && (uint32_t)(e >> 32) == sig) {
			*ref = (uint32_t)e;
			return i;
		}
	}
	return SK_FTAB_WAYS;
}

/* K (found at P) in bucket B of FT: its flow reference, or SK_FTAB_NONE. */
static inline uint32_t sk_ftab_find(const struct sk_tables *t, const struct sk_ftab *ft, uint32_t b,
				    const struct sk_ftab_pos *p, const struct sk_addr_key *k)
{
	const struct sk_ftab_bucket *bk = &ft->b[b];
	uint32_t ref = SK_FTAB_NONE;
	unsigned int i;

	for (i = sk_ftab_scan(bk, p->sig, 0, &ref); i < SK_FTAB_WAYS;
	     i = sk_ftab_scan(bk, p->sig, i + 1, &ref))
		if (sk_ftab_ref_is(t, ref, k))
			return ref;
	return SK_FTAB_NONE;
}

/* The flow reference of K in FT (P from sk_ftab_hash), or SK_FTAB_NONE. */
static inline uint32_t sk_ftab_lookup(const struct sk_tables *t, const struct sk_ftab *ft,
				      const struct sk_ftab_pos *p, const struct sk_addr_key *k)
{
	uint32_t ref = sk_ftab_find(t, ft, p->b1, p, k);

	if (ref == SK_FTAB_NONE && __atomic_load_n(&ft->b[p->b1].spill, __ATOMIC_ACQUIRE) != 0)
		ref = sk_ftab_find(t, ft, sk_ftab_b2(ft, p), p, k);
	return ref;
}

/* The flow whose access key is K, or SK_NO_INDEX. */
static inline uint32_t sk_flow_by_access(const struct sk_tables *t, const struct sk_addr_key *k)
{
	struct sk_ftab_pos p;
	uint32_t ref;

	sk_ftab_hash(&t->by_access, k, &p);
	if (!sk_filter_may_hold(&t->filter, p.sig))
		return SK_NO_INDEX;
	ref = sk_ftab_lookup(t, &t->by_access, &p, k);
	return ref == SK_FTAB_NONE ? SK_NO_INDEX : ref;
}

/* The flow whose core key is K, or SK_NO_INDEX. */
static inline uint32_t sk_flow_by_core(const struct sk_tables *t, const struct sk_addr_key *k)
{
	struct sk_ftab_pos p;
	uint32_t ref;

	sk_ftab_hash(&t->by_core, k, &p);
	if (!sk_filter_may_hold(&t->filter, p.sig))
		return SK_NO_INDEX;
	ref = sk_ftab_lookup(t, &t->by_core, &p, k);
	return ref == SK_FTAB_NONE ? SK_NO_INDEX : ref & ~SK_FTAB_CORE_REF;
}

/*
 * Access-key lookups of a burst of frames, started frame by frame
 * (sk_flow_burst_add, as each frame is parsed: its negative-filter word is
 * fetched then) and finished together (sk_flow_burst_finish: the filter
 * tested and the buckets fetched for the whole burst, then the buckets
 * scanned and the flows fetched, then the flows confirmed), so that the
 * misses of a whole burst are in flight together at each step. The filter
 * is read in its own pass, not as each frame is parsed: at 1M streams its
 * word is a miss too, and a demand load that misses holds up every
 * instruction after it while a prefetch does not.
 */
#define SK_FLOW_BURST 32
#define SK_FLOW_NOT_LOOKED_UP (UINT32_MAX - 1) /* sk_flow_burst_finish did not fill it */

struct sk_flow_burst {
	struct sk_addr_key keys[SK_FLOW_BURST];
	struct sk_ftab_pos pos[SK_FLOW_BURST];
	uint16_t at[SK_FLOW_BURST]; /* where the caller wants each result */
	uint16_t n;
};

/* The filter word that holds SIG's bit. */
static inline const uint64_t *sk_filter_word(const struct sk_filter *f, uint32_t sig)
{
	return &f->bits[sk_filter_slot(f, sig) >> 6];
}

/*
 * Look up access key (FAMILY, ADDR, PORT_BE) in FB; its result goes to AT (<
 * SK_FLOW_BURST) when sk_flow_burst_finish runs. Returns true (the answer
 * is sk_flow_burst_finish's, the negative filter's included).
 */
static inline bool sk_flow_burst_add(const struct sk_tables *t, struct sk_flow_burst *fb,
				     int family, const uint8_t *addr, uint16_t port_be, uint16_t at)
{
	struct sk_addr_key *k = &fb->keys[fb->n];

	sk_addr_key_set(k, family, addr, port_be);
	sk_ftab_hash(&t->by_access, k, &fb->pos[fb->n]);
	rte_prefetch0(sk_filter_word(&t->filter, fb->pos[fb->n].sig));
	fb->at[fb->n++] = at;
	return true;
}

/*
 * Finish the lookups FB started: the negative filter of each key (a clear
 * bit: no flow, its bucket is not read), its bucket fetched; the first
 * signature match of each key, its flow's first line fetched; then confirmed
 * on the flow's key (else the full lookup). IDX[at] becomes the flow of the
 * key added with AT, or SK_NO_INDEX; the other entries of IDX are left alone.
 */
static inline void sk_flow_burst_finish(const struct sk_tables *t, const struct sk_flow_burst *fb,
					uint32_t *idx)
{
	uint32_t ref[SK_FLOW_BURST];
	bool may[SK_FLOW_BURST];
	unsigned int i;

	for (i = 0; i < fb->n; i++) {
		may[i] = sk_filter_may_hold(&t->filter, fb->pos[i].sig);
		if (may[i])
			rte_prefetch0(&t->by_access.b[fb->pos[i].b1]);
	}
	for (i = 0; i < fb->n; i++) {
		ref[i] = SK_FTAB_NONE;
		if (may[i] && sk_ftab_scan(&t->by_access.b[fb->pos[i].b1], fb->pos[i].sig, 0,
					   &ref[i]) < SK_FTAB_WAYS)
			rte_prefetch0(&t->flow[ref[i]]);
	}
	for (i = 0; i < fb->n; i++) {
		uint32_t r = ref[i];

		if (!may[i]) {
			/* The filter says no flow has the key. */
		} else if (r == SK_FTAB_NONE) {
			/* No signature in the first bucket: only the second may hold it. */
			const struct sk_ftab *ft = &t->by_access;

			if (__atomic_load_n(&ft->b[fb->pos[i].b1].spill, __ATOMIC_ACQUIRE) != 0)
				r = sk_ftab_find(t, ft, sk_ftab_b2(ft, &fb->pos[i]), &fb->pos[i],
						 &fb->keys[i]);
		} else if (!sk_ftab_ref_is(t, r, &fb->keys[i])) {
			r = sk_ftab_lookup(t, &t->by_access, &fb->pos[i], &fb->keys[i]);
		}
		idx[fb->at[i]] = r == SK_FTAB_NONE ? SK_NO_INDEX : r;
	}
}

/* Flow index for a key of either side, or SK_NO_INDEX; *core_key tells which side. */
static inline uint32_t sk_flow_lookup(const struct sk_tables *t, const struct sk_addr_key *k,
				      bool *core_key)
{
	uint32_t idx = sk_flow_by_access(t, k);

	*core_key = idx == SK_NO_INDEX;
	if (idx == SK_NO_INDEX)
		idx = sk_flow_by_core(t, k);
	return idx;
}

/*
 * A contact entry's data: the user's index, with this bit set when the
 * address is the one a REGISTER's Contact header named (on the REGISTER's
 * source IP) rather than the REGISTER's source itself.
 */
#define SK_CONTACT_FROM_HDR (UINT32_C(1) << 31)

/* The user index of K with its SK_CONTACT_FROM_HDR bit, or SK_NO_INDEX. */
static inline uint32_t sk_contact_lookup_ref(const struct sk_tables *t, const struct sk_addr_key *k)
{
	void *data;

	if (rte_hash_lookup_data(t->contacts, k, &data) < 0)
		return SK_NO_INDEX;
	return (uint32_t)(uintptr_t)data;
}

/* The user whose signalling address K is, or SK_NO_INDEX. */
static inline uint32_t sk_contact_lookup(const struct sk_tables *t, const struct sk_addr_key *k)
{
	uint32_t ref = sk_contact_lookup_ref(t, k);

	return ref == SK_NO_INDEX ? ref : ref & ~SK_CONTACT_FROM_HDR;
}

static inline const struct sk_move *sk_user_move(const struct sk_tables *t, uint32_t user)
{
	return __atomic_load_n(&t->user[user].move, __ATOMIC_ACQUIRE);
}

/* The flow's copy of its user's move, in *MV; NULL when the user has not moved. */
static inline const struct sk_move *sk_flow_move(const struct sk_flow *f, struct sk_move *mv)
{
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(&f->mv_seq);
		mv->family = f->mv_family;
		mv->generation = f->mv_generation;
		__builtin_memcpy(mv->addr, f->mv_addr, sizeof(mv->addr));
	} while (rte_seqcount_read_retry(&f->mv_seq, sn));
	return mv->family != 0 ? mv : NULL;
}

#endif /* SK_TABLES_H */
