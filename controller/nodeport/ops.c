/*
 * The supervisor protocol, controller side: sync (the node's slices,
 * reconciled), heartbeat (usage), update (slice changes with per-node
 * sequence numbers, acknowledged once committed, duplicates ignored),
 * health (a transition of a slice's checks, kept on the slice), and
 * the replies to what the controller asked (assign, kill, remove,
 * volume.remove);
 * register is register.c's, ca and join (a host joining) join.c's.  Every request is checked by
 * name and type before anything changes; a bad one gets an error reply and is logged, and the
 * connection keeps serving — except before registration, where any error ends the connection.
 */
#include "internal.h"
#include "proto/proto.h"
#include "common/jsonw.h"

#include <arpa/inet.h>

#define MAX_UPDATES 100000

void nodeport_reply_error(struct node_conn *conn, json_t *id, struct acre_error *err)
{
	struct pool_node *n = conn->node;
	conn->np->stats->protocol_errors++;
	acre_log(ACRE_LOG_WARN, "node=%s event=protocol_error peer=%s error=\"%s\"",
		 n ? n->id : "-", conn->peer, err->message);
	if (n)
		nodeport_conn_reply_error(conn, id, err);
	else
		nodeport_conn_refuse(conn, id, err); /* nothing but a registration before one */
}

/*
 * {"id", "ok": true, "result": {} or {key: value}}: the replies of every
 * heartbeat and update, thousands a second, with the writer rather than a
 * tree each.  deferred: held until the pass is committed.
 */
static void reply_ok(struct node_conn *conn, json_t *id, const char *key, int64_t value,
		     bool deferred)
{
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	acre_jsonw_object(&w);
	acre_jsonw_key(&w, "id");
	if (json_is_integer(id))
		acre_jsonw_int(&w, json_integer_value(id));
	else
		acre_jsonw_json(&w, id);
	acre_jsonw_key(&w, "ok");
	acre_jsonw_bool(&w, true);
	acre_jsonw_key(&w, "result");
	acre_jsonw_object(&w);
	if (key) {
		acre_jsonw_key(&w, key);
		acre_jsonw_int(&w, value);
	}
	acre_jsonw_end_object(&w);
	acre_jsonw_end_object(&w);
	acre_jsonw_newline(&w);
	size_t len;
	char *line = acre_jsonw_take(&w, &len);
	if (!line)
		return;
	if (deferred) {
		nodeport_defer_take(conn->np, conn, line, len);
		return;
	}
	nodeport_conn_send(conn, line, len);
	free(line);
}

/* {"cpus": 0.5, "memory": 1234}: what the node runs that the pool did not place; 1: absent. */
static int parse_local(json_t *local, struct pool_local *out, struct acre_error *err)
{
	double c = 0;
	json_int_t m = 0;
	json_error_t jerr;
	if (!local)
		return 1;
	if (json_unpack_ex(local, &jerr, 0, "{s?F,s?I}", "cpus", &c, "memory", &m) < 0 || c < 0 ||
	    c > 65536 || m < 0)
		return acre_error_set(err, EINVAL, "local",
				      "local: {\"cpus\": N, \"memory\": BYTES}, non-negative");
	out->cpus = (uint32_t)(c * 1000 + 0.5);
	out->memory = (uint64_t)m;
	return 0;
}

/* A slice's address as a node reports it: IPv4 or IPv6. */
static bool address_valid(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "health" and "ready" of a slice with checks, in a sync entry or an update; NULL when well. */
static const char *health_members(json_t *u, struct pool_report *out)
{
	json_t *h = json_object_get(u, "health"), *ready = json_object_get(u, "ready");
	enum acre_health v;
	if (!h && !ready)
		return NULL;
	if (!json_is_string(h) || acre_health_parse(json_string_value(h), &v) < 0)
		return "health: none, starting, healthy or unhealthy";
	if (!json_is_boolean(ready))
		return "ready: true or false, with health";
	out->checked = true;
	out->health = v;
	out->ready = json_is_true(ready);
	return NULL;
}

/* One entry of a sync's "slices": {"name", "state", "reason"?, "restarts"?, "exit"?, "managed"?}.
 */
static int parse_entry(json_t *e, size_t i, struct pool_report *r, struct acre_error *err)
{
	json_error_t jerr;
	const char *state;
	json_int_t restarts = 0;
	int managed = 0;
	*r = (struct pool_report){.reason = ""};
	if (json_unpack_ex(e, &jerr, 0, "{s:s,s:s,s?s,s?I,s?o,s?b,s?s}", "name", &r->slice, "state",
			   &state, "reason", &r->reason, "restarts", &restarts, "exit", &r->exit,
			   "managed", &managed, "address", &r->address) < 0)
		return acre_error_set(err, EINVAL, "slices", "slices[%zu]: %s", i, jerr.text);
	const char *bad = health_members(e, r);
	if (bad)
		return acre_error_set(err, EINVAL, "slices", "slices[%zu]: %s", i, bad);
	if (r->address && !address_valid(r->address))
		return acre_error_set(err, EINVAL, "slices",
				      "slices[%zu]: address %.64s: not an IP "
				      "address",
				      i, r->address);
	if (!acre_slice_name_valid(r->slice) || acre_slice_state_parse(state, &r->state) < 0 ||
	    restarts < 0)
		return acre_error_set(err, EINVAL, "slices", "slices[%zu]: invalid name or state",
				      i);
	r->restarts = (unsigned)restarts;
	r->managed = managed;
	if (!json_is_object(r->exit))
		r->exit = NULL;
	return 0;
}

static void op_sync(struct node_conn *conn, json_t *req, json_t *id)
{
	struct nodeport *np = conn->np;
	struct pool_node *n = conn->node;
	struct acre_error err = {0};
	json_t *slices = json_object_get(req, "slices");
	struct pool_local local;
	int rc = parse_local(json_object_get(req, "local"), &local, &err);
	if (rc < 0) {
		nodeport_reply_error(conn, id, &err);
		return;
	}
	if (!json_is_array(slices)) {
		acre_error_set(&err, EINVAL, "slices", "slices: must be an array");
		nodeport_reply_error(conn, id, &err);
		return;
	}
	size_t count = json_array_size(slices);
	_cleanup_free_ struct pool_report *r = calloc(count + 1, sizeof(*r));
	if (!r) {
		acre_error_set(&err, ENOMEM, NULL, "out of memory");
		nodeport_reply_error(conn, id, &err);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (parse_entry(json_array_get(slices, i), i, &r[i], &err) < 0) {
			nodeport_reply_error(conn, id, &err);
			return;
		}
	}
	pool_node_sync(np->pool, n, r, count, rc == 0 ? &local : NULL);
	nodeport_defer_reply(
		np, conn, acre_proto_ok(id, json_pack("{s:I}", "slices", (json_int_t)n->nslices)));
}

static void op_heartbeat(struct node_conn *conn, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct pool_local local;
	int rc = parse_local(json_object_get(req, "local"), &local, &err);
	json_t *usage = json_object_get(req, "usage");
	json_t *disk = json_object_get(usage, "disk_free");
	if (rc == 0 && disk && (!json_is_integer(disk) || json_integer_value(disk) < 0))
		rc = acre_error_set(&err, EINVAL, "usage.disk_free",
				    "usage.disk_free: an integer, bytes");
	if (rc < 0) {
		nodeport_reply_error(conn, id, &err);
		return;
	}
	pool_node_heartbeat(conn->np->pool, conn->node, rc == 0 ? &local : NULL, usage);
	reply_ok(conn, id, NULL, 0, false);
}

/*
 * Members of an update, read one by one: an update comes per change of
 * every slice, and json_unpack_ex builds a table of the keys it was given
 * on each call (it cost twice the rest of the update).  NULL when all is
 * well, else the member at fault and what it should be.
 */
static const char *update_members(json_t *u, json_int_t *seq, const char **slice,
				  const char **state, struct pool_report *out, json_int_t *restarts)
{
	json_t *v;
	if (!json_is_object(u))
		return "an object";
	if (!json_is_integer(v = json_object_get(u, "seq")))
		return "seq: required, an integer";
	*seq = json_integer_value(v);
	if (!json_is_string(v = json_object_get(u, "slice")))
		return "slice: required, a string";
	*slice = json_string_value(v);
	if (!json_is_string(v = json_object_get(u, "state")))
		return "state: required, a string";
	*state = json_string_value(v);
	if ((v = json_object_get(u, "reason"))) {
		if (!json_is_string(v))
			return "reason: a string";
		out->reason = json_string_value(v);
	}
	if ((v = json_object_get(u, "restarts"))) {
		if (!json_is_integer(v))
			return "restarts: an integer";
		*restarts = json_integer_value(v);
	}
	out->exit = json_object_get(u, "exit");
	if ((v = json_object_get(u, "address"))) {
		if (!json_is_string(v))
			return "address: a string";
		out->address = json_string_value(v);
	}
	return NULL;
}

static int parse_update(json_t *u, size_t i, struct pool_report *out, struct acre_error *err)
{
	json_int_t seq = 0, restarts = 0;
	const char *state = NULL;
	*out = (struct pool_report){.reason = ""};
	const char *bad = update_members(u, &seq, &out->slice, &state, out, &restarts);
	if (!bad)
		bad = health_members(u, out);
	if (bad)
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: %s", i, bad);
	if (out->address && !address_valid(out->address))
		return acre_error_set(err, EINVAL, "updates",
				      "updates[%zu]: address %.64s: not an IP address", i,
				      out->address);
	if (seq <= 0 || restarts < 0)
		return acre_error_set(err, EINVAL, "updates",
				      "updates[%zu]: seq must be positive, restarts not negative",
				      i);
	if (acre_slice_state_parse(state, &out->state) < 0)
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: unknown state %.32s",
				      i, state);
	if (!acre_slice_name_valid(out->slice))
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: invalid slice name",
				      i);
	if (out->exit && !json_is_object(out->exit) && !json_is_null(out->exit))
		return acre_error_set(err, EINVAL, "updates",
				      "updates[%zu]: exit must be an object", i);
	if (!json_is_object(out->exit))
		out->exit = NULL;
	out->seq = seq;
	out->restarts = (unsigned)restarts;
	return 0;
}

static void op_update(struct node_conn *conn, json_t *req, json_t *id)
{
	struct nodeport *np = conn->np;
	struct acre_error err = {0};
	json_t *list = json_object_get(req, "updates");
	size_t count = json_array_size(list);
	if (!json_is_array(list) || count > MAX_UPDATES) {
		acre_error_set(&err, EINVAL, "updates", "updates: an array of at most %d changes",
			       MAX_UPDATES);
		nodeport_reply_error(conn, id, &err);
		return;
	}
	/* All or nothing: a malformed entry rejects the message before any applies. */
	_cleanup_free_ struct pool_report *ups = calloc(count + 1, sizeof(*ups));
	if (!ups) {
		acre_error_set(&err, ENOMEM, NULL, "out of memory");
		nodeport_reply_error(conn, id, &err);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (parse_update(json_array_get(list, i), i, &ups[i], &err) < 0) {
			nodeport_reply_error(conn, id, &err);
			return;
		}
	}
	reply_ok(conn, id, "acked", pool_node_update(np->pool, conn->node, ups, count), true);
}

/*
 * {"slice", "health", "ready", "reason"?, "at"?}: a transition of a slice's
 * checks on the node.  A slice the pool does not have there is no error
 * (it may have been removed meanwhile): it is ignored.
 */
static void op_health(struct node_conn *conn, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct pool_report r = {0};
	const char *slice = json_string_value(json_object_get(req, "slice"));
	json_t *at = json_object_get(req, "at");
	const char *bad = health_members(req, &r);
	if (!bad && !r.checked)
		bad = "health: required";
	if (!bad && (!slice || !acre_slice_name_valid(slice)))
		bad = "slice: required, a slice name";
	if (!bad && at && !json_is_integer(at))
		bad = "at: unix ms";
	if (bad) {
		acre_error_set(&err, EINVAL, "health", "health: %s", bad);
		nodeport_reply_error(conn, id, &err);
		return;
	}
	int64_t when = at ? json_integer_value(at) : acre_now_ms();
	if (pool_node_health(conn->np->pool, conn->node, slice, r.health, r.ready, when) < 0)
		acre_log(ACRE_LOG_DEBUG, "node=%s slice=%s event=health_ignored", conn->node->id,
			 slice);
	reply_ok(conn, id, NULL, 0, false);
}

/* {"assigned": N, "failed": [{"slice", "error"}]}: the rest runs, or will shortly. */
static void assign_reply(struct nodeport *np, struct pool_node *n, const struct sent_req *req,
			 bool ok, json_t *msg, const struct acre_error *whole)
{
	json_t *failed = json_object_get(json_object_get(msg, "result"), "failed");
	for (size_t i = 0; i < req->n; i++) {
		const struct sent_item *it = &req->items[i];
		if (!ok) {
			pool_assign_result(np->pool, n, it->name, it->slice_id, whole);
			continue;
		}
		size_t k;
		json_t *f;
		bool refused = false;
		json_array_foreach (failed, k, f) {
			const char *name = json_string_value(json_object_get(f, "slice"));
			if (!name || strcmp(name, it->name))
				continue;
			struct acre_error err = {0};
			acre_proto_error_from_json(f, &err);
			pool_assign_result(np->pool, n, it->name, it->slice_id, &err);
			refused = true;
			break;
		}
		if (!refused)
			pool_assign_result(np->pool, n, it->name, it->slice_id, NULL);
	}
}

/* Logged only: whoever asked lists the node's volumes to know (an older node: unknown op). */
static void volume_reply(const struct pool_node *n, const char *volume, bool ok, json_t *msg,
			 const struct acre_error *err)
{
	if (!ok) {
		acre_log(ACRE_LOG_WARN,
			 "node=%s volume=%s event=volume_remove_refused error=\"%s\"", n->id,
			 volume, err->message);
		return;
	}
	bool removed = json_is_true(json_object_get(json_object_get(msg, "result"), "removed"));
	acre_log(ACRE_LOG_INFO, "node=%s volume=%s event=%s", n->id, volume,
		 removed ? "volume_removed" : "volume_remove_none");
}

/* The node's answer for one path; an older node refuses the op, and has none of them then. */
static void binaries_reply(struct nodeport *np, struct pool_node *n, const char *path, bool ok,
			   json_t *msg, const struct acre_error *err)
{
	bool present = false;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(json_object_get(msg, "result"), "present"), i, v)
		present = present || (json_is_string(v) && !strcmp(json_string_value(v), path));
	if (!ok)
		acre_log(ACRE_LOG_WARN,
			 "node=%s binary=%s event=binaries_check_refused error=\"%s\"", n->id, path,
			 err->message);
	pool_node_binary_result(np->pool, n, path, ok && present);
}

static void handle_reply(struct node_conn *conn, json_t *msg)
{
	struct nodeport *np = conn->np;
	struct pool_node *n = conn->node;
	json_t *jid = json_object_get(msg, "id");
	struct sent_req req;
	if (n && nodeport_logs_reply(conn, msg))
		return;
	if (!n || !json_is_integer(jid) ||
	    !nodeport_conn_take_request(conn, json_integer_value(jid), &req)) {
		acre_log(ACRE_LOG_DEBUG, "node=%s event=unexpected_reply", n ? n->id : "-");
		return;
	}
	struct acre_error err = {0};
	bool ok = json_is_true(json_object_get(msg, "ok"));
	if (!ok)
		acre_proto_error_from_json(msg, &err);
	if (req.op == POOL_OP_ASSIGN) {
		assign_reply(np, n, &req, ok, msg, &err);
	} else if (req.op == POOL_OP_NET) {
		if (!ok)
			acre_log(ACRE_LOG_WARN, "node=%s event=net_refused op=%s error=\"%s\"",
				 n->id, req.items[0].name, err.message);
	} else if (req.op == POOL_OP_VOLUME_REMOVE) {
		volume_reply(n, req.items[0].name, ok, msg, &err);
	} else if (req.op == POOL_OP_BINARIES_CHECK) {
		binaries_reply(np, n, req.items[0].name, ok, msg, &err);
	} else if (req.n == 1) {
		const char *name = req.items[0].name;
		if (req.op == POOL_OP_REMOVE && !ok && err.code == ENOENT)
			pool_remove_gone(np->pool, n, name, req.items[0].slice_id);
		else if (!ok && !(req.op == POOL_OP_KILL && err.code == ESRCH))
			acre_log(ACRE_LOG_WARN, "node=%s slice=%s event=%s_failed error=\"%s\"",
				 n->id, name, req.op == POOL_OP_KILL ? "kill" : "remove",
				 err.message);
	}
	free(req.items);
}

static const struct {
	const char *name;
	void (*fn)(struct node_conn *conn, json_t *req, json_t *id);
} ops[] = {
	{ACRE_OP_SYNC, op_sync},
	{ACRE_OP_HEARTBEAT, op_heartbeat},
	{ACRE_OP_UPDATE, op_update},
	{ACRE_OP_HEALTH, op_health},
	{ACRE_OP_LOGS_DATA, nodeport_logs_data},
};

/* A registered node that speaks is alive; a node declared down must reconcile first. */
static bool revive(struct node_conn *conn, struct pool_node *n)
{
	if (pool_node_heard(conn->np->pool, n))
		return true;
	nodeport_conn_close(conn, "declared down meanwhile: reconnect to reconcile");
	return false;
}

void nodeport_message(struct node_conn *conn, const char *line, size_t len)
{
	struct acre_error err = {0};
	_cleanup_(acre_proto_msg_free) struct acre_proto_msg m = {0};
	int rc = acre_proto_parse(line, len, ACRE_PROTO_REQUEST | ACRE_PROTO_REPLY, &m, &err);
	if (!m.json) {
		nodeport_reply_error(conn, NULL, &err);
		return;
	}
	struct pool_node *n = conn->node;
	if (n && !revive(conn, n))
		return;
	if (m.kind == ACRE_PROTO_REPLY && rc < 0) {
		/* Counted and logged, never answered: answering a reply could echo forever. */
		conn->np->stats->protocol_errors++;
		acre_log(ACRE_LOG_WARN, "node=%s event=protocol_error peer=%s error=\"%s\"",
			 n ? n->id : "-", conn->peer, err.message);
		return;
	}
	if (m.kind == ACRE_PROTO_REPLY) {
		handle_reply(conn, m.json);
		return;
	}
	if (rc < 0) {
		nodeport_reply_error(conn, m.id, &err);
		return;
	}
	if (strcmp(m.op, ACRE_OP_REGISTER) == 0) {
		nodeport_register(conn, m.json, m.id);
		return;
	}
	if (!n && strcmp(m.op, ACRE_OP_CA) == 0) {
		nodeport_ca(conn, m.json, m.id);
		return;
	}
	if (!n && strcmp(m.op, ACRE_OP_JOIN) == 0) {
		nodeport_join(conn, m.json, m.id);
		return;
	}
	if (!n) {
		acre_error_set(&err, EACCES, "op", "%s before register", m.op);
		nodeport_reply_error(conn, m.id, &err);
		return;
	}
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(ops); i++) {
		if (strcmp(ops[i].name, m.op) == 0) {
			ops[i].fn(conn, m.json, m.id);
			return;
		}
	}
	acre_error_set(&err, EINVAL, "op", "unknown op \"%.64s\"", m.op);
	nodeport_reply_error(conn, m.id, &err);
}
