/*
 * `acre node list|show|rm|cordon|uncordon|join-command` (drain:
 * node_drain.c): the pool's nodes, from the controller (--controller or
 * $ACRE_CONTROLLER).  Tables and -j/-p print the same fields; -j prints
 * the node objects of the API (controller/README.md).
 */
#include "cli.h"

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

static void seen_text(const json_t *n, char *buf, size_t len)
{
	json_int_t ms = json_integer_value(json_object_get(n, "last_seen_ms_ago"));
	acre_format_duration((uint64_t)(ms > 0 ? ms : 0), buf, len);
}

static int node_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "node list takes no arguments");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, "/v1/nodes", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *nodes = json_object_get(res, "nodes");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, nodes);
		return 0;
	}
	static const char *const headers[] = {"ID",	    "HOSTNAME", "STATE",  "CONNECTED",
					      "CPUS-FREE",  "MEM-FREE", "SLICES", "SEEN",
					      "ATTRIBUTES", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *n;
	json_array_foreach (nodes, i, n) {
		char cpus[48], mem[64], slices[16], seen[32], attrs[512];
		free_of(n, cpus, sizeof(cpus), mem, sizeof(mem));
		snprintf(slices, sizeof(slices), "%lld",
			 (long long)json_integer_value(json_object_get(n, "slices")));
		seen_text(n, seen, sizeof(seen));
		render_pairs(json_object_get(n, "attributes"), attrs, sizeof(attrs));
		char state[48];
		snprintf(state, sizeof(state), "%s%s%s", render_str(n, "state"),
			 json_is_true(json_object_get(n, "cordoned")) ? ",cordoned" : "",
			 json_is_true(json_object_get(n, "suspect")) ? ",suspect" : "");
		const char *cells[] = {render_str(n, "id"),
				       render_str(n, "hostname"),
				       state,
				       json_is_true(json_object_get(n, "connected")) ? "yes" : "no",
				       cpus,
				       mem,
				       slices,
				       seen,
				       attrs};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

/* Its part of the pool's network: the overlay, its subnet, the routes it was given; bandwidth. */
static void print_network(const json_t *net, const json_t *cap, const json_t *reserved)
{
	json_int_t c = json_integer_value(json_object_get(cap, "net"));
	char a[32] = "no limit declared", b[32];
	if (c > 0)
		acre_format_rate((uint64_t)c, a, sizeof(a));
	acre_format_rate((uint64_t)json_integer_value(json_object_get(reserved, "net")), b,
			 sizeof(b));
	printf("net:         %s (reserved %s)\n", a, b);
	if (!json_is_object(net))
		return;
	printf("overlay:     %s%s\n", render_str(net, "overlay"),
	       json_is_true(json_object_get(net, "joined")) ? "" : " (the node has not joined it)");
	printf("subnet:      %s\n", render_str(net, "subnet"));
	printf("net address: %s\n", render_str(net, "address"));
	json_t *routes = json_object_get(net, "routes");
	printf("routes:      %zu\n", json_array_size(routes));
	size_t i;
	json_t *r;
	json_array_foreach (routes, i, r)
		printf("  %-20s via %-16s (%s)\n", render_str(r, "subnet"), render_str(r, "via"),
		       render_str(r, "node"));
}

/* Where its volumes go: free of the filesystem's size, as the node last said. */
static void print_disk(const json_t *free_disk, const json_t *size)
{
	char a[32], b[32];
	if (!json_is_integer(free_disk)) {
		printf("disk:        not reported by the node\n");
		return;
	}
	acre_format_size((uint64_t)json_integer_value(free_disk), a, sizeof(a));
	acre_format_size((uint64_t)json_integer_value(size), b, sizeof(b));
	printf("disk:        %s free of %s (for volumes)\n", a, b);
}

static int node_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre node show ID");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_free_ char *id = cli_uri_escape(argv[1]);
	_cleanup_free_ char *path = NULL;
	if (!id || asprintf(&path, "/v1/nodes/%s", id) < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	_cleanup_json_ json_t *n = cli_api(cli, CLI_GET, path, NULL, &err);
	if (!n)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, n);
		return 0;
	}
	char cpus[48], mem[64], attrs[512], seen[32];
	free_of(n, cpus, sizeof(cpus), mem, sizeof(mem));
	render_pairs(json_object_get(n, "attributes"), attrs, sizeof(attrs));
	seen_text(n, seen, sizeof(seen));
	printf("id:          %s\n", render_str(n, "id"));
	printf("hostname:    %s\n", render_str(n, "hostname"));
	printf("state:       %s (%s, %s)\n", render_str(n, "state"),
	       json_is_true(json_object_get(n, "connected")) ? "connected" : "disconnected",
	       json_is_true(json_object_get(n, "cordoned"))	 ? "cordoned: takes no new slices"
	       : json_is_true(json_object_get(n, "schedulable")) ? "takes slices"
								 : "takes no slices");
	if (json_is_true(json_object_get(n, "suspect")))
		printf("suspect:     every checked slice here fails its checks at once: the node "
		       "is the likely cause; app instances here are not replaced until it is "
		       "judged lost\n");
	printf("address:     %s\n", render_str(n, "address"));
	printf("seen:        %s ago\n", seen);
	printf("free:        cpus %s, memory %s\n", cpus, mem);
	print_disk(json_object_get(json_object_get(n, "free"), "disk"),
		   json_object_get(json_object_get(n, "capacity"), "disk"));
	/* Where --net host app ports without a number come from (a controller of before: none). */
	if (json_is_string(json_object_get(n, "port_range")))
		printf("ports:       %s (--port-range), %lld free\n", render_str(n, "port_range"),
		       (long long)json_integer_value(
			       json_object_get(json_object_get(n, "free"), "ports")));
	json_t *r = json_object_get(n, "reserved"), *l = json_object_get(n, "local");
	char rm[32], lm[32];
	acre_format_size((uint64_t)json_integer_value(json_object_get(r, "memory")), rm,
			 sizeof(rm));
	acre_format_size((uint64_t)json_integer_value(json_object_get(l, "memory")), lm,
			 sizeof(lm));
	printf("reserved:    cpus %g, memory %s (placed by the pool)\n",
	       json_number_value(json_object_get(r, "cpus")), rm);
	printf("local:       cpus %g, memory %s (run by the node alone)\n",
	       json_number_value(json_object_get(l, "cpus")), lm);
	printf("attributes:  %s\n", attrs);
	print_network(json_object_get(n, "network"), json_object_get(n, "capacity"),
		      json_object_get(n, "reserved"));
	printf("slices:      %lld\n", (long long)json_integer_value(json_object_get(n, "slices")));
	size_t i;
	json_t *s;
	json_array_foreach (json_object_get(n, "slice_list"), i, s)
		printf("  %-32s %s\n", render_str(s, "id"), render_str(s, "state"));
	return 0;
}

/* A node that left for good: its row and its subnet go (--force: one not down yet). */
static int node_rm(struct cli *cli, int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[1], "--force");
	if (argc != 2 && !force)
		return cli_failf(cli, EINVAL, "usage: acre node rm [--force] ID");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_free_ char *id = cli_uri_escape(argv[argc - 1]);
	_cleanup_free_ char *path = NULL;
	if (!id || asprintf(&path, "/v1/nodes/%s%s", id, force ? "?force=1" : "") < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	_cleanup_json_ json_t *res = cli_api(cli, CLI_DELETE, path, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	else
		printf("%s removed\n", argv[argc - 1]);
	return 0;
}

/* No new placement on the node (cordon), or again (uncordon); what it runs stays. */
static int node_cordon_cmd(struct cli *cli, int argc, char **argv, bool on)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre node %s ID", on ? "cordon" : "uncordon");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_free_ char *id = cli_uri_escape(argv[1]);
	_cleanup_free_ char *path = NULL;
	if (!id || asprintf(&path, "/v1/nodes/%s/%s", id, on ? "cordon" : "uncordon") < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	_cleanup_json_ json_t *res = cli_api(cli, CLI_POST, path, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	else
		printf("%s %s: %lld slices stay, %s\n", argv[1], on ? "cordoned" : "uncordoned",
		       (long long)json_integer_value(json_object_get(res, "slices")),
		       on ? "no new placement" : "it takes placements again");
	return 0;
}

static int node_cordon(struct cli *cli, int argc, char **argv)
{
	return node_cordon_cmd(cli, argc, argv, true);
}

static int node_uncordon(struct cli *cli, int argc, char **argv)
{
	return node_cordon_cmd(cli, argc, argv, false);
}

/*
 * The one command a new host runs to join (GET /v1/join), as `kubeadm token
 * create --print-join-command`: the node port, the join token, the CA's hash.
 */
static int node_join_command(struct cli *cli, int argc, char **argv)
{
	const char *address = NULL;
	if (argc == 3 && strcmp(argv[1], "--address") == 0)
		address = argv[2];
	else if (argc != 1)
		return cli_failf(cli, EINVAL,
				 "usage: acre node join-command [--address HOST:PORT]");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_free_ char *escaped = address ? cli_uri_escape(address) : NULL;
	_cleanup_free_ char *path = NULL;
	if ((address && !escaped) ||
	    asprintf(&path, "/v1/join%s%s", address ? "?address=" : "", address ? escaped : "") < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	_cleanup_json_ json_t *j = cli_api(cli, CLI_GET, path, NULL, &err);
	if (!j)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, j);
	else
		printf("%s\n", render_str(j, "command"));
	return 0;
}

static const struct command node_commands[] = {
	{"list", node_list, ""},
	{"show", node_show, "ID"},
	{"rm", node_rm, "[--force] ID"},
	{"cordon", node_cordon, "ID  (no new placement there)"},
	{"uncordon", node_uncordon, "ID"},
	{"drain", node_drain, "ID [--detach]  (cordon, and move every app instance off)"},
	{"local", node_local, "  (this node's supervisor: its pool network)"},
	{"artifacts", node_artifacts, "[--prune]  (this node's cache of artifacts)"},
	{"binaries", node_binaries, "PATH...  (which of these host binaries this node has)"},
	{"join-command", node_join_command,
	 "[--address HOST:PORT]  (what a new host runs to join: token, CA hash)"},
	{NULL, NULL, NULL},
};

int do_node(struct cli *cli, int argc, char **argv)
{
	return dispatch_object(cli, argc, argv, "node", node_commands);
}
