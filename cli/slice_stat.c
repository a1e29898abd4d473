/*
 * `acre slice stat`: usage from the cgroups joined with eBPF accounting,
 * one row per slice, or one slice in detail with its run-queue latency
 * histogram; --watch redraws like top.  Numbers the node cannot measure
 * (accounting off) show as "n/a", never as zero.  Only a node measures its
 * slices: -j prints its usage objects as they come (cli/README.md).
 */
#include "cli.h"

#include <poll.h>

/* Bytes both ways with one class of the other end, as "1.2M"; "n/a" without accounting. */
static void class_bytes(const json_t *net, const char *class, char *buf, size_t len)
{
	json_t *c = json_object_get(json_object_get(net, "by_class"), class);
	if (!json_is_object(c)) {
		snprintf(buf, len, "n/a");
		return;
	}
	_cleanup_json_ json_t *sum =
		json_integer(json_integer_value(json_object_get(c, "rx_bytes")) +
			     json_integer_value(json_object_get(c, "tx_bytes")));
	render_bytes(sum, buf, len);
}

static void stat_row(struct table *t, const json_t *s)
{
	json_t *cpu = json_object_get(s, "cpu"), *mem = json_object_get(s, "memory");
	json_t *pids = json_object_get(s, "pids"), *net = json_object_get(s, "net");
	json_t *runq = json_object_get(s, "runq");
	char pct[16] = "-", lim[16] = "-", thr[32] = "-", cur[32], peak[32], limit[32];
	char pcur[16], plim[16], oom[16], pidcol[40], rx[32], tx[32], p50[16], p99[16];
	char node[32], pool[32], outside[32];
	if (cpu) {
		snprintf(pct, sizeof(pct), "%.1f",
			 json_number_value(json_object_get(cpu, "percent")));
		json_t *l = json_object_get(cpu, "limit_percent");
		if (l)
			snprintf(lim, sizeof(lim), "%.0f%%", json_number_value(l));
		uint64_t ns = (uint64_t)json_integer_value(json_object_get(cpu, "throttled_ns"));
		acre_format_duration(ns / 1000000, thr, sizeof(thr));
	}
	render_bytes(json_object_get(mem, "current"), cur, sizeof(cur));
	render_bytes(json_object_get(mem, "peak"), peak, sizeof(peak));
	render_bytes(json_object_get(mem, "limit"), limit, sizeof(limit));
	render_int(json_object_get(pids, "current"), pcur, sizeof(pcur));
	render_int(json_object_get(pids, "limit"), plim, sizeof(plim));
	render_int(json_object_get(mem, "oom_kills"), oom, sizeof(oom));
	snprintf(pidcol, sizeof(pidcol), "%s/%s", pcur, plim);
	render_rate(json_object_get(net, "rx_bytes_per_s"), rx, sizeof(rx));
	render_rate(json_object_get(net, "tx_bytes_per_s"), tx, sizeof(tx));
	class_bytes(net, "node", node, sizeof(node));
	class_bytes(net, "pool", pool, sizeof(pool));
	class_bytes(net, "outside", outside, sizeof(outside));
	render_latency(json_object_get(runq, "p50_ns"), p50, sizeof(p50));
	render_latency(json_object_get(runq, "p99_ns"), p99, sizeof(p99));
	const char *cells[] = {render_str(s, "name"),
			       render_str(s, "state"),
			       pct,
			       lim,
			       thr,
			       cur,
			       peak,
			       limit,
			       pidcol,
			       oom,
			       rx,
			       tx,
			       node,
			       pool,
			       outside,
			       p50,
			       p99};
	table_add(t, cells);
}

static void print_table(const json_t *slices)
{
	static const char *const headers[] = {
		"NAME",	    "STATE",	 "CPU%",	"OF-LIMIT", "THROTTLED", "MEM",
		"MEM-PEAK", "MEM-LIMIT", "PIDS",	"OOM",	    "NET-RX",	 "NET-TX",
		"NET-NODE", "NET-POOL",	 "NET-OUTSIDE", "RUNQ-P50", "RUNQ-P99",	 NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *s;
	json_array_foreach (slices, i, s)
		stat_row(t, s);
	table_print(t, stdout);
	table_free(t);
}

/* One slice: everything, and where its threads' run-queue waits fell. */
static void print_detail(const json_t *s, const char *accounting)
{
	json_t *net = json_object_get(s, "net"), *runq = json_object_get(s, "runq");
	_cleanup_json_ json_t *one = json_pack("[O]", s);
	print_table(one);
	printf("\naccounting: %s\n", accounting ? accounting : "?");
	if (json_is_object(net))
		printf("network:    rx %lld bytes in %lld packets, tx %lld bytes in %lld packets\n",
		       (long long)json_integer_value(json_object_get(net, "rx_bytes")),
		       (long long)json_integer_value(json_object_get(net, "rx_packets")),
		       (long long)json_integer_value(json_object_get(net, "tx_bytes")),
		       (long long)json_integer_value(json_object_get(net, "tx_packets")));
	static const char *const classes[] = {"node", "pool", "outside"};
	for (size_t i = 0; json_is_object(net) && i < ACRE_ARRAY_SIZE(classes); i++) {
		json_t *c = json_object_get(json_object_get(net, "by_class"), classes[i]);
		if (json_is_object(c))
			printf("  %-8s rx %lld bytes in %lld packets, tx %lld bytes in %lld "
			       "packets\n",
			       classes[i],
			       (long long)json_integer_value(json_object_get(c, "rx_bytes")),
			       (long long)json_integer_value(json_object_get(c, "rx_packets")),
			       (long long)json_integer_value(json_object_get(c, "tx_bytes")),
			       (long long)json_integer_value(json_object_get(c, "tx_packets")));
	}
	json_t *hist = json_object_get(runq, "histogram_log2_us");
	if (!json_is_array(hist))
		return;
	json_int_t count = json_integer_value(json_object_get(runq, "count"));
	printf("run-queue latency: %lld waits, %.3f ms in all\n", (long long)count,
	       (double)json_integer_value(json_object_get(runq, "total_ns")) / 1e6);
	json_int_t most = 0;
	size_t last = 0, i;
	json_t *v;
	json_array_foreach (hist, i, v) {
		if (json_integer_value(v) > most)
			most = json_integer_value(v);
		if (json_integer_value(v))
			last = i;
	}
	for (i = 0; most && i <= last; i++) {
		json_int_t n = json_integer_value(json_array_get(hist, i));
		unsigned long long lo = i ? 1ULL << i : 0, hi = 1ULL << (i + 1);
		int bar = (int)(n * 40 / most);
		printf("  %8llu -> %-8llu us %10lld |%-40.*s|\n", lo, hi - 1, (long long)n, bar,
		       "****************************************");
	}
}

static int stat_once(struct cli *cli, json_t *names, bool clear, bool detail)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = NULL;
	if (cli->slices->stat(cli, names, &res, &err) < 0)
		return cli_fail(cli, &err);
	if (clear)
		fputs("\033[H\033[2J", stdout);
	json_t *slices = json_object_get(res, "slices");
	const char *acct = json_string_value(json_object_get(res, "accounting"));
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, slices);
	} else if (detail && json_array_size(slices) == 1) {
		print_detail(json_array_get(slices, 0), acct);
	} else {
		print_table(slices);
		if (acct && strcmp(acct, "on") != 0)
			printf("eBPF accounting is %s: NET and RUNQ are n/a\n", acct);
	}
	fflush(stdout);
	return 0;
}

int slice_cmd_stat(struct cli *cli, int argc, char **argv)
{
	if (!cli->slices->stat)
		return slice_unsupported(cli, "stat");
	_cleanup_json_ json_t *names = json_array();
	double interval = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--watch") || !strcmp(argv[i], "-w")) {
			interval = 2;
			char *end;
			if (i + 1 < argc) {
				double v = strtod(argv[i + 1], &end);
				if (*end == '\0' && end != argv[i + 1]) {
					if (v < 0.1)
						return cli_failf(cli, EINVAL,
								 "--watch %s: at least 0.1 seconds",
								 argv[i + 1]);
					interval = v;
					i++;
				}
			}
		} else if (argv[i][0] == '-') {
			return cli_failf(cli, EINVAL, "slice stat: unknown option %s", argv[i]);
		} else {
			json_array_append_new(names, json_string(argv[i]));
		}
	}
	bool detail = json_array_size(names) == 1;
	if (interval == 0)
		return stat_once(cli, names, false, detail);
	for (;;) {
		int rc = stat_once(cli, names, true, detail);
		if (rc)
			return rc;
		poll(NULL, 0, (int)(interval * 1000));
	}
}
