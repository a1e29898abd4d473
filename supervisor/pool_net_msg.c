/*
 * The pool network's messages, decoded and checked before anything is
 * applied: the registration reply's `network` member (also the form it is
 * kept in on disk) and `net.peers`.  A message with one bad entry is
 * refused whole, with an error that names the field ("set[2].subnet"), so
 * the kernel never holds half of a table.  Pure: unit-tested without root.
 */
#include "pool_net.h"

#include <ctype.h>

static const char *const overlay_names[] = {"host-gw", "vxlan"};

const char *pool_overlay_name(enum pool_overlay o)
{
	return overlay_names[o == POOL_OVERLAY_VXLAN];
}

void pool_net_vtep_mac(const char *node_id, uint8_t mac[6])
{
	/* FNV-1a: any stable spread will do; peers learn the MAC from the pool anyway. */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)node_id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0xac;
	for (int i = 0; i < 4; i++)
		mac[2 + i] = (uint8_t)(h >> (8 * i));
}

int pool_net_mac_parse(const char *s, uint8_t mac[6])
{
	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		char hex[3] = {p[0], p[1], 0};
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	static const uint8_t zero[6];
	if ((mac[0] & 1) || !memcmp(mac, zero, 6)) /* multicast, or nobody's */
		return -EINVAL;
	return 0;
}

static int get_cidr(const json_t *o, const char *key, const char *prefix, bool required,
		    struct acre_cidr *out, bool *present, struct acre_error *err)
{
	char field[64];
	snprintf(field, sizeof(field), "%s%s", prefix, key);
	json_t *v = json_object_get(o, key);
	if (present)
		*present = v != NULL;
	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return acre_error_set(err, EINVAL, field, "%s: required, a CIDR", field);
	return acre_cidr_parse(json_string_value(v), out, err, field);
}

static int get_addr(const json_t *o, const char *key, const char *prefix, uint32_t *out,
		    struct acre_error *err)
{
	char field[64];
	snprintf(field, sizeof(field), "%s%s", prefix, key);
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || acre_cidr_addr_parse(s, out) < 0 || *out == 0)
		return acre_error_set(err, EINVAL, field, "%s: required, an IPv4 address", field);
	return 0;
}

int pool_net_config_parse(const json_t *j, struct pool_net_config *c, struct acre_error *err)
{
	static const char p[] = "network.";
	*c = (struct pool_net_config){.vni = 7470, .vxlan_port = 4789};
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "network", "network: must be an object");
	int rc = get_cidr(j, "pool_cidr", p, true, &c->pool_cidr, NULL, err);
	if (rc == 0)
		rc = get_cidr(j, "subnet", p, true, &c->subnet, NULL, err);
	if (rc == 0)
		rc = acre_cidr_check_subnet(&c->subnet, err, "network.subnet");
	if (rc == 0)
		rc = get_cidr(j, "vip_cidr", p, false, &c->vip_cidr, &c->has_vip_cidr, err);
	if (rc == 0)
		rc = get_addr(j, "address", p, &c->address, err);
	if (rc < 0)
		return rc;
	if (!acre_cidr_contains(&c->pool_cidr, c->subnet.network) ||
	    c->subnet.prefix < c->pool_cidr.prefix)
		return acre_error_set(err, EINVAL, "network.subnet",
				      "network.subnet: not inside network.pool_cidr");
	const char *ov = json_string_value(json_object_get(j, "overlay"));
	if (!ov || (strcmp(ov, "host-gw") && strcmp(ov, "vxlan")))
		return acre_error_set(err, EINVAL, "network.overlay",
				      "network.overlay: expected host-gw or vxlan");
	c->overlay = strcmp(ov, "vxlan") ? POOL_OVERLAY_HOST_GW : POOL_OVERLAY_VXLAN;
	json_t *vni = json_object_get(j, "vni"), *port = json_object_get(j, "vxlan_port");
	if (vni && (!json_is_integer(vni) || json_integer_value(vni) < 1 ||
		    json_integer_value(vni) > 16777215))
		return acre_error_set(err, EINVAL, "network.vni", "network.vni: 1 to 16777215");
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535))
		return acre_error_set(err, EINVAL, "network.vxlan_port",
				      "network.vxlan_port: 1 to 65535");
	if (vni)
		c->vni = (uint32_t)json_integer_value(vni);
	if (port)
		c->vxlan_port = (uint16_t)json_integer_value(port);
	return 0;
}

json_t *pool_net_config_json(const struct pool_net_config *c)
{
	char pool[ACRE_CIDR_STRLEN], sub[ACRE_CIDR_STRLEN], vip[ACRE_CIDR_STRLEN],
		addr[ACRE_ADDR_STRLEN];
	acre_cidr_format(&c->pool_cidr, pool, sizeof(pool));
	acre_cidr_format(&c->subnet, sub, sizeof(sub));
	acre_cidr_format(&c->vip_cidr, vip, sizeof(vip));
	acre_cidr_addr_format(c->address, addr, sizeof(addr));
	json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "pool_cidr", pool, "subnet", sub,
			      "overlay", pool_overlay_name(c->overlay), "vni", (json_int_t)c->vni,
			      "vxlan_port", (json_int_t)c->vxlan_port, "address", addr);
	/* Absent, not null: a null would not read back. */
	if (j && c->has_vip_cidr)
		json_object_set_new(j, "vip_cidr", json_string(vip));
	return j;
}

static bool cidr_equal(const struct acre_cidr *a, const struct acre_cidr *b)
{
	return a->network == b->network && a->prefix == b->prefix;
}

bool pool_net_config_equal(const struct pool_net_config *a, const struct pool_net_config *b)
{
	return cidr_equal(&a->pool_cidr, &b->pool_cidr) && cidr_equal(&a->subnet, &b->subnet) &&
	       a->has_vip_cidr == b->has_vip_cidr &&
	       (!a->has_vip_cidr || cidr_equal(&a->vip_cidr, &b->vip_cidr)) &&
	       a->overlay == b->overlay && a->vni == b->vni && a->vxlan_port == b->vxlan_port &&
	       a->address == b->address;
}

bool pool_peer_equal(const struct pool_peer *a, const struct pool_peer *b)
{
	return a->address == b->address && cidr_equal(&a->subnet, &b->subnet) &&
	       a->has_mac == b->has_mac && (!a->has_mac || !memcmp(a->vtep_mac, b->vtep_mac, 6));
}

static bool node_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > ACRE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return false;
	return true;
}

static int parse_peer(const json_t *o, size_t i, struct pool_peer *p, struct acre_error *err)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "set[%zu].", i);
	*p = (struct pool_peer){0};
	if (!json_is_object(o))
		return acre_error_set(err, EINVAL, "set", "set[%zu]: must be an object", i);
	const char *node = json_string_value(json_object_get(o, "node"));
	if (!node_id_valid(node))
		return acre_error_set(err, EINVAL, "node", "%snode: required, a node id", prefix);
	snprintf(p->node, sizeof(p->node), "%s", node);
	int rc = get_addr(o, "address", prefix, &p->address, err);
	if (rc == 0)
		rc = get_cidr(o, "subnet", prefix, true, &p->subnet, NULL, err);
	if (rc < 0)
		return rc;
	json_t *mac = json_object_get(o, "vtep_mac");
	if (mac && pool_net_mac_parse(json_string_value(mac), p->vtep_mac) < 0)
		return acre_error_set(
			err, EINVAL, "vtep_mac",
			"%svtep_mac: expected a unicast MAC such as 02:ac:5e:00:12:34", prefix);
	p->has_mac = mac != NULL;
	return 0;
}

int pool_peers_msg_parse(const json_t *req, struct pool_peers_msg *m, struct acre_error *err)
{
	*m = (struct pool_peers_msg){0};
	json_t *full = json_object_get(req, "full"), *set = json_object_get(req, "set"),
	       *gone = json_object_get(req, "gone");
	if (full && !json_is_boolean(full))
		return acre_error_set(err, EINVAL, "full", "full: must be true or false");
	if (set && !json_is_array(set))
		return acre_error_set(err, EINVAL, "set", "set: must be an array of peers");
	if (gone && !json_is_array(gone))
		return acre_error_set(err, EINVAL, "gone", "gone: must be an array of node ids");
	m->full = json_is_true(full);
	size_t i;
	json_t *v;
	json_array_foreach (set, i, v) {
		struct pool_peer p;
		int rc = parse_peer(v, i, &p, err);
		if (rc == 0 && acre_vec_push(&m->set, p) < 0)
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		if (rc < 0) {
			pool_peers_msg_free(m);
			return rc;
		}
	}
	json_array_foreach (gone, i, v) {
		const char *id = json_string_value(v);
		int rc = !node_id_valid(id) ? acre_error_set(err, EINVAL, "gone",
							     "gone[%zu]: expected a node id", i)
			 : acre_strv_push(&m->gone, id) < 0
				 ? acre_error_set(err, ENOMEM, NULL, "out of memory")
				 : 0;
		if (rc < 0) {
			pool_peers_msg_free(m);
			return rc;
		}
	}
	return 0;
}

void pool_peers_msg_free(struct pool_peers_msg *m)
{
	acre_vec_free(&m->set);
	acre_strv_free(m->gone);
	m->gone = NULL;
}
