/*
 * A node that runs alone names its own slices: each bridged slice that is
 * starting or running (and, with checks, ready and healthy) is NAME.acre,
 * and each value of its acre.service
 * label a group GROUP.acre of such slices, with an SRV entry per port its
 * members list in acre.vip.ports ("[SERVICE:]PORT/PROTO,...", SERVICE the
 * port's digits when not given), as the controller makes them.  An observer of every slice's
 * changes builds the same net.names message the controller would send and
 * applies it to the zone at once, so a name resolves as soon as its slice
 * runs and stops as soon as it ends.  In a pool the controller's messages
 * are the zone's only source (it names the slices of every node).
 */
#include "dns_internal.h"
#include "network.h"

static bool named(const struct slice *s)
{
	enum acre_slice_state st = s->rec.state;
	/* Named from its launch on, unless checks must pass first. */
	if (s->sv->dns && s->sv->dns->launching == s)
		return s->rec.spec.nchecks + s->rec.spec.nreadiness == 0;
	/*
	 * A slice being ended leaves its names before it gets its signal; one
	 * with checks is named while they say it serves (ready, and healthy).
	 */
	bool checked = s->rec.spec.nchecks + s->rec.spec.nreadiness > 0;
	return s->rec.spec.net_mode == ACRE_NET_BRIDGE && !s->rec.killed_by_user &&
	       (st == ACRE_SLICE_STARTING || st == ACRE_SLICE_RUNNING) &&
	       (!checked || (s->probes && acre_health_serving(s->health.health, s->health.ready)));
}

/* "198.19.4.7/24" of the slice's lease, as the slice's view shows it, without the prefix. */
static json_t *address_of(struct supervisor *sv, const struct slice *s)
{
	_cleanup_json_ json_t *view = network_view(sv, &s->rec.spec);
	const char *a = json_string_value(json_object_get(view, "address"));
	if (!a)
		return NULL;
	const char *slash = strchr(a, '/');
	return json_stringn(a, slash ? (size_t)(slash - a) : strlen(a));
}

static const char *group_of(const struct slice *s)
{
	const char *g = json_string_value(json_object_get(s->rec.spec.labels, ACRE_LABEL_SERVICE));
	return g && dns_label_valid(g) ? g : NULL;
}

struct walk {
	struct supervisor *sv;
	const char *group; /* NULL: every slice's own name */
	json_t *set, *members, *srv;
};

/* The member's SRV entries from its acre.vip.ports; a malformed entry is left out. */
static void add_srv(json_t *srv, const struct slice *s)
{
	const char *ports =
		json_string_value(json_object_get(s->rec.spec.labels, ACRE_LABEL_VIP_PORTS));
	if (!ports)
		return;
	_cleanup_free_ char *copy = strdup(ports);
	char *save = NULL;
	for (char *e = copy ? strtok_r(copy, ",", &save) : NULL; e;
	     e = strtok_r(NULL, ",", &save)) {
		char service[DNS_SERVICE_MAX + 1] = "", proto[8];
		unsigned port;
		char *colon = strchr(e, ':');
		if (colon) {
			snprintf(service, sizeof(service), "%.*s", (int)(colon - e), e);
			e = colon + 1;
		}
		int used = 0;
		if (sscanf(e, "%5u/%7[a-z]%n", &port, proto, &used) != 2 || e[used] || port < 1 ||
		    port > 65535 || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
			continue;
		if (!service[0])
			snprintf(service, sizeof(service), "%u", port);
		if (!dns_label_valid(service) || json_array_size(srv) >= DNS_SRV_MAX)
			continue;
		json_array_append_new(srv, json_pack("{s:s,s:s,s:i,s:s}", "service", service,
						     "proto", proto, "port", (int)port, "target",
						     s->rec.spec.name));
	}
}

static void walk_cb(const char *key, void *value, void *ud)
{
	(void)key;
	struct walk *w = ud;
	const struct slice *s = value;
	if (!named(s) || !dns_label_valid(s->rec.spec.name))
		return;
	json_t *addr = address_of(w->sv, s);
	if (!addr)
		return;
	if (!w->group) {
		json_array_append_new(w->set, json_pack("{s:s,s:[o]}", "name", s->rec.spec.name,
							"addresses", addr));
		return;
	}
	const char *g = group_of(s);
	if (g && strcasecmp(g, w->group) == 0) {
		json_array_append(w->members, addr);
		add_srv(w->srv, s);
	}
	json_decref(addr);
}

/* GROUP's record, or its name in gone when no member is left. */
static void add_group(struct dns *d, const char *group, json_t *set, json_t *gone)
{
	struct walk w = {.sv = d->sv, .group = group, .members = json_array(), .srv = json_array()};
	acre_map_foreach(d->sv->slices, walk_cb, &w);
	if (json_array_size(w.members) == 0) {
		json_array_append_new(gone, json_string(group));
		json_decref(w.members);
		json_decref(w.srv);
		return;
	}
	json_array_append_new(set, json_pack("{s:s,s:o,s:o}", "name", group, "addresses", w.members,
					     "srv", w.srv));
}

static void apply(struct dns *d, json_t *msg)
{
	struct acre_error err = {0};
	if (dns_zone_apply(d->zone, msg, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=dns_local_names_failed error=\"%s\"", err.message);
}

static void on_slice_changed(void *ud, struct slice *s)
{
	struct dns *d = ud;
	const char *name = s->rec.spec.name;
	if (!dns_label_valid(name))
		return;
	_cleanup_json_ json_t *msg = json_pack("{s:b,s:[],s:[]}", "full", false, "set", "gone");
	json_t *set = json_object_get(msg, "set"), *gone = json_object_get(msg, "gone");
	json_t *addr = named(s) ? address_of(d->sv, s) : NULL;
	if (addr)
		json_array_append_new(set,
				      json_pack("{s:s,s:[o]}", "name", name, "addresses", addr));
	else
		json_array_append_new(gone, json_string(name));
	const char *g = group_of(s);
	if (g)
		add_group(d, g, set, gone);
	apply(d, msg);
	acre_log(ACRE_LOG_DEBUG, "slice=%s event=dns_name %s", name, addr ? "set" : "gone");
}

struct groups {
	struct dns *d;
	json_t *set, *gone, *seen;
};

static void group_cb(const char *key, void *value, void *ud)
{
	(void)key;
	struct groups *g = ud;
	const char *name = group_of(value);
	if (name && !json_object_get(g->seen, name)) {
		json_object_set_new(g->seen, name, json_true());
		add_group(g->d, name, g->set, g->gone);
	}
}

/* Every slice at once, after start-up: slices recovered from a previous run included. */
static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns *d = arg;
	struct walk w = {.sv = d->sv, .set = json_array()};
	acre_map_foreach(d->sv->slices, walk_cb, &w);
	struct groups g = {.d = d, .set = w.set, .gone = json_array(), .seen = json_object()};
	acre_map_foreach(d->sv->slices, group_cb, &g);
	_cleanup_json_ json_t *msg =
		json_pack("{s:b,s:o,s:[]}", "full", true, "set", w.set, "gone");
	json_decref(g.gone);
	json_decref(g.seen);
	apply(d, msg);
	acre_log(ACRE_LOG_INFO, "event=dns_local_names names=%zu", dns_zone_size(d->zone));
}

void dns_slice_launching(struct supervisor *sv, struct slice *s)
{
	struct dns *d = sv->dns;
	if (!d || !d->local_names)
		return;
	d->launching = s;
	on_slice_changed(d, s);
	d->launching = NULL;
}

void dns_slice_ending(struct supervisor *sv, struct slice *s)
{
	if (sv->dns && sv->dns->local_names)
		on_slice_changed(sv->dns, s);
}

void dns_local_start(struct dns *d)
{
	d->observer = (struct slice_observer){.changed = on_slice_changed, .ud = d};
	slice_observer_add(d->sv, &d->observer);
	/* A failing slice leaves its names at the transition: no poll, no delay. */
	d->health_observer = (struct slice_observer){.changed = on_slice_changed, .ud = d};
	slice_health_observer_add(d->sv, &d->health_observer);
	d->sync_ev = evtimer_new(d->sv->base, on_sync, d);
	struct timeval now = {0, 0};
	if (d->sync_ev)
		evtimer_add(d->sync_ev, &now);
}

void dns_local_stop(struct dns *d)
{
	if (!d->local_names)
		return;
	slice_observer_remove(d->sv, &d->observer);
	slice_health_observer_remove(d->sv, &d->health_observer);
	if (d->sync_ev)
		event_free(d->sync_ev);
	d->sync_ev = NULL;
}
