/*
 * bpf_isolate_test: acre_bpf_isolate against the real kernel, as root
 * (`make bpf-isolate-test`).  On a bridge with three slices a, b, c made as
 * netns/ makes them (slices.c: iproute2, addresses from 198.18.0.0/15 only)
 * it isolates b with the module and checks what the slices see: b and the
 * gateway reach each other (ICMP echo, TCP); b reaches neither a nor c and
 * they do not reach b, over IPv4, IPv6 link-local, broadcasts, frames sent
 * to a MAC with an address outside the subnet, and frames forging the
 * bridge's MAC; a and c still reach each other these ways.  Also: that port
 * isolation alone does not do it, the cost of isolating a fresh veth,
 * idempotence, isolation kept while the module is closed, after kill -9 and
 * re-open, and across a build change, forgetting a device, entries of
 * deleted veths swept, and the refusals.  Everything it made (namespaces,
 * links, pins, its cgroup) goes at exit, on failure and on
 * SIGINT/SIGTERM/SIGALRM.  Prints one PASS/FAIL line per check and
 * "N passed, N failed".
 */
#include "bpf/bpf.h"
#include "check.h"

#include <linux/types.h>
#include "bpf/layout.h"

#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/bpf.h> /* libbpf's */
#include <bpf/libbpf.h>

#include "slices.h"

#define YES_MS	 2000
#define NO_MS	 SLICES_SILENCE_MS
#define NEXTRA	 20 /* fresh veths isolated to time the attach */
#define HANDLE	 0xac1
#define PRIORITY 1

static struct {
	char root[64], subtree[256];
	bool bpffs_was_mounted, made_cgroup;
	struct acre_bpf *b;
	char extra[NEXTRA][16];
	int extra_ifindex[NEXTRA];
} T;

static const char *const NAME = "abc";

/* ---- the module ------------------------------------------------------------------------ */

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

static int isolate(int ifindex)
{
	struct acre_error err = {0};
	int rc = acre_bpf_isolate(T.b, ifindex, S.gw, S.net, 24, &err);
	if (rc < 0)
		printf("# acre_bpf_isolate: %s\n", err.message);
	return rc;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *pin(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", acre_bpf_pin_dir(T.b), name);
	return path;
}

static uint32_t pinned_prog_id(const char *name)
{
	_cleanup_close_ int fd = bpf_obj_get(pin(name));
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);
	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* The program our filter on the device's hook runs; 0 if there is none. */
static uint32_t filter_prog(int ifindex, enum bpf_tc_attach_point point)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	memset(&hook, 0, sizeof(hook)); /* LIBBPF_OPTS, which cppcheck cannot expand */
	memset(&opts, 0, sizeof(opts));
	hook.sz = sizeof(hook);
	hook.ifindex = ifindex;
	hook.attach_point = point;
	opts.sz = sizeof(opts);
	opts.handle = HANDLE;
	opts.priority = PRIORITY;
	return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
}

/* How many bpf filters `tc filter show` lists on a hook of dev. */
static int filters(const char *dev, const char *hook)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s | grep -c direct-action", dev, hook);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static bool has_entry(int ifindex)
{
	_cleanup_close_ int fd = bpf_obj_get(pin("isolate_devs"));
	struct acre_bpf_isolate_value v;
	__u32 key = (__u32)ifindex;
	return fd >= 0 && bpf_map_lookup_elem(fd, &key, &v) == 0;
}

static void meta_poke_fingerprint(void)
{
	_cleanup_close_ int fd = bpf_obj_get(pin("isolate_meta"));
	struct acre_bpf_meta meta;
	__u32 key = 0;
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, &meta) < 0)
		die("reading isolate_meta");
	meta.fingerprint = 42;
	if (bpf_map_update_elem(fd, &key, &meta, BPF_ANY) < 0)
		die("writing isolate_meta");
}

/* ---- the checks --------------------------------------------------------------------------- */

/* The short form, after each restart: b and the gateway yes, b and a no, a and c yes. */
static void check_still(const char *when)
{
	CHECK(tcp_reaches(B, S.gw_s, YES_MS) && tcp_reaches(HOST, S.addr[B], YES_MS),
	      "%s: b and the gateway connect both ways", when);
	CHECK(!tcp_reaches(B, S.addr[A], NO_MS) && !tcp_reaches(A, S.addr[B], NO_MS),
	      "%s: b and a do not connect either way", when);
	CHECK(tcp_reaches(A, S.addr[C], YES_MS), "%s: a still connects to c", when);
}

static void test_before(void)
{
	CHECK(tcp_reaches(B, S.addr[A], YES_MS) && tcp_reaches(A, S.addr[B], YES_MS),
	      "before acre_bpf_isolate, port isolation alone: b and non-isolated a connect");
}

static void test_attach(void)
{
	double t0 = now_ms();
	int rc = isolate(S.host_ifindex[B]);
	double t1 = now_ms();
	CHECK(rc == 0, "b isolated (first attach, clsact included: %.3f ms)", t1 - t0);
	for (int i = 0; i < 5; i++)
		rc |= isolate(S.host_ifindex[B]);
	CHECK(rc == 0 && filters(S.host_if[B], "ingress") == 1 &&
		      filters(S.host_if[B], "egress") == 1,
	      "isolating b 5 times more: still one filter per direction");
	uint32_t in = filter_prog(S.host_ifindex[B], BPF_TC_INGRESS);
	uint32_t out = filter_prog(S.host_ifindex[B], BPF_TC_EGRESS);
	CHECK(in && in == pinned_prog_id("isolate_ingress") && out &&
		      out == pinned_prog_id("isolate_egress"),
	      "the filters run the pinned programs (ids %u, %u)", in, out);
	CHECK(filter_prog(S.host_ifindex[A], BPF_TC_INGRESS) == 0, "a has no filter");
}

static void test_ipv4(void)
{
	CHECK(ping_reaches(B, S.gw_s, YES_MS) && tcp_reaches(B, S.gw_s, YES_MS),
	      "b reaches the gateway: ping, TCP");
	CHECK(ping_reaches(HOST, S.addr[B], YES_MS) && tcp_reaches(HOST, S.addr[B], YES_MS),
	      "the gateway reaches b: ping, TCP");
	for (int n = A; n <= C; n += 2) {
		CHECK(!ping_reaches(B, S.addr[n], NO_MS) && !tcp_reaches(B, S.addr[n], NO_MS),
		      "b does not reach %c: no ping, no TCP", NAME[n]);
		CHECK(!ping_reaches(n, S.addr[B], NO_MS) && !tcp_reaches(n, S.addr[B], NO_MS),
		      "%c does not reach b: no ping, no TCP", NAME[n]);
	}
	CHECK(ping_reaches(A, S.addr[C], YES_MS) && tcp_reaches(A, S.addr[C], YES_MS) &&
		      ping_reaches(C, S.addr[A], YES_MS) && tcp_reaches(C, S.addr[A], YES_MS),
	      "a and c still reach each other: ping, TCP, both ways");
}

static void test_ipv6(void)
{
	CHECK(!tcp_reaches(A, S.ll6[B], NO_MS) && !tcp_reaches(B, S.ll6[A], NO_MS),
	      "no TCP over IPv6 link-local between a and b (%s, %s)", S.ll6[A], S.ll6[B]);
	CHECK(tcp_reaches(A, S.ll6[C], YES_MS), "a reaches c over IPv6 link-local (%s)", S.ll6[C]);
}

static void test_broadcast(void)
{
	char subnet_bcast[16];
	snprintf(subnet_bcast, sizeof(subnet_bcast), "%.*s255",
		 (int)(strrchr(S.gw_s, '.') - S.gw_s + 1), S.gw_s);
	unsigned h = udp_heard(B, "255.255.255.255");
	CHECK(h == 0, "b's UDP to 255.255.255.255 reaches no slice (heard by mask %#x)", h);
	h = udp_heard(B, subnet_bcast);
	CHECK(h == 0, "b's UDP to %s reaches no slice (heard by mask %#x)", subnet_bcast, h);
	h = udp_heard(A, "255.255.255.255");
	CHECK(h == 1u << C, "a's UDP to 255.255.255.255 reaches c but not b (heard by mask %#x)",
	      h);
}

static void test_link_layer(void)
{
	CHECK(beyond_reaches(A, C), "control: a reaches %s on c's lo through c's MAC",
	      S.outside[C]);
	CHECK(!beyond_reaches(B, C), "b does not reach %s on c's lo through c's MAC", S.outside[C]);
	CHECK(!beyond_reaches(A, B), "a does not reach %s on b's lo through b's MAC", S.outside[B]);
	unsigned h = forged_heard(A, C);
	CHECK(h == 1u << C, "control: a frame from a forging the bridge's MAC reaches c (%#x)", h);
	h = forged_heard(A, B);
	CHECK(h == 0, "a frame from a forging the bridge's MAC does not reach b (%#x)", h);
}

/* The module closed (no supervisor), killed with -9, re-opened, and a new build. */
static void test_restart(void)
{
	uint32_t in = filter_prog(S.host_ifindex[B], BPF_TC_INGRESS);
	acre_bpf_close(T.b);
	T.b = NULL;
	check_still("module closed");
	pid_t pid = fork();
	if (pid == 0) {
		if (open_module() < 0 || isolate(S.host_ifindex[B]) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "a module user isolating b again, killed with -9");
	check_still("after kill -9");
	if (open_module() < 0)
		die("re-opening the module");
	CHECK(filter_prog(S.host_ifindex[B], BPF_TC_INGRESS) == in &&
		      pinned_prog_id("isolate_ingress") == in,
	      "re-open of the same build keeps program %u and b's filters", in);
	check_still("re-opened");

	meta_poke_fingerprint();
	reopen();
	uint32_t now = pinned_prog_id("isolate_ingress");
	CHECK(now && now != in && filter_prog(S.host_ifindex[B], BPF_TC_INGRESS) == now &&
		      filter_prog(S.host_ifindex[B], BPF_TC_EGRESS) ==
			      pinned_prog_id("isolate_egress") &&
		      filters(S.host_if[B], "ingress") == 1,
	      "after a build change b's filters run the new programs (%u -> %u), one each", in,
	      now);
	check_still("new build");
}

static void test_remove(void)
{
	CHECK(acre_bpf_isolate_remove(T.b, S.host_ifindex[B]) == 0 &&
		      !has_entry(S.host_ifindex[B]) &&
		      acre_bpf_isolate_remove(T.b, S.host_ifindex[B]) == 0,
	      "b forgotten (twice is fine)");
	CHECK(tcp_reaches(B, S.addr[A], YES_MS),
	      "a forgotten device's filters pass everything: b connects to a");
	CHECK(isolate(S.host_ifindex[B]) == 0 && !tcp_reaches(B, S.addr[A], NO_MS),
	      "isolated again, b does not connect to a");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Fresh veths on the bridge, as a launch makes them: the attach cost, then the sweep. */
static void test_cost_and_sweep(void)
{
	FILE *f = popen("ip -batch -", "w");
	for (int i = 0; f && i < NEXTRA; i++) {
		snprintf(T.extra[i], sizeof(T.extra[i]), "%sx%d", S.br, i);
		fprintf(f, "link add %s type veth peer name %sy%d\n", T.extra[i], S.br, i);
		fprintf(f, "link set %s master %s up\n", T.extra[i], S.br);
	}
	if (!f || pclose(f) != 0)
		die("adding veths");
	double ms[NEXTRA], warm[NEXTRA];
	int rc = 0;
	for (int i = 0; i < NEXTRA; i++) {
		T.extra_ifindex[i] = (int)if_nametoindex(T.extra[i]);
		double t0 = now_ms();
		rc |= isolate(T.extra_ifindex[i]);
		double t1 = now_ms();
		rc |= isolate(T.extra_ifindex[i]);
		ms[i] = t1 - t0;
		warm[i] = now_ms() - t1;
	}
	bool filtered = true;
	for (int i = 0; i < NEXTRA; i++)
		filtered &= filter_prog(T.extra_ifindex[i], BPF_TC_INGRESS) != 0 &&
			    filter_prog(T.extra_ifindex[i], BPF_TC_EGRESS) != 0;
	qsort(ms, NEXTRA, sizeof(ms[0]), cmp_double);
	qsort(warm, NEXTRA, sizeof(warm[0]), cmp_double);
	CHECK(rc == 0 && filtered && ms[NEXTRA / 2] < 1.0,
	      "isolating a fresh veth (clsact, 2 filters): median %.3f ms, max %.3f ms over %d "
	      "(again: median %.3f "
	      "ms)",
	      ms[NEXTRA / 2], ms[NEXTRA - 1], NEXTRA, warm[NEXTRA / 2]);

	f = popen("ip -batch -", "w");
	for (int i = 0; f && i < NEXTRA; i++)
		fprintf(f, "link del %s\n", T.extra[i]);
	if (!f || pclose(f) != 0)
		die("deleting veths");
	bool left = false;
	for (int i = 0; i < NEXTRA; i++)
		left |= has_entry(T.extra_ifindex[i]);
	CHECK(left, "deleted without acre_bpf_isolate_remove, their entries are left");
	reopen();
	left = false;
	for (int i = 0; i < NEXTRA; i++)
		left |= has_entry(T.extra_ifindex[i]);
	CHECK(!left && has_entry(S.host_ifindex[B]),
	      "re-open swept the %d deleted veths' entries, and kept b's", NEXTRA);
	check_still("after the sweep");
}

static void test_refusals(void)
{
	struct acre_error err = {0};
	int rc = acre_bpf_isolate(T.b, 1, S.gw, S.net, 24, &err);
	CHECK(rc == -EINVAL, "lo is refused: %s", err.message);
	rc = acre_bpf_isolate(T.b, S.host_ifindex[A], S.gw, S.net, 33, &err);
	CHECK(rc == -EINVAL && !has_entry(S.host_ifindex[A]), "a /33 is refused: %s", err.message);
	rc = acre_bpf_isolate(T.b, S.host_ifindex[A], S.gw, S.net, 16, &err);
	CHECK(rc == -EINVAL, "a network with host bits set is refused: %s", err.message);
	rc = acre_bpf_isolate(T.b, 0x7ffffff0, S.gw, S.net, 24, &err);
	CHECK(rc == -ENODEV, "a missing device is refused: %s", err.message);
	rc = acre_bpf_isolate(T.b, 0, S.gw, S.net, 24, &err);
	CHECK(rc == -EINVAL, "device index 0 is refused: %s", err.message);
	CHECK(filter_prog(S.host_ifindex[A], BPF_TC_INGRESS) == 0, "and a is still not filtered");
}

/* ---- set-up and clean-up ----------------------------------------------------------- */

static bool is_bpffs(void)
{
	struct statfs st;
	return statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static void cleanup(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	slices_remove(); /* back in the host's namespace first */
	for (int i = 0; i < NEXTRA && T.extra[i][0]; i++)
		sh_quiet("ip link del %s", T.extra[i]);
	acre_bpf_close(T.b);
	T.b = NULL;
	if (T.root[0])
		acre_bpf_remove_pins(T.root);
	if (T.made_cgroup && rmdir(T.subtree) < 0)
		printf("# removing cgroup %s: %s\n", T.subtree, strerror(errno));
	if (!T.bpffs_was_mounted && is_bpffs())
		umount("/sys/fs/bpf"); /* fails, as it should, if anybody else pinned there
					  meanwhile */
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
	srandom((unsigned)getpid());
	snprintf(T.root, sizeof(T.root), "acre-isotest-%d", (int)getpid());
	snprintf(T.subtree, sizeof(T.subtree), "%s/%s", v2, T.root);
	T.bpffs_was_mounted = is_bpffs();
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(300);
	if (mkdir(T.subtree, 0755) < 0)
		die("creating the test's cgroup subtree");
	T.made_cgroup = true;
	slices_make();
	printf("# bridge %s %s, gateway %s; a %s, b %s (isolated), c %s\n", S.br, mac_str(S.br_mac),
	       S.gw_s, S.addr[A], S.addr[B], S.addr[C]);
}

/* Nothing it made is left: links, namespaces, pins, cgroup. */
static void check_gone(void)
{
	bool left = !slices_gone();
	for (int i = 0; i < NEXTRA; i++)
		left |= if_nametoindex(T.extra[i]) != 0;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/acre/%s", T.root);
	left |= access(dir, F_OK) == 0 || access(T.subtree, F_OK) == 0;
	CHECK(!left, "bridge, veths, namespaces, pins and cgroup are gone");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("ACRE_BPF_TEST_DEBUG"))
		acre_log_set_level(ACRE_LOG_DEBUG);
	if (geteuid() != 0) {
		printf("SKIP the isolation checks need root\n");
		return 77;
	}
	setup();
	if (open_module() < 0)
		die("opening the module");
	test_before();
	test_attach();
	test_ipv4();
	test_ipv6();
	test_broadcast();
	test_link_layer();
	test_restart();
	test_remove();
	test_cost_and_sweep();
	test_refusals();
	cleanup();
	check_gone();
	printf("%d passed, %d failed\n", checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}
