/*
 * The pool's slices in the controller: the table by name, state changes
 * (each marked for the next commit and published as an event), the room a
 * slice takes on its node, and what happens when a node loses one — lost
 * for good, or pending again when its restart policy asks for a new run.
 */
#include "controller/ctl.h"

#include <fcntl.h>
#include <sys/random.h>

static const char *const desired_names[] = {"run", "stop", "remove"};

const char *desired_name(enum desired d)
{
	return (size_t)d < ACRE_ARRAY_SIZE(desired_names) ? desired_names[d] : "?";
}

int desired_parse(const char *s, enum desired *out)
{
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(desired_names); i++) {
		if (strcmp(s, desired_names[i]) == 0) {
			*out = (enum desired)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* xorshift64*, seeded once from the kernel: names for a million slices without a syscall each. */
void ctl_name_generate(struct ctl *c, char *buf, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	if (!c->rng && (getrandom(&c->rng, sizeof(c->rng), 0) != sizeof(c->rng) || !c->rng))
		c->rng = acre_monotonic_ns() | 1;
	char suffix[11];
	do {
		for (size_t i = 0; i < 10; i++) {
			c->rng ^= c->rng >> 12;
			c->rng ^= c->rng << 25;
			c->rng ^= c->rng >> 27;
			suffix[i] = alphabet[(c->rng * 2685821657736338717ULL >> 33) % 36];
		}
		suffix[10] = '\0';
		snprintf(buf, len, "slice-%s", suffix);
	} while (slice_find(c, buf));
}

struct ctl_slice *slice_find(struct ctl *c, const char *name)
{
	return slice_table_get(&c->slices, name);
}

struct ctl_slice *slice_new(struct ctl *c, const char *name)
{
	struct ctl_slice *sl = slice_table_alloc(&c->slices);
	if (!sl)
		return NULL;
	snprintf(sl->name, sizeof(sl->name), "%s", name);
	if (slice_table_put(&c->slices, sl) < 0) {
		slice_table_release(&c->slices, sl);
		return NULL;
	}
	sl->id = ++c->next_slice_id;
	sl->state = ACRE_SLICE_PENDING;
	sl->created_at = sl->updated_at = acre_now_ms();
	sl->is_new = true;
	c->by_state[ACRE_SLICE_PENDING]++;
	slice_mark_dirty(c, sl);
	return sl;
}

void slice_free(struct ctl *c, struct ctl_slice *sl)
{
	if (!sl)
		return;
	free(sl->reason);
	free(sl->exit);
	free(sl->spread);
	free(sl->group);
	free(sl->placement);
	free(sl->spec_text);
	slice_table_release(&c->slices, sl);
}

void slice_mark_dirty(struct ctl *c, struct ctl_slice *sl)
{
	sl->updated_at = acre_now_ms();
	if (sl->dirty)
		return;
	sl->dirty = true;
	sl->dirty_next = c->dirty_slices;
	c->dirty_slices = sl;
}

void slice_set_reason(struct ctl_slice *sl, const char *reason)
{
	if (!reason || !*reason) {
		free(sl->reason);
		sl->reason = NULL;
		return;
	}
	if (sl->reason && strcmp(sl->reason, reason) == 0)
		return;
	char *r = strdup(reason);
	if (!r)
		return;
	free(sl->reason);
	sl->reason = r;
}

bool slice_is_active(const struct ctl_slice *sl)
{
	return sl->state == ACRE_SLICE_STARTING || sl->state == ACRE_SLICE_RUNNING;
}

bool slice_holds_resources(const struct ctl_slice *sl)
{
	if (!sl->node)
		return false;
	switch (sl->state) {
	case ACRE_SLICE_PENDING:
	case ACRE_SLICE_STARTING:
	case ACRE_SLICE_RUNNING:
		return true;
	case ACRE_SLICE_EXITED:
		return sl->restart == ACRE_RESTART_ALWAYS && sl->desired == DESIRED_RUN;
	case ACRE_SLICE_FAILED:
		/* The supervisor runs it again after its back-off. */
		if (sl->desired != DESIRED_RUN)
			return false;
		if (sl->restart == ACRE_RESTART_ALWAYS)
			return true;
		return sl->restart == ACRE_RESTART_ON_FAILURE &&
		       (sl->restart_max == 0 || sl->restarts + sl->replacements < sl->restart_max);
	default:
		return false;
	}
}

void slice_reserve(struct ctl *c, struct ctl_slice *sl)
{
	struct ctl_node *n = sl->node;
	if (sl->reserved || !n)
		return;
	sched_reserve(c->sched, &n->sn, sl->cpus, sl->mem, sl->strategy);
	n->reserved_cpus += sl->cpus;
	n->reserved_mem += sl->mem;
	if (sl->spread)
		sched_spread_count(c->sched, sl->group, sl->spread, &n->sn, +1);
	sl->reserved = true;
}

void slice_unreserve(struct ctl *c, struct ctl_slice *sl)
{
	struct ctl_node *n = sl->node;
	if (!sl->reserved || !n)
		return;
	sched_release(c->sched, &n->sn, sl->cpus, sl->mem);
	n->reserved_cpus -= sl->cpus;
	n->reserved_mem -= sl->mem;
	if (sl->spread)
		sched_spread_count(c->sched, sl->group, sl->spread, &n->sn, -1);
	sl->reserved = false;
	c->retry_pending = true; /* room appeared */
}

void slice_set_state(struct ctl *c, struct ctl_slice *sl, enum acre_slice_state st,
		     const char *reason)
{
	bool changed = sl->state != st;
	bool reason_changed = (reason && *reason) ? !sl->reason || strcmp(sl->reason, reason)
						  : sl->reason != NULL;
	if (!changed && !reason_changed)
		return;
	if (changed) {
		c->by_state[sl->state]--;
		c->by_state[st]++;
		if (st == ACRE_SLICE_RUNNING && sl->placed_ns) {
			metrics_observe_run_latency(c, (double)(acre_monotonic_ns() - sl->placed_ns) /
							       1e9);
			sl->placed_ns = 0;
		}
	}
	sl->state = st;
	slice_set_reason(sl, reason);
	slice_mark_dirty(c, sl);
	/* Room follows the state: kept while it runs or will run again, given back otherwise. */
	if (slice_holds_resources(sl))
		slice_reserve(c, sl);
	else
		slice_unreserve(c, sl);
	events_slice(c, sl, "state");
}

void slice_apply_report(struct ctl *c, struct ctl_slice *sl, enum acre_slice_state st,
			const char *reason, unsigned restarts, const char *exit_json)
{
	sl->assigned = true; /* written with the change below, if any; see assign_reply */
	if (restarts != sl->restarts) {
		sl->restarts = restarts;
		slice_mark_dirty(c, sl);
	}
	if (exit_json && (!sl->exit || strcmp(sl->exit, exit_json))) {
		char *e = strdup(exit_json);
		if (e) {
			free(sl->exit);
			sl->exit = e;
			slice_mark_dirty(c, sl);
		}
	}
	if (st == ACRE_SLICE_DESTROYED) {
		/* Removed on the node: asked for by us, or by someone on the node. */
		slice_delete(c, sl);
		return;
	}
	slice_set_state(c, sl, st, reason);
}

static bool replaced_by_policy(const struct ctl_slice *sl)
{
	if (sl->desired != DESIRED_RUN)
		return false;
	switch (sl->restart) {
	case ACRE_RESTART_ALWAYS:
		return true;
	case ACRE_RESTART_ON_FAILURE:
		/* Losing its node is a failure, counted against on-failure:N like any other. */
		return sl->restart_max == 0 || sl->restarts + sl->replacements < sl->restart_max;
	default:
		return false;
	}
}

void slice_lost(struct ctl *c, struct ctl_slice *sl, const char *why)
{
	slice_unreserve(c, sl);
	node_detach(sl);
	c->m.slices_lost++;
	acre_log(ACRE_LOG_WARN, "slice=%s event=lost reason=\"%s\"", sl->name, why);
	if (sl->desired == DESIRED_REMOVE) {
		slice_delete(c, sl);
		return;
	}
	if (!replaced_by_policy(sl)) {
		slice_set_state(c, sl, ACRE_SLICE_LOST, why);
		return;
	}
	char reason[300];
	snprintf(reason, sizeof(reason), "replacing: %s", why);
	sl->replacements++;
	sl->restarts = 0; /* the new node counts its own */
	sl->assigned = false;
	c->m.slices_replaced++;
	slice_set_state(c, sl, ACRE_SLICE_PENDING, reason);
	pending_add(c, sl);
	c->retry_pending = true;
}

void slice_delete(struct ctl *c, struct ctl_slice *sl)
{
	if (sl->deleted)
		return;
	slice_unreserve(c, sl);
	node_detach(sl);
	pending_remove(c, sl);
	slice_table_remove(&c->slices, sl);
	c->by_state[sl->state]--;
	sl->deleted = true;
	c->m.slices_removed++;
	acre_log(ACRE_LOG_INFO, "slice=%s event=removed", sl->name);
	events_slice(c, sl, "removed");
	/* The row goes at the next commit; the memory after it. */
	slice_mark_dirty(c, sl);
}

static void queue(struct ctl *c, struct ctl_slice *sl, enum outbound_op op, int signal)
{
	struct outbound *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	o->op = op;
	o->node = sl->node;
	o->slice_id = sl->id;
	o->signal = signal;
	snprintf(o->name, sizeof(o->name), "%s", sl->name);
	ctl_queue_outbound(c, o);
}

void slice_request_kill(struct ctl *c, struct ctl_slice *sl, int signal)
{
	if (signal == 0 && sl->desired == DESIRED_RUN) {
		sl->desired = DESIRED_STOP;
		slice_mark_dirty(c, sl);
	}
	if (sl->node)
		queue(c, sl, OUT_KILL, signal);
}

void slice_request_remove(struct ctl *c, struct ctl_slice *sl)
{
	sl->desired = DESIRED_REMOVE;
	slice_mark_dirty(c, sl);
	if (sl->node)
		queue(c, sl, OUT_REMOVE, 0);
}
