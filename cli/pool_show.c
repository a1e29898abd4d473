/*
 * `acre pool show`: the pool's capacity at a glance, in all and per
 * attribute value, from the controller (--controller or $ACRE_CONTROLLER).
 * -j prints the API's pool object (controller/README.md).
 */
#include "cli.h"

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
	/* Bandwidth of the nodes that declare theirs (bit/s). */
	char net[112], x[32], y[32], z[32];
	acre_format_rate((uint64_t)json_integer_value(json_object_get(c, "net")), x, sizeof(x));
	acre_format_rate((uint64_t)json_integer_value(json_object_get(u, "net")), y, sizeof(y));
	acre_format_rate((uint64_t)json_integer_value(json_object_get(f, "net")), z, sizeof(z));
	snprintf(net, sizeof(net), "%s/%s/%s", x, y, z);
	const char *cells[] = {attr, value, nodes, cpus, mem, net};
	table_add(t, cells);
}

static int pool_show(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "pool show takes no arguments");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *p = cli_api(cli, CLI_GET, "/v1/pool", NULL, &err);
	if (!p)
		return cli_fail(cli, &err);
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
	json_t *cap = json_object_get(p, "capacity"), *used = json_object_get(p, "used"),
	       *fr = json_object_get(p, "free");
	char nc[32], nu[32], nf[32];
	acre_format_rate((uint64_t)json_integer_value(json_object_get(cap, "net")), nc, sizeof(nc));
	acre_format_rate((uint64_t)json_integer_value(json_object_get(used, "net")), nu,
			 sizeof(nu));
	acre_format_rate((uint64_t)json_integer_value(json_object_get(fr, "net")), nf, sizeof(nf));
	printf("net:     %s capacity, %s reserved, %s free", nc, nu, nf);
	json_int_t unlimited = json_integer_value(json_object_get(p, "net_unlimited_nodes"));
	if (unlimited)
		printf(" (and %lld nodes with no limit declared)", (long long)unlimited);
	printf("\n");
	printf("slices:  %lld running, %lld starting, %lld pending, %lld in all\n\n",
	       (long long)json_integer_value(json_object_get(s, "running")),
	       (long long)json_integer_value(json_object_get(s, "starting")),
	       (long long)json_integer_value(json_object_get(s, "pending")),
	       (long long)json_integer_value(json_object_get(s, "total")));
	static const char *const headers[] = {"ATTRIBUTE",
					      "VALUE",
					      "NODES",
					      "CPUS (CAP/USED/FREE)",
					      "MEMORY (CAP/USED/FREE)",
					      "NET (CAP/USED/FREE)",
					      NULL};
	struct table *t = table_new(headers);
	tally_row(t, "(all)", "", p);
	const char *k, *v;
	json_t *byval, *tally;
	json_object_foreach (json_object_get(p, "attributes"), k, byval)
		json_object_foreach (byval, v, tally)
			tally_row(t, k, v, tally);
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static const struct command pool_commands[] = {
	{"show", pool_show, ""},
	{NULL, NULL, NULL},
};

int do_pool(struct cli *cli, int argc, char **argv)
{
	return dispatch_object(cli, argc, argv, "pool", pool_commands);
}
