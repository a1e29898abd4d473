/*
 * Draining a node: it is cordoned (no new placement), and every app
 * instance on it is moved off by the reconciliation, never more of one
 * app down at once than its max_unavailable.  The nodes being drained
 * are kept in the store; a drain ends when the node is uncordoned (or
 * removed).  Instances with volumes stay: their data is on that node.
 */
#include "runtime.h"

bool apps_node_draining(const struct apps *a, const char *node)
{
	for (size_t i = 0; i < a->drains.n; i++) {
		if (strcmp(a->drains.v[i], node))
			continue;
		/* Uncordoned by hand: the drain is over. */
		struct pool_node *n = pool_node_find(a->pool, node);
		return n && n->cordoned;
	}
	return false;
}

struct on_node {
	const struct pool_node *node;
	unsigned remaining, kept;
	char kept_name[ACRE_NAME_MAX + 1];
	struct apps *a;
};

static int count_one(struct pool_slice *sl, void *ud)
{
	struct on_node *c = ud;
	if (sl->removed || sl->node != c->node)
		return 0;
	c->remaining++;
	const char *name = pool_slice_label(sl, APP_LABEL_APP);
	const struct app *app = name ? apps_find(c->a, name) : NULL;
	if (app && app->spec.nvolumes) {
		c->kept++;
		snprintf(c->kept_name, sizeof(c->kept_name), "%s", sl->name);
	}
	return 0;
}

json_t *apps_node_drain_json(struct apps *a, const char *node)
{
	if (!apps_node_draining(a, node))
		return NULL;
	struct on_node c = {.node = pool_node_find(a->pool, node), .a = a};
	for (size_t i = 0; i < a->apps.n; i++) {
		char text[sizeof(APP_LABEL_APP) + APP_NAME_MAX + 2];
		snprintf(text, sizeof(text), "%s=%s", APP_LABEL_APP, a->apps.v[i]->name);
		struct pool_label_filter f = {0};
		if (pool_label_filter_add(&f, text, NULL) == 0)
			pool_slices_labelled(a->pool, &f, count_one, &c);
	}
	char waiting[256] = "";
	if (c.kept)
		snprintf(waiting, sizeof(waiting),
			 "%u instance%s with volumes stay%s (such as %s): their data is on this "
			 "node; move or remove them by hand",
			 c.kept, c.kept == 1 ? "" : "s", c.kept == 1 ? "s" : "", c.kept_name);
	else if (c.remaining)
		snprintf(waiting, sizeof(waiting),
			 "%u instance%s to move, within each app's max_unavailable", c.remaining,
			 c.remaining == 1 ? "" : "s");
	return json_pack("{s:i,s:s,s:b}", "remaining", (int)c.remaining, "waiting_for", waiting,
			 "done", c.remaining == c.kept);
}

int apps_node_drain(struct apps *a, const char *node, json_t **out, struct acre_error *err)
{
	struct pool_node *n = pool_node_find(a->pool, node);
	if (!n)
		return acre_error_set(err, ENOENT, "id", "no node %s in the pool", node);
	if (!n->cordoned)
		pool_node_cordon(a->pool, n, true);
	bool known = false;
	for (size_t i = 0; i < a->drains.n && !known; i++)
		known = !strcmp(a->drains.v[i], node);
	if (!known) {
		char *copy = strdup(node);
		if (!copy || acre_vec_push(&a->drains, copy) < 0) {
			free(copy);
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
		a->drains_dirty = true;
		acre_log(ACRE_LOG_INFO, "event=node_drain node=%s", node);
	}
	for (size_t i = 0; i < a->apps.n; i++)
		app_touch(a->apps.v[i]);
	*out = json_pack("{s:s,s:o}", "node", node, "drain", apps_node_drain_json(a, node));
	return 0;
}
