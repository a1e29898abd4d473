/*
 * Ports below 1024 in a slice's own network namespace.  A task runs without
 * CAP_NET_BIND_SERVICE, yet a stock daemon listens on 80 or 443; in a
 * namespace of its own that port guards nothing of the host's, so the
 * namespace opens them all to everyone, as Docker does since 20.10
 * (moby/moby#41030).  Linked into acre-init, which writes the sysctl from
 * inside the namespace before anything can make /proc/sys read-only:
 * /proc/sys/net is the writer's own namespace's, never the host's.
 */
#include "netns.h"

#include <fcntl.h>

int acre_netns_unprivileged_ports(void)
{
	int fd = open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = write(fd, "0\n", 2) == 2 ? 0 : -errno;
	close(fd);
	return rc;
}
