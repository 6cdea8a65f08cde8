/* SPDX-License-Identifier: BSD-3-Clause */
/* Table usage for `show tables` and telemetry (see tables_show.h). */
#include <rte_common.h>
#include <rte_hash.h>

#include "tables_show.h"

/*
 * The memory of an rte_hash of ENTRIES keys of KEY_LEN bytes, as DPDK 22.11
 * lays it out: buckets of 8 entries (one cache line each; twice as many with
 * extendable buckets), one key slot per entry (key and data pointer, 16-byte
 * aligned) and the ring of free slots. An estimate: the hash's own header
 * and the lock-free variant's extra words are left out.
 */
static uint64_t hash_bytes(uint64_t entries, size_t key_len, bool ext)
{
	uint64_t buckets = RTE_MAX(rte_align64pow2(entries) / 8, UINT64_C(1));
	uint64_t slots = entries + 1;
	uint64_t bytes = buckets * RTE_CACHE_LINE_SIZE * (ext ? 2 : 1);

	bytes += slots * RTE_ALIGN(sizeof(void *) + key_len, 16);
	bytes += rte_align64pow2(slots + 1) * sizeof(uint32_t);
	if (ext)
		bytes += rte_align64pow2(buckets + 1) * sizeof(uint32_t);
	return bytes;
}

static uint64_t hash_count(const struct rte_hash *h)
{
	int32_t n = h != NULL ? rte_hash_count(h) : 0;

	return n > 0 ? (uint64_t)n : 0;
}

/* The usable size of a table's heap blocks (their text and SDPs), kept by the control thread. */
static uint64_t heap(const uint64_t *bytes)
{
	return __atomic_load_n(bytes, __ATOMIC_RELAXED);
}

static uint32_t gauge(const uint32_t *g)
{
	return __atomic_load_n(g, __ATOMIC_RELAXED);
}

/* A gauge every worker keeps of its own tables (sk_worker.h), summed. */
static uint64_t worker_gauges(const struct sk_app *app, size_t offset)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		sum += __atomic_load_n((const uint32_t *)((const char *)&app->workers[i] + offset),
				       __ATOMIC_RELAXED);
	return sum;
}

size_t sk_tables_usage(const struct sk_app *app, struct sk_table_usage *out)
{
	const struct sk_session *s = &app->session;
	const struct sk_tables *t = &s->tw.t;
	const struct sk_config *c = &app->cfg;
	uint64_t nu = c->max_users, np = c->max_pending_registers, nd = c->max_dialogs;
	uint64_t nw = app->n_workers;
	uint64_t contacts = t->contacts != NULL ? (uint64_t)rte_hash_max_key_id(t->contacts) : 0;
	size_t n = 0;

	if (!app->session_up)
		return 0;
	out[n++] = (struct sk_table_usage){
		.name = "users",
		.help = "registered users (max_users)",
		.capacity = nu,
		.in_use = gauge(&s->users_in_use),
		.bytes = nu * (sizeof(struct sk_user) + sizeof(struct sk_user_rt) +
			       2 * sizeof(struct sk_move) + 3 * sizeof(uint32_t)) +
			 sk_rec_index_bytes(nu) + heap(&s->user_heap_bytes),
		.has_in_use = true,
		.has_bytes = true,
	};
	out[n++] = (struct sk_table_usage){
		.name = "pending_registrations",
		.help = "REGISTERs waiting for their answer (max_pending_registers)",
		.capacity = np,
		.in_use = hash_count(s->pending_index),
		.bytes = np * (sizeof(struct sk_pending) + sizeof(uint32_t)) +
			 hash_bytes(np + np / 4, sizeof(struct sk_pending_key), false) +
			 hash_bytes(np + np / 4, sizeof(struct sk_source_key), false),
		.has_in_use = true,
		.has_bytes = true,
	};
	out[n++] = (struct sk_table_usage){
		.name = "dialogs",
		.help = "calls (max_dialogs)",
		.capacity = nd,
		.in_use = gauge(&s->dialogs_in_use),
		.bytes = nd * (sizeof(struct sk_dialog) + sizeof(uint32_t)) +
			 sk_rec_index_bytes(nd) + heap(&s->dialog_heap_bytes),
		.has_in_use = true,
		.has_bytes = true,
	};
	out[n++] = (struct sk_table_usage){
		.name = "media_flows",
		.help = "RTP and RTCP flows, two per stream (2 x max_streams), and the media "
			"address claims",
		.capacity = t->max_flows,
		.in_use = gauge(&s->tw.flows_published),
		.bytes = (uint64_t)t->max_flows * (sizeof(struct sk_flow) + sizeof(uint32_t)) +
			 ((uint64_t)t->by_access.mask + 1 + t->by_core.mask + 1) *
				 sizeof(struct sk_ftab_bucket) +
			 /* the negative filter's bits, and its counters (a byte a bit) */
			 (UINT64_C(9) << (64 - t->filter.shift)) / 8 + sk_dialogs_claim_bytes(s),
		.has_in_use = true,
		.has_bytes = true,
	};
	out[n++] = (struct sk_table_usage){
		.name = "contacts",
		.help = "signalling addresses of users (sources and Contact addresses)",
		.capacity = contacts,
		.in_use = hash_count(t->contacts),
		.bytes = hash_bytes(contacts, sizeof(struct sk_addr_key), true),
		.has_in_use = true,
		.has_bytes = true,
	};
	/* The workers' own tables: sizes fixed at start; their use is the workers' alone. */
	out[n++] = (struct sk_table_usage){
		.name = "ip_reassembly",
		.help = "incomplete IP datagrams (frag_max_flows per worker)",
		.capacity = nw * c->frag_max_flows,
		.per_worker = true,
	};
	out[n++] = (struct sk_table_usage){
		.name = "tcp_streams",
		.help = "TCP directions on SIP ports (tcp_max_streams per worker)",
		.capacity = nw * c->tcp_max_streams,
		.in_use = worker_gauges(app, offsetof(struct sk_worker, tcp_streams_in_use)),
		.has_in_use = true,
		.per_worker = true,
	};
	out[n++] = (struct sk_table_usage){
		.name = "tcp_buffers",
		.help = "TCP reassembly buffers (tcp_buffers of tcp_buffer_bytes per worker)",
		.capacity = nw * c->tcp_buffers,
		.in_use = worker_gauges(app, offsetof(struct sk_worker, tcp_buffers_in_use)),
		.has_in_use = true,
		.bytes = nw * c->tcp_buffers * (uint64_t)c->tcp_buffer_bytes,
		.has_bytes = true,
		.per_worker = true,
	};
	return n;
}

void sk_tables_json(const struct sk_app *app, struct sk_json *j)
{
	struct sk_table_usage u[SK_TABLES_MAX];
	size_t i, n = sk_tables_usage(app, u);

	sk_json_u64(j, "workers", app->n_workers);
	sk_json_arr_begin(j, "tables");
	for (i = 0; i < n; i++) {
		sk_json_obj_begin(j, NULL);
		sk_json_str(j, "name", u[i].name);
		sk_json_u64(j, "capacity", u[i].capacity);
		if (u[i].has_in_use)
			sk_json_u64(j, "in_use", u[i].in_use);
		if (u[i].has_bytes)
			sk_json_u64(j, "bytes", u[i].bytes);
		sk_json_str(j, "scope", u[i].per_worker ? "per worker (sum)" : "shared");
		sk_json_str(j, "help", u[i].help);
		sk_json_obj_end(j);
	}
	sk_json_arr_end(j);
}
