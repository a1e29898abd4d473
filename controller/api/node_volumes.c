/*
 * DELETE /v1/nodes/{id}/volumes/{name}: an admin's removal of a persistent
 * volume on one node (volumes are the node's: STATE-DIR/volumes/NAME).  The
 * pool sends volume.remove after the commit and logs the node's answer;
 * 202 says it was sent, not that it went: the node refuses a volume a
 * slice still names.  503 while the node is not connected (ask again later).
 */
#include "internal.h"

API_HANDLER(api_node_volume_delete)
{
	(void)q;
	const char *id = api_param(p, "id"), *volume = api_param(p, "name");
	struct pool_node *n = pool_node_find(a->pool, id);
	struct acre_error err = {0};
	if (!n) {
		acre_error_set(&err, ENOENT, "id", "no node %s in the pool", id);
		api_reply_error(a, req, 404, &err);
		return;
	}
	if (pool_node_volume_remove(a->pool, n, volume, &err) < 0) {
		api_reply_error(a, req, api_status_for(err.code), &err);
		return;
	}
	api_defer_json(a, req, 202,
		       json_pack("{s:s,s:s,s:b}", "node", id, "volume", volume, "sent", 1));
}
