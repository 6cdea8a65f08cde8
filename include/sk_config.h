/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipkeep settings: every key of the config file is declared once, with its
 * default, its bounds, its help text and whether it may change at run time:
 * the integer keys in SK_CONFIG_INTS below, every key in sk_config_keys[]
 * (control/config.c). The loader, `show config`, `set`, --help and the man
 * page table are generated from that table.
 */
#ifndef SK_CONFIG_H
#define SK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* When a key may change: only at start (the config file), or at run time too (`set`). */
#define SK_AT_START false
#define SK_AT_RUN_TIME true

/*
 * Integer keys: name, default, min, max, when it may change, help. The other
 * keys are rows of sk_config_keys[] in control/config.c.
 */
#define SK_CONFIG_INTS(X)                                                                          \
	X(persist_window_ms, 12000, 0, 3600000, SK_AT_RUN_TIME,                                    \
	  "how long a suspended user may re-register and keep its calls")                          \
	X(media_silence_ms, 2000, 50, 600000, SK_AT_RUN_TIME,                                      \
	  "uplink media silence after which a user with calls is suspended")                       \
	X(dialog_linger_ms, 32000, 0, 600000, SK_AT_START,                                         \
	  "how long an ended dialog is kept to absorb retransmissions")                            \
	X(max_users, 16384, 16, 16777216, SK_AT_START, "registered users tracked")                 \
	X(max_contacts, 0, 0, 67108864, SK_AT_START,                                               \
	  "signalling addresses of users (REGISTER sources and Contact addresses) kept for "       \
	  "redirection, those let go in the current tick included; 0: 2 x max_users (at least "    \
	  "4096). Past it an address is not kept and contacts_refused counts it")                  \
	X(max_pending_registers, 16384, 16, 16777216, SK_AT_START,                                 \
	  "REGISTER transactions awaiting the registrar's answer, all sources together")           \
	X(max_pending_per_source, 256, 1, 16777216, SK_AT_START,                                   \
	  "REGISTER transactions awaiting an answer from one source IP address")                   \
	X(register_timeout_ms, 32000, 1000, 600000, SK_AT_START,                                   \
	  "a REGISTER transaction unanswered this long is forgotten (64*T1)")                      \
	X(handover_arm_ms, 4000, 0, 600000, SK_AT_START,                                           \
	  "a re-REGISTER that would move a user is armed this long: the worker that forwards its " \
	  "2xx publishes the move first; 0 = the control thread publishes it later")               \
	X(max_dialogs, 16384, 16, 16777216, SK_AT_START, "dialogs (calls) tracked")                \
	X(max_early_dialogs_per_user, 32, 1, 16777216, SK_AT_START,                                \
	  "dialogs of one user without a 2xx (ringing, or failed and lingering) tracked at once; " \
	  "more INVITEs of that user are not tracked")                                             \
	X(max_streams, 32768, 16, 16777216, SK_AT_START,                                           \
	  "media streams (m= lines) tracked; each has an RTP and an RTCP flow")                    \
	X(frag_max_flows, 1024, 16, 65536, SK_AT_START, "concurrent IP reassemblies per worker")   \
	X(frag_timeout_ms, 2000, 100, 60000, SK_AT_START,                                          \
	  "give up on an incomplete IP datagram after this")                                       \
	X(frag_max_per_source, 64, 1, 65536, SK_AT_START,                                          \
	  "incomplete IP datagrams one source (address, ingress port, VLAN tags) may have per "    \
	  "worker")                                                                                \
	X(frag_max_held, 2048, 16, 1048576, SK_AT_START,                                           \
	  "fragments (mbufs) held for reassembly per worker; capped to what the pool can spare")   \
	X(tcp_max_streams, 16384, 16, 4194304, SK_AT_START,                                        \
	  "TCP directions on SIP ports tracked per worker (each connection has two)")              \
	X(tcp_idle_timeout_ms, 7200000, 1000, 86400000, SK_AT_START,                               \
	  "a TCP direction silent this long is forgotten (FIN and RST end it at once)")            \
	X(tcp_syn_timeout_ms, 30000, 100, 600000, SK_AT_START,                                     \
	  "a TCP direction opened by SYN that carries no byte this long is forgotten")             \
	X(tcp_buffer_bytes, 16384, 4096, 65535, SK_AT_START,                                       \
	  "the most one TCP direction holds: a SIP message cut by segments, or bytes beyond a "    \
	  "hole")                                                                                  \
	X(tcp_buffers, 256, 1, 1048576, SK_AT_START,                                               \
	  "TCP directions per worker that may hold bytes at once (each tcp_buffer_bytes)")         \
	X(tcp_hole_timeout_ms, 2000, 10, 600000, SK_AT_START,                                      \
	  "bytes wait this long for a hole to fill or a cut message to end, and a segment held "   \
	  "for a Call-Info rewrite this long for its header block to end")                         \
	X(sip_tls_port, 5061, 1, 65535, SK_AT_START,                                               \
	  "TCP port of SIP over TLS: counted (frames_tls), passed untouched")                      \
	X(rx_descriptors, 1024, 64, 16384, SK_AT_START, "RX ring size per queue")                  \
	X(tx_descriptors, 1024, 64, 16384, SK_AT_START, "TX ring size per queue")                  \
	X(mbufs, 16383, 1023, 4194303, SK_AT_START, "packet buffers in the mempool (all workers)") \
	X(stats_interval_ms, 0, 0, 3600000, SK_AT_START,                                           \
	  "print counters to the log this often; 0 = only at exit")                                \
	X(redis_restore, 1, 0, 1, SK_AT_START, "with redis: restore every key at start")           \
	X(redis_follow, 1, 0, 1, SK_AT_START, "with redis: apply other nodes' changes")            \
	X(redis_resync_ms, 5000, 100, 3600000, SK_AT_START,                                        \
	  "with redis: full resync (SCAN + GET) this often and after each reconnect")              \
	X(redis_queue, 4096, 64, 1048576, SK_AT_START,                                             \
	  "with redis: writes queued for the Redis thread; more are dropped and counted")

enum sk_callinfo_policy {
	SK_CALLINFO_REGISTERED = 0,
	SK_CALLINFO_PASS,
	SK_CALLINFO_STRIP,
};

enum sk_sip_detect {
	SK_SIP_DETECT_PORTS = 0,
	SK_SIP_DETECT_ANY,
};

/* What a request whose User-Agent names a scanner gets: counted only, or dropped too. */
enum sk_scanner_action {
	SK_SCANNER_COUNT = 0,
	SK_SCANNER_DROP,
};

#define SK_MAX_PREFIXES 64
#define SK_CONFIG_PATH_MAX 256

struct sk_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;	/* prefix length in bits */
	uint8_t addr[16];
};

/* A list of prefixes with its count (hep_sources). */
struct sk_prefix_set {
	unsigned int n;
	struct sk_prefix items[SK_MAX_PREFIXES];
};

struct sk_config {
#define SK_X(name, def, min, max, when, help) uint32_t name;
	SK_CONFIG_INTS(SK_X)
#undef SK_X
	enum sk_callinfo_policy callinfo_policy;
	enum sk_sip_detect sip_detect;
	/* One bit per UDP port: a SIP-port check on the fast path is one load. */
	uint64_t sip_port_bits[65536 / 64];
	unsigned int n_access_prefixes;
	struct sk_prefix access_prefixes[SK_MAX_PREFIXES];
	char control_socket[SK_CONFIG_PATH_MAX];
	/* "default" (the built-in list), "none", or comma-separated User-Agent product names. */
	char scanner_signatures[1024];
	enum sk_scanner_action scanner_action; /* settable at run time: read atomically */
	/* Prometheus /metrics: "ADDR:PORT" or "[ADDR6]:PORT"; empty = not served. */
	char metrics_listen[64];
	char redis[SK_CONFIG_PATH_MAX];
	char redis_password_file[SK_CONFIG_PATH_MAX];
	char redis_prefix[64];
	char node_id[64];
	/* The HEP mirror (docs/HEP.md): where it listens (empty: off), who may send, the key. */
	char hep_listen[64];
	struct sk_prefix_set hep_sources;
	char hep_auth_key[64];
};

/* Upper bounds on the key table: `set` commands are built into arrays of this size. */
#define SK_CONFIG_MAX_KEYS 64
#define SK_CONFIG_NAME_MAX 32

/*
 * One config key: everything the loader, `show config`, `set`, --help and
 * the man page know about it. A key that may change at run time is stored in
 * 32 bits, published with an atomic store and read with atomic loads.
 */
struct sk_config_key {
	const char *name;
	const char *def;    /* the default, written as the config file would write it */
	const char *syntax; /* lists and text: what a value looks like (see sk_config_syntax) */
	const char *help;
	bool run_time;		  /* SK_AT_RUN_TIME: `set` may change it while the daemon runs */
	bool number;		  /* an integer: a JSON number in `show config`, else a string */
	uint32_t min, max;	  /* integers */
	const char *const *names; /* enumerations: the value's name by value */
	size_t n_names;
	size_t offset, size; /* where the value lives in struct sk_config */
	int (*parse)(const struct sk_config_key *k, struct sk_config *cfg, const char *value,
		     char *err, size_t errlen);
	void (*format)(const struct sk_config_key *k, const struct sk_config *cfg, char *buf,
		       size_t buflen);
};

/* Every key, in declaration order; a row with a NULL name ends it. */
extern const struct sk_config_key sk_config_keys[];

/* The key named NAME, or NULL. */
const struct sk_config_key *sk_config_key(const char *name);

/* What a value of K looks like: "N" for integers, "a|b|c" for enumerations, else k->syntax. */
void sk_config_syntax(const struct sk_config_key *k, char *buf, size_t buflen);

/* Fill with the built-in defaults (sip_ports = 5060, no access prefixes). */
void sk_config_defaults(struct sk_config *cfg);

/*
 * Load FILE over the current contents of cfg. On error returns -1 and writes
 * "FILE:LINE: key 'k': reason" into err.
 */
int sk_config_load(struct sk_config *cfg, const char *path, char *err, size_t errlen);

/* Apply one "key = value" setting; err gets "key 'k': reason" on failure. */
int sk_config_set(struct sk_config *cfg, const char *key, const char *value, char *err,
		  size_t errlen);

/* Write the current value of KEY as text; -1 if no such key. */
int sk_config_get(const struct sk_config *cfg, const char *key, char *buf, size_t buflen);

/*
 * `set` while the daemon runs: refuse a key that is not SK_AT_RUN_TIME, check
 * VALUE with the loader's rules, then publish it into LIVE with one atomic
 * store. Only the control thread calls it.
 */
int sk_config_set_running(struct sk_config *live, const char *key, const char *value, char *err,
			  size_t errlen);

/* Copy LIVE on any thread: the keys `set` may change are read with atomic loads. */
void sk_config_snapshot(struct sk_config *out, const struct sk_config *live);

/* S as plain roff text (a tbl cell or a paragraph): no escapes or requests get through. */
void sk_config_roff_text(FILE *f, const char *s);

/* The config keys part of --help: each key once, its values, default and meaning. */
void sk_config_usage(FILE *f);

/* The same as a tbl(1) table for the man page. */
void sk_config_man_table(FILE *f);

const char *sk_callinfo_policy_name(enum sk_callinfo_policy p);
const char *sk_scanner_action_name(enum sk_scanner_action a);

static inline bool sk_config_is_sip_port(const struct sk_config *cfg, uint16_t port)
{
	return (cfg->sip_port_bits[port >> 6] >> (port & 63)) & 1;
}

/* Is the address (4 or 16 bytes, network order) inside one of access_prefixes? */
bool sk_config_is_access_addr(const struct sk_config *cfg, int family, const uint8_t *addr);

/* Is the address (4 or 16 bytes, network order) inside one of SET? */
bool sk_prefix_set_has(const struct sk_prefix_set *set, int family, const uint8_t *addr);

/* Parse "a.b.c.d/n" or "x::y/n" (a bare address is a host prefix). */
int sk_prefix_parse(const char *text, struct sk_prefix *out);

/* A listen address: "A.B.C.D:PORT" or "[IPV6]:PORT" (PORT 1-65535). -1 if malformed. */
struct sk_listen_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};
int sk_listen_addr_parse(const char *text, struct sk_listen_addr *out);

#endif /* SK_CONFIG_H */
