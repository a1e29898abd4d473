/*
 * `acre slice ...`: the command table of the slice object.  With
 * --controller (or $ACRE_CONTROLLER) the same commands act on the pool,
 * through pool_slice.c.
 */
#include "cli.h"

static const struct command commands[] = {
	{"run", slice_run,
	 "[--name N] [--cpus X] [--memory SIZE] [--pids N] [--net MODE] [--net-rate RATE]\n"
	 "        [--rootfs DIR] [--rw] [--user U] [--cwd DIR] [--env K=V]... [--label K=V]...\n"
	 "        [--seccomp default|unconfined|FILE] [--cap CAP]... [--restart POLICY]\n"
	 "        [--isolated] [--allow CIDR[:PORT]]...\n"
	 "        [-d|--detach] [--rm] -- COMMAND [ARG...]"},
	{"list", slice_list, ""},
	{"show", slice_show, "NAME"},
	{"stat", slice_stat, "[NAME...] [--watch [SECONDS]]"},
	{"logs", slice_logs, "NAME [-f|--follow]"},
	{"kill", slice_kill, "NAME [--signal SIG]"},
	{"rm", slice_rm, "NAME [--force]"},
	{NULL, NULL, NULL},
};

int do_slice(struct cli *cli, int argc, char **argv)
{
	const struct command *table =
		cli->controller && *cli->controller ? pool_slice_commands : commands;
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		FILE *out = argc < 2 ? stderr : stdout;
		fputs("usage:\n", out);
		dispatch_usage(table, "slice", out);
		return argc < 2 ? 1 : 0;
	}
	const struct command *cmd = dispatch_find(table, argv[1], "slice command");
	if (!cmd)
		return 1;
	return cmd->fn(cli, argc - 1, argv + 1);
}
