/*
 * One slice's network, made in one call on the launch path and undone in
 * one: the veth pair, then (on the host) port isolation and shaping towards
 * the slice, then (inside, over a socket opened in the slice's namespace)
 * eth0's address, the default route via the gateway, lo, and shaping from
 * the slice.  Every step is a single rtnetlink round trip; the only lookups
 * are eth0's index, and the host end's when it needs isolation or a rate.
 *
 * Undo is one deletion: removing the host end destroys eth0 with it, and
 * each qdisc goes with its device.
 */
#include "nl_internal.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#define LOOPBACK_IFINDEX 1 /* the kernel gives lo index 1 in every namespace */

static int add_address(struct acre_netns *in, int eth0, const struct acre_cidr *subnet,
		       uint32_t address, struct acre_error *err)
{
	char s[ACRE_ADDR_STRLEN];
	acre_cidr_addr_format(address, s, sizeof(s));
	struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = nn_addr4(address, subnet->prefix);
	_cleanup_nladdr_ struct nl_addr *bcast = nn_addr4(acre_cidr_broadcast(subnet), 32);
	if (!a || !local || !bcast) {
		if (a)
			rtnl_addr_put(a);
		return acre_error_set(err, ENOMEM, NULL, "adding %s to eth0: out of memory", s);
	}
	rtnl_addr_set_ifindex(a, eth0);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_broadcast(a, bcast);
	int r = rtnl_addr_add(in->sk, a, NLM_F_EXCL);
	rtnl_addr_put(a);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(in, r, &code);
		return acre_error_set(err, code, NULL, "adding %s/%u to eth0: %s", s,
				      subnet->prefix, why);
	}
	return 0;
}

static int add_default_route(struct acre_netns *in, int eth0, uint32_t gateway,
			     struct acre_error *err)
{
	char gw[ACRE_ADDR_STRLEN];
	acre_cidr_addr_format(gateway, gw, sizeof(gw));
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	_cleanup_nladdr_ struct nl_addr *dst = nn_addr4(0, 0);
	_cleanup_nladdr_ struct nl_addr *via = nn_addr4(gateway, 32);
	if (!rt || !nh || !dst || !via) {
		if (rt)
			rtnl_route_put(rt);
		if (nh)
			rtnl_route_nh_free(nh);
		return acre_error_set(err, ENOMEM, NULL, "routing via %s: out of memory", gw);
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_ifindex(nh, eth0);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_add_nexthop(rt, nh); /* rt owns nh from here */
	int r = rtnl_route_add(in->sk, rt, NLM_F_EXCL);
	rtnl_route_put(rt);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(in, r, &code);
		return acre_error_set(err, code, NULL, "adding the default route via %s: %s", gw,
				      why);
	}
	return 0;
}

/* Everything inside the slice's namespace, over a socket opened there. */
static int configure_inside(int netns_fd, const struct acre_netns_bridge *br,
			    const struct acre_netns_slice *s, struct acre_error *err)
{
	_cleanup_netns_ struct acre_netns *in = NULL;
	int r = acre_netns_open_fd(&in, netns_fd, err);
	if (r < 0)
		return r;
	int eth0;
	r = nn_ifindex(in, "eth0", &eth0, err);
	if (r == 0)
		r = add_address(in, eth0, &br->subnet, s->address, err);
	if (r == 0)
		r = nn_link_up_index(in, eth0, "eth0", err);
	if (r == 0)
		r = add_default_route(in, eth0, acre_cidr_gateway(&br->subnet), err);
	if (r == 0)
		r = nn_link_up_index(in, LOOPBACK_IFINDEX, "lo", err);
	if (r == 0 && s->rate)
		r = nn_rate_set_index(in, eth0, "eth0", s->rate, err);
	if (r < 0)
		return acre_error_prefix(err, "inside the slice");
	return 0;
}

static int check_slice(const struct acre_netns_bridge *br, const struct acre_netns_slice *s,
		       struct acre_error *err)
{
	if (!s->owner || !*s->owner)
		return acre_error_set(err, EINVAL, NULL, "slice network: no owner");
	uint32_t a = s->address;
	char as[ACRE_ADDR_STRLEN], subnet[ACRE_CIDR_STRLEN];
	acre_cidr_addr_format(a, as, sizeof(as));
	acre_cidr_format(&br->subnet, subnet, sizeof(subnet));
	if (!acre_cidr_contains(&br->subnet, a) || a == br->subnet.network ||
	    a == acre_cidr_gateway(&br->subnet) || a == acre_cidr_broadcast(&br->subnet))
		return acre_error_set(err, EINVAL, NULL,
				      "slice %s: %s is not a slice address of %s", s->owner, as,
				      subnet);
	if (s->netns_fd < 0 && s->pid <= 0)
		return acre_error_set(err, EINVAL, NULL, "slice %s: no network namespace given",
				      s->owner);
	return s->rate ? acre_netns_rate_check(s->rate, err, "--net-rate") : 0;
}

/* Isolation and shaping on the host end. */
static int configure_port(struct acre_netns *nn, const char *host, const struct acre_netns_slice *s,
			  struct acre_error *err)
{
	if (!s->isolated && !s->rate)
		return 0;
	int ifindex;
	int r = nn_ifindex(nn, host, &ifindex, err);
	if (r == 0 && s->isolated)
		r = nn_port_set_isolated_index(nn, ifindex, host, true, err);
	if (r == 0 && s->rate)
		r = nn_rate_set_index(nn, ifindex, host, s->rate, err);
	return r;
}

int acre_netns_slice_setup(struct acre_netns *nn, const struct acre_netns_bridge *br,
			   const struct acre_netns_slice *s, struct acre_error *err)
{
	int r = check_slice(br, s, err);
	if (r < 0)
		return r;
	if (br->ifindex <= 0)
		return acre_error_set(
			err, EINVAL, NULL,
			"slice %s: bridge %s is not set up (acre_netns_bridge_ensure)", s->owner,
			br->name);
	_cleanup_close_ int own_fd = -1;
	int netns_fd = s->netns_fd;
	if (netns_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->pid);
		own_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (own_fd < 0)
			return acre_error_set(err, errno, NULL, "slice %s: opening %s: %s",
					      s->owner, path, strerror(errno));
		netns_fd = own_fd;
	}
	char host[ACRE_NETNS_IFNAMSIZ];
	acre_netns_veth_name(br, s->owner, host);
	r = nn_veth_add(nn, br, host, netns_fd, s->address, err);
	if (r == -EEXIST) {
		/*
		 * The pair of this owner's previous run: its namespace is gone but
		 * the kernel has not yet got round to the veth.  It is ours by name.
		 */
		memset(err, 0, sizeof(*err));
		acre_netns_link_delete(nn, host, NULL);
		r = nn_veth_add(nn, br, host, netns_fd, s->address, err);
	}
	if (r < 0)
		return acre_error_prefix(err, "slice %s", s->owner);
	r = configure_port(nn, host, s, err);
	if (r == 0)
		r = configure_inside(netns_fd, br, s, err);
	if (r < 0) {
		acre_netns_link_delete(nn, host, NULL);
		return acre_error_prefix(err, "slice %s", s->owner);
	}
	return 0;
}

int acre_netns_slice_teardown(struct acre_netns *nn, const struct acre_netns_bridge *br,
			      const char *owner, struct acre_error *err)
{
	char host[ACRE_NETNS_IFNAMSIZ];
	acre_netns_veth_name(br, owner, host);
	int r = acre_netns_link_delete(nn, host, err);
	if (r < 0)
		return acre_error_prefix(err, "slice %s", owner);
	return 0;
}
