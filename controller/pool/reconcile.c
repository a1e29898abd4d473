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
 *    elsewhere: taken back where it still runs.
 *
 * The node sends its resent updates before this list, so every change it
 * reported is applied first; the list then reflects the present.
 */
#include "controller/ctl.h"

struct reported {
	const char *name, *state, *reason;
	json_int_t restarts;
	json_t *exit;
	int managed;
	enum acre_slice_state st;
};

static int parse_entry(json_t *e, size_t i, struct reported *r, struct acre_error *err)
{
	json_error_t jerr;
	*r = (struct reported){.reason = ""};
	if (json_unpack_ex(e, &jerr, 0, "{s:s,s:s,s?s,s?I,s?o,s?b}", "name", &r->name, "state",
			   &r->state, "reason", &r->reason, "restarts", &r->restarts, "exit",
			   &r->exit, "managed", &r->managed) < 0)
		return acre_error_set(err, EINVAL, "slices", "slices[%zu]: %s", i, jerr.text);
	if (!acre_slice_name_valid(r->name) || acre_slice_state_parse(r->state, &r->st) < 0 ||
	    r->restarts < 0)
		return acre_error_set(err, EINVAL, "slices", "slices[%zu]: invalid name or state",
				      i);
	return 0;
}

static void remove_on_node(struct ctl *c, struct ctl_node *n, const char *name, const char *why)
{
	struct outbound *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	acre_log(ACRE_LOG_INFO, "node=%s slice=%s event=reconcile action=remove reason=\"%s\"",
		 n->id, name, why);
	o->op = OUT_REMOVE;
	o->node = n;
	snprintf(o->name, sizeof(o->name), "%s", name);
	ctl_queue_outbound(c, o);
}

static void report(struct ctl *c, struct ctl_slice *sl, const struct reported *r)
{
	_cleanup_free_ char *exit = json_is_object(r->exit) ? json_dumps(r->exit, JSON_COMPACT)
							     : NULL;
	slice_apply_report(c, sl, r->st, r->reason, (unsigned)r->restarts, exit);
}

static void reconcile_entry(struct ctl *c, struct ctl_node *n, const struct reported *r)
{
	struct ctl_slice *sl = slice_find(c, r->name);
	if (sl && sl->node == n) {
		sl->seen_gen = n->sync_gen;
		if (sl->desired == DESIRED_REMOVE) {
			slice_request_remove(c, sl);
			return;
		}
		report(c, sl, r);
		if (!sl->deleted && sl->desired == DESIRED_STOP && slice_is_active(sl))
			slice_request_kill(c, sl, 0);
		return;
	}
	bool still_running = r->st == ACRE_SLICE_RUNNING || r->st == ACRE_SLICE_STARTING;
	if (sl && !sl->node && sl->last_node == n && sl->state == ACRE_SLICE_PENDING &&
	    sl->desired == DESIRED_RUN && still_running) {
		/* Lost from here, not placed elsewhere yet, and here it still runs: take it back. */
		acre_log(ACRE_LOG_INFO, "node=%s slice=%s event=reconcile action=adopt", n->id,
			 sl->name);
		pending_remove(c, sl);
		node_attach(n, sl);
		sl->seen_gen = n->sync_gen;
		report(c, sl, r);
		return;
	}
	const char *why = !sl		  ? "unknown to the pool"
			  : sl->node	  ? "placed on another node"
			  : sl->state == ACRE_SLICE_LOST ? "declared lost meanwhile"
							 : "replaced meanwhile";
	remove_on_node(c, n, r->name, why);
}

/* What we placed on the node and it did not list. */
static void reconcile_missing(struct ctl *c, struct ctl_node *n)
{
	for (struct ctl_slice *sl = n->slices, *next; sl; sl = next) {
		next = sl->node_next;
		if (sl->seen_gen == n->sync_gen)
			continue;
		if (!sl->assigned) {
			/* It never got there (we crashed, or the connection did): send it again. */
			acre_log(ACRE_LOG_INFO, "node=%s slice=%s event=reconcile action=assign",
				 n->id, sl->name);
			struct outbound *o = calloc(1, sizeof(*o));
			if (!o)
				continue;
			o->op = OUT_ASSIGN;
			o->node = n;
			o->slice_id = sl->id;
			snprintf(o->name, sizeof(o->name), "%s", sl->name);
			ctl_queue_outbound(c, o);
		} else if (sl->desired == DESIRED_REMOVE) {
			slice_delete(c, sl);
		} else {
			char why[128];
			snprintf(why, sizeof(why), "not found on node %s when it reconnected", n->id);
			slice_lost(c, sl, why);
		}
	}
}

int reconcile_node(struct ctl *c, struct ctl_node *n, json_t *slices, struct acre_error *err)
{
	if (!json_is_array(slices))
		return acre_error_set(err, EINVAL, "slices", "slices: must be an array");
	size_t i;
	json_t *e;
	struct reported r;
	json_array_foreach(slices, i, e) {
		if (parse_entry(e, i, &r, err) < 0)
			return -EINVAL;
	}
	n->sync_gen++;
	json_array_foreach(slices, i, e) {
		parse_entry(e, i, &r, err);
		if (r.managed)
			reconcile_entry(c, n, &r);
	}
	reconcile_missing(c, n);
	return 0;
}
