/*
 * The pool's nodes: created at their first registration, described by
 * what they declare (hostname, capacity, attributes), and moved between
 * ready, unreachable (silent for --node-timeout) and down (unreachable for
 * --lost-after more, when their slices are lost).  Only a ready node that
 * is connected and has reconciled its slices takes placements.
 */
#include "controller/ctl.h"

static const char *const state_names[] = {"ready", "unreachable", "down"};

const char *node_state_name(enum node_state st)
{
	return (size_t)st < ACRE_ARRAY_SIZE(state_names) ? state_names[st] : "?";
}

int node_state_parse(const char *s, enum node_state *out)
{
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(state_names); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum node_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

struct ctl_node *node_find(struct ctl *c, const char *id)
{
	return acre_map_get(c->nodes, id);
}

struct ctl_node *node_create(struct ctl *c, const char *id)
{
	struct ctl_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->sn.id = n->id;
	n->state = NODE_DOWN;
	n->attributes = json_object();
	n->hostname = strdup("");
	if (!n->attributes || !n->hostname || acre_map_put(c->nodes, n->id, n) < 0) {
		node_free(n);
		return NULL;
	}
	if (sched_node_add(c->sched, &n->sn) < 0) {
		acre_map_remove(c->nodes, n->id);
		node_free(n);
		return NULL;
	}
	n->state_since_ns = n->last_seen_ns = acre_monotonic_ns();
	return n;
}

static void free_attrs(struct ctl_node *n)
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

void node_free(struct ctl_node *n)
{
	if (!n)
		return;
	free_attrs(n);
	free(n->hostname);
	json_decref(n->attributes);
	json_decref(n->usage);
	free(n->batch);
	free(n);
}

static int push_attr(struct sched_attr *a, unsigned *n, const char *k, const char *v)
{
	a[*n].key = strdup(k);
	a[*n].value = strdup(v);
	(*n)++;
	return a[*n - 1].key && a[*n - 1].value ? 0 : -ENOMEM;
}

static void spread_count_all(struct ctl *c, struct ctl_node *n, int delta)
{
	for (struct ctl_slice *sl = n->slices; sl; sl = sl->node_next)
		if (sl->reserved && sl->spread)
			sched_spread_count(c->sched, sl->group, sl->spread, &n->sn, delta);
}

int node_describe(struct ctl *c, struct ctl_node *n, const char *hostname, uint32_t cpus,
		  uint64_t mem, json_t *attributes)
{
	bool was = n->sn.eligible;
	/* The scheduler indexes attributes: take the node out while they change. */
	sched_node_set_eligible(c->sched, &n->sn, false);
	/* Spread counts are per attribute value: move the node's slices from the
	 * old values to the new ones, or releasing them later would count wrong. */
	spread_count_all(c, n, -1);
	free_attrs(n);
	size_t want = json_object_size(attributes) + 2;
	struct sched_attr *a = calloc(want, sizeof(*a));
	if (!a) {
		spread_count_all(c, n, +1); /* under no value: released the same way */
		return -ENOMEM;
	}
	unsigned k = 0;
	int rc = push_attr(a, &k, ACRE_ATTR_NODE_ID, n->id);
	if (rc == 0)
		rc = push_attr(a, &k, ACRE_ATTR_HOSTNAME, hostname);
	const char *key;
	json_t *v;
	json_object_foreach(attributes, key, v) {
		if (rc == 0)
			rc = push_attr(a, &k, key, json_string_value(v));
	}
	n->attrs = a;
	n->sn.attrs = a;
	n->sn.nattrs = k;
	spread_count_all(c, n, +1);
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
	node_mark_dirty(c, n);
	if (was)
		node_update_eligibility(c, n);
	sched_node_changed(c->sched, &n->sn);
	return 0;
}

void node_mark_dirty(struct ctl *c, struct ctl_node *n)
{
	if (n->dirty)
		return;
	n->dirty = true;
	n->dirty_next = c->dirty_nodes;
	c->dirty_nodes = n;
}

void node_update_eligibility(struct ctl *c, struct ctl_node *n)
{
	bool want = n->state == NODE_READY && n->conn && n->synced;
	if (want == n->sn.eligible)
		return;
	if (sched_node_set_eligible(c->sched, &n->sn, want) < 0)
		acre_log(ACRE_LOG_ERROR, "node=%s event=index_failed error=\"out of memory\"", n->id);
	if (want)
		c->retry_pending = true; /* room appeared */
}

void node_set_state(struct ctl *c, struct ctl_node *n, enum node_state st, const char *why)
{
	if (n->state == st)
		return;
	acre_log(st == NODE_READY ? ACRE_LOG_INFO : ACRE_LOG_WARN,
		 "node=%s event=state from=%s to=%s reason=\"%s\"", n->id,
		 node_state_name(n->state), node_state_name(st), why ? why : "");
	n->state = st;
	n->state_since_ns = acre_monotonic_ns();
	node_mark_dirty(c, n);
	node_update_eligibility(c, n);
	events_node(c, n, node_state_name(st));
}

void node_set_local(struct ctl *c, struct ctl_node *n, uint32_t cpus, uint64_t mem)
{
	if (cpus == n->local_cpus && mem == n->local_mem)
		return;
	n->sn.used_cpus = n->sn.used_cpus - n->local_cpus + cpus;
	n->sn.used_mem = n->sn.used_mem - n->local_mem + mem;
	n->local_cpus = cpus;
	n->local_mem = mem;
	sched_node_changed(c->sched, &n->sn);
}

void node_seen(struct ctl_node *n)
{
	n->last_seen_ns = acre_monotonic_ns();
}

void node_attach(struct ctl_node *n, struct ctl_slice *sl)
{
	sl->node = n;
	sl->last_node = n;
	sl->node_prev = NULL;
	sl->node_next = n->slices;
	if (n->slices)
		n->slices->node_prev = sl;
	n->slices = sl;
	n->nslices++;
}

void node_detach(struct ctl_slice *sl)
{
	struct ctl_node *n = sl->node;
	if (!n)
		return;
	if (sl->node_prev)
		sl->node_prev->node_next = sl->node_next;
	else
		n->slices = sl->node_next;
	if (sl->node_next)
		sl->node_next->node_prev = sl->node_prev;
	sl->node_prev = sl->node_next = NULL;
	sl->node = NULL;
	n->nslices--;
}

/*
 * Down: every slice that ran (or would run again) here is lost, and
 * replaced where its policy says so; slices that had ended keep their
 * state, no longer tied to the node.
 */
static void node_down(struct ctl *c, struct ctl_node *n, const char *why)
{
	node_set_state(c, n, NODE_DOWN, why);
	char reason[200];
	snprintf(reason, sizeof(reason), "node %s %s", n->id, why);
	while (n->slices) {
		struct ctl_slice *sl = n->slices;
		if (slice_is_active(sl) || slice_holds_resources(sl) || !sl->assigned) {
			slice_lost(c, sl, reason);
		} else {
			node_detach(sl);
			slice_mark_dirty(c, sl);
		}
	}
}

struct tick_ctx {
	struct ctl *c;
	uint64_t now;
};

static void tick_node(const char *key, void *value, void *ud)
{
	(void)key;
	struct tick_ctx *t = ud;
	struct ctl *c = t->c;
	struct ctl_node *n = value;
	uint64_t timeout = c->opt.node_timeout_ms * 1000000ULL;
	uint64_t lost = c->opt.lost_after_ms * 1000000ULL;
	if (n->state == NODE_READY && t->now - n->last_seen_ns > timeout) {
		char why[96];
		snprintf(why, sizeof(why), "silent for %.1fs",
			 (double)(t->now - n->last_seen_ns) / 1e9);
		node_set_state(c, n, NODE_UNREACHABLE, why);
	} else if (n->state == NODE_UNREACHABLE && t->now - n->state_since_ns > lost) {
		char why[96];
		snprintf(why, sizeof(why), "unreachable for %.1fs",
			 (double)(t->now - n->state_since_ns) / 1e9);
		node_down(c, n, why);
	}
}

/* Node timeouts are checked a few times a second: 10,000 nodes cost microseconds. */
void node_tick(struct ctl *c)
{
	struct tick_ctx t = {.c = c, .now = acre_monotonic_ns()};
	acre_map_foreach(c->nodes, tick_node, &t);
}
