/*
 * Outbound connection policy (`--allow CIDR[:PORT]`): cgroup/connect4 and
 * cgroup/connect6, attached once at the supervisor's v2 subtree, look the
 * connecting task's cgroup and the destination up in one LPM trie (see
 * struct acre_bpf_policy_key).  No match at all means the slice has no
 * policy and may connect anywhere; the slice's catch-all entry, or a rule
 * whose ports do not include the destination port, refuses the connect, and
 * returning 0 makes connect(2) fail with EPERM.
 *
 * A connection to a virtual IP is checked against the member it goes to: the program first
 * rewrites VIP:PORT to a member (vip.bpf.h), then looks the policy up for the rewritten
 * address.  The node-wide VIP programs, attached at the v2 root, cannot do it for slices: the
 * kernel runs a cgroup's programs before its ancestors' (BPF_F_ALLOW_MULTI's order), so this
 * policy at the supervisor's subtree would see the VIP, not the member.  Those later find the
 * member's address here, no VIP, and change nothing.
 *
 * Nothing is special-cased: loopback (127.0.0.0/8, ::1) of the slice's own
 * network namespace is reachable only if a rule lists it.  Only connect(2)
 * is checked: unconnected UDP sendmsg(2) is not (that would be
 * cgroup/sendmsg4/6).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/layout.h"
#include "bpf/vip.bpf.h"

/* The kernel lets only GPL-compatible programs call GPL-only helpers; all of acre's say GPL. */
char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required of LPM tries */
	__uint(max_entries, ACRE_BPF_POLICY_MAX_ENTRIES);
	__type(key, struct acre_bpf_policy_key);
	__type(value, struct acre_bpf_policy_value);
} connect_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct acre_bpf_meta);
} connect_meta SEC(".maps");

static __always_inline void key_init(struct acre_bpf_policy_key *key)
{
	/*
	 * The connecting task's cgroup: the programs run for sockets whose
	 * cgroup is under the subtree, and a slice's sockets are made by the
	 * slice's own tasks.
	 */
	__u64 id = bpf_get_current_cgroup_id();
	key->prefixlen = 64 + 128;
	key->cgroup_id_hi = id >> 32;
	key->cgroup_id_lo = (__u32)id;
}

static __always_inline int decide(const struct acre_bpf_policy_key *key, __u32 user_port)
{
	struct acre_bpf_policy_value *v = bpf_map_lookup_elem(&connect_policy, key);
	if (!v)
		return 1;
	if (v->any_port)
		return 1;
	__u16 port = bpf_ntohs((__u16)user_port);
	for (int i = 0; i < ACRE_BPF_POLICY_MAX_PORTS; i++) {
		if (i >= v->nports)
			break;
		if (v->ports[i] == port)
			return 1;
	}
	return 0;
}

/* cppcheck sees no libbpf headers (they are system headers to it): SEC is unknown. */
// cppcheck-suppress unknownMacro
SEC("cgroup/connect4")
int connect_v4(struct bpf_sock_addr *ctx)
{
	if (vip_rewrite4(ctx, 0) < 0)
		return 0; /* a VIP with no member: ECONNREFUSED */
	struct acre_bpf_policy_key key = {};
	key_init(&key);
	key.addr[10] = 0xff;
	key.addr[11] = 0xff;
	__u32 ip = ctx->user_ip4; /* network order, copied as bytes */
	__builtin_memcpy(&key.addr[12], &ip, 4);
	return decide(&key, ctx->user_port);
}

SEC("cgroup/connect6")
int connect_v6(struct bpf_sock_addr *ctx)
{
	if (vip_rewrite6(ctx, 0) < 0)
		return 0;
	struct acre_bpf_policy_key key = {};
	key_init(&key);
	__u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1];
	__u32 w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];
	__builtin_memcpy(&key.addr[0], &w0, 4);
	__builtin_memcpy(&key.addr[4], &w1, 4);
	__builtin_memcpy(&key.addr[8], &w2, 4);
	__builtin_memcpy(&key.addr[12], &w3, 4);
	return decide(&key, ctx->user_port);
}
