/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dialogs and their media (DESIGN.md 1: call and media tracking). A dialog is
 * keyed by Call-ID and the From tag of its initial INVITE, and belongs to the
 * registered user on its access side (found by the contact address the
 * signalling uses). The latest SDP from each side, whatever message carried it
 * (INVITE, re-INVITE, UPDATE, PRACK, ACK, 18x, 2xx), gives media line i's
 * access-side and core-side address; a flow exists while both are known.
 * A flow whose addresses did not change is kept, with its latch state.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash.h>

#include "sdp_parse.h"
#include "session.h"
#include "sip_parse.h"
#include "sk_log.h"

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
	sk_flow_retire(&s->tw, *flow);
	s->flows_published--;
	*flow = SK_NO_INDEX;
}

/* Make *flow carry ACCESS <-> CORE (kind KIND), keeping it if it already does. */
static void ensure_flow(struct sk_session *s, uint32_t d, unsigned int media, int kind,
			const struct sk_addr_key *access, const struct sk_addr_key *core)
{
	struct sk_dialog *dg = &s->dialogs[d];
	uint32_t *slot = &dg->flow[media][kind];
	struct sk_flow *f;
	uint32_t idx;

	if (*slot != SK_NO_INDEX) {
		f = &s->tw.t.flow[*slot];
		if (same_key(&f->access, access) && same_key(&f->core, core))
			return;
		retire(s, slot);
	}
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
	f->media_index = (uint8_t)media;
	sk_flow_set_move(&s->tw, idx, s->tw.t.user[dg->user].move);
	if (sk_flow_publish(&s->tw, idx) < 0) { /* the slot went back */
		sk_session_count(s, SK_CCTR_streams_refused);
		return;
	}
	*slot = idx;
	s->flows_published++;
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
}

void sk_dialog_drop_media(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	unsigned int i;

	for (i = 0; i < SK_EV_MAX_MEDIA; i++) {
		retire(s, &dg->flow[i][SK_FLOW_RTP]);
		retire(s, &dg->flow[i][SK_FLOW_RTCP]);
	}
	memset(dg->sdp, 0, sizeof(dg->sdp));
}

static void take_sdp(struct sk_session *s, uint32_t d, const struct sk_sip_event *ev)
{
	struct sk_dialog_sdp *sdp = &s->dialogs[d].sdp[ev->side];

	if (!ev->has_sdp)
		return;
	sdp->n_media = ev->n_media;
	memcpy(sdp->media, ev->media, sizeof(sdp->media));
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
	if (s->n_free_dialogs == 0) {
		sk_session_count(s, SK_CCTR_dialogs_refused);
		return SK_NO_INDEX;
	}
	d = s->free_dialogs[s->n_free_dialogs - 1];
	dg = &s->dialogs[d];
	memset(dg, 0, sizeof(*dg));
	dialog_key(&dg->key, ev->call_id, ev->from_tag);
	if (rte_hash_add_key_data(s->dialog_index, &dg->key, (void *)(uintptr_t)d) < 0) {
		sk_session_count(s, SK_CCTR_dialogs_refused);
		return SK_NO_INDEX;
	}
	s->n_free_dialogs--;
	if (d >= s->dialogs_hwm)
		s->dialogs_hwm = d + 1;
	s->dialogs_in_use++;
	dg->in_use = true;
	dg->state = SK_DIALOG_EARLY;
	dg->caller_side = ev->side;
	dg->user = user;
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
	timed_link(s, d); /* early: the early-dialog timeout runs */
	sk_session_count(s, SK_CCTR_dialogs_created);
	return d;
}

/* Start the linger: the dialog and its media go when it is over. */
static void end_at(struct sk_session *s, uint32_t d, sk_time_ns now)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (dg->state == SK_DIALOG_ENDING)
		return;
	if (dg->state == SK_DIALOG_CONFIRMED)
		timed_link(s, d); /* an early dialog is on the list already */
	dg->state = SK_DIALOG_ENDING;
	dg->end_at = now + (sk_time_ns)s->cfg->dialog_linger_ms * SK_NS_PER_MS;
}

void sk_dialog_free(struct sk_session *s, uint32_t d)
{
	struct sk_dialog *dg = &s->dialogs[d];
	struct sk_user *u = &s->users[dg->user];

	sk_dialog_drop_media(s, d);
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
	s->dialogs_in_use--;
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
			end_at(s, d, now);
		if (dg->state == SK_DIALOG_ENDING && now >= dg->end_at)
			sk_dialog_free(s, d);
	}
}

static void on_response(struct sk_session *s, uint32_t d, const struct sk_sip_event *ev)
{
	struct sk_dialog *dg = &s->dialogs[d];

	if (ev->cseq_method == SK_SIP_INVITE) {
		if (dg->remote_tag[0] == '\0' && ev->to_tag[0] != '\0')
			memcpy(dg->remote_tag, ev->to_tag, sizeof(dg->remote_tag));
		if (ev->status >= 200 && ev->status < 300 && dg->state == SK_DIALOG_EARLY) {
			dg->state = SK_DIALOG_CONFIRMED;
			timed_unlink(s, d);
		}
		/* A failed initial INVITE ends the dialog; a failed re-INVITE changes nothing. */
		if (ev->status >= 300 && dg->state == SK_DIALOG_EARLY &&
		    ev->cseq == dg->invite_cseq)
			end_at(s, d, ev->ts);
	}
	if (ev->status < 300 && dg->state != SK_DIALOG_ENDING)
		take_sdp(s, d, ev);
}

void sk_dialog_event(struct sk_session *s, const struct sk_sip_event *ev)
{
	uint32_t d = dialog_find(s, ev);

	if (d == SK_NO_INDEX) {
		/* Only an initial INVITE (no To tag) opens a dialog. */
		if (!ev->is_request || ev->method != SK_SIP_INVITE || ev->to_tag[0] != '\0')
			return;
		d = dialog_create(s, ev);
		if (d == SK_NO_INDEX)
			return;
	}
	if (!ev->is_request) {
		on_response(s, d, ev);
		return;
	}
	switch (ev->method) {
	case SK_SIP_BYE:
		end_at(s, d, ev->ts);
		break;
	case SK_SIP_CANCEL:
		if (s->dialogs[d].state == SK_DIALOG_EARLY)
			end_at(s, d, ev->ts);
		break;
	case SK_SIP_INVITE:
	case SK_SIP_UPDATE:
	case SK_SIP_PRACK:
	case SK_SIP_ACK:
		if (s->dialogs[d].state != SK_DIALOG_ENDING)
			take_sdp(s, d, ev);
		break;
	default:
		break;
	}
}
