/*
 * network.publish: ports of the node mapped to ports of a bridged slice,
 * [{"node_port": 8080, "port": 80, "proto": "tcp"}], and the CLI's
 * "8080:80[/tcp|udp]" for one of them.  Checked here, before anything is
 * created: ports 1 to 65535, tcp or udp, no node port twice for one
 * protocol.  Whether the node port is free is the node's to say, at launch.
 */
#include "common.h"

#include <netinet/in.h>

const char *acre_publish_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static int proto_parse(const char *s, uint8_t *out)
{
	if (strcmp(s, "tcp") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*out = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

/* 1..65535 from a JSON integer. */
static int port_json(const json_t *v, uint16_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return -EINVAL;
	*out = (uint16_t)json_integer_value(v);
	return 0;
}

/* 1..65535 in decimal, nothing else; *end is where the digits stopped. */
static int port_text(const char *s, uint16_t *out, const char **end)
{
	unsigned long v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9' && p - s < 6)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (p == s || v < 1 || v > 65535 || (*p >= '0' && *p <= '9'))
		return -EINVAL;
	*out = (uint16_t)v;
	*end = p;
	return 0;
}

int acre_publish_parse(const char *s, struct acre_publish *out, struct acre_error *err)
{
	const char *p;
	*out = (struct acre_publish){.proto = IPPROTO_TCP};
	if (port_text(s, &out->node_port, &p) < 0 || *p != ':' ||
	    port_text(p + 1, &out->port, &p) < 0 || (*p && *p != '/') ||
	    (*p == '/' && proto_parse(p + 1, &out->proto) < 0))
		return acre_error_set(err, EINVAL, "network.publish",
				      "--publish %s: must be NODE_PORT:PORT[/tcp|udp], ports 1 to "
				      "65535",
				      s);
	return 0;
}

static int parse_one(const json_t *v, size_t i, struct acre_publish *out, struct acre_error *err)
{
	static const char *const f = "network.publish";
	const char *key;
	json_t *m;
	if (!json_is_object(v))
		return acre_error_set(err, EINVAL, f,
				      "%s[%zu]: must be an object {\"node_port\", \"port\", "
				      "\"proto\"}",
				      f, i);
	json_object_foreach ((json_t *)v, key, m)
		if (strcmp(key, "node_port") && strcmp(key, "port") && strcmp(key, "proto"))
			return acre_error_set(err, EINVAL, f, "%s[%zu].%s: unknown field", f, i,
					      key);
	*out = (struct acre_publish){.proto = IPPROTO_TCP};
	if (port_json(json_object_get(v, "node_port"), &out->node_port) < 0)
		return acre_error_set(err, EINVAL, f, "%s[%zu].node_port: must be 1 to 65535", f,
				      i);
	if (port_json(json_object_get(v, "port"), &out->port) < 0)
		return acre_error_set(err, EINVAL, f, "%s[%zu].port: must be 1 to 65535", f, i);
	json_t *proto = json_object_get(v, "proto");
	if (proto &&
	    (!json_is_string(proto) || proto_parse(json_string_value(proto), &out->proto) < 0))
		return acre_error_set(err, EINVAL, f, "%s[%zu].proto: must be tcp or udp", f, i);
	return 0;
}

int acre_publish_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	static const char *const f = "network.publish";
	if (!json_is_array(j))
		return acre_error_set(err, EINVAL, f, "%s: must be an array", f);
	if (json_array_size(j) > ACRE_PUBLISH_MAX)
		return acre_error_set(err, EINVAL, f, "%s: at most %d ports", f, ACRE_PUBLISH_MAX);
	if (json_array_size(j) && spec->net_mode != ACRE_NET_BRIDGE)
		return acre_error_set(err, EINVAL, f, "%s: needs network.mode bridge", f);
	spec->net_publish = calloc(json_array_size(j) + 1, sizeof(*spec->net_publish));
	if (!spec->net_publish)
		return -ENOMEM;
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		struct acre_publish *p = &spec->net_publish[i];
		int rc = parse_one(v, i, p, err);
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (spec->net_publish[k].node_port == p->node_port &&
			    spec->net_publish[k].proto == p->proto)
				return acre_error_set(err, EINVAL, f,
						      "%s[%zu]: node port %u/%s is published "
						      "twice",
						      f, i, p->node_port,
						      acre_publish_proto_name(p->proto));
		spec->net_npublish = i + 1;
	}
	return 0;
}

json_t *acre_publish_to_json(const struct acre_slice_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->net_npublish; i++) {
		const struct acre_publish *p = &spec->net_publish[i];
		json_array_append_new(a, json_pack("{s:i,s:i,s:s}", "node_port", p->node_port,
						   "port", p->port, "proto",
						   acre_publish_proto_name(p->proto)));
	}
	return a;
}
