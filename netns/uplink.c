/*
 * The node's uplink as the pool sees it: which link holds the node's
 * address (its MTU bounds the VXLAN device's, its speed is the node's
 * bandwidth), and IPv4 forwarding, which a node needs to route between its
 * slices' bridge and the other nodes.
 *
 * The speed is asked of the driver (ETHTOOL_GSET, what `ethtool` and
 * /sys/class/net/DEV/speed report) on a socket of the supervisor's own
 * namespace: sysfs shows the links of the namespace that mounted it, which
 * under `nsenter --net` is not the supervisor's.
 */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <netlink/route/addr.h>
#include <sys/ioctl.h>

int acre_netns_uplink_find(struct acre_netns *nn, uint32_t addr, struct acre_netns_uplink *out,
			   struct acre_error *err)
{
	char a[ACRE_ADDR_STRLEN];
	acre_cidr_addr_format(addr, a, sizeof(a));
	_cleanup_cache_ struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(nn->sk, &cache);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL, "listing addresses: %s", why);
	}
	int ifindex = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !ifindex;
	     o = nl_cache_get_next(o)) {
		struct rtnl_addr *ad = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(ad);
		uint32_t be;
		if (rtnl_addr_get_family(ad) != AF_INET || !local ||
		    nl_addr_get_len(local) != sizeof(be))
			continue;
		memcpy(&be, nl_addr_get_binary_addr(local), sizeof(be));
		if (ntohl(be) == addr)
			ifindex = rtnl_addr_get_ifindex(ad);
	}
	if (!ifindex)
		return acre_error_set(err, EADDRNOTAVAIL, NULL, "no link of this node holds %s", a);
	_cleanup_link_ struct rtnl_link *link = NULL;
	r = rtnl_link_get_kernel(nn->sk, ifindex, NULL, &link);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL, "looking up the link of %s: %s", a, why);
	}
	*out = (struct acre_netns_uplink){.ifindex = ifindex, .mtu = rtnl_link_get_mtu(link)};
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	return 0;
}

int acre_netns_link_speed(const char *ifname, uint64_t *bits_per_second)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ethtool_cmd cmd = {.cmd = ETHTOOL_GSET};
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	uint32_t mbit = ethtool_cmd_speed(&cmd);
	if (mbit == 0 || mbit == (uint32_t)SPEED_UNKNOWN)
		return -ENODATA; /* a link that is down, or a driver that does not know */
	*bits_per_second = (uint64_t)mbit * 1000000ULL;
	return 0;
}

int acre_netns_ipv4_forwarding_enable(bool *was_on, struct acre_error *err)
{
	static const char path[] = "/proc/sys/net/ipv4/ip_forward";
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	char c = '0';
	if (fd < 0 || pread(fd, &c, 1, 0) != 1)
		return acre_error_set(err, errno, NULL, "reading %s: %s", path, strerror(errno));
	*was_on = c == '1';
	if (*was_on)
		return 0;
	if (pwrite(fd, "1\n", 2, 0) != 2)
		return acre_error_set(err, errno, NULL, "turning on IPv4 forwarding (%s): %s", path,
				      strerror(errno));
	return 0;
}
