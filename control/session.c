/* SPDX-License-Identifier: BSD-3-Clause */
/* Users and registrations (docs/OVERVIEW.md 1: registrations), and event dispatch. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "commit_arm.h"
#include "session.h"
#include "sip_parse.h"
#include "sk_log.h"
#include "state_sync.h"
#include "sk_sip_methods.h"

/* Events one tick applies at most, so that a SIP flood cannot starve the timers. */
#define SK_EVENTS_PER_TICK 4096
/* How often users and dialogs are scanned for silence, windows and expiry. */
#define SK_SCAN_PERIOD_NS (20 * SK_NS_PER_MS)
/* Registration expiry has second granularity (Expires is in seconds). */
#define SK_REG_SCAN_PERIOD_NS (1000 * SK_NS_PER_MS)

void sk_session_count(struct sk_session *s, enum sk_control_counter c)
{
	sk_ctr_add(&s->ctr[c], 1);
}

static struct rte_hash *control_hash(const char *name, uint32_t entries, uint32_t key_len)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
	};

	return rte_hash_create(&p);
}

static uint32_t *index_stack(uint32_t n)
{
	uint32_t *stack = malloc(sizeof(uint32_t) * n);
	uint32_t i;

	if (stack)
		for (i = 0; i < n; i++)
			stack[i] = n - 1 - i;
	return stack;
}

/* --- record text and record indexes (session.h) --- */

const char *sk_rec_str(const char *block, unsigned int i)
{
	if (block == NULL)
		return "";
	while (i-- > 0)
		block += strlen(block) + 1;
	return block;
}

void sk_heap_count(uint64_t *bytes, const void *p, int sign)
{
	uint64_t n = p != NULL ? malloc_usable_size((void *)(uintptr_t)p) : 0;

	/* Read by the telemetry thread: one atomic word. */
	__atomic_store_n(bytes, sign > 0 ? *bytes + n : *bytes - n, __ATOMIC_RELAXED);
}

int sk_rec_set(char **block, uint64_t *bytes, const char *const *s, const size_t *l, unsigned int n)
{
	size_t len = 0;
	unsigned int i;
	char *b, *p;

	for (i = 0; i < n; i++)
		len += l[i] + 1;
	b = malloc(len);
	if (b == NULL)
		return -1;
	for (i = 0, p = b; i < n; p += l[i] + 1, i++) {
		memcpy(p, s[i], l[i]);
		p[l[i]] = '\0';
	}
	sk_rec_free(block, bytes);
	*block = b;
	sk_heap_count(bytes, b, 1);
	return 0;
}

void sk_rec_free(char **block, uint64_t *bytes)
{
	sk_heap_count(bytes, *block, -1);
	free(*block);
	*block = NULL;
}

static uint32_t rec_index_buckets(uint32_t n_records)
{
	return rte_align32pow2(RTE_MAX(n_records, 16u));
}

uint64_t sk_rec_index_bytes(uint32_t n_records)
{
	return (uint64_t)(rec_index_buckets(n_records) + n_records) * sizeof(uint32_t);
}

int sk_rec_index_create(struct sk_rec_index *x, uint32_t n_records)
{
	uint32_t i, nb = rec_index_buckets(n_records);

	x->mask = nb - 1;
	x->seed = (uint32_t)rte_rand();
	x->head = malloc(sizeof(uint32_t) * nb);
	x->next = malloc(sizeof(uint32_t) * RTE_MAX(n_records, 1u));
	if (x->head == NULL || x->next == NULL)
		return -1;
	for (i = 0; i < nb; i++)
		x->head[i] = SK_NO_INDEX;
	return 0;
}

void sk_rec_index_destroy(struct sk_rec_index *x)
{
	free(x->head);
	free(x->next);
	memset(x, 0, sizeof(*x));
}

/*
 * rte_jhash of LEN bytes at P, fed from an aligned, zero-padded copy: on x86
 * rte_jhash reads the key as 32-bit words, which a string at any offset of a
 * heap block is not, and reads up to 3 bytes past its end.
 */
static uint32_t text_hash(const char *p, size_t len, uint32_t h)
{
	uint32_t buf[64];
	size_t n;

	do {
		n = RTE_MIN(len, sizeof(buf));
		memset(buf, 0, sizeof(buf));
		memcpy(buf, p, n);
		h = rte_jhash(buf, (uint32_t)n, h);
		p += n;
		len -= n;
	} while (len != 0);
	return h;
}

uint32_t sk_rec_hash(const struct sk_rec_index *x, const char *const *s, const size_t *l,
		     unsigned int n)
{
	uint32_t h = x->seed;
	unsigned int i;

	/* Each string's length goes in too: ("ab", "c") and ("a", "bc") differ. */
	for (i = 0; i < n; i++)
		h = text_hash(s[i], l[i], h + (uint32_t)l[i]);
	return h;
}

void sk_rec_index_add(struct sk_rec_index *x, uint32_t hash, uint32_t rec)
{
	uint32_t *head = &x->head[hash & x->mask];

	x->next[rec] = *head;
	*head = rec;
}

void sk_rec_index_del(struct sk_rec_index *x, uint32_t hash, uint32_t rec)
{
	uint32_t *p = &x->head[hash & x->mask];

	while (*p != SK_NO_INDEX && *p != rec)
		p = &x->next[*p];
	if (*p == rec)
		*p = x->next[rec];
}

int sk_session_create(struct sk_session *s, const struct sk_config *cfg, unsigned int n_workers)
{
	uint32_t nu = cfg->max_users, nd = cfg->max_dialogs, np = cfg->max_pending_registers;
	/* Events in flight: room for bursts of SIP while the control thread sleeps a tick. */
	uint32_t n_events = 8191;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	if (sk_tables_create(&s->tw, cfg, n_workers) < 0)
		return -1;
	s->users = calloc(nu, sizeof(*s->users));
	if (cfg->hep_listen[0] != '\0') {
		s->dedup = calloc(SK_DEDUP_SLOTS, sizeof(*s->dedup));
		if (s->dedup == NULL)
			return -1;
	}
	s->free_users = index_stack(nu);
	s->pending = calloc(np, sizeof(*s->pending));
	s->free_pending = index_stack(np);
	s->dialogs = calloc(nd, sizeof(*s->dialogs));
	s->free_dialogs = index_stack(nd);
	s->n_free_users = nu;
	s->n_free_pending = np;
	s->n_free_dialogs = nd;
	s->first_timed = SK_NO_INDEX;
	if (cfg->max_pending_per_source >= np)
		SK_LOG(WARNING,
		       "max_pending_per_source (%u) is not below max_pending_registers (%u): one "
		       "source can hold every pending REGISTER",
		       cfg->max_pending_per_source, np);
	s->pending_oldest = s->pending_newest = SK_NO_INDEX;
	s->pending_index =
		control_hash("sk_pending_idx", np + np / 4, sizeof(struct sk_pending_key));
	s->pending_by_source =
		control_hash("sk_pending_src", np + np / 4, sizeof(struct sk_source_key));
	s->events = rte_ring_create("sk_events", n_events + 1, (int)rte_socket_id(), RING_F_SC_DEQ);
	s->event_pool = rte_mempool_create("sk_event_pool", n_events, sizeof(struct sk_sip_event),
					   64, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
	if (!s->users || !s->free_users || !s->pending || !s->free_pending || !s->dialogs ||
	    !s->free_dialogs || sk_rec_index_create(&s->user_index, nu) < 0 || !s->pending_index ||
	    !s->pending_by_source || sk_rec_index_create(&s->dialog_index, nd) < 0 || !s->events ||
	    !s->event_pool || sk_dialogs_create(s) < 0 || sk_arms_create(s) < 0) {
		SK_LOG(ERR, "cannot allocate session state (%u users, %u dialogs): %s", nu, nd,
		       rte_strerror(rte_errno));
		sk_session_destroy(s);
		return -1;
	}
	return 0;
}

void sk_session_destroy(struct sk_session *s)
{
	uint32_t i;
	void *ev;

	if (s->events) {
		while (rte_ring_dequeue(s->events, &ev) == 0)
			rte_mempool_put(s->event_pool, ev);
		rte_ring_free(s->events);
	}
	rte_mempool_free(s->event_pool);
	sk_rec_index_destroy(&s->user_index);
	rte_hash_free(s->pending_index);
	rte_hash_free(s->pending_by_source);
	sk_rec_index_destroy(&s->dialog_index);
	sk_dialogs_destroy(s);
	sk_arms_destroy(s);
	for (i = 0; s->users != NULL && i < s->users_hwm; i++) {
		sk_rec_free(&s->users[i].str, &s->user_heap_bytes);
		free(s->users[i].sets);
	}
	for (i = 0; s->dialogs != NULL && i < s->dialogs_hwm; i++) {
		sk_rec_free(&s->dialogs[i].str, &s->dialog_heap_bytes);
		sk_heap_count(&s->dialog_heap_bytes, s->dialogs[i].media, -1);
		free(s->dialogs[i].media);
	}
	free(s->users);
	free(s->dedup);
	free(s->free_users);
	free(s->pending);
	free(s->free_pending);
	free(s->dialogs);
	free(s->free_dialogs);
	sk_tables_destroy(&s->tw);
	memset(s, 0, sizeof(*s));
}

/* --- users --- */

uint32_t sk_user_find_by_contact(struct sk_session *s, const struct sk_addr_key *k)
{
	return sk_contact_lookup(&s->tw.t, k);
}

/* The strings of a user's key, bounded like the event fields they come from. */
static void user_key_strs(const struct sk_user_key *key, const char *str[SK_USER_N_STR],
			  size_t len[SK_USER_N_STR])
{
	str[SK_USER_AOR] = key->aor;
	str[SK_USER_INSTANCE] = key->instance;
	str[SK_USER_CALL_ID] = key->call_id;
	len[SK_USER_AOR] = strnlen(key->aor, sizeof(key->aor) - 1);
	len[SK_USER_INSTANCE] = strnlen(key->instance, sizeof(key->instance) - 1);
	len[SK_USER_CALL_ID] = strnlen(key->call_id, sizeof(key->call_id) - 1);
}

/* A user's key strings (AOR, instance, Call-ID) as its block holds them. */
static void user_own_key_strs(const struct sk_user *u, const char *str[SK_USER_N_STR],
			      size_t len[SK_USER_N_STR])
{
	unsigned int i;

	for (i = 0; i < SK_USER_CONTACT_URI; i++) {
		str[i] = sk_rec_str(u->str, i);
		len[i] = strlen(str[i]);
	}
}

/* The hash of a user's key, read from its block. */
static uint32_t user_hash(struct sk_session *s, const struct sk_user *u)
{
	const char *str[SK_USER_N_STR];
	size_t len[SK_USER_N_STR];

	user_own_key_strs(u, str, len);
	return sk_rec_hash(&s->user_index, str, len, SK_USER_CONTACT_URI);
}

static uint32_t user_find(struct sk_session *s, const struct sk_user_key *key)
{
	const char *str[SK_USER_N_STR];
	size_t len[SK_USER_N_STR];
	uint32_t i;

	user_key_strs(key, str, len);
	for (i = sk_rec_index_first(&s->user_index,
				    sk_rec_hash(&s->user_index, str, len, SK_USER_CONTACT_URI));
	     i != SK_NO_INDEX; i = sk_rec_index_next(&s->user_index, i)) {
		const char *p = s->users[i].str;
		unsigned int j;

		for (j = 0; j < SK_USER_CONTACT_URI; j++, p += len[j - 1] + 1)
			if (strncmp(p, str[j], len[j]) != 0 || p[len[j]] != '\0')
				break;
		if (j == SK_USER_CONTACT_URI)
			return i;
	}
	return SK_NO_INDEX;
}

/* Keep the user's key and set its Contact URI (kept as it was without memory). */
static void user_set_contact_uri(struct sk_session *s, struct sk_user *u, const char *uri,
				 size_t uri_max)
{
	const char *str[SK_USER_N_STR];
	size_t len[SK_USER_N_STR];

	user_own_key_strs(u, str, len);
	str[SK_USER_CONTACT_URI] = uri;
	len[SK_USER_CONTACT_URI] = strnlen(uri, uri_max - 1);
	if (sk_rec_set(&u->str, &s->user_heap_bytes, str, len, SK_USER_N_STR) < 0)
		SK_LOG_LIMITED(ERR, "user %s: no memory for its Contact URI", sk_user_aor(u));
}

static uint32_t user_create(struct sk_session *s, const struct sk_user_key *key)
{
	const char *str[SK_USER_N_STR];
	size_t len[SK_USER_N_STR];
	struct sk_user *u;
	uint32_t idx;

	if (s->n_free_users == 0)
		return SK_NO_INDEX;
	idx = s->free_users[s->n_free_users - 1];
	u = &s->users[idx];
	memset(u, 0, sizeof(*u));
	user_key_strs(key, str, len);
	str[SK_USER_CONTACT_URI] = "";
	len[SK_USER_CONTACT_URI] = 0;
	if (sk_rec_set(&u->str, &s->user_heap_bytes, str, len, SK_USER_N_STR) < 0)
		return SK_NO_INDEX;
	s->n_free_users--;
	if (idx >= s->users_hwm)
		s->users_hwm = idx + 1;
	sk_rec_index_add(&s->user_index, user_hash(s, u), idx);
	u->in_use = true;
	u->first_dialog = SK_NO_INDEX;
	sk_user_reset(&s->tw, idx);
	sk_gauge_add(&s->users_in_use, 1);
	return idx;
}

/* A user's contacts and bindings at full size, to edit (user_sets_get, user_sets_put). */
struct user_sets {
	uint8_t n_contacts;
	uint8_t n_bindings;
	struct sk_addr_key contacts[SK_USER_MAX_CONTACTS];
	struct sk_binding bindings[SK_USER_MAX_BINDINGS];
};

static void user_sets_get(const struct sk_user *u, struct user_sets *w)
{
	w->n_contacts = u->n_contacts;
	w->n_bindings = u->n_bindings;
	if (u->sets == NULL)
		return;
	memcpy(w->contacts, sk_user_contacts(u), sizeof(w->contacts[0]) * u->n_contacts);
	memcpy(w->bindings, sk_user_bindings(u), sizeof(w->bindings[0]) * u->n_bindings);
}

static void user_sets_free(struct sk_session *s, struct sk_user *u)
{
	sk_heap_count(&s->user_heap_bytes, u->sets, -1);
	free(u->sets);
	u->sets = NULL;
	u->n_contacts = u->n_bindings = 0;
}

/* U's contacts and bindings are W's now. -1 (U unchanged) without memory. */
static int user_sets_put(struct sk_session *s, struct sk_user *u, const struct user_sets *w)
{
	size_t cb = sizeof(w->contacts[0]) * w->n_contacts;
	size_t bb = sizeof(w->bindings[0]) * w->n_bindings;
	char *b = NULL;

	if (cb + bb > 0) {
		b = malloc(cb + bb);
		if (b == NULL) {
			SK_LOG_LIMITED(ERR, "user %s: no memory for its contacts and bindings",
				       sk_user_aor(u));
			return -1;
		}
		memcpy(b, w->contacts, cb);
		memcpy(b + cb, w->bindings, bb);
	}
	user_sets_free(s, u);
	u->sets = b;
	sk_heap_count(&s->user_heap_bytes, b, 1);
	u->n_contacts = w->n_contacts;
	u->n_bindings = w->n_bindings;
	return 0;
}

/*
 * Publish signalling address K for user IDX. A REGISTER's source is the
 * user's whoever had it before (the registrar accepted a REGISTER from it);
 * a Contact header's address (FROM_HDR) is taken only when no other user
 * holds it, so a host cannot claim a co-tenant's port by naming it.
 */
static void user_add_contact(struct sk_session *s, uint32_t idx, const struct sk_addr_key *k,
			     bool from_hdr)
{
	struct sk_user *u = &s->users[idx];
	uint32_t ref = sk_contact_lookup_ref(&s->tw.t, k);
	uint32_t want = idx | (from_hdr ? SK_CONTACT_FROM_HDR : 0);
	struct user_sets w;
	unsigned int i;

	if (ref != SK_NO_INDEX && (ref & ~SK_CONTACT_FROM_HDR) != idx && from_hdr) {
		sk_session_count(s, SK_CCTR_contacts_foreign);
		return;
	}
	/* An address both the source and a Contact stays a Contact address. */
	if (ref == (idx | SK_CONTACT_FROM_HDR))
		want = ref;
	user_sets_get(u, &w);
	for (i = 0; i < w.n_contacts; i++)
		if (sk_addr_key_eq(&w.contacts[i], k))
			break;
	if (i == w.n_contacts && w.n_contacts == SK_USER_MAX_CONTACTS) {
		/* Forget the oldest address: core signalling to it is no longer redirected. */
		if (sk_contact_lookup(&s->tw.t, &w.contacts[0]) == idx)
			sk_contact_del(&s->tw, &w.contacts[0]);
		memmove(&w.contacts[0], &w.contacts[1], sizeof(*k) * (SK_USER_MAX_CONTACTS - 1));
		w.n_contacts--;
		i = w.n_contacts;
	}
	if (ref != want && sk_contact_add(&s->tw, k, want) < 0) {
		sk_session_count(s, SK_CCTR_contacts_refused);
		if (i < w.n_contacts && ref == SK_NO_INDEX) {
			memmove(&w.contacts[i], &w.contacts[i + 1],
				sizeof(*k) * (w.n_contacts - i - 1));
			w.n_contacts--;
		}
		user_sets_put(s, u, &w);
		return;
	}
	if (i == w.n_contacts)
		w.contacts[w.n_contacts++] = *k;
	/* Without memory to remember it, the address is not kept either. */
	if (user_sets_put(s, u, &w) < 0 && ref != want && sk_contact_lookup(&s->tw.t, k) == idx)
		sk_contact_del(&s->tw, k);
}

static void user_drop_contacts(struct sk_session *s, uint32_t idx)
{
	struct sk_user *u = &s->users[idx];
	const struct sk_addr_key *c = sk_user_contacts(u);
	struct user_sets w;
	unsigned int i;

	for (i = 0; i < u->n_contacts; i++)
		if (sk_contact_lookup(&s->tw.t, &c[i]) == idx)
			sk_contact_del(&s->tw, &c[i]);
	user_sets_get(u, &w);
	w.n_contacts = 0;
	user_sets_put(s, u, &w);
}

static void user_drop_bindings(struct sk_session *s, struct sk_user *u)
{
	struct user_sets w;

	user_sets_get(u, &w);
	w.n_bindings = 0;
	user_sets_put(s, u, &w);
}

/* A user with no registration and no dialog is forgotten. */
void sk_user_maybe_free(struct sk_session *s, uint32_t idx)
{
	struct sk_user *u = &s->users[idx];

	if (!u->in_use || u->registered || u->n_dialogs > 0)
		return;
	user_drop_contacts(s, idx);
	sk_user_set_move(&s->tw, idx, NULL);
	sk_rec_index_del(&s->user_index, user_hash(s, u), idx);
	sk_rec_free(&u->str, &s->user_heap_bytes);
	user_sets_free(s, u);
	u->in_use = false;
	sk_gauge_add(&s->users_in_use, -1);
	/*
	 * Workers reach a user only through its contacts and flows, both gone now;
	 * a worker still holding the index reads a zeroed slot until the next
	 * user_create, which only a later event can cause.
	 */
	s->free_users[s->n_free_users++] = idx;
}

void sk_user_unregister(struct sk_session *s, uint32_t idx)
{
	struct sk_user *u = &s->users[idx];

	sk_arm_settle(s, idx);
	u->registered = false;
	user_drop_bindings(s, u);
	sk_user_set_callinfo(&s->tw, idx, false);
	sk_sync_user(s, idx, 0);
	sk_user_maybe_free(s, idx);
}

/* --- REGISTER transactions --- */

static void source_key(struct sk_source_key *k, const struct sk_addr_key *src)
{
	memset(k, 0, sizeof(*k));
	k->ip.family = src->family;
	memcpy(k->ip.addr, src->addr, sizeof(k->ip.addr));
}

static uint32_t source_pending(struct sk_session *s, const struct sk_source_key *k)
{
	void *data;

	if (rte_hash_lookup_data(s->pending_by_source, k, &data) < 0)
		return 0;
	return (uint32_t)(uintptr_t)data;
}

static void pending_key(struct sk_pending_key *k, const struct sk_sip_event *ev, const uint8_t *ip,
			uint16_t port_be)
{
	memset(k, 0, sizeof(*k));
	/* Hash keys: the string and zeros, never what an event slot held before. */
	memcpy(k->call_id, ev->call_id, strnlen(ev->call_id, sizeof(k->call_id) - 1));
	memcpy(k->aor, ev->aor, strnlen(ev->aor, sizeof(k->aor) - 1));
	sk_addr_key_set(&k->reply, ev->family, ip, port_be);
	k->cseq = ev->cseq;
}

static void pending_free(struct sk_session *s, uint32_t idx)
{
	struct sk_pending *p = &s->pending[idx];
	struct sk_source_key sk;
	uint32_t n;

	sk_arm_pending_gone(s, idx);
	source_key(&sk, &p->src);
	n = source_pending(s, &sk);
	if (n <= 1)
		rte_hash_del_key(s->pending_by_source, &sk);
	else
		rte_hash_add_key_data(s->pending_by_source, &sk, (void *)(uintptr_t)(n - 1));
	if (p->older != SK_NO_INDEX)
		s->pending[p->older].newer = p->newer;
	else
		s->pending_oldest = p->newer;
	if (p->newer != SK_NO_INDEX)
		s->pending[p->newer].older = p->older;
	else
		s->pending_newest = p->older;
	rte_hash_del_key(s->pending_index, &p->key);
	p->in_use = false;
	s->free_pending[s->n_free_pending++] = idx;
}

static void register_request(struct sk_session *s, const struct sk_sip_event *ev)
{
	struct sk_source_key sk;
	struct sk_pending_key key;
	struct sk_addr_key src;
	struct sk_pending *p;
	uint32_t idx, n_src;
	void *data;

	sk_addr_key_set(&src, ev->family, ev->src, ev->sport);
	pending_key(&key, ev, ev->src, ev->reply_port);
	if (rte_hash_lookup_data(s->pending_index, &key, &data) >= 0) {
		p = &s->pending[(uint32_t)(uintptr_t)data];
		/*
		 * A retransmission comes from where the first copy did. The same
		 * transaction from another port with the same reply address (no
		 * rport, same Via port) cannot be told apart: its answer commits
		 * neither.
		 */
		if (!sk_addr_key_eq(&p->src, &src)) {
			sk_arm_pending_gone(s, (uint32_t)(uintptr_t)data);
			p->conflicting = true;
		}
		return;
	}
	source_key(&sk, &src);
	n_src = source_pending(s, &sk);
	if (n_src >= s->cfg->max_pending_per_source) {
		sk_session_count(s, SK_CCTR_registrations_pending_source_refused);
		return;
	}
	/*
	 * Full: the oldest unanswered transaction makes room. A registrar answers
	 * within a round trip, so a flood from many sources (which the per-source
	 * bound cannot stop) only costs a real REGISTER when it sends more than
	 * max_pending_registers others before that answer; refusing newcomers
	 * instead would hand the table to whoever filled it first.
	 */
	if (s->n_free_pending == 0 && s->pending_oldest != SK_NO_INDEX) {
		sk_session_count(s, SK_CCTR_registrations_pending_evicted);
		pending_free(s, s->pending_oldest);
		n_src = source_pending(s, &sk);
	}
	if (s->n_free_pending == 0) {
		sk_session_count(s, SK_CCTR_registrations_pending_refused);
		return;
	}
	idx = s->free_pending[s->n_free_pending - 1];
	if (rte_hash_add_key_data(s->pending_index, &key, (void *)(uintptr_t)idx) < 0 ||
	    rte_hash_add_key_data(s->pending_by_source, &sk, (void *)(uintptr_t)(n_src + 1)) < 0) {
		rte_hash_del_key(s->pending_index, &key);
		sk_session_count(s, SK_CCTR_registrations_pending_refused);
		return;
	}
	s->n_free_pending--;
	p = &s->pending[idx];
	memset(p, 0, sizeof(*p));
	p->in_use = true;
	p->key = key;
	memcpy(p->user.aor, ev->aor, strnlen(ev->aor, sizeof(p->user.aor) - 1));
	if (ev->instance[0] != '\0')
		memcpy(p->user.instance, ev->instance,
		       strnlen(ev->instance, sizeof(p->user.instance) - 1));
	else
		memcpy(p->user.call_id, ev->call_id,
		       strnlen(ev->call_id, sizeof(p->user.call_id) - 1));
	p->src = src;
	memcpy(p->contact_uri, ev->contact, sizeof(p->contact_uri));
	p->n_contacts = RTE_MIN(ev->n_contacts, (uint8_t)SK_EV_MAX_CONTACTS);
	memcpy(p->contacts, ev->contacts, sizeof(p->contacts[0]) * p->n_contacts);
	p->opts = ev->opts;
	p->transport = ev->transport;
	p->hep = ev->hep;
	p->contact_star = ev->contact_star;
	p->seen_at = ev->ts;
	/* Events arrive in time order: the newest is the last to time out. */
	p->newer = SK_NO_INDEX;
	p->older = s->pending_newest;
	if (p->older != SK_NO_INDEX)
		s->pending[p->older].newer = idx;
	else
		s->pending_oldest = idx;
	s->pending_newest = idx;
	sk_arm_request(s, idx, ev->ts);
}

static uint32_t contact_expires(const struct sk_ev_contact *c)
{
	return c->has_expires ? c->expires : SK_DEFAULT_EXPIRES_S;
}

/* A Contact naming the REGISTER's own source IP: a signalling address of the same host. */
static bool contact_on_source(const struct sk_ev_contact *c, const struct sk_addr_key *src)
{
	return c->port != 0 && c->family == src->family &&
	       memcmp(c->addr, src->addr, sizeof(c->addr)) == 0;
}

/*
 * Each Contact is judged with its own expiry (RFC 3261 10.3): 0 removes the
 * binding of that URI, anything else adds or refreshes it. Bindings that ran
 * out meanwhile go first. Returns how many of P's Contacts stay.
 */
static unsigned int bindings_update(struct sk_session *s, struct sk_user *u,
				    const struct sk_pending *p, sk_time_ns now)
{
	const struct sk_binding *b;
	unsigned int i, k, n_live = 0;
	struct user_sets w;

	user_sets_get(u, &w);
	for (k = 0; k < w.n_bindings;)
		if (w.bindings[k].expires_at <= now)
			w.bindings[k] = w.bindings[--w.n_bindings];
		else
			k++;
	for (i = 0; i < p->n_contacts; i++) {
		const struct sk_ev_contact *c = &p->contacts[i];
		uint32_t exp = contact_expires(c);

		for (k = 0; k < w.n_bindings; k++)
			if (w.bindings[k].uri_hash == c->uri_hash)
				break;
		if (exp == 0) {
			if (k < w.n_bindings)
				w.bindings[k] = w.bindings[--w.n_bindings];
			continue;
		}
		n_live++;
		if (k == w.n_bindings) {
			if (w.n_bindings == SK_USER_MAX_BINDINGS) {
				unsigned int j;

				/* Full: the binding that runs out first gives way. */
				for (k = 0, j = 1; j < w.n_bindings; j++)
					if (w.bindings[j].expires_at < w.bindings[k].expires_at)
						k = j;
			} else {
				k = w.n_bindings++;
			}
		}
		w.bindings[k].uri_hash = c->uri_hash;
		w.bindings[k].expires_at = now + (sk_time_ns)exp * 1000 * SK_NS_PER_MS;
	}
	user_sets_put(s, u, &w);
	b = sk_user_bindings(u);
	u->expires_at = 0;
	for (k = 0; k < u->n_bindings; k++)
		if (b[k].expires_at > u->expires_at)
			u->expires_at = b[k].expires_at;
	return n_live;
}

static void unregister(struct sk_session *s, uint32_t idx)
{
	struct sk_user *u = &s->users[idx];

	sk_session_count(s, SK_CCTR_registrations_unregistered);
	SK_LOG_LIMITED(INFO, "user %s%s%s: unregistered", sk_user_aor(u),
		       sk_user_instance(u)[0] ? " instance " : "", sk_user_instance(u));
	sk_user_unregister(s, idx);
}

/* "Contact: *" (with Expires 0) removes every binding of the AOR: every device of it. */
static void unregister_aor(struct sk_session *s, const char *aor)
{
	uint32_t i;

	for (i = 0; i < s->users_hwm; i++)
		if (s->users[i].in_use && s->users[i].registered &&
		    strcmp(sk_user_aor(&s->users[i]), aor) == 0)
			unregister(s, i);
}

static void commit(struct sk_session *s, const struct sk_pending *p, sk_time_ns now)
{
	uint32_t idx = user_find(s, &p->user);
	uint16_t hdr_port = 0;
	unsigned int i, n_live = 0;
	char a[64];
	struct sk_user *u;

	if (idx != SK_NO_INDEX && sk_arm_settle(s, idx))
		idx = user_find(s, &p->user);
	sk_session_count(s, SK_CCTR_registrations_committed);
	if (p->contact_star) {
		unregister_aor(s, p->user.aor);
		return;
	}
	for (i = 0; i < p->n_contacts; i++)
		if (contact_expires(&p->contacts[i]) != 0)
			n_live++;
	if (idx == SK_NO_INDEX) {
		if (n_live == 0)
			return; /* removes bindings of a device not tracked, or only asks */
		idx = user_create(s, &p->user);
		if (idx == SK_NO_INDEX) {
			sk_session_count(s, SK_CCTR_users_refused);
			return;
		}
	}
	u = &s->users[idx];
	/*
	 * A device that registers from a new source address is no longer at the
	 * old one: the bindings it made from there are dropped (the registrar
	 * keeps them until they expire, but nothing reaches the device there).
	 */
	if (n_live > 0 && u->registered && !sk_addr_key_eq(&u->contact, &p->src))
		user_drop_bindings(s, u);
	n_live = bindings_update(s, u, p, now);
	if (u->n_bindings == 0) {
		/* Unregister only when no binding of the device is left. */
		if (u->registered)
			unregister(s, idx);
		else
			sk_user_maybe_free(s, idx);
		return;
	}
	if (n_live == 0)
		return; /* only removed some bindings: the device stays where it is */
	for (i = 0; i < p->n_contacts && hdr_port == 0; i++)
		if (contact_expires(&p->contacts[i]) != 0 &&
		    contact_on_source(&p->contacts[i], &p->src))
			hdr_port = p->contacts[i].port;
	if (u->registered && !sk_addr_key_eq(&u->contact, &p->src)) {
		u->move_contact_port = hdr_port != 0 ? hdr_port : p->src.port;
		sk_persist_reregistered(s, idx, &p->src, p->opts, now);
	} else if (!u->registered) {
		SK_LOG_LIMITED(INFO, "user %s%s%s: registered from %s over %s, expires %us%s%s",
			       p->user.aor, p->user.instance[0] ? " instance " : "",
			       p->user.instance, sk_addr_key_str(&p->src, a, sizeof(a)),
			       p->transport == SK_TRANSPORT_TCP	  ? "TCP"
			       : p->transport == SK_TRANSPORT_TLS ? "TLS"
								  : "UDP",
			       (unsigned int)((u->expires_at - now) / (1000 * SK_NS_PER_MS)),
			       (p->opts & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST))
				       ? ", sessionpersist"
				       : "",
			       (p->opts & SK_OPT_BIT(SK_OPT_X_CISCO_CALLINFO)) ? ", callinfo" : "");
	}
	u->registered = true;
	u->contact = p->src;
	user_set_contact_uri(s, u, p->contact_uri, sizeof(p->contact_uri));
	u->opts = p->opts;
	u->transport = p->transport;
	u->hep = p->hep;
	u->registered_at = now;
	user_add_contact(s, idx, &p->src, false);
	/* The Contact's own address on the same host (a phone sending from a high port). */
	for (i = 0; i < p->n_contacts; i++) {
		const struct sk_ev_contact *c = &p->contacts[i];
		struct sk_addr_key k;

		if (contact_expires(c) == 0 || !contact_on_source(c, &p->src))
			continue;
		sk_addr_key_set(&k, c->family, c->addr, c->port);
		user_add_contact(s, idx, &k, true);
	}
	sk_user_set_callinfo(&s->tw, idx, (p->opts & SK_OPT_BIT(SK_OPT_X_CISCO_CALLINFO)) != 0);
	sk_sync_user(s, idx, now);
}

/* --- Redis: a user as another node (or this one before a restart) wrote it --- */

uint32_t sk_user_lookup(struct sk_session *s, const struct sk_user_key *key)
{
	return user_find(s, key);
}

uint32_t sk_session_restore_user(struct sk_session *s, const struct sk_sync_user_rec *r,
				 uint64_t ttl_ms, sk_time_ns now)
{
	uint32_t idx = user_find(s, &r->key);
	struct user_sets w;
	struct sk_user *u;
	unsigned int i;

	if (idx == SK_NO_INDEX) {
		idx = user_create(s, &r->key);
		if (idx == SK_NO_INDEX) {
			sk_session_count(s, SK_CCTR_users_refused);
			return SK_NO_INDEX;
		}
	} else if (sk_arm_settle(s, idx) && (idx = user_find(s, &r->key)) == SK_NO_INDEX) {
		return SK_NO_INDEX;
	}
	u = &s->users[idx];
	u->registered = true;
	u->contact = r->contact;
	u->transport = r->transport;
	u->opts = r->opts;
	u->registered_at = now;
	/* Each binding runs out with the key (its latest expiry: close enough for a restore). */
	user_sets_get(u, &w);
	w.n_bindings = (uint8_t)RTE_MAX(RTE_MIN(r->n_bind, (unsigned int)SK_USER_MAX_BINDINGS), 1u);
	for (i = 0; i < w.n_bindings; i++) {
		w.bindings[i].uri_hash = i < r->n_bind ? r->bind[i] : 0;
		w.bindings[i].expires_at = now + (sk_time_ns)ttl_ms * SK_NS_PER_MS;
	}
	user_sets_put(s, u, &w);
	u->expires_at = now + (sk_time_ns)ttl_ms * SK_NS_PER_MS;
	for (i = 0; i < r->n_sig; i++)
		user_add_contact(s, idx, &r->sig[i], r->sig_hdr[i]);
	user_add_contact(s, idx, &r->contact, false);
	sk_user_set_callinfo(&s->tw, idx, (r->opts & SK_OPT_BIT(SK_OPT_X_CISCO_CALLINFO)) != 0);
	if (r->has_move)
		sk_persist_apply_move(s, idx, &r->move, now);
	u->move_generation = r->epoch;
	return idx;
}

static void register_response(struct sk_session *s, const struct sk_sip_event *ev)
{
	struct sk_pending_key key;
	void *data;
	uint32_t idx;

	/* The answer is matched where it goes: only the REGISTER sent from there is answered. */
	pending_key(&key, ev, ev->dst, ev->dport);
	if (rte_hash_lookup_data(s->pending_index, &key, &data) < 0) {
		/* A late or retransmitted answer, or one to another CSeq or host: commits nothing.
		 * (The 2xx of an armed commit completed before its event came is no news.)
		 */
		if (ev->status >= 200 && !sk_arm_absorb(s, ev))
			sk_session_count(s, SK_CCTR_registrations_stale_response);
		return;
	}
	idx = (uint32_t)(uintptr_t)data;
	if (ev->status < 200)
		return;
	SK_LOG_LIMITED(DEBUG, "user %s: REGISTER answered %u%s", s->pending[idx].user.aor,
		       (unsigned int)ev->status,
		       s->pending[idx].conflicting ? " (conflicting transaction: ignored)" : "");
	if (sk_arm_resolve(s, idx, ev->status < 300)) {
		/* A worker published this commit's move when it forwarded the 2xx. */
		commit(s, &s->pending[idx], ev->ts);
		sk_arm_done(s, idx, ev->ts);
	} else if (s->pending[idx].conflicting)
		sk_session_count(s, SK_CCTR_registrations_conflicting);
	else if (ev->status < 300)
		commit(s, &s->pending[idx], ev->ts);
	else
		sk_session_count(s, SK_CCTR_registrations_rejected);
	pending_free(s, idx);
}

/* What commit() would do to a registered user on a 2xx to P, short of moving it. */
bool sk_session_would_move(struct sk_session *s, const struct sk_pending *p, uint32_t *user,
			   uint16_t *contact_port)
{
	const struct sk_user *u;
	unsigned int i, n_live = 0;
	uint16_t hdr_port = 0;

	if (p->contact_star || (*user = user_find(s, &p->user)) == SK_NO_INDEX)
		return false;
	u = &s->users[*user];
	if (!u->registered || sk_addr_key_eq(&u->contact, &p->src))
		return false;
	for (i = 0; i < p->n_contacts; i++) {
		if (contact_expires(&p->contacts[i]) == 0)
			continue;
		n_live++;
		if (hdr_port == 0 && contact_on_source(&p->contacts[i], &p->src))
			hdr_port = p->contacts[i].port;
	}
	*contact_port = hdr_port != 0 ? hdr_port : p->src.port;
	return n_live > 0;
}

void sk_session_commit_pending(struct sk_session *s, uint32_t pidx, sk_time_ns ts)
{
	commit(s, &s->pending[pidx], ts);
}

void sk_session_pending_free(struct sk_session *s, uint32_t pidx)
{
	pending_free(s, pidx);
}

void sk_session_apply(struct sk_session *s, const struct sk_sip_event *ev)
{
	unsigned int roles = sk_sip_method_roles(ev->cseq_method);

	sk_session_count(s, SK_CCTR_sip_events_applied);
	/* Workers post nothing else; whatever else feeds events is held to the same table. */
	if (!sk_sip_tracked(ev->cseq_method, ev->is_request, (enum sk_side)ev->side))
		return;
	if (roles & SK_SIP_REGISTRATION) {
		if (ev->is_request)
			register_request(s, ev);
		else
			register_response(s, ev);
	} else if (roles & SK_SIP_DIALOG) {
		sk_dialog_event(s, ev);
	}
}

/* REGISTER transactions unanswered for register_timeout_ms, oldest first. */
static void expire_pending(struct sk_session *s, sk_time_ns now)
{
	sk_time_ns timeout = (sk_time_ns)s->cfg->register_timeout_ms * SK_NS_PER_MS;

	while (s->pending_oldest != SK_NO_INDEX &&
	       now >= s->pending[s->pending_oldest].seen_at + timeout) {
		sk_session_count(s, SK_CCTR_registrations_pending_expired);
		pending_free(s, s->pending_oldest);
	}
}

static void scan_registrations(struct sk_session *s, sk_time_ns now)
{
	uint32_t i;

	for (i = 0; i < s->users_hwm; i++) {
		struct sk_user *u = &s->users[i];

		if (u->in_use && u->registered && now >= u->expires_at) {
			sk_session_count(s, SK_CCTR_registrations_expired);
			SK_LOG_LIMITED(INFO, "user %s: registration expired", sk_user_aor(u));
			sk_user_unregister(s, i);
		}
	}
}

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/*
 * What makes two copies one message: side, request or answer, method, status,
 * Call-ID, CSeq, tags and the media it declares. Not the addresses or the
 * transport: the wire saw TCP where the mirror says TLS, and a proxy mirrors
 * what it received and what it sent.
 */
static uint64_t dedup_key(const struct sk_sip_event *ev)
{
	uint64_t h = 14695981039346656037ULL;
	const uint8_t head[] = {ev->side,	 ev->is_request, ev->method,
				ev->cseq_method, ev->has_sdp,	 ev->n_media};

	h = fnv64(h, head, sizeof(head));
	h = fnv64(h, &ev->status, sizeof(ev->status));
	h = fnv64(h, &ev->cseq, sizeof(ev->cseq));
	h = fnv64(h, ev->call_id, strnlen(ev->call_id, sizeof(ev->call_id)) + 1);
	h = fnv64(h, ev->from_tag, strnlen(ev->from_tag, sizeof(ev->from_tag)) + 1);
	h = fnv64(h, ev->to_tag, strnlen(ev->to_tag, sizeof(ev->to_tag)) + 1);
	if (ev->has_sdp)
		h = fnv64(h, ev->media, sizeof(ev->media[0]) * ev->n_media);
	return h | 1; /* 0 marks a free slot */
}

bool sk_session_dedup(struct sk_session *s, const struct sk_sip_event *ev)
{
	struct sk_dedup_slot *d;
	uint64_t key;

	if (s->dedup == NULL)
		return false;
	key = dedup_key(ev);
	d = &s->dedup[key % SK_DEDUP_SLOTS];
	if (d->key == key && ev->ts >= d->at && ev->ts - d->at < SK_DEDUP_WINDOW_NS &&
	    (ev->hep || d->hep))
		return true;
	/* A collision, or an old entry: the newest takes the slot. */
	d->key = key;
	d->at = ev->ts;
	d->hep = ev->hep;
	return false;
}

void sk_session_tick(struct sk_session *s, sk_time_ns now)
{
	void *evs[64];
	unsigned int n, i, total = 0;

	do {
		n = rte_ring_sc_dequeue_burst(s->events, evs, RTE_DIM(evs), NULL);
		for (i = 0; i < n; i++) {
			if (s->dedup != NULL && sk_session_dedup(s, evs[i])) {
				sk_session_count(s, SK_CCTR_hep_duplicates);
				continue;
			}
			sk_session_apply(s, evs[i]);
		}
		if (n)
			rte_mempool_put_bulk(s->event_pool, evs, n);
		total += n;
	} while (n > 0 && total < SK_EVENTS_PER_TICK);
	expire_pending(s, now);
	if (now >= s->next_reg_scan_ns) {
		scan_registrations(s, now);
		s->next_reg_scan_ns = now + SK_REG_SCAN_PERIOD_NS;
	}
	if (now >= s->next_scan_ns) {
		sk_persist_scan(s, now);
		sk_dialogs_scan(s, now);
		sk_arms_expire(s, now);
		s->next_scan_ns = now + SK_SCAN_PERIOD_NS;
	}
	sk_tables_reclaim(&s->tw);
}
