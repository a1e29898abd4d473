/*
 * Virtual IPs, as socket-level load balancing does them: a connect(2) or an unconnected
 * sendmsg(2) to VIP:PORT is given the address of one running member instead, chosen per
 * connection (per UDP socket for unconnected sends), before any packet exists — no NAT, no
 * per-packet cost, no proxy.  recvmsg(2) turns a member's UDP reply back into one from the VIP,
 * so a client that checks where its answer came from (a DNS stub does) accepts it, and
 * getpeername(2) names the VIP as a connected UDP socket's peer.
 *
 * Included by connect.bpf.c, whose program rewrites first and then checks --allow against the
 * member chosen, and by vip.bpf.c, the node-wide programs at the v2 root.  Both objects name the
 * same maps, pinned by the connect part; see layout.h for their shapes and for why an update
 * is never seen half-written.
 */
#ifndef ACRE_VIP_BPF_H
#define ACRE_VIP_BPF_H

#include <bpf/bpf_core_read.h>
#include "bpf/layout.h"

#define VIP_ECONNREFUSED 111
#define VIP_IPPROTO_TCP	 6
#define VIP_IPPROTO_UDP	 17

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Replaced elements are freed after an RCU grace period, never reused under a reader. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACRE_BPF_VIP_MAX_SERVICES);
	__type(key, struct acre_bpf_vip_key);
	__type(value, struct acre_bpf_vip_value);
} connect_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACRE_BPF_VIP_SLOTS);
	__type(key, __u32);
	__type(value, struct acre_bpf_vip_backend);
} connect_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ACRE_BPF_VIP_FLOWS);
	__type(key, struct acre_bpf_vip_flow_key);
	__type(value, struct acre_bpf_vip_revnat);
} connect_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ACRE_BPF_VIP_FLOWS);
	__type(key, struct acre_bpf_vip_flow_key);
	__type(value, struct acre_bpf_vip_sticky);
} connect_sticky SEC(".maps");

/* The service at addr:port for this socket's protocol, copied: the element may be replaced. */
static __always_inline int vip_lookup(struct bpf_sock_addr *ctx, __u32 addr, __u32 port,
				      struct acre_bpf_vip_value *out)
{
	struct acre_bpf_vip_key key = {
		.addr = addr,
		.port = (__u16)port,
		.proto = (__u8)ctx->protocol,
	};
	struct acre_bpf_vip_value *v = bpf_map_lookup_elem(&connect_vips, &key);
	if (!v)
		return 0;
	*out = *v;
	return 1;
}

/* One member at random: 1, or 0 when the service has none (the caller refuses). */
static __always_inline int vip_pick(const struct acre_bpf_vip_value *sv,
				    struct acre_bpf_vip_backend *out)
{
	__u32 count = sv->count;
	if (count == 0 || count > ACRE_BPF_VIP_MAX_BACKENDS)
		return 0;
	__u32 slot = sv->base + bpf_get_prandom_u32() % count;
	struct acre_bpf_vip_backend *be = bpf_map_lookup_elem(&connect_slots, &slot);
	if (!be || !be->addr)
		return 0;
	*out = *be;
	return 1;
}

/* Is this member still one of the service's (bounded: at most MAX_BACKENDS slots)? */
static __always_inline int vip_has(const struct acre_bpf_vip_value *sv, __u32 addr, __u16 port)
{
	for (__u32 i = 0; i < ACRE_BPF_VIP_MAX_BACKENDS; i++) {
		if (i >= sv->count)
			break;
		__u32 slot = sv->base + i;
		struct acre_bpf_vip_backend *be = bpf_map_lookup_elem(&connect_slots, &slot);
		if (be && be->addr == addr && be->port == port)
			return 1;
	}
	return 0;
}

/*
 * What a UDP socket sent to, for the member's address to be shown as the VIP: its replies
 * (recvmsg) and, connected, its peer (getpeername).  Not for TCP: an LRU entry per connection
 * would be written (and another evicted) at every connect, a cost the connection rate shows,
 * so a TCP socket's getpeername names the member.
 */
static __always_inline void vip_remember(struct bpf_sock_addr *ctx, __u32 vip, __u32 vport,
					 const struct acre_bpf_vip_backend *be)
{
	if (ctx->protocol != VIP_IPPROTO_UDP)
		return;
	struct acre_bpf_vip_flow_key k = {
		.cookie = bpf_get_socket_cookie(ctx), .addr = be->addr, .port = be->port};
	/* A socket's later datagrams find their entry: no write per datagram. */
	struct acre_bpf_vip_revnat *cur = bpf_map_lookup_elem(&connect_revnat, &k);
	if (cur && cur->addr == vip && cur->port == (__u16)vport)
		return;
	struct acre_bpf_vip_revnat v = {.addr = vip, .port = (__u16)vport};
	bpf_map_update_elem(&connect_revnat, &k, &v, BPF_ANY);
}

/*
 * An unconnected UDP socket keeps the member it was given while the service has not changed,
 * or while that member is still in it: its datagrams to one VIP form one conversation.
 */
static __always_inline int vip_pick_sticky(struct bpf_sock_addr *ctx, __u32 vip, __u32 vport,
					   const struct acre_bpf_vip_value *sv,
					   struct acre_bpf_vip_backend *out)
{
	struct acre_bpf_vip_flow_key k = {
		.cookie = bpf_get_socket_cookie(ctx), .addr = vip, .port = (__u16)vport};
	struct acre_bpf_vip_sticky *st = bpf_map_lookup_elem(&connect_sticky, &k);
	if (st && (st->version == sv->version || vip_has(sv, st->addr, st->port))) {
		out->addr = st->addr;
		out->port = st->port;
		st->version = sv->version;
		return 1;
	}
	if (!vip_pick(sv, out))
		return 0;
	struct acre_bpf_vip_sticky nv = {
		.addr = out->addr, .port = out->port, .version = sv->version};
	bpf_map_update_elem(&connect_sticky, &k, &nv, BPF_ANY);
	return 1;
}

/*
 * 0: not a VIP, left alone; 1: rewritten; -1: a VIP with no running member, refused with
 * ECONNREFUSED (the program then returns 0) rather than left to time out.
 */
static __always_inline int vip_choose(struct bpf_sock_addr *ctx, __u32 addr, __u32 port, int sticky,
				      struct acre_bpf_vip_backend *be)
{
	struct acre_bpf_vip_value sv;
	if (!vip_lookup(ctx, addr, port, &sv))
		return 0;
	int ok = sticky ? vip_pick_sticky(ctx, addr, port, &sv, be) : vip_pick(&sv, be);
	if (!ok) {
		/*
		 * ECONNREFUSED where the kernel lets a program say why (5.18); before, the
		 * refusal is EPERM.  The check is resolved against the running kernel's BTF at
		 * load, so an older verifier never sees the call.
		 */
		if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_set_retval))
			bpf_set_retval(-VIP_ECONNREFUSED);
		return -1;
	}
	vip_remember(ctx, addr, port, be);
	return 1;
}

static __always_inline int vip_rewrite4(struct bpf_sock_addr *ctx, int sticky)
{
	struct acre_bpf_vip_backend be;
	__u32 addr = ctx->user_ip4, port = ctx->user_port;
	int rc = vip_choose(ctx, addr, port, sticky, &be);
	if (rc > 0) {
		ctx->user_ip4 = be.addr;
		ctx->user_port = be.port;
	}
	return rc;
}

/* A v6 socket reaches IPv4 VIPs as ::ffff:a.b.c.d; nothing else is a VIP. */
static __always_inline int vip_rewrite6(struct bpf_sock_addr *ctx, int sticky)
{
	if (ctx->user_ip6[0] != 0 || ctx->user_ip6[1] != 0 ||
	    ctx->user_ip6[2] != bpf_htonl(0x0000ffff))
		return 0;
	struct acre_bpf_vip_backend be;
	__u32 addr = ctx->user_ip6[3], port = ctx->user_port;
	int rc = vip_choose(ctx, addr, port, sticky, &be);
	if (rc > 0) {
		ctx->user_ip6[3] = be.addr;
		ctx->user_port = be.port;
	}
	return rc;
}

static __always_inline void vip_revnat(struct bpf_sock_addr *ctx, __u32 addr, __u32 port,
				       __u32 *vip, __u32 *vport)
{
	struct acre_bpf_vip_flow_key k = {
		.cookie = bpf_get_socket_cookie(ctx), .addr = addr, .port = (__u16)port};
	struct acre_bpf_vip_revnat *v = bpf_map_lookup_elem(&connect_revnat, &k);
	if (v) {
		*vip = v->addr;
		*vport = v->port;
	}
}

#endif
