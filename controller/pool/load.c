/*
 * Start-up: the nodes and slices of the store back into memory, as they
 * were at the last commit.  Nodes come back disconnected and get a full
 * --node-timeout to reconnect before they count as unreachable; slices take
 * their room on their node again, and pending ones queue for placement.
 */
#include "controller/ctl.h"

static int parse_restart(const char *s, enum acre_restart *r, unsigned *max)
{
	*max = 0;
	if (!s || !strcmp(s, "never")) {
		*r = ACRE_RESTART_NEVER;
	} else if (!strcmp(s, "always")) {
		*r = ACRE_RESTART_ALWAYS;
	} else if (!strncmp(s, "on-failure", 10)) {
		*r = ACRE_RESTART_ON_FAILURE;
		if (s[10] == ':')
			*max = (unsigned)strtoul(s + 11, NULL, 10);
	} else {
		return -EINVAL;
	}
	return 0;
}

static int load_node(const struct store_node_row *r, void *ud)
{
	struct ctl *c = ud;
	struct ctl_node *n = node_create(c, r->id);
	if (!n)
		return -ENOMEM;
	snprintf(n->secret_hash, sizeof(n->secret_hash), "%s", r->secret_hash);
	_cleanup_json_ json_t *attrs = json_loads(r->attributes ? r->attributes : "{}", 0, NULL);
	if (!json_is_object(attrs)) {
		json_decref(attrs);
		attrs = json_object();
	}
	if (node_describe(c, n, r->hostname ? r->hostname : "", r->cpus, r->memory, attrs) < 0)
		return -ENOMEM;
	if (node_state_parse(r->state, &n->state) < 0)
		n->state = NODE_DOWN;
	n->last_seq = r->last_seq;
	n->registered_at = r->registered_at;
	snprintf(n->address, sizeof(n->address), "%s", r->address ? r->address : "");
	n->last_seen_ns = n->state_since_ns = acre_monotonic_ns();
	n->last_seen_ms = r->updated_at;
	return 0;
}

static int take_placement(struct ctl_slice *sl, const struct store_slice_row *r)
{
	if (r->placement) {
		_cleanup_json_ json_t *j = json_loads(r->placement, 0, NULL);
		struct acre_placement p;
		if (j && acre_controller_placement_from_json(j, &p, NULL) == 0) {
			sl->strategy = p.strategy;
			if (!(sl->placement = malloc(sizeof(p))))
				return -ENOMEM;
			*sl->placement = p;
		}
	}
	if (r->spread && (!(sl->spread = strdup(r->spread)) ||
			  !(sl->group = strdup(r->spread_group ? r->spread_group : ""))))
		return -ENOMEM;
	return 0;
}

static int load_slice(const struct store_slice_row *r, void *ud)
{
	struct ctl *c = ud;
	struct ctl_slice *sl = slice_table_alloc(&c->slices);
	if (!sl)
		return -ENOMEM;
	sl->id = r->id;
	snprintf(sl->name, sizeof(sl->name), "%s", r->name);
	if (acre_slice_state_parse(r->state, &sl->state) < 0)
		sl->state = ACRE_SLICE_LOST;
	if (desired_parse(r->desired, &sl->desired) < 0)
		sl->desired = DESIRED_RUN;
	parse_restart(r->restart, &sl->restart, &sl->restart_max);
	sl->restarts = r->restarts;
	sl->replacements = r->replacements;
	sl->cpus = r->cpus;
	sl->mem = r->memory;
	sl->assigned = r->assigned;
	sl->created_at = r->created_at;
	sl->updated_at = r->updated_at;
	if ((r->reason && *r->reason && !(sl->reason = strdup(r->reason))) ||
	    (r->exit && !(sl->exit = strdup(r->exit))) || take_placement(sl, r) < 0 ||
	    slice_table_put(&c->slices, sl) < 0) {
		slice_free(c, sl);
		return -ENOMEM;
	}
	c->by_state[sl->state]++;
	if (sl->id > c->next_slice_id)
		c->next_slice_id = sl->id;
	struct ctl_node *n = r->node_id ? node_find(c, r->node_id) : NULL;
	if (n) {
		node_attach(n, sl);
		if (slice_holds_resources(sl))
			slice_reserve(c, sl);
	}
	if (r->last_node_id)
		sl->last_node = node_find(c, r->last_node_id);
	if (sl->state == ACRE_SLICE_PENDING && sl->desired == DESIRED_RUN)
		pending_add(c, sl);
	return 0;
}

int ctl_load(struct ctl *c, struct acre_error *err)
{
	int rc = store_load_nodes(c->store, load_node, c, err);
	if (rc == 0)
		rc = store_load_slices(c->store, load_slice, c, err);
	if (rc < 0)
		return rc;
	/* What was just read is what is on disk: nothing to write back. */
	for (struct ctl_node *n = c->dirty_nodes; n; n = n->dirty_next)
		n->dirty = false;
	c->dirty_nodes = NULL;
	c->retry_pending = c->npending > 0;
	size_t slices = c->slices.size;
	acre_log(ACRE_LOG_INFO, "event=loaded nodes=%zu slices=%zu pending=%zu next_id=%lld",
		 acre_map_size(c->nodes), slices, c->npending, (long long)c->next_slice_id);
	return 0;
}
