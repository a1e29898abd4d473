/*
 * The slice spec: what a user may write, the safe defaults filled in when
 * they write nothing, and for each mistake the field an error names and the
 * reason it gives.  Specs are written with single quotes for readability and
 * turned into JSON by json_q().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <linux/capability.h>

#include "common/common.h"
#include "json_q.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

/* The spec of DESIGN.md's first example. */
static const char example[] =
	"{'name': 'cache-1',"
	" 'command': ['redis-server', '--port', '6379', '--save', ''],"
	" 'env': {'REDIS_LOG': 'verbose', 'TZ': 'UTC'},"
	" 'user': 'nobody',"
	" 'cwd': '/',"
	" 'resources': {'cpus': 0.5, 'memory': '256M', 'pids': 128},"
	" 'isolation': {'namespaces': ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup'],"
	"               'seccomp': 'default', 'capabilities': [], 'rootfs': '/',"
	"               'readonly_root': true},"
	" 'network': {'mode': 'none'},"
	" 'restart': 'never',"
	" 'labels': {'app': 'redis', 'tier': 'cache'}}";

static void parse_doc_ok(const char *text, struct acre_slice_spec *s)
{
	_cleanup_json_ json_t *j = json_q(text);
	struct acre_error err = {0};
	int rc = acre_slice_spec_parse(j, s, &err);
	if (rc < 0)
		fail_msg("%s: rejected: %s (field %s)", text, err.message, err.field);
}

static void expect_doc_rejected(const char *text, int code, const char *field, const char *needle)
{
	_cleanup_json_ json_t *j = json_q(text);
	struct acre_slice_spec s;
	struct acre_error err = {0};
	int rc = acre_slice_spec_parse(j, &s, &err);
	if (rc >= 0) {
		acre_slice_spec_free(&s);
		fail_msg("%s: accepted", text);
	}
	if (strcmp(err.field, field) != 0 || !strstr(err.message, needle))
		fail_msg("%s: got field \"%s\", message \"%s\"; want field \"%s\" and \"%s\"", text,
			 err.field, err.message, field, needle);
	assert_int_equal(err.code, code);
	assert_int_equal(rc, -code);
	/* A failed parse leaves nothing to free. */
	assert_null(s.command);
	assert_null(s.env);
	assert_null(s.labels);
}

/* `members` are added to the smallest valid spec, {"command": ["true"]}. */
static void parse_ok(const char *members, struct acre_slice_spec *s)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], %s}", members) > 0);
	parse_doc_ok(text, s);
}

static void expect_rejected(const char *members, const char *field, const char *needle)
{
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "{'command': ['true'], %s}", members) > 0);
	expect_doc_rejected(text, EINVAL, field, needle);
}

static void assert_strv_equal(char *const *a, char *const *b)
{
	assert_int_equal(acre_strv_length(a), acre_strv_length(b));
	for (size_t i = 0; a && a[i]; i++)
		assert_string_equal(a[i], b[i]);
}

static void assert_spec_equal(const struct acre_slice_spec *a, const struct acre_slice_spec *b)
{
	assert_string_equal(a->name, b->name);
	assert_strv_equal(a->command, b->command);
	assert_strv_equal(a->env, b->env);
	if (a->user || b->user) {
		assert_non_null(a->user);
		assert_non_null(b->user);
		assert_string_equal(a->user, b->user);
	}
	assert_string_equal(a->cwd, b->cwd);
	assert_int_equal(a->resources.cpus_milli, b->resources.cpus_milli);
	assert_int_equal(a->resources.memory, b->resources.memory);
	assert_int_equal(a->resources.pids, b->resources.pids);
	assert_int_equal(a->resources.net_rate, b->resources.net_rate);
	assert_int_equal(a->isolation.namespaces, b->isolation.namespaces);
	assert_int_equal(a->isolation.seccomp, b->isolation.seccomp);
	assert_true(json_equal(a->isolation.seccomp_profile, b->isolation.seccomp_profile) ||
		    (!a->isolation.seccomp_profile && !b->isolation.seccomp_profile));
	assert_int_equal(a->isolation.capabilities, b->isolation.capabilities);
	assert_string_equal(a->isolation.rootfs, b->isolation.rootfs);
	assert_int_equal(a->isolation.readonly_root, b->isolation.readonly_root);
	assert_int_equal(a->net_mode, b->net_mode);
	assert_int_equal(a->net_isolated, b->net_isolated);
	if (a->net_allow || b->net_allow)
		assert_strv_equal(a->net_allow, b->net_allow);
	assert_int_equal(a->net_npublish, b->net_npublish);
	for (size_t i = 0; i < a->net_npublish; i++) {
		assert_int_equal(a->net_publish[i].node_port, b->net_publish[i].node_port);
		assert_int_equal(a->net_publish[i].port, b->net_publish[i].port);
		assert_int_equal(a->net_publish[i].proto, b->net_publish[i].proto);
	}
	assert_int_equal(a->restart, b->restart);
	assert_int_equal(a->restart_max, b->restart_max);
	assert_true(json_equal(a->labels, b->labels));
}

/* ---- good specs ---------------------------------------------------------- */

static void test_design_example(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_doc_ok(example, &s);
	assert_string_equal(s.name, "cache-1");
	char *const command[] = {"redis-server", "--port", "6379", "--save", "", NULL};
	assert_strv_equal(s.command, command);
	char *const env[] = {"REDIS_LOG=verbose", "TZ=UTC", NULL};
	assert_strv_equal(s.env, env);
	assert_string_equal(s.user, "nobody");
	assert_string_equal(s.cwd, "/");
	assert_int_equal(s.resources.cpus_milli, 500);
	assert_int_equal(s.resources.memory, 256ULL << 20);
	assert_int_equal(s.resources.pids, 128);
	assert_int_equal(s.resources.net_rate, 0);
	assert_int_equal(s.isolation.namespaces, ACRE_NS_ALL);
	assert_int_equal(s.isolation.seccomp, ACRE_SECCOMP_DEFAULT);
	assert_null(s.isolation.seccomp_profile);
	assert_int_equal(s.isolation.capabilities, 0);
	assert_string_equal(s.isolation.rootfs, "/");
	assert_true(s.isolation.readonly_root);
	assert_int_equal(s.net_mode, ACRE_NET_NONE);
	assert_int_equal(s.restart, ACRE_RESTART_NEVER);
	assert_int_equal(json_object_size(s.labels), 2);
	assert_string_equal(json_string_value(json_object_get(s.labels, "app")), "redis");
	assert_string_equal(json_string_value(json_object_get(s.labels, "tier")), "cache");
}

static void assert_defaults(const struct acre_slice_spec *s)
{
	assert_string_equal(s->name, "");
	assert_non_null(s->env);
	assert_null(s->env[0]);
	assert_null(s->user);
	assert_string_equal(s->cwd, "/");
	assert_int_equal(s->resources.cpus_milli, 0);
	assert_int_equal(s->resources.memory, 0);
	assert_int_equal(s->resources.pids, 0);
	assert_int_equal(s->resources.net_rate, 0);
	assert_int_equal(s->isolation.namespaces, ACRE_NS_ALL);
	assert_int_equal(s->isolation.seccomp, ACRE_SECCOMP_DEFAULT);
	assert_null(s->isolation.seccomp_profile);
	assert_int_equal(s->isolation.capabilities, 0);
	assert_string_equal(s->isolation.rootfs, "/");
	assert_true(s->isolation.readonly_root);
	assert_int_equal(s->net_mode, ACRE_NET_NONE);
	assert_int_equal(s->restart, ACRE_RESTART_NEVER);
	assert_int_equal(s->restart_max, 0);
	assert_true(json_is_object(s->labels));
	assert_int_equal(json_object_size(s->labels), 0);
}

static void test_defaults(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_doc_ok("{'command': ['sleep', '60']}", &s);
	char *const command[] = {"sleep", "60", NULL};
	assert_strv_equal(s.command, command);
	assert_defaults(&s);
}

static void test_defaults_with_empty_sections(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'name': null, 'user': null, 'env': {}, 'resources': {}, 'isolation': {},"
		 " 'network': {}, 'labels': {}",
		 &s);
	assert_defaults(&s);
}

static void test_numbers_and_strings(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'user': 1000, 'cwd': '/srv/app',"
		 " 'resources': {'cpus': '1.5', 'memory': 268435456, 'pids': 2,"
		 "               'net_rate': '10mbps'},"
		 " 'network': {'mode': 'bridge'}",
		 &s);
	assert_string_equal(s.user, "1000");
	assert_string_equal(s.cwd, "/srv/app");
	assert_int_equal(s.resources.cpus_milli, 1500);
	assert_int_equal(s.resources.memory, 268435456);
	assert_int_equal(s.resources.pids, 2);
	assert_int_equal(s.resources.net_rate, 80000000);
	assert_int_equal(s.net_mode, ACRE_NET_BRIDGE);
}

static void test_user_forms(void **state)
{
	(void)state;
	static const char *const good[] = {"'nobody'", "'nobody:nogroup'", "'1000:1000'", "0"};
	static const char *const want[] = {"nobody", "nobody:nogroup", "1000:1000", "0"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(good); i++) {
		_cleanup_free_ char *m = NULL;
		assert_true(asprintf(&m, "'user': %s", good[i]) > 0);
		_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
		parse_ok(m, &s);
		assert_string_equal(s.user, want[i]);
	}
	expect_rejected("'user': ''", "user", "a name, a uid");
	expect_rejected("'user': ['root']", "user", "a name, a uid");
	expect_rejected("'user': -1", "user", "out of range");
	expect_rejected("'user': 'a b'", "user", "not a valid user");
	expect_rejected("'user': 'a:b:c'", "user", "USER:GROUP");
}

static void test_cpus_as_json_number_keeps_thousandths(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'resources': {'cpus': 1000.125}", &s);
	assert_int_equal(s.resources.cpus_milli, 1000125);
}

static void test_memory_minimum(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'resources': {'memory': '4M'}", &s);
	assert_int_equal(s.resources.memory, 4 << 20);
}

/* ---- bad specs ------------------------------------------------------------ */

static void test_not_an_object(void **state)
{
	(void)state;
	expect_doc_rejected("['true']", EINVAL, "spec", "must be a JSON object");
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(acre_slice_spec_parse(NULL, &s, &err), -EINVAL);
	assert_string_equal(err.field, "spec");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_rejected("'comand': ['true']", "comand", "unknown field");
	expect_rejected("'resources': {'memroy': '1G'}", "resources.memroy", "unknown field");
	expect_rejected("'isolation': {'root': '/srv'}", "isolation.root", "unknown field");
	expect_rejected("'network': {'rate': '1mbit'}", "network.rate", "unknown field");
}

static void test_bad_command(void **state)
{
	(void)state;
	expect_doc_rejected("{}", EINVAL, "command", "required");
	expect_doc_rejected("{'command': []}", EINVAL, "command", "non-empty array");
	expect_doc_rejected("{'command': 'true'}", EINVAL, "command", "non-empty array");
	expect_doc_rejected("{'command': [1]}", EINVAL, "command", "command[0]");
	expect_doc_rejected("{'command': ['ls', null]}", EINVAL, "command", "command[1]");
	expect_doc_rejected("{'command': ['ls', 'a\\u0000b']}", EINVAL, "command", "NUL");
	expect_doc_rejected("{'command': ['']}", EINVAL, "command", "empty program name");
}

static void test_bad_env(void **state)
{
	(void)state;
	expect_rejected("'env': {'1A': 'x'}", "env", "\"1A\" is not a valid variable name");
	expect_rejected("'env': {'A-B': 'x'}", "env", "A-B");
	expect_rejected("'env': {'A=B': 'x'}", "env", "A=B");
	expect_rejected("'env': {'': 'x'}", "env", "not a valid variable name");
	expect_rejected("'env': {'PATH': 1}", "env", "env.PATH");
	expect_rejected("'env': {'PATH': 'a\\u0000b'}", "env", "NUL");
	expect_rejected("'env': ['A=1']", "env", "object of strings");
}

static void test_bad_cwd(void **state)
{
	(void)state;
	expect_rejected("'cwd': 'tmp'", "cwd", "absolute");
	expect_rejected("'cwd': ''", "cwd", "absolute");
	expect_rejected("'cwd': 5", "cwd", "must be a string");
}

static void test_bad_memory(void **state)
{
	(void)state;
	expect_rejected("'resources': {'memory': '12Q'}", "resources.memory", "unknown unit");
	expect_rejected("'resources': {'memory': '1M'}", "resources.memory", "minimum of 4M");
	expect_rejected("'resources': {'memory': 4194303}", "resources.memory", "minimum of 4M");
	expect_rejected("'resources': {'memory': 0}", "resources.memory", "size like");
	expect_rejected("'resources': {'memory': -1}", "resources.memory", "size like");
	expect_rejected("'resources': {'memory': 1.5}", "resources.memory", "size like");
	expect_doc_rejected("{'command': ['true'], 'resources': {'memory': '99999999999T'}}",
			    ERANGE, "resources.memory", "too large");
}

static void test_bad_pids(void **state)
{
	(void)state;
	expect_rejected("'resources': {'pids': 1}", "resources.pids", "from 2");
	expect_rejected("'resources': {'pids': 0}", "resources.pids", "from 2");
	expect_rejected("'resources': {'pids': 4194305}", "resources.pids", "4194304");
	expect_rejected("'resources': {'pids': '128'}", "resources.pids", "integer");
	expect_rejected("'resources': {'pids': 2.5}", "resources.pids", "integer");
}

static void test_bad_cpus(void **state)
{
	(void)state;
	expect_rejected("'resources': {'cpus': 0}", "resources.cpus", "above zero");
	expect_rejected("'resources': {'cpus': '0'}", "resources.cpus", "above zero");
	expect_rejected("'resources': {'cpus': 'x'}", "resources.cpus", "not a CPU count");
	expect_rejected("'resources': {'cpus': 0.0001}", "resources.cpus", "three decimals");
	expect_rejected("'resources': {'cpus': -1}", "resources.cpus", "not a CPU count");
	expect_rejected("'resources': {'cpus': true}", "resources.cpus", "must be a number");
}

static void test_net_rate(void **state)
{
	(void)state;
	expect_rejected("'resources': {'net_rate': '100mbit'}", "resources.net_rate",
			"needs network.mode bridge");
	expect_rejected("'resources': {'net_rate': '100mbit'}, 'network': {'mode': 'none'}",
			"resources.net_rate", "bridge");
	expect_rejected("'resources': {'net_rate': 100}, 'network': {'mode': 'bridge'}",
			"resources.net_rate", "rate like");
	expect_rejected("'resources': {'net_rate': '0'}, 'network': {'mode': 'bridge'}",
			"resources.net_rate", "above zero");
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'resources': {'net_rate': '100mbit'}, 'network': {'mode': 'bridge'}", &s);
	assert_int_equal(s.resources.net_rate, 100000000);
}

static void test_isolated_and_allow(void **state)
{
	(void)state;
	expect_rejected("'network': {'isolated': true}", "network.isolated",
			"needs network.mode bridge");
	expect_rejected("'network': {'mode': 'bridge', 'isolated': 1}", "network.isolated",
			"true or false");
	expect_rejected("'network': {'allow': '10.0.0.0/8'}", "network.allow", "array");
	expect_rejected("'network': {'allow': ['10.0.0.1/8']}", "network.allow", "bits set");
	expect_rejected("'network': {'allow': ['10.0.0.0/8:0']}", "network.allow", "1-65535");
	expect_rejected("'network': {'allow': ['example.com']}", "network.allow", "CIDR[:PORT]");
	expect_rejected("'network': {'allow': [3]}", "network.allow", "string");
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'network': {'mode': 'bridge', 'isolated': true, "
		 "'allow': ['198.18.0.1:5201', '[2001:db8::/32]:443']}",
		 &s);
	assert_true(s.net_isolated);
	assert_int_equal(acre_strv_length(s.net_allow), 2);
	assert_string_equal(s.net_allow[0], "198.18.0.1:5201");
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec back = {0};
	struct acre_error err = {0};
	assert_int_equal(acre_slice_spec_parse(j, &back, &err), 0);
	assert_spec_equal(&s, &back);
}

static void test_bad_namespaces(void **state)
{
	(void)state;
	const char *f = "isolation.namespaces";
	expect_doc_rejected("{'command': ['true'], 'isolation': {'namespaces':"
			    " ['pid', 'mount', 'net', 'user']}}",
			    EOPNOTSUPP, f, "user namespaces are not supported");
	expect_rejected("'isolation': {'namespaces': ['pid', 'mount', 'net', 'time']}", f,
			"[3]: unknown namespace");
	expect_rejected("'isolation': {'namespaces': ['pid', 'mount', 'net', 'pid']}", f,
			"pid listed twice");
	expect_rejected("'isolation': {'namespaces': ['mount', 'net']}", f,
			"pid and mount are required");
	expect_rejected("'isolation': {'namespaces': ['pid', 'net']}", f,
			"pid and mount are required");
	expect_rejected("'isolation': {'namespaces': []}", f, "pid and mount are required");
	expect_rejected("'isolation': {'namespaces': 'pid'}", f, "array of names");
	expect_rejected("'isolation': {'namespaces': ['pid', 'mount', 'net', 1]}", f,
			"unknown namespace");
	expect_rejected("'isolation': {'namespaces': ['pid', 'mount']}", f,
			"\"net\" is required unless network.mode is host");
}

static void test_fewer_namespaces(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'isolation': {'namespaces': ['net', 'mount', 'pid']}", &s);
	assert_int_equal(s.isolation.namespaces, ACRE_NS_PID | ACRE_NS_MOUNT | ACRE_NS_NET);
}

static void test_seccomp(void **state)
{
	(void)state;
	const char *f = "isolation.seccomp";
	expect_rejected("'isolation': {'seccomp': 5}", f, "\"default\", \"unconfined\"");
	expect_rejected("'isolation': {'seccomp': 'strict'}", f, "profile object");
	expect_rejected("'isolation': {'seccomp': true}", f, "profile object");
	expect_rejected("'isolation': {'seccomp': ['read']}", f, "profile object");

	_cleanup_(acre_slice_spec_free) struct acre_slice_spec u = {0};
	parse_ok("'isolation': {'seccomp': 'unconfined'}", &u);
	assert_int_equal(u.isolation.seccomp, ACRE_SECCOMP_UNCONFINED);
	assert_null(u.isolation.seccomp_profile);

	_cleanup_(acre_slice_spec_free) struct acre_slice_spec p = {0};
	const char *profile = "{'defaultAction': 'SCMP_ACT_ERRNO',"
			      " 'syscalls': [{'names': ['read', 'write'],"
			      "               'action': 'SCMP_ACT_ALLOW'}]}";
	_cleanup_free_ char *m = NULL;
	assert_true(asprintf(&m, "'isolation': {'seccomp': %s}", profile) > 0);
	parse_ok(m, &p);
	assert_int_equal(p.isolation.seccomp, ACRE_SECCOMP_PROFILE);
	_cleanup_json_ json_t *want = json_q(profile);
	assert_true(json_equal(p.isolation.seccomp_profile, want));
}

static void test_capabilities(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'isolation': {'capabilities': ['NET_ADMIN', 'cap_sys_time', 'Cap_Chown',"
		 "                               'net_bind_service', 'CAP_NET_ADMIN']}",
		 &s);
	assert_int_equal(s.isolation.capabilities,
			 (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_SYS_TIME) | (1ULL << CAP_CHOWN) |
				 (1ULL << CAP_NET_BIND_SERVICE));

	const char *f = "isolation.capabilities";
	expect_rejected("'isolation': {'capabilities': ['CAP_FLY']}", f,
			"unknown capability CAP_FLY");
	expect_rejected("'isolation': {'capabilities': ['CAP_']}", f, "unknown capability");
	expect_rejected("'isolation': {'capabilities': ['']}", f, "unknown capability");
	expect_rejected("'isolation': {'capabilities': [21]}", f, "(not a string)");
	expect_rejected("'isolation': {'capabilities': 'NET_ADMIN'}", f, "array of names");
}

static void test_capability_names(void **state)
{
	(void)state;
	assert_int_equal(acre_cap_from_name("NET_ADMIN"), CAP_NET_ADMIN);
	assert_int_equal(acre_cap_from_name("cap_net_admin"), CAP_NET_ADMIN);
	assert_int_equal(acre_cap_from_name("Cap_Sys_Admin"), CAP_SYS_ADMIN);
	assert_int_equal(acre_cap_from_name("chown"), CAP_CHOWN);
	assert_int_equal(acre_cap_from_name("CAP_"), -1);
	assert_int_equal(acre_cap_from_name("NOPE"), -1);
	assert_int_equal(acre_cap_from_name(""), -1);
	assert_string_equal(acre_cap_name(CAP_NET_ADMIN), "NET_ADMIN");
	assert_string_equal(acre_cap_name(CAP_CHOWN), "CHOWN");
	assert_string_equal(acre_cap_name(-1), "?");
	assert_string_equal(acre_cap_name(64), "?");
}

static void test_rootfs(void **state)
{
	(void)state;
	const char *f = "isolation.rootfs";
	expect_rejected("'isolation': {'rootfs': 'srv/root'}", f, "absolute path");
	expect_rejected("'isolation': {'rootfs': '/srv/../etc'}", f, "\"..\"");
	expect_rejected("'isolation': {'rootfs': '/..'}", f, "\"..\"");
	expect_rejected("'isolation': {'rootfs': '/srv/root/..'}", f, "\"..\"");
	expect_rejected("'isolation': {'rootfs': 7}", f, "must be a string");

	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'isolation': {'rootfs': '/srv/a..b/root'}", &s);
	assert_string_equal(s.isolation.rootfs, "/srv/a..b/root");
}

/* The host root writable is a layer of the slice's own over it, in every spelling of "/". */
static void check_rw_host_root(const char *members, bool expected)
{
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok(members, &s);
	assert_int_equal(acre_slice_spec_rw_host_root(&s), expected);
}

static void test_host_root_writable(void **state)
{
	(void)state;
	check_rw_host_root("'isolation': {'readonly_root': false}", true);
	check_rw_host_root("'isolation': {'rootfs': '/', 'readonly_root': false}", true);
	check_rw_host_root("'isolation': {'rootfs': '//', 'readonly_root': false}", true);
	check_rw_host_root("'isolation': {'rootfs': '/.', 'readonly_root': false}", true);
	check_rw_host_root("'isolation': {'rootfs': '/./', 'readonly_root': false}", true);
	check_rw_host_root("'isolation': {'rootfs': '/'}", false);
	check_rw_host_root("'isolation': {'rootfs': '/srv/slices/web', 'readonly_root': false}",
			   false);
	expect_rejected("'isolation': {'readonly_root': 'no'}", "isolation.readonly_root",
			"true or false");

	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'isolation': {'rootfs': '/srv/slices/web', 'readonly_root': false}", &s);
	assert_false(s.isolation.readonly_root);
	assert_string_equal(s.isolation.rootfs, "/srv/slices/web");
}

static void test_network_host(void **state)
{
	(void)state;
	expect_rejected("'network': {'mode': 'host'}, 'isolation': {'namespaces':"
			" ['pid', 'mount', 'net']}",
			"network.mode", "drop \"net\"");

	_cleanup_(acre_slice_spec_free) struct acre_slice_spec listed = {0};
	parse_ok("'network': {'mode': 'host'}, 'isolation': {'namespaces':"
		 " ['pid', 'mount', 'uts']}",
		 &listed);
	assert_int_equal(listed.net_mode, ACRE_NET_HOST);
	assert_int_equal(listed.isolation.namespaces, ACRE_NS_PID | ACRE_NS_MOUNT | ACRE_NS_UTS);

	/* With the default list, host networking just leaves "net" out. */
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec dflt = {0};
	parse_ok("'network': {'mode': 'host'}", &dflt);
	assert_int_equal(dflt.isolation.namespaces, ACRE_NS_ALL & ~ACRE_NS_NET);

	expect_rejected("'network': {'mode': 'wifi'}", "network.mode", "none, host or bridge");
	expect_rejected("'network': {'mode': 1}", "network.mode", "none, host or bridge");
	expect_rejected("'network': 'host'", "network", "must be an object");
}

static void test_network_publish(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'network': {'mode': 'bridge', 'publish': [{'node_port': 8080, 'port': 80},"
		 " {'node_port': 65535, 'port': 1, 'proto': 'udp'}]}",
		 &s);
	assert_int_equal(s.net_npublish, 2);
	assert_int_equal(s.net_publish[0].node_port, 8080);
	assert_int_equal(s.net_publish[0].port, 80);
	assert_int_equal(s.net_publish[0].proto, 6);
	assert_int_equal(s.net_publish[1].proto, 17);
	static const char *const pre = "'network': {'mode': 'bridge', 'publish': ";
	static const struct {
		const char *publish, *message;
	} bad[] = {
		{"[{'node_port': 0, 'port': 80}]", "node_port: must be 1 to 65535"},
		{"[{'node_port': 65536, 'port': 80}]", "node_port: must be 1 to 65535"},
		{"[{'node_port': '80', 'port': 80}]", "node_port: must be 1 to 65535"},
		{"[{'node_port': 80, 'port': -1}]", "port: must be 1 to 65535"},
		{"[{'node_port': 80}]", "port: must be 1 to 65535"},
		{"[{'node_port': 80, 'port': 80, 'proto': 'sctp'}]", "proto: must be tcp or udp"},
		{"[{'node_port': 80, 'port': 80, 'ports': 1}]", "ports: unknown field"},
		{"[{'node_port': 80, 'port': 80}, {'node_port': 80, 'port': 81}]",
		 "80/tcp is published twice"},
		{"[8080]", "must be an object"},
		{"{}", "must be an array"},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		char doc[256];
		snprintf(doc, sizeof(doc), "%s%s}", pre, bad[i].publish);
		expect_rejected(doc, "network.publish", bad[i].message);
	}
	/* The same node port over tcp and udp is two ports. */
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec both = {0};
	parse_ok("'network': {'mode': 'bridge', 'publish': [{'node_port': 53, 'port': 53},"
		 " {'node_port': 53, 'port': 53, 'proto': 'udp'}]}",
		 &both);
	expect_rejected("'network': {'publish': [{'node_port': 80, 'port': 80}]}",
			"network.publish", "needs network.mode bridge");
}

static void test_publish_flag(void **state)
{
	(void)state;
	struct acre_error err = {0};
	struct acre_publish p;
	assert_int_equal(acre_publish_parse("8080:80", &p, &err), 0);
	assert_int_equal(p.node_port, 8080);
	assert_int_equal(p.port, 80);
	assert_int_equal(p.proto, 6);
	assert_int_equal(acre_publish_parse("53:5353/udp", &p, &err), 0);
	assert_int_equal(p.proto, 17);
	static const char *const bad[] = {"",	    "8080",	"8080:",    ":80",
					  "0:80",   "80:0",	"65536:80", "80:65536",
					  "80:80/", "80:80/ip", "080:80x",  "1000000:1",
					  "-1:80",  "80:80:80", "80 :80",   "80:80/tcpx"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(acre_publish_parse(bad[i], &p, &err), -EINVAL);
		assert_string_equal(err.field, "network.publish");
		assert_non_null(strstr(err.message, "--publish"));
	}
}

static void test_restart(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		enum acre_restart restart;
		unsigned max;
	} good[] = {
		{"never", ACRE_RESTART_NEVER, 0},
		{"always", ACRE_RESTART_ALWAYS, 0},
		{"on-failure", ACRE_RESTART_ON_FAILURE, 0},
		{"on-failure:3", ACRE_RESTART_ON_FAILURE, 3},
		{"on-failure:1000000", ACRE_RESTART_ON_FAILURE, 1000000},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(good); i++) {
		_cleanup_free_ char *m = NULL;
		assert_true(asprintf(&m, "'restart': '%s'", good[i].value) > 0);
		_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
		parse_ok(m, &s);
		assert_int_equal(s.restart, good[i].restart);
		assert_int_equal(s.restart_max, good[i].max);
	}
	expect_rejected("'restart': 'on-failure:0'", "restart", "positive integer");
	expect_rejected("'restart': 'on-failure:'", "restart", "positive integer");
	expect_rejected("'restart': 'on-failure:x'", "restart", "positive integer");
	expect_rejected("'restart': 'on-failure:-1'", "restart", "positive integer");
	expect_rejected("'restart': 'on-failure:3x'", "restart", "positive integer");
	expect_rejected("'restart': 'on-failure3'", "restart", "never, on-failure[:N] or always");
	expect_rejected("'restart': 'sometimes'", "restart", "never, on-failure[:N] or always");
	expect_rejected("'restart': 3", "restart", "never, on-failure[:N] or always");
}

static void test_bad_labels(void **state)
{
	(void)state;
	expect_rejected("'labels': ['a']", "labels", "object of at most 64 strings");
	expect_rejected("'labels': 'a=b'", "labels", "object");
	expect_rejected("'labels': {'team': 1}", "labels", "labels.team");
	expect_rejected("'labels': {'team': null}", "labels", "labels.team");
	expect_rejected("'labels': {'': 'x'}", "labels", "1 to 63 characters");

	char many[65 * 16] = "'labels': {";
	for (int i = 0; i < 65; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s'k%d': 'v'",
			 i ? ", " : "", i);
	strcat(many, "}");
	expect_rejected(many, "labels", "at most 64");

	char long_value[300];
	snprintf(long_value, sizeof(long_value), "'labels': {'k': '%0256d'}", 0);
	expect_rejected(long_value, "labels", "at most 255 bytes");
}

static void test_bad_name(void **state)
{
	(void)state;
	static const char *const bad[] = {"'../x'", "''",    "'-a'", "'.hidden'",
					  "'a/b'",  "'a b'", "5",    "['web']"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *m = NULL;
		assert_true(asprintf(&m, "'name': %s", bad[i]) > 0);
		expect_rejected(m, "name", "letters, digits");
	}
	char long_name[100];
	snprintf(long_name, sizeof(long_name), "'name': '%064d'", 0);
	expect_rejected(long_name, "name", "1 to 63");

	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	snprintf(long_name, sizeof(long_name), "'name': '%063d'", 0);
	parse_ok(long_name, &s);
	assert_int_equal(strlen(s.name), 63);
}

/* ---- round trip ------------------------------------------------------------ */

static void assert_round_trip(const char *text)
{
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec a = {0}, b = {0};
	parse_doc_ok(text, &a);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&a);
	assert_non_null(j);
	struct acre_error err = {0};
	if (acre_slice_spec_parse(j, &b, &err) < 0) {
		_cleanup_free_ char *dump = json_dumps(j, JSON_COMPACT);
		fail_msg("%s: output rejected: %s (field %s)", dump, err.message, err.field);
	}
	assert_spec_equal(&a, &b);
}

static void test_round_trip_example(void **state)
{
	(void)state;
	assert_round_trip(example);
}

static void test_round_trip_everything(void **state)
{
	(void)state;
	assert_round_trip(
		"{'name': 'web.1_a', 'command': ['/bin/sh', '-c', 'echo \\u00e9 > /tmp/x'],"
		" 'env': {'B': '2', 'A': '1=1', 'EMPTY': ''}, 'user': 1000, 'cwd': '/srv',"
		" 'resources': {'cpus': 1000.125, 'memory': '1.5G', 'pids': 4194304,"
		"               'net_rate': '1.5mbps'},"
		" 'isolation': {'namespaces': ['cgroup', 'net', 'mount', 'pid'],"
		"               'seccomp': {'defaultAction': 'SCMP_ACT_LOG'},"
		"               'capabilities': ['net_admin', 'CAP_CHOWN', 'sys_time'],"
		"               'rootfs': '/srv/root', 'readonly_root': false},"
		" 'network': {'mode': 'bridge', 'publish': [{'node_port': 8080, 'port': 80},"
		"             {'node_port': 8080, 'port': 53, 'proto': 'udp'}]},"
		" 'restart': 'on-failure:3', 'labels': {'team': 'infra'}}");
	assert_round_trip("{'command': ['x'], 'resources': {'memory': 4194305, 'cpus': '0.001'},"
			  " 'network': {'mode': 'host'}, 'restart': 'always',"
			  " 'isolation': {'seccomp': 'unconfined'}}");
	assert_round_trip("{'command': ['x'], 'restart': 'on-failure', 'user': 'www:www'}");
}

static void test_round_trip_unnamed(void **state)
{
	(void)state;
	/* The CLI sends specs without a name; the supervisor picks one. */
	assert_round_trip("{'command': ['sleep', '1']}");
}

static void test_to_json_forms(void **state)
{
	(void)state;
	_cleanup_(acre_slice_spec_free) struct acre_slice_spec s = {0};
	parse_ok("'resources': {'memory': '256M', 'cpus': 0.5, 'net_rate': '100mbit'},"
		 " 'network': {'mode': 'bridge'}, 'restart': 'on-failure:3',"
		 " 'isolation': {'capabilities': ['cap_net_admin']}",
		 &s);
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&s);
	assert_non_null(j);
	json_t *res = json_object_get(j, "resources");
	assert_string_equal(json_string_value(json_object_get(res, "memory")), "256M");
	assert_true(json_number_value(json_object_get(res, "cpus")) == 0.5);
	assert_string_equal(json_string_value(json_object_get(res, "net_rate")), "100000000bit");
	assert_null(json_object_get(res, "pids"));
	assert_string_equal(json_string_value(json_object_get(j, "restart")), "on-failure:3");
	json_t *caps = json_object_get(json_object_get(j, "isolation"), "capabilities");
	assert_int_equal(json_array_size(caps), 1);
	assert_string_equal(json_string_value(json_array_get(caps, 0)), "NET_ADMIN");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "network"), "mode")),
		"bridge");
	assert_null(json_object_get(j, "user"));
}

/* ---- names ------------------------------------------------------------------- */

static void test_name_valid(void **state)
{
	(void)state;
	static const char *const good[] = {"web-1", "a", "A.b_c-1", "1st", "cache.v2"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(good); i++)
		assert_true(acre_slice_name_valid(good[i]));
	static const char *const bad[] = {"",	  "-a",	 "_a",	".",	       "..",
					  "../x", "a/b", "a b", "caf\xc3\xa9", "a\nb"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++)
		assert_false(acre_slice_name_valid(bad[i]));
	char name[ACRE_NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[ACRE_NAME_MAX] = '\0';
	assert_true(acre_slice_name_valid(name));
	name[ACRE_NAME_MAX] = 'a';
	name[ACRE_NAME_MAX + 1] = '\0';
	assert_false(acre_slice_name_valid(name));
}

static void test_name_generate(void **state)
{
	(void)state;
	char a[ACRE_NAME_MAX + 1], b[ACRE_NAME_MAX + 1];
	acre_slice_name_generate(a, sizeof(a));
	acre_slice_name_generate(b, sizeof(b));
	assert_int_equal(strlen(a), strlen("slice-") + 8);
	assert_true(strncmp(a, "slice-", 6) == 0);
	assert_true(acre_slice_name_valid(a));
	assert_true(acre_slice_name_valid(b));
	for (const char *p = a + 6; *p; p++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz0123456789", *p));
	/* 36^8 possibilities: two draws colliding means the random source is broken. */
	assert_string_not_equal(a, b);

	char small[8];
	acre_slice_name_generate(small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_true(strncmp(small, "slice-", 6) == 0);
}

static void test_enum_names(void **state)
{
	(void)state;
	assert_string_equal(acre_namespace_name(ACRE_NS_CGROUP), "cgroup");
	assert_string_equal(acre_namespace_name(ACRE_NS_PID), "pid");
	assert_string_equal(acre_net_mode_name(ACRE_NET_HOST), "host");
	assert_string_equal(acre_net_mode_name(ACRE_NET_NONE), "none");
	assert_string_equal(acre_net_mode_name(ACRE_NET_BRIDGE), "bridge");
	assert_string_equal(acre_restart_name(ACRE_RESTART_ON_FAILURE), "on-failure");
	assert_string_equal(acre_restart_name(ACRE_RESTART_ALWAYS), "always");
	assert_string_equal(acre_restart_name(ACRE_RESTART_NEVER), "never");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_with_empty_sections),
		cmocka_unit_test(test_numbers_and_strings),
		cmocka_unit_test(test_user_forms),
		cmocka_unit_test(test_cpus_as_json_number_keeps_thousandths),
		cmocka_unit_test(test_memory_minimum),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_bad_command),
		cmocka_unit_test(test_bad_env),
		cmocka_unit_test(test_bad_cwd),
		cmocka_unit_test(test_bad_memory),
		cmocka_unit_test(test_bad_pids),
		cmocka_unit_test(test_bad_cpus),
		cmocka_unit_test(test_net_rate),
		cmocka_unit_test(test_isolated_and_allow),
		cmocka_unit_test(test_bad_namespaces),
		cmocka_unit_test(test_fewer_namespaces),
		cmocka_unit_test(test_seccomp),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_capability_names),
		cmocka_unit_test(test_rootfs),
		cmocka_unit_test(test_host_root_writable),
		cmocka_unit_test(test_network_host),
		cmocka_unit_test(test_network_publish),
		cmocka_unit_test(test_publish_flag),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_round_trip_example),
		cmocka_unit_test(test_round_trip_everything),
		cmocka_unit_test(test_round_trip_unnamed),
		cmocka_unit_test(test_to_json_forms),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_name_generate),
		cmocka_unit_test(test_enum_names),
	};
	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
