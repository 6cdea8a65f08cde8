/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's side of armed commits (include/sk_commit_arm.h): it
 * arms a re-REGISTER that would move a user, takes an arm back before it
 * changes anything of that user, and completes the commits workers fired.
 * Control thread only; docs/PERSISTENCY.md, "The commit on the fast path".
 */
#ifndef SK_CONTROL_COMMIT_ARM_H
#define SK_CONTROL_COMMIT_ARM_H

#include <stdbool.h>
#include <stdint.h>

#include "sk_commit_arm.h"

struct sk_session;
struct sk_sip_event;

/* The arms of S, sized from its config (handover_arm_ms 0: none). -1 on error. */
int sk_arms_create(struct sk_session *s);
void sk_arms_destroy(struct sk_session *s);
/* What workers read (NULL: arming is off). */
struct sk_arm_table *sk_arms_table(struct sk_session *s);

/* Pending REGISTER PIDX was applied at NOW: arm it if its 2xx would move its user. */
void sk_arm_request(struct sk_session *s, uint32_t pidx, sk_time_ns now);

/*
 * A final answer (2xx when OK) to pending PIDX is being applied: its arm is
 * taken back, or, when a worker fired it, true: the answer commits whatever
 * it is (the move is out) and sk_arm_adopt hands the fired move to the
 * commit; sk_arm_done ends it.
 */
bool sk_arm_resolve(struct sk_session *s, uint32_t pidx, bool ok);
void sk_arm_done(struct sk_session *s, uint32_t pidx, sk_time_ns now);

/* The fired move USER's commit adopts instead of building one, or NULL. */
const struct sk_move *sk_arm_adopt(struct sk_session *s, uint32_t user);

/*
 * The control thread is about to change USER's state: its arm is taken
 * back, or, when a worker fired it, that commit is completed first (true).
 */
bool sk_arm_settle(struct sk_session *s, uint32_t user);

/* Pending PIDX is being forgotten (timeout, eviction): same, keeping the pending for the caller. */
void sk_arm_pending_gone(struct sk_session *s, uint32_t pidx);

/* A REGISTER answer matching no pending: the 2xx of a commit already completed? (absorbed) */
bool sk_arm_absorb(struct sk_session *s, const struct sk_sip_event *ev);

/* Arms past their deadline are taken back; completed ones forgotten. */
void sk_arms_expire(struct sk_session *s, sk_time_ns now);

#endif /* SK_CONTROL_COMMIT_ARM_H */
