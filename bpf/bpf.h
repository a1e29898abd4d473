/*
 * libacre-bpf: the eBPF side of a node — per-slice network and run-queue
 * accounting, the outbound connect policy of `--allow` and virtual IPs.  The
 * programs are attached once, at the supervisor's cgroup v2 subtree (the
 * node-wide VIP programs where acre_bpf_vip_attach says), and everything (maps,
 * programs, links) is pinned under /sys/fs/bpf/acre/<cgroup-root>/, so a
 * supervisor that dies keeps counting through the pins and a new one picks
 * the same maps up again.  A slice is a cgroup id: the supervisor adds and
 * removes it; only slices are counted.
 *
 * Small verbs, no policy: the supervisor decides what to do when
 * acre_bpf_open fails (accounting off) and what a slice may connect to.
 * A handle is used by one thread at a time.  Needs a kernel >= 5.11 with BTF.
 */
#ifndef ACRE_BPF_H
#define ACRE_BPF_H

#include "common/common.h"

struct acre_bpf;

/*
 * Loads and attaches the programs at v2_subtree_path (the supervisor's
 * subtree in the cgroup v2 tree), or re-opens what an earlier run pinned for
 * the same cgroup_root_name: valid pins are reused and never attached a
 * second time, stale or incompatible ones are replaced.  Mounts bpffs on
 * /sys/fs/bpf if nothing is mounted there.  Fails, saying why in err, without
 * BTF (-EOPNOTSUPP) or without the privilege to load eBPF (-EPERM).
 */
int acre_bpf_open(const char *cgroup_root_name, const char *v2_subtree_path, struct acre_bpf **out,
		  struct acre_error *err);
/* Closes the handle; the pinned programs stay attached and keep counting. */
void acre_bpf_close(struct acre_bpf *b);
/*
 * Detaches and unpins everything of cgroup_root_name (uninstall, tests); 0 if nothing was there.
 * The isolation filters on live veths stay, still isolating, until their veths go.
 */
int acre_bpf_remove_pins(const char *cgroup_root_name);
/* /sys/fs/bpf/acre/<cgroup-root>, for `bpftool map dump pinned <dir>/net_stats`. */
const char *acre_bpf_pin_dir(const struct acre_bpf *b);

/*
 * Starts accounting a slice's cgroup with zeroed counters.  A slice already
 * present (re-adopted after a restart) keeps its counters.  -ENOSPC when the
 * maps are full.
 */
int acre_bpf_slice_add(struct acre_bpf *b, uint64_t cgroup_id);
/* Forgets the slice's counters and its connect policy; 0 if it was not there. */
int acre_bpf_slice_remove(struct acre_bpf *b, uint64_t cgroup_id);

/* Classes of the other end of a slice's traffic (acre_bpf_net_class_set says which is which). */
enum acre_bpf_net_class {
	ACRE_BPF_CLASS_OUTSIDE = 0, /* no prefix of the trie, or not IPv4 */
	ACRE_BPF_CLASS_NODE = 1,
	ACRE_BPF_CLASS_POOL = 2,
	ACRE_BPF_CLASS_COUNT = 3,
};

struct acre_bpf_net_counts {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
};

/*
 * Bytes at the IP layer (headers included) as the cgroup hooks see them; packets on the wire.
 * by_class splits the same counts by the other end's class (egress by destination, ingress by
 * source); the classes add up to the totals.
 */
struct acre_bpf_net {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
	struct acre_bpf_net_counts by_class[ACRE_BPF_CLASS_COUNT];
};
/* Sums the per-CPU counters; -ENOENT if the cgroup is not a slice. */
int acre_bpf_net_read(struct acre_bpf *b, uint64_t cgroup_id, struct acre_bpf_net *out);

#define ACRE_BPF_CLASS_MAX 16384
/* One prefix of the class trie: network in host order, host bits clear. */
struct acre_bpf_class_prefix {
	uint32_t network;
	uint8_t prefix_len; /* 0..32 */
	enum acre_bpf_net_class class;
};
/*
 * Replaces the class trie with exactly these prefixes (longest prefix wins,
 * as routes do): what is new is added first, then what is gone deleted, so a
 * packet never meets an empty trie in between.  -E2BIG beyond ACRE_BPF_CLASS_MAX, -EINVAL
 * for a prefix longer than 32 or an unknown class.
 */
int acre_bpf_net_class_set(struct acre_bpf *b, const struct acre_bpf_class_prefix *p, size_t n);

#define ACRE_BPF_RUNQ_SLOTS 32
/* Run-queue latency: slot i >= 1 counts waits of [2^i, 2^(i+1)) us, slot 0 those under 2 us. */
struct acre_bpf_runq {
	uint64_t total_ns, count, slots[ACRE_BPF_RUNQ_SLOTS];
};
int acre_bpf_runq_read(struct acre_bpf *b, uint64_t cgroup_id, struct acre_bpf_runq *out);
/* The p-th percentile (0 < p <= 100) in ns, interpolated inside its slot; 0 if nothing counted. */
uint64_t acre_bpf_runq_percentile(const struct acre_bpf_runq *r, double p);

/* Rules come parsed by acre_allow_parse (common/); at most ACRE_ALLOW_MAX of them. */

/*
 * Replaces the slice's connect policy: from now on connect(2) from its
 * cgroup succeeds only to the listed destinations (n == 0: to nothing), and
 * fails with EPERM otherwise.  Loopback is not implied: list 127.0.0.1 or
 * ::1 to allow it.  Only connect(2) is checked, not unconnected UDP sends.
 * At most ACRE_ALLOW_MAX rules, and 16 distinct ports applying to one
 * address: -E2BIG beyond; -EINVAL for a bad family or prefix length;
 * -ENOSPC when the node's policy map is full.
 */
int acre_bpf_policy_set(struct acre_bpf *b, uint64_t cgroup_id, const struct acre_allow *rules,
			size_t n);
/* Lifts the slice's policy: it may connect anywhere again. */
int acre_bpf_policy_clear(struct acre_bpf *b, uint64_t cgroup_id);

/*
 * `--isolated` on the bridge.  Cuts the slice behind host-side veth `ifindex` off from every
 * address of its subnet but the gateway (IPv4, network byte order), both ways; IPv6 dropped.
 * At the link layer the slice then talks to the bridge's MAC only (read from the device's
 * master, which must be a bridge with a fixed MAC, as netns/ makes it): it sends nothing but an
 * ARP request for the gateway to any other address, and hears only what the node itself sends,
 * so frames to a neighbour's MAC, broadcasts and multicasts between slices, VLAN-tagged frames
 * and addresses outside the subnet on a neighbour cannot open a path either.  Puts clsact and
 * two cls_bpf filters (handle 0xac1, priority 1) on the device; calling it again changes nothing.
 * The filters stay with the device, whoever has the module open: they are undone by deleting
 * the veth.  -ENODEV without the device, -EINVAL if it is on no bridge or the addresses do not
 * make a subnet, -ENOSPC when the node isolates ACRE_BPF_MAX_SLICES devices.
 */
int acre_bpf_isolate(struct acre_bpf *b, int ifindex, uint32_t gateway, uint32_t network,
		     uint8_t prefix_len, struct acre_error *err);
/*
 * Forgets the device (its filters go with it when the veth is deleted; until then they let
 * everything through).  0 if it was not there.  Entries of veths deleted without this are
 * dropped at the next acre_bpf_open.
 */
int acre_bpf_isolate_remove(struct acre_bpf *b, int ifindex);

/*
 * Virtual IPs: connect(2) and UDP sendmsg(2) to VIP:PORT go to one of its members instead,
 * chosen per connection in the kernel (cgroup/connect4/6, sendmsg4/6), and UDP replies read
 * as from the VIP (recvmsg4/6).  Slices get it from the connect policy's program, which
 * rewrites before it checks --allow; the node's own processes from programs attached by
 * acre_bpf_vip_attach.  IPv4 only (v4-mapped on v6 sockets too); addresses and ports in
 * network byte order.
 */
struct acre_bpf_vip {
	uint32_t addr;
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};
struct acre_bpf_vip_member {
	uint32_t addr;
	uint16_t port;
};
#define ACRE_BPF_VIP_MEMBERS_MAX  64
#define ACRE_BPF_VIP_SERVICES_MAX 256 /* (VIP, port, protocol) entries of a node */
/*
 * Attaches the node-wide programs at cgroup_path (a cgroup v2 directory: the v2 root for the
 * whole node), pinned as vip_* beside the rest so they outlive the process.  Idempotent; a
 * pinned attachment elsewhere moves here.
 */
int acre_bpf_vip_attach(struct acre_bpf *b, const char *cgroup_path, struct acre_error *err);
/* Were they left attached by an earlier run (killed, not stopped)? */
bool acre_bpf_vip_pinned(const struct acre_bpf *b);
/* Detaches and unpins them; the table stays (slices keep using it).  0 if none. */
int acre_bpf_vip_detach(struct acre_bpf *b);
/*
 * Publishes VIP's members, replacing the old set in one step: a connection sees the old set
 * or the new, never a mixture.  n == 0 keeps the VIP with no member: connects are refused
 * (ECONNREFUSED).  -E2BIG over ACRE_BPF_VIP_MEMBERS_MAX, -ENOSPC when the node has
 * ACRE_BPF_VIP_MAX_SERVICES of them, -EINVAL for a bad protocol or a zero address or port.
 * Returns 1 when the set was already this one (nothing written).
 */
int acre_bpf_vip_set(struct acre_bpf *b, const struct acre_bpf_vip *vip,
		     const struct acre_bpf_vip_member *members, size_t n);
/* Forgets the VIP: it is an ordinary address again.  0 if it was not there. */
int acre_bpf_vip_delete(struct acre_bpf *b, const struct acre_bpf_vip *vip);
/* Every VIP in the table, with its members (*n of them, at most ACRE_BPF_VIP_MEMBERS_MAX). */
typedef void (*acre_bpf_vip_fn)(const struct acre_bpf_vip *vip,
				const struct acre_bpf_vip_member *members, size_t n, void *ud);
int acre_bpf_vip_foreach(struct acre_bpf *b, acre_bpf_vip_fn fn, void *ud);

#endif
