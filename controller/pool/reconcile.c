/*
 * Reconciliation when a node (re)connects: its own list of the slices the
 * pool gave it, against ours, both ways.
 *
 *  - a slice the node has and we still want there: its state is taken
 *    from the node (and killed if we asked it stopped meanwhile);
 *  - a slice the node has that we no longer want there (removed, lost and
 *    replaced elsewhere, unknown to us): removed on the node;
 *  - a slice we placed there that the node no longer has: lost (and
 *    replaced if its restart policy says so) — unless the node never
 *    accepted it, in which case it is simply assigned again;
 *  - a slice that was lost from this node and is still waiting for room
 *    elsewhere, or was lost and waits out partitions where it is (label
 *    acre.on-partition=wait: an app's instance with volumes): taken back
 *    where it still runs, never killed for re-registering.  Other lost
 *    slices are removed there: the pool let them go.
 *
 * The node sends its resent updates before this list, so every change it
 * reported is applied first; the list then reflects the present.
 */
#include "internal.h"

static void remove_on_node(struct pool *p, struct pool_node *n, const char *name, const char *why)
{
	acre_log(ACRE_LOG_INFO, "node=%s slice=%s event=reconcile action=remove reason=\"%s\"",
		 n->id, name, why);
	pool_outbound_queue(p, POOL_OP_REMOVE, n, name, 0, NULL, 0);
}

/* A slice that waits out a partition where it is (an app's, on_partition wait). */
static bool waits_out(const struct pool_slice *sl)
{
	const char *policy = pool_slice_label(sl, ACRE_LABEL_ON_PARTITION);
	return policy && !strcmp(policy, "wait");
}

static void reconcile_entry(struct pool *p, struct pool_node *n, const struct pool_report *r)
{
	struct pool_slice *sl = pool_slice_find(p, r->slice);
	if (sl && sl->node == n) {
		sl->seen_gen = n->sync_gen;
		if (sl->desired == POOL_DESIRED_REMOVE) {
			pool_slice_request_remove(p, sl);
			return;
		}
		pool_slice_apply_report(p, sl, r);
		if (!sl->removed && sl->desired == POOL_DESIRED_STOP && pool_slice_is_active(sl))
			pool_slice_request_kill(p, sl, 0);
		return;
	}
	bool still_running = r->state == ACRE_SLICE_RUNNING || r->state == ACRE_SLICE_STARTING;
	if (sl && !sl->node && sl->last_node == n &&
	    (sl->state == ACRE_SLICE_PENDING || (sl->state == ACRE_SLICE_LOST && waits_out(sl))) &&
	    sl->desired == POOL_DESIRED_RUN && still_running) {
		/* Lost from here, not placed elsewhere, and here it still runs: take it back. */
		acre_log(ACRE_LOG_INFO, "node=%s slice=%s event=reconcile action=adopt", n->id,
			 sl->name);
		pool_pending_remove(p, sl);
		pool_node_attach(p, n, sl);
		sl->seen_gen = n->sync_gen;
		pool_slice_apply_report(p, sl, r);
		return;
	}
	const char *why = !sl				 ? "unknown to the pool"
			  : sl->node			 ? "placed on another node"
			  : sl->state == ACRE_SLICE_LOST ? "declared lost meanwhile"
							 : "replaced meanwhile";
	remove_on_node(p, n, r->slice, why);
}

/* What the pool placed on the node and the node did not list. */
static void reconcile_missing(struct pool *p, struct pool_node *n)
{
	struct pool_slice *sl, *next;
	ACRE_LIST_FOREACH_SAFE (node, sl, next, n->slices) {
		if (sl->seen_gen == n->sync_gen)
			continue;
		if (!sl->assigned) {
			/* It never got there (we crashed, or the connection did): send it again. */
			acre_log(ACRE_LOG_INFO, "node=%s slice=%s event=reconcile action=assign",
				 n->id, sl->name);
			pool_outbound_queue(p, POOL_OP_ASSIGN, n, sl->name, sl->id, sl->spec, 0);
		} else if (sl->desired == POOL_DESIRED_REMOVE) {
			pool_slice_delete(p, sl);
		} else {
			char why[128];
			snprintf(why, sizeof(why), "not found on node %s when it reconnected",
				 n->id);
			pool_slice_lost(p, sl, why);
		}
	}
}

void pool_reconcile_node(struct pool *p, struct pool_node *n, const struct pool_report *slices,
			 size_t count)
{
	n->sync_gen++;
	for (size_t i = 0; i < count; i++)
		if (slices[i].managed)
			reconcile_entry(p, n, &slices[i]);
	reconcile_missing(p, n);
}
