/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Print the config keys for the documentation and the package, from the key
 * table that also prints --help:
 *   sipkeep-config-keys-man                a tbl(1) table for the man page, one row per key
 *   sipkeep-config-keys-man --man-list     the same as a man page list (.TP per key)
 *   sipkeep-config-keys-man --config-file  /etc/sipkeep/sipkeep.conf: every key
 *                                          commented at its default
 */
#include <stdio.h>
#include <string.h>

#include "sk_config.h"

/* Write TEXT as '#   ' comment lines of at most about 78 columns. */
static void comment_wrapped(FILE *f, const char *text)
{
	const size_t width = 74;
	const char *p = text;

	while (*p != '\0') {
		size_t len = strlen(p), cut = len;

		if (len > width) {
			cut = width;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0) /* one long word: keep it whole */
				cut = strcspn(p, " ");
		}
		fprintf(f, "#   %.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void config_file(FILE *f)
{
	const struct sk_config_key *k;
	char syntax[256];

	fputs("# /etc/sipkeep/sipkeep.conf: sipkeep's settings, read at start (sipkeep --config).\n"
	      "#\n"
	      "# One 'key = value' per line; '#' starts a comment. Every key is listed below,\n"
	      "# commented out at its built-in default: uncomment a line to change it.\n"
	      "# Keys marked 'settable at run time' may also be changed while sipkeep runs\n"
	      "# with 'sipkeepctl set KEY VALUE'; the others take effect at restart.\n"
	      "# See sipkeep.conf(5). This file is generated from sipkeep's key table.\n",
	      f);
	for (k = sk_config_keys; k->name != NULL; k++) {
		sk_config_syntax(k, syntax, sizeof(syntax));
		fprintf(f, "\n# %s = %s", k->name, syntax);
		if (k->number)
			fprintf(f, "  (%u..%u)", k->min, k->max);
		fprintf(f, "%s\n", k->run_time ? ", settable at run time" : "");
		comment_wrapped(f, k->help);
		if (k->def[0] != '\0')
			fprintf(f, "#%s = %s\n", k->name, k->def);
		else
			fprintf(f, "#   (default: empty)\n#%s = %s\n", k->name, syntax);
	}
}

static void man_list(FILE *f)
{
	const struct sk_config_key *k;
	char syntax[256];

	for (k = sk_config_keys; k->name != NULL; k++) {
		sk_config_syntax(k, syntax, sizeof(syntax));
		fputs(".TP\n\\fB", f);
		sk_config_roff_text(f, k->name);
		fputs("\\fR = \\fI", f);
		sk_config_roff_text(f, syntax);
		fputs("\\fR\n", f);
		sk_config_roff_text(f, k->help);
		fputs(".\n.br\n", f);
		if (k->number)
			fprintf(f, "Range %u to %u; d", k->min, k->max);
		else
			fputs("D", f);
		fputs("efault: ", f);
		sk_config_roff_text(f, k->def[0] ? k->def : "empty");
		fprintf(f, "; %s.\n",
			k->run_time ? "settable at run time (sipkeepctl set)"
				    : "changes at restart");
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--config-file") == 0)
		config_file(stdout);
	else if (argc == 2 && strcmp(argv[1], "--man-list") == 0)
		man_list(stdout);
	else if (argc == 1)
		sk_config_man_table(stdout);
	else {
		fprintf(stderr, "usage: %s [--man-list | --config-file]\n", argv[0]);
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
