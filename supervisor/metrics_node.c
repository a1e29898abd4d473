/*
 * The node's families, each labelled node: its CPUs, memory and disk
 * (capacity, reserved by the slices that hold room, free), its slices by
 * state, what its slices use together, read from the supervisor's cgroup
 * subtree (the kernel keeps the CPU time of slices removed since, so the
 * counter never goes back), whether eBPF accounting is on, the
 * supervisor's uptime and version.  Names follow the controller's
 * /metrics: acre_controller_pool_cpus{kind} there, acre_node_cpus{kind} here.
 */
#include "metrics.h"
#include "controller_link.h"
#include "metrics_text.h"
#include "slice.h"
#include "volume.h"

struct node_sums {
	size_t by_state[ACRE_SLICE_DESTROYED];
	uint64_t cpus_milli, memory;
};

static void sum_slice(const char *key, void *value, void *ud)
{
	(void)key;
	const struct slice *s = value;
	struct node_sums *n = ud;
	if (s->rec.state < ACRE_SLICE_DESTROYED)
		n->by_state[s->rec.state]++;
	/* What placement counts against the node: a slice running or about to run again. */
	if (slice_is_active(s) || slice_restart_pending(s)) {
		n->cpus_milli += s->rec.spec.resources.cpus_milli;
		n->memory += s->rec.spec.resources.memory;
	}
}

const char *metrics_node_name(struct supervisor *sv, char buf[256])
{
	if (sv->link && sv->link->node_id[0])
		return sv->link->node_id;
	if (gethostname(buf, 255) < 0)
		snprintf(buf, 256, "unknown");
	buf[255] = '\0';
	return buf;
}

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* name{node,kind} for each kind given, in one family. */
static void by_kind(struct evbuffer *b, const char *node, const char *name, const char *help,
		    const char *const *kinds, const double *values, size_t n)
{
	metrics_family(b, name, "gauge", help);
	for (size_t i = 0; i < n; i++) {
		struct metrics_label l[] = {{"node", node}, {"kind", kinds[i]}};
		metrics_sample(b, name, l, 2, values[i]);
	}
}

static void capacity(struct supervisor *sv, const char *node, const struct node_sums *n,
		     struct evbuffer *b)
{
	static const char *const kinds[] = {"capacity", "reserved", "free"};
	uint64_t cap_milli = (uint64_t)sv->ncpus * 1000;
	double cpus[] = {cap_milli / 1000.0, n->cpus_milli / 1000.0,
			 minus(cap_milli, n->cpus_milli) / 1000.0};
	by_kind(b, node, "acre_node_cpus",
		"CPUs of the node: capacity, reserved by the --cpus of its slices, and free.",
		kinds, cpus, 3);
	double mem[] = {(double)sv->memory_total, (double)n->memory,
			(double)minus(sv->memory_total, n->memory)};
	by_kind(b, node, "acre_node_memory_bytes",
		"Memory of the node: capacity, reserved by the --memory of its slices, and free.",
		kinds, mem, 3);
	uint64_t disk_total, disk_free;
	if (volumes_disk(sv, &disk_total, &disk_free) == 0) {
		static const char *const disk_kinds[] = {"capacity", "free"};
		double disk[] = {(double)disk_total, (double)disk_free};
		by_kind(b, node, "acre_node_disk_bytes",
			"The filesystem of the volumes: its size, and what is free to make them.",
			disk_kinds, disk, 2);
	}
}

static void slices_by_state(const char *node, const struct node_sums *n, struct evbuffer *b)
{
	metrics_family(b, "acre_node_slices", "gauge", "Slices on the node, by state.");
	for (int i = ACRE_SLICE_PENDING; i < ACRE_SLICE_DESTROYED; i++) {
		struct metrics_label l[] = {
			{"node", node}, {"state", acre_slice_state_name((enum acre_slice_state)i)}};
		metrics_sample_u64(b, "acre_node_slices", l, 2, n->by_state[i]);
	}
}

static void one(struct evbuffer *b, const char *node, const char *name, const char *type,
		const char *help, double v)
{
	struct metrics_label l[] = {{"node", node}};
	metrics_family(b, name, type, help);
	metrics_sample(b, name, l, 1, v);
}

/* The subtree's own counters: every slice at once, ended ones' CPU time included. */
static void slices_together(struct acre_cgroup *subtree, const char *node, struct evbuffer *b)
{
	struct acre_cgroup_stats st;
	struct acre_cgroup_memory_kinds mk;
	if (!subtree || acre_cgroup_read_stats(subtree, &st) < 0)
		return;
	one(b, node, "acre_node_slices_cpu_seconds_total", "counter",
	    "CPU time of the node's slices together, of removed ones too.",
	    (double)st.cpu_usage_ns / 1e9);
	one(b, node, "acre_node_slices_memory_usage_bytes", "gauge",
	    "Memory the node's slices use together (and the launches kept ready).",
	    (double)st.memory_current);
	if (acre_cgroup_read_memory_kinds(subtree, &mk) == 0) {
		const char *kinds[4];
		double values[4];
		size_t n = 0;
		const struct {
			const char *kind;
			uint64_t v;
		} all[] = {{"anon", mk.anon},
			   {"file", mk.file},
			   {"kernel", mk.kernel},
			   {"slab", mk.slab}};
		for (size_t i = 0; i < 4; i++) {
			if (all[i].v == ACRE_STAT_NONE)
				continue;
			kinds[n] = all[i].kind;
			values[n++] = (double)all[i].v;
		}
		by_kind(b, node, "acre_node_slices_memory_bytes",
			"Memory of the node's slices together, by kind (those this kernel keeps).",
			kinds, values, n);
	}
	one(b, node, "acre_node_slices_pids", "gauge",
	    "Processes and threads in the node's slices together.", (double)st.pids_current);
	one(b, node, "acre_node_slices_oom_kills_total", "counter",
	    "Processes the OOM killer ended in the node's cgroup subtree.", (double)st.oom_kills);
}

void metrics_node_write(struct supervisor *sv, struct acre_cgroup *subtree, const char *node,
			struct evbuffer *b)
{
	struct node_sums n = {0};
	acre_map_foreach(sv->slices, sum_slice, &n);
	capacity(sv, node, &n, b);
	slices_by_state(node, &n, b);
	slices_together(subtree, node, b);
	one(b, node, "acre_node_accounting", "gauge",
	    "Whether eBPF accounting (network bytes, run-queue latency) is on: 1, or 0.",
	    sv->bpf ? 1 : 0);
	one(b, node, "acre_node_supervisor_uptime_seconds", "gauge",
	    "Seconds since the supervisor started.",
	    (double)(acre_monotonic_ns() - sv->started_ns) / 1e9);
	metrics_family(b, "acre_node_build_info", "gauge", "The supervisor's version.");
	struct metrics_label l[] = {{"node", node}, {"version", ACRE_VERSION}};
	metrics_sample(b, "acre_node_build_info", l, 2, 1);
}
