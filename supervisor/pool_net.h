/*
 * The pool's network on this node (pool_net.c, pool_net_msg.c): the hub of
 * what the controller says about the pool's addressing.  It adds the
 * `network` member and `capacity.net` to the registration, adopts the
 * reply's subnet for --net bridge (kept in the state directory, so a
 * restart comes up with it before the controller answers), installs the
 * routes (host-gw) or the VXLAN device and its entries (vxlan) that
 * `net.peers` asks for, and hands `net.names` and `net.vips` on to the DNS
 * and VIP modules.  See controller/README.md, "Pool networking".
 *
 *   pool_net.c       registration, the reply, the kept state, the ops, the view
 *   pool_net_peers.c net.peers: routes, VXLAN entries, reconciling after a restart
 *   pool_net_msg.c   the messages, decoded and checked (pure, unit-tested)
 */
#ifndef ACRE_SUPERVISOR_POOL_NET_H
#define ACRE_SUPERVISOR_POOL_NET_H

#include "supervisor.h"
#include "netns/netns.h"

/* ---- pool_net_msg.c: pure --------------------------------------------------- */

enum pool_overlay { POOL_OVERLAY_HOST_GW, POOL_OVERLAY_VXLAN };

/* The reply's `network`, as adopted and kept in <state-dir>/pool-net.json. */
struct pool_net_config {
	struct acre_cidr pool_cidr, subnet, vip_cidr;
	bool has_vip_cidr;
	enum pool_overlay overlay;
	uint32_t vni;
	uint16_t vxlan_port;
	uint32_t address; /* this node's, as the controller uses it */
};

struct pool_peer {
	char node[ACRE_NAME_MAX + 1];
	uint32_t address;
	struct acre_cidr subnet;
	uint8_t vtep_mac[6];
	bool has_mac;
};

/* A net.peers message, checked whole before anything is applied. */
struct pool_peers_msg {
	bool full;
	ACRE_VEC(struct pool_peer) set;
	char **gone; /* node ids */
};

const char *pool_overlay_name(enum pool_overlay o);
/* A stable locally administered unicast MAC from the node id: 02:ac:XX:XX:XX:XX. */
void pool_net_vtep_mac(const char *node_id, uint8_t mac[6]);
/* "02:ac:5e:00:12:34": six pairs of hex digits, unicast; 0 or -EINVAL. */
int pool_net_mac_parse(const char *s, uint8_t mac[6]);
/* The reply's network member; an error names the field ("network.subnet"). */
int pool_net_config_parse(const json_t *j, struct pool_net_config *c, struct acre_error *err);
json_t *pool_net_config_json(const struct pool_net_config *c);
bool pool_net_config_equal(const struct pool_net_config *a, const struct pool_net_config *b);
int pool_peers_msg_parse(const json_t *req, struct pool_peers_msg *m, struct acre_error *err);
void pool_peers_msg_free(struct pool_peers_msg *m);
/* Whether two peers would need the same routes and entries. */
bool pool_peer_equal(const struct pool_peer *a, const struct pool_peer *b);

/* ---- pool_net.c --------------------------------------------------------------- */

/* Reads what the last reply said (with --controller); before network_init. */
int pool_net_init(struct supervisor *sv, struct acre_error *err);
/* The subnet for --net bridge that the pool gave this node, or NULL: --slice-cidr. */
const struct acre_cidr *pool_net_subnet(struct supervisor *sv);
/* At a clean stop with no slice left, our routes and VXLAN device go too. */
void pool_net_free(struct supervisor *sv, bool no_slices_left);

/*
 * Fills the registration's node object: `network` (when bridge networking
 * is on) and `capacity.net` (when known).  conn_fd is the connection to the
 * controller: its source address is the node's unless --node-address.
 */
void pool_net_register(struct supervisor *sv, const char *node_id, int conn_fd, json_t *node);
/* The reply's `network` member (NULL when the controller sent none). */
void pool_net_registered(struct supervisor *sv, const json_t *network);
/* A bridged slice let its lease go: a subnet waiting for the last one can now be taken. */
void pool_net_lease_released(struct supervisor *sv);

/* net.peers, net.names, net.vips. */
bool pool_net_owns(const char *op);
int pool_net_request(struct supervisor *sv, const char *op, json_t *req, json_t **result,
		     struct acre_error *err);

/* overlay, subnet, address, routes ... as `acre node local` shows them. */
json_t *pool_net_view(struct supervisor *sv);

/* ---- internal to pool_net.c and pool_net_peers.c ---------------------------------- */

struct pool_net {
	struct acre_netns *nn;
	bool joined;		    /* cfg is known: kept from a reply, or just given */
	struct pool_net_config cfg; /* as the controller said it */
	struct acre_cidr in_use;    /* the subnet --net bridge uses: cfg.subnet unless waiting */
	bool waiting;		    /* cfg.subnet waits until no slice holds a lease in in_use */
	bool sent_network;	    /* the registration carried a network member */
	char node_id[ACRE_NAME_MAX + 1];
	uint8_t vtep_mac[6];
	struct acre_map *peers; /* node id -> struct pool_peer (ours) */
	char vx_name[ACRE_NETNS_IFNAMSIZ];
	int vx_ifindex; /* > 0 while our VXLAN device is up */
	unsigned vx_mtu;
	bool forwarding;	    /* IPv4 forwarding turned on, or found on, by this run */
	struct event *reconcile_ev; /* a full table's reconciling, once its last part is in */
};

int pool_net_vxlan_up(struct supervisor *sv, struct pool_net *pn, struct acre_error *err);
/* pool_net_peers.c */
int pool_net_peers_op(struct supervisor *sv, json_t *req, struct acre_error *err);
/* Removes what the kernel holds of ours that no peer in pn->peers wants; how many. */
size_t pool_net_reconcile(struct pool_net *pn);
void pool_net_peers_free(struct acre_map *peers);
/* Tells the accounting of bytes by class where the node, the pool and its peers are. */
void pool_net_classes_update(struct supervisor *sv, struct pool_net *pn);

#endif
