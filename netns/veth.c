/*
 * A slice's veth pair and its bridge port.  The pair is made in one
 * RTM_NEWLINK: the host end named after the slice, already enslaved to the
 * bridge and up, the other end created directly inside the slice's network
 * namespace (IFLA_NET_NS_FD in the peer's attributes) as eth0.  Nothing
 * is ever renamed or moved, so no temporary name can clash on the host and
 * there is no moment where half the pair sits in the wrong namespace.
 *
 * eth0's MAC is made from the slice's IPv4 address (02:a5 and its four
 * bytes), as Docker's bridge does: an address that a new slice takes over
 * from an ended one keeps its MAC, so the neighbour entries that the
 * gateway and other slices hold for it stay right.  With a random MAC they
 * went on pointing at the old one until the kernel found them stale,
 * about ten seconds without reaching the new slice.
 *
 * Port isolation is IFLA_BRPORT_ISOLATED in an AF_BRIDGE RTM_SETLINK.  The
 * libnl 3.7 bridge API knows only the older port flags, so this one request
 * is assembled from libnl's message and attribute calls.  Kernel semantics
 * (net/bridge/br_forward.c, should_deliver): a frame from an isolated port
 * is not forwarded to another isolated port; it still reaches non-isolated
 * ports and the bridge itself, i.e. the gateway.
 */
#include "nl_internal.h"

#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <netlink/route/link/veth.h>

/* Locally administered (bit 1 of the first byte), unicast. */
static struct nl_addr *slice_mac(uint32_t address)
{
	uint8_t mac[6] = {0x02,
			  0xa5,
			  (uint8_t)(address >> 24),
			  (uint8_t)(address >> 16),
			  (uint8_t)(address >> 8),
			  (uint8_t)address};
	return nl_addr_build(AF_LLC, mac, sizeof(mac));
}

int nn_veth_add(struct acre_netns *nn, const struct acre_netns_bridge *br, const char *host,
		int netns_fd, uint32_t address, struct acre_error *err)
{
	_cleanup_nladdr_ struct nl_addr *mac = slice_mac(address);
	if (!mac)
		return acre_error_set(err, ENOMEM, NULL, "creating veth %s: out of memory", host);
	_cleanup_link_ struct rtnl_link *link = rtnl_link_veth_alloc();
	if (!link)
		return acre_error_set(err, ENOMEM, NULL, "creating veth %s: out of memory", host);
	struct rtnl_link *peer = rtnl_link_veth_get_peer(link); /* owned by link */
	rtnl_link_set_name(link, host);
	rtnl_link_set_master(link, br->ifindex);
	rtnl_link_set_flags(link, IFF_UP);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_addr(peer, mac);
	rtnl_link_set_ns_fd(peer, netns_fd);
	/* Not IFF_UP here: 6.18 answers ENOTCONN to a peer brought up in another namespace. */
	int r = rtnl_link_add(nn->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer); /* rtnl_link_veth_get_peer took a reference */
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL,
				      "creating veth %s on %s with eth0 in the slice: %s", host,
				      br->name, why);
	}
	return 0;
}

int nn_port_set_isolated_index(struct acre_netns *nn, int ifindex, const char *what, bool on,
			       struct acre_error *err)
{
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
	struct nlattr *protinfo = NULL;
	if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) == 0)
		protinfo = nla_nest_start(msg, IFLA_PROTINFO); /* sets NLA_F_NESTED */
	if (!protinfo || nla_put_u8(msg, IFLA_BRPORT_ISOLATED, on ? 1 : 0) < 0 ||
	    nla_nest_end(msg, protinfo) < 0) {
		nlmsg_free(msg);
		return acre_error_set(err, ENOMEM, NULL, "isolating port %s: out of memory", what);
	}
	int r = nl_send_sync(nn->sk, msg); /* frees msg */
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL, "%s port isolation on %s: %s",
				      on ? "setting" : "clearing", what, why);
	}
	return 0;
}

int acre_netns_port_set_isolated(struct acre_netns *nn, const char *ifname, bool isolated,
				 struct acre_error *err)
{
	int ifindex;
	int r = nn_ifindex(nn, ifname, &ifindex, err);
	if (r < 0)
		return acre_error_prefix(err, "isolating port %s", ifname);
	return nn_port_set_isolated_index(nn, ifindex, ifname, isolated, err);
}
