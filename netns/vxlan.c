/*
 * The VXLAN overlay, for nodes that share no L2 segment: one VXLAN device
 * per node (learning off: every entry comes from the pool), and for each
 * other node a forwarding entry (its VTEP MAC -> its address), an entry of
 * the all-zeros MAC towards it (where broadcast and unknown frames go), and
 * a neighbour entry (its VXLAN-side address -> its VTEP MAC), so that
 * nothing is ever flooded or learnt.  This is the layout flannel's vxlan
 * backend uses; iproute2's `bridge fdb` and `ip neigh` show what is here.
 *
 * The device carries the bridge's mark (IFLA_IFALIAS) like the bridge does,
 * so acre only ever changes or removes a device it made.  Its MTU is the
 * underlay's less the 50 bytes VXLAN over IPv4 adds (outer Ethernet 14,
 * IPv4 20, UDP 8, VXLAN 8), so encapsulated frames are never fragmented.
 */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#ifndef NTF_SELF
#define NTF_SELF 0x02
#endif

static void neigh_putp(struct rtnl_neigh **n)
{
	if (*n)
		rtnl_neigh_put(*n);
}

static uint32_t addr_value(struct nl_addr *a)
{
	uint32_t be = 0;
	if (a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == sizeof(be))
		memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	return ntohl(be);
}

static int fail(struct acre_netns *nn, int ret, struct acre_error *err, const char *doing)
{
	int code;
	const char *why = nn_strerror(nn, ret, &code);
	return acre_error_set(err, code, NULL, "%s: %s", doing, why);
}

void acre_netns_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* Whether the existing device is the one v describes: otherwise it is made again. */
static bool same_device(struct rtnl_link *l, const struct acre_netns_vxlan *v)
{
	uint32_t id = 0, port = 0;
	struct nl_addr *local = NULL;
	bool same = rtnl_link_vxlan_get_id(l, &id) == 0 && id == v->vni &&
		    rtnl_link_vxlan_get_port(l, &port) == 0 && port == v->port &&
		    rtnl_link_vxlan_get_local(l, &local) == 0 && addr_value(local) == v->local;
	if (local)
		nl_addr_put(local);
	struct nl_addr *mac = rtnl_link_get_addr(l);
	return same && mac && nl_addr_get_len(mac) == 6 &&
	       !memcmp(nl_addr_get_binary_addr(mac), v->mac, 6);
}

static int create(struct acre_netns *nn, const struct acre_netns_vxlan *v, struct acre_error *err)
{
	char doing[64];
	snprintf(doing, sizeof(doing), "creating VXLAN device %s", v->name);
	_cleanup_link_ struct rtnl_link *l = rtnl_link_vxlan_alloc();
	_cleanup_nladdr_ struct nl_addr *local = nn_addr4(v->local, 32);
	_cleanup_nladdr_ struct nl_addr *mac = nl_addr_build(AF_LLC, v->mac, 6);
	if (!l || !local || !mac)
		return acre_error_set(err, ENOMEM, NULL, "%s: out of memory", doing);
	rtnl_link_set_name(l, v->name);
	rtnl_link_set_addr(l, mac);
	rtnl_link_set_mtu(l, v->mtu);
	rtnl_link_vxlan_set_id(l, v->vni);
	rtnl_link_vxlan_set_port(l, v->port);
	rtnl_link_vxlan_set_local(l, local);
	rtnl_link_vxlan_set_learning(l, 0);
	if (v->underlay_ifindex > 0)
		rtnl_link_vxlan_set_link(l, (uint32_t)v->underlay_ifindex);
	int ret = rtnl_link_add(nn->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	return ret < 0 ? fail(nn, ret, err, doing) : 0;
}

/* Marked as ours and up, in one request (the kernel ignores IFLA_IFALIAS at creation). */
static int mark_and_up(struct acre_netns *nn, const struct acre_netns_vxlan *v, int ifindex,
		       struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	if (!orig || !change)
		return acre_error_set(err, ENOMEM, NULL, "marking %s: out of memory", v->name);
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_ifalias(change, v->mark);
	rtnl_link_set_flags(change, IFF_UP);
	int ret = rtnl_link_change(nn->sk, orig, change, 0);
	return ret < 0 ? fail(nn, ret, err, "bringing up the VXLAN device") : 0;
}

/* When the node's subnet moved, the old subnet's first address goes from the device. */
static int drop_other_addresses(struct acre_netns *nn, const struct acre_netns_vxlan *v,
				int ifindex, struct acre_error *err)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	int ret = rtnl_addr_alloc_cache(nn->sk, &cache);
	if (ret < 0)
		return fail(nn, ret, err, "listing addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET ||
		    addr_value(rtnl_addr_get_local(a)) == v->address)
			continue;
		ret = rtnl_addr_delete(nn->sk, a, 0);
		if (ret < 0)
			return fail(nn, ret, err, "removing an old address of the VXLAN device");
	}
	return 0;
}

/* The VXLAN-side address, /32: what the node's own packets to other subnets leave from. */
static int add_address(struct acre_netns *nn, const struct acre_netns_vxlan *v, int ifindex,
		       struct acre_error *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = nn_addr4(v->address, 32);
	if (!a || !local) {
		if (a)
			rtnl_addr_put(a);
		return acre_error_set(err, ENOMEM, NULL, "addressing %s: out of memory", v->name);
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	int ret = rtnl_addr_add(nn->sk, a, NLM_F_REPLACE);
	rtnl_addr_put(a);
	if (ret < 0) {
		char s[ACRE_ADDR_STRLEN], doing[64];
		acre_cidr_addr_format(v->address, s, sizeof(s));
		snprintf(doing, sizeof(doing), "adding %s/32 to %s", s, v->name);
		return fail(nn, ret, err, doing);
	}
	return drop_other_addresses(nn, v, ifindex, err);
}

static int refuse(struct rtnl_link *l, const char *name, struct acre_error *err)
{
	const char *type = rtnl_link_get_type(l);
	return acre_error_set(err, EEXIST, NULL,
			      "VXLAN device %s: the name is taken by a %s interface that is not "
			      "acre's",
			      name, type ? type : "physical");
}

static bool is_ours(struct rtnl_link *l, const char *mark)
{
	const char *type = rtnl_link_get_type(l);
	const char *alias = rtnl_link_get_ifalias(l);
	return type && !strcmp(type, "vxlan") && alias && !strcmp(alias, mark);
}

int acre_netns_vxlan_ensure(struct acre_netns *nn, struct acre_netns_vxlan *v,
			    struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int r = nn_link_get(nn, v->name, &l);
	if (r == 0 && !is_ours(l, v->mark))
		return refuse(l, v->name, err);
	if (r == 0 && !same_device(l, v)) {
		/* Another VNI, port or local address: the pool's settings changed. */
		acre_log(ACRE_LOG_INFO, "event=vxlan_device_replaced device=%s", v->name);
		if ((r = acre_netns_link_delete(nn, v->name, err)) < 0)
			return r;
		rtnl_link_put(l);
		l = NULL;
		r = -ENODEV;
	}
	bool created = false;
	if (r == -ENODEV) {
		if ((r = create(nn, v, err)) < 0)
			return r;
		created = true;
		r = nn_link_get(nn, v->name, &l);
	}
	if (r < 0)
		return acre_error_set(err, -r, NULL, "looking up %s: %s", v->name, strerror(-r));
	int ifindex = rtnl_link_get_ifindex(l);
	if (created || !(rtnl_link_get_flags(l) & IFF_UP))
		r = mark_and_up(nn, v, ifindex, err);
	if (r == 0)
		r = add_address(nn, v, ifindex, err);
	if (r < 0) {
		if (created)
			acre_netns_link_delete(nn, v->name, NULL);
		return r;
	}
	v->ifindex = ifindex;
	v->mtu = rtnl_link_get_mtu(l);
	return 0;
}

int acre_netns_vxlan_remove(struct acre_netns *nn, const char *name, const char *mark,
			    struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int r = nn_link_get(nn, name, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return acre_error_set(err, -r, NULL, "looking up %s: %s", name, strerror(-r));
	if (!is_ours(l, mark))
		return refuse(l, name, err);
	return acre_netns_link_delete(nn, name, err);
}

/* ---- forwarding and neighbour entries ------------------------------------- */

static struct rtnl_neigh *entry_new(int family, int ifindex, const uint8_t mac[6], uint32_t addr)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	_cleanup_nladdr_ struct nl_addr *ll = nl_addr_build(AF_LLC, mac, 6);
	_cleanup_nladdr_ struct nl_addr *dst = nn_addr4(addr, 32);
	if (!n || !ll || !dst) {
		if (n)
			rtnl_neigh_put(n);
		return NULL;
	}
	/*
	 * The destination before the family: libnl refuses a destination of
	 * another family than the entry's, and a forwarding entry (AF_BRIDGE)
	 * has an IPv4 one.
	 */
	if (rtnl_neigh_set_dst(n, dst) < 0) {
		rtnl_neigh_put(n);
		return NULL;
	}
	rtnl_neigh_set_family(n, family);
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	if (family == AF_BRIDGE)
		rtnl_neigh_set_flags(n, NTF_SELF);
	return n;
}

static void describe(const char *what, const uint8_t mac[6], uint32_t addr, char *buf, size_t len)
{
	char m[18], a[ACRE_ADDR_STRLEN];
	acre_netns_mac_format(mac, m, sizeof(m));
	acre_cidr_addr_format(addr, a, sizeof(a));
	snprintf(buf, len, "%s %s %s", what, m, a);
}

int acre_netns_fdb_add(struct acre_netns *nn, int ifindex, const uint8_t mac[6], uint32_t dst,
		       struct acre_error *err)
{
	char doing[96];
	describe("forwarding entry", mac, dst, doing, sizeof(doing));
	_cleanup_(neigh_putp) struct rtnl_neigh *n = entry_new(AF_BRIDGE, ifindex, mac, dst);
	if (!n)
		return acre_error_set(err, ENOMEM, NULL, "%s: out of memory", doing);
	/*
	 * The all-zeros MAC holds one entry per remote (appended); a unicast MAC
	 * has one remote, replaced when the peer moves.
	 */
	static const uint8_t zero[6];
	int flags = NLM_F_CREATE | (memcmp(mac, zero, 6) ? NLM_F_REPLACE : NLM_F_APPEND);
	int ret = rtnl_neigh_add(nn->sk, n, flags);
	if (ret < 0) {
		int code = nn_errno(nn, ret);
		if (code == EEXIST) /* appended before: already there */
			return 0;
		return acre_error_set(err, code, NULL, "%s: %s", doing, strerror(code));
	}
	return 0;
}

/* Removes a forwarding or neighbour entry; one that is already gone is no error. */
static int entry_delete(struct acre_netns *nn, int family, int ifindex, const uint8_t mac[6],
			uint32_t addr, const char *what, struct acre_error *err)
{
	char doing[96];
	describe(what, mac, addr, doing, sizeof(doing));
	_cleanup_(neigh_putp) struct rtnl_neigh *n = entry_new(family, ifindex, mac, addr);
	if (!n)
		return acre_error_set(err, ENOMEM, NULL, "%s: out of memory", doing);
	int ret = rtnl_neigh_delete(nn->sk, n, 0);
	if (ret < 0) {
		int code = nn_errno(nn, ret);
		if (code == ENOENT || code == ENODEV)
			return 0;
		return acre_error_set(err, code, NULL, "%s: %s", doing, strerror(code));
	}
	return 0;
}

int acre_netns_fdb_delete(struct acre_netns *nn, int ifindex, const uint8_t mac[6], uint32_t dst,
			  struct acre_error *err)
{
	return entry_delete(nn, AF_BRIDGE, ifindex, mac, dst, "removing forwarding entry", err);
}

int acre_netns_neigh_set(struct acre_netns *nn, int ifindex, uint32_t addr, const uint8_t mac[6],
			 struct acre_error *err)
{
	char doing[96];
	describe("neighbour entry", mac, addr, doing, sizeof(doing));
	_cleanup_(neigh_putp) struct rtnl_neigh *n = entry_new(AF_INET, ifindex, mac, addr);
	if (!n)
		return acre_error_set(err, ENOMEM, NULL, "%s: out of memory", doing);
	int ret = rtnl_neigh_add(nn->sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	return ret < 0 ? fail(nn, ret, err, doing) : 0;
}

int acre_netns_neigh_delete(struct acre_netns *nn, int ifindex, uint32_t addr,
			    struct acre_error *err)
{
	static const uint8_t zero[6];
	return entry_delete(nn, AF_INET, ifindex, zero, addr, "removing neighbour entry", err);
}

struct entry_walk {
	int ifindex;
	ACRE_VEC(struct acre_netns_l2) fdb, neigh;
	bool nomem;
};

static void collect(struct nl_object *o, void *arg)
{
	struct rtnl_neigh *n = (struct rtnl_neigh *)o;
	struct entry_walk *w = arg;
	struct nl_addr *ll = rtnl_neigh_get_lladdr(n);
	if (rtnl_neigh_get_ifindex(n) != w->ifindex || !ll || nl_addr_get_len(ll) != 6)
		return;
	struct acre_netns_l2 e = {.addr = addr_value(rtnl_neigh_get_dst(n))};
	memcpy(e.mac, nl_addr_get_binary_addr(ll), 6);
	int family = rtnl_neigh_get_family(n);
	int rc = 0;
	if (family == AF_BRIDGE && e.addr)
		rc = acre_vec_push(&w->fdb, e);
	else if (family == AF_INET && (rtnl_neigh_get_state(n) & NUD_PERMANENT))
		rc = acre_vec_push(&w->neigh, e);
	if (rc < 0)
		w->nomem = true;
}

/*
 * One dump per family the neighbour cache knows (NL_CACHE_AF_ITER): an
 * AF_UNSPEC dump leaves out the bridge family's forwarding entries.
 */
static int dump(struct acre_netns *nn, struct entry_walk *w, struct acre_error *err)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	int ret = rtnl_neigh_alloc_cache_flags(nn->sk, &cache, NL_CACHE_AF_ITER);
	if (ret < 0)
		return fail(nn, ret, err, "listing neighbour entries");
	nl_cache_foreach(cache, collect, w);
	return 0;
}

int acre_netns_vxlan_entries(struct acre_netns *nn, int ifindex, struct acre_netns_l2 **fdb,
			     size_t *nfdb, struct acre_netns_l2 **neigh, size_t *nneigh,
			     struct acre_error *err)
{
	struct entry_walk w = {.ifindex = ifindex};
	int r = dump(nn, &w, err);
	if (r == 0 && w.nomem)
		r = acre_error_set(err, ENOMEM, NULL, "listing neighbour entries: out of memory");
	if (r < 0) {
		acre_vec_free(&w.fdb);
		acre_vec_free(&w.neigh);
		return r;
	}
	*fdb = w.fdb.v;
	*nfdb = w.fdb.n;
	*neigh = w.neigh.v;
	*nneigh = w.neigh.n;
	return 0;
}
