/*
 * Slices onto nodes: ask the scheduler, reserve the room, queue the
 * assignment for after the commit; or keep the slice pending, with the
 * reason, in a queue that is tried again whenever room appears (a slice
 * ends, a node joins or comes back).
 */
#include "controller/ctl.h"

/* Pending slices tried per pass: a long queue must not stall the loop. */
#define RETRY_BUDGET 2000

void pending_add(struct ctl *c, struct ctl_slice *sl)
{
	if (sl->pending_prev || c->pending_head == sl)
		return;
	sl->pending_next = NULL;
	sl->pending_prev = c->pending_tail;
	if (c->pending_tail)
		c->pending_tail->pending_next = sl;
	else
		c->pending_head = sl;
	c->pending_tail = sl;
	c->npending++;
}

void pending_remove(struct ctl *c, struct ctl_slice *sl)
{
	if (!sl->pending_prev && c->pending_head != sl)
		return;
	if (sl->pending_prev)
		sl->pending_prev->pending_next = sl->pending_next;
	else
		c->pending_head = sl->pending_next;
	if (sl->pending_next)
		sl->pending_next->pending_prev = sl->pending_prev;
	else
		c->pending_tail = sl->pending_prev;
	sl->pending_prev = sl->pending_next = NULL;
	c->npending--;
}

void place_assign(struct ctl *c, struct ctl_slice *sl, struct ctl_node *n, const char *spec)
{
	struct outbound *o = calloc(1, sizeof(*o));
	char *text = spec ? strdup(spec) : NULL;
	pending_remove(c, sl);
	node_attach(n, sl);
	sl->assigned = false;
	sl->placed_ns = acre_monotonic_ns();
	slice_set_state(c, sl, ACRE_SLICE_STARTING, NULL); /* reserves */
	c->m.placements++;
	if (!o) {
		free(text);
		return; /* re-sent when the node next reconciles */
	}
	o->op = OUT_ASSIGN;
	o->node = n;
	o->slice_id = sl->id;
	o->spec = text; /* NULL: read from the store when sent */
	snprintf(o->name, sizeof(o->name), "%s", sl->name);
	ctl_queue_outbound(c, o);
}

int place_slice(struct ctl *c, struct ctl_slice *sl, const char *spec, bool check_capacity,
		struct acre_error *err)
{
	struct sched_request r = {
		.cpus = sl->cpus,
		.mem = sl->mem,
		.placement = sl->placement,
		.group = sl->group ? sl->group : "",
		.check_capacity = check_capacity,
	};
	struct sched_node *sn;
	struct acre_error e = {0};
	int rc = sched_place(c->sched, &r, &sn, &e);
	if (rc == -E2BIG) {
		if (err)
			*err = e;
		return rc;
	}
	if (rc < 0) {
		c->m.placement_pending++;
		slice_set_state(c, sl, ACRE_SLICE_PENDING, e.message);
		pending_add(c, sl);
		return 0;
	}
	place_assign(c, sl, (struct ctl_node *)sn, spec); /* sn is the first member */
	return 0;
}

void place_retry_pending(struct ctl *c)
{
	c->retry_pending = false;
	unsigned budget = RETRY_BUDGET, placed = 0;
	struct ctl_slice *sl = c->pending_head;
	for (; sl && budget; budget--) {
		struct ctl_slice *next = sl->pending_next;
		if (sl->desired == DESIRED_RUN && place_slice(c, sl, NULL, false, NULL) == 0 &&
		    sl->node)
			placed++;
		sl = next;
	}
	/* More than one pass's worth, and room was found: carry on next pass. */
	if (sl && placed)
		c->retry_pending = true;
}
