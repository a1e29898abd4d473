/*
 * The pool as a whole: opening it from the store, its subscribers and the
 * changes published to them, and the end of each loop pass — pending
 * slices retried, the pass's changes written and committed in one
 * transaction, then the subscribers told, then the memory of removed
 * slices given back.
 */
#include "internal.h"
#include "net.h"
#include "common/jsonw.h"

int pool_subscribe(struct pool *p, const struct pool_subscriber *s)
{
	return acre_vec_push(&p->subs, *s);
}

void pool_unsubscribe(struct pool *p, void *ud)
{
	size_t k = 0;
	for (size_t i = 0; i < p->subs.n; i++)
		if (p->subs.v[i].ud != ud)
			p->subs.v[k++] = p->subs.v[i];
	p->subs.n = k;
}

static void publish(struct pool *p, const struct pool_change *ch)
{
	for (size_t i = 0; i < p->subs.n; i++)
		if (p->subs.v[i].changed)
			p->subs.v[i].changed(p->subs.v[i].ud, ch);
}

void pool_publish_slice(struct pool *p, const struct pool_slice *sl, const char *event)
{
	struct pool_change ch = {.kind = POOL_CHANGE_SLICE, .event = event, .slice = sl};
	publish(p, &ch);
}

void pool_publish_node(struct pool *p, const struct pool_node *n, const char *event)
{
	struct pool_change ch = {.kind = POOL_CHANGE_NODE, .event = event, .node = n};
	publish(p, &ch);
}

void pool_slice_touch(struct pool *p, struct pool_slice *sl)
{
	sl->updated_at = acre_now_ms();
	struct pool_change ch = {
		.kind = POOL_CHANGE_SLICE, .event = "updated", .quiet = true, .slice = sl};
	publish(p, &ch);
}

void pool_node_touch(struct pool *p, struct pool_node *n)
{
	struct pool_change ch = {
		.kind = POOL_CHANGE_NODE, .event = "updated", .quiet = true, .node = n};
	publish(p, &ch);
}

void pool_publish_object(struct pool *p, const char *type, const char *event, const json_t *object,
			 const json_t *labels)
{
	struct pool_change ch = {.kind = POOL_CHANGE_OBJECT,
				 .event = event,
				 .type = type,
				 .object = object,
				 .labels = labels};
	publish(p, &ch);
}

const char *pool_change_type(const struct pool_change *ch)
{
	return ch->kind == POOL_CHANGE_OBJECT ? ch->type
	       : ch->kind == POOL_CHANGE_NODE ? "node"
					      : "slice";
}

json_t *pool_change_json(const struct pool_change *ch)
{
	if (ch->kind == POOL_CHANGE_OBJECT)
		return json_deep_copy(ch->object);
	if (ch->kind == POOL_CHANGE_SLICE)
		return pool_slice_json(ch->slice);
	const struct pool_node *n = ch->node;
	return json_pack("{s:s,s:s,s:b,s:b,s:s}", "id", n->id, "state",
			 pool_node_state_name(n->state), "connected", n->conn != NULL, "cordoned",
			 n->cordoned, "hostname", n->hostname);
}

void pool_change_write(struct acre_jsonw *w, const struct pool_change *ch)
{
	if (ch->kind == POOL_CHANGE_OBJECT) {
		acre_jsonw_json(w, ch->object);
		return;
	}
	if (ch->kind == POOL_CHANGE_SLICE) {
		pool_slice_write(w, ch->slice);
		return;
	}
	const struct pool_node *n = ch->node;
	acre_jsonw_object(w);
	acre_jsonw_key(w, "id");
	acre_jsonw_string(w, n->id);
	acre_jsonw_key(w, "state");
	acre_jsonw_string(w, pool_node_state_name(n->state));
	acre_jsonw_key(w, "connected");
	acre_jsonw_bool(w, n->conn != NULL);
	acre_jsonw_key(w, "cordoned");
	acre_jsonw_bool(w, n->cordoned);
	acre_jsonw_key(w, "hostname");
	acre_jsonw_string(w, n->hostname);
	acre_jsonw_end_object(w);
}

uint64_t pool_disconnect_grace_ms(const struct pool *p)
{
	return p->opt.lost_after_ms / 2;
}

int pool_open(struct store *st, const struct pool_options *o, struct pool **out,
	      struct acre_error *err)
{
	*out = NULL;
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	p->opt = *o;
	p->store = st;
	acre_jsonw_init(&p->scratch);
	if (!(p->nodes = acre_map_new()) || !(p->slices = acre_map_new_borrowed()) ||
	    !(p->binaries = acre_map_new()) || pool_labels_init(p) < 0 ||
	    !(p->sched = sched_new()) || pool_persist_new(p) < 0) {
		pool_close(p);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	int rc = pool_net_init(p, err);
	if (rc == 0 && st)
		rc = pool_load(p, err);
	if (rc < 0) {
		pool_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void free_node(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	pool_node_free(value);
}

static void free_slice(const char *key, void *value, void *ud)
{
	(void)key;
	pool_slice_free(ud, value);
}

static void free_removed(struct pool *p)
{
	for (size_t i = 0; i < p->removed.n; i++)
		pool_slice_free(p, p->removed.v[i]);
	p->removed.n = 0;
	for (size_t i = 0; i < p->removed_nodes.n; i++)
		pool_node_free(p->removed_nodes.v[i]);
	p->removed_nodes.n = 0;
}

void pool_close(struct pool *p)
{
	if (!p)
		return;
	struct pool_outbound *o = pool_outbound_take(p);
	while (o) {
		struct pool_outbound *next = o->out_next;
		pool_outbound_free(o);
		o = next;
	}
	pool_persist_free(p);
	acre_jsonw_free(&p->scratch);
	free_removed(p);
	acre_vec_free(&p->removed);
	acre_vec_free(&p->removed_nodes);
	if (p->slices) {
		acre_map_foreach(p->slices, free_slice, p);
		acre_map_free(p->slices);
	}
	pool_slabs_free(&p->slabs);
	pool_labels_free(p);
	sched_free(p->sched);
	if (p->nodes) {
		acre_map_foreach(p->nodes, free_node, NULL);
		acre_map_free(p->nodes);
	}
	acre_vec_free(&p->subs);
	pool_binaries_free(p);
	pool_net_free(p);
	free(p);
}

static void fatal(const struct acre_error *err)
{
	acre_log(ACRE_LOG_ERROR, "event=store_failed action=exit error=\"%s\"", err->message);
	/* Nothing of this pass was acknowledged; a restart resumes from the last commit. */
	_exit(1);
}

void pool_commit(struct pool *p)
{
	struct acre_error err = {0};
	if (p->retry_pending)
		pool_place_retry_pending(p);
	if (pool_persist_write(p, &err) < 0)
		fatal(&err);
	for (size_t i = 0; i < p->subs.n; i++)
		if (p->subs.v[i].committing && p->subs.v[i].committing(p->subs.v[i].ud, &err) < 0)
			fatal(&err);
	if (p->store && store_commit(p->store, &err) < 0)
		fatal(&err);
	pool_persist_done(p);
	for (size_t i = 0; i < p->subs.n; i++)
		if (p->subs.v[i].committed)
			p->subs.v[i].committed(p->subs.v[i].ud);
	free_removed(p);
}

void pool_tick(struct pool *p)
{
	pool_node_tick(p);
	if (p->npending)
		p->retry_pending = true;
}

struct pool_stats *pool_stats(struct pool *p)
{
	return &p->stats;
}

size_t pool_slice_count(const struct pool *p, enum acre_slice_state st)
{
	return (size_t)st <= ACRE_SLICE_DESTROYED ? p->by_state[st] : 0;
}

size_t pool_pending_count(const struct pool *p)
{
	return p->npending;
}

struct store *pool_store(struct pool *p)
{
	return p->store;
}

const struct store_stats *pool_store_stats(const struct pool *p, int64_t *file_size)
{
	static const struct store_stats none;
	*file_size = p->store ? store_file_size(p->store) : 0;
	return p->store ? store_get_stats(p->store) : &none;
}
