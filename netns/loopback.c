/*
 * A new network namespace starts with `lo` down.  Raising one flag on one
 * interface needs no netlink conversation: SIOCSIFFLAGS is two syscalls on
 * the launch path, where every microsecond counts.
 */
#include "netns.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int acre_netns_loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}
