/*
 * The pool's slices come from slabs of a few thousand: one allocation per
 * slab, not per slice, so the heap does not fragment between a million
 * long-lived slices and the short-lived JSON of each request.  A slice
 * given back waits on a free list for the next one.  (They are found by
 * name in the pool's map, which borrows each slice's name as its key.)
 */
#include "internal.h"

#define SLAB_SLICES 4096

struct slab {
	struct slab *next;
	struct pool_slice slices[SLAB_SLICES];
};

struct pool_slice *pool_slab_alloc(struct slabs *s)
{
	if (!s->free_list) {
		struct slab *b = malloc(sizeof(*b));
		if (!b)
			return NULL;
		b->next = s->slabs;
		s->slabs = b;
		for (size_t i = SLAB_SLICES; i-- > 0;) {
			b->slices[i].pending_next = s->free_list;
			s->free_list = &b->slices[i];
		}
	}
	struct pool_slice *sl = s->free_list;
	s->free_list = sl->pending_next;
	memset(sl, 0, sizeof(*sl));
	return sl;
}

void pool_slab_release(struct slabs *s, struct pool_slice *sl)
{
	memset(sl, 0, sizeof(*sl));
	sl->pending_next = s->free_list;
	s->free_list = sl;
}

void pool_slabs_free(struct slabs *s)
{
	while (s->slabs) {
		struct slab *b = s->slabs;
		s->slabs = b->next;
		free(b);
	}
	s->free_list = NULL;
}
