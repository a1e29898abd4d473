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
	struct store_slice_row r = {
		.id = sl->id,
		.name = sl->name,
		.node_id = sl->node ? sl->node->id : NULL,
		.last_node_id = sl->last_node ? sl->last_node->id : NULL,
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
		.replacements = sl->replacements,
		.assigned = sl->assigned,
		.created_at = sl->created_at,
		.updated_at = sl->updated_at,
	};
	if (!sl->is_new)
		return store_slice_update(c->store, &r, err);
	_cleanup_free_ char *placement = NULL;
	if (sl->placement) {
		_cleanup_json_ json_t *p = acre_proto_placement_to_json(sl->placement);
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
		slice_free(c, freed);
		freed = next;
	}
}

static void defer(struct ctl *c, struct deferred *d, struct node_conn *conn)
{
	d->conn = conn;
	if (c->def_tail)
		c->def_tail->next = d;
	else
		c->def_head = d;
	c->def_tail = d;
}

void ctl_defer_reply(struct ctl *c, struct node_conn *conn, json_t *msg)
{
	struct deferred *d = calloc(1, sizeof(*d));
	if (!d || !(d->line = acre_proto_frame_encode(msg, &d->len))) {
		free(d);
		return;
	}
	defer(c, d, conn);
}

void ctl_defer_line(struct ctl *c, struct node_conn *conn, const char *line, size_t len)
{
	struct deferred *d = calloc(1, sizeof(*d));
	if (!d || !(d->line = malloc(len))) {
		free(d);
		return;
	}
	memcpy(d->line, line, len);
	d->len = len;
	defer(c, d, conn);
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

/* Assign messages stay well under the 1 MiB line, however large the specs. */
#define ASSIGN_MESSAGE_MAX (512u << 10)

static const char *op_name(enum outbound_op op)
{
	return op == OUT_KILL ? ACRE_OP_KILL : ACRE_OP_REMOVE;
}

static void count_sent(struct ctl *c, enum outbound_op op, size_t n)
{
	if (op == OUT_ASSIGN)
		c->m.assigns_sent += n;
	else if (op == OUT_KILL)
		c->m.kills_sent += n;
	else
		c->m.removes_sent += n;
}

/* kill and remove: one slice each. */
static void send_single(struct ctl *c, struct outbound *o)
{
	struct node_conn *conn = o->node ? o->node->conn : NULL;
	struct evbuffer *msg = conn_alive(conn) ? evbuffer_new() : NULL;
	struct sent_req req = {.op = o->op, .n = 1, .items = calloc(1, sizeof(struct sent_item))};
	if (!msg || !req.items) {
		free(req.items);
		if (msg)
			evbuffer_free(msg);
		return; /* the node reconciles when it is back */
	}
	req.id = conn_next_id(conn);
	req.items[0].slice_id = o->slice_id;
	memcpy(req.items[0].name, o->name, sizeof(o->name));
	evbuffer_add_printf(msg, "{\"op\":\"%s\",\"id\":%lld,\"slice\":\"%s\"", op_name(o->op),
			    (long long)req.id, o->name);
	if (o->op == OUT_KILL && o->signal)
		evbuffer_add_printf(msg, ",\"signal\":%d", o->signal);
	evbuffer_add(msg, "}\n", 2);
	if (conn_request(conn, &req, msg) == 0)
		count_sent(c, o->op, 1);
	evbuffer_free(msg);
}

/* Whether an assign still stands: the slice is the same, still placed there, not yet taken. */
static bool assign_current(struct ctl *c, const struct outbound *o)
{
	struct ctl_slice *sl = slice_find(c, o->name);
	return sl && sl->id == o->slice_id && sl->node == o->node && !sl->assigned &&
	       o->node->conn && conn_alive(o->node->conn);
}

static int fill_spec(struct ctl *c, struct outbound *o)
{
	if (o->spec)
		return 0;
	_cleanup_free_ char *placement = NULL;
	struct acre_error err = {0};
	if (store_slice_spec(c->store, o->slice_id, &o->spec, &placement, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "slice=%s event=assign_failed error=\"%s\"", o->name,
			 err.message);
		return -1;
	}
	return 0;
}

/* One message: {"op": "assign", "id", "slices": [{"slice", "spec"}, ...]}. */
static void send_assigns(struct ctl *c, struct ctl_node *n, struct outbound **v, size_t count)
{
	struct node_conn *conn = n->conn;
	struct evbuffer *msg = evbuffer_new();
	struct sent_req req = {.op = OUT_ASSIGN, .items = calloc(count, sizeof(struct sent_item))};
	if (!msg || !req.items || !conn_alive(conn)) {
		free(req.items);
		if (msg)
			evbuffer_free(msg);
		return;
	}
	req.id = conn_next_id(conn);
	evbuffer_add_printf(msg, "{\"op\":\"assign\",\"id\":%lld,\"slices\":[", (long long)req.id);
	for (size_t i = 0; i < count; i++) {
		evbuffer_add_printf(msg, "%s{\"slice\":\"%s\",\"spec\":", req.n ? "," : "", v[i]->name);
		evbuffer_add(msg, v[i]->spec, strlen(v[i]->spec));
		evbuffer_add(msg, "}", 1);
		req.items[req.n].slice_id = v[i]->slice_id;
		memcpy(req.items[req.n].name, v[i]->name, sizeof(v[i]->name));
		req.n++;
	}
	evbuffer_add(msg, "]}\n", 3);
	size_t sent = req.n;
	if (conn_request(conn, &req, msg) == 0)
		count_sent(c, OUT_ASSIGN, sent);
	evbuffer_free(msg);
}

/* The node's assigns gathered so far go out, in messages of bounded size. */
static void flush_batch(struct ctl *c, struct ctl_node *n)
{
	size_t first = 0, bytes = 0;
	for (size_t i = 0; i < n->nbatch; i++) {
		size_t len = strlen(n->batch[i]->spec) + 64;
		if (i > first && bytes + len > ASSIGN_MESSAGE_MAX) {
			send_assigns(c, n, n->batch + first, i - first);
			first = i;
			bytes = 0;
		}
		bytes += len;
	}
	if (n->nbatch > first)
		send_assigns(c, n, n->batch + first, n->nbatch - first);
	for (size_t i = 0; i < n->nbatch; i++) {
		free(n->batch[i]->spec);
		free(n->batch[i]);
	}
	n->nbatch = 0;
}

static bool batch_add(struct ctl_node *n, struct outbound *o, struct ctl_node **with_batch)
{
	if (n->nbatch == n->batch_cap) {
		size_t cap = n->batch_cap ? n->batch_cap * 2 : 16;
		struct outbound **v = realloc(n->batch, cap * sizeof(*v));
		if (!v)
			return false;
		n->batch = v;
		n->batch_cap = cap;
	}
	if (!n->batch_listed) {
		n->batch_listed = true;
		n->batch_next = *with_batch;
		*with_batch = n;
	}
	n->batch[n->nbatch++] = o;
	return true;
}

/*
 * The pass's messages for nodes, in order per node: a node's assigns are
 * gathered into one message, sent before any kill or remove that follows
 * them, so a slice is never killed before it was assigned.
 */
static void send_outbound(struct ctl *c)
{
	struct outbound *o = c->out_head;
	struct ctl_node *with_batch = NULL;
	c->out_head = c->out_tail = NULL;
	while (o) {
		struct outbound *next = o->next;
		bool kept = false;
		if (o->op == OUT_ASSIGN) {
			kept = assign_current(c, o) && fill_spec(c, o) == 0 &&
			       batch_add(o->node, o, &with_batch);
		} else {
			if (o->node && o->node->nbatch)
				flush_batch(c, o->node);
			send_single(c, o);
		}
		if (!kept) {
			free(o->spec);
			free(o);
		}
		o = next;
	}
	for (struct ctl_node *n = with_batch; n; n = n->batch_next) {
		flush_batch(c, n);
		n->batch_listed = false;
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
