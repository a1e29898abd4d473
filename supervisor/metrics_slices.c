/*
 * The slices' families, each sample labelled slice, app (label acre.app)
 * and install (label acre.install), empty when the slice has none.  Every
 * slice is read once per scrape, through the readers `slice stat` uses
 * (isolation/'s cgroup stats, bpf/'s network and run-queue maps), and the
 * families are then written one after the other, as the format asks: a
 * family's lines together.  eBPF families are left out of a slice the
 * maps do not count, never written as zeros.  The node's eBPF totals are
 * written here too, from the same samples and what removed slices counted
 * (metrics.c keeps that from their last counts, slice.h's final_*).
 */
#include "metrics.h"
#include "metrics_text.h"
#include "slice.h"
#include "slice_ops.h"

struct sample {
	const struct slice *s;
	struct metrics_label labels[3];
	struct acre_cgroup_stats st;
	struct acre_cgroup_memory_kinds mk;
	bool have_mk, have_net, have_runq;
	struct acre_bpf_net net;
	struct acre_bpf_runq rq;
};

static const char *label(const struct slice *s, const char *key)
{
	const char *v = json_string_value(json_object_get(s->rec.spec.labels, key));
	return v ? v : "";
}

/* false: the slice has no cgroup to read (never launched, or being removed). */
static bool read_sample(struct slice *s, struct sample *x)
{
	struct acre_bpf *bpf = s->sv->bpf;
	if (!s->cgroup || acre_cgroup_read_stats(s->cgroup, &x->st) < 0)
		return false;
	x->s = s;
	x->labels[0] = (struct metrics_label){"slice", s->rec.spec.name};
	x->labels[1] = (struct metrics_label){"app", label(s, ACRE_LABEL_APP)};
	x->labels[2] = (struct metrics_label){"install", label(s, ACRE_LABEL_INSTALL)};
	x->have_mk = acre_cgroup_read_memory_kinds(s->cgroup, &x->mk) == 0;
	uint64_t id = acre_cgroup_id(s->cgroup);
	x->have_net = bpf && id && acre_bpf_net_read(bpf, id, &x->net) == 0;
	x->have_runq = bpf && id && acre_bpf_runq_read(bpf, id, &x->rq) == 0;
	return true;
}

typedef bool (*value_fn)(const struct sample *x, double *v);

/* One family, one sample per slice for which get gives a value. */
static void family(struct evbuffer *b, const struct sample *xs, size_t n, const char *name,
		   const char *type, const char *help, value_fn get)
{
	double v;
	metrics_family(b, name, type, help);
	for (size_t i = 0; i < n; i++)
		if (get(&xs[i], &v))
			metrics_sample(b, name, xs[i].labels, 3, v);
}

static bool cpu_seconds(const struct sample *x, double *v)
{
	*v = (double)x->st.cpu_usage_ns / 1e9;
	return true;
}

static bool throttled_periods(const struct sample *x, double *v)
{
	*v = (double)x->st.cpu_nr_throttled;
	return true;
}

static bool throttled_seconds(const struct sample *x, double *v)
{
	*v = (double)x->st.cpu_throttled_ns / 1e9;
	return true;
}

static bool cpus_limit(const struct sample *x, double *v)
{
	*v = x->s->rec.spec.resources.cpus_milli / 1000.0;
	return x->s->rec.spec.resources.cpus_milli != 0;
}

static bool memory_usage(const struct sample *x, double *v)
{
	*v = (double)x->st.memory_current;
	return true;
}

static bool memory_peak(const struct sample *x, double *v)
{
	*v = (double)x->st.memory_peak;
	return x->st.memory_peak != ACRE_STAT_NONE;
}

static bool memory_limit(const struct sample *x, double *v)
{
	*v = (double)x->s->rec.spec.resources.memory;
	return x->s->rec.spec.resources.memory != 0;
}

static bool pids(const struct sample *x, double *v)
{
	*v = (double)x->st.pids_current;
	return true;
}

static bool pids_limit(const struct sample *x, double *v)
{
	*v = (double)x->s->rec.spec.resources.pids;
	return x->s->rec.spec.resources.pids != 0;
}

static bool oom_kills(const struct sample *x, double *v)
{
	*v = (double)x->st.oom_kills;
	return true;
}

static void cpu_and_memory(struct evbuffer *b, const struct sample *xs, size_t n)
{
	family(b, xs, n, "acre_slice_cpu_seconds_total", "counter",
	       "CPU time the slice's processes used.", cpu_seconds);
	family(b, xs, n, "acre_slice_cpu_throttled_periods_total", "counter",
	       "Scheduler periods in which the slice was throttled by its --cpus.",
	       throttled_periods);
	family(b, xs, n, "acre_slice_cpu_throttled_seconds_total", "counter",
	       "Time the slice was held back by its --cpus.", throttled_seconds);
	family(b, xs, n, "acre_slice_cpus_limit", "gauge",
	       "The slice's --cpus (slices without one are left out).", cpus_limit);
	family(b, xs, n, "acre_slice_memory_usage_bytes", "gauge",
	       "Memory the slice uses now, all kinds together.", memory_usage);
	family(b, xs, n, "acre_slice_memory_peak_bytes", "gauge",
	       "The most memory the slice has used (where the kernel keeps it).", memory_peak);
	family(b, xs, n, "acre_slice_memory_limit_bytes", "gauge",
	       "The slice's --memory (slices without one are left out).", memory_limit);
	const char *name = "acre_slice_memory_bytes";
	metrics_family(b, name, "gauge",
		       "Memory the slice uses, by kind: anon, file, kernel, slab (those this "
		       "kernel keeps).");
	for (size_t i = 0; i < n; i++) {
		const struct sample *x = &xs[i];
		const struct {
			const char *kind;
			uint64_t v;
		} kinds[] = {{"anon", x->mk.anon},
			     {"file", x->mk.file},
			     {"kernel", x->mk.kernel},
			     {"slab", x->mk.slab}};
		for (size_t k = 0; x->have_mk && k < 4; k++) {
			if (kinds[k].v == ACRE_STAT_NONE)
				continue;
			struct metrics_label l[] = {
				x->labels[0], x->labels[1], x->labels[2], {"kind", kinds[k].kind}};
			metrics_sample_u64(b, name, l, 4, kinds[k].v);
		}
	}
	family(b, xs, n, "acre_slice_pids", "gauge", "Processes and threads in the slice.", pids);
	family(b, xs, n, "acre_slice_pids_limit", "gauge",
	       "The slice's --pids (slices without one are left out).", pids_limit);
	family(b, xs, n, "acre_slice_oom_kills_total", "counter",
	       "Processes of the slice the OOM killer ended.", oom_kills);
}

static const char *const net_classes[ACRE_BPF_CLASS_COUNT] = {
	[ACRE_BPF_CLASS_NODE] = "node",
	[ACRE_BPF_CLASS_POOL] = "pool",
	[ACRE_BPF_CLASS_OUTSIDE] = "outside",
};

/* One slice's (or the node's) counts by class and direction; labels has two free places last. */
static void net_samples(struct evbuffer *b, const char *name, struct metrics_label *labels,
			size_t n, const struct acre_bpf_net *net, bool bytes)
{
	for (int c = 0; c < ACRE_BPF_CLASS_COUNT; c++) {
		const struct acre_bpf_net_counts *k = &net->by_class[c];
		labels[n] = (struct metrics_label){"class", net_classes[c]};
		labels[n + 1] = (struct metrics_label){"direction", "rx"};
		metrics_sample_u64(b, name, labels, n + 2, bytes ? k->rx_bytes : k->rx_packets);
		labels[n + 1].value = "tx";
		metrics_sample_u64(b, name, labels, n + 2, bytes ? k->tx_bytes : k->tx_packets);
	}
}

/* Bytes or packets by the other end's class and direction: the split `slice stat` shows. */
static void network(struct evbuffer *b, const struct sample *xs, size_t n, bool bytes)
{
	const char *name =
		bytes ? "acre_slice_network_bytes_total" : "acre_slice_network_packets_total";
	metrics_family(b, name, "counter",
		       bytes ? "IP bytes the slice received (rx) and sent (tx), by the other "
			       "end: this node's slices, the pool, or outside."
			     : "Packets the slice received (rx) and sent (tx), by the other end.");
	for (size_t i = 0; i < n; i++) {
		if (!xs[i].have_net)
			continue;
		struct metrics_label l[5] = {xs[i].labels[0], xs[i].labels[1], xs[i].labels[2]};
		net_samples(b, name, l, 3, &xs[i].net, bytes);
	}
}

/*
 * bpf/runq.bpf.c's log2 histogram: slot 0 counts waits under 2 us, slot i
 * those of [2^i, 2^(i+1)) us, so slot i's upper bound is 2^(i+1) us.  The
 * buckets stop at 2^24 us (17 s) and +Inf takes the slots above: a wait
 * that long is a stall whatever its size, and each bucket is a series for
 * every slice that Prometheus stores.
 */
#define RUNQ_BOUNDS 24

/* One histogram's series from the eBPF slots, those above the last bound in +Inf. */
static void runq_series(struct evbuffer *b, const char *name, const struct metrics_label *labels,
			size_t n, const struct acre_bpf_runq *rq)
{
	double bounds[RUNQ_BOUNDS];
	uint64_t counts[RUNQ_BOUNDS + 1] = {0};
	for (size_t i = 0; i < RUNQ_BOUNDS; i++)
		bounds[i] = (double)(2ULL << i) * 1e-6;
	for (size_t k = 0; k < ACRE_BPF_RUNQ_SLOTS; k++)
		counts[k < RUNQ_BOUNDS ? k : RUNQ_BOUNDS] += rq->slots[k];
	struct metrics_histogram h = {.bounds = bounds,
				      .counts = counts,
				      .nbounds = RUNQ_BOUNDS,
				      .sum = (double)rq->total_ns / 1e9};
	metrics_histogram(b, name, labels, n, &h);
}

static void runq(struct evbuffer *b, const struct sample *xs, size_t n)
{
	const char *name = "acre_slice_runqueue_latency_seconds";
	metrics_family(b, name, "histogram",
		       "Time the slice's threads waited to run once woken (eBPF, log2 buckets).");
	for (size_t i = 0; i < n; i++)
		if (xs[i].have_runq)
			runq_series(b, name, xs[i].labels, 3, &xs[i].rq);
}

static void net_add(struct acre_bpf_net *to, const struct acre_bpf_net *from)
{
	for (int c = 0; c < ACRE_BPF_CLASS_COUNT; c++) {
		to->by_class[c].rx_bytes += from->by_class[c].rx_bytes;
		to->by_class[c].tx_bytes += from->by_class[c].tx_bytes;
		to->by_class[c].rx_packets += from->by_class[c].rx_packets;
		to->by_class[c].tx_packets += from->by_class[c].tx_packets;
	}
}

static void runq_add(struct acre_bpf_runq *to, const struct acre_bpf_runq *from)
{
	to->total_ns += from->total_ns;
	to->count += from->count;
	for (size_t k = 0; k < ACRE_BPF_RUNQ_SLOTS; k++)
		to->slots[k] += from->slots[k];
}

void metrics_gone_add(struct metrics_gone *gone, const struct acre_bpf_net *net,
		      const struct acre_bpf_runq *runq)
{
	if (net)
		net_add(&gone->net, net);
	if (runq)
		runq_add(&gone->runq, runq);
}

/*
 * The node's totals of what eBPF counts: the live slices and the removed
 * ones, so that a slice leaving never takes the counter back.
 */
static void node_totals(struct evbuffer *b, const struct sample *xs, size_t n,
			const struct metrics_gone *gone, const char *node)
{
	struct metrics_gone all = *gone;
	for (size_t i = 0; i < n; i++)
		metrics_gone_add(&all, xs[i].have_net ? &xs[i].net : NULL,
				 xs[i].have_runq ? &xs[i].rq : NULL);
	struct metrics_label l[3] = {{"node", node}};
	const char *name = "acre_node_slices_network_bytes_total";
	metrics_family(b, name, "counter",
		       "IP bytes of the node's slices together, removed ones' too, by the other "
		       "end's class and direction.");
	net_samples(b, name, l, 1, &all.net, true);
	name = "acre_node_slices_network_packets_total";
	metrics_family(b, name, "counter",
		       "Packets of the node's slices together, removed ones' too, by class and "
		       "direction.");
	net_samples(b, name, l, 1, &all.net, false);
	name = "acre_node_slices_runqueue_latency_seconds";
	metrics_family(b, name, "histogram",
		       "Time the threads of the node's slices waited to run once woken, removed "
		       "slices' too.");
	runq_series(b, name, l, 1, &all.runq);
}

void metrics_slices_write(struct supervisor *sv, const struct metrics_gone *gone, const char *node,
			  struct evbuffer *b)
{
	_cleanup_free_ struct slice **list = slice_ops_list(sv);
	size_t total = acre_map_size(sv->slices), n = 0;
	_cleanup_free_ struct sample *xs = calloc(total ? total : 1, sizeof(*xs));
	if (!list || !xs)
		return;
	for (size_t i = 0; list[i]; i++)
		if (read_sample(list[i], &xs[n]))
			n++;
	cpu_and_memory(b, xs, n);
	if (!sv->bpf)
		return;
	network(b, xs, n, true);
	network(b, xs, n, false);
	runq(b, xs, n);
	node_totals(b, xs, n, gone, node);
}
