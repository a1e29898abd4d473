/*
 * Virtual IPs on this node: the controller's net.vips (controller/README.md, "Pool
 * networking") turned into the kernel's VIP table (bpf/: cgroup connect/sendmsg/recvmsg
 * programs), so that a connection to VIP:PORT from any slice or process of the node goes to
 * one running member.  The node-wide programs attach at --vip-cgroup (the cgroup v2 root) when
 * the first VIP arrives, stay attached across kill -9 (pinned, re-adopted at start) and are
 * detached at a clean stop.
 *
 *   vip.c       applying messages, the slice view, start and stop
 *   vip_msg.c   decoding and checking a message whole (pure, unit-tested)
 */
#ifndef ACRE_SUPERVISOR_VIP_H
#define ACRE_SUPERVISOR_VIP_H

#include "supervisor.h"

/* Ports of one VIP ("80/tcp,53/udp" on the members). */
#define VIP_PORTS_MAX 32

struct vip_port {
	uint16_t port; /* network order */
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP */
	size_t n;
	struct acre_bpf_vip_member members[ACRE_BPF_VIP_MEMBERS_MAX];
};

/* One group's VIP: {"name", "vip", "ports": [{"port", "proto", "backends": [...]}]}. */
struct vip_record {
	char name[ACRE_NAME_MAX + 1]; /* lower case */
	uint32_t vip;		      /* network order */
	struct vip_port *ports;
	size_t nports;
};

struct vip_msg {
	bool full; /* every VIP of the pool: what is not in set goes */
	struct vip_record *set;
	size_t nset;
	char (*gone)[ACRE_NAME_MAX + 1];
	size_t ngone;
};

/* Decodes a net.vips message; on error err names the field and *out holds nothing. */
int vip_msg_parse(json_t *msg, struct vip_msg *out, struct acre_error *err);
void vip_msg_free(struct vip_msg *m);

/*
 * The net.vips op: checks the whole message, then updates the kernel's table at once.  A bad
 * message changes nothing.  Needs eBPF (the accounting programs): -EOPNOTSUPP without.
 */
int vip_apply(struct supervisor *sv, json_t *msg, struct acre_error *err);
/* --vip-cgroup must name a directory of the cgroup v2 tree; checked with the options. */
int vip_check_cgroup(const char *path, struct acre_error *err);
/* At start: takes back the programs a killed supervisor left attached. */
void vip_init(struct supervisor *sv);
/* At a clean stop: detaches the node-wide programs and forgets the VIPs. */
void vip_free(struct supervisor *sv);
/*
 * The VIPs of the slice's group (label acre.service), for `slice show`, as the pool shows a
 * member's: [{"vip", "group", "ports"}]; NULL if none.
 */
json_t *vip_view(struct supervisor *sv, const struct acre_slice_spec *spec);

#endif
