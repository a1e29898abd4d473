/*
 * The verbs the node port calls as supervisors speak: a node registers
 * (joins, or comes back on a new connection), is heard from, reports its
 * slices' changes in numbered updates and its whole list at sync, sends
 * heartbeats with its usage, answers what the pool asked of it, and
 * disconnects.  The protocol itself (messages, their checks, replies) is
 * the node port's; here is what each means for the pool.
 */
#include "internal.h"
#include "net.h"

bool pool_node_secret_matches(const struct pool_node *n, const char *secret_hash)
{
	return strcmp(n->secret_hash, secret_hash) == 0;
}

int pool_node_register(struct pool *p, const struct pool_registration *r, void *conn,
		       struct pool_node **out, struct acre_error *err)
{
	struct pool_node *n = pool_node_find(p, r->id);
	*out = NULL;
	if (n && !pool_node_secret_matches(n, r->secret_hash))
		return acre_error_set(err, EACCES, "node.id",
				      "node id %s belongs to another node (its secret differs: a "
				      "copied state directory?)",
				      r->id);
	int rc = pool_net_check_registration(p, n, r, err);
	if (rc < 0)
		return rc;
	if (!n) {
		if (!(n = pool_node_create(p, r->id)))
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		snprintf(n->secret_hash, sizeof(n->secret_hash), "%s", r->secret_hash);
		n->registered_at = acre_now_ms();
	}
	if (pool_node_describe(p, n, r->hostname, r->cpus, r->memory, r->attributes) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	snprintf(n->address, sizeof(n->address), "%s", r->address);
	snprintf(n->version, sizeof(n->version), "%s", r->version);
	n->disk_total = r->disk;
	n->disk_free = r->disk_free;
	pool_node_set_port_range(p, n, r->port_first, r->port_last);
	if (pool_net_node_registered(p, n, r) < 0)
		return acre_error_set(err, ENOSPC, "node", "no subnet left in --pool-cidr");
	n->conn = conn;
	n->synced = false;
	n->last_seen_ns = acre_monotonic_ns();
	n->last_seen_ms = acre_now_ms();
	pool_node_touch(p, n);
	p->stats.registrations++;
	acre_log(ACRE_LOG_INFO,
		 "node=%s event=registered peer=%s hostname=%s cpus=%g memory=%llu net=%llu "
		 "disk_free=%llu subnet=%s network=%s",
		 n->id, r->address, n->hostname, r->cpus / 1000.0, (unsigned long long)r->memory,
		 (unsigned long long)r->net, (unsigned long long)r->disk_free, n->subnet,
		 n->network ? "yes" : "no");
	/* Registered first, then (if it was not) ready: the events in the order they happened. */
	pool_publish_node(p, n, "registered");
	pool_node_set_state(p, n, POOL_NODE_READY, "registered");
	pool_binaries_ask(p, n); /* its bin: attributes went with the description: asked again */
	*out = n;
	return 0;
}

bool pool_node_heard(struct pool *p, struct pool_node *n)
{
	n->last_seen_ns = acre_monotonic_ns();
	if (n->state == POOL_NODE_DOWN)
		return false;
	if (n->state == POOL_NODE_UNREACHABLE)
		pool_node_set_state(p, n, POOL_NODE_READY, "heard from again");
	return true;
}

void pool_node_disconnected(struct pool *p, struct pool_node *n, void *conn)
{
	if (n->conn != conn)
		return; /* an older connection, replaced already */
	n->conn = NULL;
	n->synced = false;
	pool_net_node_disconnected(n);
	pool_node_update_eligibility(p, n);
	pool_publish_node(p, n, "disconnected");
}

void pool_node_cordon(struct pool *p, struct pool_node *n, bool on)
{
	if (n->cordoned == on)
		return;
	n->cordoned = on;
	acre_log(ACRE_LOG_INFO, "node=%s event=%s", n->id, on ? "cordoned" : "uncordoned");
	pool_node_update_eligibility(p, n); /* uncordoned: pending slices are tried again */
	pool_publish_node(p, n, on ? "cordoned" : "uncordoned");
}

void pool_node_heartbeat(struct pool *p, struct pool_node *n, const struct pool_local *local,
			 json_t *usage)
{
	if (local)
		pool_node_set_local(p, n, local->cpus, local->memory);
	if (json_is_object(usage)) {
		json_decref(n->usage);
		n->usage = json_incref(usage);
		json_t *disk = json_object_get(usage, "disk_free");
		if (json_is_integer(disk) && json_integer_value(disk) >= 0)
			n->disk_free = (uint64_t)json_integer_value(disk);
	}
	p->stats.heartbeats++;
}

int64_t pool_node_update(struct pool *p, struct pool_node *n, const struct pool_report *u,
			 size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (u[i].seq <= n->last_seq) {
			p->stats.updates_duplicate++; /* resent after a reconnection: applied
							 already */
			continue;
		}
		n->last_seq = u[i].seq;
		p->stats.updates_applied++;
		struct pool_slice *sl = pool_slice_find(p, u[i].slice);
		if (!sl || sl->node != n) {
			/* Not (or no longer) the pool's on this node: reconciliation deals with it.
			 */
			acre_log(ACRE_LOG_DEBUG, "node=%s slice=%s event=update_ignored state=%s",
				 n->id, u[i].slice, acre_slice_state_name(u[i].state));
			continue;
		}
		pool_slice_apply_report(p, sl, &u[i]);
	}
	/* last_seq is written with the node: the acknowledgement promises it. */
	pool_node_touch(p, n);
	return n->last_seq;
}

int pool_node_health(struct pool *p, struct pool_node *n, const char *slice,
		     enum acre_health health, bool ready, int64_t at)
{
	struct pool_slice *sl = pool_slice_find(p, slice);
	if (!sl || sl->node != n)
		return -ENOENT;
	pool_slice_set_health(p, sl, health, ready, at);
	return 0;
}

void pool_node_sync(struct pool *p, struct pool_node *n, const struct pool_report *slices,
		    size_t count, const struct pool_local *local)
{
	pool_reconcile_node(p, n, slices, count);
	if (local)
		pool_node_set_local(p, n, local->cpus, local->memory);
	n->synced = true;
	pool_node_update_eligibility(p, n);
	acre_log(ACRE_LOG_INFO, "node=%s event=synced slices=%zu", n->id, count);
}

/* The slice a reply is about, if it is still the one that was asked about, on that node. */
static struct pool_slice *asked(struct pool *p, struct pool_node *n, const char *name, int64_t id)
{
	struct pool_slice *sl = pool_slice_find(p, name);
	return sl && sl->id == id && sl->node == n ? sl : NULL;
}

void pool_assign_result(struct pool *p, struct pool_node *n, const char *name, int64_t id,
			const struct acre_error *err)
{
	struct pool_slice *sl = asked(p, n, name, id);
	if (!sl)
		return;
	/* Written with the slice's next change: a restart that forgets it only re-sends. */
	sl->assigned = true; /* the node answered: nothing more to send */
	if (!err)
		return;
	char reason[400];
	snprintf(reason, sizeof(reason), "assign to node %s failed: %s", n->id, err->message);
	p->stats.assign_failures++;
	acre_log(ACRE_LOG_WARN, "slice=%s event=assign_failed error=\"%s\"", sl->name,
		 err->message);
	pool_slice_set_state(p, sl, ACRE_SLICE_FAILED, reason);
}

void pool_remove_gone(struct pool *p, struct pool_node *n, const char *name, int64_t id)
{
	struct pool_slice *sl = asked(p, n, name, id);
	if (sl && sl->desired == POOL_DESIRED_REMOVE)
		pool_slice_delete(p, sl);
}
