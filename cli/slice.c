/*
 * `acre slice ...`: the one table of slice verbs.  Where the slices are is
 * chosen once, here: the pool's controller with --controller (or
 * $ACRE_CONTROLLER), else the node whose socket --socket names; every verb
 * then asks that backend and prints what it answers the same way.
 */
#include "cli.h"

static const struct command commands[] = {
	{"run", slice_cmd_run,
	 "[--name N] [--cpus X] [--memory SIZE] [--pids N] [--net MODE] [--net-rate RATE]\n"
	 "        [--rootfs DIR] [--rw] [--user U] [--cwd DIR] [--env K=V]... [--label K=V]...\n"
	 "        [--seccomp default|unconfined|FILE] [--cap CAP]... [--restart POLICY]\n"
	 "        [--isolated] [--allow CIDR[:PORT]]... [--publish NODE_PORT:PORT[/tcp|udp]]...\n"
	 "        [--volume NAME:SIZE:PATH]...\n"
	 "        [--artifact URI,sha256=HEX|sha256_from=URL|sha512_from=URL,path=PATH"
	 "[,extract=true|false]]...\n"
	 "        [--secret NAME=VALUE]... [--secret-file NAME=PATH]...  (/run/secrets/NAME)\n"
	 "        [--check-http PORT[/PATH]] [--check-tcp PORT] [--check-cmd 'CMD']...\n"
	 "        [--ready-http PORT[/PATH]] [--ready-tcp PORT] [--ready-cmd 'CMD']...\n"
	 "        [--check-grace DUR] [--check-interval DUR] [--check-timeout DUR]\n"
	 "        [--check-failures N]   (defaults 15s, 5s, 2s, 3; e.g. 200ms, 0.5s)\n"
	 "        [-d|--detach] [--rm] -- COMMAND [ARG...]\n"
	 "      in a pool (--controller), placed with\n"
	 "        [--constraint ATTR==V|ATTR!=V]... [--spread ATTR] [--unique node|ATTR]\n"
	 "        [--strategy binpack|spread]   (--spread and --unique count the slices of\n"
	 "        one app together: label acre.app, else app; in the foreground its output\n"
	 "        comes through the controller; stdin does not)"},
	{"list", slice_cmd_list, "[--label K=V]... [--state STATE] [--node ID (in a pool)]"},
	{"show", slice_cmd_show, "NAME"},
	{"stat", slice_cmd_stat, "[NAME...] [--watch [SECONDS]]   (on a node)"},
	{"logs", slice_cmd_logs, "NAME [-f|--follow]"},
	{"kill", slice_cmd_kill, "NAME [--signal SIG]"},
	{"rm", slice_cmd_rm, "NAME... [--force]"},
	{NULL, NULL, NULL},
};

int do_slice(struct cli *cli, int argc, char **argv)
{
	cli->slices =
		cli->controller && *cli->controller ? &slice_pool_backend : &slice_node_backend;
	return dispatch_object(cli, argc, argv, "slice", commands);
}

int slice_unsupported(struct cli *cli, const char *verb)
{
	return cli_failf(cli, EOPNOTSUPP, "slice %s is not available in a %s: %s", verb,
			 cli->slices->name, cli->slices->lacks);
}
