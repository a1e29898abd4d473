/*
 * bpf_vip_test: the VIP verbs of bpf/ against the real kernel, as root (`make bpf-vip-test`).
 * In a cgroup of its own (acre-bpftest-vip-<pid>, the module's subtree and the VIP programs'
 * cgroup both) it checks the table: a set lands in the half no element points at and the
 * element then points at it, the same set again writes nothing, deleted services' slot ranges
 * are not given out again at once, the bounds (members, services) and the refusals; the
 * programs: attached once, kept across a close and re-open of the module (as after kill -9),
 * detached with their pins; and what a process in the cgroup gets: connect(2) to the VIP
 * reaches a listener of the member's address on loopback, a VIP with no member is refused
 * with ECONNREFUSED, and an address that is no VIP is left alone.  Everything it made (its
 * cgroup, pins, processes) goes at exit.  Prints one PASS/FAIL line per check and
 * "N passed, N failed".
 */
#include "bpf/bpf.h"
#include "check.h"

#include <linux/types.h>
#include "bpf/layout.h"

#include <arpa/inet.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h> /* libbpf's */

static struct {
	char root[64], cgroup[PATH_MAX];
	struct acre_bpf *b;
	int listener[3];
	uint16_t port[3];
} T;

static void die(const char *what)
{
	printf("FAIL %s\n", what);
	exit(1);
}

static int open_module(void)
{
	struct acre_error err = {0};
	int rc = acre_bpf_open(T.root, T.cgroup, &T.b, &err);
	if (rc < 0)
		printf("# acre_bpf_open: %s\n", err.message);
	return rc;
}

static struct acre_bpf_vip vip_of(const char *addr, uint16_t port, uint8_t proto)
{
	return (struct acre_bpf_vip){.addr = inet_addr(addr), .port = htons(port), .proto = proto};
}

/* The connect_vips element of vip, read from its pin as the programs see it. */
static bool element(const struct acre_bpf_vip *vip, struct acre_bpf_vip_value *out)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/connect_vips", acre_bpf_pin_dir(T.b));
	_cleanup_close_ int fd = bpf_obj_get(path);
	struct acre_bpf_vip_key k = {.addr = vip->addr, .port = vip->port, .proto = vip->proto};
	return fd >= 0 && bpf_map_lookup_elem(fd, &k, out) == 0;
}

static int count_pins(const char *prefix)
{
	int n = 0;
	_cleanup_dir_ DIR *d = opendir(acre_bpf_pin_dir(T.b));
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	return n;
}

/* Programs attached at our cgroup, of the VIP kind (cgroup/connect4 ... recvmsg6). */
static int attached(void)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "bpftool cgroup show %s | grep -c ' vip_'", T.cgroup);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

/* ---- the table ------------------------------------------------------------------------ */

struct found {
	struct acre_bpf_vip want;
	size_t n;
	struct acre_bpf_vip_member members[ACRE_BPF_VIP_MEMBERS_MAX];
};

static void find_cb(const struct acre_bpf_vip *vip, const struct acre_bpf_vip_member *m, size_t n,
		    void *ud)
{
	struct found *f = ud;
	if (vip->addr == f->want.addr && vip->port == f->want.port && vip->proto == f->want.proto) {
		f->n = n;
		memcpy(f->members, m, n * sizeof(*m));
	}
}

static void test_table(void)
{
	struct acre_bpf_vip v = vip_of("198.19.128.1", 80, IPPROTO_TCP);
	struct acre_bpf_vip_member m[3];
	for (int i = 0; i < 3; i++)
		m[i] = (struct acre_bpf_vip_member){.addr = inet_addr("127.0.0.1"),
						    .port = htons(T.port[i])};
	CHECK(acre_bpf_vip_set(T.b, &v, m, 3) == 0, "a VIP with three members is set");
	struct acre_bpf_vip_value a, b;
	CHECK(element(&v, &a) && a.count == 3 && a.base % (2 * ACRE_BPF_VIP_MAX_BACKENDS) == 0,
	      "its element: 3 members in the first half of its range (base %u)", a.base);
	CHECK(acre_bpf_vip_set(T.b, &v, m, 3) == 1 && element(&v, &b) && b.base == a.base &&
		      b.version == a.version,
	      "the same set again writes nothing");
	CHECK(acre_bpf_vip_set(T.b, &v, m, 2) == 0 && element(&v, &b) &&
		      b.base == a.base + ACRE_BPF_VIP_MAX_BACKENDS && b.count == 2 &&
		      b.version == a.version + 1 && b.index == a.index,
	      "a change goes to the other half, then the element points there (base %u)", b.base);
	CHECK(acre_bpf_vip_set(T.b, &v, m, 3) == 0 && element(&v, &b) && b.base == a.base,
	      "and the next one back to the first");
	struct found fd = {.want = v};
	bool same = acre_bpf_vip_foreach(T.b, find_cb, &fd) == 0 && fd.n == 3;
	for (int i = 0; same && i < 3; i++)
		same = fd.members[i].addr == m[i].addr && fd.members[i].port == m[i].port;
	CHECK(same, "foreach reads the members back");

	/* A freed range is not given to the next VIP at once. */
	struct acre_bpf_vip w = vip_of("198.19.128.2", 80, IPPROTO_TCP);
	CHECK(acre_bpf_vip_set(T.b, &w, m, 1) == 0 && element(&w, &b) && b.index != a.index,
	      "another VIP gets another range");
	uint32_t freed = b.index;
	CHECK(acre_bpf_vip_delete(T.b, &w) == 0 && !element(&w, &b), "a VIP is deleted");
	CHECK(acre_bpf_vip_delete(T.b, &w) == 0, "deleting it again is no error");
	struct acre_bpf_vip x = vip_of("198.19.128.3", 53, IPPROTO_UDP);
	CHECK(acre_bpf_vip_set(T.b, &x, m, 1) == 0 && element(&x, &b) && b.index != freed,
	      "the range it freed is held back (index %u, freed %u)", b.index, freed);
	CHECK(acre_bpf_vip_set(T.b, &x, NULL, 0) == 0 && element(&x, &b) && b.count == 0,
	      "a VIP can have no member");

	struct acre_bpf_vip_member many[ACRE_BPF_VIP_MEMBERS_MAX + 1];
	for (int i = 0; i <= ACRE_BPF_VIP_MEMBERS_MAX; i++)
		many[i] = (struct acre_bpf_vip_member){.addr = inet_addr("198.19.4.7"),
						       .port = htons((uint16_t)(1000 + i))};
	CHECK(acre_bpf_vip_set(T.b, &v, many, ACRE_BPF_VIP_MEMBERS_MAX + 1) == -E2BIG &&
		      element(&v, &b) && b.count == 3,
	      "one member too many: -E2BIG, the set unchanged");
	CHECK(acre_bpf_vip_set(T.b, &w, many, ACRE_BPF_VIP_MEMBERS_MAX) == 0, "%d members fit",
	      ACRE_BPF_VIP_MEMBERS_MAX);
	acre_bpf_vip_delete(T.b, &w);
	struct acre_bpf_vip bad = vip_of("198.19.128.9", 80, IPPROTO_ICMP);
	CHECK(acre_bpf_vip_set(T.b, &bad, m, 1) == -EINVAL, "a protocol but TCP or UDP: -EINVAL");
	bad = vip_of("198.19.128.9", 0, IPPROTO_TCP);
	CHECK(acre_bpf_vip_set(T.b, &bad, m, 1) == -EINVAL, "port 0: -EINVAL");
	struct acre_bpf_vip_member zero = {0};
	bad = vip_of("198.19.128.9", 80, IPPROTO_TCP);
	CHECK(acre_bpf_vip_set(T.b, &bad, &zero, 1) == -EINVAL, "a member at 0.0.0.0:0: -EINVAL");

	/* The table holds ACRE_BPF_VIP_SERVICES_MAX entries, then says so. */
	int rc = 0, made = 0;
	for (int i = 0; rc == 0 && i < ACRE_BPF_VIP_SERVICES_MAX; i++) {
		struct acre_bpf_vip f = vip_of("198.19.129.0", (uint16_t)(1000 + i), IPPROTO_TCP);
		rc = acre_bpf_vip_set(T.b, &f, m, 1);
		made += rc == 0;
	}
	CHECK(rc == -ENOSPC && made == ACRE_BPF_VIP_SERVICES_MAX - 2,
	      "a full table: -ENOSPC after %d more (rc %d)", made, rc);
	for (int i = 0; i < made; i++) {
		struct acre_bpf_vip f = vip_of("198.19.129.0", (uint16_t)(1000 + i), IPPROTO_TCP);
		acre_bpf_vip_delete(T.b, &f);
	}
}

/* ---- the programs ---------------------------------------------------------------------- */

/* connect(2) to addr:port from a child in our cgroup: the listener's index, or -errno. */
static int connect_from_cgroup(const char *addr, uint16_t port)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		char procs[PATH_MAX + 16];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", T.cgroup);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		int rc = fd >= 0 && dprintf(fd, "%d\n", getpid()) > 0 ? 0 : -errno;
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons(port),
					.sin_addr.s_addr = inet_addr(addr)};
		if (rc == 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			rc = -errno;
		struct sockaddr_in local;
		socklen_t len = sizeof(local);
		if (rc == 0 && getsockname(s, (struct sockaddr *)&local, &len) < 0)
			rc = -errno;
		/* The listener that accepts it knows it by our local port. */
		int out = rc == 0 ? ntohs(local.sin_port) : rc;
		_exit(write(pfd[1], &out, sizeof(out)) == sizeof(out) ? 0 : 1);
	}
	close(pfd[1]);
	int got = -EIO;
	if (read(pfd[0], &got, sizeof(got)) != sizeof(got))
		got = -EIO;
	close(pfd[0]);
	if (got > 0) {
		/* Which of our listeners has a connection from that port? */
		int which = -ENOENT;
		for (int i = 0; i < 3 && which < 0; i++) {
			struct sockaddr_in peer;
			socklen_t len = sizeof(peer);
			int c = accept4(T.listener[i], (struct sockaddr *)&peer, &len,
					SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (c >= 0) {
				if (ntohs(peer.sin_port) == got)
					which = i;
				close(c);
			}
		}
		got = which;
	}
	waitpid(pid, NULL, 0);
	return got;
}

static void test_programs(void)
{
	struct acre_error err = {0};
	CHECK(acre_bpf_vip_attach(T.b, T.cgroup, &err) == 0 && attached() == 8,
	      "the eight programs attached at the cgroup (%s)", err.message);
	CHECK(acre_bpf_vip_attach(T.b, T.cgroup, &err) == 0 && attached() == 8,
	      "attaching again changes nothing");
	struct acre_bpf_vip v = vip_of("198.19.128.1", 80, IPPROTO_TCP);
	struct acre_bpf_vip_member one = {.addr = inet_addr("127.0.0.1"), .port = htons(T.port[1])};
	acre_bpf_vip_set(T.b, &v, &one, 1);
	int r = connect_from_cgroup("198.19.128.1", 80);
	CHECK(r == 1, "connect to the VIP reaches its member (listener %d)", r);
	r = connect_from_cgroup("127.0.0.1", T.port[2]);
	CHECK(r == 2, "an address that is no VIP is left alone (listener %d)", r);
	struct acre_bpf_vip e = vip_of("198.19.128.3", 80, IPPROTO_TCP);
	acre_bpf_vip_set(T.b, &e, NULL, 0);
	r = connect_from_cgroup("198.19.128.3", 80);
	CHECK(r == -ECONNREFUSED, "a VIP with no member: ECONNREFUSED (%s)", strerror(-r));

	/* As after kill -9: the pins keep everything; a new opener takes the programs back. */
	acre_bpf_close(T.b);
	T.b = NULL;
	CHECK(attached() == 8, "closed, the programs stay attached");
	if (open_module() < 0)
		die("re-opening the module");
	CHECK(acre_bpf_vip_pinned(T.b), "the new opener sees them pinned");
	CHECK(acre_bpf_vip_attach(T.b, T.cgroup, &err) == 0 && attached() == 8,
	      "and takes them back, attached once");
	r = connect_from_cgroup("198.19.128.1", 80);
	CHECK(r == 1, "the table kept: the VIP reaches its member (listener %d)", r);

	CHECK(acre_bpf_vip_detach(T.b) == 0 && attached() == 0 && count_pins("vip_") == 0,
	      "detached: no program at the cgroup, no vip_ pin");
	CHECK(count_pins("connect_vips") == 1, "the table stays with the connect part");
	r = connect_from_cgroup("127.0.0.1", T.port[0]);
	CHECK(r == 0, "connections go on (listener %d)", r);
}

/* ---- set-up ---------------------------------------------------------------------------- */

static void setup(void)
{
	const char *v2 = v2_mount();
	if (!v2)
		die("no cgroup v2 tree");
	snprintf(T.root, sizeof(T.root), "acre-bpftest-vip-%d", (int)getpid());
	snprintf(T.cgroup, sizeof(T.cgroup), "%s/%s", v2, T.root);
	if (mkdir(T.cgroup, 0755) < 0)
		die("creating the test's cgroup");
	for (int i = 0; i < 3; i++) {
		/* Non-blocking: connect_from_cgroup asks each whether it has the connection. */
		T.listener[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = inet_addr("127.0.0.1")};
		socklen_t len = sizeof(a);
		if (T.listener[i] < 0 ||
		    bind(T.listener[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(T.listener[i], 16) < 0 ||
		    getsockname(T.listener[i], (struct sockaddr *)&a, &len) < 0)
			die("a listener on loopback");
		T.port[i] = ntohs(a.sin_port);
	}
}

static void cleanup(void)
{
	if (T.b) {
		acre_bpf_vip_detach(T.b);
		acre_bpf_close(T.b);
	}
	acre_bpf_remove_pins(T.root);
	rmdir(T.cgroup);
}

static void on_signal(int sig)
{
	(void)sig;
	printf("FAIL interrupted (or over the time limit)\n");
	exit(1); /* atexit's cleanup runs */
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("ACRE_BPF_TEST_DEBUG"))
		acre_log_set_level(ACRE_LOG_DEBUG);
	if (geteuid() != 0) {
		printf("SKIP the VIP checks need root\n");
		return 77;
	}
	setup();
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(60);
	if (open_module() < 0)
		die("opening the module");
	test_table();
	test_programs();
	cleanup();
	T.b = NULL;
	struct stat st;
	CHECK(stat(T.cgroup, &st) < 0, "the test's cgroup is gone");
	printf("%d passed, %d failed\n", checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}
