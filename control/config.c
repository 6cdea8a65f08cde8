/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config keys (sk_config_keys[]) and the config file loader: "key = value"
 * lines, '#' comments, errors that say where.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_common.h"
#include "sk_config.h"

static const char *const callinfo_policy_names[] = {
	[SK_CALLINFO_REGISTERED] = "registered",
	[SK_CALLINFO_PASS] = "pass",
	[SK_CALLINFO_STRIP] = "strip",
};

static const char *const scanner_action_names[] = {
	[SK_SCANNER_COUNT] = "count",
	[SK_SCANNER_DROP] = "drop",
};

static const char *const sip_detect_names[] = {
	[SK_SIP_DETECT_PORTS] = "ports",
	[SK_SIP_DETECT_ANY] = "any",
};

const char *sk_callinfo_policy_name(enum sk_callinfo_policy p)
{
	return (unsigned int)p < SK_ARRAY_SIZE(callinfo_policy_names) ? callinfo_policy_names[p]
								      : "?";
}

const char *sk_scanner_action_name(enum sk_scanner_action a)
{
	return (unsigned int)a < SK_ARRAY_SIZE(scanner_action_names) ? scanner_action_names[a]
								     : "?";
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out, char *err,
		     size_t errlen, const char *key)
{
	char *end;
	unsigned long long v;

	if (*text == '\0' || !isdigit((unsigned char)*text)) {
		snprintf(err, errlen, "key '%s': '%s' is not a number", key, text);
		return -1;
	}
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0') {
		snprintf(err, errlen, "key '%s': '%s' is not a number", key, text);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "key '%s': %llu is out of range [%u, %u]", key, v, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_enum(const char *text, const char *const *names, size_t n, int *out, char *err,
		      size_t errlen, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	snprintf(err, errlen, "key '%s': '%s' is not one of", key, text);
	for (i = 0; i < n; i++) {
		size_t used = strlen(err);

		snprintf(err + used, errlen - used, "%s %s", i ? "," : "", names[i]);
	}
	return -1;
}

/* Split a comma-separated list in place; calls fn on each trimmed, non-empty item. */
static int for_each_item(char *list,
			 int (*fn)(const char *item, void *ctx, char *err, size_t errlen),
			 void *ctx, char *err, size_t errlen)
{
	char *save = NULL;
	char *item;
	int n = 0;

	for (item = strtok_r(list, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		if (*item == '\0')
			continue;
		if (fn(item, ctx, err, errlen) < 0)
			return -1;
		n++;
	}
	return n;
}

static int add_sip_port(const char *item, void *ctx, char *err, size_t errlen)
{
	uint64_t *bits = ctx;
	uint32_t port;

	if (parse_u32(item, 1, 65535, &port, err, errlen, "sip_ports") < 0)
		return -1;
	bits[port >> 6] |= 1ULL << (port & 63);
	return 0;
}

int sk_prefix_parse(const char *text, struct sk_prefix *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int maxlen;
	uint32_t len;
	char dummy[8];

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = 4;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = 6;
		maxlen = 128;
	} else {
		return -1;
	}
	len = maxlen;
	if (slash && parse_u32(slash + 1, 0, maxlen, &len, dummy, sizeof(dummy), "") < 0)
		return -1;
	out->len = (uint8_t)len;
	return 0;
}

int sk_listen_addr_parse(const char *text, struct sk_listen_addr *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *colon, *start = text;
	size_t alen;
	uint32_t port;
	char dummy[8];

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		start = text + 1;
		alen = (size_t)(close - start);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return -1;
		alen = (size_t)(colon - text);
	}
	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, start, alen);
	addr[alen] = '\0';
	if (text[0] != '[' && inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = 4;
	else if (text[0] == '[' && inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = 6;
	else
		return -1;
	if (parse_u32(colon + 1, 1, 65535, &port, dummy, sizeof(dummy), "") < 0)
		return -1;
	out->port = (uint16_t)port;
	return 0;
}

static int parse_metrics_listen(const struct sk_config_key *k, struct sk_config *cfg,
				const char *value, char *err, size_t errlen)
{
	struct sk_listen_addr la;

	(void)k;
	if (value[0] != '\0' && (strlen(value) >= sizeof(cfg->metrics_listen) ||
				 sk_listen_addr_parse(value, &la) < 0)) {
		snprintf(err, errlen,
			 "key 'metrics_listen': needs ADDR:PORT or [ADDR6]:PORT (empty: off)");
		return -1;
	}
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s", value);
	return 0;
}

struct prefix_list {
	struct sk_prefix *items;
	unsigned int n;
	const char *key;
};

static int add_prefix(const char *item, void *ctx, char *err, size_t errlen)
{
	struct prefix_list *list = ctx;

	if (list->n >= SK_MAX_PREFIXES) {
		snprintf(err, errlen, "key '%s': more than %d prefixes", list->key,
			 SK_MAX_PREFIXES);
		return -1;
	}
	if (sk_prefix_parse(item, &list->items[list->n]) < 0) {
		snprintf(err, errlen, "key '%s': '%s' is not an IPv4 or IPv6 prefix (ADDR/LEN)",
			 list->key, item);
		return -1;
	}
	list->n++;
	return 0;
}

/* Integers and enumerations are stored in 32 bits (see struct sk_config_key). */
static uint32_t *u32_at(struct sk_config *cfg, const struct sk_config_key *k)
{
	return (uint32_t *)((char *)cfg + k->offset);
}

static const uint32_t *u32_in(const struct sk_config *cfg, const struct sk_config_key *k)
{
	return (const uint32_t *)((const char *)cfg + k->offset);
}

static int parse_number(const struct sk_config_key *k, struct sk_config *cfg, const char *value,
			char *err, size_t errlen)
{
	return parse_u32(value, k->min, k->max, u32_at(cfg, k), err, errlen, k->name);
}

static int parse_name(const struct sk_config_key *k, struct sk_config *cfg, const char *value,
		      char *err, size_t errlen)
{
	int e;

	if (parse_enum(value, k->names, k->n_names, &e, err, errlen, k->name) < 0)
		return -1;
	*u32_at(cfg, k) = (uint32_t)e;
	return 0;
}

/* Lists are split in place: a private copy of VALUE. */
static int copy_list(const struct sk_config_key *k, const char *value, char *buf, size_t buflen,
		     char *err, size_t errlen)
{
	if (strlen(value) >= buflen) {
		snprintf(err, errlen, "key '%s': value longer than %zu bytes", k->name, buflen - 1);
		return -1;
	}
	snprintf(buf, buflen, "%s", value);
	return 0;
}

static int parse_sip_ports(const struct sk_config_key *k, struct sk_config *cfg, const char *value,
			   char *err, size_t errlen)
{
	uint64_t bits[SK_ARRAY_SIZE(cfg->sip_port_bits)] = {0};
	char buf[4096];
	int n;

	if (copy_list(k, value, buf, sizeof(buf), err, errlen) < 0)
		return -1;
	n = for_each_item(buf, add_sip_port, bits, err, errlen);
	if (n < 0)
		return -1;
	if (n == 0) {
		snprintf(err, errlen, "key 'sip_ports': needs at least one port");
		return -1;
	}
	memcpy(cfg->sip_port_bits, bits, sizeof(bits));
	return 0;
}

/* A prefix list into N and ITEMS, both untouched when VALUE is wrong. */
static int parse_prefixes(const struct sk_config_key *k, const char *value, unsigned int *n,
			  struct sk_prefix *items, char *err, size_t errlen)
{
	struct sk_prefix parsed[SK_MAX_PREFIXES];
	struct prefix_list list = {.items = parsed, .n = 0, .key = k->name};
	char buf[4096];

	if (copy_list(k, value, buf, sizeof(buf), err, errlen) < 0)
		return -1;
	if (for_each_item(buf, add_prefix, &list, err, errlen) < 0)
		return -1;
	memcpy(items, parsed, list.n * sizeof(parsed[0]));
	*n = list.n;
	return 0;
}

static int parse_access_prefixes(const struct sk_config_key *k, struct sk_config *cfg,
				 const char *value, char *err, size_t errlen)
{
	return parse_prefixes(k, value, &cfg->n_access_prefixes, cfg->access_prefixes, err, errlen);
}

static int parse_hep_sources(const struct sk_config_key *k, struct sk_config *cfg,
			     const char *value, char *err, size_t errlen)
{
	return parse_prefixes(k, value, &cfg->hep_sources.n, cfg->hep_sources.items, err, errlen);
}

static int parse_hep_listen(const struct sk_config_key *k, struct sk_config *cfg, const char *value,
			    char *err, size_t errlen)
{
	struct sk_listen_addr la;

	(void)k;
	if (value[0] != '\0' &&
	    (strlen(value) >= sizeof(cfg->hep_listen) || sk_listen_addr_parse(value, &la) < 0)) {
		snprintf(err, errlen,
			 "key 'hep_listen': needs ADDR:PORT or [ADDR6]:PORT (empty: off)");
		return -1;
	}
	snprintf(cfg->hep_listen, sizeof(cfg->hep_listen), "%s", value);
	return 0;
}

static int parse_control_socket(const struct sk_config_key *k, struct sk_config *cfg,
				const char *value, char *err, size_t errlen)
{
	(void)k;
	if (value[0] != '/' || strlen(value) >= sizeof(cfg->control_socket) ||
	    strlen(value) >= 108 /* sun_path */) {
		snprintf(err, errlen,
			 "key 'control_socket': needs an absolute path shorter than 108 bytes");
		return -1;
	}
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", value);
	return 0;
}

static int parse_text(const struct sk_config_key *k, struct sk_config *cfg, const char *value,
		      char *err, size_t errlen)
{
	if (strlen(value) >= k->size) {
		snprintf(err, errlen, "key '%s': longer than %zu bytes", k->name, k->size - 1);
		return -1;
	}
	snprintf((char *)cfg + k->offset, k->size, "%s", value);
	return 0;
}

int sk_config_load(struct sk_config *cfg, const char *path, char *err, size_t errlen)
{
	char line[8192];
	char why[512];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash, *eq, *key, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			fclose(f);
			return -1;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value', got '%s'", path,
				 lineno, key);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (*key == '\0') {
			snprintf(err, errlen, "%s:%u: missing key before '='", path, lineno);
			fclose(f);
			return -1;
		}
		if (*value == '\0') {
			snprintf(err, errlen, "%s:%u: key '%s': missing value", path, lineno, key);
			fclose(f);
			return -1;
		}
		if (sk_config_set(cfg, key, value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s:%u: read error: %s", path, lineno + 1, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void format_number(const struct sk_config_key *k, const struct sk_config *cfg, char *buf,
			  size_t buflen)
{
	snprintf(buf, buflen, "%u", *u32_in(cfg, k));
}

static void format_name(const struct sk_config_key *k, const struct sk_config *cfg, char *buf,
			size_t buflen)
{
	uint32_t v = *u32_in(cfg, k);

	snprintf(buf, buflen, "%s", v < k->n_names ? k->names[v] : "?");
}

static void format_text(const struct sk_config_key *k, const struct sk_config *cfg, char *buf,
			size_t buflen)
{
	snprintf(buf, buflen, "%s", (const char *)cfg + k->offset);
}

static void format_prefixes(unsigned int n, const struct sk_prefix *items, char *buf, size_t buflen)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n && used < buflen; i++) {
		const struct sk_prefix *p = &items[i];
		char a[INET6_ADDRSTRLEN];

		inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
		used += (size_t)snprintf(buf + used, buflen - used, "%s%s/%u", i ? "," : "", a,
					 p->len);
	}
}

static void format_access_prefixes(const struct sk_config_key *k, const struct sk_config *cfg,
				   char *buf, size_t buflen)
{
	(void)k;
	format_prefixes(cfg->n_access_prefixes, cfg->access_prefixes, buf, buflen);
}

static void format_hep_sources(const struct sk_config_key *k, const struct sk_config *cfg,
			       char *buf, size_t buflen)
{
	(void)k;
	format_prefixes(cfg->hep_sources.n, cfg->hep_sources.items, buf, buflen);
}

/* The key itself is never shown: only whether one is set. */
static void format_secret(const struct sk_config_key *k, const struct sk_config *cfg, char *buf,
			  size_t buflen)
{
	snprintf(buf, buflen, "%s", ((const char *)cfg + k->offset)[0] != '\0' ? "(set)" : "");
}

static void format_sip_ports(const struct sk_config_key *k, const struct sk_config *cfg, char *buf,
			     size_t buflen)
{
	size_t used = 0;
	unsigned int port;

	(void)k;
	buf[0] = '\0';
	for (port = 1; port < 65536 && used < buflen; port++)
		if (sk_config_is_sip_port(cfg, (uint16_t)port))
			used += (size_t)snprintf(buf + used, buflen - used, "%s%u", used ? "," : "",
						 port);
}

_Static_assert(sizeof(enum sk_callinfo_policy) == sizeof(uint32_t) &&
		       sizeof(enum sk_sip_detect) == sizeof(uint32_t) &&
		       sizeof(enum sk_scanner_action) == sizeof(uint32_t),
	       "enumerations are stored in 32 bits");

#define SK_FIELD(f)                                                                                \
	.offset = offsetof(struct sk_config, f), .size = sizeof(((struct sk_config *)0)->f)
#define SK_NAMES(list) .names = (list), .n_names = SK_ARRAY_SIZE(list)

const struct sk_config_key sk_config_keys[] = {
#define SK_X(key, dflt, lo, hi, when, text)                                                        \
	{.name = #key,                                                                             \
	 .def = #dflt,                                                                             \
	 .help = text,                                                                             \
	 .run_time = when,                                                                         \
	 .number = true,                                                                           \
	 .min = lo,                                                                                \
	 .max = hi,                                                                                \
	 SK_FIELD(key),                                                                            \
	 .parse = parse_number,                                                                    \
	 .format = format_number},
	SK_CONFIG_INTS(SK_X)
#undef SK_X
		{.name = "callinfo_policy",
		 .def = "registered",
		 .help = "urn:x-cisco-remotecc Call-Info to and from access phones: removed unless "
			 "the phone registered with X-cisco-callinfo (registered), kept (pass), "
			 "always removed (strip)",
		 .run_time = SK_AT_RUN_TIME,
		 SK_NAMES(callinfo_policy_names),
		 SK_FIELD(callinfo_policy),
		 .parse = parse_name,
		 .format = format_name},
	{.name = "sip_detect",
	 .def = "ports",
	 .help = "look for SIP on the sip_ports only, or on every UDP port",
	 .run_time = SK_AT_START,
	 SK_NAMES(sip_detect_names),
	 SK_FIELD(sip_detect),
	 .parse = parse_name,
	 .format = format_name},
	{.name = "sip_ports",
	 .def = "5060",
	 .syntax = "PORT,...",
	 .help = "UDP ports carrying SIP",
	 .run_time = SK_AT_START,
	 SK_FIELD(sip_port_bits),
	 .parse = parse_sip_ports,
	 .format = format_sip_ports},
	{.name = "access_prefixes",
	 .def = "",
	 .syntax = "ADDR/LEN,...",
	 .help = "IPv4 and IPv6 prefixes on the access side (replay's direction)",
	 .run_time = SK_AT_START,
	 /* The count and the prefixes it counts. */
	 .offset = offsetof(struct sk_config, n_access_prefixes),
	 .size = offsetof(struct sk_config, access_prefixes) +
		 sizeof(((struct sk_config *)0)->access_prefixes) -
		 offsetof(struct sk_config, n_access_prefixes),
	 .parse = parse_access_prefixes,
	 .format = format_access_prefixes},
	{.name = "control_socket",
	 .def = "/run/sipkeep/sipkeep.sock",
	 .syntax = "PATH",
	 .help = "the control socket's path, absolute",
	 .run_time = SK_AT_START,
	 SK_FIELD(control_socket),
	 .parse = parse_control_socket,
	 .format = format_text},
	{.name = "scanner_signatures",
	 .def = "default",
	 .syntax = "default|none|NAME,...",
	 .help = "User-Agent product names of SIP scanners, matched whole in requests from access "
		 "(sip_scanner_matched); default: the built-in list",
	 .run_time = SK_AT_START,
	 SK_FIELD(scanner_signatures),
	 .parse = parse_text,
	 .format = format_text},
	{.name = "scanner_action",
	 .def = "count",
	 .help = "what a request from a SIP scanner gets: counted only, or dropped too",
	 .run_time = SK_AT_RUN_TIME,
	 SK_NAMES(scanner_action_names),
	 SK_FIELD(scanner_action),
	 .parse = parse_name,
	 .format = format_name},
	{.name = "metrics_listen",
	 .def = "",
	 .syntax = "ADDR:PORT",
	 .help = "serve Prometheus metrics (GET /metrics) on this TCP address, IPv4 or [IPv6]; "
		 "empty: off",
	 .run_time = SK_AT_START,
	 SK_FIELD(metrics_listen),
	 .parse = parse_metrics_listen,
	 .format = format_text},
	{.name = "hep_listen",
	 .def = "",
	 .syntax = "ADDR:PORT",
	 .help = "take SIP mirrored as HEP (HEPv3 over UDP and TCP, HEPv2 over UDP) on this "
		 "address, IPv4 or [IPv6], on the control side; empty: off (docs/HEP.md)",
	 .run_time = SK_AT_START,
	 SK_FIELD(hep_listen),
	 .parse = parse_hep_listen,
	 .format = format_text},
	{.name = "hep_sources",
	 .def = "",
	 .syntax = "ADDR/LEN,...",
	 .help = "IPv4 and IPv6 prefixes allowed to send HEP; empty: none (hep_source_refused)",
	 .run_time = SK_AT_START,
	 SK_FIELD(hep_sources),
	 .parse = parse_hep_sources,
	 .format = format_hep_sources},
	{.name = "hep_auth_key",
	 .def = "",
	 .syntax = "TEXT",
	 .help = "the HEPv3 auth key every HEP frame must carry (hep_auth_refused); empty: none "
		 "asked; show config says only whether one is set",
	 .run_time = SK_AT_START,
	 SK_FIELD(hep_auth_key),
	 .parse = parse_text,
	 .format = format_secret},
	{.name = NULL},
};

_Static_assert(SK_ARRAY_SIZE(sk_config_keys) <= SK_CONFIG_MAX_KEYS + 1, "raise SK_CONFIG_MAX_KEYS");

const struct sk_config_key *sk_config_key(const char *name)
{
	const struct sk_config_key *k;

	for (k = sk_config_keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

void sk_config_syntax(const struct sk_config_key *k, char *buf, size_t buflen)
{
	size_t i, used = 0;

	buf[0] = '\0';
	if (k->number)
		snprintf(buf, buflen, "N");
	else if (k->names == NULL)
		snprintf(buf, buflen, "%s", k->syntax);
	for (i = 0; i < k->n_names && used < buflen; i++)
		used += (size_t)snprintf(buf + used, buflen - used, "%s%s", i ? "|" : "",
					 k->names[i]);
}

void sk_config_defaults(struct sk_config *cfg)
{
	const struct sk_config_key *k;
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	/* Parsed like a config file's values: tests/unit/test_config.c checks that each one is. */
	for (k = sk_config_keys; k->name != NULL; k++)
		(void)k->parse(k, cfg, k->def, err, sizeof(err));
}

int sk_config_set(struct sk_config *cfg, const char *key, const char *value, char *err,
		  size_t errlen)
{
	const struct sk_config_key *k = sk_config_key(key);

	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	return k->parse(k, cfg, value, err, errlen);
}

int sk_config_get(const struct sk_config *cfg, const char *key, char *buf, size_t buflen)
{
	const struct sk_config_key *k = sk_config_key(key);

	if (k == NULL)
		return -1;
	k->format(k, cfg, buf, buflen);
	return 0;
}

int sk_config_set_running(struct sk_config *live, const char *key, const char *value, char *err,
			  size_t errlen)
{
	const struct sk_config_key *k = sk_config_key(key);
	struct sk_config *tmp;
	int rc;

	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	if (!k->run_time || k->size != sizeof(uint32_t)) {
		snprintf(err, errlen, "key '%s' is read at start only (config file)", key);
		return -1;
	}
	tmp = calloc(1, sizeof(*tmp));
	if (tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = k->parse(k, tmp, value, err, errlen);
	if (rc == 0)
		__atomic_store_n(u32_at(live, k), *u32_in(tmp, k), __ATOMIC_RELEASE);
	free(tmp);
	return rc;
}

void sk_config_snapshot(struct sk_config *out, const struct sk_config *live)
{
	const struct sk_config_key *k;

	/* Padding too, as sk_config_defaults leaves it: a snapshot compares equal byte for byte. */
	memset(out, 0, sizeof(*out));
	for (k = sk_config_keys; k->name != NULL; k++) {
		if (k->run_time)
			*u32_at(out, k) = __atomic_load_n(u32_in(live, k), __ATOMIC_ACQUIRE);
		else /* fixed once the daemon runs */
			memcpy((char *)out + k->offset, (const char *)live + k->offset, k->size);
	}
}

void sk_config_usage(FILE *f)
{
	const struct sk_config_key *k;
	char syntax[256];

	for (k = sk_config_keys; k->name != NULL; k++) {
		sk_config_syntax(k, syntax, sizeof(syntax));
		fprintf(f, "  %s = %s  (", k->name, syntax);
		if (k->number)
			fprintf(f, "%u..%u, ", k->min, k->max);
		fprintf(f, "default %s%s)\n      %s\n", k->def[0] ? k->def : "empty",
			k->run_time ? ", settable at run time" : "", k->help);
	}
}

void sk_config_roff_text(FILE *f, const char *s)
{
	fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void sk_config_man_table(FILE *f)
{
	const struct sk_config_key *k;
	char syntax[256];

	fputs(".TS\nallbox;\nlb lb lb lb lb\nl l l l lx.\nKey\tValue\tDefault\tChanges\tMeaning\n",
	      f);
	for (k = sk_config_keys; k->name != NULL; k++) {
		sk_config_syntax(k, syntax, sizeof(syntax));
		sk_config_roff_text(f, k->name);
		fputc('\t', f);
		sk_config_roff_text(f, syntax);
		if (k->number)
			fprintf(f, " (%u..%u)", k->min, k->max);
		fputc('\t', f);
		sk_config_roff_text(f, k->def);
		fprintf(f, "\t%s\tT{\n", k->run_time ? "at run time" : "at restart");
		sk_config_roff_text(f, k->help);
		fputs("\nT}\n", f);
	}
	fputs(".TE\n", f);
}

static bool prefixes_have(unsigned int n, const struct sk_prefix *items, int family,
			  const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct sk_prefix *p = &items[i];
		unsigned int full = p->len / 8, rest = p->len % 8;

		if (p->family != family)
			continue;
		if (memcmp(p->addr, addr, full) != 0)
			continue;
		if (rest == 0 || ((p->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0)
			return true;
	}
	return false;
}

bool sk_config_is_access_addr(const struct sk_config *cfg, int family, const uint8_t *addr)
{
	return prefixes_have(cfg->n_access_prefixes, cfg->access_prefixes, family, addr);
}

bool sk_prefix_set_has(const struct sk_prefix_set *set, int family, const uint8_t *addr)
{
	return prefixes_have(set->n, set->items, family, addr);
}
