/*
 * Virtual IPs' pure pieces: where a service's members go in the slot table (two halves used
 * in turn, ranges that never overlap, freed ranges held back before reuse), and the
 * controller's net.vips message decoded and checked whole, every refusal naming its field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "bpf/vip_slots.h"
#include "supervisor/vip.h"

/* ---- the slot table --------------------------------------------------------- */

static void test_halves_alternate(void **state)
{
	(void)state;
	uint32_t a = acre_bpf_vip_half_base(3, 0), b = acre_bpf_vip_half_base(3, 1);
	assert_int_equal(b - a, ACRE_BPF_VIP_MEMBERS_MAX);
	assert_int_equal(acre_bpf_vip_next_base(3, a), b);
	assert_int_equal(acre_bpf_vip_next_base(3, b), a);
	/* A base inside the range but on no half, or another service's: refused. */
	assert_int_equal(acre_bpf_vip_next_base(3, a + 1), -EINVAL);
	assert_int_equal(acre_bpf_vip_next_base(3, acre_bpf_vip_half_base(4, 0)), -EINVAL);
	assert_int_equal(acre_bpf_vip_next_base(ACRE_BPF_VIP_SERVICES_MAX, 0), -EINVAL);
}

static void test_ranges_disjoint_and_in_table(void **state)
{
	(void)state;
	uint32_t slots = ACRE_BPF_VIP_SERVICES_MAX * 2 * ACRE_BPF_VIP_MEMBERS_MAX;
	for (uint32_t i = 0; i < ACRE_BPF_VIP_SERVICES_MAX; i++) {
		uint32_t lo = acre_bpf_vip_half_base(i, 0);
		assert_int_equal(lo, i * 2 * ACRE_BPF_VIP_MEMBERS_MAX);
		uint32_t hi = acre_bpf_vip_half_base(i, 1) + ACRE_BPF_VIP_MEMBERS_MAX;
		assert_true(hi <= slots);
		if (i + 1 < ACRE_BPF_VIP_SERVICES_MAX)
			assert_int_equal(hi, acre_bpf_vip_half_base(i + 1, 0));
	}
}

static void test_pick_index(void **state)
{
	(void)state;
	bool used[4] = {true, false, false, false};
	uint64_t freed[4] = {0};
	assert_int_equal(acre_bpf_vip_pick_index(used, freed, 4, 5000), 1);
	/* Freed just now: readers may still be in it; the next free one is taken instead. */
	freed[1] = 4900;
	assert_int_equal(acre_bpf_vip_pick_index(used, freed, 4, 5000), 2);
	/* Long enough ago: reused, the lowest first. */
	assert_int_equal(acre_bpf_vip_pick_index(used, freed, 4, 5900), 1);
	/* All free ones recent: the one freed longest ago. */
	freed[2] = 4950;
	freed[3] = 4800;
	assert_int_equal(acre_bpf_vip_pick_index(used, freed, 4, 5000), 3);
	bool full[4] = {true, true, true, true};
	assert_int_equal(acre_bpf_vip_pick_index(full, freed, 4, 5000), -ENOSPC);
}

/* ---- net.vips -------------------------------------------------------------------- */

static int parse(const char *text, struct vip_msg *m, struct acre_error *err)
{
	json_error_t je;
	_cleanup_json_ json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	return vip_msg_parse(j, m, err);
}

static void test_parse_contract_example(void **state)
{
	(void)state;
	struct vip_msg m;
	struct acre_error err = {0};
	int rc = parse("{\"op\": \"net.vips\", \"id\": 13, \"full\": false,"
		       " \"set\": [{\"name\": \"Web\", \"vip\": \"198.19.128.1\","
		       "  \"ports\": [{\"port\": 80, \"proto\": \"tcp\","
		       "   \"backends\": [{\"address\": \"198.19.4.7\", \"port\": 8080},"
		       "                  {\"address\": \"198.19.5.9\", \"port\": 8080}]},"
		       "   {\"port\": 53, \"proto\": \"udp\", \"backends\": []}]}],"
		       " \"gone\": [\"old-1\"]}",
		       &m, &err);
	assert_int_equal(rc, 0);
	assert_false(m.full);
	assert_int_equal(m.nset, 1);
	assert_string_equal(m.set[0].name, "web"); /* names compare without case */
	assert_int_equal(m.set[0].vip, inet_addr("198.19.128.1"));
	assert_int_equal(m.set[0].nports, 2);
	struct vip_port *p = &m.set[0].ports[0];
	assert_int_equal(p->port, htons(80));
	assert_int_equal(p->proto, IPPROTO_TCP);
	assert_int_equal(p->n, 2);
	assert_int_equal(p->members[1].addr, inet_addr("198.19.5.9"));
	assert_int_equal(p->members[1].port, htons(8080));
	assert_int_equal(m.set[0].ports[1].proto, IPPROTO_UDP);
	assert_int_equal(m.set[0].ports[1].n, 0);
	assert_int_equal(m.ngone, 1);
	assert_string_equal(m.gone[0], "old-1");
	vip_msg_free(&m);
}

static void test_parse_full_empty(void **state)
{
	(void)state;
	struct vip_msg m;
	struct acre_error err = {0};
	assert_int_equal(parse("{\"op\": \"net.vips\", \"full\": true, \"set\": [], \"gone\": []}",
			       &m, &err),
			 0);
	assert_true(m.full);
	assert_int_equal(m.nset, 0);
	vip_msg_free(&m);
}

/* Each bad message is refused whole, with the field it names. */
static void test_parse_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *field;
	} bad[] = {
		{"{\"full\": 1}", "full"},
		{"{\"set\": {}}", "set"},
		{"{\"set\": [7]}", "set[0]"},
		{"{\"set\": [{\"name\": \"-web\", \"vip\": \"198.19.128.1\", \"ports\": []}]}",
		 "set[0].name"},
		{"{\"set\": [{\"name\": \"w.b\", \"vip\": \"198.19.128.1\", \"ports\": []}]}",
		 "set[0].name"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"fd00::1\", \"ports\": []}]}",
		 "set[0].vip"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"0.0.0.0\", \"ports\": []}]}",
		 "set[0].vip"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\"}]}", "set[0].ports"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": [{\"port\": "
		 "0,"
		 " \"proto\": \"tcp\", \"backends\": []}]}]}",
		 "set[0].ports[0].port"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": [{\"port\": "
		 "80,"
		 " \"proto\": \"sctp\", \"backends\": []}]}]}",
		 "set[0].ports[0].proto"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": [{\"port\": "
		 "80,"
		 " \"proto\": \"tcp\"}]}]}",
		 "set[0].ports[0].backends"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": [{\"port\": "
		 "80,"
		 " \"proto\": \"tcp\", \"backends\": [{\"address\": \"198.19.4.7\", \"port\": "
		 "70000}]}]}]}",
		 "set[0].ports[0].backends[0].port"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": [{\"port\": "
		 "80,"
		 " \"proto\": \"tcp\", \"backends\": [{\"address\": \"web-1\", \"port\": 80}]}]}]}",
		 "set[0].ports[0].backends[0].address"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": [{\"port\": "
		 "80,"
		 " \"proto\": \"tcp\", \"backends\": []}, {\"port\": 80, \"proto\": \"tcp\","
		 " \"backends\": []}]}]}",
		 "set[0].ports[1]"},
		{"{\"set\": [{\"name\": \"web\", \"vip\": \"198.19.128.1\", \"ports\": []},"
		 " {\"name\": \"WEB\", \"vip\": \"198.19.128.2\", \"ports\": []}]}",
		 "set[1]"},
		{"{\"gone\": \"web\"}", "gone"},
		{"{\"gone\": [\"\"]}", "gone[0]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vip_msg m;
		struct acre_error err = {0};
		int rc = parse(bad[i].msg, &m, &err);
		if (rc >= 0)
			fail_msg("accepted: %s", bad[i].msg);
		if (strcmp(err.field, bad[i].field))
			fail_msg("%s: field %s, expected %s (%s)", bad[i].msg, err.field,
				 bad[i].field, err.message);
		assert_non_null(strstr(err.message, bad[i].field));
		assert_null(m.set); /* nothing kept of a refused message */
	}
}

static void test_parse_too_many_members(void **state)
{
	(void)state;
	_cleanup_json_ json_t *backends = json_array();
	for (int i = 0; i <= ACRE_BPF_VIP_MEMBERS_MAX; i++)
		json_array_append_new(backends, json_pack("{s:s,s:i}", "address", "198.19.4.7",
							  "port", 1000 + i));
	_cleanup_json_ json_t *msg = json_pack("{s:[{s:s,s:s,s:[{s:i,s:s,s:O}]}]}", "set", "name",
					       "web", "vip", "198.19.128.1", "ports", "port", 80,
					       "proto", "tcp", "backends", backends);
	struct vip_msg m;
	struct acre_error err = {0};
	assert_int_equal(vip_msg_parse(msg, &m, &err), -E2BIG);
	assert_string_equal(err.field, "set[0].ports[0].backends");
	/* One fewer fits. */
	json_array_remove(backends, 0);
	assert_int_equal(vip_msg_parse(msg, &m, &err), 0);
	assert_int_equal(m.set[0].ports[0].n, ACRE_BPF_VIP_MEMBERS_MAX);
	vip_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_halves_alternate),
		cmocka_unit_test(test_ranges_disjoint_and_in_table),
		cmocka_unit_test(test_pick_index),
		cmocka_unit_test(test_parse_contract_example),
		cmocka_unit_test(test_parse_full_empty),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_too_many_members),
	};
	return cmocka_run_group_tests_name("vip", tests, NULL, NULL);
}
