/*
 * The supervisor protocol, controller side: register (join token, node
 * identity, capacity, attributes), sync (the node's slices, reconciled),
 * heartbeat (usage), update (slice changes with per-node sequence numbers,
 * acknowledged once committed, duplicates ignored), and the replies to what
 * the controller asked (assign, kill, remove).  Every request is checked by
 * name and type before anything changes; a bad one gets an error reply and
 * is logged, and the connection keeps serving — except before
 * registration, where any error ends the connection.
 */
#include "controller/ctl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define MAX_ATTRIBUTES 64
#define MAX_UPDATES 100000

static void reply_error(struct node_conn *conn, json_t *id, struct acre_error *err)
{
	struct ctl *c = conn_ctl(conn);
	struct ctl_node *n = conn_node(conn);
	c->m.protocol_errors++;
	acre_log(ACRE_LOG_WARN, "node=%s event=protocol_error peer=%s error=\"%s\"",
		 n ? n->id : "-", conn_peer(conn), err->message);
	if (n)
		conn_reply_error(conn, id, err);
	else
		conn_refuse(conn, id, err); /* nothing but a registration before one */
}

static void reply_now(struct node_conn *conn, json_t *id, json_t *result)
{
	_cleanup_json_ json_t *msg = acre_proto_ok(id, result);
	if (msg)
		conn_send_json(conn, msg);
}

/*
 * The replies of every heartbeat and update, printed directly when the id
 * is an integer (nothing in them needs escaping): thousands a second.
 */
static bool fast_reply(struct node_conn *conn, json_t *id, const char *result, bool deferred)
{
	if (!json_is_integer(id))
		return false;
	char line[128];
	int len = snprintf(line, sizeof(line), "{\"id\":%lld,\"ok\":true,\"result\":%s}\n",
			   (long long)json_integer_value(id), result);
	if (len <= 0 || (size_t)len >= sizeof(line))
		return false;
	if (deferred)
		ctl_defer_line(conn_ctl(conn), conn, line, (size_t)len);
	else
		conn_send(conn, line, (size_t)len);
	return true;
}

static void reply_after_commit(struct node_conn *conn, json_t *id, json_t *result)
{
	_cleanup_json_ json_t *msg = acre_proto_ok(id, result);
	if (msg)
		ctl_defer_reply(conn_ctl(conn), conn, msg);
}

static bool token_ok(const char *given, const char *want)
{
	size_t a = strlen(given), b = strlen(want);
	return a == b && CRYPTO_memcmp(given, want, a) == 0;
}

static int hash_secret(const char *secret, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -EIO;
	acre_hex_encode(md, len, out);
	return 0;
}

static bool secret_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 32 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static int check_attributes(json_t *attrs, struct acre_error *err)
{
	if (!json_is_object(attrs) || json_object_size(attrs) > MAX_ATTRIBUTES)
		return acre_error_set(err, EINVAL, "node.attributes",
				      "node.attributes: must be an object of at most %d strings",
				      MAX_ATTRIBUTES);
	const char *k;
	json_t *v;
	json_object_foreach(attrs, k, v) {
		if (!acre_controller_attr_key_valid(k) || strncmp(k, "node.", 5) == 0)
			return acre_error_set(err, EINVAL, "node.attributes",
					      "node.attributes: invalid name \"%.64s\" (node.* is "
					      "reserved)",
					      k);
		if (!json_is_string(v) || !acre_controller_attr_value_valid(json_string_value(v)))
			return acre_error_set(err, EINVAL, "node.attributes",
					      "node.attributes.%s: must be 1 to %d printable "
					      "characters",
					      k, ACRE_ATTR_VALUE_MAX);
	}
	return 0;
}

struct registration {
	const char *token, *id, *secret, *hostname, *version;
	double cpus;
	json_int_t memory, protocol;
	json_t *attributes;
};

/* A string member: required or not; errors name the field. */
static int get_string(json_t *obj, const char *key, const char *field, bool required,
		      const char **out, struct acre_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return acre_error_set(err, EINVAL, field, "%s: %s a string", field,
				      required ? "required," : "must be");
	*out = json_string_value(v);
	return 0;
}

static int parse_capacity(json_t *cap, struct registration *r, struct acre_error *err)
{
	if (!json_is_object(cap))
		return acre_error_set(err, EINVAL, "node.capacity",
				      "node.capacity: required, {\"cpus\": N, \"memory\": BYTES}");
	json_t *cpus = json_object_get(cap, "cpus"), *mem = json_object_get(cap, "memory");
	if (!json_is_number(cpus))
		return acre_error_set(err, EINVAL, "node.capacity.cpus",
				      "node.capacity.cpus: required, a number");
	if (!json_is_integer(mem))
		return acre_error_set(err, EINVAL, "node.capacity.memory",
				      "node.capacity.memory: required, an integer (bytes)");
	r->cpus = json_number_value(cpus);
	r->memory = json_integer_value(mem);
	return 0;
}

static int parse_register(json_t *req, struct registration *r, struct acre_error *err)
{
	*r = (struct registration){.hostname = "", .version = "", .protocol = 1};
	json_t *node = json_object_get(req, "node"), *proto = json_object_get(req, "protocol");
	int rc = get_string(req, "token", "token", true, &r->token, err);
	if (rc == 0 && proto && !json_is_integer(proto))
		rc = acre_error_set(err, EINVAL, "protocol", "protocol: must be an integer");
	if (rc == 0 && !json_is_object(node))
		rc = acre_error_set(err, EINVAL, "node", "node: required, an object");
	if (rc == 0)
		rc = get_string(node, "id", "node.id", true, &r->id, err);
	if (rc == 0)
		rc = get_string(node, "secret", "node.secret", true, &r->secret, err);
	if (rc == 0)
		rc = get_string(node, "hostname", "node.hostname", false, &r->hostname, err);
	if (rc == 0)
		rc = get_string(node, "version", "node.version", false, &r->version, err);
	if (rc == 0)
		rc = parse_capacity(json_object_get(node, "capacity"), r, err);
	if (rc < 0)
		return rc;
	r->protocol = proto ? json_integer_value(proto) : ACRE_CONTROLLER_PROTOCOL;
	r->attributes = json_object_get(node, "attributes");
	if (r->protocol != ACRE_CONTROLLER_PROTOCOL)
		return acre_error_set(err, EOPNOTSUPP, "protocol",
				      "protocol %lld: this controller speaks %d",
				      (long long)r->protocol, ACRE_CONTROLLER_PROTOCOL);
	if (!acre_slice_name_valid(r->id))
		return acre_error_set(err, EINVAL, "node.id",
				      "node.id: 1 to %d letters, digits, '-', '_' or '.'",
				      ACRE_NAME_MAX);
	if (!secret_valid(r->secret))
		return acre_error_set(err, EINVAL, "node.secret",
				      "node.secret: 32 to 128 lowercase hex digits");
	if (strlen(r->hostname) > 255)
		return acre_error_set(err, EINVAL, "node.hostname", "node.hostname: too long");
	if (!(r->cpus > 0 && r->cpus <= 65536))
		return acre_error_set(err, EINVAL, "node.capacity.cpus",
				      "node.capacity.cpus: must be above 0 and at most 65536");
	if (r->memory <= 0)
		return acre_error_set(err, EINVAL, "node.capacity.memory",
				      "node.capacity.memory: must be a positive number of bytes");
	return r->attributes ? check_attributes(r->attributes, err) : 0;
}

static void op_register(struct node_conn *conn, json_t *req, json_t *id)
{
	struct ctl *c = conn_ctl(conn);
	struct acre_error err = {0};
	struct registration r;
	char hash[65];
	if (conn_node(conn)) {
		acre_error_set(&err, EINVAL, "op", "already registered as %s", conn_node(conn)->id);
		reply_error(conn, id, &err);
		return;
	}
	if (parse_register(req, &r, &err) < 0 || hash_secret(r.secret, hash) < 0) {
		c->m.refusals++;
		reply_error(conn, id, &err);
		return;
	}
	if (!token_ok(r.token, c->opt.join_token)) {
		c->m.refusals++;
		acre_error_set(&err, EACCES, "token", "wrong join token");
		reply_error(conn, id, &err);
		return;
	}
	struct ctl_node *n = node_find(c, r.id);
	if (n && strcmp(n->secret_hash, hash) != 0) {
		c->m.refusals++;
		acre_error_set(&err, EACCES, "node.id",
			       "node id %s belongs to another node (its secret differs: a copied "
			       "state directory?)",
			       r.id);
		reply_error(conn, id, &err);
		return;
	}
	if (!n) {
		if (!(n = node_create(c, r.id))) {
			acre_error_set(&err, ENOMEM, NULL, "out of memory");
			reply_error(conn, id, &err);
			return;
		}
		memcpy(n->secret_hash, hash, sizeof(hash));
		n->registered_at = acre_now_ms();
	}
	if (n->conn && n->conn != conn) {
		char why[128];
		snprintf(why, sizeof(why), "replaced by a new connection from %s", conn_peer(conn));
		conn_close(n->conn, why);
	}
	_cleanup_json_ json_t *empty = json_object();
	uint32_t cpus = (uint32_t)(r.cpus * 1000 + 0.5);
	if (node_describe(c, n, r.hostname, cpus, (uint64_t)r.memory,
			  r.attributes ? r.attributes : empty) < 0) {
		acre_error_set(&err, ENOMEM, NULL, "out of memory");
		reply_error(conn, id, &err);
		return;
	}
	snprintf(n->address, sizeof(n->address), "%s", conn_peer(conn));
	snprintf(n->version, sizeof(n->version), "%s", r.version);
	n->conn = conn;
	n->synced = false;
	conn_set_node(conn, n);
	node_seen(n);
	n->last_seen_ms = acre_now_ms();
	node_mark_dirty(c, n);
	c->m.registrations++;
	acre_log(ACRE_LOG_INFO, "node=%s event=registered peer=%s hostname=%s cpus=%g memory=%lld",
		 n->id, conn_peer(conn), n->hostname, cpus / 1000.0, (long long)r.memory);
	node_set_state(c, n, NODE_READY, "registered");
	events_node(c, n, "registered");
	reply_after_commit(conn, id,
			   json_pack("{s:s,s:I,s:I,s:i}", "node_id", n->id, "acked",
				     (json_int_t)n->last_seq, "heartbeat_ms",
				     (json_int_t)c->opt.heartbeat_ms, "protocol",
				     ACRE_CONTROLLER_PROTOCOL));
}

/* {"cpus": 0.5, "memory": 1234}: what the node runs that the pool did not place. */
static int parse_local(json_t *local, uint32_t *cpus, uint64_t *mem, struct acre_error *err)
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
	*cpus = (uint32_t)(c * 1000 + 0.5);
	*mem = (uint64_t)m;
	return 0;
}

static void op_sync(struct node_conn *conn, json_t *req, json_t *id)
{
	struct ctl *c = conn_ctl(conn);
	struct ctl_node *n = conn_node(conn);
	struct acre_error err = {0};
	json_t *slices = json_object_get(req, "slices");
	uint32_t cpus = 0;
	uint64_t mem = 0;
	int rc = parse_local(json_object_get(req, "local"), &cpus, &mem, &err);
	if (rc < 0 || (rc = reconcile_node(c, n, slices, &err)) < 0) {
		reply_error(conn, id, &err);
		return;
	}
	node_set_local(c, n, cpus, mem);
	n->synced = true;
	node_update_eligibility(c, n);
	acre_log(ACRE_LOG_INFO, "node=%s event=synced slices=%zu", n->id, json_array_size(slices));
	reply_after_commit(conn, id, json_pack("{s:I}", "slices", (json_int_t)n->nslices));
}

static void op_heartbeat(struct node_conn *conn, json_t *req, json_t *id)
{
	struct ctl *c = conn_ctl(conn);
	struct ctl_node *n = conn_node(conn);
	struct acre_error err = {0};
	uint32_t cpus;
	uint64_t mem;
	int rc = parse_local(json_object_get(req, "local"), &cpus, &mem, &err);
	if (rc < 0) {
		reply_error(conn, id, &err);
		return;
	}
	if (rc == 0)
		node_set_local(c, n, cpus, mem);
	json_t *usage = json_object_get(req, "usage");
	if (json_is_object(usage)) {
		json_decref(n->usage);
		n->usage = json_incref(usage);
	}
	c->m.heartbeats++;
	if (!fast_reply(conn, id, "{}", false))
		reply_now(conn, id, NULL);
}

struct update {
	json_int_t seq, restarts;
	const char *slice, *state, *reason;
	json_t *exit;
	enum acre_slice_state st;
};

static int parse_update(json_t *u, size_t i, struct update *out, struct acre_error *err)
{
	json_error_t jerr;
	*out = (struct update){.reason = ""};
	if (json_unpack_ex(u, &jerr, 0, "{s:I,s:s,s:s,s?s,s?I,s?o}", "seq", &out->seq, "slice",
			   &out->slice, "state", &out->state, "reason", &out->reason, "restarts",
			   &out->restarts, "exit", &out->exit) < 0)
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: %s", i, jerr.text);
	if (out->seq <= 0 || out->restarts < 0)
		return acre_error_set(err, EINVAL, "updates",
				      "updates[%zu]: seq must be positive, restarts not negative", i);
	if (acre_slice_state_parse(out->state, &out->st) < 0)
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: unknown state %.32s",
				      i, out->state);
	if (!acre_slice_name_valid(out->slice))
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: invalid slice name", i);
	if (out->exit && !json_is_object(out->exit) && !json_is_null(out->exit))
		return acre_error_set(err, EINVAL, "updates", "updates[%zu]: exit must be an object",
				      i);
	return 0;
}

static void apply_update(struct ctl *c, struct ctl_node *n, const struct update *u)
{
	n->last_seq = u->seq;
	c->m.updates_applied++;
	struct ctl_slice *sl = slice_find(c, u->slice);
	if (!sl || sl->node != n) {
		/* Not (or no longer) ours on this node: reconciliation deals with it. */
		acre_log(ACRE_LOG_DEBUG, "node=%s slice=%s event=update_ignored state=%s", n->id,
			 u->slice, u->state);
		return;
	}
	_cleanup_free_ char *exit = json_is_object(u->exit) ? json_dumps(u->exit, JSON_COMPACT)
							     : NULL;
	slice_apply_report(c, sl, u->st, u->reason, (unsigned)u->restarts, exit);
}

static void op_update(struct node_conn *conn, json_t *req, json_t *id)
{
	struct ctl *c = conn_ctl(conn);
	struct ctl_node *n = conn_node(conn);
	struct acre_error err = {0};
	json_t *list = json_object_get(req, "updates");
	size_t count = json_array_size(list);
	if (!json_is_array(list) || count > MAX_UPDATES) {
		acre_error_set(&err, EINVAL, "updates", "updates: an array of at most %d changes",
			       MAX_UPDATES);
		reply_error(conn, id, &err);
		return;
	}
	/* All or nothing: a malformed entry rejects the message before any applies. */
	_cleanup_free_ struct update *ups = calloc(count + 1, sizeof(*ups));
	if (!ups) {
		acre_error_set(&err, ENOMEM, NULL, "out of memory");
		reply_error(conn, id, &err);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (parse_update(json_array_get(list, i), i, &ups[i], &err) < 0) {
			reply_error(conn, id, &err);
			return;
		}
	}
	for (size_t i = 0; i < count; i++) {
		if (ups[i].seq <= n->last_seq) {
			c->m.updates_duplicate++; /* resent after a reconnection: applied already */
			continue;
		}
		apply_update(c, n, &ups[i]);
	}
	node_mark_dirty(c, n);
	char result[64];
	snprintf(result, sizeof(result), "{\"acked\":%lld}", (long long)n->last_seq);
	if (!fast_reply(conn, id, result, true))
		reply_after_commit(conn, id, json_pack("{s:I}", "acked", (json_int_t)n->last_seq));
}

static void assign_failed(struct ctl *c, struct ctl_slice *sl, const struct acre_error *err)
{
	char reason[400];
	snprintf(reason, sizeof(reason), "assign to node %s failed: %s",
		 sl->node ? sl->node->id : "?", err->message);
	c->m.assign_failures++;
	acre_log(ACRE_LOG_WARN, "slice=%s event=assign_failed error=\"%s\"", sl->name,
		 err->message);
	sl->assigned = true; /* the node answered: nothing more to send */
	slice_set_state(c, sl, ACRE_SLICE_FAILED, reason);
}

static struct ctl_slice *item_slice(struct ctl *c, struct ctl_node *n, const struct sent_item *it)
{
	struct ctl_slice *sl = slice_find(c, it->name);
	return sl && sl->id == it->slice_id && sl->node == n ? sl : NULL;
}

/* {"assigned": N, "failed": [{"slice", "error"}]}: the rest runs, or will shortly. */
static void assign_reply(struct ctl *c, struct ctl_node *n, const struct sent_req *req, bool ok,
			 json_t *msg, const struct acre_error *whole)
{
	json_t *failed = json_object_get(json_object_get(msg, "result"), "failed");
	for (size_t i = 0; i < req->n; i++) {
		struct ctl_slice *sl = item_slice(c, n, &req->items[i]);
		if (!sl)
			continue;
		if (!ok) {
			assign_failed(c, sl, whole);
			continue;
		}
		size_t k;
		json_t *f;
		bool refused = false;
		json_array_foreach(failed, k, f) {
			const char *name = json_string_value(json_object_get(f, "slice"));
			if (!name || strcmp(name, sl->name))
				continue;
			struct acre_error err = {0};
			acre_proto_error_from_json(f, &err);
			assign_failed(c, sl, &err);
			refused = true;
			break;
		}
		/* Written with the slice's next change: a restart that forgets it only re-sends. */
		if (!refused)
			sl->assigned = true;
	}
}

static void handle_reply(struct node_conn *conn, json_t *msg)
{
	struct ctl *c = conn_ctl(conn);
	struct ctl_node *n = conn_node(conn);
	json_t *jid = json_object_get(msg, "id");
	struct sent_req req;
	if (!n || !json_is_integer(jid) || !conn_take_request(conn, json_integer_value(jid), &req)) {
		acre_log(ACRE_LOG_DEBUG, "node=%s event=unexpected_reply", n ? n->id : "-");
		return;
	}
	struct acre_error err = {0};
	bool ok = json_is_true(json_object_get(msg, "ok"));
	if (!ok)
		acre_proto_error_from_json(msg, &err);
	if (req.op == OUT_ASSIGN) {
		assign_reply(c, n, &req, ok, msg, &err);
	} else if (req.n == 1) {
		struct ctl_slice *sl = item_slice(c, n, &req.items[0]);
		const char *name = req.items[0].name;
		if (req.op == OUT_REMOVE && !ok && err.code == ENOENT && sl &&
		    sl->desired == DESIRED_REMOVE)
			slice_delete(c, sl); /* gone already: nothing left to wait for */
		else if (!ok && !(req.op == OUT_KILL && err.code == ESRCH))
			acre_log(ACRE_LOG_WARN, "node=%s slice=%s event=%s_failed error=\"%s\"",
				 n->id, name, req.op == OUT_KILL ? "kill" : "remove", err.message);
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
};

/* A registered node that speaks is alive; a node declared down must reconcile first. */
static bool revive(struct node_conn *conn, struct ctl_node *n)
{
	struct ctl *c = conn_ctl(conn);
	node_seen(n);
	if (n->state == NODE_DOWN) {
		conn_close(conn, "declared down meanwhile: reconnect to reconcile");
		return false;
	}
	if (n->state == NODE_UNREACHABLE)
		node_set_state(c, n, NODE_READY, "heard from again");
	return true;
}

void nodeproto_message(struct node_conn *conn, const char *line, size_t len)
{
	struct acre_error err = {0};
	json_error_t jerr;
	_cleanup_json_ json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(msg)) {
		if (msg)
			acre_error_set(&err, EPROTO, NULL, "a message must be a JSON object");
		else
			acre_error_set(&err, EPROTO, NULL, "invalid JSON at column %d: %s",
				       jerr.column, jerr.text);
		reply_error(conn, NULL, &err);
		return;
	}
	struct ctl_node *n = conn_node(conn);
	if (n && !revive(conn, n))
		return;
	json_t *op = json_object_get(msg, "op");
	if (!op && json_object_get(msg, "ok")) {
		handle_reply(conn, msg);
		return;
	}
	json_t *id = json_object_get(msg, "id");
	if (!json_is_integer(id) && !json_is_string(id)) {
		acre_error_set(&err, EPROTO, "id", "a request needs an \"id\" (integer or string)");
		reply_error(conn, NULL, &err);
		return;
	}
	if (!json_is_string(op)) {
		acre_error_set(&err, EPROTO, "op", "a request needs an \"op\" string");
		reply_error(conn, id, &err);
		return;
	}
	const char *name = json_string_value(op);
	if (strcmp(name, ACRE_OP_REGISTER) == 0) {
		op_register(conn, msg, id);
		return;
	}
	if (!n) {
		acre_error_set(&err, EACCES, "op", "%s before register", name);
		reply_error(conn, id, &err);
		return;
	}
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(ops); i++) {
		if (strcmp(ops[i].name, name) == 0) {
			ops[i].fn(conn, msg, id);
			return;
		}
	}
	acre_error_set(&err, EINVAL, "op", "unknown op \"%.64s\"", name);
	reply_error(conn, id, &err);
}
