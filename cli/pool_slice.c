/*
 * `acre --controller URL slice ...`: the slice commands against the pool,
 * through the controller's HTTP API.  The same flags and the same table
 * style as on one node; slices in the pool always run detached (their
 * output stays on their node), and the table gains a NODE column.
 */
#include "cli.h"

#include <getopt.h>

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void fmt_cpus(const json_t *res, char *buf, size_t len)
{
	json_t *c = json_object_get(res, "cpus");
	if (json_is_number(c) && json_number_value(c) > 0)
		snprintf(buf, len, "%g", json_number_value(c));
	else
		snprintf(buf, len, "-");
}

static void fmt_mem(const json_t *res, char *buf, size_t len)
{
	json_t *m = json_object_get(res, "memory");
	if (json_is_integer(m) && json_integer_value(m) > 0)
		acre_format_size((uint64_t)json_integer_value(m), buf, len);
	else
		snprintf(buf, len, "-");
}

static int pool_run(struct cli *cli, int argc, char **argv)
{
	struct acre_error err = {0};
	struct run_request req;
	if (run_flags_parse(argc, argv, &req, &err) < 0)
		return cli_fail(&err);
	_cleanup_json_ json_t *body = json_pack("{s:o}", "spec", req.spec);
	if (req.placement)
		json_object_set_new(body, "placement", req.placement);
	if (req.remove)
		return cli_failf("--rm is not available in a pool: remove the slice with acre slice rm");
	_cleanup_json_ json_t *res = cli_api(cli, CLI_POST, "/v1/slices", body, &err);
	if (!res)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	printf("%s\n", str(res, "name"));
	if (!strcmp(str(res, "state"), "pending"))
		fprintf(stderr, "acre: slice %s is pending: %s\n", str(res, "name"),
			str(res, "reason"));
	return 0;
}

static void list_row(struct table *t, const json_t *s)
{
	json_t *r = json_object_get(s, "resources");
	char cpus[16], mem[32], restarts[16], age[32];
	fmt_cpus(r, cpus, sizeof(cpus));
	fmt_mem(r, mem, sizeof(mem));
	snprintf(restarts, sizeof(restarts), "%lld",
		 (long long)json_integer_value(json_object_get(s, "restarts")));
	fmt_age(json_integer_value(json_object_get(s, "created_at")), age, sizeof(age));
	const char *node = str(s, "node");
	const char *cells[] = {str(s, "name"),	   str(s, "state"), *node ? node : "-",
			       cpus,		   mem,		    restarts,
			       age,		   str(s, "reason")[0] ? str(s, "reason") : "-",
			       str(s, "command")};
	table_add(t, cells);
}

static int pool_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
					     {"state", required_argument, NULL, 's'},
					     {0}};
	const char *node = NULL, *state = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'n')
			node = optarg;
		else if (c == 's')
			state = optarg;
		else
			return cli_failf("usage: acre slice list [--node ID] [--state STATE]");
	}
	if (optind < argc)
		return cli_failf("usage: acre slice list [--node ID] [--state STATE]");
	json_t *all = json_array();
	_cleanup_json_ json_t *hold = all;
	json_int_t after = 0;
	/* A page at a time: a pool may hold a million slices. */
	for (;;) {
		struct acre_error err = {0};
		char path[512];
		int n = snprintf(path, sizeof(path), "/v1/slices?spec=1&limit=5000&after=%lld",
				 (long long)after);
		if (node)
			n += snprintf(path + n, sizeof(path) - (size_t)n, "&node=%s", node);
		if (state)
			snprintf(path + n, sizeof(path) - (size_t)n, "&state=%s", state);
		_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, path, NULL, &err);
		if (!res)
			return cli_fail(&err);
		json_array_extend(all, json_object_get(res, "slices"));
		json_t *next = json_object_get(res, "next_after");
		if (!json_is_integer(next))
			break;
		after = json_integer_value(next);
	}
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, all);
		return 0;
	}
	static const char *const headers[] = {"NAME",	  "STATE", "NODE",   "CPUS",    "MEMORY",
					      "RESTARTS", "AGE",   "REASON", "COMMAND", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *s;
	json_array_foreach(all, i, s)
		list_row(t, s);
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int pool_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf("usage: acre slice show NAME");
	struct acre_error err = {0};
	char path[128];
	snprintf(path, sizeof(path), "/v1/slices/%s", argv[1]);
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, path, NULL, &err);
	if (!res)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	json_t *r = json_object_get(res, "resources");
	char cpus[16], mem[32], created[32], updated[32];
	fmt_cpus(r, cpus, sizeof(cpus));
	fmt_mem(r, mem, sizeof(mem));
	fmt_age(json_integer_value(json_object_get(res, "created_at")), created, sizeof(created));
	fmt_age(json_integer_value(json_object_get(res, "updated_at")), updated, sizeof(updated));
	printf("name:       %s\n", str(res, "name"));
	printf("state:      %s%s%s%s\n", str(res, "state"), str(res, "reason")[0] ? " (" : "",
	       str(res, "reason"), str(res, "reason")[0] ? ")" : "");
	printf("node:       %s\n", str(res, "node")[0] ? str(res, "node") : "-");
	printf("desired:    %s\n", str(res, "desired"));
	printf("command:    %s\n", str(res, "command"));
	printf("resources:  cpus %s, memory %s\n", cpus, mem);
	printf("restart:    %s (restarts: %lld)\n", str(res, "restart"),
	       (long long)json_integer_value(json_object_get(res, "restarts")));
	json_t *p = json_object_get(res, "placement");
	if (p) {
		printf("placement:  strategy %s", str(p, "strategy"));
		if (str(p, "spread")[0])
			printf(", spread %s", str(p, "spread"));
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(p, "constraints"), i, c)
			printf(", %s", json_string_value(c));
		printf("\n");
	}
	printf("created:    %s ago\n", created);
	printf("changed:    %s ago\n", updated);
	return 0;
}

static int pool_kill(struct cli *cli, int argc, char **argv)
{
	struct slice_kill_args ka;
	int status = slice_kill_args(argc, argv, &ka);
	if (status)
		return status;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = json_object();
	if (ka.has_signal)
		json_object_set_new(body, "signal", json_integer(ka.signo));
	char path[128];
	snprintf(path, sizeof(path), "/v1/slices/%s/kill", ka.name);
	_cleanup_json_ json_t *res = cli_api(cli, CLI_POST, path, body, &err);
	if (!res)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	return 0;
}

static int pool_rm(struct cli *cli, int argc, char **argv)
{
	bool force;
	int status = slice_rm_args(argc, argv, &force);
	if (status)
		return status;
	for (int i = optind; i < argc; i++) {
		struct acre_error err = {0};
		char path[160];
		snprintf(path, sizeof(path), "/v1/slices/%s%s", argv[i], force ? "?force=1" : "");
		_cleanup_json_ json_t *res = cli_api(cli, CLI_DELETE, path, NULL, &err);
		if (!res) {
			status = cli_fail(&err);
			continue;
		}
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, res);
	}
	return status;
}

static int not_in_pool(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	return cli_failf("slice %s reads the node itself: use it with --socket on the slice's node "
			 "(acre slice show NAME says which)",
			 argv[0]);
}

const struct command pool_slice_commands[] = {
	{"run", pool_run,
	 "[--name N] [--cpus X] [--memory SIZE] ... (as without --controller)\n"
	 "        [--constraint ATTR==V|ATTR!=V]... [--spread ATTR] [--strategy binpack|spread]\n"
	 "        -- COMMAND [ARG...]   (always detached in a pool)"},
	{"list", pool_list, "[--node ID] [--state STATE]"},
	{"show", pool_show, "NAME"},
	{"stat", not_in_pool, "(on the node: acre --socket ... slice stat)"},
	{"logs", not_in_pool, "(on the node: acre --socket ... slice logs)"},
	{"kill", pool_kill, "NAME [--signal SIG]"},
	{"rm", pool_rm, "NAME... [--force]"},
	{NULL, NULL, NULL},
};
