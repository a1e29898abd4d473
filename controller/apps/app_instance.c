/*
 * Instance N of an app as the pool runs it: the slice APP-N, made from the
 * template with what identifies it (its name, ACRE_INSTANCE, the labels
 * that put it in the DNS group APP.acre and tell the app which instance
 * and version it is), its ports (PORT_<NAME>) and what it publishes.  A
 * replacement of instance N is made the same way, so it keeps the name and
 * the index.  A port of the host's network without a number is asked of
 * the pool in "host_ports": the pool picks it from the --port-range of the
 * node it binds the instance to and writes PORT_<NAME>, the acre.ports
 * entry and the checks' number itself (controller/pool/host_ports.c).
 */
#include "internal.h"

#include <netinet/in.h>

int app_instance_name(const struct app_spec *spec, unsigned index, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-%u", spec->name, index);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The environment every instance has: the template's plus PORT_<NAME> of each numbered port. */
static int set_port_env(const struct app_spec *spec, json_t *env, struct acre_error *err)
{
	char buf[32], name[64];
	for (size_t i = 0; i < spec->nports; i++) {
		if (app_port_picked(spec, i))
			continue; /* the pool's, with the port */
		int port = app_port_number(spec, i, NULL, err);
		if (port < 0)
			return port;
		app_port_env_name(spec->ports[i].name, name, sizeof(name));
		snprintf(buf, sizeof(buf), "%d", port);
		json_object_set_new(env, name, json_string(buf));
	}
	return 0;
}

/*
 * "http:8080/tcp,dns:53/udp": the ports each member serves, at their
 * numbers (the pool adds those the node picks): the group's SRV records,
 * and with vip its virtual IP's ports.
 */
static void ports_label(const struct app_spec *spec, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < spec->nports && o < len; i++) {
		const struct app_port *p = &spec->ports[i];
		int port = app_port_picked(spec, i) ? 0 : app_port_number(spec, i, NULL, NULL);
		if (port > 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%s:%d/%s", o ? "," : "", p->name,
					      port, acre_publish_proto_name(p->proto));
	}
}

/* The labels every instance has; acre.instance and acre.version are each one's own. */
static json_t *base_labels(const struct app_spec *spec)
{
	char buf[APP_PORTS_MAX * 32];
	json_t *l = json_deep_copy(spec->labels);
	if (!l)
		return NULL;
	json_object_set_new(l, APP_LABEL_APP, json_string(spec->name));
	json_object_set_new(l, ACRE_LABEL_SERVICE, json_string(spec->name));
	/* Its node reads it when cut off from the controller (supervisor/partition.c). */
	json_object_set_new(l, ACRE_LABEL_ON_PARTITION,
			    json_string(app_on_partition_name(spec->on_partition)));
	ports_label(spec, buf, sizeof(buf));
	if (buf[0])
		json_object_set_new(l, spec->vip ? ACRE_LABEL_VIP_PORTS : ACRE_LABEL_PORTS,
				    json_string(buf));
	return l;
}

static json_t *publish(const struct app_spec *spec)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->npublish; i++) {
		const struct app_port *p = &spec->ports[spec->publish[i].port];
		json_array_append_new(a, json_pack("{s:i,s:i,s:s}", "node_port",
						   spec->publish[i].node_port, "port", p->port,
						   "proto", acre_publish_proto_name(p->proto)));
	}
	return a;
}

/* The checks with the instance's port numbers (names the pool numbers), in the spec's sections. */
static int set_checks(const struct app_spec *spec, const char *key, const struct app_checks *k,
		      json_t *slice, struct acre_error *err)
{
	json_t *a;
	if (!k->n)
		return 0;
	int rc = app_checks_to_json(spec, k, false, NULL, &a, err);
	if (rc < 0)
		return rc;
	json_object_set_new(slice, key, a);
	return 0;
}

/* ["http:20005", "dns/udp"]: the ports its node picks, each with the one asked for first. */
static json_t *host_ports(const struct app_spec *spec, const uint16_t *want)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < spec->nports; i++) {
		if (!app_port_picked(spec, i))
			continue;
		char buf[64], num[8] = "";
		if (want && want[i])
			snprintf(num, sizeof(num), ":%u", want[i]);
		snprintf(buf, sizeof(buf), "%s%s%s", spec->ports[i].name, num,
			 spec->ports[i].proto == IPPROTO_UDP ? "/udp" : "");
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

/*
 * What every slice spec is without a word about it, as the canonical form
 * prints it: made once.  NULL when it cannot be made (out of memory).
 */
static const json_t *default_slice_json(void)
{
	static json_t *defaults;
	if (!defaults) {
		struct acre_slice_spec s;
		_cleanup_json_ json_t *in = json_pack("{s:s,s:[s]}", "name", "x", "command", "x");
		if (in && acre_slice_spec_parse(in, &s, NULL) == 0) {
			defaults = acre_slice_spec_to_json(&s);
			acre_slice_spec_free(&s);
		}
	}
	return defaults;
}

/*
 * The fields an instance's spec leaves at their defaults go: the pool
 * stores, and sends to a node, each instance's spec as given, and at
 * 100,000 instances the defaults were most of the bytes (and of the
 * parsing on both ends).
 */
static void drop_defaults(json_t *j)
{
	const json_t *d = default_slice_json();
	const char *key;
	json_t *v, *tmp;
	json_object_foreach_safe (j, tmp, key, v) {
		if (strcmp(key, "name") && strcmp(key, "command") &&
		    json_equal(v, json_object_get(d, key)))
			json_object_del(j, key);
	}
}

/*
 * What every instance of the version has: the template as the canonical
 * form prints it, less its defaults, with the app's labels, publish,
 * checks and restart "never".  Made once per version: at 100,000 instances,
 * printing the template and comparing it with the defaults for each was a
 * quarter of the controller's time in a scale up.
 */
static int instance_base(struct app_spec *spec, const json_t **out, struct acre_error *err)
{
	int rc;
	if ((*out = spec->instance_base))
		return 0;
	_cleanup_json_ json_t *j = acre_slice_spec_to_json(&spec->slice);
	json_t *l = j ? base_labels(spec) : NULL;
	if (!l)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_object_set_new(j, "labels", l);
	json_object_set_new(j, "restart", json_string("never"));
	json_t *net = json_object_get(j, "network");
	if (spec->npublish)
		json_object_set_new(net, "publish", publish(spec));
	if ((rc = set_port_env(spec, json_object_get(j, "env"), err)) < 0 ||
	    (rc = set_checks(spec, "checks", &spec->checks, j, err)) < 0 ||
	    (rc = set_checks(spec, "readiness", &spec->readiness, j, err)) < 0)
		return rc;
	json_object_set_new(j, "name",
			    json_string("")); /* each instance's; kept by drop_defaults */
	drop_defaults(j);
	*out = spec->instance_base = TAKE_PTR(j);
	return 0;
}

static int set_string(json_t *obj, const char *key, unsigned value)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", value);
	return json_object_set_new(obj, key, json_string(buf));
}

int app_instance_spec(struct app_spec *spec, unsigned index, uint32_t version, const uint16_t *want,
		      json_t **out, struct acre_error *err)
{
	char name[ACRE_NAME_MAX + 1];
	int rc;
	/* Stand-ins of a rollout go above the wanted indexes, so past APP_INSTANCES_MAX too. */
	if (app_instance_name(spec, index, name, sizeof(name)) < 0 ||
	    index >= 2 * APP_INSTANCES_MAX)
		return acre_error_set(err, EINVAL, "instances",
				      "instance %u of %s: out of range (its name would pass %d "
				      "characters)",
				      index, spec->name, ACRE_NAME_MAX);
	const json_t *base;
	if ((rc = instance_base(spec, &base, err)) < 0)
		return rc;
	_cleanup_json_ json_t *j = json_deep_copy(base);
	if (!j)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_t *env = json_object_get(j, "env"), *labels = json_object_get(j, "labels");
	if (!env)
		json_object_set_new(j, "env", env = json_object());
	if (!env || set_string(env, APP_ENV_INSTANCE, index) < 0 ||
	    set_string(env, APP_ENV_INSTANCES, spec->instances) < 0 ||
	    set_string(labels, APP_LABEL_INSTANCE, index) < 0 ||
	    set_string(labels, APP_LABEL_VERSION, version) < 0 ||
	    json_object_set_new(j, "name", json_string(name)) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_t *picked = host_ports(spec, want);
	if (json_array_size(picked))
		json_object_set_new(j, "host_ports", picked);
	else
		json_decref(picked);
	if (spec->nvolumes) {
		json_t *volumes;
		if ((rc = app_instance_volumes(spec, index, &volumes, err)) < 0)
			return rc;
		json_object_set_new(j, "volumes", volumes);
	}
	*out = TAKE_PTR(j);
	return 0;
}
