/*
 * A growable array of any element type, for the many places that collect
 * an unknown number of things (table rows, leases, keys, batches).  The
 * array is a plain struct { T *v; size_t n, cap; }, so callers index it
 * directly and hand `v` on; only the growth is shared.
 *
 *	ACRE_VEC(struct lease) leases = {0};
 *	if (acre_vec_push(&leases, l) < 0)
 *		return -ENOMEM;
 *	...
 *	acre_vec_free(&leases);
 */
#ifndef ACRE_COMMON_VEC_H
#define ACRE_COMMON_VEC_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#define ACRE_VEC(type)                                                                             \
	struct {                                                                                   \
		type *v;                                                                           \
		size_t n, cap;                                                                     \
	}

/*
 * The array `v` of `elem`-byte items grown to hold at least `need`: the
 * new array (its capacity in *cap), or NULL on overflow or ENOMEM with `v`
 * untouched.  Capacity doubles, from 8, so pushes are amortised O(1).
 */
void *acre_vec_grow(void *v, size_t *cap, size_t need, size_t elem);

/* Room for `extra` more items; 0 or -ENOMEM. */
#define acre_vec_reserve(vec, extra)                                                               \
	({                                                                                         \
		int _r = 0;                                                                        \
		if ((vec)->n + (extra) > (vec)->cap) {                                             \
			void *_g = acre_vec_grow((vec)->v, &(vec)->cap, (vec)->n + (extra),        \
						 sizeof(*(vec)->v));                               \
			if (_g)                                                                    \
				(vec)->v = _g;                                                     \
			else                                                                       \
				_r = -ENOMEM;                                                      \
		}                                                                                  \
		_r;                                                                                \
	})

/* Appends a copy of `item`; 0 or -ENOMEM (the array unchanged). */
#define acre_vec_push(vec, item)                                                                   \
	({                                                                                         \
		int _pr = acre_vec_reserve(vec, 1);                                                \
		if (_pr == 0)                                                                      \
			(vec)->v[(vec)->n++] = (item);                                             \
		_pr;                                                                               \
	})

/* Frees the array (not what its items point to) and leaves it empty. */
#define acre_vec_free(vec)                                                                         \
	do {                                                                                       \
		free((vec)->v);                                                                    \
		(vec)->v = NULL;                                                                   \
		(vec)->n = (vec)->cap = 0;                                                         \
	} while (0)

#endif
