/*
 * The node-wide virtual IP programs (see vip.bpf.h): attached at the cgroup v2 root (or
 * --vip-cgroup), they serve the node's own processes and every slice beneath.  connect4/6
 * choose a member per connection; sendmsg4/6 per unconnected UDP socket; recvmsg4/6 show a
 * member's UDP reply as the VIP's, getpeername4/6 the VIP as a connected UDP socket's peer.  A
 * slice's connect is already rewritten by the connect part's program at the supervisor's subtree,
 * which runs first (a cgroup's own programs run before its ancestors'): here it finds a member's
 * address, no VIP, and lets it be.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/vip.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct acre_bpf_meta);
} vip_meta SEC(".maps");

// cppcheck-suppress unknownMacro
SEC("cgroup/connect4")
int vip_connect4(struct bpf_sock_addr *ctx)
{
	return vip_rewrite4(ctx, 0) < 0 ? 0 : 1;
}

SEC("cgroup/connect6")
int vip_connect6(struct bpf_sock_addr *ctx)
{
	return vip_rewrite6(ctx, 0) < 0 ? 0 : 1;
}

/* Only unconnected sends come here: a connected UDP socket was rewritten at connect. */
SEC("cgroup/sendmsg4")
int vip_sendmsg4(struct bpf_sock_addr *ctx)
{
	return vip_rewrite4(ctx, 1) < 0 ? 0 : 1;
}

SEC("cgroup/sendmsg6")
int vip_sendmsg6(struct bpf_sock_addr *ctx)
{
	return vip_rewrite6(ctx, 1) < 0 ? 0 : 1;
}

/* The member's address a socket sees (a reply's source, its peer) shown as the VIP's. */
static __always_inline int show_vip4(struct bpf_sock_addr *ctx)
{
	__u32 addr = ctx->user_ip4, port = ctx->user_port;
	vip_revnat(ctx, addr, port, &addr, &port);
	ctx->user_ip4 = addr;
	ctx->user_port = port;
	return 1;
}

static __always_inline int show_vip6(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip6[0] != 0 || ctx->user_ip6[1] != 0 ||
	    ctx->user_ip6[2] != bpf_htonl(0x0000ffff))
		return 1;
	__u32 addr = ctx->user_ip6[3], port = ctx->user_port;
	vip_revnat(ctx, addr, port, &addr, &port);
	ctx->user_ip6[3] = addr;
	ctx->user_port = port;
	return 1;
}

/* recvmsg and getpeername programs must return 1: they may only change the address shown. */
SEC("cgroup/recvmsg4")
int vip_recvmsg4(struct bpf_sock_addr *ctx)
{
	return show_vip4(ctx);
}

SEC("cgroup/recvmsg6")
int vip_recvmsg6(struct bpf_sock_addr *ctx)
{
	return show_vip6(ctx);
}

SEC("cgroup/getpeername4")
int vip_getpeername4(struct bpf_sock_addr *ctx)
{
	return show_vip4(ctx);
}

SEC("cgroup/getpeername6")
int vip_getpeername6(struct bpf_sock_addr *ctx)
{
	return show_vip6(ctx);
}
