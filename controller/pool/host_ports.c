/*
 * Ports of the host's network that the pool picks for a slice from the
 * --port-range of the node it binds it to: an app's --net host port that
 * names no number.  The slice's spec asks for them by name in its
 * "host_ports" member and is kept so; when the slice is bound to a node,
 * each gets a port of that node's range that no other slice there holds
 * (the one asked for first when it is free, so an instance restarted on
 * its node keeps its port), and the spec the node gets, and the one the
 * API shows, is made whole from them: PORT_<NAME> in its environment,
 * NAME:N/PROTO in its acre.ports label (the group's SRV records) and the
 * number in its checks that name the port.  The spec itself stays as it
 * came, so that a slice bound again elsewhere is resolved anew.
 *
 * A node counts the ports its slices hold in its range; the scheduler
 * passes over a node with fewer free than a request asks for.
 */
#include "internal.h"

#include <ctype.h>

static bool parse_entry(const char *s, struct pool_host_port *out)
{
	char text[64], *colon, *slash;
	if (!s || strlen(s) >= sizeof(text))
		return false;
	snprintf(text, sizeof(text), "%s", s);
	*out = (struct pool_host_port){0};
	if ((slash = strchr(text, '/'))) {
		*slash++ = '\0';
		if (!strcmp(slash, "udp"))
			out->udp = true;
		else if (strcmp(slash, "tcp"))
			return false;
	}
	if ((colon = strchr(text, ':'))) {
		*colon++ = '\0';
		char *end;
		unsigned long v = strtoul(colon, &end, 10);
		if (!isdigit((unsigned char)*colon) || *end || v > 65535)
			return false;
		out->want = (uint16_t)v;
	}
	if (!acre_port_name_valid(text))
		return false;
	snprintf(out->name, sizeof(out->name), "%s", text);
	return true;
}

int pool_host_ports_parse(const json_t *v, struct pool_host_ports **out, struct acre_error *err)
{
	*out = NULL;
	if (!v || (json_is_array(v) && json_array_size(v) == 0))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > POOL_HOST_PORTS_MAX)
		return acre_error_set(
			err, EINVAL, "host_ports",
			"host_ports: must be an array of at most %d port names "
			"(\"http\", \"dns/udp\", \"http:20005\" to ask for 20005 first)",
			POOL_HOST_PORTS_MAX);
	_cleanup_free_ struct pool_host_ports *hp = calloc(1, sizeof(*hp));
	if (!hp)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t i;
	json_t *e;
	json_array_foreach (v, i, e) {
		struct pool_host_port *p = &hp->p[i];
		if (!parse_entry(json_string_value(e), p))
			return acre_error_set(
				err, EINVAL, "host_ports",
				"host_ports[%zu]: must be a port name, as in \"http\", "
				"\"dns/udp\" or \"http:20005\"",
				i);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(hp->p[k].name, p->name))
				return acre_error_set(err, EINVAL, "host_ports",
						      "host_ports[%zu]: %s is named twice", i,
						      p->name);
		hp->n = (unsigned)i + 1;
	}
	*out = TAKE_PTR(hp);
	return 0;
}

/* Held, else asked for, else 1: a stand-in that lets a spec be checked before it is bound. */
static uint16_t number_of(const struct pool_host_port *p)
{
	return p->port ? p->port : p->want ? p->want : 1;
}

/* "a:1/tcp,b:2/udp" without the entries named in hp, then hp's. */
static int set_ports_label(json_t *spec, const struct pool_host_ports *hp)
{
	json_t *labels = json_object_get(spec, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		if (!labels || json_object_set_new(spec, "labels", labels) < 0)
			return -ENOMEM;
	}
	const char *old = json_string_value(json_object_get(labels, ACRE_LABEL_PORTS));
	char buf[1024];
	size_t o = 0;
	buf[0] = '\0';
	for (const char *s = old ? old : ""; *s;) {
		size_t len = strcspn(s, ",");
		size_t name_len = strcspn(s, ":/,");
		bool ours = false;
		for (unsigned i = 0; !ours && i < hp->n; i++)
			ours = strlen(hp->p[i].name) == name_len &&
			       !strncmp(hp->p[i].name, s, name_len);
		if (!ours && len && o < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s", o ? "," : "",
					      (int)len, s);
		s += len + (s[len] == ',');
	}
	for (unsigned i = 0; i < hp->n && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%u/%s", o ? "," : "",
				      hp->p[i].name, number_of(&hp->p[i]),
				      hp->p[i].udp ? "udp" : "tcp");
	return json_object_set_new(labels, ACRE_LABEL_PORTS, json_string(buf));
}

/* Checks whose "port" is the name of one of hp's get its number. */
static void set_check_ports(json_t *spec, const char *key, const struct pool_host_ports *hp)
{
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(spec, key), i, c) {
		const char *name = json_string_value(json_object_get(c, "port"));
		for (unsigned k = 0; name && k < hp->n; k++)
			if (!strcmp(hp->p[k].name, name)) {
				json_object_set_new(c, "port", json_integer(number_of(&hp->p[k])));
				break;
			}
	}
}

int pool_host_ports_apply(json_t *spec, const struct pool_host_ports *hp, struct acre_error *err)
{
	json_object_del(spec, "host_ports");
	json_t *env = json_object_get(spec, "env");
	if (!json_is_object(env)) {
		env = json_object();
		if (!env || json_object_set_new(spec, "env", env) < 0)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	char name[64], num[8];
	for (unsigned i = 0; i < hp->n; i++) {
		acre_port_env_name(hp->p[i].name, name, sizeof(name));
		snprintf(num, sizeof(num), "%u", number_of(&hp->p[i]));
		json_object_set_new(env, name, json_string(num));
	}
	set_check_ports(spec, "checks", hp);
	set_check_ports(spec, "readiness", hp);
	if (set_ports_label(spec, hp) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

static bool in_range(const struct pool_node *n, uint16_t port)
{
	return port && port >= n->sn.port_first && port <= n->sn.port_last;
}

static void mark(uint64_t *used, const struct pool_node *n, uint16_t port)
{
	if (in_range(n, port)) {
		unsigned b = (unsigned)(port - n->sn.port_first);
		used[b / 64] |= 1ULL << (b % 64);
	}
}

static bool is_used(const uint64_t *used, const struct pool_node *n, uint16_t port)
{
	unsigned b = (unsigned)(port - n->sn.port_first);
	return used[b / 64] >> (b % 64) & 1;
}

int pool_host_ports_pick(struct pool_node *n, struct pool_slice *sl)
{
	struct pool_host_ports *hp = sl->host_ports;
	if (!hp)
		return 0;
	/* One bit per port of the range: what the node's other slices hold. */
	_cleanup_free_ uint64_t *used = calloc(65536 / 64, sizeof(*used));
	if (!used)
		return -ENOMEM;
	for (const struct pool_slice *o = n->slices; o; o = o->node_next)
		for (unsigned i = 0; o != sl && o->host_ports && i < o->host_ports->n; i++)
			mark(used, n, o->host_ports->p[i].port);
	for (unsigned i = 0; i < hp->n; i++) {
		struct pool_host_port *p = &hp->p[i];
		uint16_t got = 0;
		if (in_range(n, p->want) && !is_used(used, n, p->want))
			got = p->want;
		for (unsigned port = n->sn.port_first; !got && port <= n->sn.port_last; port++)
			if (!is_used(used, n, (uint16_t)port))
				got = (uint16_t)port;
		if (!got) {
			for (unsigned k = 0; k < i; k++)
				hp->p[k].port = 0;
			return -ENOSPC;
		}
		p->port = got;
		mark(used, n, got);
	}
	return 0;
}

static uint32_t range_size(const struct pool_node *n)
{
	return (uint32_t)n->sn.port_last - n->sn.port_first + 1;
}

static void count_free(struct pool_node *n)
{
	uint32_t size = range_size(n);
	n->sn.ports_free = n->ports_held >= size ? 0 : size - n->ports_held;
}

void pool_host_ports_hold(struct pool_node *n, struct pool_slice *sl, int delta)
{
	struct pool_host_ports *hp = sl->host_ports;
	for (unsigned i = 0; hp && i < hp->n; i++) {
		struct pool_host_port *p = &hp->p[i];
		/* Attached unpicked: re-adopted where it ran, with the port it had there. */
		if (delta > 0 && !p->port)
			p->port = p->want;
		if (in_range(n, p->port)) {
			if (delta > 0)
				n->ports_held++;
			else if (n->ports_held)
				n->ports_held--;
		}
		if (delta < 0 && p->port) {
			/* Let go: asked for first when it is bound again. */
			p->want = p->port;
			p->port = 0;
		}
	}
	count_free(n);
}

void pool_node_set_port_range(struct pool *p, struct pool_node *n, uint16_t first, uint16_t last)
{
	if (!first || last < first) {
		first = ACRE_PORT_RANGE_FIRST;
		last = ACRE_PORT_RANGE_LAST;
	}
	if (first == n->sn.port_first && last == n->sn.port_last)
		return;
	n->sn.port_first = first;
	n->sn.port_last = last;
	n->ports_held = 0;
	for (const struct pool_slice *sl = n->slices; sl; sl = sl->node_next)
		for (unsigned i = 0; sl->host_ports && i < sl->host_ports->n; i++)
			n->ports_held += in_range(n, sl->host_ports->p[i].port);
	count_free(n);
	p->retry_pending = true; /* a larger range may take what waits */
}

uint16_t pool_slice_host_port(const struct pool_slice *sl, const char *name)
{
	for (unsigned i = 0; sl->host_ports && i < sl->host_ports->n; i++)
		if (!strcmp(sl->host_ports->p[i].name, name))
			return sl->host_ports->p[i].port ? sl->host_ports->p[i].port
							 : sl->host_ports->p[i].want;
	return 0;
}

char *pool_host_ports_text(const struct pool_host_ports *hp)
{
	if (!hp || !hp->n)
		return NULL;
	char buf[POOL_HOST_PORTS_MAX * 32];
	size_t o = 0;
	for (unsigned i = 0; i < hp->n && o < sizeof(buf); i++) {
		const struct pool_host_port *p = &hp->p[i];
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%u/%s", o ? "," : "", p->name,
				      (unsigned)(p->port ? p->port : p->want),
				      p->udp ? "udp" : "tcp");
	}
	return strdup(buf);
}

int pool_host_ports_of_text(const char *text, bool held, struct pool_host_ports **out)
{
	*out = NULL;
	if (!text || !*text)
		return 0;
	_cleanup_free_ struct pool_host_ports *hp = calloc(1, sizeof(*hp));
	if (!hp)
		return -ENOMEM;
	for (const char *s = text; *s && hp->n < POOL_HOST_PORTS_MAX;) {
		size_t len = strcspn(s, ",");
		char entry[64];
		snprintf(entry, sizeof(entry), "%.*s", (int)(len < 63 ? len : 63), s);
		struct pool_host_port *p = &hp->p[hp->n];
		if (!parse_entry(entry, p))
			return -EINVAL;
		if (held)
			p->port = p->want;
		hp->n++;
		s += len + (s[len] == ',');
	}
	*out = TAKE_PTR(hp);
	return 0;
}

struct pool_spec_text *pool_host_ports_resolve(struct pool *p, const struct pool_slice *sl,
					       const char *text, struct acre_error *err)
{
	json_error_t jerr;
	_cleanup_json_ json_t *j = json_loads(text, 0, &jerr);
	if (!j) {
		acre_error_set(err, EIO, NULL, "slice %s: its spec does not parse: %s", sl->name,
			       jerr.text);
		return NULL;
	}
	if (sl->host_ports && pool_host_ports_apply(j, sl->host_ports, err) < 0)
		return NULL;
	struct pool_spec_text *t = pool_spec_text_encode(&p->scratch, j);
	if (!t)
		acre_error_set(err, ENOMEM, NULL, "slice %s: out of memory", sl->name);
	return t;
}
