/*
 * Why something does not run where it could: for a request (what a slice
 * needs: CPUs, memory, bandwidth, its placement), every node with every
 * reason it does not take it, grouped by reason and counted (a large pool
 * gives a few examples per group, not ten thousand lines), and the smallest
 * changes that would let it run:
 *
 *   - a node that fails on room alone: free the shortfall there (the node
 *     whose shortfall is the smallest part of its capacity);
 *   - nodes that fail on one constraint alone: relax it (and how many
 *     nodes would then take it);
 *   - nodes that would take it but are not ready: when they are back;
 *   - nodes whose value of its unique attribute a slice of its group holds:
 *     remove that slice;
 *   - no node could ever (capacity, attributes): add one, described; more
 *     slices unique by an attribute than values of it: say that not all can.
 *
 * One pass over the nodes (two for unique: which slice holds each value),
 * no placement tried: a 10,000-node pool costs milliseconds.  The same request shape serves slices
 * today and apps' instances later.
 */
#include "internal.h"

#include "common/units.h"

#define EXAMPLES_PER_REASON 5
/* Pools up to this size list every node with its reasons; larger ones give the groups. */
#define NODES_LISTED_MAX 100
#define NODE_REASONS_MAX (ACRE_PLACEMENT_MAX_CONSTRAINTS + 5)

struct reason {
	char kind[160];	  /* what groups nodes: "not enough cpus", "constraint zone==a" */
	char detail[160]; /* this node's side: "has 0.3 free, needs 0.5" */
	enum { R_STATE, R_CONSTRAINT, R_ROOM, R_UNIQUE, R_PORTS } class;
	int constraint; /* index, for R_CONSTRAINT */
};

struct group {
	char kind[160];
	size_t count;
	json_t *examples;
};

struct walk {
	const struct pool_why_request *r;
	size_t nodes, fit;
	json_t *listed;		 /* every node's reasons, small pools only */
	struct acre_map *groups; /* kind -> struct group */
	ACRE_VEC(struct group *) order;
	/* Smallest change on room: the node short of the least, relative to its capacity. */
	const struct pool_node *closest;
	double closest_short;
	uint32_t closest_cpus;
	uint64_t closest_mem, closest_net;
	/* Per constraint: nodes where it is the one reason (ready, with room). */
	size_t only_constraint[ACRE_PLACEMENT_MAX_CONSTRAINTS];
	size_t away_would_fit; /* not ready, else fine */
	const struct pool_node *away_example;
	size_t cordoned_would_fit; /* cordoned by an admin, else fine */
	const struct pool_node *cordoned_example;
	size_t room_ever; /* nodes whose capacity could hold it, used or not */
	/* unique: the attribute, which slice of the group holds each value, and the counts. */
	const char *unique;
	struct acre_map *holders;  /* value -> name of a slice of the group there */
	struct acre_map *values;   /* value -> 1: on nodes the constraints allow */
	size_t unique_only;	   /* ready, with room, only the value taken */
	const char *unique_holder; /* one slice in the way of those */
	size_t unique_slices;	   /* of the group, unique by the attribute, not lost */
	bool oom;
};

static void cpus_text(uint32_t milli, char *buf, size_t len)
{
	snprintf(buf, len, "%g", milli / 1000.0);
}

static uint32_t free_cpus(const struct sched_node *sn)
{
	return sn->used_cpus >= sn->cap_cpus ? 0 : sn->cap_cpus - sn->used_cpus;
}

static uint64_t free_mem(const struct sched_node *sn)
{
	return sn->used_mem >= sn->cap_mem ? 0 : sn->cap_mem - sn->used_mem;
}

static uint64_t free_net(const struct sched_node *sn)
{
	return sn->used_net >= sn->cap_net ? 0 : sn->cap_net - sn->used_net;
}

static struct reason *add_reason(struct reason *out, unsigned *n)
{
	if (*n >= NODE_REASONS_MAX)
		return NULL;
	struct reason *x = &out[(*n)++];
	*x = (struct reason){.constraint = -1};
	return x;
}

/* Why the node takes no placement at all, or NULL: it does (pool_node_update_eligibility). */
static const char *not_taking(const struct pool_node *n)
{
	if (n->state != POOL_NODE_READY)
		return pool_node_state_name(n->state);
	if (!n->conn)
		return "disconnected";
	if (n->cordoned)
		return "cordoned";
	if (!n->synced)
		return "reconciling";
	return NULL;
}

/* A slice of the group holds the node's value of the unique attribute: its name, else NULL. */
static const char *unique_holder(const struct walk *w, const struct pool_node *n)
{
	const char *v = w->unique ? sched_node_attr(&n->sn, w->unique) : NULL;
	return v ? acre_map_get(w->holders, v) : NULL;
}

/* Every reason the node does not take the request; none: it would. */
static unsigned node_reasons(const struct walk *w, const struct pool_node *n, struct reason *out)
{
	const struct pool_why_request *r = w->r;
	unsigned k = 0;
	struct reason *x;
	const struct sched_node *sn = &n->sn;
	const char *away = not_taking(n);
	if (away && (x = add_reason(out, &k))) {
		x->class = R_STATE;
		snprintf(x->kind, sizeof(x->kind), "node is %s", away);
		snprintf(x->detail, sizeof(x->detail), "for %.1f s",
			 (double)(acre_monotonic_ns() - n->state_since_ns) / 1e9);
	}
	const struct acre_placement *p = r->placement;
	for (unsigned i = 0; p && i < p->nconstraints; i++) {
		const struct acre_constraint *c = &p->constraints[i];
		const char *v = sched_node_attr(sn, c->attr);
		bool equal = v && strcmp(v, c->value) == 0;
		if (equal == (c->op == ACRE_CONSTRAINT_EQ) || !(x = add_reason(out, &k)))
			continue;
		x->class = R_CONSTRAINT;
		x->constraint = (int)i;
		snprintf(x->kind, sizeof(x->kind), "constraint %s%s%s", c->attr,
			 c->op == ACRE_CONSTRAINT_EQ ? "==" : "!=", c->value);
		if (v)
			snprintf(x->detail, sizeof(x->detail), "node is %s=%s", c->attr, v);
		else
			snprintf(x->detail, sizeof(x->detail), "node has no %s", c->attr);
	}
	if (p && p->spread[0] && !sched_node_attr(sn, p->spread) && (x = add_reason(out, &k))) {
		x->class = R_CONSTRAINT;
		snprintf(x->kind, sizeof(x->kind), "spread over %s", p->spread);
		snprintf(x->detail, sizeof(x->detail), "node has no %s", p->spread);
	}
	if (w->unique && (x = add_reason(out, &k))) {
		const char *v = sched_node_attr(sn, w->unique), *holder = unique_holder(w, n);
		snprintf(x->kind, sizeof(x->kind), "unique %s", p->unique);
		if (!v) {
			x->class = R_CONSTRAINT;
			snprintf(x->detail, sizeof(x->detail), "node has no %s", w->unique);
		} else if (holder) {
			x->class = R_UNIQUE;
			snprintf(x->detail, sizeof(x->detail), "%s=%s already runs %s", w->unique,
				 v, holder);
		} else {
			k--; /* the value is free here */
		}
	}
	char have[32], need[32];
	if (r->cpus && free_cpus(sn) < r->cpus && (x = add_reason(out, &k))) {
		x->class = R_ROOM;
		cpus_text(free_cpus(sn), have, sizeof(have));
		cpus_text(r->cpus, need, sizeof(need));
		snprintf(x->kind, sizeof(x->kind), "not enough cpus");
		snprintf(x->detail, sizeof(x->detail), "has %s free, needs %s", have, need);
	}
	if (r->mem && free_mem(sn) < r->mem && (x = add_reason(out, &k))) {
		x->class = R_ROOM;
		acre_format_size(free_mem(sn), have, sizeof(have));
		acre_format_size(r->mem, need, sizeof(need));
		snprintf(x->kind, sizeof(x->kind), "not enough memory");
		snprintf(x->detail, sizeof(x->detail), "has %s free, needs %s", have, need);
	}
	if (!sched_node_fits_net(sn, r->net) && (x = add_reason(out, &k))) {
		x->class = R_ROOM;
		acre_format_rate(free_net(sn), have, sizeof(have));
		acre_format_rate(r->net, need, sizeof(need));
		snprintf(x->kind, sizeof(x->kind), "not enough bandwidth");
		snprintf(x->detail, sizeof(x->detail), "has %s free, needs %s", have, need);
	}
	if (!sched_node_fits_ports(sn, r->ports) && (x = add_reason(out, &k))) {
		x->class = R_PORTS;
		snprintf(x->kind, sizeof(x->kind), "no free port in the node's --port-range %u-%u",
			 sn->port_first, sn->port_last);
		snprintf(x->detail, sizeof(x->detail), "has %u free, needs %u", sn->ports_free,
			 r->ports);
	}
	return k;
}

static struct group *group_of(struct walk *w, const char *kind)
{
	struct group *g = acre_map_get(w->groups, kind);
	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (g)
		g->examples = json_array();
	if (!g || !g->examples || acre_vec_push(&w->order, g) < 0) {
		if (g)
			json_decref(g->examples);
		free(g);
		w->oom = true;
		return NULL;
	}
	snprintf(g->kind, sizeof(g->kind), "%s", kind);
	if (acre_map_put(w->groups, g->kind, g) < 0) {
		w->oom = true; /* freed with the others, from w->order */
		return NULL;
	}
	return g;
}

/* How far short of the request the node is, as a part of its capacity (the worst resource). */
static double shortfall(const struct sched_node *sn, const struct pool_why_request *r,
			uint32_t *cpus, uint64_t *mem, uint64_t *net)
{
	double worst = 0;
	*cpus = r->cpus > free_cpus(sn) ? r->cpus - free_cpus(sn) : 0;
	*mem = r->mem > free_mem(sn) ? r->mem - free_mem(sn) : 0;
	*net = !sched_node_fits_net(sn, r->net) ? r->net - free_net(sn) : 0;
	double part[3] = {*cpus && sn->cap_cpus ? (double)*cpus / sn->cap_cpus : 0,
			  *mem && sn->cap_mem ? (double)*mem / (double)sn->cap_mem : 0,
			  *net && sn->cap_net ? (double)*net / (double)sn->cap_net : 0};
	for (int i = 0; i < 3; i++)
		if (part[i] > worst)
			worst = part[i];
	return worst;
}

static bool could_ever_hold(const struct sched_node *sn, const struct pool_why_request *r)
{
	return sn->cap_cpus >= r->cpus && sn->cap_mem >= r->mem &&
	       (!sn->cap_net || sn->cap_net >= r->net);
}

static void visit_node(struct pool_node *n, void *ud)
{
	struct walk *w = ud;
	if (w->oom)
		return;
	w->nodes++;
	struct reason rs[NODE_REASONS_MAX];
	unsigned k = node_reasons(w, n, rs);
	if (could_ever_hold(&n->sn, w->r))
		w->room_ever++;
	if (k == 0) {
		w->fit++;
		return;
	}
	unsigned state = 0, cons = 0, room = 0, uniq = 0, ports = 0;
	int only = -1;
	for (unsigned i = 0; i < k; i++) {
		state += rs[i].class == R_STATE;
		room += rs[i].class == R_ROOM;
		uniq += rs[i].class == R_UNIQUE;
		ports += rs[i].class == R_PORTS;
		if (rs[i].class == R_CONSTRAINT) {
			cons++;
			only = rs[i].constraint;
		}
	}
	if (uniq && !state && !cons && !room && !ports && w->unique_only++ == 0)
		w->unique_holder = unique_holder(w, n);
	if (state && !cons && !room && !uniq && !ports) {
		bool cordoned = !strcmp(not_taking(n), "cordoned");
		size_t *count = cordoned ? &w->cordoned_would_fit : &w->away_would_fit;
		if ((*count)++ == 0)
			*(cordoned ? &w->cordoned_example : &w->away_example) = n;
	}
	if (!state && !room && !uniq && !ports && cons == 1 && only >= 0)
		w->only_constraint[only]++;
	/* Freeing room helps only a node large enough for it. */
	if (!state && !cons && !uniq && !ports && room && could_ever_hold(&n->sn, w->r)) {
		uint32_t c;
		uint64_t m, t;
		double s = shortfall(&n->sn, w->r, &c, &m, &t);
		if (!w->closest || s < w->closest_short) {
			w->closest = n;
			w->closest_short = s;
			w->closest_cpus = c;
			w->closest_mem = m;
			w->closest_net = t;
		}
	}
	json_t *mine = w->listed ? json_array() : NULL;
	for (unsigned i = 0; i < k; i++) {
		struct group *g = group_of(w, rs[i].kind);
		if (!g) {
			json_decref(mine);
			return;
		}
		g->count++;
		if (json_array_size(g->examples) < EXAMPLES_PER_REASON)
			json_array_append_new(g->examples, json_pack("{s:s,s:s}", "node", n->id,
								     "detail", rs[i].detail));
		if (mine)
			json_array_append_new(mine, json_pack("{s:s,s:s}", "reason", rs[i].kind,
							      "detail", rs[i].detail));
	}
	if (mine)
		json_array_append_new(w->listed,
				      json_pack("{s:s,s:o}", "node", n->id, "reasons", mine));
}

/* A slice of the request's group kept apart by the same attribute, and not removed. */
static bool same_unique(const struct walk *w, const struct pool_slice *sl)
{
	const char *attr = acre_proto_unique_attr(sl->placement);
	const char *group = w->r->group ? w->r->group : "";
	return !sl->removed && attr && !strcmp(attr, w->unique) &&
	       !strcmp(sl->group ? sl->group : "", group);
}

/* Which slice holds each value (the scheduler counts them; why names one), and the values. */
static void unique_node(struct pool_node *n, void *ud)
{
	struct walk *w = ud;
	const char *v = sched_node_attr(&n->sn, w->unique);
	if (!v)
		return;
	if (sched_node_matches(&n->sn, w->r->placement) &&
	    acre_map_put(w->values, v, (void *)1) < 0)
		w->oom = true;
	for (const struct pool_slice *sl = n->slices; sl; sl = sl->node_next)
		if (same_unique(w, sl) && !acre_map_get(w->holders, v) &&
		    acre_map_put(w->holders, v, (void *)sl->name) < 0)
			w->oom = true;
}

static void unique_slice(const char *name, void *value, void *ud)
{
	(void)name;
	struct walk *w = ud;
	const struct pool_slice *sl = value;
	if (same_unique(w, sl) && sl->state != ACRE_SLICE_LOST)
		w->unique_slices++;
}

static int unique_prepare(struct pool *p, struct walk *w)
{
	w->unique = acre_proto_unique_attr(w->r->placement);
	if (!w->unique)
		return 0;
	w->holders = acre_map_new();
	w->values = acre_map_new();
	if (!w->holders || !w->values)
		return -ENOMEM;
	pool_node_foreach(p, unique_node, w);
	acre_map_foreach(p->slices, unique_slice, w);
	return w->oom ? -ENOMEM : 0;
}

static json_t *unique_json(const struct walk *w)
{
	return json_pack("{s:s,s:I,s:I}", "attr", w->unique, "values",
			 (json_int_t)acre_map_size(w->values), "slices",
			 (json_int_t)w->unique_slices);
}

static void unique_suggestions(const struct walk *w, json_t *s)
{
	const struct acre_placement *p = w->r->placement;
	const char *group = w->r->group && w->r->group[0] ? w->r->group : NULL;
	char text[400];
	size_t values = acre_map_size(w->values);
	if (w->unique_slices > values) {
		snprintf(text, sizeof(text),
			 "%zu slices of %s%s are unique by %s, and the nodes they may use have "
			 "%zu value%s of %s: at most %zu can ever run; add nodes with another %s, "
			 "or run fewer",
			 w->unique_slices, group ? "app " : "its group", group ? group : "",
			 p->unique, values, values == 1 ? "" : "s", w->unique, values, w->unique);
		json_array_append_new(s, json_string(text));
	}
	if (w->unique_only) {
		snprintf(text, sizeof(text),
			 "remove %s (unique %s): %zu node%s would take it once no slice of %s%s "
			 "holds their %s",
			 w->unique_holder ? w->unique_holder : "a slice of its group", p->unique,
			 w->unique_only, w->unique_only == 1 ? "" : "s",
			 group ? "app " : "its group", group ? group : "", w->unique);
		json_array_append_new(s, json_string(text));
	}
}

static int by_count(const void *a, const void *b)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

/* "0.2 cpus, 512 MiB memory": what a node lacks. */
static void lack_text(uint32_t cpus, uint64_t mem, uint64_t net, char *buf, size_t len)
{
	char c[32], m[32], t[32];
	cpus_text(cpus, c, sizeof(c));
	acre_format_size(mem, m, sizeof(m));
	acre_format_rate(net, t, sizeof(t));
	snprintf(buf, len, "%s%s%s%s%s%s%s%s", cpus ? c : "", cpus ? " cpus" : "",
		 cpus && (mem || net) ? ", " : "", mem ? m : "", mem ? " of memory" : "",
		 mem && net ? ", " : "", net ? t : "", net ? " of bandwidth" : "");
}

static json_t *suggestions(const struct walk *w)
{
	const struct pool_why_request *r = w->r;
	json_t *s = json_array();
	char text[400], lack[160];
	if (w->fit) {
		snprintf(text, sizeof(text),
			 "%zu node%s would take it now: it is placed at the next pass", w->fit,
			 w->fit == 1 ? "" : "s");
		json_array_append_new(s, json_string(text));
		return s;
	}
	if (w->unique)
		unique_suggestions(w, s);
	if (w->closest) {
		lack_text(w->closest_cpus, w->closest_mem, w->closest_net, lack, sizeof(lack));
		snprintf(text, sizeof(text), "free %s on node %s (then it fits there)", lack,
			 w->closest->id);
		json_array_append_new(s, json_string(text));
	}
	const struct acre_placement *p = r->placement;
	for (unsigned i = 0; p && i < p->nconstraints; i++) {
		if (!w->only_constraint[i])
			continue;
		const struct acre_constraint *c = &p->constraints[i];
		snprintf(text, sizeof(text), "relax constraint %s%s%s: %zu node%s would take it",
			 c->attr, c->op == ACRE_CONSTRAINT_EQ ? "==" : "!=", c->value,
			 w->only_constraint[i], w->only_constraint[i] == 1 ? "" : "s");
		json_array_append_new(s, json_string(text));
	}
	if (w->away_would_fit) {
		snprintf(text, sizeof(text),
			 "%zu node%s not ready (%s: %s) would take it once back", w->away_would_fit,
			 w->away_would_fit == 1 ? "" : "s", w->away_example->id,
			 not_taking(w->away_example));
		json_array_append_new(s, json_string(text));
	}
	if (w->cordoned_would_fit) {
		snprintf(text, sizeof(text), "uncordon node %s: it would take it%s",
			 w->cordoned_example->id,
			 w->cordoned_would_fit > 1 ? " (as would other cordoned nodes)" : "");
		json_array_append_new(s, json_string(text));
	}
	if (!w->closest && !w->away_would_fit && !w->cordoned_would_fit && !w->unique_only) {
		/* No node fits on room alone: a new one, with what it must have. */
		lack_text(r->cpus, r->mem, r->net, lack, sizeof(lack));
		int used = snprintf(text, sizeof(text), "add a node with at least %s",
				    lack[0] ? lack : "any room");
		for (unsigned i = 0;
		     p && i < p->nconstraints && used > 0 && (size_t)used < sizeof(text); i++)
			if (p->constraints[i].op == ACRE_CONSTRAINT_EQ)
				used += snprintf(text + used, sizeof(text) - (size_t)used,
						 "%s%s=%s", i ? ", " : " and attribute ",
						 p->constraints[i].attr, p->constraints[i].value);
		if (p && p->spread[0] && used > 0 && (size_t)used < sizeof(text))
			used += snprintf(text + used, sizeof(text) - (size_t)used,
					 " (with a %s attribute)", p->spread);
		if (w->unique && used > 0 && (size_t)used < sizeof(text))
			snprintf(text + used, sizeof(text) - (size_t)used,
				 " (with a %s no slice of its group holds)", w->unique);
		json_array_append_new(s, json_string(text));
	}
	return s;
}

json_t *pool_why(struct pool *p, const struct pool_why_request *r)
{
	struct walk w = {.r = r, .groups = acre_map_new()};
	if (!w.groups)
		return NULL;
	if (acre_map_size(p->nodes) <= NODES_LISTED_MAX)
		w.listed = json_array();
	if (unique_prepare(p, &w) < 0)
		w.oom = true;
	else
		pool_node_foreach(p, visit_node, &w);
	json_t *out = NULL;
	if (!w.oom) {
		if (w.order.n)
			qsort(w.order.v, w.order.n, sizeof(*w.order.v), by_count);
		json_t *reasons = json_array();
		for (size_t i = 0; i < w.order.n; i++)
			json_array_append_new(
				reasons, json_pack("{s:s,s:I,s:O}", "reason", w.order.v[i]->kind,
						   "nodes", (json_int_t)w.order.v[i]->count,
						   "examples", w.order.v[i]->examples));
		out = json_pack("{s:I,s:I,s:I,s:o,s:o}", "nodes", (json_int_t)w.nodes, "fit",
				(json_int_t)w.fit, "could_ever", (json_int_t)w.room_ever, "reasons",
				reasons, "suggestions", suggestions(&w));
		if (out && w.listed)
			json_object_set(out, "by_node", w.listed);
		if (out && w.unique)
			json_object_set_new(out, "unique", unique_json(&w));
	}
	json_decref(w.listed);
	for (size_t i = 0; i < w.order.n; i++) {
		json_decref(w.order.v[i]->examples);
		free(w.order.v[i]);
	}
	acre_vec_free(&w.order);
	acre_map_free(w.groups);
	acre_map_free(w.holders);
	acre_map_free(w.values);
	return out;
}

json_t *pool_why_slice(struct pool *p, const struct pool_slice *sl)
{
	struct pool_why_request r = {.cpus = sl->cpus,
				     .mem = sl->mem,
				     .net = sl->net_rate,
				     .ports = sl->host_ports ? sl->host_ports->n : 0,
				     .placement = sl->placement,
				     .group = sl->group};
	json_t *j = pool_why(p, &r);
	if (!j)
		return NULL;
	json_object_set_new(j, "kind", json_string("slice"));
	json_object_set_new(j, "name", json_string(sl->name));
	json_object_set_new(j, "state", json_string(acre_slice_state_name(sl->state)));
	if (sl->node)
		json_object_set_new(j, "node", json_string(sl->node->id));
	if (sl->reason)
		json_object_set_new(j, "why", json_string(sl->reason));
	return j;
}
