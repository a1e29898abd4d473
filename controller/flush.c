/*
 * The end of every loop pass: write what the pass changed in one
 * transaction, commit it (one fsync), and only then let out what depends
 * on it — replies to nodes and HTTP clients, assignments, kills and
 * removals for nodes, events.  A failed commit ends the process: memory
 * would no longer match the disk, and a restart resumes from the last
 * commit, which is exactly what was acknowledged.
 */
#include "ctl.h"

static void restart_text(const struct ctl_slice *sl, char *buf, size_t len)
{
	if (sl->restart == ACRE_RESTART_ON_FAILURE && sl->restart_max)
		snprintf(buf, len, "on-failure:%u", sl->restart_max);
	else
		snprintf(buf, len, "%s", acre_restart_name(sl->restart));
}

static int write_node(struct ctl *c, struct ctl_node *n, struct acre_error *err)
{
	_cleanup_free_ char *attrs = json_dumps(n->attributes, JSON_COMPACT | JSON_SORT_KEYS);
	struct store_node_row r = {
		.id = n->id,
		.hostname = n->hostname,
		.secret_hash = n->secret_hash,
		.attributes = attrs ? attrs : "{}",
		.state = node_state_name(n->state),
		.address = n->address,
		.cpus = n->sn.cap_cpus,
		.memory = n->sn.cap_mem,
		.last_seq = n->last_seq,
		.registered_at = n->registered_at,
		.updated_at = acre_now_ms(),
	};
	return store_node_put(c->store, &r, err);
}

static int write_slice(struct ctl *c, struct ctl_slice *sl, struct acre_error *err)
{
	if (sl->deleted)
		return sl->is_new ? 0 : store_slice_delete(c->store, sl->id, err);
	char restart[32];
	restart_text(sl, restart, sizeof(restart));
	const struct ctl_node *node = sl->node ? sl->node : sl->last_node;
	struct store_slice_row r = {
		.id = sl->id,
		.name = sl->name,
		.node_id = node ? node->id : NULL,
		.state = acre_slice_state_name(sl->state),
		.reason = sl->reason,
		.desired = desired_name(sl->desired),
		.exit = sl->exit,
		.spread = sl->spread,
		.spread_group = sl->spread ? sl->group : NULL,
		.cpus = sl->cpus,
		.memory = sl->mem,
		.restart = restart,
		.restarts = sl->restarts,
		.assigned = sl->assigned,
		.created_at = sl->created_at,
		.updated_at = sl->updated_at,
	};
	if (!sl->is_new)
		return store_slice_update(c->store, &r, err);
	_cleanup_free_ char *placement = NULL;
	if (sl->placement) {
		_cleanup_json_ json_t *p = acre_controller_placement_to_json(sl->placement);
		placement = p ? json_dumps(p, JSON_COMPACT) : NULL;
	}
	r.spec = sl->spec_text ? sl->spec_text : "{}";
	r.placement = placement;
	int rc = store_slice_insert(c->store, &r, err);
	if (rc == 0) {
		sl->is_new = false;
		free(sl->spec_text);
		sl->spec_text = NULL;
	}
	return rc;
}

static void fatal(const struct acre_error *err)
{
	acre_log(ACRE_LOG_ERROR, "event=store_failed action=exit error=\"%s\"", err->message);
	/* Nothing of this pass was acknowledged; a restart resumes from the last commit. */
	_exit(1);
}

static void write_all(struct ctl *c)
{
	struct acre_error err = {0};
	for (struct ctl_node *n = c->dirty_nodes, *next; n; n = next) {
		next = n->dirty_next;
		n->dirty = false;
		n->dirty_next = NULL;
		if (write_node(c, n, &err) < 0)
			fatal(&err);
	}
	c->dirty_nodes = NULL;
	struct ctl_slice *freed = NULL;
	for (struct ctl_slice *sl = c->dirty_slices, *next; sl; sl = next) {
		next = sl->dirty_next;
		sl->dirty = false;
		if (write_slice(c, sl, &err) < 0)
			fatal(&err);
		if (sl->deleted) {
			sl->dirty_next = freed;
			freed = sl;
		} else {
			sl->dirty_next = NULL;
		}
	}
	c->dirty_slices = NULL;
	if (store_commit(c->store, &err) < 0)
		fatal(&err);
	while (freed) {
		struct ctl_slice *next = freed->dirty_next;
		slice_free(freed);
		freed = next;
	}
}

void ctl_defer_reply(struct ctl *c, struct node_conn *conn, json_t *msg)
{
	struct deferred *d = calloc(1, sizeof(*d));
	if (!d || !(d->line = acre_frame_encode(msg, &d->len))) {
		free(d);
		return;
	}
	d->conn = conn;
	if (c->def_tail)
		c->def_tail->next = d;
	else
		c->def_head = d;
	c->def_tail = d;
}

void ctl_queue_outbound(struct ctl *c, struct outbound *o)
{
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
}

static void send_deferred(struct ctl *c)
{
	struct deferred *d = c->def_head;
	c->def_head = c->def_tail = NULL;
	while (d) {
		struct deferred *next = d->next;
		if (conn_alive(d->conn))
			conn_send(d->conn, d->line, d->len);
		free(d->line);
		free(d);
		d = next;
	}
}

static const char *op_name(enum outbound_op op)
{
	return op == OUT_ASSIGN ? ACRE_OP_ASSIGN : op == OUT_KILL ? ACRE_OP_KILL : ACRE_OP_REMOVE;
}

static void send_one(struct ctl *c, struct outbound *o)
{
	struct node_conn *conn = o->node ? o->node->conn : NULL;
	if (!conn_alive(conn))
		return; /* the node reconciles when it is back */
	struct ctl_slice *sl = slice_find(c, o->name);
	bool current = sl && sl->id == o->slice_id && sl->node == o->node;
	if (o->op == OUT_ASSIGN && (!current || sl->assigned))
		return;
	_cleanup_free_ char *spec = NULL, *placement = NULL;
	if (o->op == OUT_ASSIGN && !o->spec) {
		struct acre_error err = {0};
		if (store_slice_spec(c->store, o->slice_id, &spec, &placement, &err) < 0) {
			acre_log(ACRE_LOG_ERROR, "slice=%s event=assign_failed error=\"%s\"", o->name,
				 err.message);
			return;
		}
		o->spec = TAKE_PTR(spec);
	}
	int64_t id = conn_next_id(conn);
	char head[256];
	int n = snprintf(head, sizeof(head), "{\"op\":\"%s\",\"id\":%lld,\"slice\":\"%s\"",
			 op_name(o->op), (long long)id, o->name);
	if (o->op == OUT_KILL && o->signal)
		n += snprintf(head + n, sizeof(head) - (size_t)n, ",\"signal\":%d", o->signal);
	_cleanup_free_ char *line = NULL;
	int len = o->op == OUT_ASSIGN ? asprintf(&line, "%s,\"spec\":%s}\n", head, o->spec)
				      : asprintf(&line, "%s}\n", head);
	if (len < 0)
		return;
	if (conn_request(conn, id, o, line, (size_t)len) < 0)
		return;
	if (o->op == OUT_ASSIGN)
		c->m.assigns_sent++;
	else if (o->op == OUT_KILL)
		c->m.kills_sent++;
	else
		c->m.removes_sent++;
}

static void send_outbound(struct ctl *c)
{
	struct outbound *o = c->out_head;
	c->out_head = c->out_tail = NULL;
	while (o) {
		struct outbound *next = o->next;
		send_one(c, o);
		free(o->spec);
		free(o);
		o = next;
	}
}

void ctl_flush(struct ctl *c)
{
	if (c->retry_pending)
		place_retry_pending(c);
	if (c->dirty_nodes || c->dirty_slices || store_in_transaction(c->store))
		write_all(c);
	send_deferred(c);
	send_outbound(c);
	api_flush(c);
	events_flush(c);
	conn_free_zombies(c);
}
