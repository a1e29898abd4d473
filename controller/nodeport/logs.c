/*
 * A slice's log relayed from its node: the controller side of logs.open,
 * logs.data and logs.close (controller/README.md).  Each stream has a
 * number of its own; the node's logs.data are answered once their bytes
 * are with the sink (the HTTP reply), and held while the sink is full, so
 * the node never has more than ACRE_LOGS_WINDOW chunks of a stream in
 * flight and a slow HTTP client costs a bounded buffer, not the node
 * connection.  A node that sends past the window breaks the protocol: the
 * stream ends.  When the connection goes, its streams end with the reason.
 */
#include "internal.h"
#include "proto/proto.h"

#define MAX_STREAMS 1024
#define HELD_MAX    (2 * ACRE_LOGS_WINDOW)

struct nodeport_logs {
	ACRE_LIST_FIELDS(struct nodeport_logs, logs);
	struct nodeport *np;
	struct node_conn *conn;
	char node[ACRE_NAME_MAX + 1], slice[ACRE_NAME_MAX + 1];
	int64_t stream, open_id;
	bool opened;
	const struct nodeport_logs_sink *sink;
	void *ud;
	int64_t held[HELD_MAX]; /* answers the sink has not let go yet */
	unsigned nheld;
};

static void logs_free(struct nodeport_logs *lg)
{
	struct nodeport *np = lg->np;
	ACRE_LIST_REMOVE(logs, np->logs, lg);
	np->nlogs--;
	free(lg);
}

static void answer(struct node_conn *conn, json_t *id)
{
	_cleanup_json_ json_t *msg = acre_proto_ok(id, NULL);
	if (msg)
		nodeport_conn_send_json(conn, msg);
}

static void answer_held(struct node_conn *conn, int64_t id)
{
	_cleanup_json_ json_t *jid = json_integer(id);
	if (jid)
		answer(conn, jid);
}

static void tell_node_close(struct nodeport_logs *lg)
{
	_cleanup_json_ json_t *msg =
		json_pack("{s:s,s:I,s:I}", "op", ACRE_OP_LOGS_CLOSE, "id",
			  (json_int_t)++lg->conn->next_id, "stream", (json_int_t)lg->stream);
	if (msg)
		nodeport_conn_send_json(lg->conn, msg);
}

/* The end, told to the sink once, with the stream gone from the node too. */
static void end(struct nodeport_logs *lg, const struct acre_error *err, bool tell_node)
{
	if (tell_node)
		tell_node_close(lg);
	const struct nodeport_logs_sink *sink = lg->sink;
	void *ud = lg->ud;
	logs_free(lg);
	sink->end(ud, err);
}

int nodeport_logs_open(struct nodeport *np, struct pool_node *node, const char *slice, bool follow,
		       int64_t tail, const struct nodeport_logs_sink *sink, void *ud,
		       struct nodeport_logs **out, struct acre_error *err)
{
	*out = NULL;
	struct node_conn *conn = node->conn;
	if (!nodeport_conn_alive(conn) || !node->synced)
		return acre_error_set(err, ENOTCONN, NULL,
				      "node %s, where slice %s is, is not connected to the "
				      "controller (%s): its log is on that node",
				      node->id, slice, pool_node_state_name(node->state));
	if (np->nlogs >= MAX_STREAMS)
		return acre_error_set(err, EBUSY, NULL,
				      "%d logs are being relayed already: try again later",
				      MAX_STREAMS);
	struct nodeport_logs *lg = calloc(1, sizeof(*lg));
	if (!lg)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	lg->np = np;
	lg->conn = conn;
	lg->sink = sink;
	lg->ud = ud;
	lg->stream = ++np->next_stream;
	lg->open_id = ++conn->next_id;
	snprintf(lg->node, sizeof(lg->node), "%s", node->id);
	snprintf(lg->slice, sizeof(lg->slice), "%s", slice);
	_cleanup_json_ json_t *msg = json_pack("{s:s,s:I,s:s,s:I,s:b}", "op", ACRE_OP_LOGS_OPEN,
					       "id", (json_int_t)lg->open_id, "slice", slice,
					       "stream", (json_int_t)lg->stream, "follow", follow);
	if (!msg) {
		free(lg);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	if (tail >= 0)
		json_object_set_new(msg, "tail", json_integer(tail));
	ACRE_LIST_PREPEND(logs, np->logs, lg);
	np->nlogs++;
	nodeport_conn_send_json(conn, msg);
	*out = lg;
	return 0;
}

void nodeport_logs_resume(struct nodeport_logs *lg)
{
	for (unsigned i = 0; i < lg->nheld; i++)
		answer_held(lg->conn, lg->held[i]);
	lg->nheld = 0;
}

void nodeport_logs_close(struct nodeport_logs *lg)
{
	if (!lg)
		return;
	tell_node_close(lg);
	logs_free(lg);
}

static struct nodeport_logs *find(struct node_conn *conn, int64_t stream)
{
	struct nodeport_logs *lg;
	ACRE_LIST_FOREACH (logs, lg, conn->np->logs)
		if (lg->conn == conn && lg->stream == stream)
			return lg;
	return NULL;
}

/* What the node said when it refused, with the node named; a node too old to know the op. */
static void refused(struct nodeport_logs *lg, json_t *msg)
{
	struct acre_error err = {0};
	acre_proto_error_from_json(msg, &err);
	if (err.code == EINVAL && !strcmp(err.field, "op"))
		acre_error_set(&err, EOPNOTSUPP, NULL,
			       "node %s does not relay logs (its supervisor predates %s): upgrade "
			       "it, or ask it with --socket",
			       lg->node, ACRE_OP_LOGS_OPEN);
	else
		acre_error_prefix(&err, "node %s", lg->node);
	end(lg, &err, false);
}

bool nodeport_logs_reply(struct node_conn *conn, json_t *msg)
{
	json_t *jid = json_object_get(msg, "id");
	if (!json_is_integer(jid))
		return false;
	struct nodeport_logs *lg;
	ACRE_LIST_FOREACH (logs, lg, conn->np->logs) {
		if (lg->conn != conn || lg->opened || lg->open_id != json_integer_value(jid))
			continue;
		if (!json_is_true(json_object_get(msg, "ok"))) {
			refused(lg, msg);
			return true;
		}
		lg->opened = true;
		lg->sink->opened(lg->ud);
		return true;
	}
	return false;
}

static void data_error(struct node_conn *conn, json_t *id, struct nodeport_logs *lg,
		       struct acre_error *err)
{
	nodeport_reply_error(conn, id, err);
	if (!lg)
		return;
	struct acre_error e = {0};
	acre_error_set(&e, EPROTO, NULL, "the log of %s from node %s broke off: %s", lg->slice,
		       lg->node, err->message);
	end(lg, &e, true);
}

void nodeport_logs_data(struct node_conn *conn, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	json_error_t jerr;
	json_int_t stream = 0;
	const char *data = NULL;
	size_t dlen = 0;
	int eof = 0;
	if (json_unpack_ex(req, &jerr, 0, "{s:I,s:s%,s?b}", "stream", &stream, "data", &data, &dlen,
			   "eof", &eof) < 0) {
		acre_error_set(&err, EINVAL, NULL, "logs.data: %s", jerr.text);
		data_error(conn, id, NULL, &err);
		return;
	}
	struct nodeport_logs *lg = find(conn, stream);
	if (!lg || !lg->opened) {
		/* Closed here meanwhile: the node stops on this answer (and on logs.close). */
		acre_error_set(&err, ENOENT, "stream", "no log stream %lld", (long long)stream);
		nodeport_conn_reply_error(conn, id, &err);
		return;
	}
	_cleanup_free_ unsigned char *bytes = NULL;
	size_t n = 0;
	if (acre_proto_base64_decode(data, dlen, &bytes, &n) < 0 || n > ACRE_LOGS_CHUNK) {
		acre_error_set(&err, EINVAL, "data",
			       "logs.data: data is not base64 of at most %u "
			       "bytes",
			       ACRE_LOGS_CHUNK);
		data_error(conn, id, lg, &err);
		return;
	}
	if (lg->nheld == HELD_MAX) {
		acre_error_set(&err, EPROTO, NULL, "logs.data past the window of %d unanswered",
			       ACRE_LOGS_WINDOW);
		data_error(conn, id, lg, &err);
		return;
	}
	bool room = n == 0 || lg->sink->data(lg->ud, bytes, n);
	bool numbered = json_is_integer(id); /* ours are; another id is answered at once */
	if (eof || room || !numbered) {
		answer(conn, id);
	} else {
		lg->held[lg->nheld++] = json_integer_value(id);
	}
	if (eof) {
		nodeport_logs_resume(lg);
		end(lg, NULL, false);
	}
}

void nodeport_logs_conn_closed(struct node_conn *conn)
{
	struct nodeport_logs *lg, *next;
	ACRE_LIST_FOREACH_SAFE (logs, lg, next, conn->np->logs) {
		if (lg->conn != conn)
			continue;
		struct acre_error err = {0};
		acre_error_set(&err, ENOTCONN, NULL,
			       "node %s, where slice %s is, disconnected from the controller: the "
			       "rest of its log is on that node",
			       lg->node, lg->slice);
		end(lg, &err, false);
	}
}
