/*
 * `slice.stat` replies, written as JSON text straight into the reply
 * buffer.  Stat reads every slice at once (a thousand of them within 50 ms
 * end to end), and a tree of JSON values per slice, built, printed and
 * freed, cost more than reading the kernel's counters.  The shape is that
 * of every other reply: {"id", "ok", "result": {"slices": [...],
 * "accounting"}}.  Numbers are printed as they are; the one string a slice
 * brings, its name, goes through the escaping writer like every other.
 */
#include "view.h"

#include "common/jsonw.h"

#include <inttypes.h>

/* Per-second rate of a counter since the previous sample. */
static uint64_t rate(uint64_t now_value, uint64_t then_value, uint64_t now_ns, uint64_t then_ns)
{
	if (!then_ns || now_ns <= then_ns || now_value < then_value)
		return 0;
	return (uint64_t)((double)(now_value - then_value) * 1e9 / (double)(now_ns - then_ns));
}

static void add_u64_or_null(struct evbuffer *b, const char *key, uint64_t v)
{
	if (v == ACRE_STAT_NONE)
		evbuffer_add_printf(b, ",\"%s\":null", key);
	else
		evbuffer_add_printf(b, ",\"%s\":%" PRIu64, key, v);
}

/* CPU use over the interval since the previous sample, or since the start. */
static double cpu_percent(struct slice *s, const struct acre_cgroup_stats *st, uint64_t now)
{
	double pct = 0.0;
	if (s->cpu_sample_at && now > s->cpu_sample_at && st->cpu_usage_ns >= s->cpu_sample_ns) {
		pct = 100.0 * (double)(st->cpu_usage_ns - s->cpu_sample_ns) /
		      (double)(now - s->cpu_sample_at);
	} else if (s->rec.started_at) {
		int64_t ms = acre_now_ms() - s->rec.started_at;
		if (ms > 0)
			pct = 100.0 * (double)st->cpu_usage_ns / ((double)ms * 1e6);
	}
	s->cpu_sample_ns = st->cpu_usage_ns;
	s->cpu_sample_at = now;
	return pct;
}

static void add_cgroup_stats(struct slice *s, struct evbuffer *b, uint64_t now)
{
	struct acre_cgroup_stats st;
	const struct acre_slice_resources *res = &s->rec.spec.resources;
	if (!s->cgroup || acre_cgroup_read_stats(s->cgroup, &st) < 0)
		return;
	double pct = cpu_percent(s, &st, now);
	evbuffer_add_printf(b,
			    ",\"cpu\":{\"usage_ns\":%" PRIu64
			    ",\"percent\":%.4g,\"throttled_ns\":%" PRIu64
			    ",\"nr_throttled\":%" PRIu64,
			    st.cpu_usage_ns, pct, st.cpu_throttled_ns, st.cpu_nr_throttled);
	if (res->cpus_milli)
		evbuffer_add_printf(b, ",\"limit_percent\":%.4g", pct * 1000.0 / res->cpus_milli);
	evbuffer_add_printf(b, "},\"memory\":{\"current\":%" PRIu64, st.memory_current);
	add_u64_or_null(b, "peak", st.memory_peak);
	add_u64_or_null(b, "limit", res->memory ? res->memory : ACRE_STAT_NONE);
	evbuffer_add_printf(b, ",\"oom_kills\":%" PRIu64 "},\"pids\":{\"current\":%" PRIu64,
			    st.oom_kills, st.pids_current);
	add_u64_or_null(b, "limit", res->pids ? res->pids : ACRE_STAT_NONE);
	evbuffer_add(b, "}", 1);
}

/* "by_class": the same counts split by the other end: this node's slices, the pool, outside. */
static void add_net_classes(struct evbuffer *b, const struct acre_bpf_net *net)
{
	static const char *const names[ACRE_BPF_CLASS_COUNT] = {
		[ACRE_BPF_CLASS_OUTSIDE] = "outside",
		[ACRE_BPF_CLASS_NODE] = "node",
		[ACRE_BPF_CLASS_POOL] = "pool",
	};
	evbuffer_add_printf(b, ",\"by_class\":{");
	for (int c = 0; c < ACRE_BPF_CLASS_COUNT; c++) {
		const struct acre_bpf_net_counts *k = &net->by_class[c];
		evbuffer_add_printf(b,
				    "%s\"%s\":{\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
				    ",\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64 "}",
				    c ? "," : "", names[c], k->rx_bytes, k->tx_bytes, k->rx_packets,
				    k->tx_packets);
	}
	evbuffer_add(b, "}}", 2);
}

/* eBPF numbers: null, never zero, when accounting is off or the slice is not in the maps. */
static void add_accounting(struct slice *s, struct evbuffer *b, uint64_t now, bool detail)
{
	struct acre_bpf *bpf = s->sv->bpf;
	uint64_t id = s->cgroup ? acre_cgroup_id(s->cgroup) : 0;
	struct acre_bpf_net net;
	struct acre_bpf_runq rq;
	if (!bpf || !id || acre_bpf_net_read(bpf, id, &net) < 0) {
		evbuffer_add_printf(b, ",\"net\":null");
	} else {
		evbuffer_add_printf(b,
				    ",\"net\":{\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
				    ",\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64
				    ",\"rx_bytes_per_s\":%" PRIu64 ",\"tx_bytes_per_s\":%" PRIu64,
				    net.rx_bytes, net.tx_bytes, net.rx_packets, net.tx_packets,
				    rate(net.rx_bytes, s->net_sample_rx, now, s->net_sample_at),
				    rate(net.tx_bytes, s->net_sample_tx, now, s->net_sample_at));
		add_net_classes(b, &net);
		s->net_sample_rx = net.rx_bytes;
		s->net_sample_tx = net.tx_bytes;
		s->net_sample_at = now;
	}
	if (!bpf || !id || acre_bpf_runq_read(bpf, id, &rq) < 0) {
		evbuffer_add_printf(b, ",\"runq\":null");
		return;
	}
	evbuffer_add_printf(b,
			    ",\"runq\":{\"count\":%" PRIu64 ",\"total_ns\":%" PRIu64
			    ",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64,
			    rq.count, rq.total_ns, acre_bpf_runq_percentile(&rq, 50),
			    acre_bpf_runq_percentile(&rq, 99));
	if (detail) {
		evbuffer_add_printf(b, ",\"histogram_log2_us\":[");
		for (size_t i = 0; i < ACRE_BPF_RUNQ_SLOTS; i++)
			evbuffer_add_printf(b, "%s%" PRIu64, i ? "," : "", rq.slots[i]);
		evbuffer_add(b, "]", 1);
	}
	evbuffer_add(b, "}", 1);
}

void view_stats_append(struct slice *s, bool detail, bool first, struct evbuffer *b)
{
	uint64_t now = acre_monotonic_ns();
	struct acre_jsonw name;
	acre_jsonw_init(&name);
	acre_jsonw_string(&name, s->rec.spec.name);
	size_t len;
	_cleanup_free_ char *quoted = acre_jsonw_take(&name, &len);
	evbuffer_add_printf(b, "%s{\"name\":%s,\"state\":\"%s\"", first ? "" : ",",
			    quoted ? quoted : "null", acre_slice_state_name(s->rec.state));
	add_cgroup_stats(s, b, now);
	add_accounting(s, b, now, detail);
	evbuffer_add(b, "}", 1);
}
