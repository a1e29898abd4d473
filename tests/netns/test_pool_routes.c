/*
 * netns/route.c, vxlan.c and uplink.c against the real kernel, as root, in
 * a network namespace of the test's own (unshare(CLONE_NEWNET) first, so
 * nothing of the host's routes, links or sysctls is touched; the namespace
 * ends with the process).  Addresses from 198.18.0.0/15 only.  What `ip`
 * shows is the judge: routes with acre's protocol, an admin's route left
 * alone, the VXLAN device's settings, its forwarding and neighbour entries.
 *
 *   make pool-routes-test
 */
#include "netns/netns.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>

static int passed, failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (ok)
		passed++;
	else
		failures++;
}

/* The output of a shell command (iproute2 as the independent judge). */
static char *sh(const char *cmd)
{
	static char buf[8192];
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		pclose(f);
	return buf;
}

static uint32_t ip(const char *s)
{
	uint32_t a = 0;
	acre_cidr_addr_parse(s, &a);
	return a;
}

static struct acre_cidr cidr(const char *s)
{
	struct acre_cidr c = {0};
	struct acre_error err = {0};
	acre_cidr_parse(s, &c, &err, "test");
	return c;
}

static void test_routes(struct acre_netns *nn)
{
	struct acre_error err = {0};
	struct acre_netns_route rt = {.dst = cidr("198.19.5.0/24"), .via = ip("198.18.50.2")};
	int rc = acre_netns_route_replace(nn, &rt, &err);
	check(rc == 0, "route to 198.19.5.0/24 via 198.18.50.2 (%s)", err.message);
	rc = acre_netns_route_replace(nn, &rt, &err);
	check(rc == 0, "the same route again (a restart re-adding it)");
	check(!strcmp(sh("ip route show proto 172 | grep -c 198.19.5.0/24"), "1\n"),
	      "one route, proto 172, not two");
	rt.via = ip("198.18.50.3");
	check(acre_netns_route_replace(nn, &rt, &err) == 0 &&
		      strstr(sh("ip route show 198.19.5.0/24"), "via 198.18.50.3"),
	      "the peer moved: the route is replaced");

	struct acre_netns_route far = {.dst = cidr("198.19.6.0/24"), .via = ip("198.18.99.2")};
	memset(&err, 0, sizeof(err));
	rc = acre_netns_route_replace(nn, &far, &err);
	check(rc == -ENETUNREACH && strstr(err.message, "198.19.6.0/24"),
	      "a peer off the segment is refused: %s", err.message);

	sh("ip route add 198.19.9.0/24 via 198.18.50.9");
	struct acre_cidr admin = cidr("198.19.9.0/24");
	rc = acre_netns_route_delete(nn, &admin, &err);
	check(rc == 0 && strstr(sh("ip route show 198.19.9.0/24"), "via 198.18.50.9"),
	      "an admin's route to a pool subnet is never removed");

	struct acre_netns_route *list = NULL;
	size_t n = 0;
	rc = acre_netns_route_list(nn, &list, &n, &err);
	check(rc == 0 && n == 1 && list[0].dst.network == ip("198.19.5.0") &&
		      list[0].via == ip("198.18.50.3"),
	      "the listing holds ours only (%zu)", n);
	free(list);
	check(acre_netns_route_delete(nn, &rt.dst, &err) == 0 &&
		      !strstr(sh("ip route show"), "198.19.5.0"),
	      "our route removed");
	check(acre_netns_route_delete(nn, &rt.dst, &err) == 0, "removing it again is fine");
	sh("ip route del 198.19.9.0/24");
}

static void test_vxlan(struct acre_netns *nn)
{
	struct acre_error err = {0};
	struct acre_netns_uplink up;
	int rc = acre_netns_uplink_find(nn, ip("198.18.50.1"), &up, &err);
	check(rc == 0 && !strcmp(up.name, "up0") && up.mtu == 1500, "uplink of 198.18.50.1: %s",
	      rc == 0 ? up.name : err.message);
	struct acre_netns_vxlan v = {.name = "t.vx",
				     .mark = "acre:test",
				     .vni = 7470,
				     .port = 4789,
				     .local = ip("198.18.50.1"),
				     .mac = {0x02, 0xac, 1, 2, 3, 4},
				     .address = ip("198.19.4.0"),
				     .underlay_ifindex = up.ifindex,
				     .mtu = up.mtu - 50};
	rc = acre_netns_vxlan_ensure(nn, &v, &err);
	check(rc == 0, "VXLAN device made (%s)", err.message);
	const char *d = sh("ip -d link show t.vx");
	check(strstr(d, "vxlan id 7470") && strstr(d, "dstport 4789") && strstr(d, "nolearning") &&
		      strstr(d, "mtu 1450") && strstr(d, "local 198.18.50.1") &&
		      strstr(d, "02:ac:01:02:03:04") && strstr(d, "alias acre:test"),
	      "vni 7470, dstport 4789, nolearning, mtu 1450, local, MAC, mark");
	check(strstr(sh("ip addr show t.vx"), "198.19.4.0/32") != NULL, "VXLAN-side address");
	int ifindex = v.ifindex;
	check(acre_netns_vxlan_ensure(nn, &v, &err) == 0 && v.ifindex == ifindex,
	      "ensured again: the same device");

	static const uint8_t zero[6], peer[6] = {0x02, 0xac, 9, 9, 9, 9};
	rc = acre_netns_fdb_add(nn, ifindex, zero, ip("198.18.50.2"), &err);
	if (rc == 0)
		rc = acre_netns_fdb_add(nn, ifindex, zero, ip("198.18.50.3"), &err);
	if (rc == 0)
		rc = acre_netns_fdb_add(nn, ifindex, zero, ip("198.18.50.3"), &err);
	if (rc == 0)
		rc = acre_netns_fdb_add(nn, ifindex, peer, ip("198.18.50.2"), &err);
	if (rc == 0)
		rc = acre_netns_neigh_set(nn, ifindex, ip("198.19.5.0"), peer, &err);
	check(rc == 0, "forwarding and neighbour entries (%s)", err.message);
	const char *fdb = sh("bridge fdb show dev t.vx");
	check(strstr(fdb, "00:00:00:00:00:00 dst 198.18.50.2") &&
		      strstr(fdb, "00:00:00:00:00:00 dst 198.18.50.3") &&
		      strstr(fdb, "02:ac:09:09:09:09 dst 198.18.50.2"),
	      "bridge fdb shows them%s%s", strstr(fdb, "198.18.50.3") ? "" : ":\n",
	      strstr(fdb, "198.18.50.3") ? "" : fdb);
	check(strstr(sh("ip neigh show dev t.vx"), "198.19.5.0 lladdr 02:ac:09:09:09:09 PERMANENT"),
	      "ip neigh shows the peer's VXLAN-side address");
	struct acre_netns_route rt = {.dst = cidr("198.19.5.0/24"),
				      .via = ip("198.19.5.0"),
				      .ifindex = ifindex,
				      .onlink = true};
	rc = acre_netns_route_replace(nn, &rt, &err);
	check(rc == 0 && strstr(sh("ip route show 198.19.5.0/24"), "via 198.19.5.0 dev t.vx"),
	      "route via the peer's VXLAN-side address, onlink (%s)", err.message);

	struct acre_netns_l2 *f = NULL, *nb = NULL;
	size_t nf = 0, nnb = 0;
	rc = acre_netns_vxlan_entries(nn, ifindex, &f, &nf, &nb, &nnb, &err);
	check(rc == 0 && nf == 3 && nnb == 1, "listed: %zu forwarding, %zu neighbour entries", nf,
	      nnb);
	free(f);
	free(nb);

	rc = acre_netns_fdb_delete(nn, ifindex, zero, ip("198.18.50.3"), &err);
	if (rc == 0)
		rc = acre_netns_neigh_delete(nn, ifindex, ip("198.19.5.0"), &err);
	fdb = sh("bridge fdb show dev t.vx");
	check(rc == 0 && !strstr(fdb, "dst 198.18.50.3") && strstr(fdb, "dst 198.18.50.2") &&
		      !strstr(sh("ip neigh show dev t.vx"), "198.19.5.0"),
	      "one remote and the neighbour removed, the rest kept");

	v.address = ip("198.19.8.0");
	check(acre_netns_vxlan_ensure(nn, &v, &err) == 0 && v.ifindex == ifindex &&
		      strstr(sh("ip addr show t.vx"), "198.19.8.0/32") &&
		      !strstr(sh("ip addr show t.vx"), "198.19.4.0/32"),
	      "the subnet moved: the VXLAN-side address moves with it, the device stays");
	v.vni = 7471;
	check(acre_netns_vxlan_ensure(nn, &v, &err) == 0 &&
		      strstr(sh("ip -d link show t.vx"), "vxlan id 7471"),
	      "another VNI: the device is made again");
	sh("ip link add t.other type veth peer name t.other1");
	struct acre_netns_vxlan other = v;
	snprintf(other.name, sizeof(other.name), "t.other");
	check(acre_netns_vxlan_ensure(nn, &other, &err) == -EEXIST, "a name not ours: %s",
	      err.message);
	check(acre_netns_vxlan_remove(nn, "t.other", "acre:test", &err) == -EEXIST &&
		      strstr(sh("ip link show t.other"), "t.other"),
	      "and never removed");
	check(acre_netns_vxlan_remove(nn, "t.vx", "acre:test", &err) == 0 &&
		      !strstr(sh("ip link show 2>&1"), "t.vx"),
	      "our device removed");
}

static void test_forwarding(void)
{
	struct acre_error err = {0};
	/* A new namespace takes IPv4's settings from the host's (devconf_inherit_init_net 0),
	 * so it is turned off first: this namespace is the test's own. */
	sh("echo 0 >/proc/sys/net/ipv4/ip_forward");
	bool was = true;
	int rc = acre_netns_ipv4_forwarding_enable(&was, &err);
	check(rc == 0 && !was && !strcmp(sh("cat /proc/sys/net/ipv4/ip_forward"), "1\n"),
	      "IPv4 forwarding turned on where it was off");
	rc = acre_netns_ipv4_forwarding_enable(&was, &err);
	check(rc == 0 && was, "and found on the second time");
	uint64_t bps = 0;
	/* veth says 10000Mb/s, as `ethtool up0` does. */
	check(acre_netns_link_speed("up0", &bps) == 0 && bps == 10000000000ULL,
	      "the link's speed from its driver: %llu bit/s", (unsigned long long)bps);
	check(acre_netns_link_speed("nosuchlink0", &bps) < 0, "no link, no speed");
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	sh("ip link set lo up; ip link add up0 type veth peer name up1; ip link set up1 up; ip "
	   "addr add 198.18.50.1/24 dev up0; "
	   "ip link set up0 up");
	struct acre_netns *nn;
	struct acre_error err = {0};
	if (acre_netns_open(&nn, &err) < 0) {
		printf("FAIL %s\npool routes: 0 passed, 1 failed\n", err.message);
		return 1;
	}
	test_routes(nn);
	test_vxlan(nn);
	test_forwarding();
	acre_netns_close(nn);
	printf("pool routes: %d passed, %d failed\n", passed, failures);
	return failures ? 1 : 0;
}
