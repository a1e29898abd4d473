/*
 * `acre node list|show` and `acre pool show`: the pool's nodes and its
 * capacity at a glance, from the controller (--controller or
 * $ACRE_CONTROLLER).  Tables and -j/-p print the same fields.
 */
#include "cli.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* "1.5/4" CPUs and "3G/16G" memory: free of capacity. */
static void free_of(const json_t *n, char *cpus, size_t clen, char *mem, size_t mlen)
{
	json_t *f = json_object_get(n, "free"), *c = json_object_get(n, "capacity");
	char a[32], b[32];
	snprintf(cpus, clen, "%g/%g", json_number_value(json_object_get(f, "cpus")),
		 json_number_value(json_object_get(c, "cpus")));
	acre_format_size((uint64_t)json_integer_value(json_object_get(f, "memory")), a, sizeof(a));
	acre_format_size((uint64_t)json_integer_value(json_object_get(c, "memory")), b, sizeof(b));
	snprintf(mem, mlen, "%s/%s", a, b);
}

static void attrs_text(const json_t *attrs, char *buf, size_t len)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	buf[0] = '\0';
	json_object_foreach((json_t *)attrs, k, v) {
		if (n >= len - 1)
			break;
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? "," : "", k,
				      json_string_value(v));
	}
	if (!n)
		snprintf(buf, len, "-");
}

static void seen_text(const json_t *n, char *buf, size_t len)
{
	json_int_t ms = json_integer_value(json_object_get(n, "last_seen_ms_ago"));
	acre_format_duration((uint64_t)(ms > 0 ? ms : 0), buf, len);
}

static int node_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf("node list takes no arguments");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, "/v1/nodes", NULL, &err);
	if (!res)
		return cli_fail(&err);
	json_t *nodes = json_object_get(res, "nodes");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, nodes);
		return 0;
	}
	static const char *const headers[] = {"ID",	  "HOSTNAME", "STATE", "CONNECTED",
					      "CPUS-FREE", "MEM-FREE", "SLICES", "SEEN",
					      "ATTRIBUTES", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *n;
	json_array_foreach(nodes, i, n) {
		char cpus[48], mem[64], slices[16], seen[32], attrs[512];
		free_of(n, cpus, sizeof(cpus), mem, sizeof(mem));
		snprintf(slices, sizeof(slices), "%lld",
			 (long long)json_integer_value(json_object_get(n, "slices")));
		seen_text(n, seen, sizeof(seen));
		attrs_text(json_object_get(n, "attributes"), attrs, sizeof(attrs));
		const char *cells[] = {str(n, "id"), str(n, "hostname"), str(n, "state"),
				       json_is_true(json_object_get(n, "connected")) ? "yes" : "no",
				       cpus,	     mem,		slices,		seen,
				       attrs};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int node_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf("usage: acre node show ID");
	struct acre_error err = {0};
	char path[128];
	snprintf(path, sizeof(path), "/v1/nodes/%s", argv[1]);
	_cleanup_json_ json_t *n = cli_api(cli, CLI_GET, path, NULL, &err);
	if (!n)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, n);
		return 0;
	}
	char cpus[48], mem[64], attrs[512], seen[32];
	free_of(n, cpus, sizeof(cpus), mem, sizeof(mem));
	attrs_text(json_object_get(n, "attributes"), attrs, sizeof(attrs));
	seen_text(n, seen, sizeof(seen));
	printf("id:          %s\n", str(n, "id"));
	printf("hostname:    %s\n", str(n, "hostname"));
	printf("state:       %s (%s, %s)\n", str(n, "state"),
	       json_is_true(json_object_get(n, "connected")) ? "connected" : "disconnected",
	       json_is_true(json_object_get(n, "schedulable")) ? "takes slices"
							       : "takes no slices");
	printf("address:     %s\n", str(n, "address"));
	printf("seen:        %s ago\n", seen);
	printf("free:        cpus %s, memory %s\n", cpus, mem);
	json_t *r = json_object_get(n, "reserved"), *l = json_object_get(n, "local");
	char rm[32], lm[32];
	acre_format_size((uint64_t)json_integer_value(json_object_get(r, "memory")), rm, sizeof(rm));
	acre_format_size((uint64_t)json_integer_value(json_object_get(l, "memory")), lm, sizeof(lm));
	printf("reserved:    cpus %g, memory %s (placed by the pool)\n",
	       json_number_value(json_object_get(r, "cpus")), rm);
	printf("local:       cpus %g, memory %s (run by the node alone)\n",
	       json_number_value(json_object_get(l, "cpus")), lm);
	printf("attributes:  %s\n", attrs);
	printf("slices:      %lld\n", (long long)json_integer_value(json_object_get(n, "slices")));
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(n, "slice_list"), i, s)
		printf("  %-32s %s\n", str(s, "id"), str(s, "state"));
	return 0;
}

static void tally_row(struct table *t, const char *attr, const char *value, const json_t *v)
{
	json_t *c = json_object_get(v, "capacity"), *u = json_object_get(v, "used"),
	       *f = json_object_get(v, "free");
	char nodes[16], cpus[64], mem[96], a[32], b[32], d[32];
	snprintf(nodes, sizeof(nodes), "%lld",
		 (long long)json_integer_value(json_object_get(v, "nodes")));
	snprintf(cpus, sizeof(cpus), "%g/%g/%g", json_number_value(json_object_get(c, "cpus")),
		 json_number_value(json_object_get(u, "cpus")),
		 json_number_value(json_object_get(f, "cpus")));
	acre_format_size((uint64_t)json_integer_value(json_object_get(c, "memory")), a, sizeof(a));
	acre_format_size((uint64_t)json_integer_value(json_object_get(u, "memory")), b, sizeof(b));
	acre_format_size((uint64_t)json_integer_value(json_object_get(f, "memory")), d, sizeof(d));
	snprintf(mem, sizeof(mem), "%s/%s/%s", a, b, d);
	const char *cells[] = {attr, value, nodes, cpus, mem};
	table_add(t, cells);
}

static int pool_show(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf("pool show takes no arguments");
	struct acre_error err = {0};
	_cleanup_json_ json_t *p = cli_api(cli, CLI_GET, "/v1/pool", NULL, &err);
	if (!p)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, p);
		return 0;
	}
	json_t *n = json_object_get(p, "nodes");
	printf("nodes:   %lld ready, %lld unreachable, %lld down (%lld in all)\n",
	       (long long)json_integer_value(json_object_get(n, "ready")),
	       (long long)json_integer_value(json_object_get(n, "unreachable")),
	       (long long)json_integer_value(json_object_get(n, "down")),
	       (long long)json_integer_value(json_object_get(n, "total")));
	json_t *s = json_object_get(p, "slices");
	printf("slices:  %lld running, %lld starting, %lld pending, %lld in all\n\n",
	       (long long)json_integer_value(json_object_get(s, "running")),
	       (long long)json_integer_value(json_object_get(s, "starting")),
	       (long long)json_integer_value(json_object_get(s, "pending")),
	       (long long)json_integer_value(json_object_get(s, "total")));
	static const char *const headers[] = {"ATTRIBUTE", "VALUE", "NODES",
					      "CPUS (CAP/USED/FREE)", "MEMORY (CAP/USED/FREE)",
					      NULL};
	struct table *t = table_new(headers);
	tally_row(t, "(all)", "", p);
	const char *k, *v;
	json_t *byval, *tally;
	json_object_foreach(json_object_get(p, "attributes"), k, byval)
		json_object_foreach(byval, v, tally)
			tally_row(t, k, v, tally);
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int need_controller(struct cli *cli)
{
	if (cli->controller && *cli->controller)
		return 0;
	return cli_failf("this needs the pool's controller: --controller URL or $ACRE_CONTROLLER");
}

static int run_object(struct cli *cli, int argc, char **argv, const struct command *table,
		      const char *object)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		FILE *out = argc < 2 ? stderr : stdout;
		fputs("usage:\n", out);
		dispatch_usage(table, object, out);
		return argc < 2 ? 1 : 0;
	}
	char what[32];
	snprintf(what, sizeof(what), "%s command", object);
	const struct command *cmd = dispatch_find(table, argv[1], what);
	if (!cmd)
		return 1;
	if (need_controller(cli))
		return 1;
	return cmd->fn(cli, argc - 1, argv + 1);
}

static const struct command node_commands[] = {
	{"list", node_list, ""},
	{"show", node_show, "ID"},
	{NULL, NULL, NULL},
};

static const struct command pool_commands[] = {
	{"show", pool_show, ""},
	{NULL, NULL, NULL},
};

int do_node(struct cli *cli, int argc, char **argv)
{
	return run_object(cli, argc, argv, node_commands, "node");
}

int do_pool(struct cli *cli, int argc, char **argv)
{
	return run_object(cli, argc, argv, pool_commands, "pool");
}
