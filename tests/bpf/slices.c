/*
 * What bpf_isolate_test builds and probes, with iproute2 the way netns/
 * builds it for bridge slices: a bridge acri<pid> with a fixed MAC (netns/
 * gives its bridge one too) holding the gateway of a /24 of 198.18.0.0/16
 * that no route of this host matches, and slices a, b, c, each a network
 * namespace (ip netns) whose eth0 is the peer of a veth on the bridge, with
 * an address of the /24, a default route via the gateway, and one more
 * address in 198.19.0.0/16 on its lo (outside the subnet, routed nowhere on
 * the host).  b's port gets the bridge's own port isolation, as netns/ sets
 * it for --isolated.  No duplicate address detection, so IPv6 link-local
 * works at once.
 *
 * The probes run in a slice by switching this thread's network namespace
 * (setns) just to make the socket, which stays in it.  They say what a user
 * would see: a TCP handshake, an ICMP echo reply, a datagram received.
 */
#include "slices.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define TCP_PORT 7411
#define UDP_PORT 7412

struct slices S = {.host_fd = -1, .gw_tcp = -1};

static const char *const NAME = "abc";

void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- the host, the namespaces and iproute2 ---------------------------------------- */

/* Runs a shell command in the host namespace; its exit status, said when not 0 unless quiet. */
static int sh_v(bool quiet, const char *fmt, va_list ap)
{
	char cmd[512];
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	if (quiet)
		strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	int st = system(cmd);
	int rc = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	if (rc && !quiet)
		printf("# `%s` exited %d\n", cmd, rc);
	return rc;
}

int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sh_v(false, fmt, ap);
	va_end(ap);
	return rc;
}

int sh_quiet(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sh_v(true, fmt, ap);
	va_end(ap);
	return rc;
}

/* This thread into who's network namespace; sockets made there stay there. */
static void enter(int who)
{
	if (setns(who == HOST ? S.host_fd : S.ns_fd[who], CLONE_NEWNET) < 0)
		die("setns");
}

const char *mac_str(const uint8_t *m)
{
	static char buf[4][18];
	static int next;
	char *s = buf[next++ % 4];
	snprintf(s, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return s;
}

static void read_mac(const char *ifname, uint8_t mac[6])
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("reading a MAC address");
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

/* eth0's IPv6 link-local address in the current namespace; false while it has none. */
static bool read_ll6(char *out)
{
	struct ifaddrs *ifa, *i;
	bool found = false;
	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		const struct sockaddr_in6 *in6 = (const void *)i->ifa_addr;
		if (in6 && in6->sin6_family == AF_INET6 && !strcmp(i->ifa_name, "eth0") &&
		    IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
			found = inet_ntop(AF_INET6, &in6->sin6_addr, out, INET6_ADDRSTRLEN) != NULL;
	}
	freeifaddrs(ifa);
	return found;
}

static int listen_in(int who, int type, int family, const char *addr)
{
	enter(who);
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	enter(HOST);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int off = 0, on = 1;
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)&ss;
		*in6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(TCP_PORT)};
		len = sizeof(*in6);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)); /* IPv4 too */
	} else {
		struct sockaddr_in *in = (void *)&ss;
		*in = (struct sockaddr_in){.sin_family = AF_INET,
					   .sin_port =
						   htons(type == SOCK_DGRAM ? UDP_PORT : TCP_PORT)};
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) < 0))
		die("making a listening socket");
	return fd;
}

/* A /24 of 198.18.0.0/16 that no route of this host matches but the default. */
static unsigned free_24(void)
{
	for (unsigned i = 0; i < 256; i++) {
		unsigned k = ((unsigned)getpid() + i) % 256;
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "ip -4 route show match 198.18.%u.1 | grep -qv ^default",
			 k);
		if (sh_quiet("%s", cmd) != 0)
			return k;
	}
	errno = EADDRINUSE;
	die("finding a free /24 in 198.18.0.0/16");
}

static void make_bridge(void)
{
	unsigned k = free_24();
	S.net = htonl(0xc6120000u | k << 8);
	S.gw = htonl(ntohl(S.net) + 1);
	snprintf(S.gw_s, sizeof(S.gw_s), "198.18.%u.1", k);
	unsigned pid = (unsigned)getpid();
	S.br_mac[0] = 0x02, S.br_mac[1] = 0xac, S.br_mac[2] = 0x1e;
	S.br_mac[3] = (uint8_t)(pid >> 16), S.br_mac[4] = (uint8_t)(pid >> 8),
	S.br_mac[5] = (uint8_t)pid;
	snprintf(S.br, sizeof(S.br), "acri%u", pid);
	if (sh("ip link add %s address %s type bridge", S.br, mac_str(S.br_mac)))
		die("creating the bridge");
	S.made_br = true;
	if (sh("ip addr add %s/24 dev %s && ip link set %s up", S.gw_s, S.br, S.br))
		die("setting the bridge up");
	for (int i = 0; i < NSLICES; i++) {
		snprintf(S.addr[i], sizeof(S.addr[i]), "198.18.%u.%d", k, 11 + i);
		/* In the other half of the /15: routed nowhere on the host. */
		snprintf(S.outside[i], sizeof(S.outside[i]), "198.19.%u.%d", k, 11 + i);
	}
}

static void make_slice(int i)
{
	snprintf(S.ns[i], sizeof(S.ns[i]), "acre-isotest-%d-%c", (int)getpid(), NAME[i]);
	snprintf(S.host_if[i], sizeof(S.host_if[i]), "%s%c", S.br, NAME[i]);
	if (sh("ip netns add %s", S.ns[i]))
		die("adding a network namespace");
	S.made_ns[i] = true;
	/* No duplicate address detection: link-local addresses usable at once. */
	if (sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.accept_dad=0", S.ns[i]) ||
	    sh("ip link add %s type veth peer name eth0 netns %s", S.host_if[i], S.ns[i]) ||
	    sh("ip link set %s master %s up", S.host_if[i], S.br) ||
	    sh("ip -n %s addr add %s/24 dev eth0", S.ns[i], S.addr[i]) ||
	    sh("ip -n %s addr add %s/32 dev lo", S.ns[i], S.outside[i]) ||
	    sh("ip -n %s link set lo up && ip -n %s link set eth0 up", S.ns[i], S.ns[i]) ||
	    sh("ip -n %s route add default via %s", S.ns[i], S.gw_s))
		die("setting a slice up");
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", S.ns[i]);
	S.ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
	S.host_ifindex[i] = (int)if_nametoindex(S.host_if[i]);
	if (S.ns_fd[i] < 0 || !S.host_ifindex[i])
		die("opening a slice's namespace");
	enter(i);
	read_mac("eth0", S.mac[i]);
	bool ll6 = false;
	for (int tries = 0; tries < 200 && !(ll6 = read_ll6(S.ll6[i])); tries++)
		usleep(10000);
	enter(HOST);
	if (!ll6)
		die("waiting for a link-local address");
	S.tcp[i] = listen_in(i, SOCK_STREAM, AF_INET6, NULL);
	S.udp[i] = listen_in(i, SOCK_DGRAM, AF_INET, "0.0.0.0");
}

/* ---- probes: what a slice sees ------------------------------------------------------- */

static void drain(void)
{
	for (int i = 0; i < NSLICES; i++) {
		int fd;
		while ((fd = accept4(S.tcp[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
		char buf[256];
		while (recv(S.udp[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
	int fd;
	while ((fd = accept4(S.gw_tcp, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* A TCP connection from `from` to addr (IPv6 link-local: on from's eth0) set up within ms. */
bool tcp_reaches(int from, const char *addr, int ms)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	enter(from);
	_cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unsigned scope = from == HOST ? 0 : if_nametoindex("eth0");
	enter(HOST);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)&ss;
		*in6 = (struct sockaddr_in6){.sin6_family = AF_INET6,
					     .sin6_port = htons(TCP_PORT),
					     .sin6_scope_id = scope};
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (void *)&ss;
		*in = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(TCP_PORT)};
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	}
	if (fd < 0 || (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS))
		return false;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int e = 0;
	socklen_t elen = sizeof(e);
	bool ok = poll(&p, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 &&
		  e == 0;
	drain();
	return ok;
}

static uint16_t csum(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* An ICMP echo from `from` to addr answered within ms. */
bool ping_reaches(int from, const char *addr, int ms)
{
	static uint16_t seq;
	enter(from);
	_cleanup_close_ int fd =
		socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
	enter(HOST);
	struct sockaddr_in to = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &to.sin_addr);
	uint8_t pkt[64] = {0};
	struct icmphdr *h = (void *)pkt;
	uint16_t id = (uint16_t)getpid(), sq = ++seq;
	h->type = ICMP_ECHO;
	h->un.echo.id = htons(id);
	h->un.echo.sequence = htons(sq);
	h->checksum = csum(pkt, sizeof(pkt));
	if (fd < 0 || sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return false;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int left = ms; left > 0;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, left) == 1) {
			uint8_t buf[256];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			const struct iphdr *ip = (const void *)buf;
			size_t off = n >= (ssize_t)sizeof(*ip) ? ip->ihl * 4u : sizeof(buf);
			const struct icmphdr *r = (const void *)(buf + off);
			if (n >= (ssize_t)(off + sizeof(*r)) && r->type == ICMP_ECHOREPLY &&
			    ntohs(r->un.echo.id) == id && ntohs(r->un.echo.sequence) == sq &&
			    ip->saddr == to.sin_addr.s_addr)
				return true;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms -
		       (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return false;
}

/* Which slices (bit i for slice i, the sender left out) got the token on their UDP socket. */
static unsigned heard(int from, uint32_t token)
{
	usleep(SLICES_SILENCE_MS * 1000);
	unsigned mask = 0;
	for (int i = 0; i < NSLICES; i++) {
		uint32_t got;
		while (recv(S.udp[i], &got, sizeof(got), MSG_DONTWAIT) == (ssize_t)sizeof(got))
			if (got == token && i != from)
				mask |= 1u << i;
	}
	return mask;
}

/* A UDP datagram from `from` to addr (a broadcast one): who heard it. */
unsigned udp_heard(int from, const char *addr)
{
	drain();
	uint32_t token = (uint32_t)random();
	enter(from);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 5);
	enter(HOST);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(UDP_PORT)};
	inet_pton(AF_INET, addr, &to.sin_addr);
	if (fd < 0 || sendto(fd, &token, sizeof(token), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		printf("# sending to %s: %s\n", addr, strerror(errno));
	return heard(from, token);
}

/*
 * A UDP datagram that `from` writes as a whole frame: to `to`'s MAC and address, from a
 * source outside the subnet, and the bridge's MAC as the frame's source.  Who heard it.
 */
unsigned forged_heard(int from, int to)
{
	drain();
	struct __attribute__((packed)) {
		uint8_t dst[6], src[6];
		uint16_t type;
		struct iphdr ip;
		struct udphdr udp;
		uint32_t token;
	} f = {.type = htons(0x0800), .token = (uint32_t)random()};
	memcpy(f.dst, S.mac[to], 6);
	memcpy(f.src, S.br_mac, 6);
	f.ip = (struct iphdr){.version = 4,
			      .ihl = 5,
			      .ttl = 64,
			      .protocol = IPPROTO_UDP,
			      .tot_len = htons(sizeof(f) - 14)};
	inet_pton(AF_INET, "198.19.250.77", &f.ip.saddr);
	inet_pton(AF_INET, S.addr[to], &f.ip.daddr);
	f.ip.check = csum(&f.ip, sizeof(f.ip));
	f.udp = (struct udphdr){.source = htons(9),
				.dest = htons(UDP_PORT),
				.len = htons(sizeof(f.udp) + sizeof(f.token))};
	enter(from);
	_cleanup_close_ int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_ifindex = (int)if_nametoindex("eth0"),
				 .sll_halen = 6};
	enter(HOST);
	memcpy(ll.sll_addr, S.mac[to], 6);
	if (fd < 0 || sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		printf("# writing a frame: %s\n", strerror(errno));
	return heard(from, f.token);
}

/*
 * TCP from `from` to `to`'s address outside the subnet (on its lo), sent straight to to's
 * MAC: a route via to's subnet address and a permanent neighbour entry for it, as a slice
 * that knows its neighbour's MAC can set up.  The subnet checks alone would let it through.
 */
bool beyond_reaches(int from, int to)
{
	sh("ip -n %s neigh replace %s lladdr %s dev eth0 nud permanent", S.ns[from], S.addr[to],
	   mac_str(S.mac[to]));
	sh("ip -n %s route replace %s/32 via %s dev eth0", S.ns[from], S.outside[to], S.addr[to]);
	bool ok = tcp_reaches(from, S.outside[to], SLICES_SILENCE_MS);
	sh("ip -n %s route del %s/32", S.ns[from], S.outside[to]);
	sh("ip -n %s neigh del %s dev eth0", S.ns[from], S.addr[to]);
	return ok;
}

/* ---- the whole ------------------------------------------------------------------------ */

void slices_make(void)
{
	S.host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (S.host_fd < 0)
		die("opening the host's network namespace");
	make_bridge();
	for (int i = 0; i < NSLICES; i++)
		make_slice(i);
	if (sh("ip link set %s type bridge_slave isolated on", S.host_if[B]))
		die("isolating b's bridge port");
	S.gw_tcp = listen_in(HOST, SOCK_STREAM, AF_INET, S.gw_s);
}

void slices_remove(void)
{
	if (S.host_fd >= 0)
		enter(HOST);
	for (int i = 0; i < NSLICES; i++) {
		if (S.host_if[i][0])
			sh_quiet("ip link del %s", S.host_if[i]);
		if (S.made_ns[i])
			sh_quiet("ip netns del %s", S.ns[i]);
		S.made_ns[i] = false;
	}
	if (S.made_br)
		sh_quiet("ip link del %s", S.br);
	S.made_br = false;
}

bool slices_gone(void)
{
	bool left = sh_quiet("ip link show %s", S.br) == 0;
	for (int i = 0; i < NSLICES; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", S.ns[i]);
		left |= access(path, F_OK) == 0 || if_nametoindex(S.host_if[i]) != 0;
	}
	return !left;
}
