/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The user state machine of docs/OVERVIEW.md 1: loss detection, the persistence
 * window, handover and expiry.
 *
 *   ACTIVE --(uplink silent media_silence_ms)--> SUSPENDED (window starts)
 *   SUSPENDED --(uplink again from the committed address)--> ACTIVE
 *   ACTIVE or SUSPENDED in window --(committed re-REGISTER from a new address
 *                                    with X-cisco-sessionpersist)--> ACTIVE, moved
 *   SUSPENDED --(window over)--> ACTIVE: the judged calls' media released
 *
 * Silence is read from the flows' last uplink time, which workers stamp, and
 * only on the streams the SDP lets the access endpoint send on (a held call
 * is quiet, not lost). A user none of whose judged flows has carried uplink
 * media yet is never suspended. A release ends the media state of the calls
 * it judged, not the user's: its later calls are judged and moved afresh.
 */
#include <inttypes.h>
#include <string.h>

#include "commit_arm.h"
#include "sdp_parse.h"
#include "session.h"
#include "sip_parse.h"
#include "sk_log.h"

/*
 * Does the latest SDP of each side let the access endpoint send on media line
 * I? Not when it said recvonly or inactive, nor when the core side said
 * sendonly or inactive (RFC 3264 6.1: the answerer's direction follows).
 */
static bool access_sends(const struct sk_dialog_sdp sdp[SK_SIDE_COUNT], unsigned int i)
{
	uint8_t a = sdp[SK_SIDE_ACCESS].media[i].dir;
	uint8_t c = sdp[SK_SIDE_CORE].media[i].dir;

	return a != SK_SDP_RECVONLY && a != SK_SDP_INACTIVE && c != SK_SDP_SENDONLY &&
	       c != SK_SDP_INACTIVE;
}

static bool has_flows(const struct sk_dialog *dg)
{
	unsigned int i;

	for (i = 0; i < SK_EV_MAX_MEDIA; i++)
		if (dg->flow[i][SK_FLOW_RTP] != SK_NO_INDEX ||
		    dg->flow[i][SK_FLOW_RTCP] != SK_NO_INDEX)
			return true;
	return false;
}

/* The media lines of DG with a flow on which the access end should send (bit i). */
static uint8_t sending_lines(const struct sk_dialog *dg)
{
	struct sk_dialog_sdp sdp[SK_SIDE_COUNT];
	uint8_t mask = 0;
	unsigned int i;

	sk_dialog_sdp_get(dg, SK_SIDE_ACCESS, &sdp[SK_SIDE_ACCESS]);
	sk_dialog_sdp_get(dg, SK_SIDE_CORE, &sdp[SK_SIDE_CORE]);
	for (i = 0; i < SK_EV_MAX_MEDIA; i++)
		if (access_sends(sdp, i) && (dg->flow[i][SK_FLOW_RTP] != SK_NO_INDEX ||
					     dg->flow[i][SK_FLOW_RTCP] != SK_NO_INDEX))
			mask |= (uint8_t)(1u << i);
	return mask;
}

/* What the user's calls carry, for loss detection and handover. */
struct media_view {
	sk_time_ns last;	 /* latest uplink over the judged flows (0: none yet) */
	unsigned int n_flows;	 /* flows of dialogs not ending */
	unsigned int n_judged;	 /* of those, on streams the access end should send on */
	unsigned int n_released; /* dialogs left without media by a window's end */
};

/*
 * Look at the user's dialogs. With SCAN (the loss-detection scan at NOW), a
 * stream that starts to be judged (a call taken off hold) gets its own
 * media_silence_ms from now, as a new network does after a move.
 */
static void look_at_media(struct sk_session *s, const struct sk_user *u, bool scan, sk_time_ns now,
			  struct media_view *v)
{
	uint32_t d;
	unsigned int i, k;

	memset(v, 0, sizeof(*v));
	for (d = u->first_dialog; d != SK_NO_INDEX; d = s->dialogs[d].next_of_user) {
		struct sk_dialog *dg = &s->dialogs[d];
		uint8_t mask;

		/* A dialog that is ending is expected to fall silent. */
		if (dg->state == SK_DIALOG_ENDING)
			continue;
		if (dg->media_released && !has_flows(dg)) {
			v->n_released++;
			continue;
		}
		mask = sending_lines(dg);
		if (scan) {
			if (mask & ~dg->sending_mask)
				dg->sending_since = now;
			dg->sending_mask = mask;
		}
		for (i = 0; i < SK_EV_MAX_MEDIA; i++)
			for (k = 0; k < 2; k++) {
				sk_time_ns t;

				if (dg->flow[i][k] == SK_NO_INDEX)
					continue;
				v->n_flows++;
				if (!(mask & (1u << i)))
					continue;
				v->n_judged++;
				t = __atomic_load_n(&s->tw.t.flow[dg->flow[i][k]].last_uplink_ns,
						    __ATOMIC_RELAXED);
				if (t != 0 && t < dg->sending_since)
					t = dg->sending_since;
				if (t > v->last)
					v->last = t;
			}
	}
}

/*
 * The window ran out: release the media of the calls that were judged silent
 * (and of those ending); a held call keeps its media, and so keeps the move
 * while it lasts. The user is active again: a later call starts afresh.
 */
static void release(struct sk_session *s, uint32_t idx, sk_time_ns now)
{
	struct sk_user *u = &s->users[idx];
	unsigned int n_released = 0, n_kept = 0;
	uint32_t d;

	for (d = u->first_dialog; d != SK_NO_INDEX; d = s->dialogs[d].next_of_user) {
		struct sk_dialog *dg = &s->dialogs[d];

		if (!has_flows(dg))
			continue;
		if (sending_lines(dg) == 0 && dg->state != SK_DIALOG_ENDING) {
			n_kept++;
			continue;
		}
		sk_dialog_drop_media(s, d);
		if (dg->state != SK_DIALOG_ENDING) {
			dg->media_released = true;
			n_released++;
		}
	}
	if (n_kept == 0)
		sk_user_set_move(&s->tw, idx, NULL);
	u->state = SK_USER_ACTIVE;
	sk_session_count(s, SK_CCTR_handovers_expired);
	SK_LOG_LIMITED(
		NOTICE,
		"user %s: no re-registration within %u ms of losing media; media of %u call(s) "
		"released, %u held call(s) kept",
		sk_user_aor(u), (unsigned int)((now - u->suspended_at) / SK_NS_PER_MS), n_released,
		n_kept);
}

/*
 * Users looked at per scan (every 20 ms). Reading a user's flows touches
 * memory the workers write, so a scan of 100k users would cost the control
 * core tens of milliseconds: larger populations are covered over several
 * scans (4096 users: every 20 ms; 100k: every 0.5 s), which bounds both the
 * control thread's work per tick and the detection delay.
 */
#define SK_PERSIST_SCAN_BATCH 4096

void sk_persist_scan(struct sk_session *s, sk_time_ns now)
{
	sk_time_ns silence = (sk_time_ns)s->cfg->media_silence_ms * SK_NS_PER_MS;
	uint32_t n;

	for (n = 0; n < SK_PERSIST_SCAN_BATCH && n < s->users_hwm; n++) {
		uint32_t i = s->persist_cursor++ % s->users_hwm;
		struct sk_user *u = &s->users[i];
		struct media_view v;
		sk_time_ns last;

		if (!u->in_use || u->n_dialogs == 0)
			continue;
		look_at_media(s, u, true, now, &v);
		if (v.n_judged == 0) {
			/* Nothing should be sending (calls on hold, ended or released): no loss. */
			if (u->state == SK_USER_SUSPENDED && !sk_arm_settle(s, i)) {
				u->state = SK_USER_ACTIVE;
				SK_LOG_LIMITED(INFO,
					       "user %s: no stream left that should send; active",
					       sk_user_aor(u));
			}
			continue;
		}
		last = v.last;
		if (last == 0)
			continue;
		/* After a handover the new network gets its own media_silence_ms to start. */
		if (last < u->moved_at)
			last = u->moved_at;
		/* A change of state first takes back the user's armed commit (commit_arm.h). */
		if (u->state == SK_USER_ACTIVE && now > last + silence) {
			if (sk_arm_settle(s, i))
				continue;
			u->state = SK_USER_SUSPENDED;
			u->suspended_at = now;
			u->window_end = now + (sk_time_ns)s->cfg->persist_window_ms * SK_NS_PER_MS;
			sk_session_count(s, SK_CCTR_users_suspended);
			SK_LOG_LIMITED(
				NOTICE,
				"user %s: uplink media silent for %u ms, suspended; window %u ms",
				sk_user_aor(u), (unsigned int)((now - last) / SK_NS_PER_MS),
				s->cfg->persist_window_ms);
		} else if (u->state == SK_USER_SUSPENDED) {
			if (last > u->suspended_at) {
				if (sk_arm_settle(s, i))
					continue;
				u->state = SK_USER_ACTIVE;
				sk_session_count(s, SK_CCTR_users_resumed);
				SK_LOG_LIMITED(INFO, "user %s: uplink media back, active",
					       sk_user_aor(u));
			} else if (now > u->window_end && !sk_arm_settle(s, i)) {
				release(s, i, now);
			}
		}
	}
}

/* Every flow of the user's dialogs gets the user's current move (sk_flow_set_move). */
static void flows_follow_user(struct sk_session *s, uint32_t user)
{
	const struct sk_move *mv = s->tw.t.user[user].move;
	unsigned int i, k;
	uint32_t d;

	for (d = s->users[user].first_dialog; d != SK_NO_INDEX; d = s->dialogs[d].next_of_user)
		for (i = 0; i < SK_EV_MAX_MEDIA; i++)
			for (k = 0; k < 2; k++)
				if (s->dialogs[d].flow[i][k] != SK_NO_INDEX)
					sk_flow_set_move(&s->tw, s->dialogs[d].flow[i][k], mv);
}

static unsigned int count_streams(struct sk_session *s, const struct sk_user *u)
{
	unsigned int n = 0, i;
	uint32_t d;

	for (d = u->first_dialog; d != SK_NO_INDEX; d = s->dialogs[d].next_of_user)
		for (i = 0; i < SK_EV_MAX_MEDIA; i++)
			if (s->dialogs[d].flow[i][SK_FLOW_RTP] != SK_NO_INDEX)
				n++;
	return n;
}

void sk_persist_reregistered(struct sk_session *s, uint32_t idx,
			     const struct sk_addr_key *new_contact, uint32_t opts, sk_time_ns now)
{
	/* A worker already published this commit's move (armed, commit_arm.h): it stands. */
	const struct sk_move *fired = sk_arm_adopt(s, idx);
	struct sk_user *u = &s->users[idx];
	char old_a[64], new_a[64];
	struct media_view v;
	struct sk_move mv;
	unsigned int n_streams;
	sk_time_ns last;

	sk_addr_key_str(&u->contact, old_a, sizeof(old_a));
	sk_addr_key_str(new_contact, new_a, sizeof(new_a));
	look_at_media(s, u, false, now, &v);
	last = v.last;
	if (fired != NULL) {
		u->move_generation = fired->generation;
		goto moved;
	}
	if (v.n_flows == 0 && v.n_released > 0) {
		/* The window ran out: those calls' media was released and stays so. */
		sk_session_count(s, SK_CCTR_handovers_refused_window);
		SK_LOG_LIMITED(
			NOTICE,
			"user %s: re-registered from %s after the persistence window: media not "
			"moved",
			sk_user_aor(u), new_a);
		return;
	}
	if (v.n_flows == 0) {
		/* No call to keep: the registration simply moves. */
		SK_LOG_LIMITED(INFO, "user %s: re-registered from %s (was %s), no active media",
			       sk_user_aor(u), new_a, old_a);
		return;
	}
	if (!(opts & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST))) {
		sk_session_count(s, SK_CCTR_handovers_refused_no_persist);
		SK_LOG_LIMITED(
			NOTICE,
			"user %s: re-registered from %s (was %s) without X-cisco-sessionpersist: "
			"media not moved",
			sk_user_aor(u), new_a, old_a);
		return;
	}
	if (u->state == SK_USER_SUSPENDED && now > u->window_end) {
		sk_session_count(s, SK_CCTR_handovers_refused_window);
		SK_LOG_LIMITED(NOTICE,
			       "user %s: re-registered from %s after the persistence window: media "
			       "not moved",
			       sk_user_aor(u), new_a);
		return;
	}
	memset(&mv, 0, sizeof(mv));
	mv.family = new_contact->family;
	memcpy(mv.addr, new_contact->addr, 16);
	mv.sip_port = new_contact->port;
	mv.contact_port = u->move_contact_port; /* the new Contact's port on that IP */
	mv.generation = ++u->move_generation;
	if (sk_user_set_move(&s->tw, idx, &mv) < 0) {
		SK_LOG_LIMITED(ERR, "user %s: no free handover record; media not moved",
			       sk_user_aor(u));
		return;
	}
	flows_follow_user(s, idx);
moved:
	n_streams = count_streams(s, u);
	/* The epoch of docs/REDIS.md is the move generation; the caller writes the user. */
	u->state = SK_USER_ACTIVE;
	u->moved_at = now;
	u->n_handovers++;
	sk_session_count(s, SK_CCTR_handovers_committed);
	SK_LOG_LIMITED(NOTICE,
		       "user %s: handover committed: %s -> %s, %u stream(s) moved, %" PRIu64
		       " ms after the last uplink media",
		       sk_user_aor(u), old_a, new_a, n_streams,
		       last && now > last ? (uint64_t)((now - last) / SK_NS_PER_MS) : 0);
}

void sk_persist_apply_move(struct sk_session *s, uint32_t idx, const struct sk_move *mv,
			   sk_time_ns now)
{
	struct sk_user *u = &s->users[idx];

	sk_arm_settle(s, idx);
	if (sk_user_set_move(&s->tw, idx, mv) < 0) {
		SK_LOG_LIMITED(ERR, "user %s: no free handover record; media not moved",
			       sk_user_aor(u));
		return;
	}
	flows_follow_user(s, idx);
	u->move_generation = mv->generation;
	u->state = SK_USER_ACTIVE;
	u->moved_at = now;
	u->n_handovers++;
}

bool sk_persist_would_move(struct sk_session *s, uint32_t idx, uint32_t opts, sk_time_ns now,
			   sk_time_ns *not_after)
{
	const struct sk_user *u = &s->users[idx];
	struct media_view v;

	/* sk_persist_reregistered's rules, for a 2xx that would come before *NOT_AFTER. */
	look_at_media(s, &s->users[idx], false, now, &v);
	if (v.n_flows == 0 || !(opts & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST)))
		return false;
	if (u->state == SK_USER_SUSPENDED) {
		if (now > u->window_end)
			return false;
		if (u->window_end < *not_after)
			*not_after = u->window_end;
	}
	return true;
}

unsigned int sk_persist_user_flows(struct sk_session *s, uint32_t user, uint32_t *out,
				   unsigned int max)
{
	unsigned int i, k, n = 0;
	uint32_t d;

	for (d = s->users[user].first_dialog; d != SK_NO_INDEX; d = s->dialogs[d].next_of_user)
		for (i = 0; i < SK_EV_MAX_MEDIA; i++)
			for (k = 0; k < 2; k++) {
				if (s->dialogs[d].flow[i][k] == SK_NO_INDEX)
					continue;
				if (n == max)
					return max + 1;
				out[n++] = s->dialogs[d].flow[i][k];
			}
	return n;
}
