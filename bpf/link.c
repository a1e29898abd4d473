/*
 * A device as rtnetlink shows it in the caller's network namespace: its
 * name, whether it is a bridge port, and the bridge's MAC.  Isolation needs
 * the MAC of the bridge a slice's veth hangs on.  sysfs would be simpler,
 * but /sys/class/net shows the devices of the namespace sysfs was mounted
 * in, which is not the supervisor's after a bare `unshare -n`; rtnetlink
 * answers for the namespace of the socket.  Two RTM_GETLINK requests on one
 * socket: the device, then its master.
 */
#include "bpf_internal.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

struct facts {
	char name[16];		       /* IFNAMSIZ */
	char kind[16], slave_kind[16]; /* IFLA_INFO_KIND, IFLA_INFO_SLAVE_KIND */
	int master;
	__u8 mac[6];
	bool has_mac;
};

static void copy_str(char *dst, size_t len, const struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a) < len ? RTA_PAYLOAD(a) : len - 1;
	memcpy(dst, RTA_DATA(a), n);
	dst[n] = 0;
}

static void parse_linkinfo(const struct rtattr *info, struct facts *f)
{
	int len = (int)RTA_PAYLOAD(info);
	for (const struct rtattr *a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_INFO_KIND)
			copy_str(f->kind, sizeof(f->kind), a);
		else if (a->rta_type == IFLA_INFO_SLAVE_KIND)
			copy_str(f->slave_kind, sizeof(f->slave_kind), a);
	}
}

static void parse_link(const struct nlmsghdr *nh, struct facts *f)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)IFLA_PAYLOAD(nh);
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			copy_str(f->name, sizeof(f->name), a);
			break;
		case IFLA_MASTER:
			if (RTA_PAYLOAD(a) == sizeof(__u32))
				f->master = (int)*(const __u32 *)RTA_DATA(a);
			break;
		case IFLA_ADDRESS:
			f->has_mac = RTA_PAYLOAD(a) == sizeof(f->mac);
			if (f->has_mac)
				memcpy(f->mac, RTA_DATA(a), sizeof(f->mac));
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, f);
			break;
		}
	}
}

/* One RTM_GETLINK: 0, or -ENODEV and the like from the kernel. */
static int get_link(int fd, int ifindex, struct facts *f)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		       .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST,
		       .nlmsg_seq = (__u32)ifindex},
		.ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex},
	};
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	/* Aligned for the nlmsghdr; a link message with its statistics fits easily. */
	__u32 buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	if (n < 0)
		return -errno;
	if ((size_t)n > sizeof(buf))
		return -EMSGSIZE;
	const struct nlmsghdr *nh = (const void *)buf;
	if (!NLMSG_OK(nh, (size_t)n))
		return -EBADMSG;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);
		return e->error ? e->error : -EBADMSG;
	}
	if (nh->nlmsg_type != RTM_NEWLINK)
		return -EBADMSG;
	*f = (struct facts){0};
	parse_link(nh, f);
	return 0;
}

int acre_bpf_link_get(int ifindex, struct acre_bpf_link *out)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct facts dev, master;
	int rc = get_link(fd, ifindex, &dev);
	if (rc < 0)
		return rc;
	*out = (struct acre_bpf_link){0};
	snprintf(out->name, sizeof(out->name), "%s", dev.name);
	if (!dev.master || strcmp(dev.slave_kind, "bridge") != 0)
		return 0;
	rc = get_link(fd, dev.master, &master);
	if (rc < 0)
		return rc;
	out->bridge_port = strcmp(master.kind, "bridge") == 0 && master.has_mac;
	memcpy(out->bridge_mac, master.mac, sizeof(out->bridge_mac));
	return 0;
}
