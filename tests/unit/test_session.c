/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session logic without workers or frames: SIP events (sk_events.h) go on
 * the session's ring as a worker would post them, sk_session_tick() applies
 * them, and the checks read the session and the tables the workers would
 * read (sk_tables.h). Registration commits, dialogs and their published
 * flows, the linger, a handover, a planted REGISTER.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "eal_fixture.h"
#include "session.h"
#include "sdp_parse.h"
#include "sip_parse.h"
#include "sk_config.h"
#include "sk_tables.h"
#include "sk_test.h"

#define SEC (1000 * SK_NS_PER_MS)
#define LINGER_MS 2000

static const uint8_t LTE[4] = {10, 1, 0, 5};
static const uint8_t WIFI[4] = {10, 2, 0, 7};
static const uint8_t ATTACKER[4] = {10, 66, 0, 9};
static const uint8_t REGISTRAR[4] = {192, 0, 2, 10};
static const uint8_t MEDIA[4] = {192, 0, 2, 20};

static struct sk_session sess;
static struct sk_config cfg;

/* A zeroed event from the pool, with what every message has. */
static struct sk_sip_event *event(sk_time_ns ts, enum sk_side side, const uint8_t *src,
				  uint16_t sport, const uint8_t *dst, uint16_t dport,
				  const char *call_id, uint32_t cseq, uint8_t cseq_method)
{
	struct sk_sip_event *ev;

	if (rte_mempool_get(sess.event_pool, (void **)&ev) != 0)
		return NULL;
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	ev->side = side;
	ev->family = 4;
	memcpy(ev->src, src, 4);
	memcpy(ev->dst, dst, 4);
	ev->sport = rte_cpu_to_be_16(sport);
	ev->dport = rte_cpu_to_be_16(dport);
	snprintf(ev->call_id, sizeof(ev->call_id), "%s", call_id);
	ev->cseq = cseq;
	ev->cseq_method = cseq_method;
	return ev;
}

static void post(struct sk_sip_event *ev)
{
	SK_CHECK(ev != NULL && rte_ring_enqueue(sess.events, ev) == 0, "event posted");
}

/* REGISTER from PHONE:SPORT for alice (one Contact on that address), Call-ID reg-alice. */
static void register_req(sk_time_ns ts, const uint8_t *phone, uint16_t sport, uint32_t cseq,
			 uint32_t opts)
{
	struct sk_sip_event *ev = event(ts, SK_SIDE_ACCESS, phone, sport, REGISTRAR, 5060,
					"reg-alice", cseq, SK_SIP_REGISTER);

	if (ev == NULL) {
		post(ev);
		return;
	}
	ev->is_request = 1;
	ev->method = SK_SIP_REGISTER;
	ev->opts = opts;
	ev->reply_port = ev->sport;
	snprintf(ev->aor, sizeof(ev->aor), "alice@example.com");
	snprintf(ev->contact, sizeof(ev->contact), "sip:alice@%u.%u.%u.%u:%u", phone[0], phone[1],
		 phone[2], phone[3], sport);
	ev->n_contacts = 1;
	ev->contacts[0].uri_hash = 0x1234 + phone[1];
	ev->contacts[0].expires = 3600;
	ev->contacts[0].has_expires = 1;
	ev->contacts[0].family = 4;
	ev->contacts[0].port = ev->sport;
	memcpy(ev->contacts[0].addr, phone, 4);
	post(ev);
}

/* The registrar's answer to CSEQ, sent to PHONE:DPORT. */
static void register_resp(sk_time_ns ts, const uint8_t *phone, uint16_t dport, uint32_t cseq,
			  uint16_t status)
{
	struct sk_sip_event *ev = event(ts, SK_SIDE_CORE, REGISTRAR, 5060, phone, dport,
					"reg-alice", cseq, SK_SIP_REGISTER);

	if (ev == NULL) {
		post(ev);
		return;
	}
	ev->status = status;
	snprintf(ev->aor, sizeof(ev->aor), "alice@example.com");
	post(ev);
}

static void sdp(struct sk_sip_event *ev, const uint8_t *addr, uint16_t port)
{
	ev->has_sdp = 1;
	ev->n_media = 1;
	ev->media[0].family = 4;
	ev->media[0].port = port;
	ev->media[0].rtcp_port = port + 1;
	ev->media[0].dir = SK_SDP_SENDRECV;
	memcpy(ev->media[0].addr, addr, 4);
}

/* In-dialog message of call-1 (From tag a1, To tag b1 once answered). */
static struct sk_sip_event *call_msg(sk_time_ns ts, bool from_phone, const uint8_t *phone,
				     uint16_t phone_port, uint32_t cseq, uint8_t cseq_method)
{
	struct sk_sip_event *ev = from_phone ? event(ts, SK_SIDE_ACCESS, phone, phone_port,
						     REGISTRAR, 5060, "call-1", cseq, cseq_method)
					     : event(ts, SK_SIDE_CORE, REGISTRAR, 5060, phone,
						     phone_port, "call-1", cseq, cseq_method);

	if (ev != NULL)
		snprintf(ev->from_tag, sizeof(ev->from_tag), "a1");
	return ev;
}

static uint32_t flow_at(const uint8_t *addr, uint16_t port)
{
	struct sk_addr_key k;

	sk_addr_key_set(&k, 4, addr, rte_cpu_to_be_16(port));
	return sk_flow_by_access(&sess.tw.t, &k);
}

static uint32_t user_at(const uint8_t *addr, uint16_t port)
{
	struct sk_addr_key k;

	sk_addr_key_set(&k, 4, addr, rte_cpu_to_be_16(port));
	return sk_user_find_by_contact(&sess, &k);
}

static void registration(void)
{
	register_req(1 * SEC, LTE, 5060, 1, SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST));
	register_resp(1 * SEC + 50 * SK_NS_PER_MS, LTE, 5060, 1, 401);
	sk_session_tick(&sess, 1 * SEC + 60 * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.users_in_use, 0, "a 401 commits no user");
	SK_CHECK_EQ(sess.ctr[SK_CCTR_registrations_rejected], 1, "the 401 is counted");

	register_req(2 * SEC, LTE, 5060, 2, SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST));
	register_resp(2 * SEC + 50 * SK_NS_PER_MS, LTE, 5060, 2, 200);
	sk_session_tick(&sess, 2 * SEC + 60 * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.users_in_use, 1, "REGISTER + 200 commits the user");
	SK_CHECK_EQ(sess.ctr[SK_CCTR_registrations_committed], 1, "one registration committed");
	SK_CHECK(user_at(LTE, 5060) != SK_NO_INDEX, "the user is found at its contact address");
}

static void call_and_handover(void)
{
	struct sk_sip_event *ev;
	uint32_t user, f_rtp, f_rtcp;
	const struct sk_move *mv;

	ev = call_msg(3 * SEC, true, LTE, 5060, 1, SK_SIP_INVITE);
	if (ev != NULL) {
		ev->is_request = 1;
		ev->method = SK_SIP_INVITE;
		sdp(ev, LTE, 4000);
	}
	post(ev);
	ev = call_msg(3 * SEC + 100 * SK_NS_PER_MS, false, LTE, 5060, 1, SK_SIP_INVITE);
	if (ev != NULL) {
		ev->status = 200;
		snprintf(ev->to_tag, sizeof(ev->to_tag), "b1");
		sdp(ev, MEDIA, 20000);
	}
	post(ev);
	ev = call_msg(3 * SEC + 120 * SK_NS_PER_MS, true, LTE, 5060, 1, SK_SIP_ACK);
	if (ev != NULL) {
		ev->is_request = 1;
		ev->method = SK_SIP_ACK;
		snprintf(ev->to_tag, sizeof(ev->to_tag), "b1");
	}
	post(ev);
	sk_session_tick(&sess, 3 * SEC + 200 * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.dialogs_in_use, 1, "INVITE / 200 / ACK from the user creates a dialog");
	f_rtp = flow_at(LTE, 4000);
	f_rtcp = flow_at(LTE, 4001);
	SK_CHECK(f_rtp != SK_NO_INDEX && f_rtcp != SK_NO_INDEX,
		 "RTP and RTCP flows published under the phone's media address");

	/* Re-REGISTER from Wi-Fi, with sessionpersist, during the call. */
	user = user_at(LTE, 5060);
	register_req(4 * SEC, WIFI, 5062, 3, SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST));
	register_resp(4 * SEC + 50 * SK_NS_PER_MS, WIFI, 5062, 3, 200);
	sk_session_tick(&sess, 4 * SEC + 60 * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.ctr[SK_CCTR_handovers_committed], 1, "the re-REGISTER commits a handover");
	SK_CHECK(user != SK_NO_INDEX && user_at(WIFI, 5062) == user,
		 "the same user is now at the new address");
	mv = user != SK_NO_INDEX ? __atomic_load_n(&sess.tw.t.user[user].move, __ATOMIC_ACQUIRE)
				 : NULL;
	SK_CHECK(mv != NULL && mv->family == 4 && memcmp(mv->addr, WIFI, 4) == 0 &&
			 mv->sip_port == rte_cpu_to_be_16(5062),
		 "the user's move record names the new address");
	SK_CHECK(flow_at(LTE, 4000) != SK_NO_INDEX, "the call's flows stay under the old address");

	/* BYE from the new address; the dialog lingers, then goes with its flows. */
	ev = event(10 * SEC, SK_SIDE_ACCESS, WIFI, 5062, REGISTRAR, 5060, "call-1", 2, SK_SIP_BYE);
	if (ev != NULL) {
		ev->is_request = 1;
		ev->method = SK_SIP_BYE;
		snprintf(ev->from_tag, sizeof(ev->from_tag), "a1");
		snprintf(ev->to_tag, sizeof(ev->to_tag), "b1");
	}
	post(ev);
	sk_session_tick(&sess, 10 * SEC + 100 * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.dialogs_in_use, 1, "after the BYE the dialog lingers");
	sk_session_tick(&sess, 10 * SEC + (LINGER_MS + 100) * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.dialogs_in_use, 0, "the linger over, the dialog is freed");
	SK_CHECK(flow_at(LTE, 4000) == SK_NO_INDEX && flow_at(LTE, 4001) == SK_NO_INDEX,
		 "its flows are no longer published");
}

static void planted_register(void)
{
	uint64_t committed = sess.ctr[SK_CCTR_registrations_committed];
	uint32_t users = sess.users_in_use;
	struct sk_sip_event *ev;

	/*
	 * Another host sends alice's REGISTER (same Call-ID and CSeq as her
	 * next one); the registrar's 200 goes to alice: it answers her
	 * transaction, not the planted one.
	 */
	ev = event(20 * SEC, SK_SIDE_ACCESS, ATTACKER, 5060, REGISTRAR, 5060, "reg-alice", 4,
		   SK_SIP_REGISTER);
	if (ev != NULL) {
		ev->is_request = 1;
		ev->method = SK_SIP_REGISTER;
		ev->opts = SK_OPT_BIT(SK_OPT_X_CISCO_SESSIONPERSIST);
		ev->reply_port = ev->sport;
		snprintf(ev->aor, sizeof(ev->aor), "alice@example.com");
		ev->n_contacts = 1;
		ev->contacts[0].uri_hash = 0x6666;
		ev->contacts[0].expires = 3600;
		ev->contacts[0].has_expires = 1;
	}
	post(ev);
	register_resp(20 * SEC + 50 * SK_NS_PER_MS, WIFI, 5062, 4, 200);
	sk_session_tick(&sess, 20 * SEC + 60 * SK_NS_PER_MS);
	SK_CHECK_EQ(sess.ctr[SK_CCTR_registrations_committed], committed,
		    "a 200 to the user's address commits no REGISTER sent from elsewhere");
	SK_CHECK_EQ(sess.ctr[SK_CCTR_registrations_stale_response], 1,
		    "it is counted as an answer to nothing pending");
	SK_CHECK_EQ(sess.users_in_use, users, "no user created");
	SK_CHECK(user_at(ATTACKER, 5060) == SK_NO_INDEX,
		 "the other source is no contact of anyone");
	SK_CHECK(user_at(WIFI, 5062) != SK_NO_INDEX, "the user stays where it registered");
}

int main(int argc, char **argv)
{
	(void)argc;
	if (sk_test_eal_start(argv[0], "session") < 0)
		return 1;
	sk_config_defaults(&cfg);
	cfg.max_users = 64;
	cfg.max_pending_registers = 64;
	cfg.max_pending_per_source = 16;
	cfg.max_dialogs = 64;
	cfg.max_streams = 256;
	cfg.dialog_linger_ms = LINGER_MS;
	if (sk_session_create(&sess, &cfg, 1) < 0) {
		SK_CHECK(false, "sk_session_create");
		sk_test_eal_stop();
		return sk_test_done();
	}
	SK_RUN(registration, "REGISTER + 200 commits a user, a 401 does not");
	SK_RUN(call_and_handover, "a call's dialog and flows, a handover, BYE and linger");
	SK_RUN(planted_register, "a REGISTER from another source never commits");
	sk_session_destroy(&sess);
	sk_test_eal_stop();
	return sk_test_done();
}
