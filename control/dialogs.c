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
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>

#include "commit_arm.h"
#include "session.h"
#include "sk_log.h"
#include "sk_sip_methods.h"
#include "state_sync.h"

static void dialog_key(struct sk_dialog_key *k, const char *call_id, const char *tag)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->call_id, call_id, strnlen(call_id, sizeof(k->call_id) - 1));
	memcpy(k->tag, tag, strnlen(tag, sizeof(k->tag) - 1));
}

static uint32_t dialog_lookup(struct sk_session *s, const char *call_id, const char *tag)
{
	struct sk_dialog_key k;
	void *data;

	if (tag[0] == '\0')
		return SK_NO_INDEX;
	dialog_key(&k, call_id, tag);
	if (rte_hash_lookup_data(s->dialog_index, &k, &data) < 0)
		return SK_NO_INDEX;
	return (uint32_t)(uintptr_t)data;
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
	unsigned int i;

	for (i = 0; i < u->n_contacts; i++)
		if (u->contacts[i].family == m->family &&
		    memcmp(u->contacts[i].addr, m->addr, m->family == 4 ? 4 : 16) == 0)
			return true;
	return false;
}

/* --- claims: which user's live dialog declared an access media address first --- */

int sk_dialogs_create(struct sk_session *s)
{
	/* Each m= line claims its RTP and its RTCP address: sized like the flow indexes. */
	uint64_t n = 2ULL * s->cfg->max_streams;
	struct rte_hash_parameters p = {
		.name = "sk_claim_idx",
		.entries = (uint32_t)RTE_MIN(n, (uint64_t)UINT32_MAX / 2),
		.key_len = sizeof(struct sk_addr_key),
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
		/* Every entry fits however keys collide: a full table refuses only beyond it. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	RTE_BUILD_BUG_ON(sizeof(void *) < sizeof(uint64_t));
	s->claim_index = rte_hash_create(&p);
	if (s->claim_index == NULL) {
		SK_LOG(ERR, "cannot allocate the media claim index (%" PRIu64 " entries): %s", n,
		       rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

void sk_dialogs_destroy(struct sk_session *s)
{
	rte_hash_free(s->claim_index);
	s->claim_index = NULL;
}

#define CLAIM_USER(v) ((uint32_t)((v) >> 32))
#define CLAIM_COUNT(v) ((uint32_t)(v))

/* The keys media line M claims: RTP, and RTCP unless it is the same. Returns how many. */
static unsigned int claim_keys(const struct sk_ev_media *m, struct sk_addr_key k[2])
{
	sk_addr_key_set(&k[0], m->family, m->addr, rte_cpu_to_be_16(m->port));
	if (m->rtcp_port == 0 || m->rtcp_port == m->port)
		return 1;
	sk_addr_key_set(&k[1], m->family, m->addr, rte_cpu_to_be_16(m->rtcp_port));
	return 2;
}

/* Owner and count of K, or false when nobody claims it. */
static bool claim_get(struct sk_session *s, const struct sk_addr_key *k, uint64_t *v)
{
	void *data;

	if (rte_hash_lookup_data(s->claim_index, k, &data) < 0)
		return false;
	*v = (uint64_t)(uintptr_t)data;
	return true;
}

static int claim_put(struct sk_session *s, const struct sk_addr_key *k, uint32_t user,
		     uint32_t count)
{
	uint64_t v = (uint64_t)user << 32 | count;

	if (count == 0)
		return rte_hash_del_key(s->claim_index, k) < 0 ? -1 : 0;
	return rte_hash_add_key_data(s->claim_index, k, (void *)(uintptr_t)v);
}

static void claim_drop_key(struct sk_session *s, const struct sk_addr_key *k)
{
	uint64_t v;

	if (claim_get(s, k, &v))
		claim_put(s, k, CLAIM_USER(v), CLAIM_COUNT(v) - 1);
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
	uint64_t v;

	for (i = 0; i < n; i++)
		if (claim_get(s, &k[i], &v) && CLAIM_USER(v) != user)
			return -1;
	for (i = 0; i < n; i++) {
		uint32_t count = claim_get(s, &k[i], &v) ? CLAIM_COUNT(v) : 0;

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
	unsigned int i, j, n;

	for (i = 0; i < SK_EV_MAX_MEDIA; i++) {
		struct sk_addr_key k[2];

		if (!(dg->claimed & (1u << i)))
			continue;
		n = claim_keys(&dg->sdp[SK_SIDE_ACCESS].media[i], k);
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
	struct sk_dialog_sdp old = dg->sdp[SK_SIDE_ACCESS];
	uint8_t was_refused = dg->claim_refused;
	unsigned int i;

	claims_release(s, d);
	dg->sdp[SK_SIDE_ACCESS] = *new;
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
	const struct sk_dialog_sdp *as = &dg->sdp[SK_SIDE_ACCESS];
	const struct sk_dialog_sdp *cs = &dg->sdp[SK_SIDE_CORE];
	unsigned int i;

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
	memset(dg->sdp, 0, sizeof(dg->sdp));
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
		s->dialogs[d].sdp[ev->side] = sdp;
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

/* A free dialog slot, zeroed, indexed under CALL_ID and TAG, owned by USER; counted when none. */
static uint32_t dialog_take(struct sk_session *s, const char *call_id, const char *tag,
			    uint32_t user)
{
	struct sk_dialog *dg;
	uint32_t d;

	if (s->n_free_dialogs == 0) {
		sk_session_count(s, SK_CCTR_dialogs_refused);
		return SK_NO_INDEX;
	}
	d = s->free_dialogs[s->n_free_dialogs - 1];
	dg = &s->dialogs[d];
	memset(dg, 0, sizeof(*dg));
	dialog_key(&dg->key, call_id, tag);
	if (rte_hash_add_key_data(s->dialog_index, &dg->key, (void *)(uintptr_t)d) < 0) {
		sk_session_count(s, SK_CCTR_dialogs_refused);
		return SK_NO_INDEX;
	}
	s->n_free_dialogs--;
	if (d >= s->dialogs_hwm)
		s->dialogs_hwm = d + 1;
	sk_gauge_add(&s->dialogs_in_use, 1);
	dg->in_use = true;
	dg->user = user;
	return d;
}

static uint32_t dialog_create(struct sk_session *s, const struct sk_sip_event *ev)
{
	struct sk_addr_key access_sig;
	struct sk_dialog *dg;
	struct sk_user *u;
	uint32_t d, user, i;

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
	for (i = 0; i < SK_EV_MAX_MEDIA; i++)
		dg->flow[i][SK_FLOW_RTP] = dg->flow[i][SK_FLOW_RTCP] = SK_NO_INDEX;
	u = &s->users[user];
	dg->prev_of_user = SK_NO_INDEX;
	dg->next_of_user = u->first_dialog;
	if (u->first_dialog != SK_NO_INDEX)
		s->dialogs[u->first_dialog].prev_of_user = d;
	u->first_dialog = d;
	u->n_dialogs++;
	dg->unanswered = true;
	u->n_unanswered++;
	timed_link(s, d); /* early: the early-dialog timeout runs */
	sk_session_count(s, SK_CCTR_dialogs_created);
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
	rte_hash_del_key(s->dialog_index, &dg->key);
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

static void on_response(struct sk_session *s, uint32_t d, const struct sk_sip_event *ev)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (sk_sip_method_roles(ev->cseq_method) & SK_SIP_OPENS_DIALOG) {
		if (dg->remote_tag[0] == '\0' && ev->to_tag[0] != '\0')
			memcpy(dg->remote_tag, ev->to_tag, sizeof(dg->remote_tag));
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
	struct sk_user *u;
	uint32_t i;

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
	}
	dg = &s->dialogs[d];
	if (dg->state == SK_DIALOG_ENDING)
		return d;
	claims_update(s, d, &sdp[SK_SIDE_ACCESS]);
	dg->sdp[SK_SIDE_CORE] = sdp[SK_SIDE_CORE];
	rebuild_flows(s, d);
	return d;
}
