/*
 * Slices in and out of the counting maps, and their counters read back.
 * The maps are per-CPU so the programs never contend on a cache line; a
 * read is therefore one lookup that returns a value per possible CPU, which
 * this file sums.  Reads are one syscall per map per slice, which keeps
 * `acre slice stat` over 1,000 slices at a few milliseconds.
 */
#include "bpf_internal.h"

#include <arpa/inet.h>

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
		for (int c = 0; c < ACRE_BPF_CLASS_COUNT; c++) {
			struct acre_bpf_net_counts *o = &out->by_class[c];
			const struct acre_bpf_net_class_counts *k = &v[cpu].by_class[c];
			o->rx_bytes += k->rx_bytes;
			o->rx_packets += k->rx_packets;
			o->tx_bytes += k->tx_bytes;
			o->tx_packets += k->tx_packets;
		}
	}
	return 0;
}

static struct acre_bpf_net_class_key class_key(uint32_t network, uint8_t prefix_len)
{
	struct acre_bpf_net_class_key k = {.prefixlen = prefix_len};
	uint32_t be = htonl(network);
	memcpy(k.addr, &be, sizeof(k.addr));
	return k;
}

static bool class_listed(const struct acre_bpf_class_prefix *p, size_t n,
			 const struct acre_bpf_net_class_key *k)
{
	for (size_t i = 0; i < n; i++) {
		struct acre_bpf_net_class_key q = class_key(p[i].network, p[i].prefix_len);
		if (q.prefixlen == k->prefixlen && memcmp(q.addr, k->addr, sizeof(q.addr)) == 0)
			return true;
	}
	return false;
}

int acre_bpf_net_class_set(struct acre_bpf *b, const struct acre_bpf_class_prefix *p, size_t n)
{
	if (n > ACRE_BPF_NET_CLASS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (p[i].prefix_len > 32 || (unsigned)p[i].class >= ACRE_BPF_CLASS_COUNT)
			return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		struct acre_bpf_net_class_key k = class_key(p[i].network, p[i].prefix_len);
		__u32 c = (__u32)p[i].class;
		int rc = bpf_map_update_elem(b->class_fd, &k, &c, BPF_ANY);
		if (rc < 0)
			return rc == -E2BIG ? -E2BIG : rc;
	}
	/*
	 * What is no longer listed goes.  Deleting the key just read would restart
	 * the walk, so the next key is fetched first.  n is small (peers of a pool):
	 * the quadratic check costs nothing worth an index.
	 */
	struct acre_bpf_net_class_key cur, next;
	int rc = bpf_map_get_next_key(b->class_fd, NULL, &cur);
	while (rc == 0) {
		int more = bpf_map_get_next_key(b->class_fd, &cur, &next);
		if (!class_listed(p, n, &cur))
			bpf_map_delete_elem(b->class_fd, &cur);
		if (more < 0)
			break;
		cur = next;
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
