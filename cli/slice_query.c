/*
 * The read-only slice commands: list, show and stat (with --watch, which
 * redraws like top).  Tables and -j/-p print the same fields.
 */
#include "cli.h"

#include <poll.h>
#include <signal.h>

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
	_cleanup_json_ json_t *res = cli_call(cli, "slice.list", NULL, &err);
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

int slice_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf("usage: acre slice show NAME");
	struct acre_error err = {0};
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", argv[1]);
	_cleanup_json_ json_t *res = cli_call(cli, "slice.show", args, &err);
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
	printf("network:    %s\n", str(json_object_get(spec, "network"), "mode"));
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

static void stat_row(struct table *t, const json_t *s)
{
	json_t *cpu = json_object_get(s, "cpu"), *mem = json_object_get(s, "memory");
	json_t *pids = json_object_get(s, "pids");
	char pct[16] = "-", lim[16] = "-", thr[32] = "-", cur[32], peak[32], limit[32];
	char pcur[16], plim[16], oom[16];
	if (cpu) {
		snprintf(pct, sizeof(pct), "%.1f", json_number_value(json_object_get(cpu, "percent")));
		json_t *l = json_object_get(cpu, "limit_percent");
		if (l)
			snprintf(lim, sizeof(lim), "%.0f%%", json_number_value(l));
		uint64_t ns = (uint64_t)json_integer_value(json_object_get(cpu, "throttled_ns"));
		acre_format_duration(ns / 1000000, thr, sizeof(thr));
	}
	fmt_bytes_or_dash(json_object_get(mem, "current"), cur, sizeof(cur));
	fmt_bytes_or_dash(json_object_get(mem, "peak"), peak, sizeof(peak));
	fmt_bytes_or_dash(json_object_get(mem, "limit"), limit, sizeof(limit));
	fmt_int_or_dash(json_object_get(pids, "current"), pcur, sizeof(pcur));
	fmt_int_or_dash(json_object_get(pids, "limit"), plim, sizeof(plim));
	fmt_int_or_dash(json_object_get(mem, "oom_kills"), oom, sizeof(oom));
	char pidcol[40];
	snprintf(pidcol, sizeof(pidcol), "%s/%s", pcur, plim);
	const char *cells[] = {str(s, "name"), str(s, "state"), pct, lim, thr, cur, peak,
			       limit, pidcol, oom};
	table_add(t, cells);
}

static int stat_once(struct cli *cli, json_t *args, bool clear)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_call(cli, "slice.stat", args, &err);
	if (!res)
		return cli_fail(&err);
	if (clear)
		fputs("\033[H\033[2J", stdout);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, json_object_get(res, "slices"));
		fflush(stdout);
		return 0;
	}
	static const char *const headers[] = {"NAME", "STATE", "CPU%", "OF-LIMIT", "THROTTLED",
					      "MEM", "MEM-PEAK", "MEM-LIMIT", "PIDS", "OOM", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(res, "slices"), i, s)
		stat_row(t, s);
	table_print(t, stdout);
	table_free(t);
	fflush(stdout);
	return 0;
}

int slice_stat(struct cli *cli, int argc, char **argv)
{
	json_t *names = json_array();
	_cleanup_json_ json_t *args = json_pack("{s:o}", "names", names);
	double interval = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--watch") || !strcmp(argv[i], "-w")) {
			interval = 2;
			char *end;
			if (i + 1 < argc && (interval = strtod(argv[i + 1], &end), *end == '\0')) {
				if (interval < 0.1)
					return cli_failf("--watch %s: at least 0.1 seconds",
							 argv[i + 1]);
				i++;
			} else {
				interval = 2;
			}
		} else if (argv[i][0] == '-') {
			return cli_failf("slice stat: unknown option %s", argv[i]);
		} else {
			json_array_append_new(names, json_string(argv[i]));
		}
	}
	if (interval == 0)
		return stat_once(cli, args, false);
	for (;;) {
		int rc = stat_once(cli, args, true);
		if (rc)
			return rc;
		poll(NULL, 0, (int)(interval * 1000));
	}
}
