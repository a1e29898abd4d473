/*
 * `--isolated` on the bridge: a slice that reaches the gateway (the node)
 * and no other slice, whichever way the traffic goes and whether the
 * neighbour is isolated or not.  The bridge's own port isolation
 * (IFLA_BRPORT_ISOLATED) only keeps two isolated ports apart, and this
 * kernel has no gact to drop with, so two cls_bpf direct-action programs sit
 * on the clsact hooks of the slice's host-side veth: isolate_ingress sees
 * the frames the slice sends, isolate_egress those about to reach it.  One
 * pair of programs serves the whole node; isolate_devs, keyed by the veth's
 * ifindex, says which subnet, gateway and bridge MAC apply, and a device
 * without an entry passes everything.
 *
 * Addresses alone would leave holes that a frame can walk through: a unicast
 * frame to a neighbour's MAC carrying an address outside the subnet (one on
 * the neighbour's lo, say), or a limited broadcast (255.255.255.255) the
 * bridge floods to every port.  So a slice may send only to the bridge's MAC
 * (the gateway's link address), and the one broadcast it may send is an ARP
 * request for the gateway; and it hears only frames the node itself sends:
 * the bridge's MAC as source, and a packet type of PACKET_HOST, which a frame
 * that came in on another port never has (eth_type_trans classified it
 * against that port's address, and the bridge forwards it unchanged), even
 * if a neighbour forges the bridge's MAC.  On top of that the addresses: to
 * the node, nothing for the subnet but the gateway (the node would route it
 * to the neighbour), and from the node, nothing sourced in the subnet but
 * the gateway (what it routed from a neighbour).  No IPv6 at all, not even
 * link-local, and no VLAN tags, which would hide the real EtherType.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/layout.h"

/* The kernel lets only GPL-compatible programs call GPL-only helpers; all of acre's say GPL. */
char LICENSE[] SEC("license") = "GPL";

/* uapi #defines, which vmlinux.h cannot carry. */
#define TC_ACT_OK    0
#define TC_ACT_SHOT  2
#define PACKET_HOST  0
#define ETH_HLEN     14
#define ETH_P_IP     0x0800
#define ETH_P_ARP    0x0806
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_IPV6   0x86DD
#define ARPHRD_ETHER 1

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Memory only for devices that exist; the programs never insert. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACRE_BPF_MAX_SLICES);
	__type(key, __u32);
	__type(value, struct acre_bpf_isolate_value);
} isolate_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct acre_bpf_meta);
} isolate_meta SEC(".maps");

/* An ARP packet for IPv4 over Ethernet, the only kind a slice has any use for. */
struct arp_eth_ip4 {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

/* What the verdicts look at, copied out of the packet. */
struct frame {
	__u8 dst[6], src[6];
	__u16 proto; /* host order */
	/* IPv4: source and destination; ARP: sender and target address.  Network order. */
	__u32 from, to;
};

/*
 * 0, or -1 for a frame too short or malformed for its EtherType: dropped.
 * bpf_skb_load_bytes copies the few header bytes wherever they lie, so a
 * frame whose headers are not linear needs no pull (which would copy a
 * cloned skb, as every frame the bridge floods is).
 */
static __always_inline int parse(struct __sk_buff *skb, struct frame *f)
{
	struct ethhdr eth;
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0)
		return -1;
	__builtin_memcpy(f->dst, eth.h_dest, 6);
	__builtin_memcpy(f->src, eth.h_source, 6);
	f->proto = bpf_ntohs(eth.h_proto);
	if (f->proto == ETH_P_IP) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
			return -1;
		f->from = ip.saddr;
		f->to = ip.daddr;
	} else if (f->proto == ETH_P_ARP) {
		struct arp_eth_ip4 arp;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &arp, sizeof(arp)) < 0)
			return -1;
		if (arp.hrd != bpf_htons(ARPHRD_ETHER) || arp.pro != bpf_htons(ETH_P_IP) ||
		    arp.hln != 6 || arp.pln != 4)
			return -1;
		__builtin_memcpy(&f->from, arp.spa, 4);
		__builtin_memcpy(&f->to, arp.tpa, 4);
	}
	return 0;
}

static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

static __always_inline bool mac_broadcast(const __u8 *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

/* An address of the subnet other than the gateway: another slice's, or the subnet broadcast. */
static __always_inline bool neighbour(const struct acre_bpf_isolate_value *v, __u32 addr)
{
	return (addr & v->mask) == v->network && addr != v->gateway;
}

static __always_inline const struct acre_bpf_isolate_value *lookup(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	return bpf_map_lookup_elem(&isolate_devs, &ifindex);
}

/* cppcheck sees no libbpf headers (they are system headers to it): SEC is unknown. */
// cppcheck-suppress unknownMacro
SEC("tc")
int isolate_ingress(struct __sk_buff *skb)
{
	const struct acre_bpf_isolate_value *v = lookup(skb);
	if (!v)
		return TC_ACT_OK;
	struct frame f = {};
	if (skb->vlan_present || parse(skb, &f) < 0)
		return TC_ACT_SHOT;
	bool to_node = mac_eq(f.dst, v->bridge_mac);
	switch (f.proto) {
	case ETH_P_IP:
		return to_node && !neighbour(v, f.to) ? TC_ACT_OK : TC_ACT_SHOT;
	case ETH_P_ARP:
		/* Never claiming the gateway's address: that would poison the neighbours. */
		if (f.from == v->gateway)
			return TC_ACT_SHOT;
		if (!to_node)
			return mac_broadcast(f.dst) && f.to == v->gateway ? TC_ACT_OK : TC_ACT_SHOT;
		return neighbour(v, f.to) ? TC_ACT_SHOT : TC_ACT_OK;
	case ETH_P_IPV6:
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		return TC_ACT_SHOT;
	default:
		/* A frame for the bridge's MAC goes up the node's stack, never to another port. */
		return to_node ? TC_ACT_OK : TC_ACT_SHOT;
	}
}

SEC("tc")
int isolate_egress(struct __sk_buff *skb)
{
	const struct acre_bpf_isolate_value *v = lookup(skb);
	if (!v)
		return TC_ACT_OK;
	struct frame f = {};
	if (skb->vlan_present || parse(skb, &f) < 0)
		return TC_ACT_SHOT;
	/* Sent by the node itself, not forwarded by the bridge from another port. */
	if (skb->pkt_type != PACKET_HOST || !mac_eq(f.src, v->bridge_mac))
		return TC_ACT_SHOT;
	switch (f.proto) {
	case ETH_P_IP:
	case ETH_P_ARP:
		return neighbour(v, f.from) ? TC_ACT_SHOT : TC_ACT_OK;
	case ETH_P_IPV6:
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		return TC_ACT_SHOT;
	default:
		return TC_ACT_OK;
	}
}
