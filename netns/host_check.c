/*
 * Whether a slice subnet is free on this host: no IPv4 address and no IPv4
 * route of the host may overlap it, or slices would shadow (or be shadowed
 * by) a network the host already reaches.  Two kinds of entry are not
 * conflicts: default routes (they overlap everything by design) and the
 * local table (it only mirrors the addresses, checked directly).  What sits
 * on acre's own bridge is its own subnet, already in use by acre; so is the
 * first address of the subnet on acre's VXLAN device (it carries the
 * bridge's mark); and acre's routes to other nodes (ACRE_NETNS_RTPROT) are
 * the pool's, replaced or removed as the pool says.
 */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

struct host_view {
	struct acre_netns *nn;
	struct nl_cache *links;
	int own_ifindex; /* our bridge's, 0 when it is not there or not ours */
	int own_vxlan;	 /* our VXLAN device's (vxlan.c), 0 when there is none */
};

static bool is_own(const struct host_view *v, int ifindex)
{
	return ifindex && (ifindex == v->own_ifindex || ifindex == v->own_vxlan);
}

static void ifname_of(const struct host_view *v, int ifindex, char *buf, size_t len)
{
	if (!ifindex || !rtnl_link_i2name(v->links, ifindex, buf, len))
		snprintf(buf, len, "ifindex %d", ifindex);
}

static int nl_fail(struct acre_netns *nn, int r, const char *doing, struct acre_error *err)
{
	int code;
	const char *why = nn_strerror(nn, r, &code);
	return acre_error_set(err, code, NULL, "%s: %s", doing, why);
}

/* An nl_addr holding IPv4 as a CIDR; false for anything else. */
static bool as_cidr(struct nl_addr *a, uint8_t prefix, struct acre_cidr *out, uint32_t *host)
{
	if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
		return false;
	uint32_t be;
	memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	*host = ntohl(be);
	*out = acre_cidr_of(*host, prefix);
	return true;
}

static int check_addresses(const struct host_view *v, const struct acre_cidr *subnet,
			   const char *want, struct acre_error *err)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(v->nn->sk, &cache);
	if (r < 0)
		return nl_fail(v->nn, r, "listing the host's addresses", err);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct acre_cidr c;
		uint32_t host;
		int ifindex = rtnl_addr_get_ifindex(a);
		if (is_own(v, ifindex) ||
		    !as_cidr(rtnl_addr_get_local(a), (uint8_t)rtnl_addr_get_prefixlen(a), &c,
			     &host) ||
		    !acre_cidr_overlaps(&c, subnet))
			continue;
		char ifname[IFNAMSIZ + 16], s[ACRE_ADDR_STRLEN];
		ifname_of(v, ifindex, ifname, sizeof(ifname));
		acre_cidr_addr_format(host, s, sizeof(s));
		return acre_error_set(err, EADDRINUSE, "--slice-cidr",
				      "--slice-cidr %s overlaps the address %s/%u of %s", want, s,
				      c.prefix, ifname);
	}
	return 0;
}

static int check_routes(const struct host_view *v, const struct acre_cidr *subnet, const char *want,
			struct acre_error *err)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	int r = rtnl_route_alloc_cache(v->nn->sk, AF_INET, 0, &cache);
	if (r < 0)
		return nl_fail(v->nn, r, "listing the host's routes", err);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);
		struct acre_cidr c;
		uint32_t host;
		if (rtnl_route_get_table(rt) == RT_TABLE_LOCAL || !dst ||
		    rtnl_route_get_protocol(rt) == ACRE_NETNS_RTPROT ||
		    nl_addr_get_prefixlen(dst) == 0 ||
		    !as_cidr(dst, (uint8_t)nl_addr_get_prefixlen(dst), &c, &host) ||
		    !acre_cidr_overlaps(&c, subnet))
			continue;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
		int ifindex = nh ? rtnl_route_nh_get_ifindex(nh) : 0;
		if (is_own(v, ifindex))
			continue;
		char ifname[IFNAMSIZ + 16], s[ACRE_CIDR_STRLEN], table[32];
		acre_cidr_format(&c, s, sizeof(s));
		rtnl_route_table2str(rtnl_route_get_table(rt), table, sizeof(table));
		if (ifindex) {
			ifname_of(v, ifindex, ifname, sizeof(ifname));
			return acre_error_set(
				err, EADDRINUSE, "--slice-cidr",
				"--slice-cidr %s overlaps the route to %s via %s (table "
				"%s)",
				want, s, ifname, table);
		}
		return acre_error_set(err, EADDRINUSE, "--slice-cidr",
				      "--slice-cidr %s overlaps the route to %s (table %s)", want,
				      s, table);
	}
	return 0;
}

int acre_netns_cidr_check_host(struct acre_netns *nn, const struct acre_cidr *subnet,
			       const struct acre_netns_bridge *br, struct acre_error *err)
{
	char want[ACRE_CIDR_STRLEN];
	acre_cidr_format(subnet, want, sizeof(want));
	_cleanup_cache_ struct nl_cache *links = NULL;
	int r = rtnl_link_alloc_cache(nn->sk, AF_UNSPEC, &links);
	if (r < 0)
		return nl_fail(nn, r, "listing the host's interfaces", err);
	struct host_view v = {.nn = nn, .links = links};
	struct rtnl_link *own = br ? rtnl_link_get_by_name(links, br->name) : NULL;
	if (own) {
		if (nn_bridge_is_ours(own, br))
			v.own_ifindex = rtnl_link_get_ifindex(own);
		rtnl_link_put(own);
	}
	for (struct nl_object *o = nl_cache_get_first(links); br && o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *type = rtnl_link_get_type(l), *alias = rtnl_link_get_ifalias(l);
		if (type && !strcmp(type, "vxlan") && alias && !strcmp(alias, br->mark))
			v.own_vxlan = rtnl_link_get_ifindex(l);
	}
	r = check_addresses(&v, subnet, want, err);
	if (r == 0)
		r = check_routes(&v, subnet, want, err);
	return r;
}
