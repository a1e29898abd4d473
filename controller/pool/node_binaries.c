/*
 * Host binaries as node attributes.  A placement constraint on bin:PATH
 * (bin:/usr/bin/redis-server==true) asks for nodes that have that binary;
 * nodes do not scan for binaries (thousands of executables, of which the
 * pool cares about a handful), they are asked.  The pool keeps every path
 * a constraint named; it asks each node for all of them after the node
 * registers (binaries.check, sent after the commit) and every connected
 * node for a path when a constraint names it first, and keeps each answer
 * as the node's attribute bin:PATH=true (present) or none (absent).  A node
 * registers with the attributes it declares, without bin:, and is asked
 * again: it re-checks on every reconnect.  Slices pending for a binary are
 * tried again when a node's answer changes.  A binary no node has yet is
 * no reason to refuse a slice or an app (the nodes have not answered, or
 * the package is being installed): it waits, as for a node to come, and
 * `why` names the constraint.  A path named for the first time waits for
 * the nodes' answers (at most BIN_ANSWER_WAIT_MS): placed on the first
 * node that answered, an app spread over three nodes ran all on one.
 */
#include "internal.h"

#define BIN_PREFIX	   "bin:"
#define BIN_ANSWER_WAIT_MS 3000

/* A path a constraint named: the answers still awaited since the nodes were asked. */
struct binary {
	int64_t asked_ms; /* monotonic */
	unsigned awaited;
};

/* The path a constraint asks about, or NULL. */
static const char *constraint_path(const struct acre_constraint *c)
{
	size_t n = strlen(BIN_PREFIX);
	return !strncmp(c->attr, BIN_PREFIX, n) && c->attr[n] == '/' ? c->attr + n : NULL;
}

static void ask(struct pool *p, struct pool_node *n, const char *path)
{
	pool_outbound_queue(p, POOL_OP_BINARIES_CHECK, n, path, 0, NULL, 0);
}

struct ask_all {
	struct pool *p;
	const char *path;
	struct binary *b;
};

static void ask_connected(struct pool_node *n, void *ud)
{
	struct ask_all *a = ud;
	if (n->conn) {
		ask(a->p, n, a->path);
		a->b->awaited++;
	}
}

void pool_binaries_note(struct pool *p, const struct acre_placement *pl)
{
	for (unsigned i = 0; pl && i < pl->nconstraints; i++) {
		const char *path = constraint_path(&pl->constraints[i]);
		if (!path || acre_map_get(p->binaries, path))
			continue;
		struct binary *b = calloc(1, sizeof(*b));
		if (!b || acre_map_put(p->binaries, path, b) < 0) {
			free(b);
			return; /* out of memory: asked at the node's next registration */
		}
		acre_log(ACRE_LOG_INFO, "binary=%s event=binary_wanted", path);
		b->asked_ms = (int64_t)(acre_monotonic_ns() / 1000000);
		struct ask_all a = {.p = p, .path = path, .b = b};
		pool_node_foreach(p, ask_connected, &a);
	}
}

void pool_binaries_want(struct pool *p, const char *path)
{
	struct acre_placement pl = {.nconstraints = 1};
	if (!path || (size_t)snprintf(pl.constraints[0].attr, sizeof(pl.constraints[0].attr),
				      BIN_PREFIX "%s", path) >= sizeof(pl.constraints[0].attr))
		return;
	pool_binaries_note(p, &pl);
}

static void ask_one(const char *path, void *value, void *ud)
{
	(void)value;
	void **args = ud;
	ask(args[0], args[1], path);
}

bool pool_binaries_awaited(struct pool *p, const struct acre_placement *pl, char *why, size_t len)
{
	int64_t now = (int64_t)(acre_monotonic_ns() / 1000000);
	for (unsigned i = 0; pl && i < pl->nconstraints; i++) {
		const char *path = constraint_path(&pl->constraints[i]);
		const struct binary *b = path ? acre_map_get(p->binaries, path) : NULL;
		if (b && b->awaited && now - b->asked_ms < BIN_ANSWER_WAIT_MS) {
			snprintf(why, len, "waiting for the nodes to say whether they have %s",
				 path);
			return true;
		}
	}
	return false;
}

static void free_one(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	free(value);
}

void pool_binaries_free(struct pool *p)
{
	if (p->binaries)
		acre_map_foreach(p->binaries, free_one, NULL);
	acre_map_free(p->binaries);
	p->binaries = NULL;
}

bool pool_binaries_named(const struct acre_placement *pl)
{
	for (unsigned i = 0; pl && i < pl->nconstraints; i++)
		if (constraint_path(&pl->constraints[i]))
			return true;
	return false;
}

void pool_binaries_strip(const struct acre_placement *in, struct acre_placement *out)
{
	*out = *in;
	out->nconstraints = 0;
	for (unsigned i = 0; i < in->nconstraints; i++)
		if (!constraint_path(&in->constraints[i]))
			out->constraints[out->nconstraints++] = in->constraints[i];
}

void pool_binaries_ask(struct pool *p, struct pool_node *n)
{
	void *args[2] = {p, n};
	acre_map_foreach(p->binaries, ask_one, args);
}

void pool_node_binary_result(struct pool *p, struct pool_node *n, const char *path, bool present)
{
	char key[ACRE_ATTR_KEY_MAX + 1];
	if ((size_t)snprintf(key, sizeof(key), BIN_PREFIX "%s", path) >= sizeof(key))
		return;
	struct binary *b = acre_map_get(p->binaries, path);
	if (b && b->awaited && --b->awaited == 0)
		p->retry_pending = true; /* every node has answered: what waited is placed */
	if (!!json_object_get(n->attributes, key) == present)
		return;
	_cleanup_json_ json_t *attrs = json_copy(n->attributes);
	if (!attrs)
		return;
	if (present)
		json_object_set_new(attrs, key, json_string("true"));
	else
		json_object_del(attrs, key);
	if (pool_node_describe(p, n, n->hostname, n->sn.cap_cpus, n->sn.cap_mem, attrs) < 0) {
		acre_log(ACRE_LOG_ERROR,
			 "node=%s binary=%s event=index_failed error=\"out of memory\"", n->id,
			 path);
		return;
	}
	acre_log(ACRE_LOG_INFO, "node=%s binary=%s event=%s", n->id, path,
		 present ? "binary_present" : "binary_absent");
	pool_publish_node(p, n, "attributes");
	p->retry_pending = true; /* a slice waiting for it may fit now */
}
