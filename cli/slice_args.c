/*
 * Options of `slice kill` and `slice rm`, parsed once for both places a
 * slice lives: a node's socket and the controller.  Options may come before
 * or after the names, so `acre slice kill web --signal HUP` works either way.
 */
#include "cli.h"

#include <getopt.h>

int slice_kill_args(int argc, char **argv, struct slice_kill_args *out)
{
	static const struct option opts[] = {{"signal", required_argument, NULL, 's'}, {0}};
	const char *sig = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c != 's')
			return cli_failf("usage: acre slice kill NAME [--signal SIG]");
		sig = optarg;
	}
	if (optind + 1 != argc)
		return cli_failf("usage: acre slice kill NAME [--signal SIG]");
	*out = (struct slice_kill_args){.name = argv[optind]};
	if (sig) {
		struct acre_error err = {0};
		if (acre_parse_signal(sig, &out->signo, &err, "--signal") < 0)
			return cli_fail(&err);
		out->has_signal = true;
	}
	return 0;
}

int slice_rm_args(int argc, char **argv, bool *force)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
	int c;
	*force = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_failf("usage: acre slice rm NAME... [--force]");
		*force = true;
	}
	if (optind >= argc)
		return cli_failf("usage: acre slice rm NAME... [--force]");
	return 0;
}
