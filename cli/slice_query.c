/*
 * `acre slice list` and `acre slice show`: arguments, then what the backend
 * answers printed once for both backends: as the slice objects of
 * slice_shape.c under -j/-p, as a table (list) or as labelled lines (show)
 * otherwise.  A list on a pool gains a NODE column; one on a node has PID
 * and PIDS, which the pool does not know.
 */
#include "cli.h"

#include <getopt.h>

enum where { ANYWHERE, NODE_ONLY, POOL_ONLY };

struct column {
	const char *header;
	enum where where;
	void (*cell)(const json_t *s, char *buf, size_t len);
};

static void cell_name(const json_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", render_str(s, "name"));
}

static void cell_state(const json_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", render_str(s, "state"));
}

static void cell_node(const json_t *s, char *buf, size_t len)
{
	const char *node = render_str(s, "node");
	snprintf(buf, len, "%s", *node ? node : "-");
}

static void cell_pid(const json_t *s, char *buf, size_t len)
{
	render_int(json_object_get(s, "pid"), buf, len);
}

static void cell_cpus(const json_t *s, char *buf, size_t len)
{
	render_cpus(json_object_get(json_object_get(s, "resources"), "cpus"), buf, len);
}

static void cell_memory(const json_t *s, char *buf, size_t len)
{
	render_bytes(json_object_get(json_object_get(s, "resources"), "memory"), buf, len);
}

static void cell_pids(const json_t *s, char *buf, size_t len)
{
	render_int(json_object_get(json_object_get(s, "resources"), "pids"), buf, len);
}

static void cell_restarts(const json_t *s, char *buf, size_t len)
{
	render_int(json_object_get(s, "restarts"), buf, len);
}

static void cell_age(const json_t *s, char *buf, size_t len)
{
	render_age(json_object_get(s, "created_at"), buf, len);
}

static void cell_reason(const json_t *s, char *buf, size_t len)
{
	const char *reason = render_str(s, "reason");
	snprintf(buf, len, "%s", *reason ? reason : "-");
}

/*
 * "healthy", "starting", "unhealthy", "-" without checks or when it does not run;
 * "/unready" while not ready.
 */
static void cell_health(const json_t *s, char *buf, size_t len)
{
	json_t *h = json_object_get(s, "health");
	if (!json_is_object(h) || strcmp(render_str(s, "state"), "running") != 0) {
		snprintf(buf, len, "-");
		return;
	}
	const char *st = render_str(h, "status");
	bool ready = json_is_true(json_object_get(h, "ready"));
	if (strcmp(st, "none") == 0)
		snprintf(buf, len, "%s", ready ? "ready" : "unready");
	else
		snprintf(buf, len, "%s%s", st, ready ? "" : "/unready");
}

static void cell_command(const json_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", render_str(s, "command"));
}

static const struct column list_columns[] = {
	{"NAME", ANYWHERE, cell_name},	       {"STATE", ANYWHERE, cell_state},
	{"HEALTH", ANYWHERE, cell_health},     {"NODE", POOL_ONLY, cell_node},
	{"PID", NODE_ONLY, cell_pid},	       {"CPUS", ANYWHERE, cell_cpus},
	{"MEMORY", ANYWHERE, cell_memory},     {"PIDS", NODE_ONLY, cell_pids},
	{"RESTARTS", ANYWHERE, cell_restarts}, {"AGE", ANYWHERE, cell_age},
	{"REASON", ANYWHERE, cell_reason},     {"COMMAND", ANYWHERE, cell_command},
};
#define NCOLUMNS ACRE_ARRAY_SIZE(list_columns)

static bool shown(const struct column *c, bool places)
{
	return c->where == ANYWHERE || (c->where == POOL_ONLY) == places;
}

static void print_list(const json_t *slices, bool places)
{
	const char *headers[NCOLUMNS + 1] = {0};
	size_t n = 0;
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(&list_columns[c], places))
			headers[n++] = list_columns[c].header;
	struct table *t = table_new(headers);
	size_t i;
	json_t *s;
	json_array_foreach (slices, i, s) {
		char text[NCOLUMNS][1024]; /* a command may be that long */
		const char *cells[NCOLUMNS];
		n = 0;
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (!shown(&list_columns[c], places))
				continue;
			list_columns[c].cell(s, text[n], sizeof(text[n]));
			cells[n] = text[n];
			n++;
		}
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
}

static int list_args(int argc, char **argv, struct slice_filter *f, struct acre_error *err)
{
	static const struct option opts[] = {{"label", required_argument, NULL, 'l'},
					     {"state", required_argument, NULL, 's'},
					     {"node", required_argument, NULL, 'n'},
					     {0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		int rc = 0;
		if (c == 'l')
			rc = slice_filter_add_label(f, optarg, err);
		else if (c == 's')
			rc = slice_filter_set_state(f, optarg, err);
		else if (c == 'n')
			f->node = optarg;
		else
			rc = -EINVAL;
		if (rc < 0)
			goto usage;
	}
	if (optind == argc)
		return 0;
usage:
	if (!err->message[0])
		acre_error_set(
			err, EINVAL, NULL,
			"usage: acre slice list [--label K=V]... [--state STATE] [--node ID]");
	return -EINVAL;
}

static void filter_free(struct slice_filter *f)
{
	acre_vec_free(&f->labels);
}

int slice_cmd_list(struct cli *cli, int argc, char **argv)
{
	struct acre_error err = {0};
	_cleanup_(filter_free) struct slice_filter f = {0};
	_cleanup_json_ json_t *slices = NULL;
	if (list_args(argc, argv, &f, &err) < 0 || cli->slices->list(cli, &f, &slices, &err) < 0)
		return cli_fail(cli, &err);
	/* Again here: a node filters nothing itself, and a filter the controller
	 * does not know must not widen the list. */
	_cleanup_json_ json_t *kept = json_array();
	size_t i;
	json_t *s;
	json_array_foreach (slices, i, s)
		if (slice_filter_match(&f, s))
			json_array_append(kept, s);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, kept);
	else
		print_list(kept, cli->slices->places);
	return 0;
}

/* "bridge 10.88.0.2/16 via 10.88.0.1 on acre0, 50mbit each way, isolated, allow ..." */
static void print_network(const json_t *n)
{
	printf("network:    %s", render_str(n, "mode"));
	if (*render_str(n, "address"))
		printf(" %s via %s on %s (veth %s)", render_str(n, "address"),
		       render_str(n, "gateway"), render_str(n, "bridge"), render_str(n, "veth"));
	json_t *rate = json_object_get(n, "rate_bits_per_s");
	if (json_is_integer(rate)) {
		char r[32];
		acre_format_rate((uint64_t)json_integer_value(rate), r, sizeof(r));
		printf(", %s each way", r);
	}
	if (json_is_true(json_object_get(n, "isolated")))
		printf(", isolated");
	json_t *allow = json_object_get(n, "allow");
	if (json_is_array(allow)) {
		printf(", outbound only to");
		size_t i;
		json_t *a;
		json_array_foreach (allow, i, a)
			printf(" %s", json_string_value(a));
		if (json_array_size(allow) == 0)
			printf(" nothing");
	}
	printf("\n");
	json_t *pub = json_object_get(n, "publish");
	if (json_array_size(pub)) {
		printf("published: ");
		size_t i;
		json_t *p;
		json_array_foreach (pub, i, p)
			printf("%s node port %lld -> %lld/%s", i ? "," : "",
			       (long long)json_integer_value(json_object_get(p, "node_port")),
			       (long long)json_integer_value(json_object_get(p, "port")),
			       render_str(p, "proto"));
		printf("\n");
	}
}

static void print_placement(const json_t *p)
{
	printf("placement:  strategy %s", render_str(p, "strategy"));
	if (*render_str(p, "spread"))
		printf(", spread %s", render_str(p, "spread"));
	if (*render_str(p, "unique"))
		printf(", unique %s", render_str(p, "unique"));
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(p, "constraints"), i, c)
		printf(", %s", json_string_value(c));
	printf("\n");
}

/* What a node knows of its slice alone: processes, root, filter, how it runs, its cgroup. */
static void print_on_node(const json_t *s)
{
	json_t *iso = json_object_get(json_object_get(s, "spec"), "isolation");
	json_t *pid = json_object_get(s, "pid"), *task = json_object_get(s, "task_pid");
	if (json_is_integer(pid))
		printf("pid:        %lld (task %lld inside)\n", (long long)json_integer_value(pid),
		       (long long)json_integer_value(task));
	else
		printf("pid:        - (not running)\n");
	if (iso) {
		const char *root = render_str(iso, "rootfs");
		/* The host root is never written: a writable one is a layer over it. */
		const char *mode = json_is_true(json_object_get(iso, "readonly_root")) ? "read-only"
				   : strcmp(root, "/") == 0 ? "copy-on-write"
							    : "writable";
		printf("rootfs:     %s (%s)\n", root, mode);
		printf("seccomp:    %s\n", json_is_string(json_object_get(iso, "seccomp"))
						   ? render_str(iso, "seccomp")
						   : "profile");
	}
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(json_object_get(s, "spec"), "volumes"), i, v) {
		char size[32];
		acre_format_size((uint64_t)json_integer_value(json_object_get(v, "size")), size,
				 sizeof(size));
		printf("%s %s on %s (%s)\n",
		       i ? "           " : "volumes:   ", render_str(v, "name"),
		       render_str(v, "path"), size);
	}
	json_array_foreach (json_object_get(json_object_get(s, "spec"), "artifacts"), i, v) {
		/* Pinned: its sum; else the checksum file the node verifies it by. */
		const char *from =
			json_object_get(v, "sha512_from") ? "sha512_from" : "sha256_from";
		char sum[300];
		if (json_object_get(v, from))
			snprintf(sum, sizeof(sum), "%s %s", from, render_str(v, from));
		else
			snprintf(sum, sizeof(sum), "sha256 %.12s", render_str(v, "sha256"));
		printf("%s %s on %s (read-only%s, %s)\n",
		       i ? "           " : "artifacts: ", render_str(v, "uri"),
		       render_str(v, "path"),
		       json_is_true(json_object_get(v, "extract")) ? ", unpacked" : "", sum);
	}
	const char *key;
	i = 0;
	json_object_foreach (json_object_get(json_object_get(s, "spec"), "secrets"), key, v)
		printf("%s /run/secrets/%s (%s)\n", i++ ? "           " : "secrets:   ", key,
		       json_string_value(v) ? json_string_value(v) : "?");
	if (json_is_object(json_object_get(s, "network")))
		print_network(json_object_get(s, "network"));
}

/* A pool slice's address and its group's virtual IPs (VIP, GROUP.acre, ports). */
static void print_pool_network(const json_t *s)
{
	if (json_is_string(json_object_get(s, "address")))
		printf("address:    %s\n", render_str(s, "address"));
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(s, "vips"), i, v)
		printf("vip:        %s (%s.acre, %s)\n", render_str(v, "vip"),
		       render_str(v, "group"), render_str(v, "ports"));
}

static void print_age(const char *label, const json_t *ms)
{
	char age[32];
	render_age(ms, age, sizeof(age));
	printf("%-11s %s%s\n", label, age, json_is_null(ms) || !ms ? "" : " ago");
}

/* "healthy for 2m, 0 failures in a row (GET /: HTTP 200)": failures and reason from a node. */
static void print_health(const json_t *s)
{
	json_t *h = json_object_get(s, "health");
	if (!json_is_object(h))
		return;
	char health[64], since[32];
	cell_health(s, health, sizeof(health));
	render_age(json_object_get(h, "changed_at"), since, sizeof(since));
	printf("health:     %s for %s", health, since);
	json_t *failures = json_object_get(h, "failures");
	if (json_is_integer(failures))
		printf(", %lld failures in a row", (long long)json_integer_value(failures));
	const char *reason = render_str(h, "reason");
	if (*reason)
		printf(" (%s)", reason);
	printf("\n");
}

static void print_show(const json_t *s, bool places)
{
	json_t *r = json_object_get(s, "resources");
	const char *reason = render_str(s, "reason");
	char cpus[16], mem[32], pids[16], restarts[16];
	render_cpus(json_object_get(r, "cpus"), cpus, sizeof(cpus));
	render_bytes(json_object_get(r, "memory"), mem, sizeof(mem));
	render_int(json_object_get(r, "pids"), pids, sizeof(pids));
	render_int(json_object_get(s, "restarts"), restarts, sizeof(restarts));
	printf("name:       %s\n", render_str(s, "name"));
	printf("state:      %s%s%s%s\n", render_str(s, "state"), *reason ? " (" : "", reason,
	       *reason ? ")" : "");
	print_health(s);
	if (places) {
		const char *node = render_str(s, "node");
		printf("node:       %s\n", *node ? node : "-");
		printf("desired:    %s\n", render_str(s, "desired"));
	}
	printf("command:    %s\n", render_str(s, "command"));
	printf("resources:  cpus %s, memory %s, pids %s", cpus, mem, pids);
	json_t *rate = json_object_get(s, "net_rate");
	if (json_is_integer(rate)) {
		char rt[32];
		acre_format_rate((uint64_t)json_integer_value(rate), rt, sizeof(rt));
		printf(", net_rate %s", rt);
	}
	printf("\n");
	print_pool_network(s);
	char labels[512];
	render_pairs(json_object_get(s, "labels"), labels, sizeof(labels));
	printf("labels:     %s\n", labels);
	if (!places)
		print_on_node(s);
	printf("restart:    %s (restarts: %s)\n", render_str(s, "restart"), restarts);
	if (json_is_object(json_object_get(s, "placement")))
		print_placement(json_object_get(s, "placement"));
	if (json_is_boolean(json_object_get(s, "foreground")))
		printf("mode:       %s%s\n",
		       json_is_true(json_object_get(s, "foreground")) ? "foreground" : "detached",
		       json_is_true(json_object_get(s, "remove_on_exit")) ? ", removed on exit"
									  : "");
	print_age("created:", json_object_get(s, "created_at"));
	if (places)
		print_age("changed:", json_object_get(s, "updated_at"));
	else
		print_age("started:", json_object_get(s, "started_at"));
	json_t *cg = json_object_get(s, "cgroup");
	if (json_is_object(cg))
		printf("cgroup:     %s/%s (id %lld)\n", render_str(cg, "root"),
		       render_str(cg, "name"),
		       (long long)json_integer_value(json_object_get(cg, "id")));
}

int slice_cmd_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre slice show NAME");
	struct acre_error err = {0};
	_cleanup_json_ json_t *slice = NULL;
	if (cli->slices->show(cli, argv[1], &slice, &err) < 0)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, slice);
	else
		print_show(slice, cli->slices->places);
	return 0;
}
