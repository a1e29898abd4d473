/*
 * Slice networking (network.c): the bridge, address leases, veths, port
 * isolation and the --allow policy, for a slice known by its spec alone.
 */
#ifndef ACRE_SUPERVISOR_NETWORK_H
#define ACRE_SUPERVISOR_NETWORK_H

#include "supervisor.h"
#include "netns/netns.h"

int network_init(struct supervisor *sv, struct acre_error *err);
void network_free(struct supervisor *sv, bool no_slices_left);
/*
 * Before anything of the slice exists but its cgroup: the outbound policy,
 * the bridge, the address lease (kept across restarts).
 */
int network_prepare(struct supervisor *sv, const struct acre_slice_spec *spec, uint64_t cgroup_id,
		    struct acre_error *err);
/*
 * While acre-init (pid) holds the task: the slice's veth, address, route,
 * rate and isolation; *veth_ifindex is the host veth of an isolated slice.
 */
int network_attach(struct supervisor *sv, const struct acre_slice_spec *spec, pid_t pid,
		   int *veth_ifindex, struct acre_error *err);
/* The slice is going: its lease, and its veth if it still runs (live). */
void network_release(struct supervisor *sv, const struct acre_slice_spec *spec, bool live,
		     int *veth_ifindex);
void network_recover(struct supervisor *sv);
json_t *network_view(struct supervisor *sv, const struct acre_slice_spec *spec);

/* What the pool's network (pool_net.c) needs to know of the node's. */
bool network_bridge_on(struct supervisor *sv);
const struct acre_netns_bridge *network_bridge(struct supervisor *sv);
/* A bridged slice's leased address: 0, or -ENOENT. */
int network_slice_address(struct supervisor *sv, const char *name, uint32_t *addr);
size_t network_leases(struct supervisor *sv);
/*
 * Moves --net bridge to another subnet: -EBUSY while slices hold leases in
 * the present one (nothing changes then).  The bridge is made again with
 * the new gateway at the next bridged slice.
 */
int network_use_subnet(struct supervisor *sv, const struct acre_cidr *subnet,
		       struct acre_error *err);

#endif
