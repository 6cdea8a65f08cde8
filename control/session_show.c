/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Users and calls as JSON for the control socket, and `flush user`. Control
 * thread only: these read and change the session state that thread owns.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "json_writer.h"
#include "session.h"
#include "sip_parse.h"
#include "sk_log.h"

static const char *const user_state_names[] = {
	[SK_USER_ACTIVE] = "active",
	[SK_USER_SUSPENDED] = "suspended",
};

static const char *const dialog_state_names[] = {
	[SK_DIALOG_EARLY] = "early",
	[SK_DIALOG_CONFIRMED] = "confirmed",
	[SK_DIALOG_ENDING] = "ending",
};

static uint64_t ms_between(sk_time_ns from, sk_time_ns to)
{
	return to > from ? (to - from) / SK_NS_PER_MS : 0;
}

static void json_addr(struct sk_json *j, const char *key, const struct sk_addr_key *k)
{
	char buf[64];

	sk_json_str(j, key, sk_addr_key_str(k, buf, sizeof(buf)));
}

static void json_opts(struct sk_json *j, uint32_t opts)
{
	int o;

	sk_json_arr_begin(j, "options");
	for (o = 0; o < SK_OPT_KNOWN_COUNT; o++)
		if (opts & SK_OPT_BIT(o))
			sk_json_str(j, NULL, sk_sip_opt_str((enum sk_sip_opt)o));
	sk_json_arr_end(j);
}

static void json_user(struct sk_session *s, struct sk_json *j, uint32_t idx, sk_time_ns now)
{
	const struct sk_user *u = &s->users[idx];
	const struct sk_move *mv = s->tw.t.user[idx].move;
	unsigned int i;

	sk_json_obj_begin(j, NULL);
	sk_json_str(j, "aor", sk_user_aor(u));
	sk_json_str(j, "instance", sk_user_instance(u));
	/* Without an instance, the device is told apart by its REGISTER Call-ID. */
	if (sk_user_instance(u)[0] == '\0')
		sk_json_str(j, "call_id", sk_user_call_id(u));
	sk_json_bool(j, "registered", u->registered);
	sk_json_str(j, "state", user_state_names[u->state]);
	if (u->registered) {
		json_addr(j, "contact", &u->contact);
		sk_json_str(j, "transport", sk_transport_name(u->transport));
		sk_json_str(j, "source", u->hep ? "hep" : "wire");
		sk_json_str(j, "contact_uri", sk_user_contact_uri(u));
		sk_json_u64(j, "expires_in_s", ms_between(now, u->expires_at) / 1000);
		json_opts(j, u->opts);
		sk_json_bool(j, "sessionpersist",
			     (u->opts & SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST)) != 0);
		sk_json_bool(j, "callinfo", (u->opts & SK_OPT_BIT(SK_OPT_X_CISCO_CALLINFO)) != 0);
	}
	if (u->state == SK_USER_SUSPENDED) {
		sk_json_u64(j, "suspended_for_ms", ms_between(u->suspended_at, now));
		sk_json_u64(j, "window_left_ms", ms_between(now, u->window_end));
	}
	sk_json_u64(j, "handovers", u->n_handovers);
	if (mv != NULL) {
		struct sk_addr_key k;

		sk_addr_key_set(&k, mv->family, mv->addr, mv->sip_port);
		json_addr(j, "moved_to", &k);
		sk_json_u64(j, "moved_ms_ago", ms_between(u->moved_at, now));
	}
	sk_json_arr_begin(j, "signalling_addresses");
	for (i = 0; i < u->n_contacts; i++)
		json_addr(j, NULL, &sk_user_contacts(u)[i]);
	sk_json_arr_end(j);
	sk_json_u64(j, "dialogs", u->n_dialogs);
	sk_json_obj_end(j);
}

int sk_session_json_users(struct sk_session *s, struct sk_json *j, uint32_t limit, sk_time_ns now)
{
	uint32_t i, n = 0;

	sk_json_u64(j, "users_active", s->users_in_use);
	sk_json_arr_begin(j, "users");
	for (i = 0; i < s->users_hwm && n < limit; i++) {
		if (!s->users[i].in_use)
			continue;
		json_user(s, j, i, now);
		n++;
	}
	sk_json_arr_end(j);
	sk_json_bool(j, "truncated", n < s->users_in_use);
	return 0;
}

int sk_session_json_user(struct sk_session *s, struct sk_json *j, const char *aor, sk_time_ns now)
{
	uint32_t i, n = 0;

	/* One AOR may be registered by several devices (instances, Call-IDs): show them all. */
	sk_json_arr_begin(j, "users");
	for (i = 0; i < s->users_hwm; i++) {
		if (!s->users[i].in_use || strcmp(sk_user_aor(&s->users[i]), aor) != 0)
			continue;
		json_user(s, j, i, now);
		n++;
	}
	sk_json_arr_end(j);
	return n > 0 ? 0 : -1;
}

static void json_flow(struct sk_session *s, struct sk_json *j, uint32_t f, const char *kind,
		      sk_time_ns now)
{
	const struct sk_flow *fl = &s->tw.t.flow[f];
	const struct sk_move *mv = s->tw.t.user[fl->user].move;
	uint32_t latch = __atomic_load_n(&fl->latch, __ATOMIC_RELAXED);
	sk_time_ns last = __atomic_load_n(&fl->last_uplink_ns, __ATOMIC_RELAXED);

	sk_json_obj_begin(j, kind);
	json_addr(j, "access", &fl->access);
	json_addr(j, "core", &fl->core);
	if (mv != NULL && sk_latch_is_for(latch, mv->generation)) {
		sk_json_u64(j, "latched_port", rte_be_to_cpu_16(SK_LATCH_PORT(latch)));
		sk_json_bool(j, "latch_confirmed", (latch & SK_LATCH_CONFIRMED) != 0);
	}
	sk_json_u64(j, "uplink_ssrc", __atomic_load_n(&fl->last_ssrc, __ATOMIC_RELAXED));
	sk_json_u64(j, "known_ssrc", __atomic_load_n(&fl->known_ssrc, __ATOMIC_RELAXED));
	if (last != 0)
		sk_json_u64(j, "uplink_silent_ms", ms_between(last, now));
	else
		sk_json_null(j, "uplink_silent_ms");
	sk_json_obj_end(j);
}

int sk_session_json_calls(struct sk_session *s, struct sk_json *j, uint32_t limit, sk_time_ns now)
{
	uint32_t d, n = 0;
	unsigned int i;

	sk_json_u64(j, "dialogs_active", s->dialogs_in_use);
	sk_json_u64(j, "streams_active", s->tw.flows_published);
	sk_json_arr_begin(j, "calls");
	for (d = 0; d < s->dialogs_hwm && n < limit; d++) {
		const struct sk_dialog *dg = &s->dialogs[d];

		if (!dg->in_use)
			continue;
		n++;
		sk_json_obj_begin(j, NULL);
		sk_json_str(j, "call_id", sk_dialog_call_id(dg));
		sk_json_str(j, "caller_tag", sk_dialog_tag(dg));
		sk_json_str(j, "callee_tag", sk_dialog_remote_tag(dg));
		sk_json_str(j, "user", sk_user_aor(&s->users[dg->user]));
		sk_json_str(j, "caller", sk_side_name((enum sk_side)dg->caller_side));
		sk_json_str(j, "state", dialog_state_names[dg->state]);
		sk_json_bool(j, "media_released", dg->media_released);
		sk_json_u64(j, "age_ms", ms_between(dg->created_at, now));
		sk_json_arr_begin(j, "streams");
		for (i = 0; i < SK_EV_MAX_MEDIA; i++) {
			if (dg->flow[i][SK_FLOW_RTP] == SK_NO_INDEX)
				continue;
			sk_json_obj_begin(j, NULL);
			sk_json_u64(j, "m_line", i);
			json_flow(s, j, dg->flow[i][SK_FLOW_RTP], "rtp", now);
			if (dg->flow[i][SK_FLOW_RTCP] != SK_NO_INDEX)
				json_flow(s, j, dg->flow[i][SK_FLOW_RTCP], "rtcp", now);
			else
				sk_json_str(j, "rtcp", "rtcp-mux");
			sk_json_obj_end(j);
		}
		sk_json_arr_end(j);
		sk_json_obj_end(j);
	}
	sk_json_arr_end(j);
	sk_json_bool(j, "truncated", n < s->dialogs_in_use);
	return 0;
}

int sk_session_flush_user(struct sk_session *s, const char *aor)
{
	uint32_t i, n = 0;

	for (i = 0; i < s->users_hwm; i++) {
		struct sk_user *u = &s->users[i];

		if (!u->in_use || strcmp(sk_user_aor(u), aor) != 0)
			continue;
		while (u->first_dialog != SK_NO_INDEX)
			sk_dialog_free(s, u->first_dialog);
		if (u->in_use)
			sk_user_unregister(s, i);
		n++;
	}
	if (n > 0)
		SK_LOG(NOTICE, "user %s: flushed by the operator (%u instance(s))", aor, n);
	return (int)n;
}
