/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Redis thread (docs/REDIS.md): a plain pthread that owns the Redis
 * connections. hiredis's blocking API with socket timeouts, and a poll() of
 * its own on the subscriber socket for keyspace notifications. Nothing here
 * touches the session: records come and go on the two rings of struct sk_sync.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "sk_log.h"
#include "state_sync.h"

#define SK_REDIS_TIMEOUT_MS 1000
#define SK_REDIS_BACKOFF_MIN_MS 100
#define SK_REDIS_BACKOFF_MAX_MS 5000
#define SK_REDIS_BATCH 256

struct link {
	struct sk_sync *y;
	redisContext *c;   /* commands */
	redisContext *sub; /* keyspace notifications (redis_follow) */
	char pattern[320];
	struct sk_sync_rec rec;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool stopping(const struct sk_sync *y)
{
	return __atomic_load_n(&y->stop, __ATOMIC_ACQUIRE);
}

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static void drop(struct link *l)
{
	if (l->c != NULL)
		redisFree(l->c);
	if (l->sub != NULL)
		redisFree(l->sub);
	l->c = l->sub = NULL;
	__atomic_store_n(&l->y->link, SK_LINK_DOWN, __ATOMIC_RELAXED);
}

/* One command; true when answered without an error (REPLY kept when asked for). */
static bool command(redisContext *c, redisReply **keep, int argc, const char **argv,
		    const size_t *len)
{
	redisReply *r = redisCommandArgv(c, argc, argv, len);
	bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;

	if (keep != NULL && ok)
		*keep = r;
	else if (r != NULL)
		freeReplyObject(r);
	return ok;
}

static redisContext *open_one(struct link *l)
{
	struct sk_sync *y = l->y;
	struct timeval tv = {.tv_sec = SK_REDIS_TIMEOUT_MS / 1000,
			     .tv_usec = (SK_REDIS_TIMEOUT_MS % 1000) * 1000};
	redisContext *c = y->unix_path[0] ? redisConnectUnixWithTimeout(y->unix_path, tv)
					  : redisConnectWithTimeout(y->host, y->port, tv);
	char db[16];

	if (c == NULL || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	if (y->password[0] != '\0') {
		const char *a[] = {"AUTH", y->password};
		size_t n[] = {4, strlen(y->password)};

		if (!command(c, NULL, 2, a, n)) {
			SK_LOG_LIMITED(ERR, "redis: AUTH refused");
			redisFree(c);
			return NULL;
		}
	}
	snprintf(db, sizeof(db), "%d", y->db);
	{
		const char *a[] = {"SELECT", db};
		size_t n[] = {6, strlen(db)};

		if (!command(c, NULL, 2, a, n)) {
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

/* Put a record on the control thread's ring, waiting for room (a read is not lost). */
static void give(struct link *l, struct sk_sync_rec *r)
{
	while (rte_ring_sp_enqueue_elem(l->y->in, r, sizeof(*r)) != 0) {
		count(&l->y->in_waits);
		if (stopping(l->y))
			return;
		usleep(1000);
	}
}

static void give_value(struct link *l, const char *key, size_t klen, const redisReply *val,
		       const redisReply *pttl)
{
	struct sk_sync_rec *r = &l->rec;
	struct timespec ts;

	if (val == NULL || val->type != REDIS_REPLY_STRING || pttl == NULL ||
	    pttl->type != REDIS_REPLY_INTEGER || pttl->integer <= 0)
		return; /* gone meanwhile, or not a string: nothing to apply */
	memset(r, 0, offsetof(struct sk_sync_rec, key));
	r->op = SK_SYNC_VALUE;
	if (klen >= sizeof(r->key) || (size_t)val->len >= sizeof(r->val)) {
		/* Too long to be ours: the control thread counts it as rejected. */
		r->klen = 0;
		r->vlen = 0;
		r->key[0] = r->val[0] = '\0';
		give(l, r);
		return;
	}
	memcpy(r->key, key, klen);
	r->klen = (uint16_t)klen;
	memcpy(r->val, val->str, (size_t)val->len);
	r->vlen = (uint16_t)val->len;
	r->ttl_ms = pttl->integer > UINT32_MAX ? UINT32_MAX : (uint32_t)pttl->integer;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->rx_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	give(l, r);
}

/* GET and PTTL of N keys, pipelined. false on a broken link. */
static bool fetch(struct link *l, redisReply **keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *g[] = {"GET", keys[i]->str};
		const char *p[] = {"PTTL", keys[i]->str};
		size_t gl[] = {3, (size_t)keys[i]->len};
		size_t pl[] = {4, (size_t)keys[i]->len};

		redisAppendCommandArgv(l->c, 2, g, gl);
		redisAppendCommandArgv(l->c, 2, p, pl);
	}
	for (i = 0; i < n; i++) {
		redisReply *v = NULL, *t = NULL;

		if (redisGetReply(l->c, (void **)&v) != REDIS_OK ||
		    redisGetReply(l->c, (void **)&t) != REDIS_OK) {
			if (v != NULL)
				freeReplyObject(v);
			return false;
		}
		give_value(l, keys[i]->str, (size_t)keys[i]->len, v, t);
		freeReplyObject(v);
		freeReplyObject(t);
	}
	return true;
}

/* Every key of the prefix: SCAN (never KEYS), then GET. Users first, then dialogs. */
static bool read_all(struct link *l)
{
	static const char kinds[2] = {'u', 'd'};
	char match[128], cursor[32];
	unsigned int k;

	for (k = 0; k < 2; k++) {
		snprintf(match, sizeof(match), "%s:%c:*", l->y->cfg->redis_prefix, kinds[k]);
		snprintf(cursor, sizeof(cursor), "0");
		do {
			const char *a[] = {"SCAN", cursor, "MATCH", match, "COUNT", "1000"};
			size_t n[] = {4, strlen(cursor), 5, strlen(match), 5, 4};
			redisReply *r = NULL;
			bool ok;

			if (!command(l->c, &r, 6, a, n))
				return false;
			if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
			    r->element[0]->type != REDIS_REPLY_STRING ||
			    r->element[1]->type != REDIS_REPLY_ARRAY ||
			    (size_t)r->element[0]->len >= sizeof(cursor)) {
				freeReplyObject(r);
				return false;
			}
			snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
			ok = fetch(l, r->element[1]->element, r->element[1]->elements);
			freeReplyObject(r);
			if (!ok)
				return false;
		} while (strcmp(cursor, "0") != 0 && !stopping(l->y));
	}
	count(&l->y->resyncs);
	return true;
}

static bool open_link(struct link *l, bool first)
{
	struct sk_sync *y = l->y;
	struct sk_sync_rec *r = &l->rec;

	__atomic_store_n(&y->link, SK_LINK_CONNECTING, __ATOMIC_RELAXED);
	l->c = open_one(l);
	if (l->c == NULL)
		return false;
	if (y->cfg->redis_follow) {
		const char *a[] = {"CONFIG", "SET", "notify-keyspace-events", "K$g"};
		size_t n[] = {6, 3, 22, 3};

		if (!command(l->c, NULL, 4, a, n))
			SK_LOG_LIMITED(WARNING, "redis: CONFIG SET notify-keyspace-events refused; "
						"the operator sets it (docs/REDIS.md)");
		l->sub = open_one(l);
		if (l->sub == NULL)
			return false;
		snprintf(l->pattern, sizeof(l->pattern), "__keyspace@%d__:%s:*", y->db,
			 y->cfg->redis_prefix);
		{
			const char *p[] = {"PSUBSCRIBE", l->pattern};
			size_t pn[] = {10, strlen(l->pattern)};

			if (!command(l->sub, NULL, 2, p, pn))
				return false;
		}
	}
	count(&y->connects);
	__atomic_store_n(&y->link, SK_LINK_UP, __ATOMIC_RELAXED);
	SK_LOG_LIMITED(NOTICE, "redis: connected to %s", y->cfg->redis);
	/* At start only with redis_restore; after a reconnect with redis_follow. */
	if ((first && y->cfg->redis_restore) || (!first && y->cfg->redis_follow))
		if (!read_all(l))
			return false;
	if (first) {
		memset(r, 0, offsetof(struct sk_sync_rec, key));
		r->op = SK_SYNC_RESTORED;
		give(l, r);
		__atomic_store_n(&y->restore_done, true, __ATOMIC_RELEASE);
	}
	return true;
}

/* Queued writes, pipelined in batches. false on a broken link. */
static bool write_some(struct link *l, unsigned int *n_done)
{
	static struct sk_sync_rec batch[SK_REDIS_BATCH];
	unsigned int n, i;
	bool ok = true;

	n = rte_ring_sc_dequeue_burst_elem(l->y->out, batch, sizeof(batch[0]), SK_REDIS_BATCH,
					   NULL);
	*n_done = n;
	for (i = 0; i < n; i++) {
		const struct sk_sync_rec *r = &batch[i];
		char px[16];

		if (r->op == SK_SYNC_SET) {
			const char *a[] = {"SET", r->key, r->val, "PX", px};
			size_t len[] = {3, r->klen, r->vlen, 2, 0};

			snprintf(px, sizeof(px), "%u", r->ttl_ms ? r->ttl_ms : 1);
			len[4] = strlen(px);
			redisAppendCommandArgv(l->c, 5, a, len);
		} else {
			const char *a[] = {"DEL", r->key};
			size_t len[] = {3, r->klen};

			redisAppendCommandArgv(l->c, 2, a, len);
		}
	}
	for (i = 0; i < n; i++) {
		redisReply *rep = NULL;

		if (redisGetReply(l->c, (void **)&rep) != REDIS_OK) {
			/* The rest of the batch is lost with the link: the resync repairs peers. */
			count(&l->y->errors);
			ok = false;
			break;
		}
		if (rep->type == REDIS_REPLY_ERROR)
			count(&l->y->errors);
		else
			count(&l->y->writes);
		freeReplyObject(rep);
	}
	return ok;
}

/* Keyspace notifications waiting on the subscriber socket: GET each key set. */
static bool follow(struct link *l, int wait_ms)
{
	struct pollfd p = {.fd = l->sub->fd, .events = POLLIN};
	size_t plen = strlen(l->pattern) - 1; /* the channel less the trailing '*' */
	void *rep;

	if (poll(&p, 1, wait_ms) <= 0)
		return true;
	if (redisBufferRead(l->sub) != REDIS_OK)
		return false;
	for (;;) {
		redisReply *m;

		rep = NULL;
		if (redisGetReplyFromReader(l->sub, &rep) != REDIS_OK)
			return false;
		if (rep == NULL)
			return true;
		m = rep;
		count(&l->y->notified);
		/* pmessage, pattern, channel "__keyspace@DB__:KEY", event */
		if (m->type == REDIS_REPLY_ARRAY && m->elements == 4 &&
		    m->element[2]->type == REDIS_REPLY_STRING &&
		    m->element[3]->type == REDIS_REPLY_STRING &&
		    strcmp(m->element[3]->str, "set") == 0 && (size_t)m->element[2]->len > plen) {
			const char *key =
				m->element[2]->str + (strchr(l->pattern, ':') - l->pattern) + 1;
			redisReply kr = {.type = REDIS_REPLY_STRING,
					 .str = (char *)key,
					 .len = m->element[2]->len -
						(size_t)(key - m->element[2]->str)};
			redisReply *keys[1] = {&kr};

			if (!fetch(l, keys, 1)) {
				freeReplyObject(m);
				return false;
			}
		}
		freeReplyObject(m);
	}
}

void *sk_redis_thread(void *arg)
{
	struct link l = {.y = arg};
	struct sk_sync *y = l.y;
	uint64_t backoff = SK_REDIS_BACKOFF_MIN_MS, next_try = 0, next_resync = 0;
	bool first = true;

	while (!stopping(y)) {
		uint64_t t = now_ms();
		unsigned int n = 0;
		bool ok = true;

		if (l.c == NULL) {
			if (t < next_try) {
				usleep(10 * 1000);
				continue;
			}
			if (!open_link(&l, first)) {
				count(&y->errors);
				drop(&l);
				if (first) {
					SK_LOG_LIMITED(WARNING, "redis: %s unreachable, retrying",
						       y->cfg->redis);
					__atomic_store_n(&y->restore_done, true, __ATOMIC_RELEASE);
				}
				next_try = now_ms() + backoff;
				backoff = RTE_MIN(backoff * 2, (uint64_t)SK_REDIS_BACKOFF_MAX_MS);
				continue;
			}
			/* The first read restored; peers are re-read after every reconnect. */
			first = false;
			backoff = SK_REDIS_BACKOFF_MIN_MS;
			next_resync = now_ms() + y->cfg->redis_resync_ms;
			continue;
		}
		ok = write_some(&l, &n);
		if (ok && y->cfg->redis_follow)
			ok = follow(&l, n == 0 ? 2 : 0);
		else if (ok && n == 0)
			usleep(2 * 1000);
		if (ok && y->cfg->redis_follow && now_ms() >= next_resync) {
			ok = read_all(&l);
			next_resync = now_ms() + y->cfg->redis_resync_ms;
		}
		if (!ok) {
			count(&y->errors);
			SK_LOG_LIMITED(WARNING, "redis: link to %s lost, reconnecting",
				       y->cfg->redis);
			drop(&l);
			next_try = now_ms() + backoff;
		}
	}
	drop(&l);
	return NULL;
}
