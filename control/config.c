/* SPDX-License-Identifier: BSD-3-Clause */
/* The config file loader: "key = value" lines, '#' comments, errors that say where. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_common.h"
#include "sk_config.h"

#define SK_DEFAULT_CONTROL_SOCKET "/run/sipkeep/sipkeep.sock"
#define SK_DEFAULT_SIP_PORT 5060

const char *const sk_config_keys[] = {
#define SK_X(name, def, min, max, help) #name,
	SK_CONFIG_INTS(SK_X)
#undef SK_X
		"callinfo_policy",
	"sip_detect",
	"sip_ports",
	"access_prefixes",
	"control_socket",
	"scanner_signatures",
	"scanner_action",
	NULL,
};

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

void sk_config_defaults(struct sk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
#define SK_X(name, def, min, max, help) cfg->name = (def);
	SK_CONFIG_INTS(SK_X)
#undef SK_X
	cfg->callinfo_policy = SK_CALLINFO_REGISTERED;
	cfg->sip_detect = SK_SIP_DETECT_PORTS;
	cfg->sip_port_bits[SK_DEFAULT_SIP_PORT >> 6] |= 1ULL << (SK_DEFAULT_SIP_PORT & 63);
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", SK_DEFAULT_CONTROL_SOCKET);
	snprintf(cfg->scanner_signatures, sizeof(cfg->scanner_signatures), "default");
	cfg->scanner_action = SK_SCANNER_COUNT;
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

struct prefix_list {
	struct sk_prefix *items;
	unsigned int n;
};

static int add_prefix(const char *item, void *ctx, char *err, size_t errlen)
{
	struct prefix_list *list = ctx;

	if (list->n >= SK_MAX_PREFIXES) {
		snprintf(err, errlen, "key 'access_prefixes': more than %d prefixes",
			 SK_MAX_PREFIXES);
		return -1;
	}
	if (sk_prefix_parse(item, &list->items[list->n]) < 0) {
		snprintf(err, errlen,
			 "key 'access_prefixes': '%s' is not an IPv4 or IPv6 prefix (ADDR/LEN)",
			 item);
		return -1;
	}
	list->n++;
	return 0;
}

int sk_config_set(struct sk_config *cfg, const char *key, const char *value, char *err,
		  size_t errlen)
{
	char buf[4096];
	int e;

#define SK_X(name, def, min, max, help)                                                            \
	if (strcmp(key, #name) == 0)                                                               \
		return parse_u32(value, (min), (max), &cfg->name, err, errlen, key);
	SK_CONFIG_INTS(SK_X)
#undef SK_X

	if (strcmp(key, "callinfo_policy") == 0) {
		if (parse_enum(value, callinfo_policy_names, SK_ARRAY_SIZE(callinfo_policy_names),
			       &e, err, errlen, key) < 0)
			return -1;
		cfg->callinfo_policy = (enum sk_callinfo_policy)e;
		return 0;
	}
	if (strcmp(key, "scanner_action") == 0) {
		if (parse_enum(value, scanner_action_names, SK_ARRAY_SIZE(scanner_action_names), &e,
			       err, errlen, key) < 0)
			return -1;
		cfg->scanner_action = (enum sk_scanner_action)e;
		return 0;
	}
	if (strcmp(key, "sip_detect") == 0) {
		if (parse_enum(value, sip_detect_names, SK_ARRAY_SIZE(sip_detect_names), &e, err,
			       errlen, key) < 0)
			return -1;
		cfg->sip_detect = (enum sk_sip_detect)e;
		return 0;
	}
	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, errlen, "key '%s': value longer than %zu bytes", key,
			 sizeof(buf) - 1);
		return -1;
	}
	if (strcmp(key, "sip_ports") == 0) {
		uint64_t bits[SK_ARRAY_SIZE(cfg->sip_port_bits)] = {0};

		snprintf(buf, sizeof(buf), "%s", value);
		e = for_each_item(buf, add_sip_port, bits, err, errlen);
		if (e < 0)
			return -1;
		if (e == 0) {
			snprintf(err, errlen, "key 'sip_ports': needs at least one port");
			return -1;
		}
		memcpy(cfg->sip_port_bits, bits, sizeof(bits));
		return 0;
	}
	if (strcmp(key, "access_prefixes") == 0) {
		struct sk_prefix items[SK_MAX_PREFIXES];
		struct prefix_list list = {.items = items, .n = 0};

		snprintf(buf, sizeof(buf), "%s", value);
		if (for_each_item(buf, add_prefix, &list, err, errlen) < 0)
			return -1;
		memcpy(cfg->access_prefixes, items, list.n * sizeof(items[0]));
		cfg->n_access_prefixes = list.n;
		return 0;
	}
	if (strcmp(key, "control_socket") == 0) {
		if (value[0] != '/' || strlen(value) >= sizeof(cfg->control_socket) ||
		    strlen(value) >= 108 /* sun_path */) {
			snprintf(err, errlen,
				 "key 'control_socket': needs an absolute path shorter than 108 "
				 "bytes");
			return -1;
		}
		snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", value);
		return 0;
	}
	if (strcmp(key, "scanner_signatures") == 0) {
		if (strlen(value) >= sizeof(cfg->scanner_signatures)) {
			snprintf(err, errlen, "key 'scanner_signatures': longer than %zu bytes",
				 sizeof(cfg->scanner_signatures) - 1);
			return -1;
		}
		snprintf(cfg->scanner_signatures, sizeof(cfg->scanner_signatures), "%s", value);
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -1;
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

static void format_prefixes(const struct sk_config *cfg, char *buf, size_t buflen)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < cfg->n_access_prefixes && used < buflen; i++) {
		const struct sk_prefix *p = &cfg->access_prefixes[i];
		char a[INET6_ADDRSTRLEN];

		inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
		used += (size_t)snprintf(buf + used, buflen - used, "%s%s/%u", i ? "," : "", a,
					 p->len);
	}
}

static void format_ports(const struct sk_config *cfg, char *buf, size_t buflen)
{
	size_t used = 0;
	unsigned int port;

	buf[0] = '\0';
	for (port = 1; port < 65536 && used < buflen; port++)
		if (sk_config_is_sip_port(cfg, (uint16_t)port))
			used += (size_t)snprintf(buf + used, buflen - used, "%s%u", used ? "," : "",
						 port);
}

int sk_config_get(const struct sk_config *cfg, const char *key, char *buf, size_t buflen)
{
#define SK_X(name, def, min, max, help)                                                            \
	if (strcmp(key, #name) == 0)                                                               \
		return snprintf(buf, buflen, "%u", cfg->name), 0;
	SK_CONFIG_INTS(SK_X)
#undef SK_X
	if (strcmp(key, "callinfo_policy") == 0)
		return snprintf(buf, buflen, "%s", sk_callinfo_policy_name(cfg->callinfo_policy)),
		       0;
	if (strcmp(key, "sip_detect") == 0)
		return snprintf(buf, buflen, "%s", sip_detect_names[cfg->sip_detect]), 0;
	if (strcmp(key, "sip_ports") == 0)
		return format_ports(cfg, buf, buflen), 0;
	if (strcmp(key, "access_prefixes") == 0)
		return format_prefixes(cfg, buf, buflen), 0;
	if (strcmp(key, "control_socket") == 0)
		return snprintf(buf, buflen, "%s", cfg->control_socket), 0;
	if (strcmp(key, "scanner_signatures") == 0)
		return snprintf(buf, buflen, "%s", cfg->scanner_signatures), 0;
	if (strcmp(key, "scanner_action") == 0)
		return snprintf(buf, buflen, "%s", sk_scanner_action_name(cfg->scanner_action)), 0;
	return -1;
}

bool sk_config_is_access_addr(const struct sk_config *cfg, int family, const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < cfg->n_access_prefixes; i++) {
		const struct sk_prefix *p = &cfg->access_prefixes[i];
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
