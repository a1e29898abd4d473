/*
 * Slices onto nodes: ask the scheduler, reserve the room, queue the
 * assignment for after the commit; or keep the slice pending, with the
 * reason, in a queue that is tried again whenever room appears (a slice
 * ends, a node joins or comes back).  Also the queue of messages for
 * nodes that the pass decided, sent by the node port once it is committed.
 */
#include "internal.h"

/* Pending slices tried per pass: a long queue must not stall the loop. */
#define RETRY_BUDGET 2000

static bool is_pending(struct pool *p, const struct pool_slice *sl)
{
	return sl->pending_prev || p->pending_head == sl;
}

void pool_pending_add(struct pool *p, struct pool_slice *sl)
{
	if (is_pending(p, sl))
		return;
	ACRE_QUEUE_APPEND(pending, p->pending_head, p->pending_tail, sl);
	p->npending++;
}

void pool_pending_remove(struct pool *p, struct pool_slice *sl)
{
	if (!is_pending(p, sl))
		return;
	ACRE_QUEUE_REMOVE(pending, p->pending_head, p->pending_tail, sl);
	p->npending--;
}

void pool_outbound_queue(struct pool *p, enum pool_op op, struct pool_node *n, const char *name,
			 int64_t slice_id, struct pool_spec_text *spec, int signal)
{
	struct pool_outbound *o = calloc(1, sizeof(*o));
	if (!o)
		return; /* the node reconciles when it is back */
	o->op = op;
	o->node = n;
	o->slice_id = slice_id;
	o->spec = pool_spec_text_ref(spec);
	o->signal = signal;
	snprintf(o->name, sizeof(o->name), "%s", name);
	ACRE_QUEUE_APPEND(out, p->out_head, p->out_tail, o);
}

struct pool_outbound *pool_outbound_take(struct pool *p)
{
	struct pool_outbound *o = p->out_head;
	p->out_head = p->out_tail = NULL;
	return o;
}

void pool_outbound_free(struct pool_outbound *o)
{
	if (!o)
		return;
	pool_spec_text_unref(o->spec);
	free(o);
}

bool pool_assign_current(struct pool *p, const struct pool_outbound *o)
{
	struct pool_slice *sl = pool_slice_find(p, o->name);
	return sl && sl->id == o->slice_id && sl->node == o->node && !sl->assigned;
}

int pool_outbound_spec(struct pool *p, struct pool_outbound *o, struct acre_error *err)
{
	if (o->spec)
		return 0;
	struct pool_slice *sl = pool_slice_find(p, o->name);
	if (!sl || sl->id != o->slice_id)
		return acre_error_set(err, ENOENT, NULL, "slice %s is gone", o->name);
	if (sl->spec && !sl->host_ports) {
		o->spec = pool_spec_text_ref(sl->spec);
		return 0;
	}
	if (sl->spec) {
		o->spec = pool_host_ports_resolve(p, sl, sl->spec->text, err);
		return o->spec ? 0 : -err->code;
	}
	if (!p->store)
		return acre_error_set(err, ENOENT, NULL, "slice %s: no spec", sl->name);
	_cleanup_free_ char *text = NULL, *placement = NULL;
	int rc = store_slice_spec(p->store, sl->id, &text, &placement, err);
	if (rc < 0)
		return rc;
	if (sl->host_ports) {
		o->spec = pool_host_ports_resolve(p, sl, text, err);
		return o->spec ? 0 : -err->code;
	}
	/* As the store holds it: it was this pool's encoding, and is sent without a parse. */
	if (!(o->spec = pool_spec_text_of(text)))
		return acre_error_set(err, ENOMEM, NULL, "slice %s: out of memory", sl->name);
	return 0;
}

int pool_place_assign(struct pool *p, struct pool_slice *sl, struct pool_node *n, bool announce)
{
	/* Its host ports from n's range, before it joins n's slices (the others' are taken). */
	int rc = pool_host_ports_pick(n, sl);
	if (rc < 0)
		return rc;
	pool_pending_remove(p, sl);
	pool_node_attach(p, n, sl);
	sl->assigned = false;
	sl->placed_ns = acre_monotonic_ns();
	/* Reserves its room. */
	if (announce)
		pool_slice_set_state(p, sl, ACRE_SLICE_STARTING, NULL);
	else
		pool_slice_change_state(p, sl, ACRE_SLICE_STARTING, NULL);
	p->stats.placements++;
	/*
	 * The spec goes along while the slice is new; else it is read from the store when sent.
	 * One with host ports is resolved when sent, from either.
	 */
	pool_outbound_queue(p, POOL_OP_ASSIGN, n, sl->name, sl->id,
			    sl->host_ports ? NULL : sl->spec, 0);
	return 0;
}

void pool_place_slice(struct pool *p, struct pool_slice *sl)
{
	struct sched_request r = {
		.cpus = sl->cpus,
		.mem = sl->mem,
		.net = sl->net_rate,
		.ports = sl->host_ports ? sl->host_ports->n : 0,
		.placement = sl->placement,
		.group = sl->group ? sl->group : "",
	};
	struct sched_node *sn;
	struct acre_error e = {0};
	if (pool_binaries_awaited(p, sl->placement, e.message, sizeof(e.message)) ||
	    sched_place(p->sched, &r, &sn, &e) < 0 ||
	    pool_place_assign(p, sl, (struct pool_node *)sn, true) < 0) { /* sn: first member */
		if (!e.message[0])
			snprintf(e.message, sizeof(e.message),
				 "no free port in the node's "
				 "--port-range");
		p->stats.placement_pending++;
		pool_slice_set_state(p, sl, ACRE_SLICE_PENDING, e.message);
		pool_pending_add(p, sl);
	}
}

void pool_place_retry_pending(struct pool *p)
{
	p->retry_pending = false;
	unsigned budget = RETRY_BUDGET, placed = 0;
	struct pool_slice *sl = p->pending_head;
	for (; sl && budget; budget--) {
		struct pool_slice *next = sl->pending_next;
		if (sl->desired == POOL_DESIRED_RUN) {
			pool_place_slice(p, sl);
			placed += sl->node != NULL;
		}
		sl = next;
	}
	/* More than one pass's worth, and room was found: carry on next pass. */
	if (sl && placed)
		p->retry_pending = true;
}
