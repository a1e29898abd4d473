/*
 * Placement over the scheduler's index: filter (room and constraints),
 * score (binpack: fullest after placement; spread: emptiest), reserve.
 * Only a few candidates are visited per placement, from the buckets that
 * can hold the request; see sched.h for the shape of the index.
 */
#include "sched_internal.h"

/* Candidates scored per placement: enough to weigh CPUs against memory. */
#define WANT_CANDIDATES 4
/* Past this many visits, one candidate that fits is enough. */
#define SOFT_VISIT_LIMIT 32

struct candidates {
	struct sched_node *n[WANT_CANDIDATES];
	unsigned count;
	size_t visited;
	size_t taken;	/* nodes with room whose value of the unique attribute is taken */
	size_t no_port; /* nodes with room whose --port-range is full */
	const struct sched_node *no_port_eg; /* one of them, for the message */
};

bool sched_node_fits(const struct sched_node *n, uint32_t cpus, uint64_t mem)
{
	if (cpus && (n->used_cpus > n->cap_cpus || n->cap_cpus - n->used_cpus < cpus))
		return false;
	if (mem && (n->used_mem > n->cap_mem || n->cap_mem - n->used_mem < mem))
		return false;
	return true;
}

bool sched_node_fits_net(const struct sched_node *n, uint64_t net)
{
	return !net || !n->cap_net ||
	       (n->used_net <= n->cap_net && n->cap_net - n->used_net >= net);
}

bool sched_node_fits_ports(const struct sched_node *n, unsigned ports)
{
	return n->ports_free >= ports;
}

bool sched_node_matches(const struct sched_node *n, const struct acre_placement *p)
{
	if (!p)
		return true;
	for (unsigned i = 0; i < p->nconstraints; i++) {
		const struct acre_constraint *c = &p->constraints[i];
		const char *v = sched_node_attr(n, c->attr);
		bool equal = v && strcmp(v, c->value) == 0;
		if (equal != (c->op == ACRE_CONSTRAINT_EQ))
			return false;
	}
	/* Spreading over an attribute, or keeping apart by one, needs nodes that have it. */
	if (p->spread[0] && !sched_node_attr(n, p->spread))
		return false;
	const char *unique = acre_proto_unique_attr(p);
	if (unique && !sched_node_attr(n, unique))
		return false;
	return true;
}

/* How much of the node is in use after the placement: the sum of both fractions. */
static double used_after(const struct sched_node *n, const struct sched_request *r)
{
	double s = 0;
	if (n->cap_cpus)
		s += ((double)n->used_cpus + r->cpus) / (double)n->cap_cpus;
	if (n->cap_mem)
		s += ((double)n->used_mem + (double)r->mem) / (double)n->cap_mem;
	return s;
}

static bool is_spread(const struct sched_request *r)
{
	return r->placement && r->placement->strategy == ACRE_STRATEGY_SPREAD;
}

/*
 * The resource the request needs most, relative to the group's largest
 * node, and the request's bucket of it: nodes in lower buckets have too
 * little of it free.  -1 when no node of the group could hold it.
 */
static int lowest_bucket(const struct sched_group *g, const struct sched_request *r,
			 enum sched_dim *dim)
{
	double need_cpu = 0, need_mem = 0;
	if (r->cpus) {
		if (!g->max_cap_cpus)
			return -1;
		need_cpu = (double)r->cpus / g->max_cap_cpus;
	}
	if (r->mem) {
		if (!g->max_cap_mem)
			return -1;
		need_mem = (double)r->mem / (double)g->max_cap_mem;
	}
	if (need_cpu > 1 || need_mem > 1)
		return -1;
	*dim = need_mem > need_cpu ? SCHED_MEM : SCHED_CPU;
	uint64_t want = *dim == SCHED_CPU ? r->cpus : r->mem;
	return (int)sched_bucket_of_amount(sched_amount(*dim, want));
}

/* A slice of the request's group already holds the node's value of the unique attribute. */
static bool unique_taken(struct sched *s, const struct sched_node *n, const struct sched_request *r)
{
	const char *attr = acre_proto_unique_attr(r->placement);
	if (!attr)
		return false;
	const char *v = sched_node_attr(n, attr);
	return v && sched_unique_get(s, r->group ? r->group : "", attr, v) > 0;
}

static bool visit(struct sched *s, struct sched_node *n, const struct sched_request *r,
		  struct candidates *c)
{
	c->visited++;
	if (sched_node_fits(n, r->cpus, r->mem) && sched_node_fits_net(n, r->net) &&
	    sched_node_matches(n, r->placement)) {
		if (unique_taken(s, n, r)) {
			c->taken++;
		} else if (!sched_node_fits_ports(n, r->ports)) {
			if (c->no_port++ == 0)
				c->no_port_eg = n;
		} else
			c->n[c->count++] = n;
	}
	return c->count == WANT_CANDIDATES || (c->count && c->visited >= SOFT_VISIT_LIMIT);
}

static void scan_group(struct sched *s, const struct sched_group *g, const struct sched_request *r,
		       struct candidates *c)
{
	enum sched_dim d;
	int lo = lowest_bucket(g, r, &d);
	if (lo < 0 || g->count == 0)
		return;
	bool down = is_spread(r);
	int b = down ? sched_prev_nonempty(g, d, SCHED_BUCKETS - 1) : sched_next_nonempty(g, d, lo);
	while (b >= lo) {
		for (struct sched_link *l = g->head[d][b]; l; l = l->next[d])
			if (visit(s, l->node, r, c))
				return;
		b = down ? sched_prev_nonempty(g, d, b - 1) : sched_next_nonempty(g, d, b + 1);
	}
}

static struct sched_node *best(const struct candidates *c, const struct sched_request *r)
{
	struct sched_node *pick = NULL;
	double pick_score = 0;
	for (unsigned i = 0; i < c->count; i++) {
		double s = used_after(c->n[i], r);
		if (is_spread(r))
			s = -s;
		if (!pick || s > pick_score) {
			pick = c->n[i];
			pick_score = s;
		}
	}
	return pick;
}

/* The group to walk: the smallest one an == constraint allows, else all nodes. */
static const struct sched_group *base_group(struct sched *s, const struct acre_placement *p)
{
	const struct sched_group *g = &s->all;
	for (unsigned i = 0; p && i < p->nconstraints; i++) {
		const struct acre_constraint *c = &p->constraints[i];
		if (c->op != ACRE_CONSTRAINT_EQ)
			continue;
		const struct sched_group *eq = sched_group_get(s, c->attr, c->value);
		if (eq && eq->count < g->count)
			g = eq;
	}
	return g;
}

struct spread_value {
	const char *value;
	unsigned slices;
};

struct spread_collect {
	struct sched *s;
	const struct sched_request *r;
	struct spread_value *v;
	size_t n;
};

static void collect_value(const char *value, void *count, void *ud)
{
	struct spread_collect *sc = ud;
	if (!count)
		return;
	sc->v[sc->n].value = value;
	sc->v[sc->n].slices =
		sched_spread_get(sc->s, sc->r->group, sc->r->placement->spread, value);
	sc->n++;
}

static int by_slices(const void *a, const void *b)
{
	const struct spread_value *x = a, *y = b;
	if (x->slices != y->slices)
		return x->slices < y->slices ? -1 : 1;
	return strcmp(x->value, y->value);
}

/* --spread ATTR: the value with the fewest slices of the group that has room wins. */
static int place_spread(struct sched *s, const struct sched_request *r, struct candidates *c)
{
	struct acre_map *values = acre_map_get(s->attr_values, r->placement->spread);
	if (!values)
		return 0;
	struct spread_collect sc = {.s = s, .r = r};
	sc.v = calloc(acre_map_size(values) + 1, sizeof(*sc.v));
	if (!sc.v)
		return -ENOMEM;
	acre_map_foreach(values, collect_value, &sc);
	qsort(sc.v, sc.n, sizeof(*sc.v), by_slices);
	for (size_t i = 0; i < sc.n && c->count == 0; i++) {
		const struct sched_group *g =
			sched_group_get(s, r->placement->spread, sc.v[i].value);
		if (g)
			scan_group(s, g, r, c);
	}
	free(sc.v);
	return 0;
}

static void describe_request(const struct sched_request *r, char *buf, size_t len)
{
	char mem[32] = "-", net[32] = "";
	if (r->mem)
		acre_format_size(r->mem, mem, sizeof(mem));
	if (r->net)
		acre_format_rate(r->net, net, sizeof(net));
	snprintf(buf, len, "cpus %g, memory %s%s%s", r->cpus / 1000.0, mem, r->net ? ", net " : "",
		 net);
}

/* Whether any known node, in any state, could hold the request at all. */
static int check_capacity(struct sched *s, const struct sched_request *r, struct acre_error *err)
{
	size_t matching = 0;
	uint32_t max_cpus = 0;
	uint64_t max_mem = 0, max_net = 0;
	for (size_t i = 0; i < s->nodes.n; i++) {
		const struct sched_node *n = s->nodes.v[i];
		if (!sched_node_matches(n, r->placement))
			continue;
		matching++;
		bool net_ok = !r->net || !n->cap_net || n->cap_net >= r->net;
		if ((!r->cpus || n->cap_cpus >= r->cpus) && (!r->mem || n->cap_mem >= r->mem) &&
		    net_ok)
			return 0;
		max_cpus = n->cap_cpus > max_cpus ? n->cap_cpus : max_cpus;
		max_mem = n->cap_mem > max_mem ? n->cap_mem : max_mem;
		max_net = n->cap_net > max_net ? n->cap_net : max_net;
	}
	if (s->nodes.n == 0)
		return 0; /* an empty pool may still grow: wait */
	if (matching == 0)
		return acre_error_set(err, E2BIG, "placement",
				      "no node in the pool matches the placement's constraints");
	char want[128], mem[32], net[32];
	describe_request(r, want, sizeof(want));
	acre_format_size(max_mem, mem, sizeof(mem));
	if (r->net && max_net && max_net < r->net) {
		acre_format_rate(max_net, net, sizeof(net));
		return acre_error_set(err, E2BIG, "resources.net_rate",
				      "asks for more than any node has (%s; the largest matching "
				      "node has net %s)",
				      want, net);
	}
	return acre_error_set(err, E2BIG, "resources",
			      "asks for more than any node has (%s; the largest matching node "
			      "has cpus %g, memory %s)",
			      want, max_cpus / 1000.0, mem);
}

int sched_place(struct sched *s, const struct sched_request *r, struct sched_node **out,
		struct acre_error *err)
{
	struct candidates c = {.count = 0};
	*out = NULL;
	int rc = 0;
	if (r->placement && r->placement->spread[0])
		rc = place_spread(s, r, &c);
	else
		scan_group(s, base_group(s, r->placement), r, &c);
	s->stats.visited += c.visited;
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "scheduling: out of memory");
	if (c.count) {
		*out = best(&c, r);
		s->stats.placements++;
		return 0;
	}
	s->stats.failures++;
	if (r->check_capacity && (rc = check_capacity(s, r, err)) < 0)
		return rc;
	char want[128];
	describe_request(r, want, sizeof(want));
	if (c.taken) {
		const char *g = r->group ? r->group : "";
		return acre_error_set(err, ENOSPC, NULL,
				      "unique %s: each node with room for %s already runs a slice "
				      "of %s%s (%zu node%s with room, %zu ready)",
				      r->placement->unique, want, g[0] ? "app " : "its group", g,
				      c.taken, c.taken == 1 ? "" : "s", s->eligible);
	}
	if (c.no_port == 1)
		return acre_error_set(err, ENOSPC, NULL,
				      "no free port in the node's --port-range %u-%u (node %s; "
				      "%zu nodes ready)",
				      c.no_port_eg->port_first, c.no_port_eg->port_last,
				      c.no_port_eg->id, s->eligible);
	if (c.no_port)
		return acre_error_set(err, ENOSPC, NULL,
				      "no free port in the --port-range of the %zu nodes with room "
				      "for %s (%zu nodes ready)",
				      c.no_port, want, s->eligible);
	return acre_error_set(err, ENOSPC, NULL, "no node has room for %s (%zu nodes ready)", want,
			      s->eligible);
}

void sched_reserve(struct sched *s, struct sched_node *n, uint32_t cpus, uint64_t mem,
		   enum acre_strategy strategy)
{
	(void)s;
	n->used_cpus += cpus;
	n->used_mem += mem;
	/* spread: the node just used goes last among its equals, so the next one differs. */
	sched_relink(n, strategy == ACRE_STRATEGY_SPREAD);
}

void sched_release(struct sched *s, struct sched_node *n, uint32_t cpus, uint64_t mem)
{
	(void)s;
	n->used_cpus = n->used_cpus > cpus ? n->used_cpus - cpus : 0;
	n->used_mem = n->used_mem > mem ? n->used_mem - mem : 0;
	sched_relink(n, false);
}
