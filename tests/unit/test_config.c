/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file loader and the settings API: defaults, syntax (comments,
 * whitespace), every error path with a message that names FILE:LINE and the
 * key, the get/set round trip, prefix parsing and access-address matching.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_config.h"
#include "sk_test.h"

static char tmpdir[] = "/tmp/sk_test_config.XXXXXX";
static unsigned int file_no;

/* Write TEXT to a fresh file and return its path (static buffer per call slot). */
static const char *write_file(const char *text)
{
	static char paths[4][512];
	char *path = paths[file_no % 4];
	FILE *f;

	snprintf(path, sizeof(paths[0]), "%s/case%u.conf", tmpdir, file_no++);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load TEXT over defaults; on failure return the message in err, "" on success. */
static int load_text(struct sk_config *cfg, const char *text, char *err, size_t errlen,
		     const char **path_out)
{
	const char *path = write_file(text);

	if (path_out)
		*path_out = path;
	sk_config_defaults(cfg);
	err[0] = '\0';
	return sk_config_load(cfg, path, err, errlen);
}

static unsigned int count_sip_ports(const struct sk_config *cfg)
{
	unsigned int port, n = 0;

	for (port = 0; port < 65536; port++)
		n += sk_config_is_sip_port(cfg, (uint16_t)port);
	return n;
}

/* Expect TEXT to be refused, with "PATH:LINE: " and every needle in the message. */
static void expect_error(const char *what, const char *text, unsigned int line, const char *needle1,
			 const char *needle2)
{
	static struct sk_config cfg;
	char err[1024], where[600];
	const char *path;
	int rc = load_text(&cfg, text, err, sizeof(err), &path);

	snprintf(where, sizeof(where), "%s:%u: ", path, line);
	SK_CHECK(rc == -1, "%s: refused (rc %d)", what, rc);
	SK_CHECK(strncmp(err, where, strlen(where)) == 0,
		 "%s: message starts with FILE:LINE '%s' (got '%s')", what, where, err);
	if (needle1)
		SK_CHECK_CONTAINS(err, needle1, "%s: message says %s", what, needle1);
	if (needle2)
		SK_CHECK_CONTAINS(err, needle2, "%s: message says %s", what, needle2);
}

static void test_defaults(void)
{
	static struct sk_config cfg;
	char buf[256];

	memset(&cfg, 0x5a, sizeof(cfg));
	sk_config_defaults(&cfg);
#define SK_X(name, def, min, max, when, help)                                                      \
	SK_CHECK_EQ(cfg.name, def, "default %s = %u", #name, (unsigned int)(def));                 \
	SK_CHECK((def) >= (min) && (def) <= (max), "default %s within [%u, %u]", #name,            \
		 (unsigned int)(min), (unsigned int)(max));
	SK_CONFIG_INTS(SK_X)
#undef SK_X
	SK_CHECK_EQ(cfg.persist_window_ms, 12000, "default: persist_window_ms defaults to 12000");
	SK_CHECK_EQ(cfg.callinfo_policy, SK_CALLINFO_REGISTERED,
		    "default: callinfo_policy defaults to registered");
	SK_CHECK_EQ(cfg.sip_detect, SK_SIP_DETECT_PORTS, "sip_detect defaults to ports");
	SK_CHECK(sk_config_is_sip_port(&cfg, 5060), "default: sip_ports defaults to 5060");
	SK_CHECK_EQ(count_sip_ports(&cfg), 1, "default sip_ports is 5060 only");
	SK_CHECK_EQ(cfg.n_access_prefixes, 0, "no access prefixes by default");
	SK_CHECK(cfg.control_socket[0] == '/', "default control_socket is absolute ('%s')",
		 cfg.control_socket);
	SK_CHECK(sk_config_get(&cfg, "sip_ports", buf, sizeof(buf)) == 0 &&
			 strcmp(buf, "5060") == 0,
		 "sk_config_get sip_ports on defaults = '5060' (got '%s')", buf);
	SK_CHECK(sk_config_get(&cfg, "access_prefixes", buf, sizeof(buf)) == 0 && buf[0] == '\0',
		 "sk_config_get access_prefixes on defaults = '' (got '%s')", buf);
	SK_CHECK_STR(sk_callinfo_policy_name(SK_CALLINFO_REGISTERED), "registered",
		     "policy name registered");
	SK_CHECK_STR(sk_callinfo_policy_name(SK_CALLINFO_PASS), "pass", "policy name pass");
	SK_CHECK_STR(sk_callinfo_policy_name(SK_CALLINFO_STRIP), "strip", "policy name strip");
}

static void test_syntax(void)
{
	static struct sk_config cfg;
	char err[1024], buf[256];
	int rc;

	rc = load_text(&cfg, "", err, sizeof(err), NULL);
	SK_CHECK(rc == 0 && cfg.persist_window_ms == 12000, "empty file: accepted, defaults kept");

	rc = load_text(&cfg,
		       "# sipkeep test config\n"
		       "\n"
		       "   # indented comment\n"
		       "persist_window_ms = 5000   # trailing comment\n"
		       "\t\t\n"
		       "media_silence_ms=750\n"
		       "  dialog_linger_ms\t=\t1234  \n"
		       "callinfo_policy = strip\r\n"
		       "sip_detect = any\n"
		       "sip_ports = 5060, 5080 ,,5062\n"
		       "access_prefixes = 10.0.0.0/8 , 2001:db8::/32\n"
		       "control_socket = /tmp/a=b.sock\n"
		       "max_users = 16\n"
		       "mbufs = 4194303",
		       err, sizeof(err), NULL);
	SK_CHECK(rc == 0, "comments, blank lines, tabs, CRLF, no final newline: accepted (%s)",
		 err);
	SK_CHECK_EQ(cfg.persist_window_ms, 5000, "value before a trailing comment");
	SK_CHECK_EQ(cfg.media_silence_ms, 750, "no spaces around '='");
	SK_CHECK_EQ(cfg.dialog_linger_ms, 1234, "tabs around '=' and leading spaces");
	SK_CHECK_EQ(cfg.callinfo_policy, SK_CALLINFO_STRIP, "CRLF line ending: callinfo strip");
	SK_CHECK_EQ(cfg.sip_detect, SK_SIP_DETECT_ANY, "sip_detect any");
	SK_CHECK(sk_config_is_sip_port(&cfg, 5060) && sk_config_is_sip_port(&cfg, 5080) &&
			 sk_config_is_sip_port(&cfg, 5062),
		 "sip_ports list with spaces and an empty item: 5060, 5080, 5062");
	SK_CHECK_EQ(count_sip_ports(&cfg), 3, "sip_ports replaces the default: exactly 3 ports");
	SK_CHECK_EQ(cfg.n_access_prefixes, 2, "two access prefixes");
	SK_CHECK_STR(cfg.control_socket, "/tmp/a=b.sock", "value containing '=' kept whole");
	SK_CHECK_EQ(cfg.max_users, 16, "minimum value accepted (max_users 16)");
	SK_CHECK_EQ(cfg.mbufs, 4194303, "maximum value on the last line without newline");
	SK_CHECK(sk_config_get(&cfg, "sip_ports", buf, sizeof(buf)) == 0 &&
			 strcmp(buf, "5060,5062,5080") == 0,
		 "sip_ports read back sorted: '5060,5062,5080' (got '%s')", buf);

	rc = load_text(&cfg, "persist_window_ms = 1\npersist_window_ms = 2\n", err, sizeof(err),
		       NULL);
	SK_CHECK(rc == 0 && cfg.persist_window_ms == 2, "a key given twice: the last one wins");

	/* Loading is "over the current contents": keys not in the file keep their values. */
	sk_config_defaults(&cfg);
	cfg.media_silence_ms = 999;
	rc = sk_config_load(&cfg, write_file("persist_window_ms = 7\n"), err, sizeof(err));
	SK_CHECK(rc == 0 && cfg.media_silence_ms == 999 && cfg.persist_window_ms == 7,
		 "load keeps settings the file does not mention");

	rc = load_text(&cfg, "sip_ports = 5060 # , 5070\n", err, sizeof(err), NULL);
	SK_CHECK(rc == 0 && count_sip_ports(&cfg) == 1, "'#' ends the value inside a list");

	rc = load_text(&cfg, "callinfo_policy = pass\n", err, sizeof(err), NULL);
	SK_CHECK(rc == 0 && cfg.callinfo_policy == SK_CALLINFO_PASS, "callinfo_policy pass");
	rc = load_text(&cfg, "callinfo_policy = registered\nsip_detect = ports\n", err, sizeof(err),
		       NULL);
	SK_CHECK(rc == 0 && cfg.callinfo_policy == SK_CALLINFO_REGISTERED &&
			 cfg.sip_detect == SK_SIP_DETECT_PORTS,
		 "callinfo_policy registered, sip_detect ports");
}

static void test_errors(void)
{
	char big[9000], line[600];
	char many[2048];
	size_t used = 0;
	int i;

	expect_error("unknown key", "# c\n\npersist_window_ms = 1\nno_such_key = 3\n", 4,
		     "no_such_key", "unknown key");
	expect_error("missing '='", "persist_window_ms 100\n", 1, "key = value",
		     "persist_window_ms 100");
	expect_error("missing key", "\n\n  = 100\n", 3, "missing key", NULL);
	expect_error("missing value", "persist_window_ms =   # nothing\n", 1, "'persist_window_ms'",
		     "missing value");
	expect_error("non-number", "media_silence_ms = 12ms\n", 1, "'media_silence_ms'",
		     "not a number");
	expect_error("negative number", "media_silence_ms = -5\n", 1, "'media_silence_ms'",
		     "not a number");
	expect_error("hex number", "max_users = 0x100\n", 1, "'max_users'", "not a number");
	expect_error("plus sign", "max_users = +100\n", 1, "'max_users'", "not a number");
	expect_error("space inside a number", "max_users = 10 0\n", 1, "'max_users'",
		     "not a number");
	expect_error("number too big for 64 bits", "max_users = 99999999999999999999999\n", 1,
		     "'max_users'", NULL);
	expect_error("below the minimum", "media_silence_ms = 49\n", 1, "'media_silence_ms'",
		     "out of range [50, 600000]");
	expect_error("above the maximum", "media_silence_ms = 600001\n", 1, "'media_silence_ms'",
		     "out of range [50, 600000]");
	expect_error("above the maximum (persist_window_ms)", "persist_window_ms = 3600001\n", 1,
		     "'persist_window_ms'", "3600001");
	expect_error("2^32 + 16 must not wrap to 16", "max_users = 4294967312\n", 1, "'max_users'",
		     "out of range");
	expect_error("bad callinfo_policy", "callinfo_policy = STRIP\n", 1, "'callinfo_policy'",
		     "registered, pass, strip");
	expect_error("bad sip_detect", "sip_detect = some\n", 1, "'sip_detect'", "ports, any");
	expect_error("bad sip_ports item", "sip_ports = 5060, sip\n", 1, "'sip_ports'", "'sip'");
	expect_error("sip_ports item 0", "sip_ports = 0\n", 1, "'sip_ports'", "out of range");
	expect_error("sip_ports item 65536", "sip_ports = 65536\n", 1, "'sip_ports'",
		     "out of range");
	expect_error("empty sip_ports", "sip_ports = , ,\n", 1, "'sip_ports'", "at least one");
	expect_error("bad prefix (mask 33)", "access_prefixes = 10.0.0.0/33\n", 1,
		     "'access_prefixes'", "10.0.0.0/33");
	expect_error("bad prefix (mask 129)", "access_prefixes = 2001:db8::/129\n", 1,
		     "'access_prefixes'", "2001:db8::/129");
	expect_error("bad prefix (no mask after '/')", "access_prefixes = 10.0.0.0/\n", 1,
		     "'access_prefixes'", NULL);
	expect_error("bad prefix (name)", "access_prefixes = 10.0.0.0/8, example.com\n", 1,
		     "'access_prefixes'", "example.com");
	expect_error("bad prefix (trailing junk)", "access_prefixes = 10.0.0.0/8x\n", 1,
		     "'access_prefixes'", NULL);
	expect_error("bad prefix (octet 256)", "access_prefixes = 10.0.0.256/32\n", 1,
		     "'access_prefixes'", NULL);

	used = (size_t)snprintf(many, sizeof(many), "access_prefixes = ");
	for (i = 0; i < SK_MAX_PREFIXES + 1; i++)
		used += (size_t)snprintf(many + used, sizeof(many) - used, "%s10.%d.0.0/16",
					 i ? "," : "", i);
	snprintf(many + used, sizeof(many) - used, "\n");
	expect_error("too many prefixes", many, 1, "'access_prefixes'", "more than 64");

	expect_error("relative control_socket", "control_socket = run/sipkeep.sock\n", 1,
		     "'control_socket'", "absolute");
	snprintf(line, sizeof(line), "control_socket = /%0107d\n", 0);
	expect_error("control_socket of 108 bytes (sun_path)", line, 1, "'control_socket'", "108");

	memset(big, 'x', sizeof(big));
	memcpy(big, "\n\nsip_ports = 5060", 18);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	expect_error("line too long", big, 3, "line longer than", NULL);

	/* Long but not too long for a line: too long for a list value. */
	memset(big, ' ', 5000);
	memcpy(big, "sip_ports = 5060", 16);
	memcpy(big + 4990, ",5062\n", 7);
	expect_error("list value longer than the list buffer", big, 1, "'sip_ports'",
		     "longer than");

	/* Errors after good lines report the right line number. */
	expect_error(
		"error on line 7 after comments and good lines",
		"# a\n\n\tpersist_window_ms = 1\n# b\nsip_ports = 5060\n\ncallinfo_policy = x\n", 7,
		"'callinfo_policy'", NULL);
}

static void test_unreadable(void)
{
	static struct sk_config cfg;
	char err[1024], path[600];
	int rc;

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	sk_config_defaults(&cfg);
	rc = sk_config_load(&cfg, path, err, sizeof(err));
	SK_CHECK(rc == -1, "missing file refused");
	SK_CHECK(strncmp(err, path, strlen(path)) == 0, "missing file: message names the path (%s)",
		 err);
	SK_CHECK_CONTAINS(err, "No such file", "missing file: message gives the system's reason");

	if (geteuid() != 0) {
		const char *p = write_file("persist_window_ms = 1\n");

		chmod(p, 0);
		rc = sk_config_load(&cfg, p, err, sizeof(err));
		SK_CHECK(rc == -1 && strstr(err, p) != NULL,
			 "unreadable file (mode 000) refused, path named (%s)", err);
	} else {
		SK_NOTE("running as root: mode 000 is readable, permission case not checked");
	}
}

/*
 * A directory opens fine with fopen() but every read fails (EISDIR): a config
 * path that names a directory must be refused, not read as an empty file.
 */
static void test_directory(void)
{
	static struct sk_config cfg;
	char err[1024];
	int rc;

	sk_config_defaults(&cfg);
	err[0] = '\0';
	rc = sk_config_load(&cfg, tmpdir, err, sizeof(err));
	SK_CHECK(rc == -1, "a directory given as the config file is refused (rc %d)", rc);
	SK_CHECK(strstr(err, tmpdir) != NULL, "directory as config: message names it ('%s')", err);
}

static void test_set_api(void)
{
	static struct sk_config cfg;
	char err[512];
	int rc;

	sk_config_defaults(&cfg);
	rc = sk_config_set(&cfg, "nope", "1", err, sizeof(err));
	SK_CHECK(rc == -1, "sk_config_set unknown key refused");
	SK_CHECK_CONTAINS(err, "'nope'", "sk_config_set unknown key: message names the key");

	rc = sk_config_set(&cfg, "sip_ports", "5070,5071", err, sizeof(err));
	SK_CHECK(rc == 0 && count_sip_ports(&cfg) == 2 && !sk_config_is_sip_port(&cfg, 5060),
		 "sk_config_set sip_ports replaces the set");
	rc = sk_config_set(&cfg, "sip_ports", "5080,bad", err, sizeof(err));
	SK_CHECK(rc == -1 && count_sip_ports(&cfg) == 2 && sk_config_is_sip_port(&cfg, 5070) &&
			 !sk_config_is_sip_port(&cfg, 5080),
		 "a refused sip_ports leaves the previous set untouched");
	SK_CHECK_CONTAINS(err, "key 'sip_ports'", "sk_config_set error names the key");

	rc = sk_config_set(&cfg, "access_prefixes", "10.0.0.0/8", err, sizeof(err));
	SK_CHECK(rc == 0 && cfg.n_access_prefixes == 1, "sk_config_set access_prefixes");
	rc = sk_config_set(&cfg, "access_prefixes", "192.168.0.0/16,bogus", err, sizeof(err));
	SK_CHECK(rc == -1 && cfg.n_access_prefixes == 1 && cfg.access_prefixes[0].len == 8,
		 "a refused access_prefixes leaves the previous list untouched");

	rc = sk_config_set(&cfg, "persist_window_ms", "0", err, sizeof(err));
	SK_CHECK(rc == 0 && cfg.persist_window_ms == 0, "persist_window_ms 0 (its minimum)");
	rc = sk_config_set(&cfg, "persist_window_ms", "", err, sizeof(err));
	SK_CHECK(rc == -1, "sk_config_set with an empty number refused");

	{
		char path[200];

		snprintf(path, sizeof(path), "/%0106d", 0); /* 107 bytes: fits sun_path */
		rc = sk_config_set(&cfg, "control_socket", path, err, sizeof(err));
		SK_CHECK(rc == 0 && strcmp(cfg.control_socket, path) == 0,
			 "control_socket of 107 bytes accepted");
	}
}

static void test_round_trip(void)
{
	static struct sk_config a, b;
	char err[512], v1[4096], v2[4096];
	const struct sk_config_key *key;
	unsigned int n = 0;
	int rc;

	sk_config_defaults(&a);
	rc = sk_config_load(&a,
			    write_file("persist_window_ms = 4321\n"
				       "media_silence_ms = 333\n"
				       "frag_max_flows = 77\n"
				       "stats_interval_ms = 5\n"
				       "callinfo_policy = pass\n"
				       "sip_detect = any\n"
				       "sip_ports = 65535, 1, 5060, 5061\n"
				       "access_prefixes = 10.8.0.0/13, 2001:db8::/127, 0.0.0.0/0, "
				       "192.0.2.1\n"
				       "control_socket = /var/run/x.sock\n"),
			    err, sizeof(err));
	SK_CHECK(rc == 0, "round-trip config loads (%s)", rc ? err : "ok");

	for (key = sk_config_keys; key->name != NULL; key++) {
		const char *const *k = &key->name;

		n++;
		sk_config_defaults(&b);
		rc = sk_config_get(&a, *k, v1, sizeof(v1));
		if (rc != 0) {
			SK_CHECK(0, "sk_config_get knows listed key '%s'", *k);
			continue;
		}
		if (v1[0] == '\0') {
			SK_CHECK(strcmp(*k, "access_prefixes") != 0,
				 "key '%s' reads back empty only if it may", *k);
			continue;
		}
		rc = sk_config_set(&b, *k, v1, err, sizeof(err));
		SK_CHECK(rc == 0, "key '%s': the value read back ('%s') is accepted by set", *k,
			 v1);
		sk_config_get(&b, *k, v2, sizeof(v2));
		SK_CHECK(strcmp(v1, v2) == 0, "key '%s' round trip: '%s' -> '%s'", *k, v1, v2);
	}
	SK_CHECK(n >= 17, "sk_config_keys lists %u keys, NULL-terminated", n);

	sk_config_get(&a, "sip_ports", v1, sizeof(v1));
	SK_CHECK_STR(v1, "1,5060,5061,65535", "sip_ports get: both ends of the port range");
	sk_config_get(&a, "access_prefixes", v1, sizeof(v1));
	SK_CHECK_STR(v1, "10.8.0.0/13,2001:db8::/127,0.0.0.0/0,192.0.2.1/32",
		     "access_prefixes get: CIDR text, bare address as /32");
	sk_config_get(&a, "callinfo_policy", v1, sizeof(v1));
	SK_CHECK_STR(v1, "pass", "callinfo_policy get");
	sk_config_get(&a, "sip_detect", v1, sizeof(v1));
	SK_CHECK_STR(v1, "any", "sip_detect get");
	sk_config_get(&a, "persist_window_ms", v1, sizeof(v1));
	SK_CHECK_STR(v1, "4321", "persist_window_ms get");
	sk_config_get(&a, "control_socket", v1, sizeof(v1));
	SK_CHECK_STR(v1, "/var/run/x.sock", "control_socket get");
	SK_CHECK(sk_config_get(&a, "no_such_key", v1, sizeof(v1)) == -1,
		 "sk_config_get unknown key returns -1");

	{
		char small[8];

		memset(small, 'Z', sizeof(small));
		sk_config_get(&a, "access_prefixes", small, sizeof(small));
		SK_CHECK(memchr(small, '\0', sizeof(small)) != NULL,
			 "sk_config_get into a small buffer stays terminated ('%s')", small);
		memset(small, 'Z', sizeof(small));
		sk_config_get(&a, "sip_ports", small, sizeof(small));
		SK_CHECK(memchr(small, '\0', sizeof(small)) != NULL,
			 "sk_config_get sip_ports into a small buffer stays terminated ('%s')",
			 small);
	}
}

/* Every key is declared once (sk_config_keys): what is generated from the declaration. */
static void test_key_table(void)
{
	static struct sk_config def, cfg, snap;
	const struct sk_config_key *k;
	char err[512], v[4096], syntax[256];
	unsigned int n_run_time = 0;

	sk_config_defaults(&def);
	for (k = sk_config_keys; k->name != NULL; k++) {
		SK_CHECK(strlen(k->name) < SK_CONFIG_NAME_MAX, "key '%s': name fits", k->name);
		SK_CHECK(k->help != NULL && k->help[0] != '\0', "key '%s' has help", k->name);
		SK_CHECK(sk_config_key(k->name) == k, "key '%s' declared once", k->name);
		sk_config_syntax(k, syntax, sizeof(syntax));
		SK_CHECK(syntax[0] != '\0', "key '%s' has a syntax", k->name);
		/* The default text is the default: it parses, and the default reads back as it. */
		memset(&cfg, 0x5a, sizeof(cfg));
		sk_config_defaults(&cfg);
		SK_CHECK(k->parse(k, &cfg, k->def, err, sizeof(err)) == 0,
			 "key '%s': default '%s' parses (%s)", k->name, k->def, err);
		SK_CHECK(memcmp((const char *)&cfg + k->offset, (const char *)&def + k->offset,
				k->size) == 0,
			 "key '%s': default '%s' parses to the default", k->name, k->def);
		sk_config_get(&def, k->name, v, sizeof(v));
		SK_CHECK(strcmp(v, k->def) == 0, "key '%s': default reads back as '%s' (got '%s')",
			 k->name, k->def, v);
		if (k->run_time) {
			n_run_time++;
			SK_CHECK(k->size == sizeof(uint32_t),
				 "key '%s' settable at run time is stored in 32 bits", k->name);
			SK_CHECK(sk_config_set_running(&cfg, k->name, k->def, err, sizeof(err)) ==
					 0,
				 "key '%s' settable at run time: set to its default (%s)", k->name,
				 err);
		} else {
			SK_CHECK(sk_config_set_running(&cfg, k->name, k->def, err, sizeof(err)) ==
					 -1,
				 "key '%s' not settable at run time: set refused", k->name);
			SK_CHECK_CONTAINS(err, "start only", "key '%s': refusal says why", k->name);
		}
	}
	SK_CHECK_EQ(n_run_time, 4, "four keys settable at run time");
	SK_CHECK(sk_config_key("callinfo_policy")->run_time &&
			 sk_config_key("scanner_action")->run_time,
		 "callinfo_policy and scanner_action are settable at run time");

	/* set at run time: publishes the one value, refuses bad values and leaves it. */
	sk_config_defaults(&cfg);
	SK_CHECK(sk_config_set_running(&cfg, "callinfo_policy", "strip", err, sizeof(err)) == 0 &&
			 cfg.callinfo_policy == SK_CALLINFO_STRIP,
		 "set callinfo_policy strip at run time");
	SK_CHECK(sk_config_set_running(&cfg, "media_silence_ms", "49", err, sizeof(err)) == -1 &&
			 cfg.media_silence_ms == 2000,
		 "a refused run-time value leaves the setting");
	SK_CHECK_CONTAINS(err, "out of range", "run-time set uses the loader's rules");
	SK_CHECK(sk_config_set_running(&cfg, "max_users", "100", err, sizeof(err)) == -1 &&
			 cfg.max_users == 16384,
		 "max_users is not settable at run time");
	SK_CHECK(sk_config_set_running(&cfg, "nope", "1", err, sizeof(err)) == -1,
		 "unknown key refused at run time");

	/* A snapshot reads back every key as the original. */
	sk_config_set(&cfg, "sip_ports", "5060,5080", err, sizeof(err));
	sk_config_set(&cfg, "access_prefixes", "10.0.0.0/8", err, sizeof(err));
	memset(&snap, 0x5a, sizeof(snap));
	sk_config_snapshot(&snap, &cfg);
	SK_CHECK(memcmp(&snap, &cfg, sizeof(cfg)) == 0,
		 "snapshot copies every byte of the settings");
}

/* Count the lines of TEXT that start with PREFIX. */
static unsigned int count_lines(const char *text, const char *prefix)
{
	unsigned int n = 0;
	const char *p;

	for (p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

/* --help and the man page table list every key once. */
static void test_key_docs(void)
{
	const struct sk_config_key *k;
	char *usage = NULL, *man = NULL, prefix[128];
	size_t usage_len = 0, man_len = 0;
	unsigned int n_keys = 0;
	FILE *f;

	f = open_memstream(&usage, &usage_len);
	sk_config_usage(f);
	fclose(f);
	f = open_memstream(&man, &man_len);
	sk_config_man_table(f);
	fclose(f);
	for (k = sk_config_keys; k->name != NULL; k++) {
		n_keys++;
		snprintf(prefix, sizeof(prefix), "  %s = ", k->name);
		SK_CHECK_EQ(count_lines(usage, prefix), 1, "--help lists '%s' once", k->name);
		snprintf(prefix, sizeof(prefix), "\\&%s\t", k->name);
		SK_CHECK_EQ(count_lines(man, prefix), 1, "the man table lists '%s' once", k->name);
	}
	SK_CHECK_CONTAINS(usage,
			  "  callinfo_policy = registered|pass|strip  (default registered, "
			  "settable at run time)",
			  "--help: an enumeration's values, default and run-time mark");
	SK_CHECK_CONTAINS(usage, "  max_users = N  (16..16777216, default 16384)",
			  "--help: an integer's range and default");
	SK_CHECK(strncmp(man, ".TS\n", 4) == 0 && strstr(man, "\n.TE\n") != NULL,
		 "the man table is one tbl(1) table");
	SK_CHECK_EQ(count_lines(man, "T}"), n_keys, "each row's text block closes");
	free(usage);
	free(man);
}

static bool in4(const struct sk_config *cfg, const char *addr)
{
	uint8_t a[4];

	if (inet_pton(AF_INET, addr, a) != 1)
		abort();
	return sk_config_is_access_addr(cfg, 4, a);
}

static bool in6(const struct sk_config *cfg, const char *addr)
{
	uint8_t a[16];

	if (inet_pton(AF_INET6, addr, a) != 1)
		abort();
	return sk_config_is_access_addr(cfg, 6, a);
}

static void with_prefixes(struct sk_config *cfg, const char *list)
{
	char err[256];

	sk_config_defaults(cfg);
	if (sk_config_set(cfg, "access_prefixes", list, err, sizeof(err)) != 0) {
		SK_CHECK(0, "access_prefixes '%s' accepted (%s)", list, err);
	}
}

static void test_access_addr(void)
{
	static struct sk_config cfg;
	struct sk_prefix p;

	sk_config_defaults(&cfg);
	SK_CHECK(!in4(&cfg, "10.0.0.1") && !in6(&cfg, "::1"), "no prefixes: nothing is access");

	with_prefixes(&cfg, "0.0.0.0/0");
	SK_CHECK(in4(&cfg, "0.0.0.0") && in4(&cfg, "255.255.255.255") && in4(&cfg, "8.8.8.8"),
		 "IPv4 /0 matches every IPv4 address");
	SK_CHECK(!in6(&cfg, "::") && !in6(&cfg, "2001:db8::1"), "IPv4 /0 matches no IPv6 address");

	with_prefixes(&cfg, "10.8.0.0/13");
	SK_CHECK(in4(&cfg, "10.8.0.0") && in4(&cfg, "10.15.255.255") && in4(&cfg, "10.12.1.2"),
		 "IPv4 /13: 10.8.0.0 - 10.15.255.255 inside");
	SK_CHECK(!in4(&cfg, "10.7.255.255") && !in4(&cfg, "10.16.0.0") && !in4(&cfg, "11.8.0.0"),
		 "IPv4 /13: 10.7.255.255, 10.16.0.0, 11.8.0.0 outside");

	with_prefixes(&cfg, "192.0.2.77/32");
	SK_CHECK(in4(&cfg, "192.0.2.77"), "IPv4 /32: the address itself");
	SK_CHECK(!in4(&cfg, "192.0.2.76") && !in4(&cfg, "192.0.2.78") && !in4(&cfg, "64.0.2.77"),
		 "IPv4 /32: neighbours and a differing first byte outside");

	with_prefixes(&cfg, "192.0.2.77");
	SK_CHECK(in4(&cfg, "192.0.2.77") && !in4(&cfg, "192.0.2.76"), "bare IPv4 address is a /32");

	with_prefixes(&cfg, "172.16.0.0/12, 0.0.0.0/1");
	SK_CHECK(in4(&cfg, "127.255.255.255") && !in4(&cfg, "128.0.0.0") &&
			 in4(&cfg, "172.31.0.1") && !in4(&cfg, "172.32.0.1"),
		 "IPv4 /1 and /12 together");

	with_prefixes(&cfg, "2001:db8::/127");
	SK_CHECK(in6(&cfg, "2001:db8::") && in6(&cfg, "2001:db8::1"),
		 "IPv6 /127: ::0 and ::1 inside");
	SK_CHECK(!in6(&cfg, "2001:db8::2") && !in6(&cfg, "2001:db8::3") &&
			 !in6(&cfg, "2001:db9::") && !in6(&cfg, "3001:db8::"),
		 "IPv6 /127: ::2, ::3, other first bytes outside");
	SK_CHECK(!in4(&cfg, "32.1.13.184"), "IPv6 prefix never matches an IPv4 address");

	with_prefixes(&cfg, "::/0");
	SK_CHECK(in6(&cfg, "::") && in6(&cfg, "ffff::1") && !in4(&cfg, "1.2.3.4"),
		 "IPv6 /0 matches every IPv6 address and no IPv4 one");

	with_prefixes(&cfg, "2001:db8:abcd::/45");
	SK_CHECK(in6(&cfg, "2001:db8:abc8::1") && in6(&cfg, "2001:db8:abcf:ffff::") &&
			 !in6(&cfg, "2001:db8:abd0::") && !in6(&cfg, "2001:db8:abc7:ffff::"),
		 "IPv6 /45 (odd length): 2001:db8:abc8:: - 2001:db8:abcf:ffff:... inside");

	with_prefixes(&cfg, "2001:db8::5/128, 10.0.0.0/8");
	SK_CHECK(in6(&cfg, "2001:db8::5") && !in6(&cfg, "2001:db8::4") && in4(&cfg, "10.1.1.1"),
		 "IPv6 /128 and an IPv4 prefix in one list");

	SK_CHECK(sk_prefix_parse("2001:db8::1", &p) == 0 && p.family == 6 && p.len == 128,
		 "sk_prefix_parse: bare IPv6 address is a /128");
	SK_CHECK(sk_prefix_parse("10.0.0.0/0", &p) == 0 && p.family == 4 && p.len == 0,
		 "sk_prefix_parse: /0");
	SK_CHECK(sk_prefix_parse("/8", &p) == -1, "sk_prefix_parse: no address refused");
	SK_CHECK(sk_prefix_parse("10.0.0.0/-1", &p) == -1, "sk_prefix_parse: /-1 refused");
	SK_CHECK(sk_prefix_parse("10.0.0.0/8/8", &p) == -1, "sk_prefix_parse: two masks refused");
	SK_CHECK(sk_prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255:1/64", &p) == -1,
		 "sk_prefix_parse: over-long address refused");
	SK_CHECK(sk_prefix_parse("", &p) == -1, "sk_prefix_parse: empty string refused");
}

/* test_config            everything but the directory case
 * test_config directory  a directory as the config file */
int main(int argc, char **argv)
{
	char cmd[600];
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "directory") == 0) {
		test_directory();
	} else {
		test_defaults();
		test_syntax();
		test_errors();
		test_unreadable();
		test_set_api();
		test_round_trip();
		test_key_table();
		test_key_docs();
		test_access_addr();
	}
	rc = sk_test_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc;
}
