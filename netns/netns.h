/*
 * netns: slice networking.  A slice's fresh network namespace gets `lo` (see
 * loopback.c, linked into acre-init) and, in bridge mode, one veth pair whose
 * host end sits on acre's bridge and whose other end is the slice's eth0,
 * with an address from the IPAM, a default route via the bridge, optional
 * tbf shaping both ways and optional bridge port isolation.  Everything that
 * touches the kernel goes over rtnetlink through libnl-3/libnl-route-3; the
 * CIDR, rate and IPAM code is pure and unit-tested.
 *
 * This header names no libnl type: acre-init includes it and links only
 * loopback.c and ports.c, statically.
 */
#ifndef ACRE_NETNS_H
#define ACRE_NETNS_H

#include "common/common.h"

#include <sys/types.h>

/* IFNAMSIZ, without <net/if.h>: it clashes with <linux/if.h>, which libnl pulls in. */
#define ACRE_NETNS_IFNAMSIZ 16

/* Brings `lo` up in the calling process's network namespace. */
int acre_netns_loopback_up(void);
/*
 * Lets any user bind ports below 1024 in the calling process's network
 * namespace (net.ipv4.ip_unprivileged_port_start=0).  Only ever for a
 * slice's own namespace: in the host's it would hand out privileged ports.
 */
int acre_netns_unprivileged_ports(void);

/* ---- CIDR (pure) ---------------------------------------------------------- */

/* An IPv4 network; addresses are uint32_t in host byte order throughout. */
struct acre_cidr {
	uint32_t network; /* host bits always clear */
	uint8_t prefix;	  /* 0..32 */
};

#define ACRE_CIDR_STRLEN 19 /* "255.255.255.255/32" and its NUL */
#define ACRE_ADDR_STRLEN 16 /* "255.255.255.255" and its NUL */

/*
 * "198.18.0.0/15": four decimal octets (no leading zeros), a prefix of 0..32,
 * and no host bits set ("198.18.0.1/15" is refused, naming 198.18.0.0/15).
 * `field` names the flag or spec field in the message ("--slice-cidr").
 */
int acre_cidr_parse(const char *s, struct acre_cidr *out, struct acre_error *err,
		    const char *field);
/* A bare dotted quad: 0 or -EINVAL. */
int acre_cidr_addr_parse(const char *s, uint32_t *addr);
void acre_cidr_format(const struct acre_cidr *c, char *buf, size_t len);
void acre_cidr_addr_format(uint32_t addr, char *buf, size_t len);

uint32_t acre_cidr_mask(uint8_t prefix);
uint32_t acre_cidr_broadcast(const struct acre_cidr *c);
/* The gateway is the first host address: the bridge holds it. */
uint32_t acre_cidr_gateway(const struct acre_cidr *c);
bool acre_cidr_contains(const struct acre_cidr *c, uint32_t addr);
bool acre_cidr_overlaps(const struct acre_cidr *a, const struct acre_cidr *b);
/* The network that holds addr/prefix: 198.18.3.4/15 -> 198.18.0.0/15. */
struct acre_cidr acre_cidr_of(uint32_t addr, uint8_t prefix);

/* Usable as a slice subnet: /8 to /30, so it holds a gateway and at least one slice. */
int acre_cidr_check_subnet(const struct acre_cidr *c, struct acre_error *err, const char *field);

/* ---- rates (pure) ------------------------------------------------------- */

/*
 * What tbf can enforce here: 8kbit up to 17gbit (libnl 3.7 carries the rate
 * as an int of bytes per second).  Checked before anything is created.
 */
#define ACRE_NETNS_RATE_MIN 8000ULL
#define ACRE_NETNS_RATE_MAX (((uint64_t)INT32_MAX) * 8)
int acre_netns_rate_check(uint64_t bits_per_second, struct acre_error *err, const char *field);

/* ---- IPAM (pure) ---------------------------------------------------------- */

/*
 * Address leases for one subnet, kept in <state_dir>/net-leases.json and
 * rewritten atomically (write-temp, fsync, rename) on every change before the
 * change is reported, so a crash never hands an address out twice.  The
 * lowest free host address is handed out first; the network, gateway and
 * broadcast addresses never are.  Owners are the caller's slice keys (1 to
 * ACRE_NAME_MAX printable bytes).  Not thread-safe: one owner of the state
 * directory at a time.
 */
#define ACRE_IPAM_FILE "net-leases.json"

struct acre_ipam;

/*
 * Reads the lease file (a missing file is an empty one) and removes a
 * temporary left by a crash.  A file for another subnet is refused while it
 * holds leases; a file that does not parse, or leases twice, is refused.
 */
int acre_ipam_open(struct acre_ipam **out, const char *state_dir, const struct acre_cidr *subnet,
		   struct acre_error *err);
void acre_ipam_close(struct acre_ipam *ipam);

/* Leases the lowest free address to owner; an owner that has one gets it again. */
int acre_ipam_allocate(struct acre_ipam *ipam, const char *owner, uint32_t *addr,
		       struct acre_error *err);
/* Returns the owner's address to the pool; no lease is not an error. */
int acre_ipam_release(struct acre_ipam *ipam, const char *owner, struct acre_error *err);
/* 0 and *addr, or -ENOENT. */
int acre_ipam_lookup(const struct acre_ipam *ipam, const char *owner, uint32_t *addr);
/* Drops every lease whose owner is not among live[0..n); *dropped counts them (may be NULL). */
int acre_ipam_reconcile(struct acre_ipam *ipam, const char *const *live, size_t n, size_t *dropped,
			struct acre_error *err);

size_t acre_ipam_count(const struct acre_ipam *ipam);
/* Host addresses a slice can get: the subnet's size minus network, gateway and broadcast. */
uint64_t acre_ipam_capacity(const struct acre_ipam *ipam);
/* The i-th lease in address order; -ENOENT past the end. */
int acre_ipam_lease_at(const struct acre_ipam *ipam, size_t i, const char **owner, uint32_t *addr);
const struct acre_cidr *acre_ipam_subnet(const struct acre_ipam *ipam);

/* ---- netlink handles ------------------------------------------------------ */

/*
 * A route-netlink connection bound to one network namespace.  Each verb
 * below works in the namespace of the handle it is given.
 */
struct acre_netns;

/* The caller's own network namespace (the host's, for the supervisor). */
int acre_netns_open(struct acre_netns **out, struct acre_error *err);
/*
 * The namespace behind netns_fd (an fd of /proc/<pid>/ns/net or a bind mount
 * of one).  A short-lived thread enters it and connects the socket there; the
 * caller's own namespace never changes.
 */
int acre_netns_open_fd(struct acre_netns **out, int netns_fd, struct acre_error *err);
/* The namespace of process pid. */
int acre_netns_open_pid(struct acre_netns **out, pid_t pid, struct acre_error *err);
void acre_netns_close(struct acre_netns *nn);

/* ---- the bridge ----------------------------------------------------------- */

#define ACRE_NETNS_BRIDGE_DEFAULT "acre0"
#define ACRE_NETNS_MARK_PREFIX	  "acre:"

struct acre_netns_bridge {
	char name[ACRE_NETNS_IFNAMSIZ];
	char mark[128]; /* its IFLA_IFALIAS: "acre:<cgroup-root>" */
	struct acre_cidr subnet;
	int ifindex; /* filled by acre_netns_bridge_ensure */
};

/* Checks the name (1 to 15 bytes, no '/', ':' or space) and fills br; name NULL: acre0. */
int acre_netns_bridge_init(struct acre_netns_bridge *br, const char *name, const char *cgroup_root,
			   const struct acre_cidr *subnet, struct acre_error *err);
/*
 * Creates the bridge if missing (fixed random MAC, marked as ours), brings it
 * up and gives it the gateway address.  An interface of that name that is
 * not a bridge, a bridge without our mark, or our bridge holding another
 * IPv4 address is refused with -EEXIST and nothing changes.
 */
int acre_netns_bridge_ensure(struct acre_netns *nn, struct acre_netns_bridge *br,
			     struct acre_error *err);
/* Removes our bridge (its slices' veths are released, not removed); missing is fine. */
int acre_netns_bridge_remove(struct acre_netns *nn, const struct acre_netns_bridge *br,
			     struct acre_error *err);

/*
 * Refuses (-EADDRINUSE) a subnet that overlaps an IPv4 address or route of
 * the host, naming it.  Default routes, the local table, and what sits on
 * our own bridge (br, if it exists and carries our mark; br may be NULL) are
 * not conflicts.
 */
int acre_netns_cidr_check_host(struct acre_netns *nn, const struct acre_cidr *subnet,
			       const struct acre_netns_bridge *br, struct acre_error *err);

/* ---- one slice ------------------------------------------------------------ */

/*
 * The host end of owner's veth: "ac" + 12 hex digits of a hash of the bridge's
 * mark and owner (14 bytes), so supervisors with other cgroup roots never clash.
 */
void acre_netns_veth_name(const struct acre_netns_bridge *br, const char *owner,
			  char buf[ACRE_NETNS_IFNAMSIZ]);
/* Whether name has the shape acre_netns_veth_name gives. */
bool acre_netns_veth_name_is_ours(const char *name);

struct acre_netns_slice {
	const char *owner; /* the lease owner; names the host veth */
	int netns_fd;	   /* the slice's network namespace, or -1: use pid */
	pid_t pid;	   /* a process in it */
	uint32_t address;  /* from acre_ipam_allocate, inside br->subnet */
	uint64_t rate;	   /* bit/s each way; 0: unlimited */
	bool isolated;	   /* reaches the gateway, no other slice */
};

/*
 * Creates the veth pair: host end on the bridge and up, the other end made
 * directly inside the slice's namespace as eth0; there, gives eth0 the
 * address, brings it and lo up, and routes by default via the gateway; sets
 * port isolation and shaping (tbf on the host end for traffic to the slice,
 * on eth0 for traffic from it).  A failure undoes all of it.
 */
int acre_netns_slice_setup(struct acre_netns *nn, const struct acre_netns_bridge *br,
			   const struct acre_netns_slice *s, struct acre_error *err);
/* Removes owner's veth (which takes eth0 and both qdiscs with it); missing is fine. */
int acre_netns_slice_teardown(struct acre_netns *nn, const struct acre_netns_bridge *br,
			      const char *owner, struct acre_error *err);

/*
 * Removes the veths on our bridge with acre's names that belong to none of
 * live[0..n) (owners): what slices that ended while the supervisor was down
 * left behind.  *removed counts them (may be NULL).
 */
int acre_netns_cleanup(struct acre_netns *nn, const struct acre_netns_bridge *br,
		       const char *const *live, size_t n, size_t *removed, struct acre_error *err);

/* ---- verbs on one interface ---------------------------------------------- */

/* tbf on ifname's egress at rate bit/s (replacing any root qdisc); rate 0 removes it. */
int acre_netns_rate_set(struct acre_netns *nn, const char *ifname, uint64_t rate,
			struct acre_error *err);
/* Sets or clears IFLA_BRPORT_ISOLATED on a bridge port. */
int acre_netns_port_set_isolated(struct acre_netns *nn, const char *ifname, bool isolated,
				 struct acre_error *err);
/* Brings ifname up. */
int acre_netns_link_up(struct acre_netns *nn, const char *ifname, struct acre_error *err);
/* Deletes ifname; missing is fine. */
int acre_netns_link_delete(struct acre_netns *nn, const char *ifname, struct acre_error *err);

/* ---- the pool: routes to other nodes, the VXLAN overlay, the uplink ------ */

/*
 * rtm_protocol of every route acre adds (`ip route` shows "proto 172"): a
 * listing finds only ours and a delete removes only ours.  Unassigned in
 * iproute2's rt_protos and by the kernel (which keeps 0..4 and names a few
 * routing daemons above 9).
 */
#define ACRE_NETNS_RTPROT 172

struct acre_netns_route {
	struct acre_cidr dst;
	uint32_t via;
	int ifindex; /* 0: the kernel finds the link by via */
	bool onlink; /* via is reachable on ifindex whatever its subnets say */
};

/* Adds or replaces the route to rt->dst in the main table, as ours. */
int acre_netns_route_replace(struct acre_netns *nn, const struct acre_netns_route *rt,
			     struct acre_error *err);
/* Removes our route to dst; none is fine, and an admin's is never touched. */
int acre_netns_route_delete(struct acre_netns *nn, const struct acre_cidr *dst,
			    struct acre_error *err);
/* Our routes in the main table (free *out). */
int acre_netns_route_list(struct acre_netns *nn, struct acre_netns_route **out, size_t *n,
			  struct acre_error *err);

/* "02:ac:5e:00:12:34" (18 bytes with the NUL). */
void acre_netns_mac_format(const uint8_t mac[6], char *buf, size_t len);

struct acre_netns_vxlan {
	char name[ACRE_NETNS_IFNAMSIZ];
	const char *mark;     /* IFLA_IFALIAS: the bridge's mark */
	uint32_t vni;	      /* 1..16777215 */
	uint16_t port;	      /* UDP destination port, 4789 */
	uint32_t local;	      /* the node's address: the outer source */
	uint8_t mac[6];	      /* the VTEP MAC peers know this node by */
	uint32_t address;     /* the VXLAN-side address (/32) */
	int underlay_ifindex; /* the link holding local, 0 if unknown */
	unsigned mtu;	      /* the underlay's less 50; filled with the device's */
	int ifindex;	      /* filled */
};

/*
 * Makes the device if missing (learning off), or checks ours: one with
 * another VNI, port, local address or MAC is made again; an interface of
 * that name that is not ours is refused with -EEXIST.  Up, addressed.
 */
int acre_netns_vxlan_ensure(struct acre_netns *nn, struct acre_netns_vxlan *v,
			    struct acre_error *err);
/* Removes our device (and every entry on it); missing is fine. */
int acre_netns_vxlan_remove(struct acre_netns *nn, const char *name, const char *mark,
			    struct acre_error *err);

/* A forwarding entry (MAC -> remote address) or a neighbour entry (address -> MAC). */
struct acre_netns_l2 {
	uint8_t mac[6];
	uint32_t addr;
};

/* mac -> dst on the VXLAN device; the all-zeros MAC appends a remote, any other replaces. */
int acre_netns_fdb_add(struct acre_netns *nn, int ifindex, const uint8_t mac[6], uint32_t dst,
		       struct acre_error *err);
int acre_netns_fdb_delete(struct acre_netns *nn, int ifindex, const uint8_t mac[6], uint32_t dst,
			  struct acre_error *err);
/* A permanent neighbour entry addr -> mac on ifindex. */
int acre_netns_neigh_set(struct acre_netns *nn, int ifindex, uint32_t addr, const uint8_t mac[6],
			 struct acre_error *err);
int acre_netns_neigh_delete(struct acre_netns *nn, int ifindex, uint32_t addr,
			    struct acre_error *err);
/* The forwarding entries with a remote, and the permanent neighbours, of ifindex (free both). */
int acre_netns_vxlan_entries(struct acre_netns *nn, int ifindex, struct acre_netns_l2 **fdb,
			     size_t *nfdb, struct acre_netns_l2 **neigh, size_t *nneigh,
			     struct acre_error *err);

struct acre_netns_uplink {
	char name[ACRE_NETNS_IFNAMSIZ];
	int ifindex;
	unsigned mtu;
};

/* The link that holds addr. */
int acre_netns_uplink_find(struct acre_netns *nn, uint32_t addr, struct acre_netns_uplink *out,
			   struct acre_error *err);
/* The driver's link speed in bit/s; -ENODATA when it does not know (or the link is down). */
int acre_netns_link_speed(const char *ifname, uint64_t *bits_per_second);
/* net.ipv4.ip_forward on (all links, and those made later); *was_on says if it was already. */
int acre_netns_ipv4_forwarding_enable(bool *was_on, struct acre_error *err);

/* ---- acre's nftables table (nft.c, over libnftables) ---------------------- */

#define ACRE_NFT_TABLE_MAX 64

struct acre_nft;

/*
 * The table of the supervisor of cgroup_root: "acre" for the default root,
 * else the root itself (prefixed "acre-" unless it starts so), any byte but
 * letters, digits, '_' and '-' turned into '_'.  Supervisors on one host
 * have distinct roots, so their tables never meet.
 */
void acre_nft_table_name(const char *cgroup_root, char *buf, size_t len);
/* A context for the table named table (in the caller's network namespace); nothing changes yet. */
int acre_nft_open(struct acre_nft **out, const char *table, struct acre_error *err);
void acre_nft_close(struct acre_nft *n);
const char *acre_nft_table(const struct acre_nft *n);

/* A node port mapped to a slice's address and port; proto IPPROTO_TCP or IPPROTO_UDP. */
struct acre_nft_publish {
	uint8_t proto;
	uint16_t node_port;
	uint32_t address; /* host order */
	uint16_t port;
};

struct acre_nft_table_config {
	struct acre_cidr subnet; /* the slices' subnet */
	const char *bridge;	 /* their bridge: letters, digits, '_' and '-' only */
	bool egress_nat;	 /* masquerade out; false: slices reach the node and pool only */
	const struct acre_cidr *pool; /* exempt from masquerade and the egress drop; may be NULL */
	const struct acre_nft_publish *publish;
	size_t npublish;
};

/*
 * Makes the table exactly this, in one transaction: whatever an earlier run
 * left (rules, elements) is replaced, and there is no instant without rules.
 */
int acre_nft_table_ensure(struct acre_nft *n, const struct acre_nft_table_config *cfg,
			  struct acre_error *err);
/* Replaces the pool exemption; pool NULL: none. */
int acre_nft_pool_set(struct acre_nft *n, const struct acre_cidr *pool, struct acre_error *err);
/* Adds (or keeps) one published port; the node port must not map elsewhere already. */
int acre_nft_publish_add(struct acre_nft *n, const struct acre_nft_publish *p,
			 struct acre_error *err);
/* Removes one published port; missing is fine. */
int acre_nft_publish_remove(struct acre_nft *n, const struct acre_nft_publish *p,
			    struct acre_error *err);
/* Removes the table and all in it; missing is fine.  No other table is touched. */
int acre_nft_table_remove(struct acre_nft *n, struct acre_error *err);
/* 1 if the table exists, else 0. */
int acre_nft_table_exists(struct acre_nft *n);
/*
 * The host's base chains on the IPv4 forward hook whose policy is drop (not
 * acre's), as "family table chain, ..." in buf: their count, or -errno.
 * Such a chain drops routed pool traffic and slices' outside traffic.
 */
int acre_nft_forward_drops(struct acre_nft *n, char *buf, size_t len, struct acre_error *err);

#endif
