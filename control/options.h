/* SPDX-License-Identifier: BSD-3-Clause */
/* sipkeep's own command-line options (those after `--`, or all of them in replay mode). */
#ifndef SK_OPTIONS_H
#define SK_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sk_options {
	const char *config_path;
	const char *stats_json;
	const char *replay_in;
	const char *replay_out;
	uint16_t access_port;
	uint16_t core_port;
	unsigned int workers;		 /* 0 = one per worker lcore */
	unsigned int replay_control_lag; /* the control thread runs every Nth frame (0, 1: each) */
	bool help;
};

/* Parse ARGV (argv[0] is the program name). Returns 0, or -1 after printing why. */
int sk_options_parse(struct sk_options *o, int argc, char **argv);

void sk_options_usage(FILE *f, const char *prog);

#endif /* SK_OPTIONS_H */
