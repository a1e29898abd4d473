/*
 * Slices in and out of the counting maps, and their counters read back.
 * The maps are per-CPU so the programs never contend on a cache line; a
 * read is therefore one lookup that returns a value per possible CPU, which
 * this file sums.  Reads are one syscall per map per slice, which keeps
 * `acre slice stat` over 1,000 slices at a few milliseconds.
 */
#include "bpf_internal.h"

/* Inserts zeroed per-CPU values unless the slice is there already (a re-adopted slice). */
static int add_zeroed(struct acre_bpf *b, int fd, uint64_t id, size_t value_size)
{
	memset(b->percpu, 0, (size_t)b->ncpus * value_size);
	int rc = bpf_map_update_elem(fd, &id, b->percpu, BPF_NOEXIST);
	if (rc == -EEXIST)
		return 0;
	/* A full hash map says E2BIG; the caller reads "no space for another slice". */
	return rc == -E2BIG ? -ENOSPC : rc;
}

int acre_bpf_slice_add(struct acre_bpf *b, uint64_t cgroup_id)
{
	if (!cgroup_id)
		return -EINVAL;
	bool had_net = bpf_map_lookup_elem(b->net_fd, &cgroup_id, b->percpu) == 0;
	int rc = add_zeroed(b, b->net_fd, cgroup_id, sizeof(struct acre_bpf_net_value));
	if (rc < 0)
		return rc;
	rc = add_zeroed(b, b->runq_fd, cgroup_id, sizeof(struct acre_bpf_runq_value));
	if (rc < 0 && !had_net)
		bpf_map_delete_elem(b->net_fd, &cgroup_id);
	return rc;
}

int acre_bpf_slice_remove(struct acre_bpf *b, uint64_t cgroup_id)
{
	int rc = 0, r;
	if ((r = bpf_map_delete_elem(b->net_fd, &cgroup_id)) < 0 && r != -ENOENT)
		rc = r;
	if ((r = bpf_map_delete_elem(b->runq_fd, &cgroup_id)) < 0 && r != -ENOENT && !rc)
		rc = r;
	if ((r = acre_bpf_policy_clear(b, cgroup_id)) < 0 && !rc)
		rc = r;
	return rc;
}

int acre_bpf_net_read(struct acre_bpf *b, uint64_t cgroup_id, struct acre_bpf_net *out)
{
	int rc = bpf_map_lookup_elem(b->net_fd, &cgroup_id, b->percpu);
	if (rc < 0)
		return rc;
	const struct acre_bpf_net_value *v = b->percpu;
	*out = (struct acre_bpf_net){0};
	for (int cpu = 0; cpu < b->ncpus; cpu++) {
		out->rx_bytes += v[cpu].rx_bytes;
		out->rx_packets += v[cpu].rx_packets;
		out->tx_bytes += v[cpu].tx_bytes;
		out->tx_packets += v[cpu].tx_packets;
	}
	return 0;
}

int acre_bpf_runq_read(struct acre_bpf *b, uint64_t cgroup_id, struct acre_bpf_runq *out)
{
	int rc = bpf_map_lookup_elem(b->runq_fd, &cgroup_id, b->percpu);
	if (rc < 0)
		return rc;
	const struct acre_bpf_runq_value *v = b->percpu;
	*out = (struct acre_bpf_runq){0};
	for (int cpu = 0; cpu < b->ncpus; cpu++) {
		out->total_ns += v[cpu].total_ns;
		out->count += v[cpu].count;
		for (int i = 0; i < ACRE_BPF_RUNQ_SLOTS; i++)
			out->slots[i] += v[cpu].slots[i];
	}
	return 0;
}

uint64_t acre_bpf_runq_percentile(const struct acre_bpf_runq *r, double p)
{
	/* Sum the slots rather than trust count: the CPUs' copies are read one by one. */
	uint64_t total = 0;
	for (int i = 0; i < ACRE_BPF_RUNQ_SLOTS; i++)
		total += r->slots[i];
	if (!total || !(p > 0))
		return 0;
	if (p > 100)
		p = 100;
	double rank = p / 100.0 * (double)total;
	uint64_t below = 0;
	for (int i = 0; i < ACRE_BPF_RUNQ_SLOTS; i++) {
		if (!r->slots[i] || (double)(below + r->slots[i]) < rank) {
			below += r->slots[i];
			continue;
		}
		/* Slot 0 is [0, 2) us, slot i is [2^i, 2^(i+1)) us: interpolate inside it. */
		double lo = i ? (double)(1ULL << i) : 0, hi = (double)(2ULL << i);
		double frac = (rank - (double)below) / (double)r->slots[i];
		return (uint64_t)((lo + frac * (hi - lo)) * 1000.0);
	}
	return (uint64_t)(2ULL << (ACRE_BPF_RUNQ_SLOTS - 1)) * 1000;
}
