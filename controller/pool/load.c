/*
 * Start-up: the nodes and slices of the store back into memory, as they
 * were at the last commit.  Nodes come back disconnected and get a full
 * --node-timeout to reconnect before they count as unreachable; slices take
 * their room on their node again, and pending ones queue for placement.
 */
#include "internal.h"
#include "net.h"

static int load_node(const struct store_node_row *r, void *ud)
{
	struct pool *p = ud;
	struct pool_node *n = pool_node_create(p, r->id);
	if (!n)
		return -ENOMEM;
	snprintf(n->secret_hash, sizeof(n->secret_hash), "%s", r->secret_hash);
	_cleanup_json_ json_t *attrs = json_loads(r->attributes ? r->attributes : "{}", 0, NULL);
	if (!json_is_object(attrs)) {
		json_decref(attrs);
		attrs = json_object();
	}
	if (pool_node_describe(p, n, r->hostname ? r->hostname : "", r->cpus, r->memory, attrs) < 0)
		return -ENOMEM;
	if (pool_node_state_parse(r->state, &n->state) < 0)
		n->state = POOL_NODE_DOWN;
	n->last_seq = r->last_seq;
	n->registered_at = r->registered_at;
	snprintf(n->address, sizeof(n->address), "%s", r->address ? r->address : "");
	snprintf(n->subnet, sizeof(n->subnet), "%s", r->subnet ? r->subnet : "");
	snprintf(n->net_address, sizeof(n->net_address), "%s",
		 r->net_address ? r->net_address : "");
	snprintf(n->vtep_mac, sizeof(n->vtep_mac), "%s", r->vtep_mac ? r->vtep_mac : "");
	n->network = r->network;
	n->cordoned = r->cordoned;
	n->sn.cap_net = r->net_capacity;
	pool_net_node_loaded(p, n);
	n->last_seen_ns = n->state_since_ns = acre_monotonic_ns();
	n->last_seen_ms = r->updated_at;
	return 0;
}

static int take_placement(struct pool_slice *sl, const struct store_slice_row *r)
{
	if (r->placement) {
		_cleanup_json_ json_t *j = json_loads(r->placement, 0, NULL);
		struct acre_placement pl;
		if (j && acre_proto_placement_from_json(j, &pl, NULL) == 0) {
			sl->strategy = pl.strategy;
			if (!(sl->placement = malloc(sizeof(pl))))
				return -ENOMEM;
			*sl->placement = pl;
		}
	}
	if (r->spread && !(sl->spread = strdup(r->spread)))
		return -ENOMEM;
	/* The group of --spread or unique; a spread row of old may have none. */
	if ((r->spread || r->spread_group) &&
	    !(sl->group = strdup(r->spread_group ? r->spread_group : "")))
		return -ENOMEM;
	return 0;
}

static int take_row(struct pool_slice *sl, const struct store_slice_row *r)
{
	sl->id = r->id;
	snprintf(sl->name, sizeof(sl->name), "%s", r->name);
	if (acre_slice_state_parse(r->state, &sl->state) < 0)
		sl->state = ACRE_SLICE_LOST;
	if (pool_desired_parse(r->desired, &sl->desired) < 0)
		sl->desired = POOL_DESIRED_RUN;
	pool_slice_restart_parse(r->restart, &sl->restart, &sl->restart_max);
	sl->restarts = r->restarts;
	sl->replacements = r->replacements;
	sl->cpus = r->cpus;
	sl->mem = r->memory;
	sl->net_rate = r->net_rate;
	sl->assigned = r->assigned;
	sl->created_at = r->created_at;
	sl->updated_at = r->updated_at;
	if (r->reason && *r->reason && !(sl->reason = strdup(r->reason)))
		return -ENOMEM;
	/* Held where it is placed; asked for again where it is not. */
	if (pool_host_ports_of_text(r->host_ports, r->node_id != NULL, &sl->host_ports) == -ENOMEM)
		return -ENOMEM;
	if (r->exit && !(sl->exit = json_loads(r->exit, 0, NULL)))
		acre_log(ACRE_LOG_WARN, "slice=%s event=load_exit_ignored reason=\"not JSON\"",
			 sl->name);
	return take_placement(sl, r);
}

/*
 * Slices made together (an app's, a batch's) carry the same labels, and
 * their rows follow each other: a slice whose labels' text is the one
 * before's takes that slice's labels, without parsing or looking up.
 */
struct load_ctx {
	struct pool *p;
	char *labels_text;
	const struct pool_slice *like; /* the last slice given labels_text's labels */
};

static int take_labels(struct load_ctx *l, struct pool_slice *sl, const char *text)
{
	struct pool *p = l->p;
	if (l->like && l->labels_text && !strcmp(l->labels_text, text))
		return pool_labels_attach_same(p, sl, l->like);
	_cleanup_json_ json_t *labels = json_loads(text, 0, NULL);
	if (!json_is_object(labels)) {
		acre_log(ACRE_LOG_WARN,
			 "slice=%s event=load_labels_ignored "
			 "reason=\"not a JSON object\"",
			 sl->name);
		return 0;
	}
	int rc = pool_labels_attach(p, sl, labels);
	if (rc < 0)
		return rc;
	free(l->labels_text);
	l->labels_text = strdup(text);
	l->like = l->labels_text ? sl : NULL;
	return 0;
}

static int load_slice(const struct store_slice_row *r, void *ud)
{
	struct load_ctx *l = ud;
	struct pool *p = l->p;
	struct pool_slice *sl = pool_slab_alloc(&p->slabs);
	if (!sl)
		return -ENOMEM;
	if (take_row(sl, r) < 0 || pool_slice_index(p, sl) < 0) {
		pool_slice_free(p, sl);
		return -ENOMEM;
	}
	if (r->labels && take_labels(l, sl, r->labels) < 0)
		return -ENOMEM;
	pool_net_slice_loaded(p, sl, r->address, r->vip);
	pool_binaries_note(p, sl->placement); /* asked of each node as it registers */
	p->by_state[sl->state]++;
	if (sl->id > p->next_slice_id)
		p->next_slice_id = sl->id;
	struct pool_node *n = r->node_id ? pool_node_find(p, r->node_id) : NULL;
	if (n) {
		pool_node_attach(p, n, sl);
		if (pool_slice_holds_resources(sl))
			pool_slice_reserve(p, sl);
	}
	if (r->last_node_id)
		sl->last_node = pool_node_find(p, r->last_node_id);
	if (sl->state == ACRE_SLICE_PENDING && sl->desired == POOL_DESIRED_RUN)
		pool_pending_add(p, sl);
	return 0;
}

int pool_load(struct pool *p, struct acre_error *err)
{
	int rc = store_load_nodes(p->store, load_node, p, err);
	struct load_ctx l = {.p = p};
	if (rc == 0)
		rc = store_load_slices(p->store, load_slice, &l, err);
	free(l.labels_text);
	if (rc < 0)
		return rc;
	pool_persist_forget(p);
	p->retry_pending = p->npending > 0;
	acre_log(ACRE_LOG_INFO, "event=loaded nodes=%zu slices=%zu pending=%zu next_id=%lld",
		 acre_map_size(p->nodes), acre_map_size(p->slices), p->npending,
		 (long long)p->next_slice_id);
	return 0;
}
