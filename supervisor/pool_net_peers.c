/*
 * net.peers on this node: each other node's subnet made reachable, by a
 * route via its address (host-gw) or by the VXLAN device's forwarding and
 * neighbour entries and a route over it (vxlan).  A message is checked
 * whole first (pool_net_msg.c); a peer that cannot be applied is named in
 * the reply and the rest still are.  The kernel keeps all of it across a
 * restart of the supervisor: a full table replaces what is there (replace
 * is idempotent) and removes what no peer wants any more, found by acre's
 * route protocol and on acre's own VXLAN device only.
 */
#include "pool_net.h"
#include "net_class.h"

#include <event2/event.h>

/* After a full table, how long its other parts may take to arrive. */
#define RECONCILE_DELAY_MS 300

static void free_peer(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	free(value);
}

void pool_net_peers_free(struct acre_map *m)
{
	if (m)
		acre_map_foreach(m, free_peer, NULL);
	acre_map_free(m);
}

static const uint8_t zero_mac[6];

static int peer_apply(struct pool_net *pn, const struct pool_peer *p, struct acre_error *err)
{
	char sub[ACRE_CIDR_STRLEN];
	acre_cidr_format(&p->subnet, sub, sizeof(sub));
	if (acre_cidr_overlaps(&p->subnet, &pn->in_use) || p->address == pn->cfg.address)
		return acre_error_set(err, EEXIST, "set", "peer %s (%s): overlaps this node's own",
				      p->node, sub);
	/* Routes go to the pool's subnets only: never a default route, never a host's network. */
	if (p->subnet.prefix < pn->cfg.pool_cidr.prefix ||
	    !acre_cidr_contains(&pn->cfg.pool_cidr, p->subnet.network))
		return acre_error_set(err, EINVAL, "set", "peer %s: subnet %s is outside the pool",
				      p->node, sub);
	int rc;
	if (pn->cfg.overlay == POOL_OVERLAY_HOST_GW) {
		struct acre_netns_route rt = {.dst = p->subnet, .via = p->address};
		rc = acre_netns_route_replace(pn->nn, &rt, err);
		if (rc == -ENETUNREACH)
			acre_error_prefix(err, "host-gw needs the nodes on one L2 segment "
					       "(--overlay vxlan otherwise)");
	} else {
		if (!p->has_mac)
			return acre_error_set(err, EINVAL, "vtep_mac",
					      "peer %s: vtep_mac is needed with vxlan", p->node);
		int ifx = pn->vx_ifindex;
		struct acre_netns_route rt = {
			.dst = p->subnet, .via = p->subnet.network, .ifindex = ifx, .onlink = true};
		rc = acre_netns_fdb_add(pn->nn, ifx, zero_mac, p->address, err);
		if (rc == 0)
			rc = acre_netns_fdb_add(pn->nn, ifx, p->vtep_mac, p->address, err);
		if (rc == 0)
			rc = acre_netns_neigh_set(pn->nn, ifx, p->subnet.network, p->vtep_mac, err);
		if (rc == 0)
			rc = acre_netns_route_replace(pn->nn, &rt, err);
	}
	if (rc < 0)
		return acre_error_prefix(err, "peer %s", p->node);
	return 0;
}

static void peer_remove(struct pool_net *pn, const struct pool_peer *p)
{
	struct acre_error err = {0};
	int rc = acre_netns_route_delete(pn->nn, &p->subnet, &err);
	if (rc == 0 && pn->vx_ifindex > 0 && p->has_mac) {
		int ifx = pn->vx_ifindex;
		rc = acre_netns_fdb_delete(pn->nn, ifx, p->vtep_mac, p->address, &err);
		if (rc == 0)
			rc = acre_netns_fdb_delete(pn->nn, ifx, zero_mac, p->address, &err);
		if (rc == 0)
			rc = acre_netns_neigh_delete(pn->nn, ifx, p->subnet.network, &err);
	}
	if (rc < 0)
		acre_log(ACRE_LOG_WARN, "event=peer_remove_failed peer=%s error=\"%s\"", p->node,
			 err.message);
}

/*
 * What the peers want in the kernel, as keys ("R 198.19.5.0/24", "F mac addr",
 * "N addr mac"): one lookup per kernel entry, however large the pool.
 */
static void key_route(const struct acre_cidr *dst, char *buf, size_t len)
{
	char d[ACRE_CIDR_STRLEN];
	acre_cidr_format(dst, d, sizeof(d));
	snprintf(buf, len, "R %s", d);
}

static void key_l2(char kind, const uint8_t mac[6], uint32_t addr, char *buf, size_t len)
{
	char m[18], a[ACRE_ADDR_STRLEN];
	acre_netns_mac_format(mac, m, sizeof(m));
	acre_cidr_addr_format(addr, a, sizeof(a));
	snprintf(buf, len, "%c %s %s", kind, m, a);
}

static void want_peer(const char *key, void *value, void *ud)
{
	(void)key;
	const struct pool_peer *p = value;
	struct acre_map *want = ud;
	char k[64];
	key_route(&p->subnet, k, sizeof(k));
	acre_map_put(want, k, want);
	if (!p->has_mac)
		return;
	key_l2('F', zero_mac, p->address, k, sizeof(k));
	acre_map_put(want, k, want);
	key_l2('F', p->vtep_mac, p->address, k, sizeof(k));
	acre_map_put(want, k, want);
	key_l2('N', p->vtep_mac, p->subnet.network, k, sizeof(k));
	acre_map_put(want, k, want);
}

static void reconcile_l2(struct pool_net *pn, const struct acre_map *want, size_t *stale)
{
	struct acre_error err = {0};
	_cleanup_free_ struct acre_netns_l2 *fdb = NULL, *neigh = NULL;
	size_t nf = 0, nb = 0;
	char k[64];
	if (acre_netns_vxlan_entries(pn->nn, pn->vx_ifindex, &fdb, &nf, &neigh, &nb, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=reconcile_failed error=\"%s\"", err.message);
	for (size_t i = 0; i < nf; i++) {
		key_l2('F', fdb[i].mac, fdb[i].addr, k, sizeof(k));
		if (!acre_map_get(want, k) &&
		    acre_netns_fdb_delete(pn->nn, pn->vx_ifindex, fdb[i].mac, fdb[i].addr, &err) ==
			    0)
			(*stale)++;
	}
	for (size_t i = 0; i < nb; i++) {
		key_l2('N', neigh[i].mac, neigh[i].addr, k, sizeof(k));
		if (!acre_map_get(want, k) &&
		    acre_netns_neigh_delete(pn->nn, pn->vx_ifindex, neigh[i].addr, &err) == 0)
			(*stale)++;
	}
}

/* After a full table: what the kernel holds of ours that no peer wants goes. */
size_t pool_net_reconcile(struct pool_net *pn)
{
	struct acre_error err = {0};
	size_t stale = 0;
	struct acre_map *want = acre_map_new();
	if (!want)
		return 0;
	acre_map_foreach(pn->peers, want_peer, want);
	_cleanup_free_ struct acre_netns_route *routes = NULL;
	size_t n = 0;
	char k[64];
	if (acre_netns_route_list(pn->nn, &routes, &n, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=reconcile_failed error=\"%s\"", err.message);
	for (size_t i = 0; i < n; i++) {
		key_route(&routes[i].dst, k, sizeof(k));
		if (!acre_map_get(want, k) &&
		    acre_netns_route_delete(pn->nn, &routes[i].dst, &err) == 0)
			stale++;
	}
	if (pn->vx_ifindex > 0)
		reconcile_l2(pn, want, &stale);
	acre_map_free(want);
	return stale;
}

static void collect_address(const char *key, void *value, void *ud)
{
	(void)key;
	ACRE_VEC(uint32_t) *v = ud;
	const struct pool_peer *p = value;
	acre_vec_push(v, p->address);
}

/*
 * The pool's ranges as the accounting sees them: bytes to this node's
 * subnet are `node`, to the pool CIDR and to the peers' own addresses
 * `pool` (net_class.c), kept current whenever the peers or the subnet change.
 */
void pool_net_classes_update(struct supervisor *sv, struct pool_net *pn)
{
	ACRE_VEC(uint32_t) addrs = {0};
	acre_map_foreach(pn->peers, collect_address, &addrs);
	int rc = net_class_set(sv, &pn->in_use, &pn->cfg.pool_cidr, addrs.v, addrs.n);
	if (rc < 0)
		acre_log(ACRE_LOG_WARN, "event=net_class_failed error=\"%s\"", strerror(-rc));
	acre_vec_free(&addrs);
}

struct apply_walk {
	struct pool_net *pn;
	size_t failed;
	struct acre_error first;
};

static void apply_one(const char *key, void *value, void *ud)
{
	(void)key;
	struct apply_walk *w = ud;
	struct acre_error err = {0};
	if (peer_apply(w->pn, value, &err) < 0 && w->failed++ == 0)
		w->first = err;
}

static int store_peer(struct pool_net *pn, const struct pool_peer *p)
{
	struct pool_peer *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *p;
	free(acre_map_remove(pn->peers, p->node));
	if (acre_map_put(pn->peers, copy->node, copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

static void on_reconcile(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pool_net *pn = arg;
	size_t stale = pool_net_reconcile(pn);
	acre_log(ACRE_LOG_INFO, "event=pool_reconciled peers=%zu stale_removed=%zu",
		 acre_map_size(pn->peers), stale);
}

/*
 * A full table larger than a message comes in parts: the first `full`, the
 * rest adding to it (controller/README.md).  What is stale is only known
 * once all are in, so the reconciling waits for a quiet moment after the
 * full one; until then a stale route costs nothing, a missing one would.
 */
static void schedule_reconcile(struct supervisor *sv, struct pool_net *pn)
{
	if (!pn->reconcile_ev)
		pn->reconcile_ev = evtimer_new(sv->base, on_reconcile, pn);
	struct timeval tv = {.tv_sec = 0, .tv_usec = RECONCILE_DELAY_MS * 1000};
	if (pn->reconcile_ev)
		evtimer_add(pn->reconcile_ev, &tv);
	else
		on_reconcile(-1, 0, pn);
}

int pool_net_peers_op(struct supervisor *sv, json_t *req, struct acre_error *err)
{
	struct pool_net *pn = sv->pool_net;
	struct pool_peers_msg m;
	int rc = pool_peers_msg_parse(req, &m, err);
	if (rc < 0)
		return rc;
	if (!pn->joined) {
		pool_peers_msg_free(&m);
		return acre_error_set(err, EAGAIN, NULL,
				      "net.peers: this node has no pool network yet (the "
				      "registration's reply gave none)");
	}
	if (pn->cfg.overlay == POOL_OVERLAY_VXLAN && pn->vx_ifindex <= 0 &&
	    (rc = pool_net_vxlan_up(sv, pn, err)) < 0) {
		pool_peers_msg_free(&m);
		return acre_error_prefix(err, "net.peers");
	}
	struct apply_walk w = {.pn = pn};
	if (m.full) {
		pool_net_peers_free(pn->peers);
		pn->peers = acre_map_new();
	}
	for (char **g = m.gone; g && *g; g++) {
		struct pool_peer *p = acre_map_remove(pn->peers, *g);
		if (p)
			peer_remove(pn, p);
		free(p);
	}
	for (size_t i = 0; i < m.set.n; i++) {
		const struct pool_peer *p = &m.set.v[i];
		struct pool_peer *old = acre_map_get(pn->peers, p->node);
		if (old && !pool_peer_equal(old, p))
			peer_remove(pn, old); /* moved: its old route and entries go first */
		if (!pn->peers || store_peer(pn, p) < 0) {
			pool_peers_msg_free(&m);
			return acre_error_set(err, ENOMEM, NULL, "net.peers: out of memory");
		}
		apply_one(p->node, acre_map_get(pn->peers, p->node), &w);
	}
	if (m.full)
		schedule_reconcile(sv, pn);
	pool_net_classes_update(sv, pn);
	acre_log(ACRE_LOG_INFO, "event=pool_peers full=%s set=%zu gone=%zu peers=%zu failed=%zu",
		 m.full ? "true" : "false", m.set.n, acre_strv_length(m.gone),
		 acre_map_size(pn->peers), w.failed);
	size_t total = m.set.n;
	pool_peers_msg_free(&m);
	if (w.failed) {
		*err = w.first;
		return acre_error_prefix(err, "net.peers: %zu of %zu peers not applied", w.failed,
					 total);
	}
	return 0;
}
