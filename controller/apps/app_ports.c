/*
 * An app's named ports and the ones it publishes.  "http" or "http:8080"
 * ("/udp" after it for UDP): on the bridge the number is the slice's own
 * port, the same in every instance (its address is its own), so it must be
 * given; on the host's network it is the node's port, given, or picked
 * from the node's range at placement when left out.  Names are IANA
 * service names (RFC 6335), lower case, because they become DNS SRV
 * services and PORT_<NAME> variables.  "18080:http" publishes a bridged
 * port on each instance's node.
 */
#include "internal.h"
#include "runtime.h"

#include <ctype.h>
#include <netinet/in.h>

bool app_port_name_valid(const char *s)
{
	return acre_port_name_valid(s);
}

int app_port_find(const struct app_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->nports; i++)
		if (!strcmp(spec->ports[i].name, name))
			return (int)i;
	return -1;
}

bool app_port_picked(const struct app_spec *spec, size_t i)
{
	return spec->slice.net_mode == ACRE_NET_HOST && !spec->ports[i].port;
}

unsigned app_ports_picked(const struct app_spec *spec)
{
	unsigned n = 0;
	for (size_t i = 0; i < spec->nports; i++)
		n += app_port_picked(spec, i);
	return n;
}

int app_port_number(const struct app_spec *spec, size_t i, const uint16_t *host_ports,
		    struct acre_error *err)
{
	if (spec->ports[i].port)
		return spec->ports[i].port;
	if (host_ports && host_ports[i])
		return host_ports[i];
	return acre_error_set(err, EINVAL, "ports",
			      "ports[%zu] %s: no port of the node given for it (picked at "
			      "placement from the node's range)",
			      i, spec->ports[i].name);
}

void app_slot_note_ports(struct app *app, struct app_slot *slot, const struct app_spec *spec,
			 const struct pool_slice *sl)
{
	for (size_t i = 0; i < spec->nports; i++) {
		uint16_t port = app_port_picked(spec, i)
					? pool_slice_host_port(sl, spec->ports[i].name)
					: 0;
		if (port && slot->host_ports[i] != port) {
			slot->host_ports[i] = port;
			app->row_dirty = true;
		}
	}
}

void app_port_env_name(const char *port, char *buf, size_t len)
{
	acre_port_env_name(port, buf, len);
}

/* 1..65535 in decimal and nothing else. */
static bool port_number(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "NAME[:PORT][/tcp|udp]" */
static int parse_port(const char *s, size_t i, struct app_port *p, struct acre_error *err)
{
	char text[64], *num, *proto;
	if (strlen(s) >= sizeof(text))
		return acre_error_set(err, EINVAL, "ports", "ports[%zu]: too long", i);
	snprintf(text, sizeof(text), "%s", s);
	*p = (struct app_port){.proto = IPPROTO_TCP};
	if ((proto = strchr(text, '/'))) {
		*proto++ = '\0';
		if (!strcmp(proto, "udp"))
			p->proto = IPPROTO_UDP;
		else if (strcmp(proto, "tcp"))
			return acre_error_set(err, EINVAL, "ports",
					      "ports[%zu] %s: the protocol is tcp or udp", i, s);
	}
	if ((num = strchr(text, ':'))) {
		*num++ = '\0';
		if (!port_number(num, &p->port))
			return acre_error_set(err, EINVAL, "ports",
					      "ports[%zu] %s: the port must be 1 to 65535", i, s);
	}
	if (!app_port_name_valid(text))
		return acre_error_set(
			err, EINVAL, "ports",
			"ports[%zu] %s: the name must be 1 to %d lower-case letters, "
			"digits or '-' (with a letter, no '-' first, last or twice in "
			"a row), as in \"http\" or \"http:8080\"",
			i, s, APP_PORT_NAME_MAX);
	snprintf(p->name, sizeof(p->name), "%s", text);
	return 0;
}

static const char *proto_name(uint8_t proto)
{
	return acre_publish_proto_name(proto);
}

static int check_port(const struct app_spec *spec, size_t i, const char *s, struct acre_error *err)
{
	const struct app_port *p = &spec->ports[i];
	if (spec->slice.net_mode == ACRE_NET_BRIDGE && !p->port)
		return acre_error_set(err, EINVAL, "ports",
				      "ports[%zu] %s: on the bridge give the slice's port "
				      "(%s:8080)",
				      i, s, p->name);
	for (size_t k = 0; k < i; k++) {
		const struct app_port *q = &spec->ports[k];
		if (!strcmp(q->name, p->name))
			return acre_error_set(err, EINVAL, "ports",
					      "ports[%zu]: %s is declared twice", i, p->name);
		if (p->port && q->port == p->port && q->proto == p->proto)
			return acre_error_set(err, EINVAL, "ports",
					      "ports[%zu]: port %u/%s is also %s", i, p->port,
					      proto_name(p->proto), q->name);
	}
	return 0;
}

int app_ports_parse(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	if (!j || (json_is_array(j) && json_array_size(j) == 0))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > APP_PORTS_MAX)
		return acre_error_set(err, EINVAL, "ports",
				      "ports: must be an array of at most %d names like \"http\" "
				      "or \"http:8080\"",
				      APP_PORTS_MAX);
	if (spec->slice.net_mode == ACRE_NET_NONE)
		return acre_error_set(err, EINVAL, "ports",
				      "ports: need slice.network.mode host or bridge (the "
				      "instances have no network)");
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		const char *s = acre_json_c_string(v);
		int rc;
		if (!s)
			return acre_error_set(err, EINVAL, "ports", "ports[%zu]: must be a string",
					      i);
		if ((rc = parse_port(s, i, &spec->ports[i], err)) < 0 ||
		    (rc = check_port(spec, i, s, err)) < 0)
			return rc;
		spec->nports = i + 1;
	}
	return 0;
}

/* "NODE_PORT:NAME" */
static int parse_publish(const struct app_spec *spec, const char *s, size_t i,
			 struct app_publish *out, struct acre_error *err)
{
	char text[64];
	char *colon;
	int port;
	snprintf(text, sizeof(text), "%s", s);
	if (strlen(s) >= sizeof(text) || !(colon = strchr(text, ':')))
		return acre_error_set(err, EINVAL, "publish",
				      "publish[%zu] %s: must be NODE_PORT:NAME, as in "
				      "\"18080:http\"",
				      i, s);
	*colon = '\0';
	if (!port_number(text, &out->node_port))
		return acre_error_set(err, EINVAL, "publish",
				      "publish[%zu] %s: the node's port must be 1 to 65535", i, s);
	if ((port = app_port_find(spec, colon + 1)) < 0)
		return acre_error_set(err, EINVAL, "publish",
				      "publish[%zu]: %s is not a declared port", i, colon + 1);
	out->port = (unsigned)port;
	return 0;
}

int app_publish_parse(const json_t *j, struct app_spec *spec, struct acre_error *err)
{
	if (!j || (json_is_array(j) && json_array_size(j) == 0))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > APP_PORTS_MAX)
		return acre_error_set(err, EINVAL, "publish",
				      "publish: must be an array of at most %d \"NODE_PORT:NAME\"",
				      APP_PORTS_MAX);
	if (spec->slice.net_mode != ACRE_NET_BRIDGE)
		return acre_error_set(err, EINVAL, "publish",
				      "publish: needs slice.network.mode bridge (on the host's "
				      "network the ports are the node's already)");
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		const char *s = acre_json_c_string(v);
		struct app_publish *p = &spec->publish[i];
		int rc;
		if (!s)
			return acre_error_set(err, EINVAL, "publish",
					      "publish[%zu]: must be a string", i);
		if ((rc = parse_publish(spec, s, i, p, err)) < 0)
			return rc;
		for (size_t k = 0; k < i; k++) {
			const struct app_publish *q = &spec->publish[k];
			if (q->node_port == p->node_port &&
			    spec->ports[q->port].proto == spec->ports[p->port].proto)
				return acre_error_set(err, EINVAL, "publish",
						      "publish[%zu]: node port %u/%s is published "
						      "twice",
						      i, p->node_port,
						      proto_name(spec->ports[p->port].proto));
		}
		spec->npublish = i + 1;
	}
	return 0;
}

json_t *app_ports_to_json(const struct app_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->nports; i++) {
		const struct app_port *p = &spec->ports[i];
		char buf[64], num[8] = "";
		if (p->port)
			snprintf(num, sizeof(num), ":%u", p->port);
		snprintf(buf, sizeof(buf), "%s%s%s", p->name, num,
			 p->proto == IPPROTO_UDP ? "/udp" : "");
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

json_t *app_publish_to_json(const struct app_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->npublish; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%u:%s", spec->publish[i].node_port,
			 spec->ports[spec->publish[i].port].name);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}
