/*
 * What goes to nodes once a pass is committed: the replies held for it
 * (registrations, syncs, acknowledgements of updates), then the pass's
 * messages — a node's assignments gathered into one assign message (at
 * most ASSIGN_MESSAGE_MAX bytes), kills, removals and volume removals one
 * by one, in the order decided, so a slice is never killed before it was
 * assigned.
 * Before those, the pool's network tables (net.peers, net.names,
 * net.vips: the full ones after a registration's reply, else the pass's
 * changes), so that a member the pool stops leaves names and VIPs before
 * its kill goes out.
 * Assign messages, thousands of specs a second, are written with the one
 * JSON writer (common/jsonw.h), each spec encoded by jansson straight into
 * its message; the rest with jansson.  Either way every name is escaped.
 */
#include "internal.h"
#include "proto/proto.h"
#include "common/jsonw.h"

/* Assign messages stay well under the 1 MiB line, however large the specs. */
#define ASSIGN_MESSAGE_MAX (512u << 10)

static void defer(struct nodeport *np, struct deferred *d, struct node_conn *conn)
{
	d->conn = conn;
	ACRE_QUEUE_APPEND(def, np->def_head, np->def_tail, d);
}

void nodeport_defer_reply(struct nodeport *np, struct node_conn *conn, json_t *msg)
{
	size_t len;
	char *line = msg ? acre_proto_frame_encode(msg, &len) : NULL;
	json_decref(msg);
	if (line)
		nodeport_defer_take(np, conn, line, len);
}

void nodeport_defer_take(struct nodeport *np, struct node_conn *conn, char *line, size_t len)
{
	struct deferred *d = calloc(1, sizeof(*d));
	if (!d) {
		free(line);
		return;
	}
	d->line = line;
	d->len = len;
	defer(np, d, conn);
}

void nodeport_send_deferred(struct nodeport *np)
{
	struct deferred *d = np->def_head;
	np->def_head = np->def_tail = NULL;
	while (d) {
		struct deferred *next = d->def_next;
		if (nodeport_conn_alive(d->conn))
			nodeport_conn_send(d->conn, d->line, d->len);
		free(d->line);
		free(d);
		d = next;
	}
}

static void count_sent(struct nodeport *np, enum pool_op op, size_t n)
{
	if (op == POOL_OP_ASSIGN)
		np->stats->assigns_sent += n;
	else if (op == POOL_OP_KILL)
		np->stats->kills_sent += n;
	else if (op == POOL_OP_REMOVE)
		np->stats->removes_sent += n;
	else if (op == POOL_OP_NET)
		np->stats->net_sent += n;
}

static int send_msg(struct node_conn *conn, struct sent_req *req, json_t *msg)
{
	size_t len;
	_cleanup_free_ char *line = msg ? acre_proto_frame_encode(msg, &len) : NULL;
	if (!line) {
		free(req->items);
		return -ENOMEM;
	}
	return nodeport_conn_request(conn, req, line, len);
}

static const char *single_op(enum pool_op op)
{
	return op == POOL_OP_KILL	      ? ACRE_OP_KILL
	       : op == POOL_OP_VOLUME_REMOVE  ? ACRE_OP_VOLUME_REMOVE
	       : op == POOL_OP_BINARIES_CHECK ? ACRE_OP_BINARIES_CHECK
					      : ACRE_OP_REMOVE;
}

/* kill and remove: one slice each; volume.remove: one volume; binaries.check: one path. */
static void send_single(struct nodeport *np, struct pool_outbound *o)
{
	struct node_conn *conn = o->node ? o->node->conn : NULL;
	if (!nodeport_conn_alive(conn)) {
		/* Slices: the node reconciles when it is back.  A volume is asked for again. */
		if (o->op == POOL_OP_VOLUME_REMOVE)
			acre_log(ACRE_LOG_WARN,
				 "node=%s volume=%s event=volume_remove_unsent error=\"the node "
				 "disconnected before it was sent\"",
				 o->node ? o->node->id : "-", o->name);
		return;
	}
	struct sent_req req = {.op = o->op, .n = 1, .items = calloc(1, sizeof(struct sent_item))};
	if (!req.items)
		return;
	req.id = ++conn->next_id;
	req.items[0].slice_id = o->slice_id;
	memcpy(req.items[0].name, o->name, sizeof(o->name));
	_cleanup_json_ json_t *msg =
		o->op == POOL_OP_BINARIES_CHECK
			? json_pack("{s:s,s:I,s:[s]}", "op", single_op(o->op), "id",
				    (json_int_t)req.id, "paths", o->name)
			: json_pack("{s:s,s:I,s:s}", "op", single_op(o->op), "id",
				    (json_int_t)req.id,
				    o->op == POOL_OP_VOLUME_REMOVE ? "name" : "slice", o->name);
	if (msg && o->op == POOL_OP_KILL && o->signal)
		json_object_set_new(msg, "signal", json_integer(o->signal));
	if (send_msg(conn, &req, msg) == 0)
		count_sent(np, o->op, 1);
}

static void assign_begin(struct acre_jsonw *w, int64_t id)
{
	acre_jsonw_object(w);
	acre_jsonw_key(w, "op");
	acre_jsonw_string(w, ACRE_OP_ASSIGN);
	acre_jsonw_key(w, "id");
	acre_jsonw_int(w, id);
	acre_jsonw_key(w, "slices");
	acre_jsonw_array(w);
}

static void assign_item(struct acre_jsonw *w, const struct pool_outbound *o)
{
	acre_jsonw_object(w);
	acre_jsonw_key(w, "slice");
	acre_jsonw_string(w, o->name);
	acre_jsonw_key(w, "spec");
	acre_jsonw_raw(w, o->spec->text, o->spec->len);
	acre_jsonw_end_object(w);
}

/* The message so far, closed and sent as the request about req's items. */
static void assign_send(struct nodeport *np, struct node_conn *conn, struct acre_jsonw *w,
			struct sent_req *req)
{
	acre_jsonw_end_array(w);
	acre_jsonw_end_object(w);
	acre_jsonw_newline(w);
	size_t len;
	_cleanup_free_ char *line = acre_jsonw_take(w, &len);
	size_t n = req->n;
	if (!line) {
		free(req->items);
		acre_log(ACRE_LOG_ERROR, "node=%s event=assign_failed error=\"out of memory\"",
			 conn->node->id);
		return; /* re-sent when the node next reconciles */
	}
	if (nodeport_conn_request(conn, req, line, len) == 0)
		count_sent(np, POOL_OP_ASSIGN, n);
}

/*
 * {"op": "assign", "id", "slices": [{"slice", "spec"}, ...]} for v[0..count):
 * as few messages as ASSIGN_MESSAGE_MAX allows, each spec encoded straight
 * into its message.
 */
static void send_assigns(struct nodeport *np, struct node_conn *conn, struct pool_outbound **v,
			 size_t count)
{
	struct acre_jsonw w;
	struct sent_req req = {.op = POOL_OP_ASSIGN};
	acre_jsonw_init(&w);
	for (size_t i = 0; i < count; i++) {
		if (!req.items) {
			req = (struct sent_req){
				.op = POOL_OP_ASSIGN,
				.id = ++conn->next_id,
				.items = calloc(count - i, sizeof(struct sent_item))};
			if (!req.items)
				break;
			assign_begin(&w, req.id);
		}
		struct acre_jsonw_mark before = acre_jsonw_mark(&w);
		assign_item(&w, v[i]);
		if (w.len > ASSIGN_MESSAGE_MAX && req.n > 0) {
			/* Too much with this one: the message goes without it, and a new one
			 * begins. */
			acre_jsonw_rewind(&w, before);
			assign_send(np, conn, &w, &req);
			req.items = NULL;
			i--;
			continue;
		}
		req.items[req.n].slice_id = v[i]->slice_id;
		memcpy(req.items[req.n].name, v[i]->name, sizeof(v[i]->name));
		req.n++;
	}
	if (req.items)
		assign_send(np, conn, &w, &req);
	acre_jsonw_free(&w);
}

/* The node's assigns gathered so far go out. */
static void flush_batch(struct nodeport *np, struct node_conn *conn)
{
	if (conn->batch.n && nodeport_conn_alive(conn))
		send_assigns(np, conn, conn->batch.v, conn->batch.n);
	for (size_t i = 0; i < conn->batch.n; i++)
		pool_outbound_free(conn->batch.v[i]);
	conn->batch.n = 0;
}

static bool batch_add(struct nodeport *np, struct pool_outbound *o, struct node_conn **batched)
{
	struct node_conn *conn = o->node->conn;
	struct acre_error err = {0};
	if (!nodeport_conn_alive(conn) || !pool_assign_current(np->pool, o))
		return false;
	if (pool_outbound_spec(np->pool, o, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "slice=%s event=assign_failed error=\"%s\"", o->name,
			 err.message);
		return false;
	}
	if (acre_vec_push(&conn->batch, o) < 0)
		return false;
	if (!conn->batched_prev && *batched != conn)
		ACRE_LIST_PREPEND(batched, *batched, conn);
	return true;
}

void nodeport_send_outbound(struct nodeport *np)
{
	struct pool_outbound *o = pool_outbound_take(np->pool);
	struct node_conn *batched = NULL;
	while (o) {
		struct pool_outbound *next = o->out_next;
		bool kept = false;
		if (o->op == POOL_OP_ASSIGN) {
			kept = batch_add(np, o, &batched);
		} else {
			struct node_conn *conn = o->node ? o->node->conn : NULL;
			if (conn && conn->batch.n)
				flush_batch(np, conn);
			send_single(np, o);
		}
		if (!kept)
			pool_outbound_free(o);
		o = next;
	}
	while (batched) {
		struct node_conn *conn = batched;
		ACRE_LIST_REMOVE(batched, batched, conn);
		flush_batch(np, conn);
	}
}

/* One net.* message: its op and id, then the body the pool encoded once for every node. */
static void send_net(void *ud, struct pool_node *n, const char *op, const char *body, size_t len)
{
	struct nodeport *np = ud;
	struct node_conn *conn = n->conn;
	if (!nodeport_conn_alive(conn))
		return;
	struct sent_req req = {
		.op = POOL_OP_NET, .n = 1, .items = calloc(1, sizeof(struct sent_item))};
	if (!req.items)
		return;
	req.id = ++conn->next_id;
	snprintf(req.items[0].name, sizeof(req.items[0].name), "%s", op);
	char head[96];
	int hlen =
		snprintf(head, sizeof(head), "{\"op\":\"%s\",\"id\":%lld,", op, (long long)req.id);
	_cleanup_free_ char *line = malloc((size_t)hlen + len);
	if (!line) {
		free(req.items);
		return;
	}
	memcpy(line, head, (size_t)hlen);
	memcpy(line + hlen, body, len);
	if (nodeport_conn_request(conn, &req, line, (size_t)hlen + len) == 0)
		count_sent(np, POOL_OP_NET, 1);
}

void nodeport_flush(struct nodeport *np)
{
	nodeport_send_deferred(np);
	pool_net_flush(np->pool, send_net, np);
	nodeport_send_outbound(np);
	nodeport_conn_free_zombies(np);
}
