/*
 * The scheduler's indexes: the nodes it knows, the groups of eligible
 * nodes bucketed by free fraction, the values each attribute takes, and
 * the spread and unique counters.  Everything here is O(1) or O(attributes of a node)
 * per change; the only pool-sized loop builds a group the first time a
 * constraint names its (attribute, value).
 */
#include "sched_internal.h"

static uintptr_t count_get(struct acre_map *m, const char *key)
{
	return (uintptr_t)acre_map_get(m, key);
}

/* Counters live in maps as pointer-sized integers; zero is absence. */
static void count_add(struct acre_map *m, const char *key, int delta)
{
	uintptr_t v = count_get(m, key);
	if (delta < 0 && v < (uintptr_t)-delta)
		v = 0;
	else
		v += (uintptr_t)(intptr_t)delta;
	if (v == 0)
		acre_map_remove(m, key);
	else
		acre_map_put(m, key, (void *)v);
}

/*
 * Buckets are logarithmic in the amount free (millicpus, MiB): eight per
 * doubling, bucket 0 for nothing free.  The mapping only grows with the
 * amount, so every node in a bucket below the request's own has too little
 * and is never visited; only the request's bucket holds nodes that may fall
 * short, by less than an eighth of a doubling.
 */
unsigned sched_bucket_of_amount(uint64_t v)
{
	if (v == 0)
		return 0;
	unsigned lg = 63 - (unsigned)__builtin_clzll(v);
	unsigned sub = lg >= 3 ? (unsigned)(v >> (lg - 3)) & 7 : (unsigned)(v << (3 - lg)) & 7;
	unsigned b = 1 + 8 * lg + sub;
	return b < SCHED_BUCKETS ? b : SCHED_BUCKETS - 1;
}

uint64_t sched_amount(enum sched_dim d, uint64_t v)
{
	return d == SCHED_CPU ? v : v >> 20; /* millicpus; bytes to MiB */
}

unsigned sched_bucket_of(const struct sched_node *n, enum sched_dim d)
{
	uint64_t cap = d == SCHED_CPU ? n->cap_cpus : n->cap_mem;
	uint64_t used = d == SCHED_CPU ? n->used_cpus : n->used_mem;
	return used >= cap ? 0 : sched_bucket_of_amount(sched_amount(d, cap - used));
}

static void bucket_insert(struct sched_group *g, struct sched_link *l, enum sched_dim d, unsigned b,
			  bool tail)
{
	l->bucket[d] = b;
	if (tail) {
		l->next[d] = NULL;
		l->prev[d] = g->tail[d][b];
		if (g->tail[d][b])
			g->tail[d][b]->next[d] = l;
		else
			g->head[d][b] = l;
		g->tail[d][b] = l;
	} else {
		l->prev[d] = NULL;
		l->next[d] = g->head[d][b];
		if (g->head[d][b])
			g->head[d][b]->prev[d] = l;
		else
			g->tail[d][b] = l;
		g->head[d][b] = l;
	}
	g->nonempty[d][b / 64] |= 1ULL << (b % 64);
}

static void bucket_unlink(struct sched_group *g, struct sched_link *l, enum sched_dim d)
{
	unsigned b = l->bucket[d];
	if (l->prev[d])
		l->prev[d]->next[d] = l->next[d];
	else
		g->head[d][b] = l->next[d];
	if (l->next[d])
		l->next[d]->prev[d] = l->prev[d];
	else
		g->tail[d][b] = l->prev[d];
	l->prev[d] = l->next[d] = NULL;
	if (!g->head[d][b])
		g->nonempty[d][b / 64] &= ~(1ULL << (b % 64));
}

int sched_next_nonempty(const struct sched_group *g, enum sched_dim d, int from)
{
	for (int w = from / 64; from >= 0 && from < SCHED_BUCKETS && w < SCHED_BUCKETS / 64; w++) {
		uint64_t bits = g->nonempty[d][w];
		if (w == from / 64)
			bits &= ~0ULL << (from % 64);
		if (bits)
			return w * 64 + __builtin_ctzll(bits);
	}
	return -1;
}

int sched_prev_nonempty(const struct sched_group *g, enum sched_dim d, int from)
{
	for (int w = from / 64; from >= 0 && w >= 0; w--) {
		uint64_t bits = g->nonempty[d][w];
		if (w == from / 64 && from % 64 != 63)
			bits &= (1ULL << (from % 64 + 1)) - 1;
		if (bits)
			return w * 64 + 63 - __builtin_clzll(bits);
	}
	return -1;
}

static int join(struct sched_group *g, struct sched_node *n)
{
	struct sched_link *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->node = n;
	l->group = g;
	l->next_of_node = n->links;
	n->links = l;
	for (int d = 0; d < SCHED_DIMS; d++)
		bucket_insert(g, l, (enum sched_dim)d, sched_bucket_of(n, (enum sched_dim)d),
			      false);
	g->count++;
	if (n->cap_cpus > g->max_cap_cpus)
		g->max_cap_cpus = n->cap_cpus;
	if (n->cap_mem > g->max_cap_mem)
		g->max_cap_mem = n->cap_mem;
	return 0;
}

static void group_key(char *buf, size_t len, const char *key, const char *value)
{
	snprintf(buf, len, "%s\x1f%s", key, value);
}

struct sched_group *sched_group_find(struct sched *s, const char *key, const char *value)
{
	char k[ACRE_ATTR_KEY_MAX + ACRE_ATTR_VALUE_MAX + 2];
	group_key(k, sizeof(k), key, value);
	return acre_map_get(s->groups, k);
}

struct sched_group *sched_group_get(struct sched *s, const char *key, const char *value)
{
	struct sched_group *g = sched_group_find(s, key, value);
	if (g)
		return g;
	char k[ACRE_ATTR_KEY_MAX + ACRE_ATTR_VALUE_MAX + 2];
	group_key(k, sizeof(k), key, value);
	g = calloc(1, sizeof(*g));
	if (!g || !(g->key = strdup(key)) || !(g->value = strdup(value)) ||
	    acre_map_put(s->groups, k, g) < 0)
		goto fail;
	/* The one pool-sized loop: once per (attribute, value) ever asked about. */
	for (size_t i = 0; i < s->nodes.n; i++) {
		struct sched_node *n = s->nodes.v[i];
		const char *v = sched_node_attr(n, key);
		if (n->eligible && v && strcmp(v, value) == 0 && join(g, n) < 0)
			break;
	}
	return g;
fail:
	if (g) {
		free(g->key);
		free(g->value);
		free(g);
	}
	return NULL;
}

static void attr_index_add(struct sched *s, const struct sched_node *n, int delta)
{
	for (unsigned i = 0; i < n->nattrs; i++) {
		struct acre_map *values = acre_map_get(s->attr_values, n->attrs[i].key);
		if (!values) {
			if (delta < 0 || !(values = acre_map_new()))
				continue;
			if (acre_map_put(s->attr_values, n->attrs[i].key, values) < 0) {
				acre_map_free(values);
				continue;
			}
		}
		count_add(values, n->attrs[i].value, delta);
	}
}

static void unlink_all(struct sched_node *n)
{
	while (n->links) {
		struct sched_link *l = n->links;
		n->links = l->next_of_node;
		for (int d = 0; d < SCHED_DIMS; d++)
			bucket_unlink(l->group, l, (enum sched_dim)d);
		l->group->count--;
		free(l);
	}
}

int sched_node_set_eligible(struct sched *s, struct sched_node *n, bool eligible)
{
	if (n->eligible == eligible)
		return 0;
	if (!eligible) {
		unlink_all(n);
		n->eligible = false;
		s->eligible--;
		attr_index_add(s, n, -1);
		return 0;
	}
	n->eligible = true;
	s->eligible++;
	attr_index_add(s, n, +1);
	int rc = join(&s->all, n);
	for (unsigned i = 0; rc == 0 && i < n->nattrs; i++) {
		struct sched_group *g = sched_group_find(s, n->attrs[i].key, n->attrs[i].value);
		if (g)
			rc = join(g, n);
	}
	if (rc < 0)
		sched_node_set_eligible(s, n, false);
	return rc;
}

void sched_relink(struct sched_node *n, bool to_tail)
{
	for (int i = 0; i < SCHED_DIMS; i++) {
		enum sched_dim d = (enum sched_dim)i;
		unsigned b = sched_bucket_of(n, d);
		for (struct sched_link *l = n->links; l; l = l->next_of_node) {
			if (l->bucket[d] == b && !to_tail)
				continue;
			bucket_unlink(l->group, l, d);
			bucket_insert(l->group, l, d, b, to_tail);
		}
	}
}

void sched_node_changed(struct sched *s, struct sched_node *n)
{
	(void)s;
	for (struct sched_link *l = n->links; l; l = l->next_of_node) {
		if (n->cap_cpus > l->group->max_cap_cpus)
			l->group->max_cap_cpus = n->cap_cpus;
		if (n->cap_mem > l->group->max_cap_mem)
			l->group->max_cap_mem = n->cap_mem;
	}
	sched_relink(n, false);
}

int sched_node_add(struct sched *s, struct sched_node *n)
{
	n->links = NULL;
	n->eligible = false;
	n->index = s->nodes.n;
	return acre_vec_push(&s->nodes, n);
}

void sched_node_forget(struct sched *s, struct sched_node *n)
{
	sched_node_set_eligible(s, n, false);
	if (n->index >= s->nodes.n || s->nodes.v[n->index] != n)
		return;
	s->nodes.v[n->index] = s->nodes.v[--s->nodes.n];
	s->nodes.v[n->index]->index = n->index;
}

static void spread_key(char *buf, size_t len, const char *group, const char *attr,
		       const char *value)
{
	snprintf(buf, len, "%s\x1f%s\x1f%s", group ? group : "", attr, value ? value : "");
}

void sched_spread_count(struct sched *s, const char *group, const char *attr,
			const struct sched_node *n, int delta)
{
	char k[600];
	spread_key(k, sizeof(k), group, attr, sched_node_attr(n, attr));
	count_add(s->spread, k, delta);
}

unsigned sched_spread_get(struct sched *s, const char *group, const char *attr, const char *value)
{
	char k[600];
	spread_key(k, sizeof(k), group, attr, value);
	return (unsigned)count_get(s->spread, k);
}

void sched_unique_count(struct sched *s, const char *group, const char *attr,
			const struct sched_node *n, int delta)
{
	const char *v = sched_node_attr(n, attr);
	if (!v)
		return; /* never placed there: a node without it is not eligible */
	char k[600];
	spread_key(k, sizeof(k), group, attr, v);
	count_add(s->unique, k, delta);
}

unsigned sched_unique_get(struct sched *s, const char *group, const char *attr, const char *value)
{
	char k[600];
	spread_key(k, sizeof(k), group, attr, value);
	return (unsigned)count_get(s->unique, k);
}

struct sched *sched_new(void)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->groups = acre_map_new();
	s->attr_values = acre_map_new();
	s->spread = acre_map_new();
	s->unique = acre_map_new();
	if (!s->groups || !s->attr_values || !s->spread || !s->unique) {
		sched_free(s);
		return NULL;
	}
	return s;
}

static void free_group(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	struct sched_group *g = value;
	free(g->key);
	free(g->value);
	free(g);
}

static void free_values(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	acre_map_free(value);
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nodes.n; i++)
		unlink_all(s->nodes.v[i]);
	if (s->groups)
		acre_map_foreach(s->groups, free_group, NULL);
	if (s->attr_values)
		acre_map_foreach(s->attr_values, free_values, NULL);
	acre_map_free(s->groups);
	acre_map_free(s->attr_values);
	acre_map_free(s->spread);
	acre_map_free(s->unique);
	acre_vec_free(&s->nodes);
	free(s);
}

const char *sched_node_attr(const struct sched_node *n, const char *key)
{
	for (unsigned i = 0; i < n->nattrs; i++)
		if (strcmp(n->attrs[i].key, key) == 0)
			return n->attrs[i].value;
	return NULL;
}

size_t sched_eligible_count(const struct sched *s)
{
	return s->eligible;
}

const struct sched_stats *sched_get_stats(const struct sched *s)
{
	return &s->stats;
}
