/*
 * The one growth rule of acre's growable arrays (vec.h).
 */
#include "common/vec.h"

#include <stdint.h>

void *acre_vec_grow(void *v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap && v)
		return v;
	size_t c = *cap ? *cap : 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		return NULL;
	void *g = realloc(v, c * elem);
	if (!g)
		return NULL;
	*cap = c;
	return g;
}
