/*
 * The host binaries an install's nodes need (package.json's binary
 * artifacts), against the pool: how many nodes have each, for the plan,
 * and while an operation waits, the binary no node has, named with the
 * Debian package that provides it, so that an install on a pool without
 * it says why nothing starts instead of waiting in silence.  Its apps
 * carry the constraint bin:PATH==true (artifacts.c), which is what keeps
 * their instances off nodes without it; this only explains.
 */
#include "internal.h"
#include "runtime.h"

/*
 * Nodes answer binaries.check within a pass or two of the apps naming a
 * path; before that, "no node has it" would only mean "not asked yet".
 */
#define ANSWER_GRACE_MS 3000

struct seen {
	char key[ACRE_ATTR_KEY_MAX + 1];
	size_t have, of;
};

static void count(struct pool_node *n, void *ud)
{
	struct seen *s = ud;
	s->of++;
	if (json_object_get(n->attributes, s->key))
		s->have++;
}

static struct seen nodes_with(struct installs *s, const char *path)
{
	struct seen c = {0};
	snprintf(c.key, sizeof(c.key), "bin:%s", path);
	pool_node_foreach(s->pool, count, &c);
	return c;
}

json_t *install_binaries_seen(struct installs *s, const json_t *binaries)
{
	json_t *out = json_deep_copy(binaries), *b;
	size_t i;
	json_array_foreach (out, i, b) {
		const char *path = json_string_value(json_object_get(b, "binary"));
		pool_binaries_want(s->pool, path); /* asked now, known at the next look */
		struct seen c = nodes_with(s, path);
		json_object_set_new(b, "nodes", json_integer((json_int_t)c.have));
		json_object_set_new(b, "of", json_integer((json_int_t)c.of));
	}
	return out;
}

void install_binaries_waiting(struct installs *s, json_t *op)
{
	int64_t started = json_integer_value(json_object_get(op, "started_at"));
	if (acre_now_ms() - started < ANSWER_GRACE_MS)
		return;
	json_t *b;
	size_t i;
	json_array_foreach (json_object_get(op, "binaries"), i, b) {
		const char *path = json_string_value(json_object_get(b, "binary"));
		const char *deb = json_string_value(json_object_get(b, "deb"));
		if (!path || !deb || nodes_with(s, path).have)
			continue;
		char why[512];
		snprintf(why, sizeof(why),
			 "a node with %s (Debian package %s; no node of the pool has it: "
			 "apt-get install %s)",
			 path, deb, deb);
		json_object_set_new(op, "waiting_for", json_string(why));
		return;
	}
}
