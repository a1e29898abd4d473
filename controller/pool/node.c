/*
 * The pool's nodes: created at their first registration, described by
 * what they declare (hostname, capacity, attributes), and moved between
 * ready, unreachable (silent for --node-timeout) and down (unreachable for
 * --lost-after more, when their slices are lost).  Only a ready node that
 * is connected and has reconciled its slices takes placements.
 */
#include "internal.h"
#include "net.h"

static const char *const state_names[] = {"ready", "unreachable", "down"};

const char *pool_node_state_name(enum pool_node_state st)
{
	return (size_t)st < ACRE_ARRAY_SIZE(state_names) ? state_names[st] : "?";
}

int pool_node_state_parse(const char *s, enum pool_node_state *out)
{
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(state_names); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum pool_node_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

struct pool_node *pool_node_find(struct pool *p, const char *id)
{
	return acre_map_get(p->nodes, id);
}

size_t pool_node_count(const struct pool *p)
{
	return acre_map_size(p->nodes);
}

const char **pool_node_ids(const struct pool *p)
{
	return acre_map_sorted_keys(p->nodes);
}

struct foreach_ctx {
	void (*fn)(struct pool_node *n, void *ud);
	void *ud;
};

static void visit(const char *key, void *value, void *ud)
{
	(void)key;
	struct foreach_ctx *f = ud;
	f->fn(value, f->ud);
}

void pool_node_foreach(const struct pool *p, void (*fn)(struct pool_node *n, void *ud), void *ud)
{
	struct foreach_ctx f = {fn, ud};
	acre_map_foreach(p->nodes, visit, &f);
}

struct pool_node *pool_node_create(struct pool *p, const char *id)
{
	struct pool_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->sn.id = n->id;
	n->state = POOL_NODE_DOWN;
	n->attributes = json_object();
	n->hostname = strdup("");
	if (!n->attributes || !n->hostname || acre_map_put(p->nodes, n->id, n) < 0) {
		pool_node_free(n);
		return NULL;
	}
	if (sched_node_add(p->sched, &n->sn) < 0) {
		acre_map_remove(p->nodes, n->id);
		pool_node_free(n);
		return NULL;
	}
	n->state_since_ns = n->last_seen_ns = acre_monotonic_ns();
	pool_node_set_port_range(p, n, 0, 0);
	return n;
}

static void free_attrs(struct pool_node *n)
{
	for (unsigned i = 0; n->attrs && i < n->sn.nattrs; i++) {
		free((char *)n->attrs[i].key);
		free((char *)n->attrs[i].value);
	}
	free(n->attrs);
	n->attrs = NULL;
	n->sn.attrs = NULL;
	n->sn.nattrs = 0;
}

void pool_node_free(struct pool_node *n)
{
	if (!n)
		return;
	free_attrs(n);
	free(n->hostname);
	json_decref(n->attributes);
	json_decref(n->usage);
	free(n);
}

static int push_attr(struct sched_attr *a, unsigned *n, const char *k, const char *v)
{
	a[*n].key = strdup(k);
	a[*n].value = strdup(v);
	(*n)++;
	return a[*n - 1].key && a[*n - 1].value ? 0 : -ENOMEM;
}

static void spread_count_all(struct pool *p, struct pool_node *n, int delta)
{
	for (struct pool_slice *sl = n->slices; sl; sl = sl->node_next) {
		if (sl->reserved && sl->spread)
			sched_spread_count(p->sched, sl->group, sl->spread, &n->sn, delta);
		const char *unique = acre_proto_unique_attr(sl->placement);
		if (unique)
			sched_unique_count(p->sched, sl->group ? sl->group : "", unique, &n->sn,
					   delta);
	}
}

int pool_node_describe(struct pool *p, struct pool_node *n, const char *hostname, uint32_t cpus,
		       uint64_t mem, json_t *attributes)
{
	bool was = n->sn.eligible;
	/* The scheduler indexes attributes: take the node out while they change. */
	sched_node_set_eligible(p->sched, &n->sn, false);
	/* Spread and unique counts are per attribute value: move the node's slices
	 * from the old values to the new ones, or releasing them later would count
	 * wrong. */
	spread_count_all(p, n, -1);
	free_attrs(n);
	size_t want = json_object_size(attributes) + 2;
	struct sched_attr *a = calloc(want, sizeof(*a));
	if (!a) {
		spread_count_all(p, n, +1); /* under no value: released the same way */
		return -ENOMEM;
	}
	unsigned k = 0;
	int rc = push_attr(a, &k, ACRE_ATTR_NODE_ID, n->id);
	if (rc == 0)
		rc = push_attr(a, &k, ACRE_ATTR_HOSTNAME, hostname);
	const char *key;
	json_t *v;
	json_object_foreach (attributes, key, v) {
		if (rc == 0)
			rc = push_attr(a, &k, key, json_string_value(v));
	}
	n->attrs = a;
	n->sn.attrs = a;
	n->sn.nattrs = k;
	spread_count_all(p, n, +1);
	if (rc < 0)
		return rc;
	char *h = strdup(hostname);
	if (!h)
		return -ENOMEM;
	free(n->hostname);
	n->hostname = h;
	json_decref(n->attributes);
	n->attributes = json_incref(attributes);
	n->sn.cap_cpus = cpus;
	n->sn.cap_mem = mem;
	pool_node_touch(p, n);
	if (was)
		pool_node_update_eligibility(p, n);
	sched_node_changed(p->sched, &n->sn);
	return 0;
}

void pool_node_update_eligibility(struct pool *p, struct pool_node *n)
{
	bool want = n->state == POOL_NODE_READY && n->conn && n->synced && !n->cordoned;
	if (want == n->sn.eligible)
		return;
	if (sched_node_set_eligible(p->sched, &n->sn, want) < 0)
		acre_log(ACRE_LOG_ERROR, "node=%s event=index_failed error=\"out of memory\"",
			 n->id);
	if (want)
		p->retry_pending = true; /* room appeared */
}

void pool_node_set_state(struct pool *p, struct pool_node *n, enum pool_node_state st,
			 const char *why)
{
	if (n->state == st)
		return;
	acre_log(st == POOL_NODE_READY ? ACRE_LOG_INFO : ACRE_LOG_WARN,
		 "node=%s event=state from=%s to=%s reason=\"%s\"", n->id,
		 pool_node_state_name(n->state), pool_node_state_name(st), why ? why : "");
	n->state = st;
	n->state_since_ns = acre_monotonic_ns();
	pool_node_update_eligibility(p, n);
	pool_net_mark_peer(p, n); /* down: gone from its peers' routes; back: in them again */
	pool_publish_node(p, n, pool_node_state_name(st));
}

void pool_node_set_local(struct pool *p, struct pool_node *n, uint32_t cpus, uint64_t mem)
{
	if (cpus == n->local_cpus && mem == n->local_mem)
		return;
	n->sn.used_cpus = n->sn.used_cpus - n->local_cpus + cpus;
	n->sn.used_mem = n->sn.used_mem - n->local_mem + mem;
	n->local_cpus = cpus;
	n->local_mem = mem;
	sched_node_changed(p->sched, &n->sn);
}

/*
 * A unique slice holds its node's value of the attribute from its
 * placement until it leaves the node (removed, lost, or its node down),
 * whatever its state: an instance that ended still is the instance.
 */
static void unique_count(struct pool *p, const struct pool_slice *sl, const struct pool_node *n,
			 int delta)
{
	const char *attr = acre_proto_unique_attr(sl->placement);
	if (!attr)
		return;
	sched_unique_count(p->sched, sl->group ? sl->group : "", attr, &n->sn, delta);
	if (delta < 0)
		p->retry_pending = true; /* a value came free */
}

void pool_node_attach(struct pool *p, struct pool_node *n, struct pool_slice *sl)
{
	unique_count(p, sl, n, +1);
	pool_host_ports_hold(n, sl, +1);
	sl->node = n;
	sl->last_node = n;
	ACRE_LIST_PREPEND(node, n->slices, sl);
	n->nslices++;
}

void pool_node_detach(struct pool *p, struct pool_slice *sl)
{
	struct pool_node *n = sl->node;
	if (!n)
		return;
	unique_count(p, sl, n, -1);
	if (!sl->ports_released)
		pool_host_ports_hold(n, sl, -1);
	sl->ports_released = false;
	if (sl->host_ports)
		p->retry_pending = true; /* its ports came free */
	ACRE_LIST_REMOVE(node, n->slices, sl);
	sl->node = NULL;
	n->nslices--;
}

/*
 * Down: every slice that ran (or would run again) here is lost, and
 * replaced where its policy says so; slices that had ended keep their
 * state, no longer tied to the node.
 */
static void node_down(struct pool *p, struct pool_node *n, const char *why)
{
	pool_node_set_state(p, n, POOL_NODE_DOWN, why);
	char reason[200];
	snprintf(reason, sizeof(reason), "node %s %s", n->id, why);
	while (n->slices) {
		struct pool_slice *sl = n->slices;
		if (pool_slice_is_active(sl) || pool_slice_holds_resources(sl) || !sl->assigned) {
			pool_slice_lost(p, sl, reason);
		} else {
			pool_node_detach(p, sl);
			pool_slice_touch(p, sl);
		}
	}
}

struct tick_ctx {
	struct pool *p;
	uint64_t now;
};

static void tick_node(const char *key, void *value, void *ud)
{
	(void)key;
	struct tick_ctx *t = ud;
	struct pool *p = t->p;
	struct pool_node *n = value;
	uint64_t timeout = p->opt.node_timeout_ms * 1000000ULL;
	uint64_t lost = p->opt.lost_after_ms * 1000000ULL;
	if (n->state == POOL_NODE_READY && t->now - n->last_seen_ns > timeout) {
		char why[96];
		snprintf(why, sizeof(why), "silent for %.1fs",
			 (double)(t->now - n->last_seen_ns) / 1e9);
		pool_node_set_state(p, n, POOL_NODE_UNREACHABLE, why);
	} else if (n->state == POOL_NODE_UNREACHABLE && t->now - n->state_since_ns > lost) {
		char why[96];
		snprintf(why, sizeof(why), "unreachable for %.1fs",
			 (double)(t->now - n->state_since_ns) / 1e9);
		node_down(p, n, why);
	}
}

/* Node timeouts are checked a few times a second: 10,000 nodes cost microseconds. */
void pool_node_tick(struct pool *p)
{
	struct tick_ctx t = {.p = p, .now = acre_monotonic_ns()};
	acre_map_foreach(p->nodes, tick_node, &t);
}

struct forget_ctx {
	struct pool *p;
	const struct pool_node *n;
};

/* Slices that were on it keep their state; only the memory of where they were goes. */
static void forget_last_node(const char *key, void *value, void *ud)
{
	(void)key;
	struct forget_ctx *f = ud;
	struct pool_slice *sl = value;
	if (sl->last_node != f->n)
		return;
	sl->last_node = NULL;
	pool_slice_touch(f->p, sl);
}

int pool_node_remove(struct pool *p, struct pool_node *n, bool force, struct acre_error *err)
{
	if (n->conn)
		return acre_error_set(err, EBUSY, "id",
				      "node %s is connected: stop its supervisor first", n->id);
	if (n->state != POOL_NODE_DOWN && !force)
		return acre_error_set(err, EBUSY, "id",
				      "node %s is %s and may come back: wait until it is down, or "
				      "remove it with force (its slices are lost)",
				      n->id, pool_node_state_name(n->state));
	if (acre_vec_push(&p->removed_nodes, n) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (n->state != POOL_NODE_DOWN)
		node_down(p, n, "removed");
	struct forget_ctx f = {p, n};
	acre_map_foreach(p->slices, forget_last_node, &f);
	/* Messages this pass decided for it would outlive it: it is not connected to get them. */
	struct pool_outbound *o, *next;
	ACRE_LIST_FOREACH_SAFE (out, o, next, p->out_head) {
		if (o->node != n)
			continue;
		ACRE_QUEUE_REMOVE(out, p->out_head, p->out_tail, o);
		pool_outbound_free(o);
	}
	pool_net_node_removed(p, n);
	sched_node_forget(p->sched, &n->sn);
	acre_map_remove(p->nodes, n->id);
	n->removed = true;
	acre_log(ACRE_LOG_INFO, "node=%s event=removed subnet=%s", n->id, n->subnet);
	/* Its memory is given back after the commit: the store's writer still reads it. */
	pool_publish_node(p, n, "removed");
	return 0;
}
