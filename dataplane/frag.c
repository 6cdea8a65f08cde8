/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragments of SIP: held, never consumed. docs/FRAGMENTS.md states the rules.
 *
 * Each worker has its own reassembly table: frag_max_flows preallocated
 * entries, each holding up to SK_FRAG_MAX_PIECES fragment mbufs as they came
 * (duplicates included), keyed by ingress side, the raw 802.1Q/802.1ad tags,
 * family, addresses, IP ID and protocol. When the pieces cover the datagram
 * without a hole or a disagreement, the worker handles a flat copy of it; the
 * original mbufs then leave as they came (message unchanged), or rewritten in
 * place along their own boundaries (message changed). Every incomplete entry
 * leaves unchanged and counted: on timeout, evicted oldest first when the
 * table or the fragment budget is full, or given up when its pieces overlap
 * inconsistently. A source may have at most frag_max_per_source incomplete
 * datagrams; beyond it, its new fragments pass unheld.
 *
 * Nothing here allocates after setup; only fragments (and, once per burst,
 * a timeout check in the caller) come here.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "worker_internal.h"

#define NIL UINT32_MAX
/* Up to two VLAN tags (802.1ad + 802.1Q, or 802.1Q twice) between the MACs and the EtherType. */
#define SK_FRAG_MAX_TAG_BYTES 8
/* IPv6 extension headers before the fragment header that we walk (unfragmentable part). */
#define SK_FRAG_MAX_V6_EXT 8

/* Who may have incomplete datagrams: the bound frag_max_per_source counts per source key. */
struct src_key {
	uint8_t side;
	uint8_t family;
	uint8_t tags_len;
	uint8_t pad;
	uint8_t tags[SK_FRAG_MAX_TAG_BYTES];
	uint8_t src[16];
};

struct frag_key {
	struct src_key s;
	uint8_t dst[16];
	uint32_t id; /* IPv4: 16 bits; as on the wire */
	uint8_t proto;
	uint8_t pad[3];
};

struct piece {
	struct rte_mbuf *m;
	uint16_t off;	  /* offset of its data in the datagram's fragmentable part */
	uint16_t len;	  /* data bytes */
	uint16_t hdr_len; /* frame bytes before the data */
	uint16_t l3_off;  /* IP header */
	uint16_t fh_off;  /* IPv6: fragment header */
	uint16_t nh_off;  /* IPv6: the byte that names the fragment header */
	uint8_t more;	  /* MF / M flag */
	uint8_t dup;	  /* an exact duplicate of an earlier piece */
};

struct sk_frag_entry {
	struct frag_key key;
	sk_time_ns first_ns;
	uint32_t hnext; /* hash chain, or free list */
	uint32_t older, newer;
	uint32_t src;	  /* its source's slot */
	uint32_t total;	  /* data bytes of the datagram, known once the last piece came */
	uint32_t covered; /* data bytes held, duplicates not counted */
	uint16_t n;
	uint8_t has_last;
	uint8_t given_up; /* inconsistent: later pieces pass unheld until it times out */
	struct piece p[SK_FRAG_MAX_PIECES];
};

struct src_slot {
	struct src_key key;
	uint32_t count; /* entries of this source */
	uint32_t hnext;
};

struct sk_frag_table {
	uint32_t max_flows;
	uint32_t max_per_source;
	uint32_t max_held;
	uint32_t held;
	sk_time_ns timeout_ns;
	uint32_t mask; /* buckets - 1 */
	uint32_t oldest, newest;
	uint32_t free_e, free_s;
	uint32_t *heads;
	uint32_t *src_heads;
	struct sk_frag_entry *e;
	struct src_slot *s;
};

struct sk_frag_table *sk_frag_table_create(const struct sk_config *cfg, uint32_t max_held,
					   int socket)
{
	uint32_t n = cfg->frag_max_flows, buckets = rte_align32pow2(n * 2), i;
	size_t size = sizeof(struct sk_frag_table) + 2 * (size_t)buckets * sizeof(uint32_t) +
		      (size_t)n * (sizeof(struct sk_frag_entry) + sizeof(struct src_slot));
	struct sk_frag_table *t = rte_zmalloc_socket("sk_frag", size, RTE_CACHE_LINE_SIZE, socket);

	if (t == NULL)
		return NULL;
	t->max_flows = n;
	t->max_per_source = cfg->frag_max_per_source;
	t->max_held = RTE_MAX(max_held, (uint32_t)SK_FRAG_MAX_PIECES);
	t->timeout_ns = (sk_time_ns)cfg->frag_timeout_ms * SK_NS_PER_MS;
	t->mask = buckets - 1;
	t->e = (struct sk_frag_entry *)(t + 1);
	t->s = (struct src_slot *)(t->e + n);
	t->heads = (uint32_t *)(t->s + n);
	t->src_heads = t->heads + buckets;
	for (i = 0; i < buckets; i++)
		t->heads[i] = t->src_heads[i] = NIL;
	for (i = 0; i < n; i++) {
		t->e[i].hnext = i + 1 < n ? i + 1 : NIL;
		t->s[i].hnext = i + 1 < n ? i + 1 : NIL;
	}
	t->free_e = t->free_s = 0;
	t->oldest = t->newest = NIL;
	return t;
}

void sk_frag_table_free(struct sk_frag_table *t)
{
	uint32_t i, k;

	if (t == NULL)
		return;
	for (i = t->oldest; i != NIL; i = t->e[i].newer)
		for (k = 0; k < t->e[i].n; k++)
			rte_pktmbuf_free(t->e[i].p[k].m);
	rte_free(t);
}

static inline uint32_t hash_key(const void *k, uint32_t len)
{
	return rte_jhash(k, len, 0x5ca1ab1e);
}

static uint32_t src_find(const struct sk_frag_table *t, const struct src_key *k, uint32_t h)
{
	uint32_t i;

	for (i = t->src_heads[h & t->mask]; i != NIL; i = t->s[i].hnext)
		if (memcmp(&t->s[i].key, k, sizeof(*k)) == 0)
			return i;
	return NIL;
}

static uint32_t entry_find(const struct sk_frag_table *t, const struct frag_key *k, uint32_t h)
{
	uint32_t i;

	for (i = t->heads[h & t->mask]; i != NIL; i = t->e[i].hnext)
		if (memcmp(&t->e[i].key, k, sizeof(*k)) == 0)
			return i;
	return NIL;
}

static void update_expiry(struct sk_worker *w)
{
	const struct sk_frag_table *t = w->frag;

	w->frag_next_expiry =
		t->oldest == NIL ? UINT64_MAX : t->e[t->oldest].first_ns + t->timeout_ns;
}

/* Unlink index I from the chain starting at *HEAD whose links are at NEXT(i). */
#define UNLINK(head, arr, i)                                                                       \
	do {                                                                                       \
		uint32_t *pp_ = (head);                                                            \
		while (*pp_ != (i))                                                                \
			pp_ = &(arr)[*pp_].hnext;                                                  \
		*pp_ = (arr)[i].hnext;                                                             \
	} while (0)

/* Forget entry I (its pieces are gone already). */
static void entry_remove(struct sk_worker *w, uint32_t i)
{
	struct sk_frag_table *t = w->frag;
	struct sk_frag_entry *e = &t->e[i];
	struct src_slot *s = &t->s[e->src];

	UNLINK(&t->heads[hash_key(&e->key, sizeof(e->key)) & t->mask], t->e, i);
	if (e->older != NIL)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != NIL)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
	if (--s->count == 0) {
		UNLINK(&t->src_heads[hash_key(&s->key, sizeof(s->key)) & t->mask], t->s, e->src);
		s->hnext = t->free_s;
		t->free_s = e->src;
	}
	e->hnext = t->free_e;
	t->free_e = i;
	update_expiry(w);
}

/* Send E's pieces unchanged, in arrival order, toward the side they were not received on. */
static void release_pieces(struct sk_worker *w, struct sk_frag_entry *e, struct sk_out_q *q)
{
	enum sk_side to = sk_side_other((enum sk_side)e->key.s.side);
	uint16_t k;

	for (k = 0; k < e->n; k++)
		sk_out_send(w, q, to, e->p[k].m);
	sk_ctr_add(&w->ctr[SK_WCTR_frag_passed_unreassembled], e->n);
	w->frag->held -= e->n;
	e->n = 0;
}

/* Make room: entry I's fragments leave unchanged and it is forgotten. */
static void evict(struct sk_worker *w, uint32_t i, struct sk_out_q *q)
{
	struct sk_frag_entry *e = &w->frag->e[i];

	if (e->n != 0)
		sk_count(w, SK_WCTR_frag_evicted);
	release_pieces(w, e, q);
	entry_remove(w, i);
}

/* M is not held: it leaves as it came. */
static void pass(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m, struct sk_out_q *q)
{
	sk_count(w, SK_WCTR_frag_passed_unreassembled);
	sk_out_send(w, q, sk_side_other(from), m);
}

/* Fields of one fragment, read from its frame. */
struct frag_info {
	struct piece p;
	struct frag_key key;
	uint32_t unfrag; /* IP header bytes of the reassembled datagram before the data */
};

/* -1: not a fragment we can hold (it passes unheld). */
static int read_fragment(struct rte_mbuf *m, enum sk_side from, const struct sk_pkt_meta *meta,
			 struct frag_info *f)
{
	const uint8_t *fr = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t l3 = meta->l3_off, end = meta->l3_end, hdr;
	uint16_t offlg;

	memset(&f->key, 0, sizeof(f->key));
	if (l3 < RTE_ETHER_HDR_LEN || l3 > RTE_ETHER_HDR_LEN + SK_FRAG_MAX_TAG_BYTES ||
	    (l3 - RTE_ETHER_HDR_LEN) % 4 != 0 || end > rte_pktmbuf_data_len(m))
		return -1;
	f->key.s.side = (uint8_t)from;
	f->key.s.family = meta->ip_version;
	f->key.s.tags_len = (uint8_t)(l3 - RTE_ETHER_HDR_LEN);
	memcpy(f->key.s.tags, fr + 2 * RTE_ETHER_ADDR_LEN, f->key.s.tags_len);
	f->key.proto = meta->l4_proto;
	memset(&f->p, 0, sizeof(f->p));
	f->p.m = m;
	f->p.l3_off = (uint16_t)l3;
	if (meta->ip_version == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(fr + l3);

		hdr = l3 + rte_ipv4_hdr_len(ip);
		offlg = rte_be_to_cpu_16(ip->fragment_offset);
		f->p.off =
			(uint16_t)((offlg & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS);
		f->p.more = (offlg & RTE_IPV4_HDR_MF_FLAG) != 0;
		memcpy(&f->key.id, &ip->packet_id, 2);
		memcpy(f->key.s.src, &ip->src_addr, 4);
		memcpy(f->key.dst, &ip->dst_addr, 4);
		f->unfrag = hdr - l3;
	} else {
		uint32_t nh = l3 + 6, cur = l3 + sizeof(struct rte_ipv6_hdr);
		int i;

		/* Hop-by-hop, destination options and routing headers may precede it. */
		for (i = 0; i < SK_FRAG_MAX_V6_EXT && fr[nh] != IPPROTO_FRAGMENT; i++) {
			if ((fr[nh] != IPPROTO_HOPOPTS && fr[nh] != IPPROTO_DSTOPTS &&
			     fr[nh] != IPPROTO_ROUTING) ||
			    cur + 2 > end)
				return -1;
			nh = cur;
			cur += ((uint32_t)fr[cur + 1] + 1) * 8;
		}
		if (fr[nh] != IPPROTO_FRAGMENT || cur + sizeof(struct rte_ipv6_fragment_ext) > end)
			return -1;
		hdr = cur + sizeof(struct rte_ipv6_fragment_ext);
		offlg = (uint16_t)(fr[cur + 2] << 8 | fr[cur + 3]);
		f->p.off = offlg & 0xfff8;
		f->p.more = offlg & 1;
		f->p.fh_off = (uint16_t)cur;
		f->p.nh_off = (uint16_t)nh;
		memcpy(&f->key.id, fr + cur + 4, 4);
		memcpy(f->key.s.src, fr + l3 + 8, 16);
		memcpy(f->key.dst, fr + l3 + 24, 16);
		f->unfrag = cur - l3;
	}
	if (hdr > end)
		return -1;
	f->p.hdr_len = (uint16_t)hdr;
	f->p.len = (uint16_t)(end - hdr);
	return 0;
}

/* Can piece P join E? Marks it a duplicate when it repeats a piece byte for byte. */
static bool piece_fits(const struct sk_frag_entry *e, struct piece *p, uint32_t unfrag)
{
	uint32_t end = (uint32_t)p->off + p->len;
	uint16_t k;

	/* IP caps the datagram at 65535 bytes; pieces other than the last carry 8-byte units. */
	if (unfrag + end > 65535 || (p->more && (p->len == 0 || p->len % 8 != 0)))
		return false;
	if (e->has_last && (p->more ? end > e->total : end != e->total))
		return false;
	for (k = 0; k < e->n; k++) {
		const struct piece *o = &e->p[k];

		if (o->dup)
			continue;
		if (o->off == p->off && o->len == p->len && o->more == p->more) {
			if (memcmp(rte_pktmbuf_mtod_offset(o->m, uint8_t *, o->hdr_len),
				   rte_pktmbuf_mtod_offset(p->m, uint8_t *, p->hdr_len),
				   p->len) != 0)
				return false;
			p->dup = 1;
			return true;
		}
		if (p->off < o->off + o->len && o->off < end)
			return false;
		if (!p->more && (uint32_t)o->off + o->len > end)
			return false;
	}
	return true;
}

/* E cannot be reassembled: its pieces and M leave unchanged; later pieces pass unheld. */
static void give_up(struct sk_worker *w, struct sk_frag_entry *e, struct rte_mbuf *m,
		    struct sk_out_q *q)
{
	sk_count(w, SK_WCTR_frag_inconsistent);
	release_pieces(w, e, q);
	pass(w, (enum sk_side)e->key.s.side, m, q);
	e->given_up = 1;
}

struct sk_frag_entry *sk_frag_add(struct sk_worker *w, enum sk_side from, struct rte_mbuf *m,
				  const struct sk_pkt_meta *meta, sk_time_ns now,
				  struct sk_out_q *q)
{
	struct sk_frag_table *t = w->frag;
	struct sk_frag_entry *e;
	struct frag_info f;
	uint32_t h, i;

	/* Only UDP (SIP) is reassembled; a fragment in several segments is not ours to hold. */
	if (t == NULL || m->nb_segs != 1 || meta->l4_proto != IPPROTO_UDP ||
	    read_fragment(m, from, meta, &f) < 0) {
		pass(w, from, m, q);
		return NULL;
	}
	h = hash_key(&f.key, sizeof(f.key));
	i = entry_find(t, &f.key, h);
	if (i == NIL) {
		uint32_t hs = hash_key(&f.key.s, sizeof(f.key.s)), s = src_find(t, &f.key.s, hs);

		if (s != NIL && t->s[s].count >= t->max_per_source) {
			sk_count(w, SK_WCTR_frag_source_limited);
			pass(w, from, m, q);
			return NULL;
		}
		if (t->free_e == NIL)
			evict(w, t->oldest, q);
		s = src_find(t, &f.key.s, hs); /* eviction may have freed its slot */
		if (s == NIL) {
			s = t->free_s; /* never NIL: a slot per entry, and an entry is free */
			t->free_s = t->s[s].hnext;
			t->s[s].key = f.key.s;
			t->s[s].count = 0;
			t->s[s].hnext = t->src_heads[hs & t->mask];
			t->src_heads[hs & t->mask] = s;
		}
		t->s[s].count++;
		i = t->free_e;
		e = &t->e[i];
		t->free_e = e->hnext;
		e->key = f.key;
		e->first_ns = now;
		e->src = s;
		e->total = e->covered = 0;
		e->n = 0;
		e->has_last = e->given_up = 0;
		e->hnext = t->heads[h & t->mask];
		t->heads[h & t->mask] = i;
		e->newer = NIL;
		e->older = t->newest;
		if (t->newest != NIL)
			t->e[t->newest].newer = i;
		else
			t->oldest = i;
		t->newest = i;
		update_expiry(w);
	}
	e = &t->e[i];
	if (e->given_up) {
		pass(w, from, m, q);
		return NULL;
	}
	if (e->n == SK_FRAG_MAX_PIECES || !piece_fits(e, &f.p, f.unfrag)) {
		give_up(w, e, m, q);
		return NULL;
	}
	e->p[e->n++] = f.p;
	t->held++;
	if (!f.p.dup)
		e->covered += f.p.len;
	if (!f.p.more) {
		e->has_last = 1;
		e->total = (uint32_t)f.p.off + f.p.len;
	}
	/* The fragment budget: older datagrams leave first (this one fits: max_held >= pieces). */
	while (t->held > t->max_held)
		evict(w, t->oldest != i ? t->oldest : e->newer, q);
	if (e->has_last && e->covered == e->total)
		return e;
	return NULL;
}

/* The piece at offset 0 (it has the headers of the datagram). */
static const struct piece *first_piece(const struct sk_frag_entry *e)
{
	uint16_t k;

	for (k = 0; k < e->n; k++)
		if (e->p[k].off == 0 && !e->p[k].dup)
			return &e->p[k];
	return NULL; /* not reached: coverage is complete */
}

uint32_t sk_frag_flatten(const struct sk_frag_entry *e, uint8_t *flat)
{
	const struct piece *p0 = first_piece(e);
	const uint8_t *fr = rte_pktmbuf_mtod(p0->m, const uint8_t *);
	uint32_t hdr, k;

	if (e->key.s.family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(flat + p0->l3_off);

		hdr = p0->hdr_len;
		memcpy(flat, fr, hdr);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(hdr - p0->l3_off + e->total));
		ip->fragment_offset &= rte_cpu_to_be_16(
			(uint16_t) ~(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(flat + p0->l3_off);

		/* The fragment header goes; the header before it names what followed it. */
		hdr = p0->fh_off;
		memcpy(flat, fr, hdr);
		flat[p0->nh_off] = fr[p0->fh_off];
		ip->payload_len =
			rte_cpu_to_be_16((uint16_t)(hdr - p0->l3_off - sizeof(*ip) + e->total));
	}
	for (k = 0; k < e->n; k++)
		if (!e->p[k].dup)
			memcpy(flat + hdr + e->p[k].off,
			       rte_pktmbuf_mtod_offset(e->p[k].m, uint8_t *, e->p[k].hdr_len),
			       e->p[k].len);
	return hdr + e->total;
}

/*
 * Write the datagram of FLAT (LEN bytes, as the handler left it) into E's
 * pieces along their own boundaries: each keeps its L2 and IP headers, with
 * the new addresses, lengths and flags; pieces past a shortened end are
 * freed. false (nothing written) when it does not fit.
 */
static bool rewrite_pieces(struct sk_frag_entry *e, const uint8_t *flat, uint32_t len)
{
	const struct piece *p0 = first_piece(e);
	uint32_t l3 = p0->l3_off, hdr, total, k;
	const uint8_t *src, *dst;
	size_t alen;

	if (e->key.s.family == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(flat + l3);

		hdr = p0->hdr_len;
		total = rte_be_to_cpu_16(ip->total_length);
		if (total < hdr - l3)
			return false;
		total -= hdr - l3;
		src = (const uint8_t *)&ip->src_addr;
		dst = (const uint8_t *)&ip->dst_addr;
		alen = 4;
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(flat + l3);

		hdr = p0->fh_off;
		total = rte_be_to_cpu_16(ip->payload_len);
		if (total < hdr - l3 - sizeof(*ip))
			return false;
		total -= hdr - l3 - (uint32_t)sizeof(*ip);
		src = ip->src_addr;
		dst = ip->dst_addr;
		alen = 16;
	}
	/* The handlers only shorten a message or rewrite it in place. */
	if (total == 0 || total > e->total || hdr + total > len)
		return false;
	for (k = 0; k < e->n; k++) {
		struct piece *p = &e->p[k];
		uint8_t *fr = rte_pktmbuf_mtod(p->m, uint8_t *);
		uint32_t n;
		bool more;

		if (p->off >= total) {
			rte_pktmbuf_free(p->m);
			p->m = NULL;
			continue;
		}
		n = RTE_MIN((uint32_t)p->off + p->len, total) - p->off;
		more = (uint32_t)p->off + n < total;
		memcpy(fr + p->hdr_len, flat + hdr + p->off, n);
		rte_pktmbuf_trim(p->m, (uint16_t)(rte_pktmbuf_data_len(p->m) - p->hdr_len - n));
		if (e->key.s.family == 4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(fr + p->l3_off);

			memcpy(&ip->src_addr, src, alen);
			memcpy(&ip->dst_addr, dst, alen);
			ip->total_length = rte_cpu_to_be_16((uint16_t)(p->hdr_len - p->l3_off + n));
			if (more)
				ip->fragment_offset |= rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
			else
				ip->fragment_offset &=
					rte_cpu_to_be_16((uint16_t)~RTE_IPV4_HDR_MF_FLAG);
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(fr + p->l3_off);

			memcpy(ip->src_addr, src, alen);
			memcpy(ip->dst_addr, dst, alen);
			ip->payload_len = rte_cpu_to_be_16(
				(uint16_t)(p->hdr_len - p->l3_off - sizeof(*ip) + n));
			fr[p->fh_off + 3] = (uint8_t)((fr[p->fh_off + 3] & ~1) | (more ? 1 : 0));
		}
	}
	return true;
}

void sk_frag_done(struct sk_worker *w, struct sk_frag_entry *e, enum sk_verdict v,
		  const uint8_t *flat, uint32_t len, struct sk_out_q *q)
{
	enum sk_side to = sk_side_other((enum sk_side)e->key.s.side);
	uint16_t k;

	if (v == SK_FORWARD_CHANGED && !rewrite_pieces(e, flat, len)) {
		sk_count(w, SK_WCTR_frag_split_failed);
		v = SK_FORWARD;
	}
	for (k = 0; k < e->n; k++) {
		if (e->p[k].m == NULL) {
			/* Freed by the rewrite: the shorter message no longer reaches it. */
			sk_count(w, SK_WCTR_frag_emptied_by_rewrite);
			continue;
		}
		if (v == SK_DROP) {
			rte_pktmbuf_free(e->p[k].m);
			continue;
		}
		sk_out_send(w, q, to, e->p[k].m);
		sk_count(w, SK_WCTR_frag_sent);
	}
	w->frag->held -= e->n;
	e->n = 0;
	entry_remove(w, (uint32_t)(e - w->frag->e));
}

void sk_frag_expire(struct sk_worker *w, sk_time_ns now, struct sk_out_q *q)
{
	struct sk_frag_table *t = w->frag;

	if (t == NULL)
		return;
	while (t->oldest != NIL && t->e[t->oldest].first_ns + t->timeout_ns <= now) {
		release_pieces(w, &t->e[t->oldest], q);
		entry_remove(w, t->oldest);
	}
}
