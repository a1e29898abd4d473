/*
 * The store's writer: the first subscriber of the pool's changes.  It
 * notes which nodes and slices a pass changed — in arrays of its own,
 * nothing in the objects themselves — and at the end of the pass writes
 * each of them once, as it is then: a new slice is inserted (its spec
 * with it), a removed one deleted, the others updated.  The caller
 * commits.  A slice made and removed in the same pass never reaches the
 * disk.
 */
#include "internal.h"
#include "common/jsonw.h"

struct persist {
	/* Every change appends; a pass's duplicates are merged when written. */
	ACRE_VEC(struct pool_slice *) slices;
	ACRE_VEC(struct pool_node *) nodes;
	/* New slices written this pass: their spec is the store's once it is committed. */
	ACRE_VEC(struct pool_slice *) inserted;
	/* Where exit records are encoded, row after row, without a malloc each. */
	struct acre_jsonw exit;
};

static void changed(void *ud, const struct pool_change *ch)
{
	struct pool *p = ud;
	struct persist *w = p->persist;
	if (ch->kind == POOL_CHANGE_OBJECT)
		return; /* a layer above writes its own rows */
	int rc = ch->kind == POOL_CHANGE_SLICE
			 ? acre_vec_push(&w->slices, (struct pool_slice *)ch->slice)
			 : acre_vec_push(&w->nodes, (struct pool_node *)ch->node);
	if (rc < 0) {
		/* Memory would no longer reach the disk: a restart resumes from the last commit. */
		acre_log(ACRE_LOG_ERROR, "event=store_failed action=exit error=\"out of memory\"");
		_exit(1);
	}
}

int pool_persist_new(struct pool *p)
{
	if (!(p->persist = calloc(1, sizeof(*p->persist))))
		return -ENOMEM;
	struct pool_subscriber s = {.changed = changed, .ud = p};
	return p->store ? pool_subscribe(p, &s) : 0;
}

void pool_persist_free(struct pool *p)
{
	if (!p->persist)
		return;
	acre_vec_free(&p->persist->slices);
	acre_vec_free(&p->persist->nodes);
	acre_vec_free(&p->persist->inserted);
	acre_jsonw_free(&p->persist->exit);
	free(p->persist);
	p->persist = NULL;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts and drops duplicates: each object once, in no particular order. */
static size_t unique(void *v, size_t n)
{
	uintptr_t *a = v;
	if (n < 2)
		return n;
	qsort(a, n, sizeof(*a), cmp_ptr);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (a[i] != a[k - 1])
			a[k++] = a[i];
	return k;
}

static int write_node(struct pool *p, struct pool_node *n, struct acre_error *err)
{
	if (n->removed)
		return store_node_delete(p->store, n->id, err);
	_cleanup_free_ char *attrs = json_dumps(n->attributes, JSON_COMPACT | JSON_SORT_KEYS);
	struct store_node_row r = {
		.id = n->id,
		.hostname = n->hostname,
		.secret_hash = n->secret_hash,
		.attributes = attrs ? attrs : "{}",
		.state = pool_node_state_name(n->state),
		.address = n->address,
		.cpus = n->sn.cap_cpus,
		.memory = n->sn.cap_mem,
		.last_seq = n->last_seq,
		.subnet = n->subnet[0] ? n->subnet : NULL,
		.net_address = n->net_address[0] ? n->net_address : NULL,
		.vtep_mac = n->vtep_mac[0] ? n->vtep_mac : NULL,
		.net_capacity = n->sn.cap_net,
		.network = n->network,
		.cordoned = n->cordoned,
		.registered_at = n->registered_at,
		.updated_at = acre_now_ms(),
	};
	return store_node_put(p->store, &r, err);
}

/* A JSON value's text in a scratch writer (valid until its next use); NULL for none. */
static const char *encode(struct acre_jsonw *w, const json_t *v, bool *failed)
{
	if (!v)
		return NULL;
	acre_jsonw_reset(w);
	acre_jsonw_json(w, v);
	const char *text = acre_jsonw_text(w);
	if (!text)
		*failed = true;
	return text;
}

static int insert(struct pool *p, struct pool_slice *sl, struct store_slice_row *r,
		  struct acre_error *err)
{
	struct persist *w = p->persist;
	bool failed = false;
	r->spec = sl->spec->text;
	r->labels = sl->spec->labels;
	_cleanup_free_ char *placement = NULL;
	if (sl->placement) {
		_cleanup_json_ json_t *j = acre_proto_placement_to_json(sl->placement);
		placement = j ? json_dumps(j, JSON_COMPACT) : NULL;
		failed |= !placement;
	}
	if (failed)
		return acre_error_set(err, ENOMEM, NULL, "writing slice %s: out of memory",
				      sl->name);
	r->placement = placement;
	int rc = store_slice_insert(p->store, r, err);
	if (rc == 0 && acre_vec_push(&w->inserted, sl) < 0)
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	return rc;
}

static int write_slice(struct pool *p, struct pool_slice *sl, struct acre_error *err)
{
	bool is_new = sl->spec != NULL; /* a new slice's spec is in memory until inserted */
	if (sl->removed)
		return is_new ? 0 : store_slice_delete(p->store, sl->id, err);
	char restart[32];
	pool_slice_restart_text(sl, restart, sizeof(restart));
	bool failed = false;
	const char *exit = encode(&p->persist->exit, sl->exit, &failed);
	char vip[16];
	if (sl->vip)
		snprintf(vip, sizeof(vip), "%u.%u.%u.%u", sl->vip >> 24, sl->vip >> 16 & 255,
			 sl->vip >> 8 & 255, sl->vip & 255);
	_cleanup_free_ char *host_ports = pool_host_ports_text(sl->host_ports);
	if (failed || (sl->host_ports && !host_ports))
		return acre_error_set(err, ENOMEM, NULL, "writing slice %s: out of memory",
				      sl->name);
	struct store_slice_row r = {
		.id = sl->id,
		.name = sl->name,
		.node_id = sl->node ? sl->node->id : NULL,
		.last_node_id = sl->last_node ? sl->last_node->id : NULL,
		.state = acre_slice_state_name(sl->state),
		.reason = sl->reason,
		.desired = pool_desired_name(sl->desired),
		.exit = exit,
		.spread = sl->spread,
		.spread_group = sl->group, /* set by --spread or unique */
		.cpus = sl->cpus,
		.memory = sl->mem,
		.restart = restart,
		.restarts = sl->restarts,
		.replacements = sl->replacements,
		.assigned = sl->assigned,
		.net_rate = sl->net_rate,
		.address = sl->address,
		.vip = sl->vip ? vip : NULL,
		.host_ports = host_ports,
		.created_at = sl->created_at,
		.updated_at = sl->updated_at,
	};
	return is_new ? insert(p, sl, &r, err) : store_slice_update(p->store, &r, err);
}

int pool_persist_write(struct pool *p, struct acre_error *err)
{
	struct persist *w = p->persist;
	int rc = 0;
	w->nodes.n = unique(w->nodes.v, w->nodes.n);
	for (size_t i = 0; rc == 0 && i < w->nodes.n; i++)
		rc = write_node(p, w->nodes.v[i], err);
	w->slices.n = unique(w->slices.v, w->slices.n);
	for (size_t i = 0; rc == 0 && i < w->slices.n; i++)
		rc = write_slice(p, w->slices.v[i], err);
	w->nodes.n = w->slices.n = 0;
	return rc;
}

void pool_persist_forget(struct pool *p)
{
	p->persist->nodes.n = p->persist->slices.n = 0;
}

void pool_persist_done(struct pool *p)
{
	struct persist *w = p->persist;
	for (size_t i = 0; i < w->inserted.n; i++) {
		struct pool_slice *sl = w->inserted.v[i];
		pool_spec_text_unref(sl->spec);
		sl->spec = NULL;
	}
	w->inserted.n = 0;
}
