/*
 * Routes to other nodes' slice subnets, over rtnetlink.  Each route acre
 * adds carries its own protocol number (ACRE_NETNS_RTPROT, the rtm_protocol
 * field that `ip route` shows as "proto 172"), so a listing finds exactly
 * ours and a delete names it too: the kernel removes a route only when the
 * protocol matches (fib_table_delete), never an admin's route to the same
 * destination.  Adding replaces (NLM_F_REPLACE), so a restart that re-adds
 * what the kernel still holds changes nothing and duplicates nothing.
 */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <netlink/route/route.h>

static void route_putp(struct rtnl_route **r)
{
	if (*r)
		rtnl_route_put(*r);
}

static uint32_t addr_value(struct nl_addr *a)
{
	uint32_t be = 0;
	if (a && nl_addr_get_len(a) == sizeof(be))
		memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	return ntohl(be);
}

/* The route object that names dst in the main table, as ours. */
static struct rtnl_route *route_new(const struct acre_cidr *dst)
{
	struct rtnl_route *r = rtnl_route_alloc();
	_cleanup_nladdr_ struct nl_addr *d = nn_addr4(dst->network, dst->prefix);
	if (!r || !d) {
		if (r)
			rtnl_route_put(r);
		return NULL;
	}
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, ACRE_NETNS_RTPROT);
	rtnl_route_set_dst(r, d);
	return r;
}

int acre_netns_route_replace(struct acre_netns *nn, const struct acre_netns_route *rt,
			     struct acre_error *err)
{
	char dst[ACRE_CIDR_STRLEN], via[ACRE_ADDR_STRLEN];
	acre_cidr_format(&rt->dst, dst, sizeof(dst));
	acre_cidr_addr_format(rt->via, via, sizeof(via));
	_cleanup_(route_putp) struct rtnl_route *r = route_new(&rt->dst);
	_cleanup_nladdr_ struct nl_addr *gw = nn_addr4(rt->via, 32);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	if (!r || !gw || !nh) {
		if (nh)
			rtnl_route_nh_free(nh);
		return acre_error_set(err, ENOMEM, NULL, "route to %s: out of memory", dst);
	}
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_nh_set_gateway(nh, gw);
	if (rt->ifindex > 0)
		rtnl_route_nh_set_ifindex(nh, rt->ifindex);
	/* A VXLAN peer's address is no neighbour of ours by any subnet: it is by the FDB. */
	if (rt->onlink)
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	rtnl_route_add_nexthop(r, nh); /* r owns nh from here */
	int ret = rtnl_route_add(nn->sk, r, NLM_F_CREATE | NLM_F_REPLACE);
	if (ret < 0) {
		int code;
		const char *why = nn_strerror(nn, ret, &code);
		return acre_error_set(err, code, NULL, "route to %s via %s: %s", dst, via, why);
	}
	return 0;
}

int acre_netns_route_delete(struct acre_netns *nn, const struct acre_cidr *dst,
			    struct acre_error *err)
{
	char d[ACRE_CIDR_STRLEN];
	acre_cidr_format(dst, d, sizeof(d));
	_cleanup_(route_putp) struct rtnl_route *r = route_new(dst);
	if (!r)
		return acre_error_set(err, ENOMEM, NULL, "removing the route to %s: out of memory",
				      d);
	rtnl_route_set_scope(r, RT_SCOPE_NOWHERE); /* any scope */
	int ret = rtnl_route_delete(nn->sk, r, 0);
	if (ret < 0) {
		int code;
		const char *why = nn_strerror(nn, ret, &code);
		if (code == ESRCH || code == ENOENT)
			return 0;
		return acre_error_set(err, code, NULL, "removing the route to %s: %s", d, why);
	}
	return 0;
}

struct list_walk {
	ACRE_VEC(struct acre_netns_route) v;
	bool nomem;
};

static void collect(struct nl_object *o, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct list_walk *w = arg;
	if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_protocol(r) != ACRE_NETNS_RTPROT)
		return;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct acre_netns_route rt = {
		.dst = acre_cidr_of(addr_value(dst), (uint8_t)nl_addr_get_prefixlen(dst))};
	if (rtnl_route_get_nnexthops(r) > 0) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
		rt.via = addr_value(rtnl_route_nh_get_gateway(nh));
		rt.ifindex = rtnl_route_nh_get_ifindex(nh);
		rt.onlink = rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK;
	}
	if (acre_vec_push(&w->v, rt) < 0)
		w->nomem = true;
}

int acre_netns_route_list(struct acre_netns *nn, struct acre_netns_route **out, size_t *n,
			  struct acre_error *err)
{
	*out = NULL;
	*n = 0;
	_cleanup_cache_ struct nl_cache *cache = NULL;
	int ret = rtnl_route_alloc_cache(nn->sk, AF_INET, 0, &cache);
	if (ret < 0) {
		int code;
		const char *why = nn_strerror(nn, ret, &code);
		return acre_error_set(err, code, NULL, "listing routes: %s", why);
	}
	struct list_walk w = {0};
	nl_cache_foreach(cache, collect, &w);
	if (w.nomem) {
		acre_vec_free(&w.v);
		return acre_error_set(err, ENOMEM, NULL, "listing routes: out of memory");
	}
	*out = w.v.v;
	*n = w.v.n;
	return 0;
}
