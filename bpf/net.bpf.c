/*
 * Network accounting per slice.  Two cgroup_skb programs are attached once,
 * at the supervisor's v2 subtree: every descendant cgroup inherits them, so
 * creating a slice costs no attach.  Each skb is charged to the cgroup of the
 * socket that sends or receives it (bpf_skb_cgroup_id), and only if that
 * cgroup is a slice, i.e. has an entry in net_stats that the supervisor added.
 * Packets are never dropped: accounting must not change what the slice sees.
 *
 * Each packet is also classed by the other end's address (egress: the
 * destination, ingress: the source) through net_class, an LPM trie the
 * supervisor keeps current: this node's slices, the pool, or outside (no
 * prefix matches, and every non-IPv4 packet).  One lookup per packet; the
 * totals are counted as before, so they stay the sum of the classes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/layout.h"

/* The kernel lets only GPL-compatible programs call GPL-only helpers; all of acre's say GPL. */
char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	/* Memory only for slices that exist; the programs never insert. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACRE_BPF_MAX_SLICES);
	__type(key, __u64);
	__type(value, struct acre_bpf_net_value);
} net_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	/* The kernel requires it of tries: nodes are allocated as prefixes come. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACRE_BPF_NET_CLASS_MAX);
	__type(key, struct acre_bpf_net_class_key);
	__type(value, __u32);
} net_class SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct acre_bpf_meta);
} net_meta SEC(".maps");

/* The class of the packet's other end; skb->data starts at the IP header here. */
static __always_inline __u32 classify(struct __sk_buff *skb, bool egress)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return ACRE_BPF_NET_OUTSIDE;
	struct acre_bpf_net_class_key key = {.prefixlen = 32};
	/* saddr at offset 12 of the IPv4 header, daddr at 16. */
	if (bpf_skb_load_bytes(skb, egress ? 16 : 12, key.addr, sizeof(key.addr)) < 0)
		return ACRE_BPF_NET_OUTSIDE;
	__u32 *c = bpf_map_lookup_elem(&net_class, &key);
	return c && *c < ACRE_BPF_NET_CLASSES ? *c : ACRE_BPF_NET_OUTSIDE;
}

static __always_inline void count(struct __sk_buff *skb, bool egress)
{
	__u64 id = bpf_skb_cgroup_id(skb);
	struct acre_bpf_net_value *v = bpf_map_lookup_elem(&net_stats, &id);
	if (!v)
		return;
	/* A GSO/GRO skb stands for gso_segs packets on the wire. */
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	__u32 c = classify(skb, egress);
	if (c >= ACRE_BPF_NET_CLASSES) /* for the verifier: c indexes an array */
		return;
	struct acre_bpf_net_class_counts *k = &v->by_class[c];
	/*
	 * Per-CPU, yet atomic: these programs run with migration (not
	 * preemption) disabled, so another task or a softirq on this CPU can
	 * run the same program half-way through a plain read-modify-write.
	 */
	if (egress) {
		__sync_fetch_and_add(&v->tx_bytes, skb->len);
		__sync_fetch_and_add(&v->tx_packets, segs);
		__sync_fetch_and_add(&k->tx_bytes, skb->len);
		__sync_fetch_and_add(&k->tx_packets, segs);
	} else {
		__sync_fetch_and_add(&v->rx_bytes, skb->len);
		__sync_fetch_and_add(&v->rx_packets, segs);
		__sync_fetch_and_add(&k->rx_bytes, skb->len);
		__sync_fetch_and_add(&k->rx_packets, segs);
	}
}

/* cppcheck sees no libbpf headers (they are system headers to it): SEC is unknown. */
// cppcheck-suppress unknownMacro
SEC("cgroup_skb/ingress")
int net_ingress(struct __sk_buff *skb)
{
	count(skb, false);
	return 1;
}

SEC("cgroup_skb/egress")
int net_egress(struct __sk_buff *skb)
{
	count(skb, true);
	return 1;
}
