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
 * prefix matches, and every non-IPv4 packet).  A packet is counted once,
 * in its class; the totals are the classes' sum, added up by user space.
 * The class of an address is remembered per CPU (net_class_cache) until the
 * trie changes, so most packets cost no trie lookup.
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

/*
 * net_class_gen: bumped by the supervisor after every rewrite of net_class
 * (acre_bpf_net_class_set), so that what net_class_cache remembers of the
 * trie before it is no longer believed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} net_class_gen SEC(".maps");

/*
 * The last classes found, per CPU, direct-mapped by address.  A trie lookup
 * per packet cost more than all the rest of the accounting; a stream's
 * packets, both ways, have one other end, so nearly every packet hits here.
 * Per-CPU: no lock, no cache line shared between CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct acre_bpf_net_class_cache);
} net_class_cache SEC(".maps");

/* The other end's address (network order); skb->data starts at the IP header here. */
static __always_inline int other_end(struct __sk_buff *skb, bool egress, __u32 *addr)
{
	/*
	 * Read in place where the header is in the skb's linear part (always on
	 * egress, and on ingress once the stack has pulled it, which it has by
	 * the time a socket's filter runs); bpf_skb_load_bytes, a helper call
	 * and a copy, only when it is not.
	 */
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	if ((void *)(ip + 1) <= end) {
		*addr = egress ? ip->daddr : ip->saddr;
		return 0;
	}
	/* saddr at offset 12 of the IPv4 header, daddr at 16. */
	return bpf_skb_load_bytes(skb, egress ? 16 : 12, addr, sizeof(*addr));
}

/* The class of the packet's other end. */
static __always_inline __u32 classify(struct __sk_buff *skb, bool egress)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return ACRE_BPF_NET_OUTSIDE;
	__u32 addr;
	if (other_end(skb, egress, &addr) < 0)
		return ACRE_BPF_NET_OUTSIDE;
	__u32 zero = 0;
	__u32 *genp = bpf_map_lookup_elem(&net_class_gen, &zero);
	struct acre_bpf_net_class_cache *cache = bpf_map_lookup_elem(&net_class_cache, &zero);
	if (!genp || !cache)
		return ACRE_BPF_NET_OUTSIDE;
	/*
	 * The generation is read before the trie, and the supervisor bumps it
	 * after writing the trie: a program that ran across a rewrite files its
	 * answer under the old generation, which then misses.  Slots hold
	 * generation + 1 so that a zeroed one matches none.
	 */
	__u32 tag = (*(volatile __u32 *)genp + 1) << 2;
	/* Fold the address so that neighbours (one subnet) spread over the slots. */
	__u32 h = addr ^ (addr >> 16);
	__u64 *slot = &cache->slots[(h ^ (h >> 8)) & (ACRE_BPF_NET_CLASS_CACHE_SLOTS - 1)];
	/*
	 * One 64-bit load and one store per slot: a program that interrupts
	 * another on this CPU (a softirq) can replace a slot, never tear it.
	 */
	__u64 seen = *(volatile __u64 *)slot;
	if ((__u32)seen == addr && ((__u32)(seen >> 32) & ~3u) == tag)
		return (__u32)(seen >> 32) & 3;

	struct acre_bpf_net_class_key key = {.prefixlen = 32};
	__builtin_memcpy(key.addr, &addr, sizeof(key.addr));
	__u32 *c = bpf_map_lookup_elem(&net_class, &key);
	__u32 class = c && *c < ACRE_BPF_NET_CLASSES ? *c : ACRE_BPF_NET_OUTSIDE;
	*(volatile __u64 *)slot = (__u64)(tag | class) << 32 | addr;
	return class;
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
	 * Each packet is counted once, in its class: the totals are the sum of
	 * the classes, which user space adds up (acre_bpf_net_read).
	 * Per-CPU, yet atomic: these programs run with migration (not
	 * preemption) disabled, so another task or a softirq on this CPU can
	 * run the same program half-way through a plain read-modify-write.
	 */
	if (egress) {
		__sync_fetch_and_add(&k->tx_bytes, skb->len);
		__sync_fetch_and_add(&k->tx_packets, segs);
	} else {
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
