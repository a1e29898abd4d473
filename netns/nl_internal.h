/*
 * Shared between the netlink files of netns/: the handle behind struct
 * acre_netns and small helpers over libnl.  Not part of the module's public
 * header, which names no libnl type.
 */
#ifndef ACRE_NETNS_NL_INTERNAL_H
#define ACRE_NETNS_NL_INTERNAL_H

#include "netns.h"

/* libnl first: the kernel uapi headers then see glibc's and skip what it defines. */
#include <netlink/netlink.h>
#include <linux/if.h>
#include <netlink/route/link.h>

struct acre_netns {
	struct nl_sock *sk;
	int kernel_errno; /* the errno of the kernel's last error reply, 0 if none */
};

/*
 * The errno behind a libnl return value: the kernel's own when it answered
 * with one (libnl folds several into one NLE_ code), else a translation.
 */
int nn_errno(struct acre_netns *nn, int nl_ret);
/* strerror of nn_errno, for messages; also leaves the errno in *code. */
const char *nn_strerror(struct acre_netns *nn, int nl_ret, int *code);

/* Fetches one link by name; -ENODEV when there is none. */
int nn_link_get(struct acre_netns *nn, const char *ifname, struct rtnl_link **out);
int nn_ifindex(struct acre_netns *nn, const char *ifname, int *ifindex, struct acre_error *err);

/* The link is a bridge whose IFLA_IFALIAS is br->mark. */
bool nn_bridge_is_ours(struct rtnl_link *link, const struct acre_netns_bridge *br);

/* IPv4 as libnl wants it: a struct nl_addr with a prefix length. */
struct nl_addr *nn_addr4(uint32_t addr, uint8_t prefix);

/* Brings ifindex up; rtnetlink by index, no lookup. */
int nn_link_up_index(struct acre_netns *nn, int ifindex, const char *what, struct acre_error *err);
/* tbf on ifindex at rate bit/s; `what` names the interface in messages. */
int nn_rate_set_index(struct acre_netns *nn, int ifindex, const char *what, uint64_t rate,
		      struct acre_error *err);
/* The pair host (on br, up) and eth0 (inside netns_fd, down, its MAC made from address),
 * in one request. */
int nn_veth_add(struct acre_netns *nn, const struct acre_netns_bridge *br, const char *host,
		int netns_fd, uint32_t address, struct acre_error *err);
int nn_port_set_isolated_index(struct acre_netns *nn, int ifindex, const char *what, bool on,
			       struct acre_error *err);

static inline void nn_link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
static inline void nn_addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
static inline void nn_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
static inline void nn_closep(struct acre_netns **nn)
{
	acre_netns_close(*nn);
}

#define _cleanup_link_	 _cleanup_(nn_link_putp)
#define _cleanup_nladdr_ _cleanup_(nn_addr_putp)
#define _cleanup_cache_	 _cleanup_(nn_cache_freep)
#define _cleanup_netns_	 _cleanup_(nn_closep)

#endif
