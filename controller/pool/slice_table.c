/*
 * The pool's slices by name, built for a million of them: the structs come
 * from slabs of a few thousand (one allocation per slab, not per slice, so
 * the heap does not fragment between them and the JSON of each request),
 * and the index is an open-addressing table of pointers to the slices
 * themselves, keyed by the name inside them — no copy of any key.
 */
#include "internal.h"

#define SLAB_SLICES 4096

struct slab {
	struct slab *next;
	struct pool_slice slices[SLAB_SLICES];
};

static struct pool_slice tombstone;
#define TOMBSTONE (&tombstone)

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct pool_slice *slice_table_alloc(struct slice_table *t)
{
	if (!t->free_list) {
		struct slab *s = malloc(sizeof(*s));
		if (!s)
			return NULL;
		s->next = t->slabs;
		t->slabs = s;
		for (size_t i = SLAB_SLICES; i-- > 0;) {
			s->slices[i].pending_next = t->free_list;
			t->free_list = &s->slices[i];
		}
	}
	struct pool_slice *sl = t->free_list;
	t->free_list = sl->pending_next;
	memset(sl, 0, sizeof(*sl));
	return sl;
}

void slice_table_release(struct slice_table *t, struct pool_slice *sl)
{
	memset(sl, 0, sizeof(*sl));
	sl->pending_next = t->free_list;
	t->free_list = sl;
}

static size_t find_slot(const struct slice_table *t, const char *name, uint64_t h)
{
	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct pool_slice *sl = t->slots[i];
		if (!sl || (sl != TOMBSTONE && strcmp(sl->name, name) == 0))
			return i;
	}
}

struct pool_slice *slice_table_get(const struct slice_table *t, const char *name)
{
	if (!t->cap)
		return NULL;
	return t->slots[find_slot(t, name, hash_name(name))];
}

static int grow(struct slice_table *t)
{
	size_t cap = t->cap ? (t->size * 4 >= t->cap ? t->cap * 2 : t->cap) : 1024;
	struct pool_slice **slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct pool_slice *sl = t->slots[i];
		if (!sl || sl == TOMBSTONE)
			continue;
		size_t j = hash_name(sl->name) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = sl;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	t->used = t->size;
	return 0;
}

int slice_table_put(struct slice_table *t, struct pool_slice *sl)
{
	if ((t->used + 1) * 4 > t->cap * 3 && grow(t) < 0)
		return -ENOMEM;
	uint64_t h = hash_name(sl->name);
	size_t i = find_slot(t, sl->name, h);
	if (t->slots[i])
		return -EEXIST;
	/* Reuse the first tombstone on the way, if there was one. */
	for (size_t j = h & (t->cap - 1); j != i; j = (j + 1) & (t->cap - 1)) {
		if (t->slots[j] == TOMBSTONE) {
			t->slots[j] = sl;
			t->size++;
			return 0;
		}
	}
	t->slots[i] = sl;
	t->size++;
	t->used++;
	return 0;
}

void slice_table_remove(struct slice_table *t, const struct pool_slice *sl)
{
	if (!t->cap)
		return;
	size_t i = find_slot(t, sl->name, hash_name(sl->name));
	if (t->slots[i] != sl)
		return;
	t->slots[i] = TOMBSTONE;
	t->size--;
}

void slice_table_foreach(const struct slice_table *t, void (*fn)(struct pool_slice *, void *),
			 void *ud)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i] && t->slots[i] != TOMBSTONE)
			fn(t->slots[i], ud);
}

void slice_table_free(struct slice_table *t)
{
	free(t->slots);
	while (t->slabs) {
		struct slab *s = t->slabs;
		t->slabs = s->next;
		free(s);
	}
	memset(t, 0, sizeof(*t));
}
