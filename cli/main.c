/*
 * acre: the command line for admins.  Global options come before the
 * object, a command's options before `--`.  Exit status 0 on success, 1 on
 * error with one line on stderr (under -j/-p, an error object on stdout); a
 * foreground run exits with its task's.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>

/* One line an object; the slice verbs work on a node or, with --controller, on the pool. */
static const struct command objects[] = {
	{"slice", do_slice, "run | list | show | stat | logs | kill | rm"},
	{"node", do_node,
	 "list | show | rm | cordon | uncordon | drain  (with --controller) | local"},
	{"app", do_app,
	 "run | list | show | update | scale | restart | rollback | stop | start | move | rm | "
	 "versions | logs  (with --controller)"},
	{"deployment", do_deployment, "list | show | cancel  (with --controller)"},
	{"pkg", do_pkg,
	 "search | show | list | install | upgrade | rollback | uninstall | repo  (with "
	 "--controller)"},
	{"pool", do_pool, "show  (with --controller)"},
	{"events", do_events, "[--since N] [--type T]... [--label K=V]... [--once]"},
	{"volume", do_volume, "list | rm NAME  (this node's persistent volumes)"},
	{"why", do_why, "[slice | app] NAME  (with --controller)"},
	{NULL, NULL, NULL},
};

#define DEFAULT_TIMEOUT_MS 60000
/* Waits are kept in an int of milliseconds (poll's); a day is more than enough. */
#define MAX_TIMEOUT_MS (24 * 3600 * 1000)

static int parse_timeout(const char *s, const char *field, uint64_t *ms, struct acre_error *err)
{
	if (acre_parse_duration(s, ms, err, field) < 0)
		return -EINVAL;
	if (*ms > MAX_TIMEOUT_MS)
		return acre_error_set(err, EINVAL, field, "%s %s: at most 24h (0 waits forever)",
				      field, s);
	return 0;
}

static void usage(FILE *out)
{
	fputs("usage: acre [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "  OBJECT: slice, node, app, deployment, pkg, pool, volume, events, why\n"
	      "  OPTIONS:\n"
	      "    --socket PATH      the supervisor's socket (default /run/acre/supervisor.sock,\n"
	      "                       or $ACRE_SOCKET)\n"
	      "    --controller URL   the pool's controller, http://HOST:PORT (or "
	      "$ACRE_CONTROLLER):\n"
	      "                       slice commands then act on the pool\n"
	      "    --token T          the controller's API token (or $ACRE_TOKEN)\n"
	      "    --token-file F     ... read from a file (or $ACRE_TOKEN_FILE;\n"
	      "                       default /etc/acre/api-token)\n"
	      "    --timeout DUR      how long a request waits for its reply (default 60s,\n"
	      "                       or $ACRE_TIMEOUT; 0: forever)\n"
	      "    -j, --json         print JSON\n"
	      "    -p, --pretty       print indented JSON\n"
	      "    -h, --help, --version\n"
	      "Commands:\n",
	      out);
	for (const struct command *o = objects; o->name; o++)
		fprintf(out, "  acre %s { %s }\n", o->name, o->usage);
	fputs("Names may be shortened to a unique prefix: acre sl st is acre slice stat.\n", out);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"controller", required_argument, NULL, 'C'},
		{"token", required_argument, NULL, 'T'},
		{"token-file", required_argument, NULL, 'F'},
		{"timeout", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"pretty", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct cli cli = {.socket_path = getenv("ACRE_SOCKET"),
			  .controller = getenv("ACRE_CONTROLLER"),
			  .output = OUTPUT_TABLE,
			  .timeout_ms = DEFAULT_TIMEOUT_MS};
	struct acre_error err = {0};
	const char *env_timeout = getenv("ACRE_TIMEOUT"), *timeout = NULL, *bad = NULL;
	if (!cli.socket_path || !*cli.socket_path)
		cli.socket_path = "/run/acre/supervisor.sock";
	signal(SIGPIPE, SIG_IGN);
	int c;
	opterr = 0; /* a bad option is reported below, as JSON under -j */
	/* "+": stop at the object; what follows belongs to the command. */
	while ((c = getopt_long(argc, argv, "+jph", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli.socket_path = optarg;
			break;
		case 'C':
			cli.controller = optarg;
			break;
		case 'T':
			cli.token = optarg;
			break;
		case 'F':
			cli.token_file = optarg;
			break;
		case 't':
			timeout = optarg;
			break;
		case 'j':
			cli.output = OUTPUT_JSON;
			break;
		case 'p':
			cli.output = OUTPUT_PRETTY;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("acre %s\n", ACRE_VERSION);
			return 0;
		default:
			bad = argv[optind - 1];
			break;
		}
	}
	if (bad) {
		cli_failf(&cli, EINVAL, "%s: unknown option or missing value (see acre --help)",
			  bad);
		if (cli.output == OUTPUT_TABLE)
			usage(stderr);
		return 1;
	}
	/* Read once -j is known, so that a bad value is reported as JSON too;
	 * --timeout wins over $ACRE_TIMEOUT, which must still be valid. */
	if (env_timeout && *env_timeout &&
	    parse_timeout(env_timeout, "ACRE_TIMEOUT", &cli.timeout_ms, &err) < 0)
		return cli_fail(&cli, &err);
	if (timeout && parse_timeout(timeout, "--timeout", &cli.timeout_ms, &err) < 0)
		return cli_fail(&cli, &err);
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const struct command *obj = dispatch_find(objects, argv[optind], "object", &err);
	if (!obj)
		return cli_fail(&cli, &err);
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* commands parse their own options from here */
	return obj->fn(&cli, sub_argc, sub_argv);
}
