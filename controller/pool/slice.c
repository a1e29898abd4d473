/*
 * The life of the pool's slices: the table by name, state changes (each
 * published at once), the room a slice takes on its node, and what happens
 * when a node loses one — lost for good, or pending again when its restart
 * policy asks for a new run.
 */
#include "internal.h"
#include "net.h"

#include <sys/random.h>

static const char *const desired_names[] = {"run", "stop", "remove"};

const char *pool_desired_name(enum pool_desired d)
{
	return (size_t)d < ACRE_ARRAY_SIZE(desired_names) ? desired_names[d] : "?";
}

int pool_desired_parse(const char *s, enum pool_desired *out)
{
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(desired_names); i++) {
		if (strcmp(s, desired_names[i]) == 0) {
			*out = (enum pool_desired)i;
			return 0;
		}
	}
	return -EINVAL;
}

void pool_slice_restart_text(const struct pool_slice *sl, char *buf, size_t len)
{
	if (sl->restart == ACRE_RESTART_ON_FAILURE && sl->restart_max)
		snprintf(buf, len, "on-failure:%u", sl->restart_max);
	else
		snprintf(buf, len, "%s", acre_restart_name(sl->restart));
}

int pool_slice_restart_parse(const char *s, enum acre_restart *r, unsigned *max)
{
	*max = 0;
	if (!s || !strcmp(s, "never")) {
		*r = ACRE_RESTART_NEVER;
	} else if (!strcmp(s, "always")) {
		*r = ACRE_RESTART_ALWAYS;
	} else if (!strncmp(s, "on-failure", 10)) {
		*r = ACRE_RESTART_ON_FAILURE;
		if (s[10] == ':')
			*max = (unsigned)strtoul(s + 11, NULL, 10);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* xorshift64*, seeded once from the kernel: names for a million slices without a syscall each. */
void pool_slice_name_generate(struct pool *p, char *buf, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	if (!p->rng && (getrandom(&p->rng, sizeof(p->rng), 0) != sizeof(p->rng) || !p->rng))
		p->rng = acre_monotonic_ns() | 1;
	char suffix[11];
	do {
		for (size_t i = 0; i < 10; i++) {
			p->rng ^= p->rng >> 12;
			p->rng ^= p->rng << 25;
			p->rng ^= p->rng >> 27;
			suffix[i] = alphabet[(p->rng * 2685821657736338717ULL >> 33) % 36];
		}
		suffix[10] = '\0';
		snprintf(buf, len, "slice-%s", suffix);
	} while (pool_slice_find(p, buf));
}

struct pool_slice *pool_slice_find(struct pool *p, const char *name)
{
	return acre_map_get(p->slices, name);
}

/* Findable by its name (which must be new to the pool). */
int pool_slice_index(struct pool *p, struct pool_slice *sl)
{
	return acre_map_add(p->slices, sl->name, sl);
}

void pool_slice_unindex(struct pool *p, struct pool_slice *sl)
{
	if (acre_map_get(p->slices, sl->name) == sl)
		acre_map_remove(p->slices, sl->name);
}

struct pool_slice *pool_slice_new(struct pool *p, const char *name)
{
	struct pool_slice *sl = pool_slab_alloc(&p->slabs);
	if (!sl)
		return NULL;
	snprintf(sl->name, sizeof(sl->name), "%s", name);
	if (pool_slice_index(p, sl) < 0) {
		pool_slab_release(&p->slabs, sl);
		return NULL;
	}
	sl->id = ++p->next_slice_id;
	sl->state = ACRE_SLICE_PENDING;
	sl->created_at = sl->updated_at = acre_now_ms();
	p->by_state[ACRE_SLICE_PENDING]++;
	return sl;
}

void pool_slice_free(struct pool *p, struct pool_slice *sl)
{
	if (!sl)
		return;
	free(sl->reason);
	free(sl->address);
	json_decref(sl->exit);
	free(sl->spread);
	free(sl->group);
	free(sl->placement);
	free(sl->host_ports);
	pool_spec_text_unref(sl->spec);
	pool_labels_detach(p, sl);
	pool_slab_release(&p->slabs, sl);
}

void pool_slice_set_reason(struct pool_slice *sl, const char *reason)
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

bool pool_slice_is_active(const struct pool_slice *sl)
{
	return sl->state == ACRE_SLICE_STARTING || sl->state == ACRE_SLICE_RUNNING;
}

bool pool_slice_holds_resources(const struct pool_slice *sl)
{
	if (!sl->node)
		return false;
	switch (sl->state) {
	case ACRE_SLICE_PENDING:
	case ACRE_SLICE_STARTING:
	case ACRE_SLICE_RUNNING:
		return true;
	case ACRE_SLICE_EXITED:
		return sl->restart == ACRE_RESTART_ALWAYS && sl->desired == POOL_DESIRED_RUN;
	case ACRE_SLICE_FAILED:
		/* The supervisor runs it again after its back-off. */
		if (sl->desired != POOL_DESIRED_RUN)
			return false;
		if (sl->restart == ACRE_RESTART_ALWAYS)
			return true;
		return sl->restart == ACRE_RESTART_ON_FAILURE &&
		       (sl->restart_max == 0 || sl->restarts + sl->replacements < sl->restart_max);
	default:
		return false;
	}
}

void pool_slice_reserve(struct pool *p, struct pool_slice *sl)
{
	struct pool_node *n = sl->node;
	if (sl->reserved || !n)
		return;
	sched_reserve(p->sched, &n->sn, sl->cpus, sl->mem, sl->strategy);
	n->reserved_cpus += sl->cpus;
	n->reserved_mem += sl->mem;
	/* Bandwidth is checked at fit time, not bucketed: counting it is all. */
	n->sn.used_net += sl->net_rate;
	n->reserved_net += sl->net_rate;
	if (sl->spread)
		sched_spread_count(p->sched, sl->group, sl->spread, &n->sn, +1);
	sl->reserved = true;
}

void pool_slice_unreserve(struct pool *p, struct pool_slice *sl)
{
	struct pool_node *n = sl->node;
	if (!sl->reserved || !n)
		return;
	sched_release(p->sched, &n->sn, sl->cpus, sl->mem);
	n->reserved_cpus -= sl->cpus;
	n->reserved_mem -= sl->mem;
	n->sn.used_net -= sl->net_rate;
	n->reserved_net -= sl->net_rate;
	if (sl->spread)
		sched_spread_count(p->sched, sl->group, sl->spread, &n->sn, -1);
	sl->reserved = false;
	p->retry_pending = true; /* room appeared */
}

bool pool_slice_change_state(struct pool *p, struct pool_slice *sl, enum acre_slice_state st,
			     const char *reason)
{
	bool changed = sl->state != st;
	bool reason_changed = (reason && *reason) ? !sl->reason || strcmp(sl->reason, reason)
						  : sl->reason != NULL;
	if (!changed && !reason_changed)
		return false;
	if (changed) {
		p->by_state[sl->state]--;
		p->by_state[st]++;
	}
	sl->state = st;
	pool_slice_set_reason(sl, reason);
	sl->updated_at = acre_now_ms();
	/*
	 * Room follows the state: kept while it runs or will run again, given
	 * back otherwise, its host ports too (an app's instance that ended is
	 * kept for its log while it waits to start again: its ports are free
	 * meanwhile, and asked for first when it starts).
	 */
	if (pool_slice_holds_resources(sl)) {
		pool_slice_reserve(p, sl);
		if (sl->node && sl->host_ports && sl->ports_released) {
			pool_host_ports_hold(sl->node, sl, +1);
			sl->ports_released = false;
		}
	} else {
		pool_slice_unreserve(p, sl);
		if (sl->node && sl->host_ports && !sl->ports_released) {
			pool_host_ports_hold(sl->node, sl, -1);
			sl->ports_released = true;
			p->retry_pending = true;
		}
	}
	pool_net_slice_changed(p, sl);
	return true;
}

void pool_slice_set_state(struct pool *p, struct pool_slice *sl, enum acre_slice_state st,
			  const char *reason)
{
	if (!pool_slice_change_state(p, sl, st, reason))
		return;
	pool_publish_slice(p, sl, "state");
	/* Its first run has been seen (metrics measure the time to it). */
	if (st == ACRE_SLICE_RUNNING)
		sl->placed_ns = 0;
}

bool pool_slice_serving(const struct pool_slice *sl)
{
	return acre_health_serving((enum acre_health)sl->health, !sl->unready);
}

void pool_slice_set_health(struct pool *p, struct pool_slice *sl, enum acre_health health,
			   bool ready, int64_t at)
{
	bool changed = !sl->checked || sl->health != health || sl->unready == ready;
	sl->checked = true;
	if (!changed)
		return;
	sl->health = (uint8_t)health;
	sl->unready = !ready;
	sl->health_at = at;
	acre_log(ACRE_LOG_INFO, "slice=%s event=health health=%s ready=%s", sl->name,
		 acre_health_name(health), ready ? "true" : "false");
	/* Out of (or back in) its names and VIPs, sent after this pass. */
	pool_net_slice_changed(p, sl);
	pool_publish_slice(p, sl, "health");
}

void pool_slice_apply_report(struct pool *p, struct pool_slice *sl, const struct pool_report *r)
{
	if (r->checked)
		pool_slice_set_health(p, sl, r->health, r->ready, acre_now_ms());
	sl->assigned = true; /* written with the change below, if any; see pool_assign_result */
	bool touched = false;
	if (r->restarts != sl->restarts) {
		sl->restarts = r->restarts;
		touched = true;
	}
	if (r->exit && (!sl->exit || !json_equal(sl->exit, r->exit))) {
		json_decref(sl->exit);
		sl->exit = json_incref(r->exit);
		touched = true;
	}
	bool runs = r->state == ACRE_SLICE_RUNNING || r->state == ACRE_SLICE_STARTING;
	if (r->address && runs && (!sl->address || strcmp(sl->address, r->address))) {
		pool_net_slice_address(p, sl, r->address);
		touched = true;
	}
	if (touched)
		pool_slice_touch(p, sl);
	if (r->state == ACRE_SLICE_DESTROYED) {
		/* Removed on the node: asked for by the pool, or by someone on the node. */
		pool_slice_delete(p, sl);
		return;
	}
	pool_slice_set_state(p, sl, r->state, r->reason);
}

static bool replaced_by_policy(const struct pool_slice *sl)
{
	if (sl->desired != POOL_DESIRED_RUN)
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

void pool_slice_lost(struct pool *p, struct pool_slice *sl, const char *why)
{
	pool_slice_unreserve(p, sl);
	pool_node_detach(p, sl);
	p->stats.slices_lost++;
	acre_log(ACRE_LOG_WARN, "slice=%s event=lost reason=\"%s\"", sl->name, why);
	if (sl->desired == POOL_DESIRED_REMOVE) {
		pool_slice_delete(p, sl);
		return;
	}
	if (!replaced_by_policy(sl)) {
		pool_slice_set_state(p, sl, ACRE_SLICE_LOST, why);
		return;
	}
	char reason[300];
	snprintf(reason, sizeof(reason), "replacing: %s", why);
	sl->replacements++;
	sl->restarts = 0; /* the new node counts its own */
	sl->assigned = false;
	p->stats.slices_replaced++;
	pool_slice_set_state(p, sl, ACRE_SLICE_PENDING, reason);
	pool_pending_add(p, sl);
	p->retry_pending = true;
}

void pool_slice_delete(struct pool *p, struct pool_slice *sl)
{
	if (sl->removed)
		return;
	/* Its memory is given back after the commit: the store's writer still reads it. */
	if (acre_vec_push(&p->removed, sl) < 0) {
		acre_log(ACRE_LOG_ERROR, "slice=%s event=remove_failed error=\"out of memory\"",
			 sl->name);
		return;
	}
	pool_slice_unreserve(p, sl);
	pool_net_slice_deleted(p, sl);
	pool_node_detach(p, sl);
	pool_pending_remove(p, sl);
	pool_slice_unindex(p, sl);
	p->by_state[sl->state]--;
	sl->removed = true;
	p->stats.slices_removed++;
	acre_log(ACRE_LOG_INFO, "slice=%s event=removed", sl->name);
	pool_publish_slice(p, sl, "removed");
	/* Out of the label index now that the change (and its labels) went out. */
	pool_labels_detach(p, sl);
}

void pool_slice_request_kill(struct pool *p, struct pool_slice *sl, int signal)
{
	if (signal == 0 && sl->desired == POOL_DESIRED_RUN) {
		sl->desired = POOL_DESIRED_STOP;
		pool_slice_touch(p, sl);
	}
	/* Being stopped: out of names and VIPs, sent before the kill (pool_net_flush). */
	pool_net_slice_changed(p, sl);
	if (sl->node)
		pool_outbound_queue(p, POOL_OP_KILL, sl->node, sl->name, sl->id, NULL, signal);
}

void pool_slice_request_remove(struct pool *p, struct pool_slice *sl)
{
	sl->desired = POOL_DESIRED_REMOVE;
	pool_slice_touch(p, sl);
	pool_net_slice_changed(p, sl);
	if (sl->node)
		pool_outbound_queue(p, POOL_OP_REMOVE, sl->node, sl->name, sl->id, NULL, 0);
}
