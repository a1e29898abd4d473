/*
 * netns/'s pure pieces: CIDR parsing, formatting and overlap; the checks
 * made before anything is created (subnet, rate, bridge name, veth names);
 * and the IPAM: lowest-free allocation, exhaustion, release and reuse,
 * persistence through a state directory, and what a crash can leave behind.
 * Each IPAM test works in its own mkdtemp directory, removed in teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "netns/netns.h"
#include "tmpdir.h"

#define NET15 0xc6120000u /* 198.18.0.0 */

/* ---- CIDR ----------------------------------------------------------------- */

static struct acre_cidr cidr(const char *s)
{
	struct acre_cidr c = {0};
	struct acre_error err = {0};
	int r = acre_cidr_parse(s, &c, &err, "--slice-cidr");
	if (r < 0)
		fail_msg("parsing %s: %s", s, err.message);
	return c;
}

static void test_cidr_parse_good(void **state)
{
	(void)state;
	struct acre_cidr c = cidr("198.18.0.0/15");
	assert_int_equal(c.network, NET15);
	assert_int_equal(c.prefix, 15);
	c = cidr("0.0.0.0/0");
	assert_int_equal(c.network, 0);
	assert_int_equal(c.prefix, 0);
	c = cidr("10.88.0.0/16");
	assert_int_equal(c.network, 0x0a580000u);
	c = cidr("192.168.1.128/25");
	assert_int_equal(c.network, 0xc0a80180u);
	assert_int_equal(c.prefix, 25);
	c = cidr("255.255.255.255/32");
	assert_int_equal(c.network, 0xffffffffu);
	assert_int_equal(c.prefix, 32);

	char buf[ACRE_CIDR_STRLEN];
	const char *round[] = {"198.18.0.0/15", "0.0.0.0/0", "10.0.0.0/8", "255.255.255.255/32",
			       "192.168.1.128/25"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(round); i++) {
		c = cidr(round[i]);
		acre_cidr_format(&c, buf, sizeof(buf));
		assert_string_equal(buf, round[i]);
	}
	uint32_t a;
	assert_int_equal(acre_cidr_addr_parse("198.18.0.1", &a), 0);
	assert_int_equal(a, NET15 + 1);
	acre_cidr_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.1");
}

static void test_cidr_parse_bad(void **state)
{
	(void)state;
	static const struct {
		const char *in, *says;
	} bad[] = {
		{"", "empty CIDR"},
		{"198.18.0.0", "missing the /prefix"},
		{"198.18.0.0/", "prefix must be 0 to 32"},
		{"198.18.0.0/33", "prefix must be 0 to 32"},
		{"198.18.0.0/015", "prefix must be 0 to 32"},
		{"198.18.0.0/-1", "prefix must be 0 to 32"},
		{"198.18.0.0/1a", "prefix must be 0 to 32"},
		{"198.18.0.0/15 ", "prefix must be 0 to 32"},
		{"198.18.0/15", "not an IPv4 network"},
		{"198.18.0.0.0/15", "missing the /prefix"},
		{"256.0.0.0/8", "not an IPv4 network"},
		{"010.0.0.0/8", "not an IPv4 network"},
		{" 198.18.0.0/15", "not an IPv4 network"},
		{"a.b.c.d/8", "not an IPv4 network"},
		{"fd00::/64", "not an IPv4 network"},
		{"198.18.0.1/15", "host bits are set (the network is 198.18.0.0/15)"},
		{"10.88.1.0/16", "host bits are set (the network is 10.88.0.0/16)"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		struct acre_cidr c = {.network = 42, .prefix = 7};
		struct acre_error err = {0};
		int r = acre_cidr_parse(bad[i].in, &c, &err, "--slice-cidr");
		if (r != -EINVAL)
			fail_msg("\"%s\" gave %d, not -EINVAL", bad[i].in, r);
		if (!strstr(err.message, bad[i].says) || !strstr(err.message, "--slice-cidr"))
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"", bad[i].in, err.message,
				 bad[i].says);
		assert_string_equal(err.field, "--slice-cidr");
		assert_int_equal(err.code, EINVAL);
		/* Nothing is written on failure. */
		assert_int_equal(c.network, 42);
	}
	struct acre_cidr c;
	assert_int_equal(acre_cidr_parse(NULL, &c, NULL, NULL), -EINVAL);
	uint32_t a;
	assert_int_equal(acre_cidr_addr_parse("198.18.0.0/15", &a), -EINVAL);
	assert_int_equal(acre_cidr_addr_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(acre_cidr_addr_parse("1.2.3.4 ", &a), -EINVAL);
	assert_int_equal(acre_cidr_addr_parse("1.2.3.1000", &a), -EINVAL);
}

static void test_cidr_overlap(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		bool overlap;
	} cases[] = {
		{"198.18.0.0/15", "198.19.0.0/16", true},
		{"198.18.0.0/16", "198.19.0.0/16", false},
		{"10.0.0.0/8", "10.88.0.0/16", true},
		{"0.0.0.0/0", "198.18.0.0/15", true},
		{"198.18.0.0/24", "198.18.1.0/24", false},
		{"198.18.0.0/24", "198.18.0.0/24", true},
		{"198.18.0.5/32", "198.18.0.0/29", true},
		{"198.18.0.8/32", "198.18.0.0/29", false},
		{"192.0.2.0/24", "198.18.0.0/15", false},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(cases); i++) {
		struct acre_cidr a = cidr(cases[i].a), b = cidr(cases[i].b);
		if (acre_cidr_overlaps(&a, &b) != cases[i].overlap ||
		    acre_cidr_overlaps(&b, &a) != cases[i].overlap)
			fail_msg("%s and %s: overlap should be %d", cases[i].a, cases[i].b,
				 cases[i].overlap);
	}
}

static void test_cidr_arithmetic(void **state)
{
	(void)state;
	struct acre_cidr c = cidr("198.18.0.0/15");
	assert_int_equal(acre_cidr_gateway(&c), NET15 + 1);
	assert_int_equal(acre_cidr_broadcast(&c), 0xc613ffffu);
	assert_true(acre_cidr_contains(&c, 0xc613fffeu));
	assert_false(acre_cidr_contains(&c, 0xc6140000u));
	assert_int_equal(acre_cidr_mask(0), 0);
	assert_int_equal(acre_cidr_mask(15), 0xfffe0000u);
	assert_int_equal(acre_cidr_mask(32), 0xffffffffu);
	struct acre_cidr of = acre_cidr_of(0xc6120304u, 15);
	assert_int_equal(of.network, NET15);
	assert_int_equal(of.prefix, 15);
}

static void test_subnet_check(void **state)
{
	(void)state;
	struct acre_error err = {0};
	const char *good[] = {"198.18.0.0/15", "10.88.0.0/16", "198.18.0.0/30", "10.0.0.0/8"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(good); i++) {
		struct acre_cidr c = cidr(good[i]);
		assert_int_equal(acre_cidr_check_subnet(&c, &err, "--slice-cidr"), 0);
	}
	static const struct {
		const char *in, *says;
	} bad[] = {
		{"198.18.0.0/31", "must be /8 to /30"}, {"198.18.0.0/32", "must be /8 to /30"},
		{"198.0.0.0/7", "must be /8 to /30"},	{"127.0.0.0/16", "loopback"},
		{"169.254.0.0/16", "link-local"},	{"224.0.0.0/8", "multicast"},
		{"0.0.0.0/8", "this network"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		struct acre_cidr c = cidr(bad[i].in);
		assert_int_equal(acre_cidr_check_subnet(&c, &err, "--slice-cidr"), -EINVAL);
		if (!strstr(err.message, bad[i].says))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].in, err.message, bad[i].says);
	}
}

/* ---- checks before the kernel is asked ------------------------------------ */

static void test_rate_check(void **state)
{
	(void)state;
	struct acre_error err = {0};
	assert_int_equal(acre_netns_rate_check(50000000, &err, "--net-rate"), 0);
	assert_int_equal(acre_netns_rate_check(ACRE_NETNS_RATE_MIN, &err, "--net-rate"), 0);
	assert_int_equal(acre_netns_rate_check(ACRE_NETNS_RATE_MAX, &err, "--net-rate"), 0);
	assert_int_equal(acre_netns_rate_check(1000, &err, "--net-rate"), -ERANGE);
	assert_non_null(strstr(err.message, "--net-rate"));
	assert_int_equal(acre_netns_rate_check(20000000000ULL, &err, "--net-rate"), -ERANGE);
	assert_non_null(strstr(err.message, "17gbit"));
}

static void test_bridge_init(void **state)
{
	(void)state;
	struct acre_cidr c = cidr("198.18.0.0/15");
	struct acre_netns_bridge br;
	struct acre_error err = {0};
	assert_int_equal(acre_netns_bridge_init(&br, NULL, "acre", &c, &err), 0);
	assert_string_equal(br.name, "acre0");
	assert_string_equal(br.mark, "acre:acre");
	assert_int_equal(br.subnet.network, NET15);
	assert_int_equal(acre_netns_bridge_init(&br, "acrt123456789ab", "x", &c, &err), 0);

	const char *bad[] = {"", "a/b", "a:b", "a b", ".", "..", "acrt123456789abc"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(acre_netns_bridge_init(&br, bad[i], "acre", &c, &err), -EINVAL);
		assert_non_null(strstr(err.message, "bridge name"));
	}
	assert_int_equal(acre_netns_bridge_init(&br, "acre0", "", &c, &err), -EINVAL);
	struct acre_cidr tiny = cidr("198.18.0.0/31");
	assert_int_equal(acre_netns_bridge_init(&br, "acre0", "acre", &tiny, &err), -EINVAL);
}

static void test_veth_names(void **state)
{
	(void)state;
	struct acre_cidr c = cidr("198.18.0.0/15");
	struct acre_netns_bridge br, other;
	assert_int_equal(acre_netns_bridge_init(&br, NULL, "acre", &c, NULL), 0);
	assert_int_equal(acre_netns_bridge_init(&other, "acre1", "acre-test", &c, NULL), 0);
	char a[ACRE_NETNS_IFNAMSIZ], b[ACRE_NETNS_IFNAMSIZ], a2[ACRE_NETNS_IFNAMSIZ];
	char a3[ACRE_NETNS_IFNAMSIZ];
	acre_netns_veth_name(&br, "web-1", a);
	acre_netns_veth_name(&br, "web-2", b);
	acre_netns_veth_name(&br, "web-1", a2);
	acre_netns_veth_name(&other, "web-1", a3);
	assert_int_equal(strlen(a), 14);
	assert_memory_equal(a, "ac", 2);
	assert_string_equal(a, a2); /* stable: the cleanup after a restart relies on it */
	assert_string_equal(a,
			    "ac289086e03873"); /* and across builds: FNV-1a of "acre:acre\nweb-1" */
	assert_string_not_equal(a, b);
	/* Another supervisor (another cgroup root) names its web-1 apart. */
	assert_string_not_equal(a, a3);
	assert_true(acre_netns_veth_name_is_ours(a));
	/* Long owners still fit IFNAMSIZ. */
	char owner[ACRE_NAME_MAX + 1];
	memset(owner, 'x', ACRE_NAME_MAX);
	owner[ACRE_NAME_MAX] = '\0';
	acre_netns_veth_name(&br, owner, a);
	assert_int_equal(strlen(a), 14);

	assert_false(acre_netns_veth_name_is_ours("eth0"));
	assert_false(acre_netns_veth_name_is_ours("acre0"));
	assert_false(acre_netns_veth_name_is_ours("ac0123456789AB"));
	assert_false(acre_netns_veth_name_is_ours("ac0123456789a"));
	assert_false(acre_netns_veth_name_is_ours("ac0123456789abc"));
	assert_true(acre_netns_veth_name_is_ours("ac0123456789ab"));
}

/* ---- IPAM ----------------------------------------------------------------- */

static int setup(void **state)
{
	return tmp_setup(state, "ipam");
}

static int teardown(void **state)
{
	return tmp_teardown(state);
}

static struct acre_ipam *open_ipam(struct tmp *t, const char *subnet)
{
	struct acre_cidr c = cidr(subnet);
	struct acre_ipam *ipam = NULL;
	struct acre_error err = {0};
	int r = acre_ipam_open(&ipam, t->path, &c, &err);
	if (r < 0)
		fail_msg("opening leases for %s: %s", subnet, err.message);
	return ipam;
}

static uint32_t alloc(struct acre_ipam *ipam, const char *owner)
{
	uint32_t a = 0;
	struct acre_error err = {0};
	int r = acre_ipam_allocate(ipam, owner, &a, &err);
	if (r < 0)
		fail_msg("allocating for %s: %s", owner, err.message);
	return a;
}

static void write_file(struct tmp *t, const char *name, const char *text)
{
	int fd = openat(t->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static bool file_exists(struct tmp *t, const char *name)
{
	return faccessat(t->dirfd, name, F_OK, 0) == 0;
}

static void test_ipam_order(void **state)
{
	struct tmp *t = *state;
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/29");
	assert_int_equal(acre_ipam_capacity(ipam), 5); /* .2 to .6 */
	/* Network .0 and gateway .1 are never handed out: the first slice gets .2. */
	assert_int_equal(alloc(ipam, "a"), NET15 + 2);
	assert_int_equal(alloc(ipam, "b"), NET15 + 3);
	assert_int_equal(alloc(ipam, "c"), NET15 + 4);
	/* An owner that holds a lease gets the same address again, not a second one. */
	assert_int_equal(alloc(ipam, "a"), NET15 + 2);
	assert_int_equal(acre_ipam_count(ipam), 3);
	uint32_t a;
	assert_int_equal(acre_ipam_lookup(ipam, "b", &a), 0);
	assert_int_equal(a, NET15 + 3);
	assert_int_equal(acre_ipam_lookup(ipam, "zz", &a), -ENOENT);
	const char *owner;
	assert_int_equal(acre_ipam_lease_at(ipam, 2, &owner, &a), 0);
	assert_string_equal(owner, "c");
	assert_int_equal(acre_ipam_lease_at(ipam, 3, &owner, &a), -ENOENT);
	acre_ipam_close(ipam);
}

static void test_ipam_exhaustion(void **state)
{
	struct tmp *t = *state;
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/29");
	for (int i = 0; i < 5; i++) {
		char owner[16];
		snprintf(owner, sizeof(owner), "s%d", i);
		uint32_t a = alloc(ipam, owner);
		assert_true(a != NET15 + 7); /* never the broadcast */
	}
	uint32_t a = 0;
	struct acre_error err = {0};
	assert_int_equal(acre_ipam_allocate(ipam, "one-too-many", &a, &err), -ENOSPC);
	assert_non_null(strstr(err.message, "198.18.0.0/29 is exhausted"));
	assert_non_null(strstr(err.message, "one-too-many"));
	assert_string_equal(err.field, "--slice-cidr");
	assert_int_equal(acre_ipam_count(ipam), 5);
	/* Emptied, the state directory can move to another subnet. */
	assert_int_equal(acre_ipam_reconcile(ipam, NULL, 0, NULL, &err), 0);
	acre_ipam_close(ipam);

	/* The smallest subnet holds one slice: .4 network, .5 gateway, .6, .7 broadcast. */
	struct acre_ipam *tiny = open_ipam(t, "198.18.0.4/30");
	assert_int_equal(acre_ipam_capacity(tiny), 1);
	assert_int_equal(alloc(tiny, "only"), NET15 + 6);
	assert_int_equal(acre_ipam_allocate(tiny, "second", &a, &err), -ENOSPC);
	acre_ipam_close(tiny);
}

static void test_ipam_release_reuse(void **state)
{
	struct tmp *t = *state;
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/15");
	alloc(ipam, "a");
	alloc(ipam, "b");
	alloc(ipam, "c");
	struct acre_error err = {0};
	assert_int_equal(acre_ipam_release(ipam, "b", &err), 0);
	assert_int_equal(acre_ipam_count(ipam), 2);
	/* Releasing what is not leased is no error. */
	assert_int_equal(acre_ipam_release(ipam, "b", &err), 0);
	assert_int_equal(acre_ipam_release(ipam, "never", &err), 0);
	/* The lowest free address comes back first. */
	assert_int_equal(alloc(ipam, "d"), NET15 + 3);
	assert_int_equal(alloc(ipam, "e"), NET15 + 5);
	/* No address is held twice. */
	for (size_t i = 1; i < acre_ipam_count(ipam); i++) {
		uint32_t prev, cur;
		assert_int_equal(acre_ipam_lease_at(ipam, i - 1, NULL, &prev), 0);
		assert_int_equal(acre_ipam_lease_at(ipam, i, NULL, &cur), 0);
		assert_true(prev < cur);
	}
	acre_ipam_close(ipam);
}

static void test_ipam_bad_owner(void **state)
{
	struct tmp *t = *state;
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/15");
	char longer[ACRE_NAME_MAX + 2];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	uint32_t a;
	struct acre_error err = {0};
	assert_int_equal(acre_ipam_allocate(ipam, "", &a, &err), -EINVAL);
	assert_int_equal(acre_ipam_allocate(ipam, longer, &a, &err), -EINVAL);
	assert_int_equal(acre_ipam_allocate(ipam, "tab\there", &a, &err), -EINVAL);
	assert_int_equal(acre_ipam_count(ipam), 0);
	assert_false(file_exists(t, ACRE_IPAM_FILE));
	acre_ipam_close(ipam);
}

static void test_ipam_persistence(void **state)
{
	struct tmp *t = *state;
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/15");
	alloc(ipam, "web-1");
	alloc(ipam, "web-2");
	alloc(ipam, "cache-1");
	struct acre_error err = {0};
	assert_int_equal(acre_ipam_release(ipam, "web-2", &err), 0);
	acre_ipam_close(ipam);

	ipam = open_ipam(t, "198.18.0.0/15");
	assert_int_equal(acre_ipam_count(ipam), 2);
	uint32_t a;
	assert_int_equal(acre_ipam_lookup(ipam, "web-1", &a), 0);
	assert_int_equal(a, NET15 + 2);
	assert_int_equal(acre_ipam_lookup(ipam, "cache-1", &a), 0);
	assert_int_equal(a, NET15 + 4);
	assert_int_equal(acre_ipam_lookup(ipam, "web-2", &a), -ENOENT);
	assert_int_equal(alloc(ipam, "web-3"), NET15 + 3);
	acre_ipam_close(ipam);

	/* The file is plain JSON with the subnet and the leases in address order. */
	_cleanup_free_ char *text = NULL;
	size_t len;
	assert_int_equal(acre_file_read(t->dirfd, ACRE_IPAM_FILE, &text, &len, 1 << 20), 0);
	json_error_t je;
	_cleanup_json_ json_t *doc = json_loadb(text, len, 0, &je);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "subnet")), "198.18.0.0/15");
	json_t *leases = json_object_get(doc, "leases");
	assert_int_equal(json_array_size(leases), 3);
	json_t *first = json_array_get(leases, 0);
	assert_string_equal(json_string_value(json_object_get(first, "owner")), "web-1");
	assert_string_equal(json_string_value(json_object_get(first, "address")), "198.18.0.2");
	/* Only the lease file is left: no temporary. */
	assert_false(file_exists(t, "." ACRE_IPAM_FILE ".tmp"));
}

static void test_ipam_crash_consistency(void **state)
{
	struct tmp *t = *state;
	/* A supervisor killed with -9 never closes: every lease it reported is on disk. */
	struct acre_ipam *dead = open_ipam(t, "198.18.0.0/15");
	alloc(dead, "a");
	alloc(dead, "b");
	/* ... and a write that died before its rename leaves a temporary behind. */
	write_file(t, "." ACRE_IPAM_FILE ".tmp", "{\"version\":1,\"subn");

	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/15");
	assert_false(file_exists(t, "." ACRE_IPAM_FILE ".tmp"));
	assert_int_equal(acre_ipam_count(ipam), 2);
	/* What the dead one handed out is not handed out again. */
	assert_int_equal(alloc(ipam, "c"), NET15 + 4);
	acre_ipam_close(ipam);
	acre_ipam_close(dead);
}

static void test_ipam_reconcile(void **state)
{
	struct tmp *t = *state;
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/15");
	alloc(ipam, "a");
	alloc(ipam, "b");
	alloc(ipam, "c");
	alloc(ipam, "d");
	const char *live[] = {"c", "a", "not-leased"};
	size_t dropped = 99;
	struct acre_error err = {0};
	assert_int_equal(acre_ipam_reconcile(ipam, live, 3, &dropped, &err), 0);
	assert_int_equal(dropped, 2);
	assert_int_equal(acre_ipam_count(ipam), 2);
	uint32_t a;
	assert_int_equal(acre_ipam_lookup(ipam, "b", &a), -ENOENT);
	assert_int_equal(acre_ipam_lookup(ipam, "c", &a), 0);
	assert_int_equal(a, NET15 + 4);
	/* Nothing to drop: nothing changes. */
	assert_int_equal(acre_ipam_reconcile(ipam, live, 3, &dropped, &err), 0);
	assert_int_equal(dropped, 0);
	acre_ipam_close(ipam);

	ipam = open_ipam(t, "198.18.0.0/15");
	assert_int_equal(acre_ipam_count(ipam), 2);
	assert_int_equal(alloc(ipam, "e"), NET15 + 3);
	/* No live slice at all: every lease goes. */
	assert_int_equal(acre_ipam_reconcile(ipam, NULL, 0, &dropped, &err), 0);
	assert_int_equal(dropped, 3);
	assert_int_equal(acre_ipam_count(ipam), 0);
	acre_ipam_close(ipam);
}

static void expect_open_error(struct tmp *t, const char *subnet, int code, const char *says)
{
	struct acre_cidr c = cidr(subnet);
	struct acre_ipam *ipam = NULL;
	struct acre_error err = {0};
	int r = acre_ipam_open(&ipam, t->path, &c, &err);
	if (r != -code || !strstr(err.message, says))
		fail_msg("open gave %d \"%s\", wanted %d with \"%s\"", r, err.message, -code, says);
	assert_null(ipam);
}

static void test_ipam_bad_files(void **state)
{
	struct tmp *t = *state;
	write_file(t, ACRE_IPAM_FILE, "{\"version\":1,\"subnet\":\"198.18.0.0/15\",\"leases\":[");
	expect_open_error(t, "198.18.0.0/15", EINVAL, ACRE_IPAM_FILE);

	write_file(t, ACRE_IPAM_FILE,
		   "{\"version\":1,\"subnet\":\"198.18.0.0/15\",\"leases\":["
		   "{\"owner\":\"a\",\"address\":\"198.18.0.2\"},"
		   "{\"owner\":\"b\",\"address\":\"198.18.0.2\"}]}");
	expect_open_error(t, "198.18.0.0/15", EINVAL, "198.18.0.2 is leased to both a and b");

	write_file(t, ACRE_IPAM_FILE,
		   "{\"version\":1,\"subnet\":\"198.18.0.0/15\",\"leases\":["
		   "{\"owner\":\"a\",\"address\":\"198.18.0.2\"},"
		   "{\"owner\":\"a\",\"address\":\"198.18.0.3\"}]}");
	expect_open_error(t, "198.18.0.0/15", EINVAL, "a holds two leases");

	write_file(t, ACRE_IPAM_FILE,
		   "{\"version\":1,\"subnet\":\"198.18.0.0/15\",\"leases\":["
		   "{\"owner\":\"a\",\"address\":\"198.18.0.1\"}]}");
	expect_open_error(t, "198.18.0.0/15", EINVAL, "not a host address");

	/* Leases in another subnet: refused while they are held. */
	write_file(t, ACRE_IPAM_FILE,
		   "{\"version\":1,\"subnet\":\"10.88.0.0/16\",\"leases\":["
		   "{\"owner\":\"a\",\"address\":\"10.88.0.2\"}]}");
	expect_open_error(t, "198.18.0.0/15", EBUSY, "holds 1 leases in 10.88.0.0/16");

	/* ... and taken over when none are. */
	write_file(t, ACRE_IPAM_FILE, "{\"version\":1,\"subnet\":\"10.88.0.0/16\",\"leases\":[]}");
	struct acre_ipam *ipam = open_ipam(t, "198.18.0.0/15");
	assert_int_equal(alloc(ipam, "a"), NET15 + 2);
	acre_ipam_close(ipam);

	char missing[128];
	snprintf(missing, sizeof(missing), "%s/nowhere", t->path);
	struct acre_cidr c = cidr("198.18.0.0/15");
	struct acre_error err = {0};
	assert_int_equal(acre_ipam_open(&ipam, missing, &c, &err), -ENOENT);
	assert_non_null(strstr(err.message, "nowhere"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_good),
		cmocka_unit_test(test_cidr_parse_bad),
		cmocka_unit_test(test_cidr_overlap),
		cmocka_unit_test(test_cidr_arithmetic),
		cmocka_unit_test(test_subnet_check),
		cmocka_unit_test(test_rate_check),
		cmocka_unit_test(test_bridge_init),
		cmocka_unit_test(test_veth_names),
		cmocka_unit_test_setup_teardown(test_ipam_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_release_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_bad_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_crash_consistency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipam_bad_files, setup, teardown),
	};
	return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
