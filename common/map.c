/*
 * A string-keyed hash map (open addressing, linear probing, tombstones):
 * the supervisor's slice table, the controller's slice table and its
 * indexes.  Values are borrowed; keys are copied, or borrowed too (from
 * the value) in a map made with acre_map_new_borrowed.  Each entry keeps
 * its key's hash, so a probe compares strings only when the hashes agree
 * and growing never hashes a key again.
 */
#include "common.h"

struct entry {
	char *key; /* NULL: empty; TOMBSTONE: deleted */
	void *value;
	uint64_t hash;
};

struct acre_map {
	struct entry *slots;
	size_t cap, size, used; /* used counts tombstones too */
	bool borrowed;		/* keys are the caller's */
};

static char tombstone;
#define TOMBSTONE (&tombstone)

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct acre_map *acre_map_new(void)
{
	struct acre_map *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cap = 16;
	m->slots = calloc(m->cap, sizeof(struct entry));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

struct acre_map *acre_map_new_borrowed(void)
{
	struct acre_map *m = acre_map_new();
	if (m)
		m->borrowed = true;
	return m;
}

void acre_map_free(struct acre_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap && !m->borrowed; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct entry *find(const struct acre_map *m, const char *key, uint64_t h)
{
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct entry *e = &m->slots[i];
		if (!e->key)
			return NULL;
		if (e->key != TOMBSTONE && e->hash == h && strcmp(e->key, key) == 0)
			return e;
	}
}

static int grow(struct acre_map *m)
{
	size_t cap = m->size * 4 >= m->cap ? m->cap * 2 : m->cap; /* else just drop tombstones */
	struct entry *slots = calloc(cap, sizeof(struct entry));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct entry *e = &m->slots[i];
		if (!e->key || e->key == TOMBSTONE)
			continue;
		size_t j = e->hash & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = *e;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->used = m->size;
	return 0;
}

void *acre_map_get(const struct acre_map *m, const char *key)
{
	struct entry *e = find(m, key, hash_str(key));
	return e ? e->value : NULL;
}

static int put(struct acre_map *m, const char *key, void *value, bool replace)
{
	uint64_t h = hash_str(key);
	struct entry *e = find(m, key, h);
	if (e) {
		if (!replace)
			return -EEXIST;
		e->value = value;
		if (m->borrowed)
			e->key = (char *)key; /* the old value's key may go with it */
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -ENOMEM;
	char *k = m->borrowed ? (char *)key : strdup(key);
	if (!k)
		return -ENOMEM;
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i].key)
		m->used++;
	m->slots[i] = (struct entry){.key = k, .value = value, .hash = h};
	m->size++;
	return 0;
}

int acre_map_put(struct acre_map *m, const char *key, void *value)
{
	return put(m, key, value, true);
}

int acre_map_add(struct acre_map *m, const char *key, void *value)
{
	return put(m, key, value, false);
}

void *acre_map_remove(struct acre_map *m, const char *key)
{
	struct entry *e = find(m, key, hash_str(key));
	if (!e)
		return NULL;
	void *v = e->value;
	if (!m->borrowed)
		free(e->key);
	e->key = TOMBSTONE;
	e->value = NULL;
	m->size--;
	return v;
}

size_t acre_map_size(const struct acre_map *m)
{
	return m->size;
}

void acre_map_foreach(const struct acre_map *m, void (*fn)(const char *, void *, void *), void *ud)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			fn(m->slots[i].key, m->slots[i].value, ud);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **acre_map_sorted_keys(const struct acre_map *m)
{
	const char **keys = calloc(m->size + 1, sizeof(char *));
	if (!keys)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			keys[n++] = m->slots[i].key;
	qsort(keys, n, sizeof(char *), cmp_str);
	return keys;
}
