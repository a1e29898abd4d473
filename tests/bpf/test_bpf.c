/*
 * bpf_test: libacre-bpf against the real kernel, as root (`make bpf-test`,
 * then `sudo build/test/bpf_test`).  It makes its own cgroup v2 subtree
 * acre-bpftest-<pid> with two slice cgroups a and b, opens the module there
 * and checks what a user would see: bytes a slice sent and received over
 * loopback TCP (payload <= counted <= payload + 5%, the other slice
 * untouched), run-queue latency of a CPU-starved slice, the connect policy
 * (allowed port connects, others get EPERM), counters that continue across
 * close and re-open with every program attached exactly once (also after
 * stale and incompatible pins), `bpftool map dump pinned` agreeing with the
 * library, a clear refusal without privilege, and the time to read 1,000
 * slices.  Whatever it made (processes, cgroups, pins, the bpffs mount if
 * it was not there) is removed at exit, on failure and on SIGINT/SIGTERM.
 * Prints one PASS/FAIL line per check and "N passed, N failed".
 */
#include "bpf/bpf.h"
#include "check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/bpf.h> /* libbpf's: to look at attachments the way bpftool does */

#define PAYLOAD (16u << 20)

static struct {
	char root[64];	   /* acre-bpftest-<pid>: cgroup root name and pin directory name */
	char subtree[256]; /* <v2 mount>/<root> */
	char cg[2][300];   /* the slices a and b */
	uint64_t id[2];
	bool bpffs_was_mounted;
	struct acre_bpf *b;
} T;

static void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	checks_failed++;
	exit(1);
}

/* ---- cgroups and processes ------------------------------------------------- */

static int write_str(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, s, strlen(s)) < 0)
		return -errno;
	return 0;
}

static uint64_t cgroup_id(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Kills whatever runs in our subtree and waits until it is empty. */
static void kill_subtree(void)
{
	char path[400];
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.kill", T.cg[i]);
		write_str(path, "1");
	}
	for (int tries = 0; tries < 200; tries++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		char buf[256] = {0};
		snprintf(path, sizeof(path), "%s/cgroup.events", T.subtree);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0 || strstr(buf, "populated 0"))
			return;
		usleep(10000);
	}
}

/* Runs fn in a child moved into slice `which` first; returns its exit status (0 = ok). */
static int run_in(int which, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char path[400];
		snprintf(path, sizeof(path), "%s/cgroup.procs", T.cg[which]);
		/* Before any socket: a socket belongs to the cgroup it was made in. */
		if (write_str(path, "0") < 0)
			_exit(100);
		_exit(fn(arg));
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- sockets ---------------------------------------------------------------- */

static int listen_on(int family, uint16_t *port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("listening on loopback");
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* 0 if connect() succeeded, else its errno. */
static int try_connect(int family, const char *addr, uint16_t port)
{
	_cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	if (fd < 0)
		return errno;
	return connect(fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
}

static int write_all(int fd, size_t n)
{
	static char buf[1 << 16];
	while (n) {
		ssize_t w = write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
		if (w <= 0)
			return -1;
		n -= (size_t)w;
	}
	return 0;
}

static size_t read_all(int fd)
{
	static char buf[1 << 16];
	size_t total = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)r;
	return total;
}

struct echo_arg {
	uint16_t port;
	size_t n;
};

/* In the slice: send n bytes to the parent, then read its echo of them. */
static int echo_client(void *p)
{
	const struct echo_arg *a = p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(a->port)};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0)
		return 1;
	if (write_all(fd, a->n) < 0 || shutdown(fd, SHUT_WR) < 0)
		return 2;
	return read_all(fd) == a->n ? 0 : 3;
}

/* Slice `which` sends n bytes to us over loopback TCP and gets them back. */
static int echo_from(int which, size_t n)
{
	uint16_t port;
	_cleanup_close_ int lfd = listen_on(AF_INET, &port);
	struct echo_arg a = {.port = port, .n = n};
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char path[400];
		snprintf(path, sizeof(path), "%s/cgroup.procs", T.cg[which]);
		_exit(write_str(path, "0") < 0 ? 100 : echo_client(&a));
	}
	_cleanup_close_ int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	int rc = cfd < 0 || read_all(cfd) != n || write_all(cfd, n) < 0 ? -1 : 0;
	if (cfd >= 0)
		close(TAKE_FD(cfd));
	int status;
	waitpid(pid, &status, 0);
	return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- helpers on the module ------------------------------------------------------ */

static struct acre_bpf_net net_of(int which)
{
	struct acre_bpf_net n = {0};
	int rc = acre_bpf_net_read(T.b, T.id[which], &n);
	if (rc < 0)
		printf("# net_read(%c): %s\n", 'a' + which, strerror(-rc));
	return n;
}

static bool within(uint64_t counted, uint64_t payload)
{
	return counted >= payload && counted <= payload + payload / 20;
}

static int open_module(void)
{
	struct acre_error err = {0};
	int rc = acre_bpf_open(T.root, T.subtree, &T.b, &err);
	if (rc < 0)
		printf("# acre_bpf_open: %s\n", err.message);
	return rc;
}

static void reopen(void)
{
	acre_bpf_close(T.b);
	T.b = NULL;
	if (open_module() < 0)
		die("re-opening the module");
}

static char *pin(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", acre_bpf_pin_dir(T.b), name);
	return path;
}

static uint32_t link_id(const char *name)
{
	_cleanup_close_ int fd = bpf_obj_get(pin(name));
	struct bpf_link_info info = {0};
	__u32 len = sizeof(info);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.id;
}

static bool link_exists(uint32_t id)
{
	int fd = bpf_link_get_fd_by_id(id);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* Programs attached at the subtree itself for one hook: 1 means attached exactly once. */
static unsigned attached(enum bpf_attach_type type)
{
	_cleanup_close_ int fd = open(T.subtree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	__u32 ids[16], cnt = 16;
	if (fd < 0 || bpf_prog_query(fd, type, 0, NULL, ids, &cnt) < 0)
		return 0;
	return cnt;
}

static bool attached_once(void)
{
	return attached(BPF_CGROUP_INET_INGRESS) == 1 && attached(BPF_CGROUP_INET_EGRESS) == 1 &&
	       attached(BPF_CGROUP_INET4_CONNECT) == 1 && attached(BPF_CGROUP_INET6_CONNECT) == 1;
}

static int meta_poke(const char *name, uint32_t layout, uint64_t fingerprint)
{
	_cleanup_close_ int fd = bpf_obj_get(pin(name));
	struct {
		uint32_t layout, reserved;
		uint64_t fingerprint;
	} meta;
	__u32 key = 0;
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, &meta) < 0)
		return -1;
	if (layout != UINT32_MAX)
		meta.layout = layout;
	if (fingerprint)
		meta.fingerprint = fingerprint;
	return bpf_map_update_elem(fd, &key, &meta, BPF_ANY);
}

/* ---- the checks ------------------------------------------------------------------ */

static void test_pure(void)
{
	struct acre_allow a;
	struct acre_error err = {0};
	CHECK(acre_allow_parse("198.18.0.1:5201", &a, &err) == 0 && a.family == AF_INET &&
		      a.prefix_len == 32 && a.port == 5201 && a.addr[0] == 198,
	      "allow_parse 198.18.0.1:5201");
	CHECK(acre_allow_parse("[2001:db8::/32]:443", &a, &err) == 0 && a.family == AF_INET6 &&
		      a.prefix_len == 32 && a.port == 443,
	      "allow_parse [2001:db8::/32]:443");
	CHECK(acre_allow_parse("2001:db8::/32", &a, &err) == 0 && a.port == 0,
	      "allow_parse 2001:db8::/32 (no port)");
	const char *bad[] = {"10.0.0.0/33",  "10.1.2.3/8", "1.2.3.4:0",	 "1.2.3.4:70000",
			     "[1.2.3.4]:80", "nonsense",   "10.0.0.0/8:"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		int rc = acre_allow_parse(bad[i], &a, &err);
		CHECK(rc == -EINVAL, "allow_parse refuses %s (%s)", bad[i], err.message);
	}
	struct acre_bpf_runq r = {0};
	CHECK(acre_bpf_runq_percentile(&r, 99) == 0, "percentile of nothing is 0");
	r.slots[3] = 100; /* 100 waits of [8, 16) us */
	uint64_t p50 = acre_bpf_runq_percentile(&r, 50);
	CHECK(p50 >= 8000 && p50 < 16000, "p50 inside its slot (%llu ns)", (unsigned long long)p50);
}

static void test_net(void)
{
	struct acre_bpf_net a0 = net_of(0), b0 = net_of(1);
	CHECK(echo_from(0, PAYLOAD) == 0, "slice a sends and receives %u bytes over loopback",
	      PAYLOAD);
	struct acre_bpf_net a1 = net_of(0), b1 = net_of(1);
	uint64_t tx = a1.tx_bytes - a0.tx_bytes, rx = a1.rx_bytes - a0.rx_bytes;
	CHECK(within(tx, PAYLOAD), "tx bytes of a: %llu for a payload of %u (at most +5%%)",
	      (unsigned long long)tx, PAYLOAD);
	CHECK(within(rx, PAYLOAD), "rx bytes of a: %llu for a payload of %u (at most +5%%)",
	      (unsigned long long)rx, PAYLOAD);
	CHECK(a1.tx_packets > a0.tx_packets && a1.rx_packets > a0.rx_packets,
	      "packets of a: tx %llu rx %llu", (unsigned long long)(a1.tx_packets - a0.tx_packets),
	      (unsigned long long)(a1.rx_packets - a0.rx_packets));
	CHECK(memcmp(&b0, &b1, sizeof(b0)) == 0, "slice b's counters did not move");
}

static int spin(void *arg)
{
	const struct timespec *until = arg;
	struct timespec now;
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (now.tv_sec < until->tv_sec ||
	       (now.tv_sec == until->tv_sec && now.tv_nsec < until->tv_nsec));
	return 0;
}

/* In slice b: more busy loops than CPUs, for 400 ms, forked from inside b. */
static int starve(void *arg)
{
	(void)arg;
	long n = 2 * sysconf(_SC_NPROCESSORS_ONLN) + 2;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 400 * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	for (long i = 0; i < n; i++)
		if (fork() == 0)
			_exit(spin(&until));
	while (wait(NULL) > 0)
		;
	return 0;
}

static void test_runq(void)
{
	struct acre_bpf_runq a0, b0, a1, b1;
	acre_bpf_runq_read(T.b, T.id[0], &a0);
	acre_bpf_runq_read(T.b, T.id[1], &b0);
	CHECK(run_in(1, starve, NULL) == 0, "slice b ran its busy loops");
	CHECK(acre_bpf_runq_read(T.b, T.id[1], &b1) == 0 && b1.count > b0.count + 10 &&
		      b1.total_ns > b0.total_ns,
	      "run-queue waits of starved slice b: %llu more, %.1f ms in all, p50 %.3f ms, p99 "
	      "%.3f ms",
	      (unsigned long long)(b1.count - b0.count), (double)(b1.total_ns - b0.total_ns) / 1e6,
	      (double)acre_bpf_runq_percentile(&b1, 50) / 1e6,
	      (double)acre_bpf_runq_percentile(&b1, 99) / 1e6);
	acre_bpf_runq_read(T.b, T.id[0], &a1);
	CHECK(a1.count == a0.count, "idle slice a counted no waits");
}

struct conn_case {
	int family;
	const char *addr;
	uint16_t port;
	int expect; /* 0 or an errno */
};

/* What a failed connect_cases run says: which case went wrong. */
static const char *case_note(int rc)
{
	static char buf[32];
	if (rc == 0)
		return "all as expected";
	snprintf(buf, sizeof(buf), rc >= 10 ? "case %d differs" : "child failed: %d",
		 rc >= 10 ? rc - 10 : rc);
	return buf;
}

static int connect_cases(void *p)
{
	const struct conn_case *c = p;
	for (int i = 0; c[i].addr; i++)
		if (try_connect(c[i].family, c[i].addr, c[i].port) != c[i].expect)
			return 10 + i;
	return 0;
}

static void policy(const char *const *rules, size_t n)
{
	struct acre_allow allow[8];
	struct acre_error err = {0};
	for (size_t i = 0; i < n; i++)
		if (acre_allow_parse(rules[i], &allow[i], &err) < 0)
			printf("# %s\n", err.message);
	int rc = acre_bpf_policy_set(T.b, T.id[0], allow, n);
	if (rc < 0)
		printf("# policy_set: %s\n", strerror(-rc));
}

static void test_policy(void)
{
	uint16_t p1, p2, p6;
	_cleanup_close_ int l1 = listen_on(AF_INET, &p1);
	_cleanup_close_ int l2 = listen_on(AF_INET, &p2);
	_cleanup_close_ int l6 = listen_on(AF_INET6, &p6);
	char r1[64], r2[64], r3[64];
	snprintf(r1, sizeof(r1), "127.0.0.1:%u", p1);
	snprintf(r2, sizeof(r2), "127.0.0.0/8:%u", p2);
	snprintf(r3, sizeof(r3), "[::1]:%u", p6);

	policy((const char *[]){r1}, 1);
	struct conn_case only_p1[] = {{AF_INET, "127.0.0.1", p1, 0},
				      {AF_INET, "127.0.0.1", p2, EPERM},
				      {AF_INET6, "::1", p6, EPERM},
				      {AF_INET6, "::ffff:127.0.0.1", p1, 0},
				      {AF_INET6, "::ffff:127.0.0.1", p2, EPERM},
				      {0}};
	int rc = run_in(0, connect_cases, only_p1);
	CHECK(rc == 0, "allow %s: that port connects, the others get EPERM (%s)", r1,
	      case_note(rc));
	struct conn_case free_b[] = {{AF_INET, "127.0.0.1", p2, 0}, {AF_INET6, "::1", p6, 0}, {0}};
	CHECK(run_in(1, connect_cases, free_b) == 0,
	      "slice b, without a policy, connects anywhere");

	policy((const char *[]){r1, r2, r3}, 3);
	struct conn_case nested[] = {{AF_INET, "127.0.0.1", p1, 0},
				     {AF_INET, "127.0.0.1", p2, 0},
				     {AF_INET, "127.0.0.2", p1, EPERM},
				     {AF_INET6, "::1", p6, 0},
				     {0}};
	rc = run_in(0, connect_cases, nested);
	CHECK(rc == 0, "allow %s %s %s: nested prefixes merge their ports (%s)", r1, r2, r3,
	      case_note(rc));

	policy(NULL, 0);
	struct conn_case none[] = {{AF_INET, "127.0.0.1", p1, EPERM}, {0}};
	CHECK(run_in(0, connect_cases, none) == 0, "an empty policy refuses everything");

	acre_bpf_policy_clear(T.b, T.id[0]);
	struct conn_case cleared[] = {{AF_INET, "127.0.0.1", p2, 0}, {0}};
	CHECK(run_in(0, connect_cases, cleared) == 0, "a cleared policy connects anywhere again");
}

static void test_restart(void)
{
	const char *links[] = {"net_ingress_link", "net_egress_link", "runq_switch_link",
			       "connect_v4_link"};
	uint32_t ids[ACRE_ARRAY_SIZE(links)];
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(links); i++)
		ids[i] = link_id(links[i]);
	struct acre_bpf_net before = net_of(0);

	/* Nobody has the module open (the supervisor is down): the pins count on. */
	acre_bpf_close(T.b);
	T.b = NULL;
	CHECK(echo_from(0, PAYLOAD / 4) == 0, "slice a sends while the module is closed");
	/* A restart of the same build: everything is kept as it is. */
	if (open_module() < 0)
		die("re-opening the module");
	CHECK(acre_bpf_slice_add(T.b, T.id[0]) == 0, "re-adding a live slice succeeds");
	struct acre_bpf_net after = net_of(0);
	CHECK(within(after.tx_bytes - before.tx_bytes, PAYLOAD / 4) &&
		      within(after.rx_bytes - before.rx_bytes, PAYLOAD / 4),
	      "what it sent meanwhile was counted: tx %llu rx %llu for %u",
	      (unsigned long long)(after.tx_bytes - before.tx_bytes),
	      (unsigned long long)(after.rx_bytes - before.rx_bytes), PAYLOAD / 4);
	bool same = true;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(links); i++)
		same &= ids[i] && link_id(links[i]) == ids[i];
	CHECK(same, "re-open keeps the very same links");
	CHECK(attached_once(), "every cgroup program is attached exactly once");
	CHECK(echo_from(0, PAYLOAD / 4) == 0, "slice a sends again after the re-open");
	uint64_t tx = net_of(0).tx_bytes - after.tx_bytes;
	CHECK(within(tx, PAYLOAD / 4), "counted once after the re-open: %llu for %u",
	      (unsigned long long)tx, PAYLOAD / 4);

	/* Another build left the pins: cgroup links are updated in place, tracing links replaced.
	 */
	before = net_of(0);
	meta_poke("net_meta", UINT32_MAX, 42);
	meta_poke("runq_meta", UINT32_MAX, 42);
	reopen();
	CHECK(link_id("net_ingress_link") == ids[0],
	      "a stale build's cgroup link is updated in place");
	uint32_t runq_now = link_id("runq_switch_link");
	CHECK(runq_now && runq_now != ids[2] && !link_exists(ids[2]),
	      "a stale build's tracing link is replaced and the old one is gone");
	after = net_of(0);
	CHECK(attached_once() && memcmp(&before, &after, sizeof(before)) == 0,
	      "maps kept and attached once after a build change");

	/* Incompatible layout: the part starts afresh, still attached once. */
	meta_poke("connect_meta", 0, 0);
	reopen();
	CHECK(attached_once() && link_id("connect_v4_link") != ids[3],
	      "an incompatible layout is replaced, attached once");

	/* A link pinned by a run that died half-way through a replacement. */
	_cleanup_close_ int prog = bpf_obj_get(pin("net_ingress"));
	_cleanup_close_ int cg = open(T.subtree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int extra = bpf_link_create(prog, cg, BPF_CGROUP_INET_INGRESS, NULL);
	if (extra < 0 || bpf_obj_pin(extra, pin("net_ingress_link_replacing")) < 0)
		die("pinning a stray link");
	close(extra);
	CHECK(attached(BPF_CGROUP_INET_INGRESS) == 2, "a stray link doubles the ingress program");
	reopen();
	CHECK(attached(BPF_CGROUP_INET_INGRESS) == 1 &&
		      access(pin("net_ingress_link_replacing"), F_OK) < 0,
	      "re-open removes the stray link");
}

/* Sums slice `id`'s per-CPU values in `bpftool -j map dump pinned <net_stats>`. */
static int bpftool_net(uint64_t id, struct acre_bpf_net *out)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "bpftool -j map dump pinned %s", pin("net_stats"));
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	json_error_t jerr;
	json_t *all = json_loadf(f, 0, &jerr);
	pclose(f);
	if (!json_is_array(all)) {
		printf("# bpftool output: %s\n", jerr.text);
		json_decref(all);
		return -1;
	}
	int rc = -1;
	size_t i;
	json_t *e;
	json_array_foreach (all, i, e) {
		json_t *fmt = json_object_get(e, "formatted");
		json_t *entry = fmt ? fmt : e;
		if ((uint64_t)json_integer_value(json_object_get(entry, "key")) != id)
			continue;
		*out = (struct acre_bpf_net){0};
		size_t j;
		json_t *v;
		json_array_foreach (json_object_get(entry, "values"), j, v) {
			json_t *val = json_object_get(v, "value");
			out->rx_bytes += json_integer_value(json_object_get(val, "rx_bytes"));
			out->rx_packets += json_integer_value(json_object_get(val, "rx_packets"));
			out->tx_bytes += json_integer_value(json_object_get(val, "tx_bytes"));
			out->tx_packets += json_integer_value(json_object_get(val, "tx_packets"));
			/* The split by class, by field name as bpftool reads it from BTF. */
			for (size_t c = 0; c < ACRE_BPF_CLASS_COUNT; c++) {
				json_t *k = json_array_get(json_object_get(val, "by_class"), c);
				struct acre_bpf_net_counts *o = &out->by_class[c];
				o->rx_bytes += json_integer_value(json_object_get(k, "rx_bytes"));
				o->rx_packets +=
					json_integer_value(json_object_get(k, "rx_packets"));
				o->tx_bytes += json_integer_value(json_object_get(k, "tx_bytes"));
				o->tx_packets +=
					json_integer_value(json_object_get(k, "tx_packets"));
			}
		}
		rc = 0;
	}
	json_decref(all);
	return rc;
}

/* Entries of the pinned class trie. */
static int class_entries(void)
{
	_cleanup_close_ int fd = bpf_obj_get(pin("net_class"));
	if (fd < 0)
		return -1;
	struct {
		__u32 prefixlen;
		__u8 addr[4];
	} cur, next;
	int n = 0, rc = bpf_map_get_next_key(fd, NULL, &cur);
	while (rc == 0) {
		n++;
		rc = bpf_map_get_next_key(fd, &cur, &next);
		cur = next;
	}
	return n;
}

static void test_net_class(void)
{
	const struct acre_bpf_class_prefix three[] = {
		{0xc6130400, 24, ACRE_BPF_CLASS_NODE}, /* 198.19.4.0/24 */
		{0xc6130000, 17, ACRE_BPF_CLASS_POOL}, /* 198.19.0.0/17 */
		{0xc612000b, 32, ACRE_BPF_CLASS_POOL}, /* 198.18.0.11 */
	};
	CHECK(acre_bpf_net_class_set(T.b, three, 3) == 0 && class_entries() == 3,
	      "the class trie holds the three prefixes set");
	CHECK(acre_bpf_net_class_set(T.b, three + 1, 1) == 0 && class_entries() == 1,
	      "set again with one, the other two are gone");
	const struct acre_bpf_class_prefix bad[] = {{0, 33, ACRE_BPF_CLASS_POOL}};
	const struct acre_bpf_class_prefix bad_class[] = {{0, 8, ACRE_BPF_CLASS_COUNT}};
	CHECK(acre_bpf_net_class_set(T.b, bad, 1) == -EINVAL &&
		      acre_bpf_net_class_set(T.b, bad_class, 1) == -EINVAL && class_entries() == 1,
	      "a prefix over 32 or an unknown class is refused, changing nothing");
	CHECK(acre_bpf_net_class_set(T.b, NULL, 0) == 0 && class_entries() == 0,
	      "set with none, the trie is empty");
}

static void test_bpftool(void)
{
	struct acre_bpf_net ours = net_of(0), theirs;
	int rc = bpftool_net(T.id[0], &theirs);
	CHECK(rc == 0 && memcmp(&ours, &theirs, sizeof(ours)) == 0,
	      "bpftool map dump pinned agrees: tx %llu/%llu rx %llu/%llu",
	      (unsigned long long)ours.tx_bytes, (unsigned long long)theirs.tx_bytes,
	      (unsigned long long)ours.rx_bytes, (unsigned long long)theirs.rx_bytes);
}

static int unprivileged_open(void *arg)
{
	(void)arg;
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 2;
	struct acre_bpf *b = NULL;
	struct acre_error err = {0};
	int rc = acre_bpf_open(T.root, T.subtree, &b, &err);
	printf("# unprivileged acre_bpf_open: %s\n", err.message);
	fflush(stdout);
	return rc < 0 && strstr(err.message, "permission") ? 0 : 1;
}

/* A kernel without BTF, as this process sees it: /sys/kernel/btf hidden in a mount namespace. */
static int btfless_open(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/sys/kernel/btf", "tmpfs", 0, NULL) < 0)
		return 2;
	struct acre_bpf *b = NULL;
	struct acre_error err = {0};
	int rc = acre_bpf_open(T.root, T.subtree, &b, &err);
	printf("# acre_bpf_open without BTF: %s\n", err.message);
	fflush(stdout);
	return rc == -EOPNOTSUPP && strstr(err.message, "BTF") ? 0 : 1;
}

static void test_refusals(void)
{
	CHECK(run_in(1, unprivileged_open, NULL) == 0,
	      "without privilege, open fails and says it is about permission");
	CHECK(run_in(1, btfless_open, NULL) == 0, "without BTF, open fails and says so");
	CHECK(attached_once(), "the refused opens left the attachments alone");
}

/* A supervisor killed -9 right after opening: nothing of it survives but the pins. */
static int open_and_die(void *arg)
{
	(void)arg;
	struct acre_bpf *b = NULL;
	struct acre_error err = {0};
	if (acre_bpf_open(T.root, T.subtree, &b, &err) < 0 || acre_bpf_slice_add(b, T.id[0]) < 0)
		return 1;
	raise(SIGKILL);
	return 1;
}

static void test_killed(void)
{
	struct acre_bpf_net before = net_of(0);
	CHECK(run_in(1, open_and_die, NULL) == 128 + SIGKILL, "a module user killed with -9");
	reopen();
	struct acre_bpf_net after = net_of(0);
	CHECK(attached_once() && memcmp(&before, &after, sizeof(before)) == 0,
	      "after kill -9 and re-open: counters intact, attached once");
	CHECK(echo_from(0, PAYLOAD / 4) == 0 &&
		      within(net_of(0).tx_bytes - after.tx_bytes, PAYLOAD / 4),
	      "and counting once");
}

/* A cgroup root with a dot and a slash: bpffs refuses dots in names. */
static void test_root_names(void)
{
	char root[128], want[256];
	snprintf(root, sizeof(root), "%s-x/y.z", T.root);
	snprintf(want, sizeof(want), "/sys/fs/bpf/acre/%s-x/y%%2ez", T.root);
	struct acre_bpf *b = NULL;
	struct acre_error err = {0};
	int rc = acre_bpf_open(root, T.cg[1], &b, &err);
	CHECK(rc == 0 && strcmp(acre_bpf_pin_dir(b), want) == 0, "cgroup root %s pins in %s", root,
	      b ? acre_bpf_pin_dir(b) : err.message);
	acre_bpf_close(b);
	char parent[256];
	snprintf(parent, sizeof(parent), "/sys/fs/bpf/acre/%s-x", T.root);
	CHECK(acre_bpf_remove_pins(root) == 0 && access(parent, F_OK) < 0,
	      "removing its pins removes its directories too");
	CHECK(acre_bpf_open("../etc", T.subtree, &b, &err) == -EINVAL,
	      "a cgroup root with .. is refused (%s)", err.message);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_thousand(void)
{
	/* Ids no cgroup will have: the top bits of an inode number stay clear. */
	const uint64_t base = 1ULL << 62;
	int rc = 0;
	double t0 = now_ms();
	for (uint64_t i = 0; i < 1000 && rc == 0; i++)
		rc = acre_bpf_slice_add(T.b, base + i);
	double t1 = now_ms();
	struct acre_bpf_net n;
	struct acre_bpf_runq r;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < 1000 && rc == 0; i++) {
		rc = acre_bpf_net_read(T.b, base + i, &n);
		if (rc == 0)
			rc = acre_bpf_runq_read(T.b, base + i, &r);
		sum += n.tx_bytes + r.count;
	}
	double t2 = now_ms();
	for (uint64_t i = 0; i < 1000; i++)
		acre_bpf_slice_remove(T.b, base + i);
	double t3 = now_ms();
	CHECK(rc == 0 && sum == 0 && t2 - t1 < 50,
	      "1,000 slices: read net + runq in %.2f ms (add %.2f ms, remove %.2f ms)", t2 - t1,
	      t1 - t0, t3 - t2);
}

/* ---- set-up and clean-up ---------------------------------------------------------- */

static bool is_bpffs(void)
{
	struct statfs st;
	return statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* Only the kernel's own files (maps.debug, progs.debug) left in /sys/fs/bpf? */
static bool bpffs_empty(void)
{
	DIR *d = opendir("/sys/fs/bpf");
	if (!d)
		return false;
	bool empty = true;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !strchr(de->d_name, '.'))
			empty = false;
	closedir(d);
	return empty;
}

static void cleanup(void)
{
	static bool done;
	if (done || !T.subtree[0])
		return;
	done = true;
	kill_subtree();
	acre_bpf_close(T.b);
	T.b = NULL;
	int rc = acre_bpf_remove_pins(T.root);
	if (rc < 0)
		printf("# removing the pins: %s\n", strerror(-rc));
	for (int i = 0; i < 2; i++)
		rmdir(T.cg[i]);
	if (rmdir(T.subtree) < 0)
		printf("# removing cgroup %s: %s\n", T.subtree, strerror(errno));
	/* Leave the host as we found it: unmount bpffs if we caused the mount and it is empty. */
	if (!T.bpffs_was_mounted && is_bpffs() && bpffs_empty())
		umount("/sys/fs/bpf");
}

static void on_signal(int sig)
{
	printf("FAIL interrupted by signal %d\n", sig);
	exit(1); /* runs cleanup through atexit */
}

static void setup(void)
{
	const char *v2 = v2_mount();
	if (!v2) {
		printf("SKIP no cgroup v2 tree at /sys/fs/cgroup/unified or /sys/fs/cgroup\n");
		exit(77);
	}
	snprintf(T.root, sizeof(T.root), "acre-bpftest-%d", (int)getpid());
	snprintf(T.subtree, sizeof(T.subtree), "%s/%s", v2, T.root);
	T.bpffs_was_mounted = is_bpffs();
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(300);
	if (mkdir(T.subtree, 0755) < 0)
		die("creating the test's cgroup subtree");
	for (int i = 0; i < 2; i++) {
		snprintf(T.cg[i], sizeof(T.cg[i]), "%s/%c", T.subtree, 'a' + i);
		if (mkdir(T.cg[i], 0755) < 0)
			die("creating a slice cgroup");
		T.id[i] = cgroup_id(T.cg[i]);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("ACRE_BPF_TEST_DEBUG"))
		acre_log_set_level(ACRE_LOG_DEBUG);
	test_pure();
	if (geteuid() != 0) {
		printf("SKIP the kernel checks need root\n");
		printf("%d passed, %d failed\n", checks_passed, checks_failed);
		return checks_failed ? 1 : 77;
	}
	setup();
	if (open_module() < 0)
		die("opening the module");
	printf("# pins in %s\n", acre_bpf_pin_dir(T.b));
	CHECK(attached_once(), "every cgroup program is attached exactly once");
	CHECK(acre_bpf_slice_add(T.b, T.id[0]) == 0 && acre_bpf_slice_add(T.b, T.id[1]) == 0,
	      "slices a and b added");
	test_net();
	test_runq();
	test_policy();
	test_restart();
	test_killed();
	test_bpftool();
	test_net_class();
	test_refusals();
	test_root_names();
	test_thousand();
	CHECK(acre_bpf_slice_remove(T.b, T.id[1]) == 0 &&
		      acre_bpf_net_read(T.b, T.id[1], &(struct acre_bpf_net){0}) == -ENOENT,
	      "a removed slice is no longer counted");
	cleanup();
	struct stat st;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/acre/%s", T.root);
	CHECK(stat(dir, &st) < 0 && stat(T.subtree, &st) < 0, "pins and cgroups are gone");
	printf("%d passed, %d failed\n", checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}
