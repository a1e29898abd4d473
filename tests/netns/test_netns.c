/*
 * netns/ against the real kernel, as root: a bridge with a name of its own
 * ("acrt<pid>"), "slices" that are child processes in network namespaces
 * they unshared, all set up through netns.h, then checked from inside with
 * ICMP echo and TCP (reachability, port isolation), iperf3 (shaping both
 * ways), the refusals (a name that is not our bridge, an overlapping subnet,
 * a half-made slice) and the cleanup after a restart.  It times the setup
 * of one slice's network, and at the end proves that no interface, qdisc
 * or namespace it made is left.
 *
 * Only addresses of the benchmarking range 198.18.0.0/15 are used: a /24 of
 * it that is free on this host.  Everything it makes goes away on every
 * exit path (atexit, SIGINT/SIGTERM/SIGALRM), and its children die with it
 * (PR_SET_PDEATHSIG), which takes their namespaces with them.
 *
 *   make netns-test     (or build/test/netns_test [-v])
 */
#include "netns/netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>

#define RATE	   50000000ULL /* 50mbit, the issue's test value */
#define RATE_SLACK 0.10
#define MAX_SLICES 64
#define TIMED_RUNS 30

/* ---- what the test made, for the cleanup on every exit path -------------- */

struct slice {
	char owner[32];
	char veth[ACRE_NETNS_IFNAMSIZ];
	pid_t pid;	/* the child holding the namespace */
	int release_fd; /* closing it ends the child */
	ino_t netns_ino;
	uint32_t addr;
	int host_ifindex; /* of the host veth, for the qdisc leak check */
};

static struct {
	char bridge[ACRE_NETNS_IFNAMSIZ];
	const struct acre_netns_bridge *br; /* names the slices' veths */
	char state_dir[64];
	struct slice slices[MAX_SLICES];
	size_t n;
	pid_t helpers[16]; /* iperf3 servers and the like */
	int passed, failed;
	bool verbose;
} T;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (ok)
		T.passed++;
	else
		T.failed++;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(p);
}

static void end_slice_process(struct slice *s)
{
	if (s->release_fd >= 0) {
		close(s->release_fd);
		s->release_fd = -1;
	}
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* Removes everything the test made; safe to run twice and from a signal. */
static void cleanup(void)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(T.helpers); i++)
		if (T.helpers[i] > 0) {
			kill(T.helpers[i], SIGKILL);
			waitpid(T.helpers[i], NULL, 0);
			T.helpers[i] = 0;
		}
	struct acre_netns *nn = NULL;
	if (acre_netns_open(&nn, NULL) == 0) {
		for (size_t i = 0; i < T.n; i++)
			acre_netns_link_delete(nn, T.slices[i].veth, NULL);
		if (T.bridge[0])
			acre_netns_link_delete(nn, T.bridge, NULL);
		acre_netns_close(nn);
	}
	for (size_t i = 0; i < T.n; i++)
		end_slice_process(&T.slices[i]);
	if (T.state_dir[0]) {
		nftw(T.state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		T.state_dir[0] = '\0';
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	T.failed++;
	printf("netns: %d passed, %d failed\n", T.passed, T.failed);
	exit(1); /* atexit runs cleanup() */
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static const char *ip(uint32_t a)
{
	static char buf[4][ACRE_ADDR_STRLEN];
	static int i;
	i = (i + 1) % 4;
	acre_cidr_addr_format(a, buf[i], sizeof(buf[i]));
	return buf[i];
}

/* ---- slices: children in namespaces of their own --------------------------- */

/* In every child: die with the test, and never run its cleanup (which is the parent's). */
static void child_init(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
}

static struct slice *slice_new(const char *owner)
{
	if (T.n == MAX_SLICES)
		die("too many slices");
	struct slice *s = &T.slices[T.n];
	memset(s, 0, sizeof(*s));
	s->release_fd = -1;
	snprintf(s->owner, sizeof(s->owner), "%s-%d", owner, (int)getpid());
	acre_netns_veth_name(T.br, s->owner, s->veth);
	int ready[2], release[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		child_init();
		close(ready[0]);
		close(release[1]);
		char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		char c;
		while (read(release[0], &c, 1) > 0)
			;
		_exit(0);
	}
	T.n++;
	s->pid = pid;
	close(ready[1]);
	close(release[0]);
	s->release_fd = release[1];
	char ok = 'n';
	if (read(ready[0], &ok, 1) != 1 || ok != 'y')
		die("slice %s: unshare(CLONE_NEWNET) failed", s->owner);
	close(ready[0]);
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		die("stat %s: %s", path, strerror(errno));
	s->netns_ino = st.st_ino;
	return s;
}

/* Runs fn(arg) in a child inside the namespace of pid (0: the host's); its exit status. */
static int in_netns(pid_t pid, int (*fn)(void *), void *arg, unsigned timeout_s)
{
	pid_t c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0) {
		child_init();
		alarm(timeout_s);
		if (pid > 0) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
				_exit(125);
		}
		_exit(fn(arg));
	}
	int status;
	if (waitpid(c, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- probes ---------------------------------------------------------------- */

static uint16_t icmp_sum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;
	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Three ICMP echo requests, 500 ms each: 0 when one is answered. */
static int do_ping(void *arg)
{
	uint32_t dst = *(uint32_t *)arg;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return 2;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(dst)};
	uint16_t id = (uint16_t)getpid();
	for (int seq = 0; seq < 3; seq++) {
		struct icmphdr h = {.type = ICMP_ECHO};
		h.un.echo.id = htons(id);
		h.un.echo.sequence = htons((uint16_t)seq);
		h.checksum = icmp_sum(&h, sizeof(h));
		if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			usleep(500000); /* EHOSTUNREACH and the like: count it as lost */
			continue;
		}
		double until = now_us() + 500000;
		for (double left; (left = until - now_us()) > 0;) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, (int)(left / 1000) + 1) <= 0)
				break;
			uint8_t buf[1500];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n < (ssize_t)sizeof(struct iphdr))
				continue;
			struct iphdr *iph = (struct iphdr *)buf;
			size_t off = (size_t)iph->ihl * 4;
			if (n < (ssize_t)(off + sizeof(struct icmphdr)) || ntohl(iph->saddr) != dst)
				continue;
			struct icmphdr *r = (struct icmphdr *)(buf + off);
			if (r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id)
				return 0;
		}
	}
	return 1;
}

static bool ping(pid_t from, uint32_t dst)
{
	return in_netns(from, do_ping, &dst, 5) == 0;
}

struct tcp_target {
	uint32_t addr;
	uint16_t port;
};

static uint16_t next_port(void)
{
	static uint16_t port;
	if (!port)
		port = (uint16_t)(20000 + getpid() % 20000);
	return port++;
}

/* Connects within 1.5 s and reads the listener's "ok". */
static int do_connect(void *arg)
{
	struct tcp_target *t = arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(t->port),
				 .sin_addr.s_addr = htonl(t->addr)};
	if (fd < 0)
		return 2;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		return 1;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (poll(&p, 1, 1500) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 ||
	    soerr)
		return 1;
	p.events = POLLIN;
	char buf[2];
	if (poll(&p, 1, 1500) != 1 || recv(fd, buf, 2, 0) != 2 || memcmp(buf, "ok", 2))
		return 1;
	return 0;
}

/* A TCP listener in to's namespace on addr, a connect from from's: true if it got through. */
static bool tcp(pid_t from, pid_t to, uint32_t addr)
{
	struct tcp_target t = {.addr = addr, .port = next_port()};
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t l = fork();
	if (l < 0)
		die("fork: %s", strerror(errno));
	if (l == 0) {
		child_init();
		alarm(10);
		close(ready[0]);
		if (to > 0) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)to);
			int nsfd = open(path, O_RDONLY | O_CLOEXEC);
			if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
				_exit(125);
		}
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(t.port),
					 .sin_addr.s_addr = htonl(addr)};
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			int c = accept(fd, NULL, NULL);
			if (c >= 0) {
				if (write(c, "ok", 2) != 2)
					_exit(1);
				close(c);
			}
		}
	}
	close(ready[1]);
	char c;
	bool listening = read(ready[0], &c, 1) == 1;
	close(ready[0]);
	bool ok = listening && in_netns(from, do_connect, &t, 5) == 0;
	kill(l, SIGKILL);
	waitpid(l, NULL, 0);
	if (!listening)
		die("could not listen on %s:%u", ip(addr), t.port);
	return ok;
}

/* ---- kernel state, read back ------------------------------------------------ */

static int read_sysfs_int(const char *ifname, const char *file)
{
	char path[128], buf[32] = "";
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? (int)strtol(buf, NULL, 0) : -1;
}

static bool sysfs_master_is(const char *ifname, const char *bridge)
{
	char path[128], target[256];
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	return base && !strcmp(base + 1, bridge);
}

/* Number of qdiscs of a kind on ifindex in the host namespace (kind NULL: any). */
static int host_qdiscs(int ifindex, const char *kind)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int n = 0;
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0 || rtnl_qdisc_alloc_cache(sk, &cache) < 0)
		die("listing qdiscs failed");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_tc *tc = (struct rtnl_tc *)o;
		if (rtnl_tc_get_ifindex(tc) == ifindex &&
		    (!kind || !strcmp(rtnl_tc_get_kind(tc), kind)))
			n++;
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return n;
}

/* Whether any process still has a namespace of this inode. */
static bool netns_alive(ino_t ino)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;
	while (d && !found && (e = readdir(d))) {
		char path[300];
		struct stat st;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		found = stat(path, &st) == 0 && st.st_ino == ino;
	}
	if (d)
		closedir(d);
	return found;
}

/* ---- iperf3 ----------------------------------------------------------------- */

static pid_t spawn_in(pid_t ns, char *const argv[], int out_fd)
{
	pid_t c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0) {
		child_init();
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(125);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		if (!T.verbose)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return c;
}

static void helper_add(pid_t p)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(T.helpers); i++)
		if (T.helpers[i] <= 0) {
			T.helpers[i] = p;
			return;
		}
}

static void helper_reap(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(T.helpers); i++)
		if (T.helpers[i] == p)
			T.helpers[i] = 0;
}

static char *read_all(int fd)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	for (ssize_t r; buf && (r = read(fd, buf + n, cap - n - 1)) > 0;) {
		n += (size_t)r;
		if (n + 1 == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b)
				break;
			buf = b;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* iperf3 from client to a server in server's namespace; bit/s received, or -1. */
static double iperf(const struct slice *server, const struct slice *client, bool reverse)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", next_port());
	int sout[2];
	if (pipe2(sout, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	char *sargv[] = {"iperf3", "-s", "-1", "--forceflush", "-B", (char *)ip(server->addr),
			 "-p",	   port, NULL};
	pid_t s = spawn_in(server->pid, sargv, sout[1]);
	helper_add(s);
	close(sout[1]);
	/* Wait for "Server listening" so the client does not race the bind. */
	char line[4096];
	size_t n = 0;
	struct pollfd p = {.fd = sout[0], .events = POLLIN};
	while (n < sizeof(line) - 1 && poll(&p, 1, 5000) == 1) {
		ssize_t r = read(sout[0], line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		line[n] = '\0';
		if (strstr(line, "listening"))
			break;
	}
	int cout[2];
	if (pipe2(cout, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	char *cargv[] = {"iperf3", "-c", (char *)ip(server->addr), "-p", port, "-t", "5", "-O",
			 "1",	   "-J", reverse ? "-R" : NULL,	   NULL};
	pid_t c = spawn_in(client->pid, cargv, cout[1]);
	helper_add(c);
	close(cout[1]);
	char *out = read_all(cout[0]);
	close(cout[0]);
	close(sout[0]);
	int status = 0;
	waitpid(c, &status, 0);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(T.helpers); i++)
		if (T.helpers[i] == c)
			T.helpers[i] = 0;
	helper_reap(s);
	json_error_t je;
	json_t *doc = out ? json_loads(out, 0, &je) : NULL;
	double bps = -1;
	json_t *v =
		doc ? json_object_get(json_object_get(json_object_get(doc, "end"), "sum_received"),
				      "bits_per_second")
		    : NULL;
	if (v)
		bps = json_number_value(v);
	else
		say("iperf3 said: %.300s\n", out ? out : "(nothing)");
	json_decref(doc);
	free(out);
	return bps;
}

/* ---- helpers over the API ---------------------------------------------------- */

static void must(int r, const struct acre_error *err, const char *what)
{
	if (r < 0)
		die("%s: %s", what, err->message);
}

static int setup_slice(struct acre_netns *nn, const struct acre_netns_bridge *br,
		       struct acre_ipam *ipam, struct slice *s, uint64_t rate, bool isolated,
		       bool by_fd, struct acre_error *err)
{
	int r = acre_ipam_allocate(ipam, s->owner, &s->addr, err);
	if (r < 0)
		return r;
	int fd = -1;
	if (by_fd) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	struct acre_netns_slice spec = {.owner = s->owner,
					.netns_fd = fd,
					.pid = s->pid,
					.address = s->addr,
					.rate = rate,
					.isolated = isolated};
	r = acre_netns_slice_setup(nn, br, &spec, err);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		s->host_ifindex = (int)if_nametoindex(s->veth);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Finds a /24 of 198.18.0.0/15 that nothing on this host uses. */
static struct acre_cidr free_subnet(struct acre_netns *nn)
{
	for (unsigned i = 0; i < 512; i++) {
		unsigned k = ((unsigned)getpid() + i) % 512;
		struct acre_cidr c = {.network = 0xc6120000u + (k << 8), .prefix = 24};
		if (acre_netns_cidr_check_host(nn, &c, NULL, NULL) == 0)
			return c;
	}
	die("no free /24 in 198.18.0.0/15 on this host");
}

/* ---- the tests ----------------------------------------------------------------- */

static void test_refusals(struct acre_netns *nn, const struct acre_netns_bridge *br,
			  const struct slice *a)
{
	struct acre_error err = {0};
	struct acre_netns_bridge other;
	/* A bridge of our name without our mark: somebody else's. */
	must(acre_netns_bridge_init(&other, br->name, "somebody-else", &br->subnet, &err), &err,
	     "bridge init");
	int r = acre_netns_bridge_ensure(nn, &other, &err);
	check(r == -EEXIST && strstr(err.message, "without acre's mark"),
	      "a bridge without our mark is refused: %s", err.message);
	r = acre_netns_bridge_remove(nn, &other, &err);
	check(r == -EEXIST && if_nametoindex(br->name) > 0, "... and not removed: %s", err.message);
	/* A name taken by something that is not a bridge. */
	must(acre_netns_bridge_init(&other, a->veth, "acre", &br->subnet, &err), &err,
	     "bridge init");
	r = acre_netns_bridge_ensure(nn, &other, &err);
	check(r == -EEXIST && strstr(err.message, "veth interface"),
	      "a name taken by a veth is refused: %s", err.message);
	/* Our subnet is free for us (our bridge holds it), taken for anyone else. */
	r = acre_netns_cidr_check_host(nn, &br->subnet, br, &err);
	check(r == 0, "our own subnet passes the host check with our bridge");
	struct acre_netns_bridge theirs;
	must(acre_netns_bridge_init(&theirs, br->name, "somebody-else", &br->subnet, &err), &err,
	     "bridge init");
	r = acre_netns_cidr_check_host(nn, &br->subnet, &theirs, &err);
	check(r == -EADDRINUSE && strstr(err.message, br->name),
	      "a subnet on a bridge that is not ours is refused: %s", err.message);
	struct acre_cidr wide = {.network = 0xc6120000u, .prefix = 15};
	r = acre_netns_cidr_check_host(nn, &wide, NULL, &err);
	check(r == -EADDRINUSE && strstr(err.message, "overlaps"),
	      "an overlapping --slice-cidr is refused: %s", err.message);
}

static void test_reachability(const struct acre_netns_bridge *br, struct slice *a, struct slice *b)
{
	uint32_t gw = acre_cidr_gateway(&br->subnet);
	check(ping(a->pid, b->addr), "ping %s -> %s (slice to slice)", ip(a->addr), ip(b->addr));
	check(ping(b->pid, a->addr), "ping %s -> %s (slice to slice)", ip(b->addr), ip(a->addr));
	check(ping(a->pid, gw), "ping %s -> %s (gateway)", ip(a->addr), ip(gw));
	check(ping(0, b->addr), "ping host -> %s", ip(b->addr));
	check(tcp(a->pid, b->pid, b->addr), "tcp %s -> %s", ip(a->addr), ip(b->addr));
	check(tcp(b->pid, a->pid, a->addr), "tcp %s -> %s", ip(b->addr), ip(a->addr));
	check(tcp(a->pid, 0, gw), "tcp %s -> gateway %s", ip(a->addr), ip(gw));
}

static void test_isolation(struct acre_netns *nn, const struct acre_netns_bridge *br,
			   struct acre_ipam *ipam, struct slice *a, struct slice *b)
{
	struct acre_error err = {0};
	uint32_t gw = acre_cidr_gateway(&br->subnet);
	/* b isolated through the setup call, a through the verb. */
	must(acre_netns_slice_teardown(nn, br, b->owner, &err), &err, "teardown b");
	must(setup_slice(nn, br, ipam, b, 0, true, false, &err), &err, "setup b isolated");
	must(acre_netns_port_set_isolated(nn, a->veth, true, &err), &err, "isolate a");
	check(read_sysfs_int(a->veth, "brport/isolated") == 1 &&
		      read_sysfs_int(b->veth, "brport/isolated") == 1,
	      "IFLA_BRPORT_ISOLATED is set on both ports");
	check(ping(a->pid, gw) && tcp(a->pid, 0, gw), "isolated %s reaches the gateway",
	      ip(a->addr));
	check(ping(b->pid, gw), "isolated %s reaches the gateway", ip(b->addr));
	check(!ping(a->pid, b->addr) && !tcp(a->pid, b->pid, b->addr),
	      "isolated %s does not reach isolated %s", ip(a->addr), ip(b->addr));
	check(!ping(b->pid, a->addr), "isolated %s does not reach isolated %s", ip(b->addr),
	      ip(a->addr));
	/* The kernel's rule is "isolated ports do not talk to each other": show it. */
	must(acre_netns_port_set_isolated(nn, a->veth, false, &err), &err, "un-isolate a");
	bool mixed = ping(b->pid, a->addr);
	say("note: isolated %s -> non-isolated %s: %s (bridge port isolation only separates "
	    "isolated ports from each other)\n",
	    ip(b->addr), ip(a->addr), mixed ? "reachable" : "unreachable");
	must(acre_netns_port_set_isolated(nn, b->veth, false, &err), &err, "un-isolate b");
	check(ping(a->pid, b->addr), "isolation cleared: %s reaches %s again", ip(a->addr),
	      ip(b->addr));
}

static void test_rate(struct acre_netns *nn, const struct acre_netns_bridge *br,
		      struct acre_ipam *ipam, struct slice *a, struct slice *b)
{
	struct acre_error err = {0};
	must(acre_netns_slice_teardown(nn, br, a->owner, &err), &err, "teardown a");
	must(setup_slice(nn, br, ipam, a, RATE, false, true, &err), &err, "setup a with a rate");
	check(host_qdiscs(a->host_ifindex, "tbf") == 1, "tbf on the host end of %s", a->veth);
	double lo = RATE * (1 - RATE_SLACK), hi = RATE * (1 + RATE_SLACK);
	double out = iperf(b, a, false); /* a sends: a's eth0 shapes */
	check(out >= lo && out <= hi, "iperf3 %s -> %s (slice egress): %.1f Mbit/s, want 50 +-10%%",
	      ip(a->addr), ip(b->addr), out / 1e6);
	double in = iperf(b, a, true); /* b sends to a: the host end shapes */
	check(in >= lo && in <= hi, "iperf3 %s -> %s (slice ingress): %.1f Mbit/s, want 50 +-10%%",
	      ip(b->addr), ip(a->addr), in / 1e6);
	/* A rate can change and go. */
	must(acre_netns_rate_set(nn, a->veth, 0, &err), &err, "rate off");
	check(host_qdiscs(a->host_ifindex, "tbf") == 0, "rate 0 removes the tbf");
	must(acre_netns_rate_set(nn, a->veth, RATE, &err), &err, "rate on");
	check(host_qdiscs(a->host_ifindex, "tbf") == 1, "rate_set adds it back");
}

/* In the caller's namespace (a child's): a default route out of lo, which a slice's setup will
 * then find in its way. */
static int add_lo_default_route(void *arg)
{
	(void)arg;
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	uint32_t zero = 0;
	struct nl_addr *dst = nl_addr_build(AF_INET, &zero, 4);
	if (!sk || !rt || !nh || !dst || nl_connect(sk, NETLINK_ROUTE) < 0)
		return 1;
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_scope(rt, RT_SCOPE_LINK);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_ifindex(nh, 1);
	rtnl_route_add_nexthop(rt, nh);
	return rtnl_route_add(sk, rt, NLM_F_EXCL) < 0;
}

static void test_half_made(struct acre_netns *nn, const struct acre_netns_bridge *br,
			   struct acre_ipam *ipam, struct slice *a)
{
	struct acre_error err = {0};
	/* A second veth into a namespace that already has eth0. */
	struct slice *c = slice_new("twin");
	c->addr = 0;
	must(acre_ipam_allocate(ipam, c->owner, &c->addr, &err), &err, "allocate");
	struct acre_netns_slice spec = {
		.owner = c->owner, .netns_fd = -1, .pid = a->pid, .address = c->addr};
	int r = acre_netns_slice_setup(nn, br, &spec, &err);
	check(r == -EEXIST && strstr(err.message, "File exists") && !if_nametoindex(c->veth),
	      "a slice that cannot be made leaves nothing: %s", err.message);
	/* An address outside the subnet is refused before anything is made. */
	spec.pid = c->pid;
	spec.address = acre_cidr_gateway(&br->subnet);
	r = acre_netns_slice_setup(nn, br, &spec, &err);
	check(r == -EINVAL && !if_nametoindex(c->veth), "the gateway address is refused: %s",
	      err.message);
	spec.address = c->addr;
	spec.rate = 1000;
	r = acre_netns_slice_setup(nn, br, &spec, &err);
	check(r == -ERANGE && !if_nametoindex(c->veth), "a rate tbf cannot do is refused: %s",
	      err.message);
	/* Failing inside the slice, after the pair exists: the pair goes again. */
	struct acre_netns *in = NULL;
	must(acre_netns_open_pid(&in, c->pid, &err), &err, "open the slice's namespace");
	must(acre_netns_link_up(in, "lo", &err), &err, "lo up");
	acre_netns_close(in);
	if (in_netns(c->pid, add_lo_default_route, NULL, 5) != 0)
		die("adding a default route in the way failed");
	spec.rate = 0;
	r = acre_netns_slice_setup(nn, br, &spec, &err);
	check(r == -EEXIST && strstr(err.message, "inside the slice: adding the default route") &&
		      !if_nametoindex(c->veth),
	      "a setup failing inside the slice removes its veth pair: %s", err.message);
	acre_ipam_release(ipam, c->owner, NULL);
}

static void test_cleanup_after_restart(struct acre_netns *nn, const struct acre_netns_bridge *br,
				       struct acre_ipam *ipam, struct slice *a, struct slice *b)
{
	struct acre_error err = {0};
	struct slice *c = slice_new("gone");
	must(setup_slice(nn, br, ipam, c, 0, false, false, &err), &err, "setup c");
	check(sysfs_master_is(c->veth, br->name), "%s is a port of %s", c->veth, br->name);
	const char *live[] = {a->owner, b->owner};
	size_t removed = 0;
	must(acre_netns_cleanup(nn, br, live, 2, &removed, &err), &err, "cleanup");
	check(removed == 1 && !if_nametoindex(c->veth) && if_nametoindex(a->veth) &&
		      if_nametoindex(b->veth),
	      "cleanup removed the one stale veth (%zu) and kept the live ones", removed);
	size_t dropped = 0;
	must(acre_ipam_reconcile(ipam, live, 2, &dropped, &err), &err, "reconcile");
	check(dropped == 1 && acre_ipam_count(ipam) == 2, "reconcile dropped the stale lease");
}

static void time_setup(struct acre_netns *nn, const struct acre_netns_bridge *br,
		       struct acre_ipam *ipam)
{
	double setup[TIMED_RUNS] = {0}, teardown[TIMED_RUNS] = {0}, shaped[TIMED_RUNS] = {0};
	struct acre_error err = {0};
	for (int i = 0; i < TIMED_RUNS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%d", i);
		struct slice *s = slice_new(name);
		uint32_t addr;
		must(acre_ipam_allocate(ipam, s->owner, &addr, &err), &err, "allocate");
		s->addr = addr;
		struct acre_netns_slice spec = {
			.owner = s->owner, .netns_fd = -1, .pid = s->pid, .address = addr};
		/* Every other run also isolates and shapes, the costliest launch. */
		bool full = i % 2;
		spec.rate = full ? RATE : 0;
		spec.isolated = full;
		double t0 = now_us();
		must(acre_netns_slice_setup(nn, br, &spec, &err), &err, "timed setup");
		double t1 = now_us();
		must(acre_netns_slice_teardown(nn, br, s->owner, &err), &err, "timed teardown");
		double t2 = now_us();
		if (full)
			shaped[i / 2] = t1 - t0;
		else
			setup[i / 2] = t1 - t0;
		teardown[i] = t2 - t1;
		must(acre_ipam_release(ipam, s->owner, &err), &err, "release");
		end_slice_process(s);
	}
	int half = TIMED_RUNS / 2;
	qsort(setup, (size_t)half, sizeof(double), cmp_double);
	qsort(shaped, (size_t)half, sizeof(double), cmp_double);
	qsort(teardown, TIMED_RUNS, sizeof(double), cmp_double);
	say("time: slice network setup (veth+move+address+route+lo), %d runs: median %.0f us, "
	    "min %.0f, max %.0f\n",
	    half, setup[half / 2], setup[0], setup[half - 1]);
	say("time: ... with --isolated and --net-rate (2 tbf): median %.0f us, min %.0f, max "
	    "%.0f\n",
	    shaped[half / 2], shaped[0], shaped[half - 1]);
	say("time: slice network teardown, %d runs: median %.0f us, min %.0f, max %.0f\n",
	    TIMED_RUNS, teardown[TIMED_RUNS / 2], teardown[0], teardown[TIMED_RUNS - 1]);
}

static void test_nothing_left(struct acre_netns *nn, struct acre_netns_bridge *br,
			      struct acre_ipam *ipam)
{
	struct acre_error err = {0};
	for (size_t i = 0; i < T.n; i++) {
		must(acre_netns_slice_teardown(nn, br, T.slices[i].owner, &err), &err, "teardown");
		acre_ipam_release(ipam, T.slices[i].owner, NULL);
	}
	check(acre_ipam_count(ipam) == 0, "every lease released");
	must(acre_netns_bridge_remove(nn, br, &err), &err, "bridge remove");
	check(acre_netns_bridge_remove(nn, br, &err) == 0, "removing a missing bridge is fine");
	for (size_t i = 0; i < T.n; i++)
		end_slice_process(&T.slices[i]);
	int links = 0, qdiscs = 0, namespaces = 0;
	links += if_nametoindex(br->name) != 0;
	for (size_t i = 0; i < T.n; i++) {
		links += if_nametoindex(T.slices[i].veth) != 0;
		if (T.slices[i].host_ifindex > 0)
			qdiscs += host_qdiscs(T.slices[i].host_ifindex, NULL);
		namespaces += netns_alive(T.slices[i].netns_ino);
	}
	check(links == 0 && qdiscs == 0 && namespaces == 0,
	      "nothing left: %d interfaces, %d qdiscs, %d namespaces of %zu slices", links, qdiscs,
	      namespaces, T.n);
}

int main(int argc, char **argv)
{
	T.verbose = argc > 1 && !strcmp(argv[1], "-v");
	if (geteuid() != 0) {
		printf("SKIP netns: needs root\n");
		return 77;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(300);
	snprintf(T.bridge, sizeof(T.bridge), "acrt%d", (int)getpid());
	snprintf(T.state_dir, sizeof(T.state_dir), "/tmp/acre-netns-test.XXXXXX");
	if (!mkdtemp(T.state_dir))
		die("mkdtemp: %s", strerror(errno));

	struct acre_error err = {0};
	struct acre_netns *nn = NULL;
	must(acre_netns_open(&nn, &err), &err, "open");
	struct acre_cidr subnet = free_subnet(nn);
	char subnet_s[ACRE_CIDR_STRLEN];
	acre_cidr_format(&subnet, subnet_s, sizeof(subnet_s));
	say("bridge %s, subnet %s, state %s\n", T.bridge, subnet_s, T.state_dir);

	struct acre_netns_bridge br;
	must(acre_netns_bridge_init(&br, T.bridge, "acre-test", &subnet, &err), &err,
	     "bridge init");
	T.br = &br;
	must(acre_netns_bridge_ensure(nn, &br, &err), &err, "bridge ensure");
	check(br.ifindex > 0 && read_sysfs_int(T.bridge, "flags") & IFF_UP,
	      "bridge %s is up (ifindex %d)", T.bridge, br.ifindex);
	must(acre_netns_bridge_ensure(nn, &br, &err), &err, "bridge ensure again");
	check(true, "ensuring it again changes nothing and succeeds");
	struct acre_ipam *ipam = NULL;
	must(acre_ipam_open(&ipam, T.state_dir, &subnet, &err), &err, "ipam open");

	struct slice *a = slice_new("a"), *b = slice_new("b");
	double t0 = now_us();
	must(setup_slice(nn, &br, ipam, a, 0, false, false, &err), &err, "setup a");
	double t1 = now_us();
	must(setup_slice(nn, &br, ipam, b, 0, false, true, &err), &err, "setup b");
	say("slice a: %s on %s (by pid, %.0f us); slice b: %s on %s (by netns fd)\n", ip(a->addr),
	    a->veth, t1 - t0, ip(b->addr), b->veth);
	check(a->addr == subnet.network + 2 && b->addr == subnet.network + 3,
	      "the IPAM handed out .2 and .3");
	check(sysfs_master_is(a->veth, T.bridge) && sysfs_master_is(b->veth, T.bridge),
	      "both host ends are ports of %s", T.bridge);

	test_reachability(&br, a, b);
	test_refusals(nn, &br, a);
	test_isolation(nn, &br, ipam, a, b);
	test_half_made(nn, &br, ipam, a);
	test_rate(nn, &br, ipam, a, b);
	test_cleanup_after_restart(nn, &br, ipam, a, b);
	time_setup(nn, &br, ipam);
	test_nothing_left(nn, &br, ipam);

	acre_ipam_close(ipam);
	acre_netns_close(nn);
	T.bridge[0] = '\0';
	cleanup();
	printf("netns: %d passed, %d failed\n", T.passed, T.failed);
	return T.failed ? 1 : 0;
}
