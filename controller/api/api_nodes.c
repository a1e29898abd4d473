/*
 * /v1/nodes and /v1/pool: the nodes in id order, one node, and the pool at
 * a glance — capacity, use and room of the ready nodes, in all and per
 * attribute value, and how many slices are in each state.
 */
#include "api.h"

void api_nodes_list(struct ctl *c, struct evhttp_request *req)
{
	json_t *list = json_array();
	_cleanup_free_ const char **ids = acre_map_sorted_keys(c->nodes);
	for (size_t i = 0; ids && ids[i]; i++)
		json_array_append_new(list, view_node(node_find(c, ids[i])));
	api_reply_json(c, req, 200, json_pack("{s:o}", "nodes", list));
}

void api_node_show(struct ctl *c, struct evhttp_request *req, const char *id)
{
	struct ctl_node *n = node_find(c, id);
	if (!n) {
		struct acre_error err;
		acre_error_set(&err, ENOENT, "id", "no node %s in the pool", id);
		api_reply_error(c, req, 404, &err);
		return;
	}
	json_t *j = view_node(n);
	json_t *slices = json_array();
	for (const struct ctl_slice *sl = n->slices; sl; sl = sl->node_next)
		json_array_append_new(slices, json_pack("{s:s,s:s}", "id", sl->name, "state",
							acre_slice_state_name(sl->state)));
	json_object_set_new(j, "slice_list", slices);
	api_reply_json(c, req, 200, j);
}

void api_pool_show(struct ctl *c, struct evhttp_request *req)
{
	api_reply_json(c, req, 200, view_pool(c));
}
