/*
 * The JSON shapes of the pool's objects: nodes, slices and the pool at a
 * glance, as the HTTP API and the event stream show them (a slice also
 * written straight into a JSON writer, for the event log).  The CLI prints
 * the same fields as tables.
 */
#include "internal.h"
#include "common/jsonw.h"

static json_t *resources(uint32_t cpus, uint64_t mem)
{
	return json_pack("{s:f,s:I}", "cpus", cpus / 1000.0, "memory", (json_int_t)mem);
}

/* A node's: with its bandwidth (bit/s; a capacity of 0 is none declared, no limit). */
static json_t *node_resources(uint32_t cpus, uint64_t mem, uint64_t net)
{
	json_t *j = resources(cpus, mem);
	json_object_set_new(j, "net", json_integer((json_int_t)net));
	return j;
}

static json_t *free_of(const struct pool_node *n)
{
	uint32_t c = n->sn.used_cpus < n->sn.cap_cpus ? n->sn.cap_cpus - n->sn.used_cpus : 0;
	uint64_t m = n->sn.used_mem < n->sn.cap_mem ? n->sn.cap_mem - n->sn.used_mem : 0;
	json_t *j = resources(c, m);
	if (n->sn.cap_net)
		json_object_set_new(
			j, "net",
			json_integer((json_int_t)(n->sn.used_net < n->sn.cap_net
							  ? n->sn.cap_net - n->sn.used_net
							  : 0)));
	else
		json_object_set_new(j, "net", json_null()); /* no limit declared */
	return j;
}

bool pool_node_suspect(const struct pool_node *n)
{
	if (!n)
		return false;
	unsigned checked = 0, failing = 0;
	for (const struct pool_slice *sl = n->slices; sl; sl = sl->node_next) {
		if (sl->state != ACRE_SLICE_RUNNING || !sl->checked)
			continue;
		checked++;
		failing += sl->health == ACRE_HEALTH_UNHEALTHY;
	}
	return checked >= 2 && failing == checked;
}

json_t *pool_node_json(const struct pool_node *n)
{
	uint64_t now = acre_monotonic_ns();
	json_t *j = json_pack(
		"{s:s,s:s,s:s,s:b,s:b,s:b,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I}", "id",
		n->id, "hostname", n->hostname, "state", pool_node_state_name(n->state),
		"connected", n->conn != NULL, "cordoned", n->cordoned, "schedulable",
		n->sn.eligible, "address", n->address, "version", n->version, "attributes",
		n->attributes ? json_incref(n->attributes) : json_object(), "capacity",
		node_resources(n->sn.cap_cpus, n->sn.cap_mem, n->sn.cap_net), "reserved",
		node_resources(n->reserved_cpus, n->reserved_mem, n->reserved_net), "local",
		resources(n->local_cpus, n->local_mem), "free", free_of(n), "slices",
		(json_int_t)n->nslices, "last_seq", (json_int_t)n->last_seq, "last_seen_ms_ago",
		(json_int_t)((now - n->last_seen_ns) / 1000000), "registered_at",
		(json_int_t)n->registered_at);
	if (j && n->usage)
		json_object_set(j, "usage", n->usage);
	/* Where its volumes go: bytes, null when the node has not said (an older one). */
	json_t *cap = json_object_get(j, "capacity"), *avail = json_object_get(j, "free");
	json_object_set_new(cap, "disk",
			    n->disk_total ? json_integer((json_int_t)n->disk_total) : json_null());
	json_object_set_new(avail, "disk",
			    n->disk_free ? json_integer((json_int_t)n->disk_free) : json_null());
	/* Its --port-range, as the flag reads, and how many ports of it no slice holds. */
	char range[16];
	snprintf(range, sizeof(range), "%u-%u", n->sn.port_first, n->sn.port_last);
	json_object_set_new(j, "port_range", json_string(range));
	json_object_set_new(avail, "ports", json_integer(n->sn.ports_free));
	json_object_set_new(j, "suspect", json_boolean(pool_node_suspect(n)));
	return j;
}

static void vip_text(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

json_t *pool_slice_json(const struct pool_slice *sl)
{
	const struct pool_node *node = sl->node ? sl->node : sl->last_node;
	char restart[32];
	pool_slice_restart_text(sl, restart, sizeof(restart));
	json_t *j = json_pack(
		"{s:s,s:s,s:I,s:s,s:s,s:s?,s:b,s:s,s:s,s:i,s:o,s:I,s:I}", "id", sl->name, "name",
		sl->name, "uid", (json_int_t)sl->id, "state", acre_slice_state_name(sl->state),
		"reason", sl->reason ? sl->reason : "", "node", node ? node->id : NULL, "assigned",
		sl->assigned, "desired", pool_desired_name(sl->desired), "restart", restart,
		"restarts", (int)(sl->restarts + sl->replacements), "resources",
		resources(sl->cpus, sl->mem), "created_at", (json_int_t)sl->created_at,
		"updated_at", (json_int_t)sl->updated_at);
	if (!j)
		return NULL;
	if (sl->net_rate)
		json_object_set_new(json_object_get(j, "resources"), "net_rate",
				    json_integer((json_int_t)sl->net_rate));
	json_object_set_new(j, "exit", sl->exit ? json_incref(sl->exit) : json_null());
	json_object_set_new(j, "replacements", json_integer(sl->replacements));
	if (sl->placement)
		json_object_set_new(j, "placement", acre_proto_placement_to_json(sl->placement));
	if (sl->address)
		json_object_set_new(j, "address", json_string(sl->address));
	if (sl->checked)
		json_object_set_new(j, "health",
				    json_pack("{s:s,s:b,s:I}", "status",
					      acre_health_name((enum acre_health)sl->health),
					      "ready", !sl->unready, "changed_at",
					      (json_int_t)sl->health_at));
	if (sl->vip) {
		char vip[16];
		vip_text(sl->vip, vip);
		json_object_set_new(j, "vips",
				    json_pack("[{s:s,s:s,s:s}]", "vip", vip, "group",
					      pool_slice_label(sl, ACRE_LABEL_SERVICE), "ports",
					      pool_slice_label(sl, ACRE_LABEL_VIP_PORTS)));
	}
	return j;
}

/*
 * The same slice written straight into a writer: the event log encodes
 * every slice change this way, with no jansson tree on the way.  It
 * writes exactly the text json_dumps(pool_slice_json(sl)) would (the
 * unit test test_pool_labels checks it), so the API and the events show
 * one shape.
 */
static void resources_write(struct acre_jsonw *w, uint32_t cpus, uint64_t mem, uint64_t net)
{
	acre_jsonw_object(w);
	acre_jsonw_key(w, "cpus");
	acre_jsonw_real(w, cpus / 1000.0);
	acre_jsonw_key(w, "memory");
	acre_jsonw_int(w, (int64_t)mem);
	if (net) {
		acre_jsonw_key(w, "net_rate");
		acre_jsonw_int(w, (int64_t)net);
	}
	acre_jsonw_end_object(w);
}

static void string_member(struct acre_jsonw *w, const char *key, const char *value)
{
	acre_jsonw_key(w, key);
	acre_jsonw_string(w, value);
}

static void int_member(struct acre_jsonw *w, const char *key, int64_t value)
{
	acre_jsonw_key(w, key);
	acre_jsonw_int(w, value);
}

void pool_slice_write(struct acre_jsonw *w, const struct pool_slice *sl)
{
	const struct pool_node *node = sl->node ? sl->node : sl->last_node;
	char restart[32];
	if (sl->restart == ACRE_RESTART_ON_FAILURE && sl->restart_max)
		pool_slice_restart_text(sl, restart, sizeof(restart));
	acre_jsonw_object(w);
	string_member(w, "id", sl->name);
	string_member(w, "name", sl->name);
	int_member(w, "uid", sl->id);
	string_member(w, "state", acre_slice_state_name(sl->state));
	string_member(w, "reason", sl->reason ? sl->reason : "");
	string_member(w, "node", node ? node->id : NULL);
	acre_jsonw_key(w, "assigned");
	acre_jsonw_bool(w, sl->assigned);
	string_member(w, "desired", pool_desired_name(sl->desired));
	string_member(w, "restart",
		      sl->restart == ACRE_RESTART_ON_FAILURE && sl->restart_max
			      ? restart
			      : acre_restart_name(sl->restart));
	int_member(w, "restarts", (int)(sl->restarts + sl->replacements));
	acre_jsonw_key(w, "resources");
	resources_write(w, sl->cpus, sl->mem, sl->net_rate);
	int_member(w, "created_at", sl->created_at);
	int_member(w, "updated_at", sl->updated_at);
	acre_jsonw_key(w, "exit");
	if (sl->exit)
		acre_jsonw_json(w, sl->exit);
	else
		acre_jsonw_null(w);
	int_member(w, "replacements", sl->replacements);
	if (sl->placement) { /* rare: through jansson */
		_cleanup_json_ json_t *pl = acre_proto_placement_to_json(sl->placement);
		acre_jsonw_key(w, "placement");
		acre_jsonw_json(w, pl);
	}
	if (sl->address)
		string_member(w, "address", sl->address);
	if (sl->checked) {
		acre_jsonw_key(w, "health");
		acre_jsonw_object(w);
		string_member(w, "status", acre_health_name((enum acre_health)sl->health));
		acre_jsonw_key(w, "ready");
		acre_jsonw_bool(w, !sl->unready);
		int_member(w, "changed_at", sl->health_at);
		acre_jsonw_end_object(w);
	}
	if (sl->vip) {
		char vip[16];
		vip_text(sl->vip, vip);
		acre_jsonw_key(w, "vips");
		acre_jsonw_array(w);
		acre_jsonw_object(w);
		string_member(w, "vip", vip);
		string_member(w, "group", pool_slice_label(sl, ACRE_LABEL_SERVICE));
		string_member(w, "ports", pool_slice_label(sl, ACRE_LABEL_VIP_PORTS));
		acre_jsonw_end_object(w);
		acre_jsonw_end_array(w);
	}
	acre_jsonw_end_object(w);
}

/* Sums over ready nodes, as a whole and per attribute value. */
struct tally {
	size_t nodes;
	uint64_t cap_cpus, used_cpus, cap_mem, used_mem;
	/* Bandwidth of the nodes that declare theirs; the others have no limit. */
	uint64_t cap_net, used_net;
	size_t net_unlimited;
};

static void tally_add(struct tally *t, const struct pool_node *n)
{
	t->nodes++;
	t->cap_cpus += n->sn.cap_cpus;
	t->used_cpus += n->sn.used_cpus < n->sn.cap_cpus ? n->sn.used_cpus : n->sn.cap_cpus;
	t->cap_mem += n->sn.cap_mem;
	t->used_mem += n->sn.used_mem < n->sn.cap_mem ? n->sn.used_mem : n->sn.cap_mem;
	if (!n->sn.cap_net) {
		t->net_unlimited++;
		return;
	}
	t->cap_net += n->sn.cap_net;
	t->used_net += n->sn.used_net < n->sn.cap_net ? n->sn.used_net : n->sn.cap_net;
}

static json_t *tally_json(const struct tally *t)
{
	return json_pack("{s:I,s:{s:f,s:I,s:I},s:{s:f,s:I,s:I},s:{s:f,s:I,s:I},s:I}", "nodes",
			 (json_int_t)t->nodes, "capacity", "cpus", t->cap_cpus / 1000.0, "memory",
			 (json_int_t)t->cap_mem, "net", (json_int_t)t->cap_net, "used", "cpus",
			 t->used_cpus / 1000.0, "memory", (json_int_t)t->used_mem, "net",
			 (json_int_t)t->used_net, "free", "cpus",
			 (t->cap_cpus - t->used_cpus) / 1000.0, "memory",
			 (json_int_t)(t->cap_mem - t->used_mem), "net",
			 (json_int_t)(t->cap_net - t->used_net), "net_unlimited_nodes",
			 (json_int_t)t->net_unlimited);
}

struct pool_walk {
	struct tally all;
	size_t by_state[3], connected;
	struct acre_map *attr; /* "key\x1fvalue" -> struct tally */
};

static void walk_node(const char *key, void *value, void *ud)
{
	(void)key;
	struct pool_walk *w = ud;
	const struct pool_node *n = value;
	w->by_state[n->state]++;
	w->connected += n->conn != NULL;
	if (n->state != POOL_NODE_READY)
		return;
	tally_add(&w->all, n);
	const char *k;
	json_t *v;
	json_object_foreach (n->attributes, k, v) {
		char akey[ACRE_ATTR_KEY_MAX + ACRE_ATTR_VALUE_MAX + 2];
		snprintf(akey, sizeof(akey), "%s\x1f%s", k, json_string_value(v));
		struct tally *t = acre_map_get(w->attr, akey);
		if (!t && (t = calloc(1, sizeof(*t))) && acre_map_put(w->attr, akey, t) < 0) {
			free(t);
			t = NULL;
		}
		if (t)
			tally_add(t, n);
	}
}

struct attr_out {
	json_t *root;
};

static void emit_attr(const char *key, void *value, void *ud)
{
	struct attr_out *o = ud;
	const char *sep = strchr(key, '\x1f');
	char name[ACRE_ATTR_KEY_MAX + 1];
	snprintf(name, sizeof(name), "%.*s", (int)(sep - key), key);
	json_t *byval = json_object_get(o->root, name);
	if (!byval) {
		byval = json_object();
		json_object_set_new(o->root, name, byval);
	}
	json_object_set_new(byval, sep + 1, tally_json(value));
	free(value);
}

json_t *pool_summary_json(struct pool *p)
{
	struct pool_walk w = {.attr = acre_map_new()};
	if (!w.attr)
		return NULL;
	acre_map_foreach(p->nodes, walk_node, &w);
	struct attr_out o = {.root = json_object()};
	acre_map_foreach(w.attr, emit_attr, &o);
	acre_map_free(w.attr);
	json_t *slices = json_object();
	size_t total = 0;
	for (int s = ACRE_SLICE_PENDING; s < ACRE_SLICE_DESTROYED; s++) {
		json_object_set_new(slices, acre_slice_state_name((enum acre_slice_state)s),
				    json_integer((json_int_t)p->by_state[s]));
		total += p->by_state[s];
	}
	json_object_set_new(slices, "total", json_integer((json_int_t)total));
	json_t *j = tally_json(&w.all);
	json_object_set_new(j, "nodes",
			    json_pack("{s:I,s:I,s:I,s:I,s:I}", "total",
				      (json_int_t)acre_map_size(p->nodes), "ready",
				      (json_int_t)w.by_state[POOL_NODE_READY], "unreachable",
				      (json_int_t)w.by_state[POOL_NODE_UNREACHABLE], "down",
				      (json_int_t)w.by_state[POOL_NODE_DOWN], "connected",
				      (json_int_t)w.connected));
	json_object_set_new(j, "slices", slices);
	json_object_set_new(j, "attributes", o.root);
	return j;
}
