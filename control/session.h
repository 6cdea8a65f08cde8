/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session state of the control thread: registered users, pending REGISTER
 * transactions, dialogs and their media. Built from the SIP events workers
 * post; published to workers through tables.h. docs/OVERVIEW.md section 1, docs/PERSISTENCY.md.
 *
 * Files: session.c (users, registrations, event dispatch), dialogs.c (dialogs
 * and media flows from SDP offer/answer), persist.c (loss detection, windows,
 * handover).
 */
#ifndef SK_SESSION_H
#define SK_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "sk_config.h"
#include "sk_counters.h"
#include "sk_events.h"
#include "tables.h"

/* RFC 3261 10.2.1: a REGISTER without any expiry asks for the registrar's default. */
#define SK_DEFAULT_EXPIRES_S 3600
/* An INVITE left without a final answer this long is dropped (Timer C is > 3 min). */
#define SK_EARLY_DIALOG_TIMEOUT_NS (180ULL * 1000 * SK_NS_PER_MS)
/* Bindings (Contacts with their own expiry) a user keeps; see struct sk_binding. */
#define SK_USER_MAX_BINDINGS 4

/*
 * No "released" state: a window that runs out releases the media of the calls
 * it judged (struct sk_dialog media_released) and the user is active again, so
 * that its later calls start afresh (persist.c).
 */
enum sk_user_state {
	SK_USER_ACTIVE = 0,
	SK_USER_SUSPENDED, /* uplink silent: the persistence window runs */
};

/*
 * A user is one device registering an AOR: the AOR and its +sip.instance,
 * or, without an instance, the AOR and the REGISTER's Call-ID (RFC 3261
 * 10.2: a UA keeps one Call-ID toward a registrar), so that two devices
 * sharing a line without instances are two users.
 * Hash keys are read a word at a time: keep them aligned wherever they sit.
 */
struct sk_user_key {
	char aor[SK_EV_AOR_MAX];
	char instance[SK_EV_INSTANCE_MAX];
	char call_id[SK_EV_CALL_ID_MAX]; /* empty when instance is set */
} __rte_aligned(8);

/* One Contact of the device's registration, named by its URI, with its own expiry. */
struct sk_binding {
	uint64_t uri_hash;
	sk_time_ns expires_at;
};

/* One message applied lately (sk_session_dedup): its key, when, and whether from the mirror. */
struct sk_dedup_slot {
	uint64_t key;
	sk_time_ns at;
	bool hep;
};

/*
 * The text of a record (a user's AOR, instance, Call-ID and Contact URI; a
 * dialog's Call-ID and tags) lives on the control thread's heap at its own
 * length, in one block per record: the strings one after another, each
 * ending with its NUL. sk_rec_str(block, i) is the i-th ("" without a block).
 * Only the control thread allocates them (workers never read them); *BYTES
 * keeps the blocks' usable size, which `show tables` counts.
 */
const char *sk_rec_str(const char *block, unsigned int i);
/* Replace *BLOCK by one of the N strings S of lengths L. -1 (the old one kept) without memory. */
int sk_rec_set(char **block, uint64_t *bytes, const char *const *s, const size_t *l,
	       unsigned int n);
void sk_rec_free(char **block, uint64_t *bytes);
/* Add (SIGN 1) or take (-1) the usable size of heap block P to or from *BYTES. */
void sk_heap_count(uint64_t *bytes, const void *p, int sign);

/*
 * A hash index of records by their text, for the control thread only:
 * chains of record numbers (head per hash bucket, next per record), the
 * record itself compared on lookup, so that nothing but two words per
 * record is kept. The hash is seeded at random per process.
 */
struct sk_rec_index {
	uint32_t *head; /* mask + 1 chains */
	uint32_t *next; /* one per record */
	uint32_t mask;
	uint32_t seed;
};

int sk_rec_index_create(struct sk_rec_index *x, uint32_t n_records);
void sk_rec_index_destroy(struct sk_rec_index *x);
/* Memory of an index of N_RECORDS (for show tables). */
uint64_t sk_rec_index_bytes(uint32_t n_records);
/* The hash of the N strings S (lengths L) that names a bucket. */
uint32_t sk_rec_hash(const struct sk_rec_index *x, const char *const *s, const size_t *l,
		     unsigned int n);
void sk_rec_index_add(struct sk_rec_index *x, uint32_t hash, uint32_t rec);
void sk_rec_index_del(struct sk_rec_index *x, uint32_t hash, uint32_t rec);
static inline uint32_t sk_rec_index_first(const struct sk_rec_index *x, uint32_t hash)
{
	return x->head[hash & x->mask];
}
static inline uint32_t sk_rec_index_next(const struct sk_rec_index *x, uint32_t rec)
{
	return x->next[rec];
}

/* The strings of a user's block (struct sk_user str), in this order. */
enum sk_user_str {
	SK_USER_AOR = 0,
	SK_USER_INSTANCE,
	SK_USER_CALL_ID, /* empty when the instance is set */
	SK_USER_CONTACT_URI,
	SK_USER_N_STR,
};

struct sk_user {
	bool in_use;
	bool registered;
	uint8_t state; /* enum sk_user_state */
	uint8_t n_contacts;
	uint8_t transport; /* enum sk_transport of the committed REGISTER */
	uint8_t hep;	   /* 1: that REGISTER was learned from the HEP mirror */
	uint8_t n_bindings;
	/* For sk_persist_reregistered: the new Contact's port on the new IP (network order). */
	uint16_t move_contact_port;
	uint32_t opts;
	/* AOR, instance, Call-ID (the key), Contact URI of the committed REGISTER: sk_user_aor()...
	 */
	char *str;
	/*
	 * On the heap, n_contacts signalling addresses in the contact table
	 * (sources and Contact addresses, at most SK_USER_MAX_CONTACTS), then
	 * n_bindings bindings (at most SK_USER_MAX_BINDINGS): sk_user_contacts(),
	 * sk_user_bindings(); NULL when both are none. session.c edits them.
	 */
	void *sets;
	struct sk_addr_key contact; /* where the committed REGISTER came from */
	sk_time_ns registered_at;
	sk_time_ns expires_at;
	sk_time_ns suspended_at;
	sk_time_ns window_end;
	sk_time_ns moved_at;
	uint32_t move_generation;
	uint32_t n_handovers;
	uint32_t first_dialog; /* dialog list of this user */
	uint32_t n_dialogs;
	/* Dialogs without a 2xx (ringing, or failed and lingering): max_early_dialogs_per_user. */
	uint32_t n_unanswered;
};

static inline const struct sk_addr_key *sk_user_contacts(const struct sk_user *u)
{
	return (const struct sk_addr_key *)u->sets;
}
static inline const struct sk_binding *sk_user_bindings(const struct sk_user *u)
{
	return (const struct sk_binding *)((const char *)u->sets +
					   sizeof(struct sk_addr_key) * u->n_contacts);
}
static inline const char *sk_user_aor(const struct sk_user *u)
{
	return sk_rec_str(u->str, SK_USER_AOR);
}
static inline const char *sk_user_instance(const struct sk_user *u)
{
	return sk_rec_str(u->str, SK_USER_INSTANCE);
}
static inline const char *sk_user_call_id(const struct sk_user *u)
{
	return sk_rec_str(u->str, SK_USER_CALL_ID);
}
static inline const char *sk_user_contact_uri(const struct sk_user *u)
{
	return sk_rec_str(u->str, SK_USER_CONTACT_URI);
}

/*
 * A REGISTER transaction is keyed by its Call-ID, CSeq, user (the To AOR)
 * and the address its answer must go to (the source IP; the source port with
 * rport, else the top Via's port): a 2xx commits only the REGISTER whose
 * source it is addressed to, never another host's with the same Call-ID and
 * CSeq.
 */
struct sk_pending_key {
	char call_id[SK_EV_CALL_ID_MAX];
	char aor[SK_EV_AOR_MAX];
	struct sk_addr_key reply;
	uint32_t cseq;
	uint32_t pad; /* zero */
} __rte_aligned(8);

/* Pending REGISTERs are counted per source IP (family and address; port zero). */
struct sk_source_key {
	struct sk_addr_key ip;
};

struct sk_pending {
	bool in_use;
	bool contact_star;
	bool conflicting; /* the same key came from a second source port */
	uint8_t n_contacts;
	uint8_t transport; /* enum sk_transport */
	uint8_t hep;	   /* 1: learned from the HEP mirror */
	struct sk_pending_key key;
	struct sk_user_key user;
	struct sk_addr_key src;
	char contact_uri[SK_EV_CONTACT_MAX];
	struct sk_ev_contact contacts[SK_EV_MAX_CONTACTS];
	uint32_t opts;
	sk_time_ns seen_at;
	uint32_t older, newer; /* the timeout list, oldest first */
};

enum sk_dialog_state {
	SK_DIALOG_EARLY = 0,
	SK_DIALOG_CONFIRMED,
	SK_DIALOG_ENDING, /* lingers for retransmissions until end_at */
};

/* The strings of a dialog's block (struct sk_dialog str), in this order. */
enum sk_dialog_str {
	SK_DIALOG_CALL_ID = 0,
	SK_DIALOG_TAG,	      /* From tag of the initial INVITE: with the Call-ID, the key */
	SK_DIALOG_REMOTE_TAG, /* To tag of its first answer with one */
	SK_DIALOG_N_STR,
};

/* The latest SDP of one side: what events and Redis values carry. */
struct sk_dialog_sdp {
	uint8_t n_media;
	struct sk_ev_media media[SK_EV_MAX_MEDIA];
};

/*
 * A dialog keeps its SDPs on the heap, the m= lines each side declared and
 * no more: n[side] lines of side 0, then those of side 1 (dialogs.c
 * sk_dialog_sdp_get/set).
 */
struct sk_dialog_media {
	uint8_t n[SK_SIDE_COUNT];
	struct sk_ev_media m[];
};

struct sk_dialog {
	bool in_use;
	uint8_t state;	     /* enum sk_dialog_state */
	uint8_t caller_side; /* enum sk_side that sent the initial INVITE */
	bool unanswered;     /* counted in its user's n_unanswered (no 2xx yet) */
	/*
	 * Media line i's access address:port (RTP and RTCP) is claimed by this
	 * dialog in the session's claim index (bit i of claimed), or was refused
	 * because another user's live dialog had declared it first (claim_refused).
	 */
	uint8_t claimed;
	uint8_t claim_refused;
	/* persist.c: loss detection of this call's streams. */
	bool media_released;  /* its media was released when a persistence window ran out */
	uint8_t sending_mask; /* m-lines the SDP let the access end send on, at the last scan */
	bool synced;	      /* written to Redis (state_sync.c): deleted there when it ends */
	uint32_t user;
	uint32_t invite_cseq;
	char *str;		       /* Call-ID, tag, remote tag: sk_dialog_call_id()... */
	struct sk_dialog_media *media; /* latest SDP from each side; NULL before any */
	sk_time_ns created_at;
	sk_time_ns end_at;
	sk_time_ns sending_since;	   /* when an m-line last started to send */
	uint32_t flow[SK_EV_MAX_MEDIA][2]; /* [media][rtp, rtcp] flow index */
	uint32_t next_of_user, prev_of_user;
	/* On the session's list of dialogs with a deadline (early or ending). */
	uint32_t next_timed, prev_timed;
};

static inline const char *sk_dialog_call_id(const struct sk_dialog *dg)
{
	return sk_rec_str(dg->str, SK_DIALOG_CALL_ID);
}
static inline const char *sk_dialog_tag(const struct sk_dialog *dg)
{
	return sk_rec_str(dg->str, SK_DIALOG_TAG);
}
static inline const char *sk_dialog_remote_tag(const struct sk_dialog *dg)
{
	return sk_rec_str(dg->str, SK_DIALOG_REMOTE_TAG);
}

/* Dialog D's latest SDP of SIDE (no m= line before any), into OUT. */
void sk_dialog_sdp_get(const struct sk_dialog *dg, unsigned int side, struct sk_dialog_sdp *out);

/*
 * The claim index: chains of claims (one access media address each, with
 * the user whose live dialogs declared it and how many of their lines do),
 * a slot per flow there can be (2 x max_streams). dialogs.c.
 */
struct sk_claim {
	uint8_t addr[16];
	uint16_t port; /* network order */
	uint8_t family;
	uint8_t pad;
	uint32_t user;
	uint32_t count; /* lines of the user's live dialogs that declare it */
	uint32_t next;	/* the chain; the free list for a free slot */
};

struct sk_claims {
	struct sk_claim *slot;
	uint32_t *head; /* mask + 1 chains */
	uint32_t n;	/* slots */
	uint32_t mask;
	uint32_t free; /* first free slot */
	uint32_t seed;
};

struct sk_session {
	const struct sk_config *cfg;
	struct sk_tables_writer tw;
	struct sk_user *users; /* max_users, same index as tw.t.user */
	uint32_t *free_users;
	uint32_t n_free_users;
	uint32_t users_in_use;		/* a gauge the telemetry thread reads: sk_gauge_add */
	struct sk_rec_index user_index; /* AOR, instance, Call-ID -> user */
	struct sk_pending *pending;	/* max_pending_registers */
	uint32_t *free_pending;
	uint32_t n_free_pending;
	struct rte_hash *pending_index;		 /* sk_pending_key -> pending */
	struct rte_hash *pending_by_source;	 /* sk_source_key -> pending count */
	uint32_t pending_oldest, pending_newest; /* the timeout list */
	struct sk_dialog *dialogs;		 /* max_dialogs */
	uint32_t *free_dialogs;
	uint32_t n_free_dialogs;
	uint32_t dialogs_in_use;	  /* a gauge, like users_in_use */
	struct sk_rec_index dialog_index; /* Call-ID, tag -> dialog */
	/*
	 * Access media addresses declared by live dialogs (dialogs.c, "claims"):
	 * sk_addr_key -> owning user << 32 | number of its dialogs' claims.
	 */
	struct sk_claims claims;
	struct rte_ring *events;
	struct rte_mempool *event_pool;
	sk_time_ns next_scan_ns;
	sk_time_ns next_reg_scan_ns;
	/* Slots are handed out lowest first: scans stop at the highest ever used. */
	uint32_t users_hwm;
	uint32_t dialogs_hwm;
	uint32_t persist_cursor; /* where the next loss-detection scan starts */
	/*
	 * Dialogs with a deadline: early (the early-dialog timeout) or ending
	 * (the linger). The timer scan walks these, not every dialog: confirmed
	 * calls, nearly all of a large table, have none.
	 */
	uint32_t first_timed;
	/* With hep_listen: messages applied lately, from the wire and the mirror
	 * (sk_session_dedup). */
	struct sk_dedup_slot *dedup;
	/* Usable size of the users' and dialogs' heap blocks (str, media): show tables. */
	uint64_t user_heap_bytes;
	uint64_t dialog_heap_bytes;
	uint64_t ctr[SK_CCTR_COUNT];
	/* Session state on Redis (state_sync.h); NULL without. */
	struct sk_sync *sync;
	bool sync_quiet; /* applying what Redis said: not written back */
	/* Armed commits (commit_arm.h); NULL when off. */
	struct sk_commit_arms *arms;
};

/* Allocate everything for N_WORKERS readers. -1 on error (logged). */
int sk_session_create(struct sk_session *s, const struct sk_config *cfg, unsigned int n_workers);
void sk_session_destroy(struct sk_session *s);

/* Apply the workers' events, run due timers, reclaim. Control thread only. */
void sk_session_tick(struct sk_session *s, sk_time_ns now);

/* --- between the session files --- */
void sk_session_count(struct sk_session *s, enum sk_control_counter c);

/*
 * Apply one SIP event on the control thread: what the event ring's consumer
 * does with each event, and what the HEP listener does with a mirrored message.
 */
void sk_session_apply(struct sk_session *s, const struct sk_sip_event *ev);

/*
 * With a HEP mirror, the same message may come from the wire and the mirror,
 * or twice from the mirror. True: EV repeats a message applied less than
 * SK_DEDUP_WINDOW_NS ago (a mirrored one repeats either copy; a wire one only
 * a mirrored copy, so the wire's own retransmissions apply as before); false:
 * EV is remembered and should be applied. Always false without hep_listen.
 */
#define SK_DEDUP_SLOTS 4096
#define SK_DEDUP_WINDOW_NS (2000 * SK_NS_PER_MS)
bool sk_session_dedup(struct sk_session *s, const struct sk_sip_event *ev);
uint32_t sk_user_find_by_contact(struct sk_session *s, const struct sk_addr_key *k);
void sk_user_maybe_free(struct sk_session *s, uint32_t user);

/* The dialogs' own indexes (claims), made and freed with the session. -1 on error. */
int sk_dialogs_create(struct sk_session *s);
/* Memory of the claim index (show tables). */
uint64_t sk_dialogs_claim_bytes(const struct sk_session *s);
void sk_dialogs_destroy(struct sk_session *s);
void sk_dialog_event(struct sk_session *s, const struct sk_sip_event *ev);
void sk_dialogs_scan(struct sk_session *s, sk_time_ns now);
/* Retire every flow of a dialog (media state released). */
void sk_dialog_drop_media(struct sk_session *s, uint32_t d);

void sk_persist_scan(struct sk_session *s, sk_time_ns now);
/* A committed registration of USER from NEW_CONTACT: move media if the rules allow. */
void sk_persist_reregistered(struct sk_session *s, uint32_t user,
			     const struct sk_addr_key *new_contact, uint32_t opts, sk_time_ns now);

/*
 * Armed commits (commit_arm.c): would a 2xx to pending P move a registered
 * user's media (*USER; *CONTACT_PORT as commit sets it)? Does USER's media
 * state allow a move for a REGISTER with OPTS at NOW (*NOT_AFTER lowered to
 * the window's end)? USER's flows into OUT (MAX+1: more than MAX). Commit
 * pending PIDX as its 2xx would at TS; forget it.
 */
bool sk_session_would_move(struct sk_session *s, const struct sk_pending *p, uint32_t *user,
			   uint16_t *contact_port);
bool sk_persist_would_move(struct sk_session *s, uint32_t user, uint32_t opts, sk_time_ns now,
			   sk_time_ns *not_after);
unsigned int sk_persist_user_flows(struct sk_session *s, uint32_t user, uint32_t *out,
				   unsigned int max);
void sk_session_commit_pending(struct sk_session *s, uint32_t pidx, sk_time_ns ts);
void sk_session_pending_free(struct sk_session *s, uint32_t pidx);

/* Free a dialog now, with its media (no linger). */
void sk_dialog_free(struct sk_session *s, uint32_t d);
/* End a user's registration; the user goes when its last dialog does. */
void sk_user_unregister(struct sk_session *s, uint32_t user);

/* --- Redis (state_sync.c): apply a decoded value through the session's own rules --- */
struct sk_sync_user_rec;
uint32_t sk_user_lookup(struct sk_session *s, const struct sk_user_key *key);
/* Create or update the user of R, registered for TTL_MS. Its index, or SK_NO_INDEX. */
uint32_t sk_session_restore_user(struct sk_session *s, const struct sk_sync_user_rec *r,
				 uint64_t ttl_ms, sk_time_ns now);
/* Create or update dialog CALL_ID/TAG of USER, confirmed, with SDP (both sides). */
uint32_t sk_dialog_restore(struct sk_session *s, uint32_t user, const char *call_id,
			   const char *tag, const struct sk_dialog_sdp sdp[SK_SIDE_COUNT],
			   sk_time_ns now);
/* USER's media goes to MV (a handover committed elsewhere). */
void sk_persist_apply_move(struct sk_session *s, uint32_t user, const struct sk_move *mv,
			   sk_time_ns now);

/* --- for the control socket (session_show.c) --- */
struct sk_json;
int sk_session_json_users(struct sk_session *s, struct sk_json *j, uint32_t limit, sk_time_ns now);
/* -1 when no user has this AOR. */
int sk_session_json_user(struct sk_session *s, struct sk_json *j, const char *aor, sk_time_ns now);
int sk_session_json_calls(struct sk_session *s, struct sk_json *j, uint32_t limit, sk_time_ns now);
/* Drop every instance of AOR with its calls; returns how many. */
int sk_session_flush_user(struct sk_session *s, const char *aor);

#endif /* SK_SESSION_H */
