/*
 * The pool's network on this node: what the controller says about the
 * pool's addressing, applied.  The registration carries this node's
 * `network` member (its VTEP MAC, and --node-address) and `capacity.net`;
 * the reply's `network` gives the node its slice subnet, which --net
 * bridge then uses instead of --slice-cidr, and which is kept in the state
 * directory (pool-net.json, written atomically) so that after a restart,
 * kill -9 included, the bridge comes up with it before the controller
 * answers.  `net.peers` becomes routes to every other node's subnet
 * (host-gw: via its address, as flannel's host-gw does) or the VXLAN
 * device's entries (vxlan); the kernel keeps them across a restart of the
 * supervisor, so a full table after a registration reconciles what is
 * there (replaces, removes what is stale) and never duplicates.
 *
 * This file is the hub of the pool's network: `net.names` and `net.vips`
 * go on from here to the DNS and VIP modules (the DISPATCH POINT below),
 * and a change of the peers to the accounting of bytes by destination
 * class (the DISPATCH POINT in pool_net_peers.c).
 */
#include "pool_net.h"
#include "dns.h"
#include "egress.h"
#include "network.h"
#include "vip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define STATE_FILE "pool-net.json"

/* ---- the kept state ----------------------------------------------------------- */

static int save(struct supervisor *sv, struct pool_net *pn)
{
	char in_use[ACRE_CIDR_STRLEN];
	acre_cidr_format(&pn->in_use, in_use, sizeof(in_use));
	_cleanup_json_ json_t *j =
		json_pack("{s:i,s:o,s:s}", "version", 1, "network", pool_net_config_json(&pn->cfg),
			  "subnet_in_use", in_use);
	_cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct acre_error err = {0};
	int rc = s ? acre_file_write_atomic(sv->state_fd, STATE_FILE, s, strlen(s), &err)
		   : acre_error_set(&err, ENOMEM, NULL, "out of memory");
	if (rc < 0)
		acre_log(ACRE_LOG_ERROR, "event=pool_network_save_failed error=\"%s\"",
			 err.message);
	return rc;
}

static void load(struct supervisor *sv, struct pool_net *pn)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = acre_file_read(sv->state_fd, STATE_FILE, &text, &len, 65536);
	if (rc == -ENOENT)
		return;
	struct acre_error err = {0};
	_cleanup_json_ json_t *j = rc == 0 ? json_loadb(text, len, 0, NULL) : NULL;
	const char *in_use = json_string_value(json_object_get(j, "subnet_in_use"));
	if (!j || pool_net_config_parse(json_object_get(j, "network"), &pn->cfg, &err) < 0 ||
	    !in_use || acre_cidr_parse(in_use, &pn->in_use, &err, "subnet_in_use") < 0) {
		/* The next registration's reply says it all again. */
		acre_log(ACRE_LOG_WARN, "event=pool_network_damaged file=%s error=\"%s\"",
			 STATE_FILE, rc < 0 ? strerror(-rc) : err.message);
		return;
	}
	pn->joined = true;
	/* Before egress_init makes the table: pool traffic is neither masqueraded nor dropped. */
	egress_set_pool_cidr(sv, &pn->cfg.pool_cidr);
	pn->waiting = pn->in_use.network != pn->cfg.subnet.network ||
		      pn->in_use.prefix != pn->cfg.subnet.prefix;
	char sub[ACRE_CIDR_STRLEN];
	acre_cidr_format(&pn->in_use, sub, sizeof(sub));
	acre_log(ACRE_LOG_INFO, "event=pool_network_restored subnet=%s overlay=%s", sub,
		 pool_overlay_name(pn->cfg.overlay));
}

int pool_net_init(struct supervisor *sv, struct acre_error *err)
{
	if (!sv->opt.link.controller)
		return 0;
	struct pool_net *pn = calloc(1, sizeof(*pn));
	if (!pn || !(pn->peers = acre_map_new())) {
		free(pn);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	sv->pool_net = pn;
	int rc = acre_netns_open(&pn->nn, err);
	if (rc < 0)
		return rc;
	load(sv, pn);
	return 0;
}

const struct acre_cidr *pool_net_subnet(struct supervisor *sv)
{
	struct pool_net *pn = sv->pool_net;
	return pn && pn->joined ? &pn->in_use : NULL;
}

/* ---- registration --------------------------------------------------------------- */

static uint32_t socket_source(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&sin, &len) < 0 ||
	    sin.sin_family != AF_INET)
		return 0;
	return ntohl(sin.sin_addr.s_addr);
}

/* --net-capacity, else the speed of the link that holds the node's address. */
static bool node_capacity(struct supervisor *sv, uint32_t addr, uint64_t *bps)
{
	struct pool_net *pn = sv->pool_net;
	if (sv->opt.net_capacity) {
		*bps = sv->opt.net_capacity;
		return true;
	}
	struct acre_netns_uplink up;
	struct acre_error err = {0};
	if (!addr || acre_netns_uplink_find(pn->nn, addr, &up, &err) < 0)
		return false;
	return acre_netns_link_speed(up.name, bps) == 0;
}

void pool_net_register(struct supervisor *sv, const char *node_id, int conn_fd, json_t *node)
{
	struct pool_net *pn = sv->pool_net;
	if (!pn || !node)
		return;
	snprintf(pn->node_id, sizeof(pn->node_id), "%s", node_id);
	pool_net_vtep_mac(node_id, pn->vtep_mac);
	uint32_t addr = sv->opt.node_address;
	if (!addr)
		addr = socket_source(conn_fd);
	uint64_t bps;
	if (node_capacity(sv, addr, &bps))
		json_object_set_new(json_object_get(node, "capacity"), "net",
				    json_integer((json_int_t)bps));
	pn->sent_network = network_bridge_on(sv);
	if (!pn->sent_network)
		return;
	char mac[18], a[ACRE_ADDR_STRLEN];
	acre_netns_mac_format(pn->vtep_mac, mac, sizeof(mac));
	acre_cidr_addr_format(sv->opt.node_address, a, sizeof(a));
	json_t *net = json_pack("{s:s}", "vtep_mac", mac);
	if (sv->opt.node_address) /* otherwise the controller takes the connection's source */
		json_object_set_new(net, "address", json_string(a));
	json_object_set_new(node, "network", net);
}

/* ---- the node's side of the overlay ---------------------------------------------- */

static void forwarding_on(struct pool_net *pn)
{
	if (pn->forwarding)
		return;
	bool was_on = false;
	struct acre_error err = {0};
	if (acre_netns_ipv4_forwarding_enable(&was_on, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "event=ip_forwarding_failed error=\"%s\"", err.message);
		return;
	}
	pn->forwarding = true;
	acre_log(ACRE_LOG_INFO,
		 "event=ip_forwarding sysctl=net.ipv4.ip_forward value=1 was=%d "
		 "reason=\"routing between this node's slices and the pool's other nodes\"",
		 was_on);
}

static void vx_name(struct supervisor *sv, struct pool_net *pn)
{
	const struct acre_netns_bridge *br = network_bridge(sv);
	snprintf(pn->vx_name, sizeof(pn->vx_name), "%.12s.vx",
		 br ? br->name : ACRE_NETNS_BRIDGE_DEFAULT);
}

int pool_net_vxlan_up(struct supervisor *sv, struct pool_net *pn, struct acre_error *err)
{
	const struct acre_netns_bridge *br = network_bridge(sv);
	if (!br)
		return acre_error_set(err, EOPNOTSUPP, NULL, "vxlan: bridge networking is off");
	struct acre_netns_uplink up;
	int rc = acre_netns_uplink_find(pn->nn, pn->cfg.address, &up, err);
	if (rc < 0)
		return acre_error_prefix(err, "vxlan: the node's address (--node-address)");
	struct acre_netns_vxlan v = {.mark = br->mark,
				     .vni = pn->cfg.vni,
				     .port = pn->cfg.vxlan_port,
				     .local = pn->cfg.address,
				     .address = pn->in_use.network,
				     .underlay_ifindex = up.ifindex,
				     .mtu = up.mtu > 68 + 50 ? up.mtu - 50 : 68};
	memcpy(v.mac, pn->vtep_mac, 6);
	vx_name(sv, pn);
	snprintf(v.name, sizeof(v.name), "%s", pn->vx_name);
	if ((rc = acre_netns_vxlan_ensure(pn->nn, &v, err)) < 0)
		return rc;
	pn->vx_ifindex = v.ifindex;
	pn->vx_mtu = v.mtu;
	char local[ACRE_ADDR_STRLEN], mac[18];
	acre_cidr_addr_format(v.local, local, sizeof(local));
	acre_netns_mac_format(v.mac, mac, sizeof(mac));
	acre_log(ACRE_LOG_INFO,
		 "event=vxlan_device device=%s vni=%u dstport=%u local=%s vtep_mac=%s "
		 "underlay=%s mtu=%u",
		 v.name, v.vni, v.port, local, mac, up.name, v.mtu);
	return 0;
}

static void vxlan_down(struct supervisor *sv, struct pool_net *pn)
{
	const struct acre_netns_bridge *br = network_bridge(sv);
	struct acre_error err = {0};
	vx_name(sv, pn);
	if (br && acre_netns_vxlan_remove(pn->nn, pn->vx_name, br->mark, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=vxlan_remove_failed error=\"%s\"", err.message);
	pn->vx_ifindex = 0;
}

/* The reply's subnet, taken unless bridged slices still hold leases in the present one. */
static void adopt_subnet(struct supervisor *sv, struct pool_net *pn)
{
	char want[ACRE_CIDR_STRLEN], have[ACRE_CIDR_STRLEN];
	acre_cidr_format(&pn->cfg.subnet, want, sizeof(want));
	acre_cidr_format(&pn->in_use, have, sizeof(have));
	struct acre_error err = {0};
	int rc = network_use_subnet(sv, &pn->cfg.subnet, &err);
	if (rc == -EBUSY) {
		pn->waiting = true;
		acre_log(ACRE_LOG_WARN,
			 "event=pool_subnet_waiting subnet=%s in_use=%s leases=%zu "
			 "action=\"bridged slices keep their addresses in %s and are served as "
			 "before; new ones get %s once the last of them has ended\"",
			 want, have, network_leases(sv), have, want);
		return;
	}
	if (rc < 0) {
		acre_log(ACRE_LOG_ERROR, "event=pool_subnet_failed subnet=%s error=\"%s\"", want,
			 err.message);
		return;
	}
	bool moved = pn->in_use.network != pn->cfg.subnet.network ||
		     pn->in_use.prefix != pn->cfg.subnet.prefix;
	if (moved || pn->waiting)
		acre_log(ACRE_LOG_INFO, "event=pool_subnet_adopted subnet=%s", want);
	pn->in_use = pn->cfg.subnet;
	pn->waiting = false;
	/* NAT's table names the slices' subnet: made again for the new one. */
	if (moved && egress_sync(sv, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=egress_sync_failed error=\"%s\"", err.message);
}

void pool_net_registered(struct supervisor *sv, const json_t *network)
{
	struct pool_net *pn = sv->pool_net;
	if (!pn)
		return;
	if (!network) {
		if (pn->sent_network)
			acre_log(ACRE_LOG_WARN, "event=pool_network_none reason=\"the controller "
						"gave this node no subnet: bridged slices stay "
						"local to it\"");
		return;
	}
	struct pool_net_config cfg;
	struct acre_error err = {0};
	if (pool_net_config_parse(network, &cfg, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "event=pool_network_refused error=\"%s\"", err.message);
		return;
	}
	/* The first time, --net bridge still uses --slice-cidr: that is what may have to wait. */
	const struct acre_netns_bridge *br = network_bridge(sv);
	if (!pn->joined)
		pn->in_use = br ? br->subnet : cfg.subnet;
	pn->cfg = cfg;
	pn->joined = true;
	adopt_subnet(sv, pn);
	egress_set_pool_cidr(sv, &cfg.pool_cidr);
	pool_net_classes_update(sv, pn);
	forwarding_on(pn);
	if (cfg.overlay == POOL_OVERLAY_VXLAN) {
		if (pool_net_vxlan_up(sv, pn, &err) < 0)
			acre_log(ACRE_LOG_ERROR, "event=vxlan_failed error=\"%s\"", err.message);
	} else {
		vxlan_down(sv, pn);
	}
	save(sv, pn);
	char pool[ACRE_CIDR_STRLEN], sub[ACRE_CIDR_STRLEN], vip[ACRE_CIDR_STRLEN],
		addr[ACRE_ADDR_STRLEN];
	acre_cidr_format(&cfg.pool_cidr, pool, sizeof(pool));
	acre_cidr_format(&pn->in_use, sub, sizeof(sub));
	acre_cidr_format(&cfg.vip_cidr, vip, sizeof(vip));
	acre_cidr_addr_format(cfg.address, addr, sizeof(addr));
	acre_log(ACRE_LOG_INFO,
		 "event=pool_network overlay=%s subnet=%s pool_cidr=%s vip_cidr=%s address=%s",
		 pool_overlay_name(cfg.overlay), sub, pool, cfg.has_vip_cidr ? vip : "-", addr);
}

void pool_net_lease_released(struct supervisor *sv)
{
	struct pool_net *pn = sv->pool_net;
	if (!pn || !pn->waiting)
		return;
	adopt_subnet(sv, pn);
	if (!pn->waiting) {
		save(sv, pn);
		pool_net_classes_update(sv, pn);
		/* The VXLAN side's address is the subnet's first: it moves with it. */
		struct acre_error err = {0};
		if (pn->cfg.overlay == POOL_OVERLAY_VXLAN && pool_net_vxlan_up(sv, pn, &err) < 0)
			acre_log(ACRE_LOG_ERROR, "event=vxlan_failed error=\"%s\"", err.message);
	}
}

/*
 * `net.names` and `net.vips` go on to their modules here, and nowhere else
 * (controller_ops.c hands every net.* op to pool_net_request): the names to
 * the slices' DNS (dns.h), the VIPs to vip_apply (vip.h).
 */
static int dispatch_names(struct supervisor *sv, json_t *req, struct acre_error *err)
{
	return dns_names_apply(sv, req, err);
}

static int dispatch_vips(struct supervisor *sv, json_t *req, struct acre_error *err)
{
	return vip_apply(sv, req, err);
}

bool pool_net_owns(const char *op)
{
	return !strcmp(op, ACRE_OP_NET_PEERS) || !strcmp(op, ACRE_OP_NET_NAMES) ||
	       !strcmp(op, ACRE_OP_NET_VIPS);
}

int pool_net_request(struct supervisor *sv, const char *op, json_t *req, json_t **result,
		     struct acre_error *err)
{
	*result = NULL;
	if (!sv->pool_net)
		return acre_error_set(err, EOPNOTSUPP, "op", "%s: this node is in no pool", op);
	int rc = !strcmp(op, ACRE_OP_NET_PEERS)	  ? pool_net_peers_op(sv, req, err)
		 : !strcmp(op, ACRE_OP_NET_NAMES) ? dispatch_names(sv, req, err)
						  : dispatch_vips(sv, req, err);
	if (rc == 0)
		*result = json_object();
	return rc;
}

/* ---- the view and the end ------------------------------------------------------------ */

static json_t *routes_view(struct pool_net *pn)
{
	json_t *list = json_array();
	_cleanup_free_ struct acre_netns_route *routes = NULL;
	size_t n = 0;
	struct acre_error err = {0};
	if (acre_netns_route_list(pn->nn, &routes, &n, &err) < 0)
		return list;
	for (size_t i = 0; i < n; i++) {
		char dst[ACRE_CIDR_STRLEN], via[ACRE_ADDR_STRLEN];
		acre_cidr_format(&routes[i].dst, dst, sizeof(dst));
		acre_cidr_addr_format(routes[i].via, via, sizeof(via));
		json_t *r = json_pack("{s:s,s:s}", "dst", dst, "via", via);
		if (routes[i].onlink && pn->vx_ifindex > 0 && routes[i].ifindex == pn->vx_ifindex)
			json_object_set_new(r, "dev", json_string(pn->vx_name));
		json_array_append_new(list, r);
	}
	return list;
}

json_t *pool_net_view(struct supervisor *sv)
{
	struct pool_net *pn = sv->pool_net;
	if (!pn || !pn->joined)
		return json_null();
	json_t *j = pool_net_config_json(&pn->cfg);
	char sub[ACRE_CIDR_STRLEN], mac[18];
	acre_cidr_format(&pn->in_use, sub, sizeof(sub));
	acre_netns_mac_format(pn->vtep_mac, mac, sizeof(mac));
	/* What --net bridge uses; the pool's, when it must wait for the last lease, beside it. */
	if (pn->waiting)
		json_object_set(j, "subnet_waiting", json_object_get(j, "subnet"));
	json_object_set_new(j, "subnet", json_string(sub));
	if (pn->node_id[0])
		json_object_set_new(j, "vtep_mac", json_string(mac));
	if (pn->vx_ifindex > 0)
		json_object_set_new(
			j, "vxlan_device",
			json_pack("{s:s,s:i}", "name", pn->vx_name, "mtu", (int)pn->vx_mtu));
	json_object_set_new(j, "forwarding", json_boolean(pn->forwarding));
	json_object_set_new(j, "peers", json_integer((json_int_t)acre_map_size(pn->peers)));
	json_object_set_new(j, "routes", routes_view(pn));
	return j;
}

void pool_net_free(struct supervisor *sv, bool no_slices_left)
{
	struct pool_net *pn = sv->pool_net;
	if (!pn)
		return;
	/*
	 * Like the bridge: ours to remove at a clean stop with no slice left.
	 * With slices left (an upgrade), the routes stay and keep them reachable.
	 */
	/* network_bridge_on: the slices were recovered, so "none left" is true, not a failed start.
	 */
	if (no_slices_left && pn->nn && pn->joined && network_bridge_on(sv)) {
		pool_net_peers_free(pn->peers);
		pn->peers = acre_map_new();
		size_t n = pn->peers ? pool_net_reconcile(pn) : 0;
		vxlan_down(sv, pn);
		acre_log(ACRE_LOG_INFO, "event=pool_routes_removed routes=%zu", n);
	}
	if (pn->reconcile_ev)
		event_free(pn->reconcile_ev);
	pool_net_peers_free(pn->peers);
	acre_netns_close(pn->nn);
	free(pn);
	sv->pool_net = NULL;
}
