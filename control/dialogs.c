/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dialogs and their media (docs/OVERVIEW.md 1: calls and media). A dialog is
 * keyed by Call-ID and the From tag of its initial INVITE, and belongs to the
 * registered user on its access side (found by the contact address the
 * signalling uses). Which methods open or end a dialog is the table in
 * include/sk_sip_methods.h. The latest SDP from each side, whatever message
 * carried it (a request the table marks SK_SIP_REQUEST_SDP, re-INVITEs
 * included, or a 1xx or 2xx answer), gives media line i's access-side and
 * core-side address; a flow exists while both are known.
 * A flow whose addresses did not change is kept, with its latch state.
 *
 * An access media address:port belongs to the live dialog that declared it
 * first in its SDP (offer or answer, early dialogs included), for its user:
 * another user's dialog declaring it later gets no flow for that media line
 * (docs/PERSISTENCY.md, "Who may claim a media address").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include "commit_arm.h"
#include "session.h"
#include "sk_log.h"
#include "sk_sip_methods.h"
#include "state_sync.h"

/* A dialog's key strings, bounded like the event fields they come from. */
static void dialog_key_strs(const char *call_id, const char *tag, const char *str[], size_t len[])
{
	str[SK_DIALOG_CALL_ID] = call_id;
	str[SK_DIALOG_TAG] = tag;
	len[SK_DIALOG_CALL_ID] = strnlen(call_id, SK_EV_CALL_ID_MAX - 1);
	len[SK_DIALOG_TAG] = strnlen(tag, SK_EV_TAG_MAX - 1);
}

static uint32_t dialog_hash(struct sk_session *s, const struct sk_dialog *dg)
{
	const char *str[SK_DIALOG_N_STR];
	size_t len[SK_DIALOG_N_STR];

	dialog_key_strs(sk_dialog_call_id(dg), sk_dialog_tag(dg), str, len);
	return sk_rec_hash(&s->dialog_index, str, len, SK_DIALOG_REMOTE_TAG);
}

static uint32_t dialog_lookup(struct sk_session *s, const char *call_id, const char *tag)
{
	const char *str[SK_DIALOG_N_STR];
	size_t len[SK_DIALOG_N_STR];
	uint32_t d;

	if (tag[0] == '\0')
		return SK_NO_INDEX;
	dialog_key_strs(call_id, tag, str, len);
	for (d = sk_rec_index_first(&s->dialog_index,
				    sk_rec_hash(&s->dialog_index, str, len, SK_DIALOG_REMOTE_TAG));
	     d != SK_NO_INDEX; d = sk_rec_index_next(&s->dialog_index, d)) {
		const char *c = sk_dialog_call_id(&s->dialogs[d]);
		const char *t = c + strlen(c) + 1;

		if (strncmp(c, call_id, len[0]) == 0 && c[len[0]] == '\0' &&
		    strncmp(t, tag, len[1]) == 0 && t[len[1]] == '\0')
			return d;
	}
	return SK_NO_INDEX;
}

void sk_dialog_sdp_get(const struct sk_dialog *dg, unsigned int side, struct sk_dialog_sdp *out)
{
	const struct sk_dialog_media *m = dg->media;

	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return;
	out->n_media = m->n[side];
	memcpy(out->media, &m->m[side == 0 ? 0 : m->n[0]], sizeof(m->m[0]) * m->n[side]);
}

static void dialog_media_free(struct sk_session *s, struct sk_dialog *dg)
{
	sk_heap_count(&s->dialog_heap_bytes, dg->media, -1);
	free(dg->media);
	dg->media = NULL;
}

/* Dialog D's latest SDP of SIDE is now IN (the other side's kept). */
static void dialog_sdp_set(struct sk_session *s, uint32_t d, unsigned int side,
			   const struct sk_dialog_sdp *in)
{
	struct sk_dialog *dg = &s->dialogs[d];
	struct sk_dialog_sdp sdp[SK_SIDE_COUNT];
	struct sk_dialog_media *m;
	unsigned int i, n = 0;

	for (i = 0; i < SK_SIDE_COUNT; i++) {
		if (i == side) {
			sdp[i] = *in;
			sdp[i].n_media = RTE_MIN(in->n_media, (uint8_t)SK_EV_MAX_MEDIA);
		} else {
			sk_dialog_sdp_get(dg, i, &sdp[i]);
		}
		n += sdp[i].n_media;
	}
	m = n > 0 ? malloc(sizeof(*m) + sizeof(m->m[0]) * n) : NULL;
	if (n > 0 && m == NULL) {
		SK_LOG_LIMITED(ERR, "dialog %s: no memory for its SDP", sk_dialog_call_id(dg));
		return; /* the SDP it had stays */
	}
	dialog_media_free(s, dg);
	if (m == NULL)
		return;
	for (i = 0, n = 0; i < SK_SIDE_COUNT; n += sdp[i].n_media, i++) {
		m->n[i] = sdp[i].n_media;
		memcpy(&m->m[n], sdp[i].media, sizeof(m->m[0]) * sdp[i].n_media);
	}
	dg->media = m;
	sk_heap_count(&s->dialog_heap_bytes, m, 1);
}

/* Requests of either party, and responses to them, carry the caller's tag in From or To. */
static uint32_t dialog_find(struct sk_session *s, const struct sk_sip_event *ev)
{
	uint32_t d = dialog_lookup(s, ev->call_id, ev->from_tag);

	return d != SK_NO_INDEX ? d : dialog_lookup(s, ev->call_id, ev->to_tag);
}

static bool addr_is_zero(const struct sk_ev_media *m)
{
	static const uint8_t zero[16];

	return memcmp(m->addr, zero, m->family == 4 ? 4 : 16) == 0;
}

static bool same_key(const struct sk_addr_key *a, const struct sk_addr_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void retire(struct sk_session *s, uint32_t *flow)
{
	if (*flow == SK_NO_INDEX)
		return;
	/* Its user's armed commit lists it: taken back (or completed) first. */
	sk_arm_settle(s, s->tw.t.flow[*flow].user);
	sk_flow_retire(&s->tw, *flow);
	*flow = SK_NO_INDEX;
}

/*
 * The flow holding key K (either side), if its dialog has ended and only
 * lingers for retransmissions, gives the key up: the linger is for the
 * signalling, and the media of an ended call has no one to go to.
 */
static void free_if_ending(struct sk_session *s, const struct sk_addr_key *k)
{
	bool core_key;
	uint32_t idx = sk_flow_lookup(&s->tw.t, k, &core_key);
	struct sk_dialog *dg;
	unsigned int i, j;

	if (idx == SK_NO_INDEX)
		return;
	dg = &s->dialogs[s->tw.t.flow[idx].dialog];
	if (!dg->in_use || dg->state != SK_DIALOG_ENDING)
		return;
	for (i = 0; i < SK_EV_MAX_MEDIA; i++)
		for (j = 0; j < 2; j++)
			if (dg->flow[i][j] == idx) {
				retire(s, &dg->flow[i][j]);
				sk_session_count(s, SK_CCTR_streams_taken_from_ended);
				return;
			}
}

/* Make *flow carry ACCESS <-> CORE (kind KIND), keeping it if it already does. */
static void ensure_flow(struct sk_session *s, uint32_t d, unsigned int media, int kind,
			const struct sk_addr_key *access, const struct sk_addr_key *core)
{
	struct sk_dialog *dg = &s->dialogs[d];
	uint32_t *slot = &dg->flow[media][kind];
	struct sk_flow *f;
	uint32_t idx;
	int rc;

	if (*slot != SK_NO_INDEX) {
		f = &s->tw.t.flow[*slot];
		if (same_key(&f->access, access) && same_key(&f->core, core))
			return;
		retire(s, slot);
	}
	/* A new flow of an armed user would miss the armed move: taken back (or completed) first.
	 */
	sk_arm_settle(s, dg->user);
	/* A phone that reuses its port for the next call finds the last call's flow lingering. */
	free_if_ending(s, access);
	free_if_ending(s, core);
	idx = sk_flow_alloc(&s->tw);
	if (idx == SK_NO_INDEX) {
		sk_session_count(s, SK_CCTR_streams_refused);
		return;
	}
	f = &s->tw.t.flow[idx];
	f->access = *access;
	f->core = *core;
	f->user = dg->user;
	f->dialog = d;
	f->kind = (uint8_t)kind;
	sk_flow_set_move(&s->tw, idx, s->tw.t.user[dg->user].move);
	rc = sk_flow_publish(&s->tw, idx);
	if (rc < 0) { /* the slot went back */
		if (rc == -EEXIST)
			sk_session_count(s, SK_CCTR_flow_keys_refused);
		sk_session_count(s, SK_CCTR_streams_refused);
		return;
	}
	*slot = idx;
}

/*
 * Media can only be claimed on an address the user's accepted registration
 * came from: an access client cannot declare another endpoint's address in
 * its SDP and later carry that endpoint's media away with a handover.
 */
static bool user_owns_ip(const struct sk_session *s, uint32_t user, const struct sk_ev_media *m)
{
	const struct sk_user *u = &s->users[user];
	const struct sk_addr_key *c = sk_user_contacts(u);
	unsigned int i;

	for (i = 0; i < u->n_contacts; i++)
		if (c[i].family == m->family &&
		    memcmp(c[i].addr, m->addr, m->family == 4 ? 4 : 16) == 0)
			return true;
	return false;
}

/* --- claims: which user's live dialog declared an access media address first --- */

int sk_dialogs_create(struct sk_session *s)
{
	/* Each m= line claims its RTP and its RTCP address: a slot per flow. */
	uint64_t n = RTE_MIN(2ULL * s->cfg->max_streams, (uint64_t)UINT32_MAX / 4);
	struct sk_claims *c = &s->claims;
	uint32_t i;

	c->n = (uint32_t)n;
	c->mask = rte_align32pow2(c->n) - 1;
	c->seed = (uint32_t)rte_rand();
	c->slot = malloc(sizeof(*c->slot) * c->n);
	c->head = malloc(sizeof(*c->head) * (c->mask + 1));
	if (c->slot == NULL || c->head == NULL) {
		SK_LOG(ERR, "cannot allocate the media claim index (%" PRIu64 " entries)", n);
		return -1;
	}
	for (i = 0; i <= c->mask; i++)
		c->head[i] = SK_NO_INDEX;
	for (i = 0; i < c->n; i++) {
		c->slot[i].count = 0;
		c->slot[i].next = i + 1 < c->n ? i + 1 : SK_NO_INDEX;
	}
	c->free = 0;
	return 0;
}

void sk_dialogs_destroy(struct sk_session *s)
{
	free(s->claims.slot);
	free(s->claims.head);
	memset(&s->claims, 0, sizeof(s->claims));
}

uint64_t sk_dialogs_claim_bytes(const struct sk_session *s)
{
	return (uint64_t)s->claims.n * sizeof(struct sk_claim) +
	       ((uint64_t)s->claims.mask + 1) * sizeof(uint32_t);
}

/* The keys media line M claims: RTP, and RTCP unless it is the same. Returns how many. */
static unsigned int claim_keys(const struct sk_ev_media *m, struct sk_addr_key k[2])
{
	sk_addr_key_set(&k[0], m->family, m->addr, rte_cpu_to_be_16(m->port));
	if (m->rtcp_port == 0 || m->rtcp_port == m->port)
		return 1;
	sk_addr_key_set(&k[1], m->family, m->addr, rte_cpu_to_be_16(m->rtcp_port));
	return 2;
}

static uint32_t *claim_chain(struct sk_session *s, const struct sk_addr_key *k)
{
	uint32_t h = rte_jhash(k->addr, sizeof(k->addr),
			       s->claims.seed ^ ((uint32_t)k->family << 16 | k->port));

	return &s->claims.head[h & s->claims.mask];
}

/* Where the link to K's claim is (*link its slot), or to SK_NO_INDEX when nobody claims it. */
static uint32_t *claim_find(struct sk_session *s, const struct sk_addr_key *k)
{
	uint32_t *link = claim_chain(s, k);

	while (*link != SK_NO_INDEX) {
		const struct sk_claim *c = &s->claims.slot[*link];

		if (c->family == k->family && c->port == k->port &&
		    memcmp(c->addr, k->addr, sizeof(c->addr)) == 0)
			break;
		link = &s->claims.slot[*link].next;
	}
	return link;
}

/* The claim of K, or NULL when nobody claims it. */
static struct sk_claim *claim_get(struct sk_session *s, const struct sk_addr_key *k)
{
	uint32_t i = *claim_find(s, k);

	return i != SK_NO_INDEX ? &s->claims.slot[i] : NULL;
}

/* K is claimed COUNT times by USER's dialogs (0: by nobody). -1 when the index is full. */
static int claim_put(struct sk_session *s, const struct sk_addr_key *k, uint32_t user,
		     uint32_t count)
{
	struct sk_claims *cl = &s->claims;
	uint32_t *link = claim_find(s, k), i = *link;
	struct sk_claim *c;

	if (i == SK_NO_INDEX) {
		if (count == 0)
			return -1;
		if (cl->free == SK_NO_INDEX)
			return -1;
		i = cl->free;
		c = &cl->slot[i];
		cl->free = c->next;
		memcpy(c->addr, k->addr, sizeof(c->addr));
		c->port = k->port;
		c->family = k->family;
		c->pad = 0;
		c->next = *link;
		*link = i;
	}
	c = &cl->slot[i];
	if (count == 0) {
		*link = c->next;
		c->count = 0;
		c->next = cl->free;
		cl->free = i;
		return 0;
	}
	c->user = user;
	c->count = count;
	return 0;
}

static void claim_drop_key(struct sk_session *s, const struct sk_addr_key *k)
{
	const struct sk_claim *c = claim_get(s, k);

	if (c != NULL)
		claim_put(s, k, c->user, c->count - 1);
}

/*
 * Claim media line M for dialog D's user: 0, or -1 when another user's live
 * dialog holds one of its addresses (nothing is changed then), or -2 when
 * the index is full.
 */
static int claim_line(struct sk_session *s, uint32_t d, const struct sk_ev_media *m)
{
	uint32_t user = s->dialogs[d].user;
	struct sk_addr_key k[2];
	unsigned int n = claim_keys(m, k), i;
	const struct sk_claim *c;

	for (i = 0; i < n; i++) {
		c = claim_get(s, &k[i]);
		if (c != NULL && c->user != user)
			return -1;
	}
	for (i = 0; i < n; i++) {
		uint32_t count = (c = claim_get(s, &k[i])) != NULL ? c->count : 0;

		if (claim_put(s, &k[i], user, count + 1) < 0) {
			if (i == 1)
				claim_drop_key(s, &k[0]);
			return -2;
		}
	}
	return 0;
}

/* Give back every address dialog D claims (its access SDP is about to change, or it ends). */
static void claims_release(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	struct sk_dialog_sdp as;
	unsigned int i, j, n;

	if (dg->claimed == 0) {
		dg->claim_refused = 0;
		return;
	}
	sk_dialog_sdp_get(dg, SK_SIDE_ACCESS, &as);
	for (i = 0; i < SK_EV_MAX_MEDIA; i++) {
		struct sk_addr_key k[2];

		if (!(dg->claimed & (1u << i)))
			continue;
		n = claim_keys(&as.media[i], k);
		for (j = 0; j < n; j++)
			claim_drop_key(s, &k[j]);
	}
	dg->claimed = 0;
	dg->claim_refused = 0;
}

static bool same_media_addr(const struct sk_ev_media *a, const struct sk_ev_media *b)
{
	return a->family == b->family && a->port == b->port && a->rtcp_port == b->rtcp_port &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static bool line_usable(const struct sk_ev_media *m)
{
	return m->port != 0 && m->family != 0 && !addr_is_zero(m);
}

/*
 * Dialog D's access side declared NEW: its claims follow. A line whose address
 * another user's live dialog claims is refused for D (streams_address_claimed,
 * counted once while D keeps declaring it); the other dialog keeps it untouched.
 */
static void claims_update(struct sk_session *s, uint32_t d, const struct sk_dialog_sdp *new)
{
	struct sk_dialog *dg = &s->dialogs[d];
	struct sk_dialog_sdp old;
	uint8_t was_refused = dg->claim_refused;
	unsigned int i;

	sk_dialog_sdp_get(dg, SK_SIDE_ACCESS, &old);
	claims_release(s, d);
	dialog_sdp_set(s, d, SK_SIDE_ACCESS, new);
	for (i = 0; i < SK_EV_MAX_MEDIA && i < new->n_media; i++) {
		const struct sk_ev_media *m = &new->media[i];
		int rc;

		if (!line_usable(m) || !user_owns_ip(s, dg->user, m))
			continue; /* no flow; streams_foreign_address when both sides are known */
		rc = claim_line(s, d, m);
		if (rc == 0) {
			dg->claimed |= (uint8_t)(1u << i);
		} else if (rc == -1) {
			dg->claim_refused |= (uint8_t)(1u << i);
			if (!(was_refused & (1u << i)) || i >= old.n_media ||
			    !same_media_addr(&old.media[i], m))
				sk_session_count(s, SK_CCTR_streams_address_claimed);
		} else {
			sk_session_count(s, SK_CCTR_streams_refused);
		}
	}
}

static void rebuild_flows(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	struct sk_dialog_sdp sdp[SK_SIDE_COUNT];
	const struct sk_dialog_sdp *as = &sdp[SK_SIDE_ACCESS];
	const struct sk_dialog_sdp *cs = &sdp[SK_SIDE_CORE];
	unsigned int i;

	sk_dialog_sdp_get(dg, SK_SIDE_ACCESS, &sdp[SK_SIDE_ACCESS]);
	sk_dialog_sdp_get(dg, SK_SIDE_CORE, &sdp[SK_SIDE_CORE]);
	for (i = 0; i < SK_EV_MAX_MEDIA; i++) {
		const struct sk_ev_media *a = &as->media[i];
		const struct sk_ev_media *c = &cs->media[i];
		struct sk_addr_key ak, ck;

		if (i >= as->n_media || i >= cs->n_media || a->port == 0 || c->port == 0 ||
		    a->family == 0 || a->family != c->family || addr_is_zero(a) ||
		    addr_is_zero(c)) {
			retire(s, &dg->flow[i][SK_FLOW_RTP]);
			retire(s, &dg->flow[i][SK_FLOW_RTCP]);
			continue;
		}
		if (!user_owns_ip(s, dg->user, a)) {
			if (dg->flow[i][SK_FLOW_RTP] == SK_NO_INDEX)
				sk_session_count(s, SK_CCTR_streams_foreign_address);
			retire(s, &dg->flow[i][SK_FLOW_RTP]);
			retire(s, &dg->flow[i][SK_FLOW_RTCP]);
			continue;
		}
		if (!(dg->claimed & (1u << i))) {
			/* Another user's live dialog declared this address first (counted then). */
			retire(s, &dg->flow[i][SK_FLOW_RTP]);
			retire(s, &dg->flow[i][SK_FLOW_RTCP]);
			continue;
		}
		sk_addr_key_set(&ak, a->family, a->addr, rte_cpu_to_be_16(a->port));
		sk_addr_key_set(&ck, c->family, c->addr, rte_cpu_to_be_16(c->port));
		ensure_flow(s, d, i, SK_FLOW_RTP, &ak, &ck);
		/* RTCP rides on the RTP port only when both sides agreed to rtcp-mux. */
		if (a->rtcp_mux && c->rtcp_mux) {
			retire(s, &dg->flow[i][SK_FLOW_RTCP]);
			continue;
		}
		sk_addr_key_set(&ak, a->family, a->addr, rte_cpu_to_be_16(a->rtcp_port));
		sk_addr_key_set(&ck, c->family, c->addr, rte_cpu_to_be_16(c->rtcp_port));
		ensure_flow(s, d, i, SK_FLOW_RTCP, &ak, &ck);
	}
	sk_sync_dialog(s, d);
}

void sk_dialog_drop_media(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	unsigned int i;

	for (i = 0; i < SK_EV_MAX_MEDIA; i++) {
		retire(s, &dg->flow[i][SK_FLOW_RTP]);
		retire(s, &dg->flow[i][SK_FLOW_RTCP]);
	}
	claims_release(s, d);
	dialog_media_free(s, dg);
}

static void take_sdp(struct sk_session *s, uint32_t d, const struct sk_sip_event *ev)
{
	struct sk_dialog_sdp sdp;

	if (!ev->has_sdp)
		return;
	memset(&sdp, 0, sizeof(sdp));
	sdp.n_media = ev->n_media;
	memcpy(sdp.media, ev->media, sizeof(sdp.media));
	if (ev->side == SK_SIDE_ACCESS)
		claims_update(s, d, &sdp);
	else
		dialog_sdp_set(s, d, ev->side, &sdp);
	rebuild_flows(s, d);
}

/* Put D on the list of dialogs with a deadline (it is not on it). */
static void timed_link(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];

	dg->prev_timed = SK_NO_INDEX;
	dg->next_timed = s->first_timed;
	if (s->first_timed != SK_NO_INDEX)
		s->dialogs[s->first_timed].prev_timed = d;
	s->first_timed = d;
}

static void timed_unlink(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (dg->prev_timed != SK_NO_INDEX)
		s->dialogs[dg->prev_timed].next_timed = dg->next_timed;
	else
		s->first_timed = dg->next_timed;
	if (dg->next_timed != SK_NO_INDEX)
		s->dialogs[dg->next_timed].prev_timed = dg->prev_timed;
	dg->next_timed = dg->prev_timed = SK_NO_INDEX;
}

/*
 * A free dialog slot, zeroed, with no flows, indexed under CALL_ID and TAG and
 * first on USER's list of dialogs (counted created); refused and counted when none.
 */
static uint32_t dialog_take(struct sk_session *s, const char *call_id, const char *tag,
			    uint32_t user)
{
	const char *str[SK_DIALOG_N_STR];
	size_t len[SK_DIALOG_N_STR];
	struct sk_dialog *dg;
	struct sk_user *u;
	uint32_t d, i;

	if (s->n_free_dialogs == 0) {
		sk_session_count(s, SK_CCTR_dialogs_refused);
		return SK_NO_INDEX;
	}
	d = s->free_dialogs[s->n_free_dialogs - 1];
	dg = &s->dialogs[d];
	memset(dg, 0, sizeof(*dg));
	dialog_key_strs(call_id, tag, str, len);
	str[SK_DIALOG_REMOTE_TAG] = "";
	len[SK_DIALOG_REMOTE_TAG] = 0;
	if (sk_rec_set(&dg->str, &s->dialog_heap_bytes, str, len, SK_DIALOG_N_STR) < 0) {
		sk_session_count(s, SK_CCTR_dialogs_refused);
		return SK_NO_INDEX;
	}
	sk_rec_index_add(&s->dialog_index, dialog_hash(s, dg), d);
	s->n_free_dialogs--;
	if (d >= s->dialogs_hwm)
		s->dialogs_hwm = d + 1;
	sk_gauge_add(&s->dialogs_in_use, 1);
	dg->in_use = true;
	dg->user = user;
	for (i = 0; i < SK_EV_MAX_MEDIA; i++)
		dg->flow[i][SK_FLOW_RTP] = dg->flow[i][SK_FLOW_RTCP] = SK_NO_INDEX;
	u = &s->users[user];
	dg->prev_of_user = SK_NO_INDEX;
	dg->next_of_user = u->first_dialog;
	if (u->first_dialog != SK_NO_INDEX)
		s->dialogs[u->first_dialog].prev_of_user = d;
	u->first_dialog = d;
	u->n_dialogs++;
	sk_session_count(s, SK_CCTR_dialogs_created);
	return d;
}

static uint32_t dialog_create(struct sk_session *s, const struct sk_sip_event *ev)
{
	struct sk_addr_key access_sig;
	struct sk_dialog *dg;
	uint32_t d, user;

	/* The access end of the signalling is the user's registered contact. */
	if (ev->side == SK_SIDE_ACCESS)
		sk_addr_key_set(&access_sig, ev->family, ev->src, ev->sport);
	else
		sk_addr_key_set(&access_sig, ev->family, ev->dst, ev->dport);
	user = sk_user_find_by_contact(s, &access_sig);
	if (user == SK_NO_INDEX || !s->users[user].in_use) {
		sk_session_count(s, SK_CCTR_dialogs_unowned);
		return SK_NO_INDEX;
	}
	/* One user's unanswered INVITEs cannot fill the table for everybody else. */
	if (s->users[user].n_unanswered >= s->cfg->max_early_dialogs_per_user) {
		sk_session_count(s, SK_CCTR_dialogs_refused_user_early);
		return SK_NO_INDEX;
	}
	d = dialog_take(s, ev->call_id, ev->from_tag, user);
	if (d == SK_NO_INDEX)
		return SK_NO_INDEX;
	dg = &s->dialogs[d];
	dg->state = SK_DIALOG_EARLY;
	dg->caller_side = ev->side;
	dg->invite_cseq = ev->cseq;
	dg->created_at = ev->ts;
	dg->unanswered = true;
	s->users[user].n_unanswered++;
	timed_link(s, d); /* early: the early-dialog timeout runs */
	return d;
}

/* Start the linger: the dialog and its media go when it is over. */
static void start_linger(struct sk_session *s, uint32_t d, sk_time_ns now)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (dg->state == SK_DIALOG_ENDING)
		return;
	if (dg->state == SK_DIALOG_CONFIRMED)
		timed_link(s, d); /* an early dialog is on the list already */
	/* The call is over: its media addresses are free to be declared by others. */
	claims_release(s, d);
	sk_sync_dialog_gone(s, d);
	dg->state = SK_DIALOG_ENDING;
	dg->end_at = now + (sk_time_ns)s->cfg->dialog_linger_ms * SK_NS_PER_MS;
}

void sk_dialog_free(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	struct sk_user *u = &s->users[dg->user];

	sk_sync_dialog_gone(s, d);
	sk_dialog_drop_media(s, d);
	if (dg->unanswered)
		u->n_unanswered--;
	if (dg->state != SK_DIALOG_CONFIRMED)
		timed_unlink(s, d);
	if (dg->prev_of_user != SK_NO_INDEX)
		s->dialogs[dg->prev_of_user].next_of_user = dg->next_of_user;
	else
		u->first_dialog = dg->next_of_user;
	if (dg->next_of_user != SK_NO_INDEX)
		s->dialogs[dg->next_of_user].prev_of_user = dg->prev_of_user;
	u->n_dialogs--;
	sk_rec_index_del(&s->dialog_index, dialog_hash(s, dg), d);
	sk_rec_free(&dg->str, &s->dialog_heap_bytes);
	dg->in_use = false;
	sk_gauge_add(&s->dialogs_in_use, -1);
	s->free_dialogs[s->n_free_dialogs++] = d;
	sk_session_count(s, SK_CCTR_dialogs_ended);
	sk_user_maybe_free(s, dg->user);
}

void sk_dialogs_scan(struct sk_session *s, sk_time_ns now)
{
	uint32_t d, next;

	for (d = s->first_timed; d != SK_NO_INDEX; d = next) {
		struct sk_dialog *dg = &s->dialogs[d];

		next = dg->next_timed; /* D may leave the list (ending) or be freed */
		if (dg->state == SK_DIALOG_EARLY &&
		    now >= dg->created_at + SK_EARLY_DIALOG_TIMEOUT_NS)
			start_linger(s, d, now);
		if (dg->state == SK_DIALOG_ENDING && now >= dg->end_at)
			sk_dialog_free(s, d);
	}
}

/* Keep the dialog's key and set its remote tag (left empty without memory). */
static void dialog_set_remote_tag(struct sk_session *s, struct sk_dialog *dg, const char *tag)
{
	const char *str[SK_DIALOG_N_STR];
	size_t len[SK_DIALOG_N_STR];

	dialog_key_strs(sk_dialog_call_id(dg), sk_dialog_tag(dg), str, len);
	str[SK_DIALOG_REMOTE_TAG] = tag;
	len[SK_DIALOG_REMOTE_TAG] = strnlen(tag, SK_EV_TAG_MAX - 1);
	if (sk_rec_set(&dg->str, &s->dialog_heap_bytes, str, len, SK_DIALOG_N_STR) < 0)
		SK_LOG_LIMITED(ERR, "dialog %s: no memory for its remote tag",
			       sk_dialog_call_id(dg));
}

static void on_response(struct sk_session *s, uint32_t d, const struct sk_sip_event *ev)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (sk_sip_method_roles(ev->cseq_method) & SK_SIP_OPENS_DIALOG) {
		if (sk_dialog_remote_tag(dg)[0] == '\0' && ev->to_tag[0] != '\0')
			dialog_set_remote_tag(s, dg, ev->to_tag);
		if (ev->status >= 200 && ev->status < 300 && dg->state == SK_DIALOG_EARLY) {
			dg->state = SK_DIALOG_CONFIRMED;
			timed_unlink(s, d);
			dg->unanswered = false;
			s->users[dg->user].n_unanswered--;
		}
		/* A failed initial INVITE ends the dialog; a failed re-INVITE changes nothing. */
		if (ev->status >= 300 && dg->state == SK_DIALOG_EARLY &&
		    ev->cseq == dg->invite_cseq)
			start_linger(s, d, ev->ts);
	}
	if (ev->status < 300 && dg->state != SK_DIALOG_ENDING)
		take_sdp(s, d, ev);
}

void sk_dialog_event(struct sk_session *s, const struct sk_sip_event *ev)
{
	uint32_t d = dialog_find(s, ev);
	unsigned int roles = sk_sip_method_roles(ev->method);

	if (d == SK_NO_INDEX) {
		if (!ev->is_request || !(roles & SK_SIP_OPENS_DIALOG) || ev->to_tag[0] != '\0')
			return;
		d = dialog_create(s, ev);
		if (d == SK_NO_INDEX)
			return;
	}
	if (!ev->is_request) {
		on_response(s, d, ev);
		return;
	}
	if ((roles & SK_SIP_REQUEST_SDP) && s->dialogs[d].state != SK_DIALOG_ENDING)
		take_sdp(s, d, ev);
	if ((roles & SK_SIP_ENDS_DIALOG) ||
	    ((roles & SK_SIP_ENDS_EARLY) && s->dialogs[d].state == SK_DIALOG_EARLY))
		start_linger(s, d, ev->ts);
}

uint32_t sk_dialog_restore(struct sk_session *s, uint32_t user, const char *call_id,
			   const char *tag, const struct sk_dialog_sdp sdp[SK_SIDE_COUNT],
			   sk_time_ns now)
{
	uint32_t d = dialog_lookup(s, call_id, tag);
	struct sk_dialog *dg;

	if (d != SK_NO_INDEX && s->dialogs[d].user != user)
		return SK_NO_INDEX; /* another user's call: not taken */
	if (d == SK_NO_INDEX) {
		d = dialog_take(s, call_id, tag, user);
		if (d == SK_NO_INDEX)
			return SK_NO_INDEX;
		dg = &s->dialogs[d];
		dg->state = SK_DIALOG_CONFIRMED;
		dg->caller_side = SK_SIDE_ACCESS;
		dg->created_at = now;
		dg->next_timed = dg->prev_timed = SK_NO_INDEX;
	}
	dg = &s->dialogs[d];
	if (dg->state == SK_DIALOG_ENDING)
		return d;
	claims_update(s, d, &sdp[SK_SIDE_ACCESS]);
	dialog_sdp_set(s, d, SK_SIDE_CORE, &sdp[SK_SIDE_CORE]);
	rebuild_flows(s, d);
	return d;
}
