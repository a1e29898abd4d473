/*
 * The pool network's messages (supervisor/pool_net_msg.c): the VTEP MAC a
 * node id gives, MAC parsing, the registration reply's `network` member
 * (and its round trip through the form kept on disk), and net.peers: good
 * tables, and bad ones refused whole with the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "supervisor/pool_net.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad JSON in the test: %s: %s", text, e.text);
	return j;
}

static void test_vtep_mac(void **state)
{
	(void)state;
	uint8_t a[6], b[6], c[6];
	pool_net_vtep_mac("web-8-1c2d", a);
	pool_net_vtep_mac("web-8-1c2d", b);
	pool_net_vtep_mac("web-9-1c2d", c);
	assert_memory_equal(a, b, 6); /* stable: known before the device exists */
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(a[0], 0x02); /* locally administered, unicast */
	assert_int_equal(a[1], 0xac);
	uint8_t m[6];
	assert_int_equal(pool_net_mac_parse("02:ac:5e:00:12:34", m), 0);
	assert_int_equal(m[2], 0x5e);
	assert_int_equal(m[5], 0x34);
	assert_int_equal(pool_net_mac_parse("02:AC:5E:00:12:3F", m), 0);
	assert_int_equal(pool_net_mac_parse("01:00:5e:00:00:01", m), -EINVAL); /* multicast */
	assert_int_equal(pool_net_mac_parse("00:00:00:00:00:00", m), -EINVAL);
	assert_int_equal(pool_net_mac_parse("02:ac:5e:00:12", m), -EINVAL);
	assert_int_equal(pool_net_mac_parse("02-ac-5e-00-12-34", m), -EINVAL);
	assert_int_equal(pool_net_mac_parse("02:ac:5e:00:12:3g", m), -EINVAL);
	assert_int_equal(pool_net_mac_parse(NULL, m), -EINVAL);
}

static const char good_network[] =
	"{\"pool_cidr\": \"198.19.0.0/17\", \"subnet\": \"198.19.4.0/24\","
	" \"vip_cidr\": \"198.19.128.0/20\", \"overlay\": \"vxlan\", \"vni\": 7470,"
	" \"vxlan_port\": 4789, \"address\": \"198.18.5.12\"}";

static void test_config(void **state)
{
	(void)state;
	struct pool_net_config c, back;
	struct acre_error err = {0};
	json_t *j = parse(good_network);
	assert_int_equal(pool_net_config_parse(j, &c, &err), 0);
	assert_int_equal(c.overlay, POOL_OVERLAY_VXLAN);
	assert_int_equal(c.subnet.network, 0xc6130400u);
	assert_int_equal(c.subnet.prefix, 24);
	assert_int_equal(c.vni, 7470);
	assert_int_equal(c.vxlan_port, 4789);
	assert_int_equal(c.address, 0xc612050cu);
	assert_true(c.has_vip_cidr);
	/* What is kept on disk reads back the same. */
	json_t *kept = pool_net_config_json(&c);
	assert_int_equal(pool_net_config_parse(kept, &back, &err), 0);
	assert_true(pool_net_config_equal(&c, &back));
	json_decref(kept);
	json_decref(j);

	/* host-gw, no VIP range, the defaults for the rest. */
	j = parse("{\"pool_cidr\": \"198.19.0.0/17\", \"subnet\": \"198.19.5.0/24\","
		  " \"overlay\": \"host-gw\", \"address\": \"198.18.5.13\"}");
	assert_int_equal(pool_net_config_parse(j, &c, &err), 0);
	assert_int_equal(c.overlay, POOL_OVERLAY_HOST_GW);
	assert_false(c.has_vip_cidr);
	assert_int_equal(c.vni, 7470);
	assert_int_equal(c.vxlan_port, 4789);
	assert_false(pool_net_config_equal(&c, &back));
	/* Without a VIP range, what is kept reads back too. */
	kept = pool_net_config_json(&c);
	assert_null(json_object_get(kept, "vip_cidr"));
	assert_int_equal(pool_net_config_parse(kept, &back, &err), 0);
	assert_true(pool_net_config_equal(&c, &back));
	json_decref(kept);
	json_decref(j);
}

static void config_refused(const char *key, const char *value, const char *field)
{
	json_t *j = parse(good_network);
	json_t *v = value ? parse(value) : NULL;
	if (v)
		json_object_set_new(j, key, v);
	else
		json_object_del(j, key);
	struct pool_net_config c;
	struct acre_error err = {0};
	assert_int_equal(pool_net_config_parse(j, &c, &err), -EINVAL);
	if (!strstr(err.message, field))
		fail_msg("%s=%s: \"%s\" does not name %s", key, value ? value : "(none)",
			 err.message, field);
	json_decref(j);
}

static void test_config_bad(void **state)
{
	(void)state;
	config_refused("subnet", NULL, "network.subnet");
	config_refused("subnet", "\"198.19.4.1/24\"", "network.subnet");
	config_refused("subnet", "\"198.20.4.0/24\"", "not inside network.pool_cidr");
	config_refused("subnet", "\"198.19.4.0/31\"", "network.subnet");
	config_refused("pool_cidr", "17", "network.pool_cidr");
	config_refused("overlay", "\"flannel\"", "network.overlay");
	config_refused("overlay", NULL, "network.overlay");
	config_refused("vni", "0", "network.vni");
	config_refused("vni", "16777216", "network.vni");
	config_refused("vxlan_port", "65536", "network.vxlan_port");
	config_refused("vxlan_port", "\"4789\"", "network.vxlan_port");
	config_refused("address", "\"198.18.5\"", "network.address");
	config_refused("address", NULL, "network.address");
	config_refused("vip_cidr", "\"x\"", "network.vip_cidr");
	struct pool_net_config c;
	struct acre_error err = {0};
	json_t *arr = parse("[]");
	assert_int_equal(pool_net_config_parse(arr, &c, &err), -EINVAL);
	json_decref(arr);
}

static void test_peers(void **state)
{
	(void)state;
	struct pool_peers_msg m;
	struct acre_error err = {0};
	json_t *j = parse("{\"op\": \"net.peers\", \"id\": 11, \"full\": true, \"set\": ["
			  "{\"node\": \"web-8-1c2d\", \"address\": \"198.18.5.13\","
			  " \"subnet\": \"198.19.5.0/24\", \"vtep_mac\": \"02:ac:5e:00:12:35\"},"
			  "{\"node\": \"web-9\", \"address\": \"198.18.5.14\","
			  " \"subnet\": \"198.19.6.0/24\"}], \"gone\": [\"old-1\"]}");
	assert_int_equal(pool_peers_msg_parse(j, &m, &err), 0);
	assert_true(m.full);
	assert_int_equal(m.set.n, 2);
	assert_string_equal(m.set.v[0].node, "web-8-1c2d");
	assert_int_equal(m.set.v[0].address, 0xc612050du);
	assert_int_equal(m.set.v[0].subnet.network, 0xc6130500u);
	assert_true(m.set.v[0].has_mac);
	assert_int_equal(m.set.v[0].vtep_mac[5], 0x35);
	assert_false(m.set.v[1].has_mac);
	assert_string_equal(m.gone[0], "old-1");
	assert_null(m.gone[1]);
	assert_false(pool_peer_equal(&m.set.v[0], &m.set.v[1]));
	struct pool_peer moved = m.set.v[0];
	assert_true(pool_peer_equal(&moved, &m.set.v[0]));
	moved.address++;
	assert_false(pool_peer_equal(&moved, &m.set.v[0]));
	pool_peers_msg_free(&m);
	json_decref(j);

	/* Only changes: no full, no set. */
	j = parse("{\"op\": \"net.peers\", \"id\": 12, \"gone\": [\"web-9\"]}");
	assert_int_equal(pool_peers_msg_parse(j, &m, &err), 0);
	assert_false(m.full);
	assert_int_equal(m.set.n, 0);
	pool_peers_msg_free(&m);
	json_decref(j);
}

static void peers_refused(const char *text, const char *field)
{
	struct pool_peers_msg m;
	struct acre_error err = {0};
	json_t *j = parse(text);
	assert_int_equal(pool_peers_msg_parse(j, &m, &err), -EINVAL);
	if (!strstr(err.message, field))
		fail_msg("%s: \"%s\" does not name %s", text, err.message, field);
	assert_int_equal(m.set.n, 0); /* nothing of it is kept */
	assert_null(m.gone);
	json_decref(j);
}

static void test_peers_bad(void **state)
{
	(void)state;
	peers_refused("{\"full\": 1}", "full");
	peers_refused("{\"set\": {}}", "set");
	peers_refused("{\"gone\": \"a\"}", "gone");
	peers_refused("{\"gone\": [\"a\", 3]}", "gone[1]");
	peers_refused("{\"gone\": [\"\"]}", "gone[0]");
	peers_refused("{\"set\": [{\"node\": \"a\", \"address\": \"198.18.5.13\","
		      " \"subnet\": \"198.19.5.0/24\"}, {\"node\": \"b\", \"address\":"
		      " \"198.18.5.14\", \"subnet\": \"198.19.6.1/24\"}]}",
		      "set[1].subnet");
	peers_refused("{\"set\": [{\"address\": \"198.18.5.13\", \"subnet\": \"198.19.5.0/24\"}]}",
		      "set[0].node");
	peers_refused("{\"set\": [{\"node\": \"has space\", \"address\": \"198.18.5.13\","
		      " \"subnet\": \"198.19.5.0/24\"}]}",
		      "set[0].node");
	peers_refused("{\"set\": [{\"node\": \"a\", \"address\": \"0.0.0.0\","
		      " \"subnet\": \"198.19.5.0/24\"}]}",
		      "set[0].address");
	peers_refused("{\"set\": [{\"node\": \"a\", \"address\": \"198.18.5.13\","
		      " \"subnet\": \"198.19.5.0/24\", \"vtep_mac\": \"ff:ff:ff:ff:ff:ff\"}]}",
		      "set[0].vtep_mac");
	peers_refused("{\"set\": [7]}", "set[0]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtep_mac),   cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_bad), cmocka_unit_test(test_peers),
		cmocka_unit_test(test_peers_bad),
	};
	return cmocka_run_group_tests_name("pool_net_msg", tests, NULL, NULL);
}
