/*
 * Listing slices in creation order, a page at a time: the store keeps
 * them ordered by id and filters by node and state; memory has their
 * latest state (this pass's changes are not written yet), so each row
 * found is shown as memory has it.  Filtered by labels, the label index
 * in memory gives them in creation order instead, and the store is only
 * asked for their specs.
 */
#include "internal.h"

struct list_ctx {
	struct pool *p;
	int (*fn)(const struct pool_slice *sl, json_t *spec, void *ud);
	void *ud;
	bool with_spec;
};

static int list_row(const struct store_slice_row *row, void *ud)
{
	struct list_ctx *l = ud;
	struct pool_slice *sl = pool_slice_find(l->p, row->name);
	if (!sl || sl->id != row->id)
		return 0; /* removed in this pass */
	_cleanup_json_ json_t *spec =
		l->with_spec && row->spec ? json_loads(row->spec, 0, NULL) : NULL;
	return l->fn(sl, spec, l->ud);
}

struct labelled_ctx {
	struct pool *p;
	const struct pool_slice_query *q;
	int (*fn)(const struct pool_slice *sl, json_t *spec, void *ud);
	void *ud;
	unsigned listed;
	struct acre_error *err;
};

static int labelled(struct pool_slice *sl, void *ud)
{
	struct labelled_ctx *l = ud;
	const struct pool_slice_query *q = l->q;
	if (sl->id <= q->after || (q->state >= 0 && sl->state != (enum acre_slice_state)q->state) ||
	    (q->node_id && (!sl->node || strcmp(sl->node->id, q->node_id))))
		return 0;
	if (q->limit && l->listed == q->limit)
		return 1;
	_cleanup_json_ json_t *spec = NULL;
	if (q->with_spec && pool_slice_spec(l->p, sl, &spec, l->err) < 0)
		return -EIO;
	l->listed++;
	return l->fn(sl, spec, l->ud);
}

int pool_slice_list(struct pool *p, const struct pool_slice_query *q,
		    int (*fn)(const struct pool_slice *sl, json_t *spec, void *ud), void *ud,
		    struct acre_error *err)
{
	if (q->labels && q->labels->n) {
		struct labelled_ctx l = {.p = p, .q = q, .fn = fn, .ud = ud, .err = err};
		int rc = pool_slices_labelled(p, q->labels, labelled, &l);
		return rc < 0 ? rc : 0;
	}
	if (!p->store)
		return acre_error_set(err, ENOTSUP, NULL, "a pool kept in memory lists nothing");
	struct list_ctx l = {.p = p, .fn = fn, .ud = ud, .with_spec = q->with_spec};
	struct store_slice_query sq = {
		.after_id = q->after,
		.limit = q->limit,
		.node_id = q->node_id,
		.state = q->state >= 0 ? acre_slice_state_name((enum acre_slice_state)q->state)
				       : NULL,
		.with_spec = q->with_spec,
	};
	return store_slice_list(p->store, &sq, list_row, &l, err);
}
