/*
 * The pool's network as users and nodes see it: a node's part in its
 * registration reply, a node's network in GET /v1/nodes/{id} (its
 * address, subnet, the overlay and the routes it was given: every other
 * peer's subnet via that peer's address), and GET /v1/network (the
 * ranges, every node's subnet, every name and VIP).
 */
#include "net.h"

static json_t *ranges(struct pool *p)
{
	const struct pool_net *net = p->net;
	char pool[POOL_CIDR_LEN + 1], vip[POOL_CIDR_LEN + 1];
	pool_cidr_format(&net->cfg.pool, pool);
	pool_cidr_format(&net->cfg.vip, vip);
	return json_pack("{s:s,s:i,s:s,s:s,s:i,s:i}", "pool_cidr", pool, "node_subnet_bits",
			 (int)net->cfg.bits, "vip_cidr", vip, "overlay",
			 pool_overlay_name(net->cfg.overlay), "vni", POOL_NET_VNI, "vxlan_port",
			 POOL_NET_VXLAN_PORT);
}

json_t *pool_node_network_json(struct pool *p, const struct pool_node *n)
{
	json_t *j = ranges(p);
	json_object_del(j, "node_subnet_bits");
	json_object_set_new(j, "subnet", json_string(n->subnet));
	json_object_set_new(j, "address", json_string(n->net_address));
	return j;
}

json_t *pool_node_net_view(struct pool *p, const struct pool_node *n)
{
	json_t *routes = json_array();
	if (n->network) {
		_cleanup_json_ json_t *peers = pool_net_peers_of(p, n);
		size_t i;
		json_t *peer;
		json_array_foreach (peers, i, peer)
			json_array_append_new(routes,
					      json_pack("{s:O,s:O,s:O}", "subnet",
							json_object_get(peer, "subnet"), "via",
							json_object_get(peer, "address"), "node",
							json_object_get(peer, "node")));
	}
	return json_pack("{s:s,s:s,s:s,s:b,s:s?,s:o}", "address", n->net_address, "subnet",
			 n->subnet, "overlay", pool_overlay_name(p->net->cfg.overlay), "joined",
			 n->network, "vtep_mac", n->vtep_mac[0] ? n->vtep_mac : NULL, "routes",
			 routes);
}

static void node_row(struct pool_node *n, void *ud)
{
	json_array_append_new(ud, json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", n->id, "address",
					    n->net_address, "subnet", n->subnet, "joined",
					    n->network, "state", pool_node_state_name(n->state)));
}

json_t *pool_network_json(struct pool *p)
{
	json_t *j = ranges(p);
	json_t *nodes = json_array();
	pool_node_foreach(p, node_row, nodes);
	json_object_set_new(j, "nodes", nodes);
	json_object_set_new(j, "names", pool_net_names_all(p));
	json_object_set_new(j, "vips", pool_net_vips_all(p));
	return j;
}
