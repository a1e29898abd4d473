/*
 * The layouts of the pinned maps, shared by the eBPF programs (*.bpf.c, where
 * vmlinux.h supplies the __u64 family) and their loader (*.c, where
 * <linux/types.h> does).  These structs are what `bpftool map dump pinned`
 * prints by field name, and what a restarted supervisor finds in the pins:
 * change one and you must bump ACRE_BPF_LAYOUT_VERSION, so that stale pins
 * are replaced instead of being read with the wrong shape.
 */
#ifndef ACRE_BPF_LAYOUT_H
#define ACRE_BPF_LAYOUT_H

#define ACRE_BPF_LAYOUT_VERSION 2

/* Slices one supervisor can account; maps are NO_PREALLOC, so unused slots cost nothing. */
#define ACRE_BPF_MAX_SLICES 16384

/* Log2 buckets of run-queue latency in microseconds: bucket i >= 1 holds [2^i, 2^(i+1)) us. */
#define ACRE_BPF_LAYOUT_RUNQ_SLOTS 32

/* Connect policy: at most this many --allow rules per slice, and ports per prefix. */
#define ACRE_BPF_POLICY_MAX_RULES 32
#define ACRE_BPF_POLICY_MAX_PORTS 16
/* LPM entries: every rule of every slice plus one "policy present" entry per slice. */
#define ACRE_BPF_POLICY_MAX_ENTRIES 65536

/*
 * Destination classes, the values of net_class: an address no prefix covers
 * is outside.  Egress is classed by destination, ingress by source.
 */
#define ACRE_BPF_NET_OUTSIDE 0
#define ACRE_BPF_NET_NODE    1 /* this node's slice subnet */
#define ACRE_BPF_NET_POOL    2 /* the pool CIDR, other nodes' addresses */
#define ACRE_BPF_NET_CLASSES 3
/* Prefixes in net_class: the node's subnet, the pool CIDR and one /32 per peer node. */
#define ACRE_BPF_NET_CLASS_MAX 16384

struct acre_bpf_net_class_counts {
	__u64 rx_bytes;
	__u64 rx_packets;
	__u64 tx_bytes;
	__u64 tx_packets;
};

/*
 * net_stats: cgroup id -> per-CPU counters, bytes at the IP layer as the
 * cgroup hook sees them: the totals, and the same split by class (which
 * add up to the totals).  Layout 2 added the split.
 */
struct acre_bpf_net_value {
	__u64 rx_bytes;
	__u64 rx_packets;
	__u64 tx_bytes;
	__u64 tx_packets;
	struct acre_bpf_net_class_counts by_class[ACRE_BPF_NET_CLASSES];
};

/* net_class: an LPM trie over IPv4 (network order) -> class. */
struct acre_bpf_net_class_key {
	__u32 prefixlen;
	__u8 addr[4];
};

/* runq_stats: cgroup id -> per-CPU histogram of the time tasks spent runnable, not running. */
struct acre_bpf_runq_value {
	__u64 total_ns;
	__u64 count;
	__u64 slots[ACRE_BPF_LAYOUT_RUNQ_SLOTS];
};

/*
 * connect_policy is an LPM trie over {cgroup id, IPv6 address}: IPv4 is kept
 * as ::ffff:a.b.c.d, so one trie and one lookup serve connect4 and connect6
 * (and v4-mapped connects on v6 sockets).  Every prefix length counts the 64
 * bits of the cgroup id, which therefore always match exactly.  The entry
 * with prefixlen 64 (no address bits) exists for every slice that has a
 * policy: it is what an address no rule covers finds, and it denies.
 * The id is split in two words so the key has no padding: the trie reads
 * the key as bytes right after prefixlen.
 */
struct acre_bpf_policy_key {
	__u32 prefixlen;
	__u32 cgroup_id_hi;
	__u32 cgroup_id_lo;
	__u8 addr[16];
};

/* The ports a prefix allows (host order), already merged with those of every wider rule. */
struct acre_bpf_policy_value {
	__u8 any_port;
	__u8 nports;
	__u16 ports[ACRE_BPF_POLICY_MAX_PORTS];
};

/*
 * isolate_devs: ifindex of an isolated slice's host-side veth -> what the
 * slice behind it may reach.  Addresses in network order; the MAC is the
 * bridge's, the gateway's link address.  A new map of a new part: adding it
 * changed no other layout, so ACRE_BPF_LAYOUT_VERSION stayed.
 */
struct acre_bpf_isolate_value {
	__u32 gateway;
	__u32 network; /* host bits clear */
	__u32 mask;    /* prefix_len leading ones */
	__u8 bridge_mac[6];
	__u8 prefix_len;
	__u8 reserved;
};

/*
 * Virtual IPs (cgroup connect/sendmsg/recvmsg rewrite, see bpf/vip.bpf.h).  The maps belong to
 * the connect part, whose program rewrites before it checks --allow; the vip part's node-wide
 * programs share them.  Addresses are IPv4 in network order (a v6 socket's v4-mapped
 * destinations are rewritten too); ports in network order.
 *
 * connect_vips: (vip, port, proto) -> which slots of connect_slots hold its members now.  A
 * service owns slots [index * 2 * MAX_BACKENDS, +2 * MAX_BACKENDS): two halves, used in turn,
 * so a change is written into the half nobody reads and then published by replacing the
 * connect_vips element in one step (a hash map element is replaced whole, never written in
 * place; with BPF_F_NO_PREALLOC the old element outlives every reader still holding it).
 */
#define ACRE_BPF_VIP_MAX_SERVICES 256
#define ACRE_BPF_VIP_MAX_BACKENDS 64
#define ACRE_BPF_VIP_SLOTS	  (ACRE_BPF_VIP_MAX_SERVICES * 2 * ACRE_BPF_VIP_MAX_BACKENDS)
/* Sockets whose UDP replies are rewritten back to the VIP, and unconnected UDP sockets' picks. */
#define ACRE_BPF_VIP_FLOWS 8192

struct acre_bpf_vip_key {
	__u32 addr;
	__u16 port;
	__u8 proto; /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 reserved;
};

struct acre_bpf_vip_value {
	__u32 count; /* members in slots [base, base + count); 0: none running, refused */
	__u32 base;
	__u32 version; /* bumped on every change: a UDP socket's pick is checked again */
	__u32 index;   /* the service's slot range (user space's bookkeeping) */
};

/* connect_slots: an array of members. */
struct acre_bpf_vip_backend {
	__u32 addr;
	__u16 port;
	__u16 reserved;
};

/*
 * connect_revnat (LRU): (socket cookie, member address, port) -> the VIP a UDP socket sent
 * to, so that recvmsg shows a reply as coming from the VIP, and getpeername the VIP as a
 * connected socket's peer.
 */
struct acre_bpf_vip_flow_key {
	__u64 cookie;
	__u32 addr;
	__u16 port;
	__u16 reserved;
};

struct acre_bpf_vip_revnat {
	__u32 addr;
	__u16 port;
	__u16 reserved;
};

/*
 * connect_sticky (LRU): (socket cookie, VIP, port) -> the member an unconnected UDP socket
 * was given, kept while the service's version is unchanged (or the member still in it), so a
 * socket's datagrams to one VIP keep going to one member, as a connection's would.
 */
struct acre_bpf_vip_sticky {
	__u32 addr;
	__u16 port;
	__u16 reserved;
	__u32 version;
	__u32 reserved2;
};

/*
 * <part>_meta, one entry: which layout the pinned maps have and which
 * program build the pinned links run, so a restart knows what it may reuse.
 */
struct acre_bpf_meta {
	__u32 layout;
	__u32 reserved;
	__u64 fingerprint;
};

#endif
