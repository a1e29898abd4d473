/*
 * The surplus chooser.  After a partition heals, a node may bring back
 * instances whose names were given to replacements elsewhere, or an app
 * may have shrunk while they were away: the app then has more instances
 * than it wants.  Which go is decided from the instances alone, in a
 * fixed order, so that every pass (and a controller restarted in the
 * middle) chooses the same ones: keep the healthy over the unhealthy,
 * then the one started earlier (it has served longest and its clients
 * are on it), then the one at the current version, then the lower id.
 */
#include "internal.h"

struct order {
	const struct app_instance *inst;
	uint32_t current;
};

/* Before: the one to keep. */
static int compare(const void *pa, const void *pb, void *ud)
{
	const struct order *o = ud;
	const struct app_instance *a = &o->inst[*(const size_t *)pa];
	const struct app_instance *b = &o->inst[*(const size_t *)pb];
	bool ha = a->state == APP_INSTANCE_HEALTHY, hb = b->state == APP_INSTANCE_HEALTHY;
	bool ca = a->version == o->current, cb = b->version == o->current;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	if (ha != hb)
		return ha ? -1 : 1;
	if (a->started_at != b->started_at)
		return a->started_at < b->started_at ? -1 : 1;
	if (ca != cb)
		return ca ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

size_t app_surplus_choose(const struct app_instance *inst, size_t n, unsigned wanted,
			  uint32_t current, bool *stop)
{
	struct order o = {inst, current};
	size_t stopped = 0;
	_cleanup_free_ size_t *by = calloc(n ? n : 1, sizeof(*by));
	if (!by) {
		/* Without memory to sort, stop nothing rather than something wrong. */
		memset(stop, 0, n * sizeof(*stop));
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		by[i] = i;
	qsort_r(by, n, sizeof(*by), compare, &o);
	for (size_t i = 0; i < n; i++) {
		const struct app_instance *in = &inst[by[i]];
		bool first = i == 0 || inst[by[i - 1]].index != in->index;
		stop[by[i]] = in->index >= wanted || !first;
		stopped += stop[by[i]];
	}
	return stopped;
}
