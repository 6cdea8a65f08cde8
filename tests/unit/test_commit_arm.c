/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The armed-commit protocol of include/sk_commit_arm.h with real threads:
 * workers racing to fire one 2xx, the control thread taking an arm back while
 * a worker fires it, a worker holding an old arm's word, and what a worker
 * matches at all (side, status, CSeq, deadline).
 */
#include <pthread.h>
#include <stdlib.h>

#include <rte_byteorder.h>

#include "sk_commit_arm.h"
#include "sk_test.h"

#define N_WORKERS 4
#define ROUNDS 3000
#define N_FLOWS 3

static struct sk_tables tables;
static struct sk_arm_table arms;
static struct sk_move moves[2];
static struct sk_sip_event answer;
static pthread_barrier_t start, end;
static unsigned int wins[N_WORKERS];
static uint32_t round_wins;

static void setup(void)
{
	static const uint8_t phone[4] = {10, 2, 0, 7};

	tables.flow = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*tables.flow) * N_FLOWS, 64));
	tables.user = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*tables.user) * 2, 64));
	memset(tables.flow, 0, sizeof(*tables.flow) * N_FLOWS);
	memset(tables.user, 0, sizeof(*tables.user) * 2);
	tables.max_flows = N_FLOWS;
	tables.max_users = 2;
	arms.mask = 1023;
	arms.slot = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*arms.slot) * (arms.mask + 1), 64));
	memset(arms.slot, 0, sizeof(*arms.slot) * (arms.mask + 1));
	memset(&answer, 0, sizeof(answer));
	answer.family = 4;
	memcpy(answer.dst, phone, 4);
	answer.dport = rte_cpu_to_be_16(5062);
	answer.cseq = 2;
	answer.status = 200;
	answer.side = SK_SIDE_CORE;
	answer.cseq_method = SK_SIP_REGISTER;
	strcpy(answer.call_id, "reg-alice");
	strcpy(answer.aor, "alice@example.com");
}

/* The control thread's arming (commit_arm.c) for ANSWER with move generation GEN; its slot. */
static uint32_t arm(uint32_t gen)
{
	uint32_t s = sk_arm_home(&arms, answer.call_id, answer.cseq), i;
	struct sk_commit_arm *a = &arms.slot[s];
	uint64_t w = __atomic_load_n(&a->word, __ATOMIC_ACQUIRE);

	moves[gen & 1] = (struct sk_move){.family = 4, .addr = {10, 2, 0, 7}, .generation = gen};
	sk_addr_key_set(&a->reply, 4, answer.dst, answer.dport);
	a->cseq = answer.cseq;
	a->user = 1;
	a->not_after = 1000;
	a->move = &moves[gen & 1];
	a->n_flows = N_FLOWS;
	for (i = 0; i < N_FLOWS; i++)
		a->flows[i] = i;
	strcpy(a->call_id, answer.call_id);
	strcpy(a->aor, answer.aor);
	__atomic_store_n(&arms.n_armed, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&a->word, SK_ARM_WORD(SK_ARM_TAG(w), SK_ARM_ARMED), __ATOMIC_RELEASE);
	return s;
}

/* The control thread's take-back: ARMED -> FREE with a new tag. True: it won. */
static bool take_back(uint32_t s)
{
	struct sk_commit_arm *a = &arms.slot[s];
	uint64_t w = __atomic_load_n(&a->word, __ATOMIC_ACQUIRE);

	return SK_ARM_STATE(w) == SK_ARM_ARMED &&
	       __atomic_compare_exchange_n(&a->word, &w,
					   SK_ARM_WORD(SK_ARM_TAG(w) + 1, SK_ARM_FREE), false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* After a fire: FIRED, back to FREE with a new tag (the control thread completed it). */
static void complete(uint32_t s)
{
	struct sk_commit_arm *a = &arms.slot[s];
	uint64_t w;

	while (SK_ARM_STATE(w = __atomic_load_n(&a->word, __ATOMIC_ACQUIRE)) != SK_ARM_FIRED)
		;
	__atomic_store_n(&a->word, SK_ARM_WORD(SK_ARM_TAG(w) + 1, SK_ARM_FREE), __ATOMIC_RELEASE);
}

/* What a worker does with the 2xx: match, then fire. */
static bool worker_fire(unsigned int id)
{
	uint64_t word;
	uint32_t s = sk_arm_match(&arms, &answer, 10, &word);

	return s != UINT32_MAX && sk_arm_fire(&arms, &tables, s, word, 10, (uint16_t)id);
}

static void *racer(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg, r;

	for (r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		if (worker_fire(id)) {
			wins[id]++;
			__atomic_fetch_add(&round_wins, 1, __ATOMIC_RELAXED);
		}
		pthread_barrier_wait(&end);
	}
	return NULL;
}

static bool flows_carry(uint32_t gen)
{
	unsigned int i;

	for (i = 0; i < N_FLOWS; i++)
		if (tables.flow[i].mv_generation != gen || tables.flow[i].mv_family != 4)
			return false;
	return true;
}

static void test_workers_race(void)
{
	pthread_t th[N_WORKERS];
	unsigned int i, r, bad_rounds = 0, total = 0;

	pthread_barrier_init(&start, NULL, N_WORKERS + 1);
	pthread_barrier_init(&end, NULL, N_WORKERS + 1);
	for (i = 0; i < N_WORKERS; i++)
		pthread_create(&th[i], NULL, racer, (void *)(uintptr_t)i);
	for (r = 0; r < ROUNDS; r++) {
		uint32_t s = arm(r + 1);

		round_wins = 0;
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&end);
		if (round_wins != 1 || tables.user[1].move != &moves[(r + 1) & 1] ||
		    !flows_carry(r + 1))
			bad_rounds++;
		complete(s);
	}
	for (i = 0; i < N_WORKERS; i++) {
		pthread_join(th[i], NULL);
		total += wins[i];
	}
	SK_CHECK_EQ(bad_rounds, 0u,
		    "%u rounds of %u workers firing one 2xx: one winner each, move and flows "
		    "published",
		    ROUNDS, N_WORKERS);
	SK_CHECK_EQ(total, (unsigned int)ROUNDS, "one fire per round in all");
	pthread_barrier_destroy(&start);
	pthread_barrier_destroy(&end);
}

static void *one_worker(void *arg)
{
	unsigned int r;

	(void)arg;
	for (r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&start);
		if (worker_fire(0))
			__atomic_fetch_add(&round_wins, 1, __ATOMIC_RELAXED);
		pthread_barrier_wait(&end);
	}
	return NULL;
}

static void test_take_back_races_fire(void)
{
	unsigned int r, bad = 0, fired = 0, taken = 0;
	pthread_t th;

	pthread_barrier_init(&start, NULL, 2);
	pthread_barrier_init(&end, NULL, 2);
	pthread_create(&th, NULL, one_worker, NULL);
	for (r = 0; r < ROUNDS; r++) {
		const struct sk_move *before;
		uint32_t s, gen = 100000 + r;
		bool took;

		s = arm(gen);
		before = tables.user[1].move;
		round_wins = 0;
		pthread_barrier_wait(&start);
		took = take_back(s);
		pthread_barrier_wait(&end);
		if (took) {
			taken++;
			/* Taken back: nothing was published, the worker lost. */
			if (round_wins != 0 || tables.user[1].move != before)
				bad++;
		} else {
			fired++;
			complete(s);
			if (round_wins != 1 || tables.user[1].move != &moves[gen & 1] ||
			    !flows_carry(gen))
				bad++;
		}
	}
	pthread_join(th, NULL);
	SK_CHECK_EQ(bad, 0u,
		    "take-back against fire, %u rounds: exactly one wins (%u taken back, %u fired)",
		    ROUNDS, taken, fired);
	pthread_barrier_destroy(&start);
	pthread_barrier_destroy(&end);
}

static void test_old_word_never_fires(void)
{
	uint64_t word;
	uint32_t s = arm(7), s2;

	s2 = sk_arm_match(&arms, &answer, 10, &word);
	SK_CHECK_EQ(s2, s, "the 2xx matches its arm");
	SK_CHECK(take_back(s), "the control thread takes it back");
	arm(8);
	SK_CHECK(!sk_arm_fire(&arms, &tables, s, word, 10, 0),
		 "a worker holding the word of the arm taken back cannot fire the new arm of the "
		 "slot");
	SK_CHECK(worker_fire(0), "the new arm fires with its own word");
	complete(s);
}

static void test_what_matches(void)
{
	struct sk_sip_event saved = answer;
	uint64_t word;

	arm(9);
	answer.side = SK_SIDE_ACCESS;
	SK_CHECK(!sk_arm_candidate(&answer), "a 2xx from the access side is no candidate");
	answer = saved;
	answer.status = 401;
	SK_CHECK(!sk_arm_candidate(&answer), "a 401 is no candidate");
	answer = saved;
	answer.cseq = 3;
	SK_CHECK_EQ(sk_arm_match(&arms, &answer, 10, &word), UINT32_MAX,
		    "a 2xx to another CSeq matches no arm");
	answer = saved;
	answer.dport = rte_cpu_to_be_16(5060);
	SK_CHECK_EQ(sk_arm_match(&arms, &answer, 10, &word), UINT32_MAX,
		    "a 2xx to another address matches no arm");
	answer = saved;
	SK_CHECK_EQ(sk_arm_match(&arms, &answer, 1001, &word), UINT32_MAX,
		    "a 2xx after the arm's deadline matches nothing");
	SK_CHECK(sk_arm_candidate(&answer) &&
			 sk_arm_match(&arms, &answer, 1000, &word) != UINT32_MAX,
		 "the 2xx itself, at the deadline, matches");
}

int main(void)
{
	setup();
	test_workers_race();
	test_take_back_races_fire();
	test_old_word_never_fires();
	test_what_matches();
	return sk_test_done();
}
