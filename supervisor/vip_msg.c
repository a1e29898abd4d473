/*
 * The controller's net.vips message (controller/README.md, "Pool networking"), decoded and
 * checked whole before anything is applied: a message with one bad member changes nothing,
 * and the error names the field (`set[0].ports[1].proto: tcp or udp`).  Pure: no kernel, no
 * socket, so the unit test covers every refusal.
 */
#include "vip.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>

/* A DNS label, as names in .acre are; kept in lower case (names compare without case). */
static int parse_name(json_t *j, char *out, const char *field, struct acre_error *err)
{
	const char *s = json_string_value(j);
	size_t n = s ? strlen(s) : 0;
	bool ok = n >= 1 && n <= ACRE_NAME_MAX && s[0] != '-' && s[n - 1] != '-';
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '-';
	if (!ok)
		return acre_error_set(err, EINVAL, field, "%s: a DNS label (letters, digits, '-')",
				      field);
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return 0;
}

static int parse_addr(json_t *j, uint32_t *out, const char *field, struct acre_error *err)
{
	const char *s = json_string_value(j);
	struct in_addr a;
	if (!s || inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0)
		return acre_error_set(err, EINVAL, field, "%s: an IPv4 address", field);
	*out = a.s_addr;
	return 0;
}

static int parse_port(json_t *j, uint16_t *out, const char *field, struct acre_error *err)
{
	json_int_t p = json_is_integer(j) ? json_integer_value(j) : 0;
	if (p < 1 || p > 65535)
		return acre_error_set(err, EINVAL, field, "%s: a port from 1 to 65535", field);
	*out = htons((uint16_t)p);
	return 0;
}

static int parse_backends(json_t *list, struct vip_port *p, const char *at, struct acre_error *err)
{
	char field[128];
	snprintf(field, sizeof(field), "%s.backends", at);
	if (!json_is_array(list))
		return acre_error_set(err, EINVAL, field, "%s: an array", field);
	if (json_array_size(list) > ACRE_BPF_VIP_MEMBERS_MAX)
		return acre_error_set(err, E2BIG, field, "%s: at most %d members", field,
				      ACRE_BPF_VIP_MEMBERS_MAX);
	size_t i;
	json_t *be;
	json_array_foreach (list, i, be) {
		struct acre_bpf_vip_member *m = &p->members[i];
		snprintf(field, sizeof(field), "%s.backends[%zu].address", at, i);
		int rc = parse_addr(json_object_get(be, "address"), &m->addr, field, err);
		snprintf(field, sizeof(field), "%s.backends[%zu].port", at, i);
		if (rc == 0)
			rc = parse_port(json_object_get(be, "port"), &m->port, field, err);
		if (rc < 0)
			return rc;
	}
	p->n = json_array_size(list);
	return 0;
}

static int parse_port_entry(json_t *j, struct vip_port *p, const char *at, struct acre_error *err)
{
	char field[128];
	snprintf(field, sizeof(field), "%s.port", at);
	int rc = parse_port(json_object_get(j, "port"), &p->port, field, err);
	if (rc < 0)
		return rc;
	const char *proto = json_string_value(json_object_get(j, "proto"));
	snprintf(field, sizeof(field), "%s.proto", at);
	if (proto && !strcmp(proto, "tcp"))
		p->proto = IPPROTO_TCP;
	else if (proto && !strcmp(proto, "udp"))
		p->proto = IPPROTO_UDP;
	else
		return acre_error_set(err, EINVAL, field, "%s: tcp or udp", field);
	return parse_backends(json_object_get(j, "backends"), p, at, err);
}

static int parse_record(json_t *j, struct vip_record *r, const char *at, struct acre_error *err)
{
	char field[128];
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, at, "%s: an object", at);
	snprintf(field, sizeof(field), "%s.name", at);
	int rc = parse_name(json_object_get(j, "name"), r->name, field, err);
	snprintf(field, sizeof(field), "%s.vip", at);
	if (rc == 0)
		rc = parse_addr(json_object_get(j, "vip"), &r->vip, field, err);
	if (rc < 0)
		return rc;
	json_t *ports = json_object_get(j, "ports");
	snprintf(field, sizeof(field), "%s.ports", at);
	if (!json_is_array(ports))
		return acre_error_set(err, EINVAL, field, "%s: an array", field);
	if (json_array_size(ports) > VIP_PORTS_MAX)
		return acre_error_set(err, E2BIG, field, "%s: at most %d ports", field,
				      VIP_PORTS_MAX);
	r->ports = calloc(json_array_size(ports) + 1, sizeof(*r->ports));
	if (!r->ports)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t i;
	json_t *p;
	json_array_foreach (ports, i, p) {
		snprintf(field, sizeof(field), "%s.ports[%zu]", at, i);
		if ((rc = parse_port_entry(p, &r->ports[i], field, err)) < 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (r->ports[k].port == r->ports[i].port &&
			    r->ports[k].proto == r->ports[i].proto)
				return acre_error_set(err, EINVAL, field, "%s: listed twice",
						      field);
	}
	r->nports = json_array_size(ports);
	return 0;
}

static int parse_set(json_t *set, struct vip_msg *m, struct acre_error *err)
{
	if (!json_is_array(set))
		return acre_error_set(err, EINVAL, "set", "set: an array");
	if (json_array_size(set) > ACRE_BPF_VIP_SERVICES_MAX)
		return acre_error_set(err, E2BIG, "set", "set: at most %d VIPs",
				      ACRE_BPF_VIP_SERVICES_MAX);
	m->set = calloc(json_array_size(set) + 1, sizeof(*m->set));
	if (!m->set)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t i;
	json_t *r;
	json_array_foreach (set, i, r) {
		char at[32];
		snprintf(at, sizeof(at), "set[%zu]", i);
		m->nset = i + 1; /* freed whole, even half-parsed */
		int rc = parse_record(r, &m->set[i], at, err);
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(m->set[k].name, m->set[i].name))
				return acre_error_set(err, EINVAL, at, "%s: name %s listed twice",
						      at, m->set[i].name);
	}
	return 0;
}

static int parse_gone(json_t *gone, struct vip_msg *m, struct acre_error *err)
{
	if (!gone)
		return 0;
	if (!json_is_array(gone))
		return acre_error_set(err, EINVAL, "gone", "gone: an array of names");
	m->gone = calloc(json_array_size(gone) + 1, sizeof(*m->gone));
	if (!m->gone)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t i;
	json_t *g;
	json_array_foreach (gone, i, g) {
		char field[32];
		snprintf(field, sizeof(field), "gone[%zu]", i);
		int rc = parse_name(g, m->gone[i], field, err);
		if (rc < 0)
			return rc;
		m->ngone = i + 1;
	}
	return 0;
}

int vip_msg_parse(json_t *msg, struct vip_msg *out, struct acre_error *err)
{
	*out = (struct vip_msg){0};
	json_t *full = json_object_get(msg, "full");
	if (full && !json_is_boolean(full))
		return acre_error_set(err, EINVAL, "full", "full: true or false");
	out->full = json_is_true(full);
	json_t *set = json_object_get(msg, "set");
	int rc = set ? parse_set(set, out, err) : 0;
	if (rc == 0)
		rc = parse_gone(json_object_get(msg, "gone"), out, err);
	if (rc < 0)
		vip_msg_free(out);
	return rc;
}

void vip_msg_free(struct vip_msg *m)
{
	for (size_t i = 0; i < m->nset; i++)
		free(m->set[i].ports);
	free(m->set);
	free(m->gone);
	*m = (struct vip_msg){0};
}
