/*
 * A node's disk, as the pool sees it: the room its supervisor reports for
 * volumes (at registration, then in each heartbeat), and the removal of a
 * volume there.  A volume is the node's alone (STATE-DIR/volumes/NAME on
 * that host), so the pool keeps no row of it: removing one is a message to
 * the node, sent after the commit like a slice's removal, whose answer the
 * node port logs.
 */
#include "internal.h"

int pool_node_volume_remove(struct pool *p, struct pool_node *n, const char *volume,
			    struct acre_error *err)
{
	if (!volume || !acre_volume_name_valid(volume))
		return acre_error_set(err, EINVAL, "volume",
				      "volume %.64s: 1 to %d letters, digits, '-', '_' or '.', "
				      "beginning with a letter or digit",
				      volume ? volume : "(none)", ACRE_VOLUME_NAME_MAX);
	/* Not queued for later: the node may come back with the volume in use, or never. */
	if (!n->conn || n->removed)
		return acre_error_set(err, ENOTCONN, "node",
				      "node %s is not connected: its volume %s cannot be removed "
				      "now (try again once the node is back)",
				      n->id, volume);
	pool_outbound_queue(p, POOL_OP_VOLUME_REMOVE, n, volume, 0, NULL, 0);
	acre_log(ACRE_LOG_INFO, "node=%s volume=%s event=volume_remove_queued", n->id, volume);
	return 0;
}

static void most_free(struct pool_node *n, void *ud)
{
	uint64_t *best = ud;
	if (n->state == POOL_NODE_READY && !n->removed && n->disk_free > *best)
		*best = n->disk_free;
}

uint64_t pool_max_disk_free(struct pool *p)
{
	uint64_t best = 0;
	pool_node_foreach(p, most_free, &best);
	return best;
}
