/*
 * The read-only slice commands list and show.  Tables and -j/-p print the
 * same fields.
 */
#include "cli.h"


static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void fmt_cpus(const json_t *res, char *buf, size_t len)
{
	json_t *c = json_object_get(res, "cpus");
	if (json_is_number(c))
		snprintf(buf, len, "%g", json_number_value(c));
	else
		snprintf(buf, len, "-");
}

static void fmt_int_or_dash(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "-");
}

int slice_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf("slice list takes no arguments");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_SLICE_LIST, NULL, &err);
	if (!res)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, json_object_get(res, "slices"));
		return 0;
	}
	static const char *const headers[] = {"NAME", "STATE", "PID", "CPUS", "MEMORY", "PIDS",
					      "RESTARTS", "AGE", "REASON", "COMMAND", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(res, "slices"), i, s) {
		json_t *r = json_object_get(s, "resources");
		char pid[16], cpus[16], mem[32], pids[16], restarts[16], age[32];
		fmt_int_or_dash(json_integer_value(json_object_get(s, "pid"))
					? json_object_get(s, "pid")
					: NULL,
				pid, sizeof(pid));
		fmt_cpus(r, cpus, sizeof(cpus));
		fmt_bytes_or_dash(json_object_get(r, "memory"), mem, sizeof(mem));
		fmt_int_or_dash(json_object_get(r, "pids"), pids, sizeof(pids));
		fmt_int_or_dash(json_object_get(s, "restarts"), restarts, sizeof(restarts));
		fmt_age(json_integer_value(json_object_get(s, "created_at")), age, sizeof(age));
		const char *cells[] = {str(s, "name"), str(s, "state"), pid,	       cpus,
				       mem,	      pids,	       restarts,       age,
				       str(s, "reason")[0] ? str(s, "reason") : "-",
				       str(s, "command")};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

/* "bridge 10.88.0.2/16 via 10.88.0.1 on acre0, 50mbit each way, isolated, allow ..." */
static void print_network(const json_t *n)
{
	printf("network:    %s", str(n, "mode"));
	if (*str(n, "address"))
		printf(" %s via %s on %s (veth %s)", str(n, "address"), str(n, "gateway"),
		       str(n, "bridge"), str(n, "veth"));
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
		json_array_foreach(allow, i, a)
			printf(" %s", json_string_value(a));
		if (json_array_size(allow) == 0)
			printf(" nothing");
	}
	printf("\n");
}

int slice_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf("usage: acre slice show NAME");
	struct acre_error err = {0};
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", argv[1]);
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_SLICE_SHOW, args, &err);
	if (!res)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	json_t *spec = json_object_get(res, "spec");
	json_t *r = json_object_get(spec, "resources");
	json_t *iso = json_object_get(spec, "isolation");
	char cpus[16], mem[32], pids[16], created[32], started[32];
	fmt_cpus(r, cpus, sizeof(cpus));
	json_t *m = json_object_get(r, "memory");
	snprintf(mem, sizeof(mem), "%s", json_is_string(m) ? json_string_value(m) : "-");
	fmt_int_or_dash(json_object_get(r, "pids"), pids, sizeof(pids));
	fmt_age(json_integer_value(json_object_get(res, "created_at")), created, sizeof(created));
	fmt_age(json_integer_value(json_object_get(res, "started_at")), started, sizeof(started));
	printf("name:       %s\n", str(res, "name"));
	printf("state:      %s%s%s\n", str(res, "state"), str(res, "reason")[0] ? " (" : "",
	       str(res, "reason")[0] ? str(res, "reason") : "");
	if (str(res, "reason")[0])
		printf(")\n");
	printf("command:    %s\n", str(res, "command"));
	printf("pid:        %lld (task %lld inside)\n",
	       (long long)json_integer_value(json_object_get(res, "pid")),
	       (long long)json_integer_value(json_object_get(res, "task_pid")));
	printf("resources:  cpus %s, memory %s, pids %s\n", cpus, mem, pids);
	printf("rootfs:     %s (%s)\n", str(iso, "rootfs"),
	       json_is_true(json_object_get(iso, "readonly_root")) ? "read-only" : "writable");
	printf("seccomp:    %s\n", json_is_string(json_object_get(iso, "seccomp"))
				       ? str(iso, "seccomp")
				       : "profile");
	print_network(json_object_get(res, "network"));
	printf("restart:    %s (restarts: %lld)\n", str(spec, "restart"),
	       (long long)json_integer_value(json_object_get(res, "restarts")));
	printf("mode:       %s%s\n",
	       json_is_true(json_object_get(res, "foreground")) ? "foreground" : "detached",
	       json_is_true(json_object_get(res, "remove_on_exit")) ? ", removed on exit" : "");
	printf("created:    %s ago\n", created);
	printf("started:    %s ago\n", started);
	json_t *cg = json_object_get(res, "cgroup");
	printf("cgroup:     %s/%s (id %lld)\n", str(cg, "root"), str(cg, "name"),
	       (long long)json_integer_value(json_object_get(cg, "id")));
	return 0;
}
