/*
 * Slices as the protocol shows them: a summary for lists, the whole record
 * for show, the usage numbers for stat and the outcome a foreground client
 * exits with.  The CLI prints the same fields as tables.
 */
#include "supervisor.h"

#include <signal.h>

static json_t *command_string(const struct acre_slice_spec *spec)
{
	char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; spec->command[i] && n < sizeof(buf) - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				      spec->command[i]);
	return json_string(buf);
}

static json_t *resources(const struct acre_slice_spec *spec)
{
	json_t *r = json_object();
	if (spec->resources.cpus_milli)
		json_object_set_new(r, "cpus", json_real(spec->resources.cpus_milli / 1000.0));
	if (spec->resources.memory)
		json_object_set_new(r, "memory", json_integer((json_int_t)spec->resources.memory));
	if (spec->resources.pids)
		json_object_set_new(r, "pids", json_integer((json_int_t)spec->resources.pids));
	return r;
}

json_t *view_slice_summary(const struct slice *s)
{
	const struct acre_slice_record *r = &s->rec;
	return json_pack("{s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:I,s:I,s:I,s:b,s:O}", "name",
			 r->spec.name, "state", acre_slice_state_name(r->state), "reason",
			 r->reason, "pid", slice_is_active(s) ? (int)r->pid : 0, "restarts",
			 (int)r->restarts, "command", command_string(&r->spec), "resources",
			 resources(&r->spec), "created_at", (json_int_t)r->created_at,
			 "started_at", (json_int_t)r->started_at, "finished_at",
			 (json_int_t)r->finished_at, "foreground", r->foreground, "labels",
			 r->spec.labels);
}

static json_t *exit_json(const struct acre_exit *e)
{
	if (!e->known)
		return json_null();
	json_t *j = json_pack("{s:b,s:i}", "oom", e->oom, "status", acre_exit_status(e));
	if (e->launch_failed[0])
		json_object_set_new(j, "launch_failed", json_string(e->launch_failed));
	else if (e->signal)
		json_object_set_new(j, "signal", json_integer(e->signal));
	else
		json_object_set_new(j, "exit_code", json_integer(e->exit_code));
	return j;
}

json_t *view_slice_detail(const struct slice *s)
{
	json_t *j = view_slice_summary(s);
	const struct acre_slice_record *r = &s->rec;
	json_object_set_new(j, "spec", acre_slice_spec_to_json(&r->spec));
	json_object_set_new(j, "exit", exit_json(&r->exit));
	json_object_set_new(j, "task_pid", json_integer(r->task_pid));
	json_object_set_new(j, "remove_on_exit", json_boolean(r->remove_on_exit));
	json_object_set_new(j, "network", network_view(s));
	json_object_set_new(j, "cgroup", json_pack("{s:s,s:s,s:I}", "root",
						   s->sv->opt.cgroup_root, "name",
						   r->cgroup, "id",
						   (json_int_t)acre_cgroup_id(s->cgroup)));
	return j;
}

json_t *view_slice_result(const struct slice *s)
{
	const struct acre_slice_record *r = &s->rec;
	json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:b}", "name", r->spec.name, "state",
			      acre_slice_state_name(r->state), "reason", r->reason, "exit",
			      exit_json(&r->exit), "removed", r->state == ACRE_SLICE_DESTROYED);
	if (r->spec.resources.memory)
		json_object_set_new(j, "memory_limit",
				    json_integer((json_int_t)r->spec.resources.memory));
	return j;
}

static json_t *opt_u64(uint64_t v)
{
	return v == ACRE_STAT_NONE ? json_null() : json_integer((json_int_t)v);
}

/* Per-second rate of a counter since the previous sample. */
static json_int_t rate(uint64_t now_value, uint64_t then_value, uint64_t now_ns, uint64_t then_ns)
{
	if (!then_ns || now_ns <= then_ns || now_value < then_value)
		return 0;
	return (json_int_t)((double)(now_value - then_value) * 1e9 / (double)(now_ns - then_ns));
}

/* eBPF numbers: null, never zero, when accounting is off or the slice is not in the maps. */
static void add_accounting(struct slice *s, json_t *j, uint64_t now, bool detail)
{
	struct acre_bpf *b = s->sv->bpf;
	uint64_t id = s->cgroup ? acre_cgroup_id(s->cgroup) : 0;
	struct acre_bpf_net net;
	struct acre_bpf_runq rq;
	if (!b || !id || acre_bpf_net_read(b, id, &net) < 0) {
		json_object_set_new(j, "net", json_null());
	} else {
		json_object_set_new(
			j, "net",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "rx_bytes", (json_int_t)net.rx_bytes,
				  "tx_bytes", (json_int_t)net.tx_bytes, "rx_packets",
				  (json_int_t)net.rx_packets, "tx_packets",
				  (json_int_t)net.tx_packets, "rx_bytes_per_s",
				  rate(net.rx_bytes, s->net_sample_rx, now, s->net_sample_at),
				  "tx_bytes_per_s",
				  rate(net.tx_bytes, s->net_sample_tx, now, s->net_sample_at)));
		s->net_sample_rx = net.rx_bytes;
		s->net_sample_tx = net.tx_bytes;
		s->net_sample_at = now;
	}
	if (!b || !id || acre_bpf_runq_read(b, id, &rq) < 0) {
		json_object_set_new(j, "runq", json_null());
	} else {
		json_t *r = json_pack("{s:I,s:I,s:I,s:I}", "count", (json_int_t)rq.count,
				      "total_ns", (json_int_t)rq.total_ns, "p50_ns",
				      (json_int_t)acre_bpf_runq_percentile(&rq, 50), "p99_ns",
				      (json_int_t)acre_bpf_runq_percentile(&rq, 99));
		if (detail) {
			json_t *h = json_array();
			for (size_t i = 0; i < ACRE_BPF_RUNQ_SLOTS; i++)
				json_array_append_new(h, json_integer((json_int_t)rq.slots[i]));
			json_object_set_new(r, "histogram_log2_us", h);
		}
		json_object_set_new(j, "runq", r);
	}
}

json_t *view_slice_stats(struct slice *s, bool detail)
{
	struct acre_cgroup_stats st;
	const struct acre_slice_record *r = &s->rec;
	json_t *j = json_pack("{s:s,s:s}", "name", r->spec.name, "state",
			      acre_slice_state_name(r->state));
	if (!s->cgroup || acre_cgroup_read_stats(s->cgroup, &st) < 0)
		return j;
	/* CPU use over the interval since the previous sample, or since the start. */
	uint64_t now = acre_monotonic_ns();
	double pct = 0.0;
	if (s->cpu_sample_at && now > s->cpu_sample_at && st.cpu_usage_ns >= s->cpu_sample_ns) {
		pct = 100.0 * (double)(st.cpu_usage_ns - s->cpu_sample_ns) /
		      (double)(now - s->cpu_sample_at);
	} else if (r->started_at) {
		int64_t ms = acre_now_ms() - r->started_at;
		if (ms > 0)
			pct = 100.0 * (double)st.cpu_usage_ns / ((double)ms * 1e6);
	}
	s->cpu_sample_ns = st.cpu_usage_ns;
	s->cpu_sample_at = now;
	json_object_set_new(j, "cpu", json_pack("{s:I,s:f,s:I,s:I}", "usage_ns",
						(json_int_t)st.cpu_usage_ns, "percent", pct,
						"throttled_ns", (json_int_t)st.cpu_throttled_ns,
						"nr_throttled", (json_int_t)st.cpu_nr_throttled));
	if (r->spec.resources.cpus_milli)
		json_object_set_new(json_object_get(j, "cpu"), "limit_percent",
				    json_real(pct * 1000.0 / r->spec.resources.cpus_milli));
	const struct acre_slice_resources *res = &r->spec.resources;
	json_object_set_new(j, "memory", json_pack("{s:I,s:o,s:o,s:I}", "current",
						   (json_int_t)st.memory_current, "peak",
						   opt_u64(st.memory_peak), "limit",
						   opt_u64(res->memory ? res->memory : ACRE_STAT_NONE),
						   "oom_kills", (json_int_t)st.oom_kills));
	json_object_set_new(j, "pids", json_pack("{s:I,s:o}", "current",
						 (json_int_t)st.pids_current, "limit",
						 opt_u64(res->pids ? res->pids : ACRE_STAT_NONE)));
	add_accounting(s, j, now, detail);
	return j;
}
