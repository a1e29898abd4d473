/*
 * /v1/nodes, /v1/pool and /v1/network: the nodes in id order, one node
 * (with its part of the pool's network: address, subnet, overlay, the
 * routes it was given), the pool at a glance — capacity, use and room of
 * the ready nodes, in all and per attribute value, and how many slices
 * are in each state — and the pool's network: its ranges, every node's
 * subnet, every name and virtual IP.
 */
#include "internal.h"

#include "controller/apps/apps.h"

API_HANDLER(api_nodes_list)
{
	(void)p;
	(void)q;
	json_t *list = json_array();
	_cleanup_free_ const char **ids = pool_node_ids(a->pool);
	for (size_t i = 0; ids && ids[i]; i++)
		json_array_append_new(list, pool_node_json(pool_node_find(a->pool, ids[i])));
	api_reply_json(a, req, 200, json_pack("{s:o}", "nodes", list));
}

API_HANDLER(api_node_show)
{
	(void)q;
	const char *id = api_param(p, "id");
	struct pool_node *n = pool_node_find(a->pool, id);
	if (!n) {
		struct acre_error err;
		acre_error_set(&err, ENOENT, "id", "no node %s in the pool", id);
		api_reply_error(a, req, 404, &err);
		return;
	}
	json_t *j = pool_node_json(n);
	json_t *slices = json_array();
	const struct pool_slice *sl;
	ACRE_LIST_FOREACH (node, sl, n->slices)
		json_array_append_new(slices, json_pack("{s:s,s:s}", "id", sl->name, "state",
							acre_slice_state_name(sl->state)));
	json_object_set_new(j, "slice_list", slices);
	json_object_set_new(j, "network", pool_node_net_view(a->pool, n));
	json_t *drain = a->opt.apps ? apps_node_drain_json(a->opt.apps, n->id) : NULL;
	json_object_set_new(j, "draining", json_boolean(drain != NULL));
	json_object_set_new(j, "drain", drain ? drain : json_null());
	api_reply_json(a, req, 200, j);
}

API_HANDLER(api_pool_show)
{
	(void)p;
	(void)q;
	api_reply_json(a, req, 200, pool_summary_json(a->pool));
}

API_HANDLER(api_network_show)
{
	(void)p;
	(void)q;
	api_reply_json(a, req, 200, pool_network_json(a->pool));
}

/* DELETE /v1/nodes/{id}[?force=1]: a node that left for good, and its subnet with it. */
API_HANDLER(api_node_delete)
{
	const char *id = api_param(p, "id");
	struct pool_node *n = pool_node_find(a->pool, id);
	struct acre_error err = {0};
	if (!n) {
		acre_error_set(&err, ENOENT, "id", "no node %s in the pool", id);
		api_reply_error(a, req, 404, &err);
		return;
	}
	const char *force = api_query(q, "force");
	bool forced = force && (!strcmp(force, "1") || !strcmp(force, "true"));
	if (pool_node_remove(a->pool, n, forced, &err) < 0) {
		api_reply_error(a, req, api_status_for(err.code), &err);
		return;
	}
	api_defer_json(a, req, 200, json_pack("{s:s,s:b}", "id", id, "removed", 1));
}

/* POST /v1/nodes/{id}/cordon and /uncordon: no new placement there, or again. */
static void cordon(struct api *a, struct evhttp_request *req, const struct api_params *p, bool on)
{
	const char *id = api_param(p, "id");
	struct pool_node *n = pool_node_find(a->pool, id);
	if (!n) {
		struct acre_error err = {0};
		acre_error_set(&err, ENOENT, "id", "no node %s in the pool", id);
		api_reply_error(a, req, 404, &err);
		return;
	}
	pool_node_cordon(a->pool, n, on);
	api_defer_json(a, req, 200, pool_node_json(n));
}

API_HANDLER(api_node_cordon)
{
	(void)q;
	cordon(a, req, p, true);
}

API_HANDLER(api_node_uncordon)
{
	(void)q;
	cordon(a, req, p, false);
}
