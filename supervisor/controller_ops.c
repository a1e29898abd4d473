/*
 * The link's side of the protocol that touches slices: the controller's
 * assign (a detached slice from a spec), kill and remove, decoded here and
 * carried out by the verbs of slice_ops.h, as the socket's are; its
 * volume.remove, by volume.c's removal as the socket's volume.rm; its
 * binaries.check, by binaries.c; and what the node reports — one update
 * per state change of a slice the pool manages, and the list of its
 * slices at sync.  A slice is the pool's when
 * it carries the acre.managed label, which assign puts on it, so both
 * sides agree after any restart.
 */
#include "controller_link.h"
#include "network.h"
#include "pool_net.h"
#include "slice_ops.h"
#include "view.h"
#include "volume.h"
#include "binaries.h"

/* A slice's whole present state: an update replaces, never amends, what came before. */
static json_t *slice_state(const struct slice *s, const char *name_key)
{
	const struct acre_slice_record *r = &s->rec;
	json_t *j = json_pack("{s:s,s:s,s:s,s:i}", name_key, r->spec.name, "state",
			      acre_slice_state_name(r->state), "reason", r->reason, "restarts",
			      (int)r->restarts);
	/* A bridged slice's address, while it holds its lease: the pool's names point at it. */
	uint32_t addr;
	char a[ACRE_ADDR_STRLEN];
	if (j && r->spec.net_mode == ACRE_NET_BRIDGE &&
	    network_slice_address(s->sv, r->spec.name, &addr) == 0) {
		acre_cidr_addr_format(addr, a, sizeof(a));
		json_object_set_new(j, "address", json_string(a));
	}
	/* Its checks' verdict, which the pool's names and VIPs follow. */
	if (j && r->spec.nchecks + r->spec.nreadiness > 0) {
		json_object_set_new(j, "health", json_string(acre_health_name(s->health.health)));
		json_object_set_new(j, "ready", json_boolean(s->health.ready));
	}
	json_t *e = view_exit(&r->exit);
	if (j && !json_is_null(e) && r->state != ACRE_SLICE_STARTING &&
	    r->state != ACRE_SLICE_RUNNING)
		json_object_set_new(j, "exit", e);
	else
		json_decref(e);
	return j;
}

json_t *link_slice_health(const struct slice *s)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:I}", "slice", s->rec.spec.name, "health",
			 acre_health_name(s->health.health), "ready", s->health.ready, "reason",
			 s->health.reason, "at", (json_int_t)s->health.changed_at);
}

json_t *link_slice_update(const struct slice *s)
{
	json_t *j = slice_state(s, "slice");
	if (j)
		json_object_set_new(j, "at", json_integer(acre_now_ms()));
	return j;
}

struct usage_walk {
	uint32_t cpus;
	uint64_t mem;
	size_t managed;
	json_t *list;
};

static bool holds_room(const struct slice *s)
{
	return slice_is_active(s) || slice_restart_pending(s);
}

static void walk_slice(const char *key, void *value, void *ud)
{
	(void)key;
	const struct slice *s = value;
	struct usage_walk *w = ud;
	bool managed = slice_ops_managed(s);
	if (managed)
		w->managed++;
	else if (holds_room(s)) {
		w->cpus += s->rec.spec.resources.cpus_milli;
		w->mem += s->rec.spec.resources.memory;
	}
	if (w->list) {
		json_t *j = slice_state(s, "name");
		json_object_set_new(j, "managed", json_boolean(managed));
		json_array_append_new(w->list, j);
	}
}

void link_local_usage(struct supervisor *sv, uint32_t *cpus, uint64_t *mem, size_t *managed)
{
	struct usage_walk w = {0};
	acre_map_foreach(sv->slices, walk_slice, &w);
	*cpus = w.cpus;
	*mem = w.mem;
	*managed = w.managed;
}

json_t *link_snapshot(struct supervisor *sv, uint32_t *local_cpus, uint64_t *local_mem)
{
	struct usage_walk w = {.list = json_array()};
	acre_map_foreach(sv->slices, walk_slice, &w);
	*local_cpus = w.cpus;
	*local_mem = w.mem;
	return w.list;
}

static void reply_ok(struct controller_link *l, json_t *id, json_t *result)
{
	_cleanup_json_ json_t *msg = acre_proto_ok(id, result);
	link_send(l, msg);
}

static void reply_error(struct controller_link *l, json_t *id, const struct acre_error *err)
{
	acre_log(ACRE_LOG_WARN, "event=controller_request_failed error=\"%s\"", err->message);
	_cleanup_json_ json_t *msg = acre_proto_error(id, err);
	link_send(l, msg);
}

/* The name of the slice a request is about: required, and a valid slice name. */
static const char *slice_name(json_t *req, struct acre_error *err)
{
	const char *name = json_string_value(json_object_get(req, "slice"));
	if (!name || !acre_slice_name_valid(name)) {
		acre_error_set(err, EINVAL, "slice", "slice: required, a slice name");
		return NULL;
	}
	return name;
}

/* One slice of an assign: created detached, labelled as the pool's. */
static int assign_one(struct controller_link *l, json_t *item, struct acre_error *err)
{
	const char *name = json_string_value(json_object_get(item, "slice"));
	json_t *spec_json = json_object_get(item, "spec");
	if (!name || !acre_slice_name_valid(name) || !json_is_object(spec_json))
		return acre_error_set(err, EINVAL, "slices", "assign: each needs slice and spec");
	struct slice_create_options o = {
		.detach = true, .managed_by_pool = true, .stdio = {-1, -1, -1}};
	struct acre_slice_spec spec;
	struct slice *s;
	int rc = slice_ops_pool_spec(spec_json, name, &spec, err);
	if (rc == 0)
		rc = slice_ops_create(l->sv, &spec, &o, &s, err);
	if (rc == 0)
		acre_log(ACRE_LOG_INFO, "slice=%s event=assigned", name);
	return rc < 0 ? rc : 0; /* 1: assigned again after a lost reply, already here */
}

/* {"slices": [{"slice", "spec"}, ...]}: each created, the failures listed by name. */
static void op_assign(struct controller_link *l, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	json_t *list = json_object_get(req, "slices");
	if (!json_is_array(list)) {
		acre_error_set(&err, EINVAL, "slices", "assign: slices must be an array");
		reply_error(l, id, &err);
		return;
	}
	json_t *failed = json_array();
	size_t i, assigned = 0;
	json_t *item;
	json_array_foreach (list, i, item) {
		memset(&err, 0, sizeof(err));
		if (assign_one(l, item, &err) == 0) {
			assigned++;
			continue;
		}
		acre_log(ACRE_LOG_WARN, "event=assign_failed error=\"%s\"", err.message);
		json_t *e = acre_proto_error(NULL, &err);
		json_t *name = json_object_get(item, "slice");
		json_array_append_new(failed, json_pack("{s:O?,s:O}", "slice",
							json_is_string(name) ? name : NULL, "error",
							json_object_get(e, "error")));
		json_decref(e);
	}
	reply_ok(l, id, json_pack("{s:I,s:o}", "assigned", (json_int_t)assigned, "failed", failed));
}

static void op_kill(struct controller_link *l, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s;
	int sig;
	const char *name = slice_name(req, &err);
	if (!name || slice_ops_kill(l->sv, SLICE_CALLER_POOL, name, json_object_get(req, "signal"),
				    &s, &sig, &err) < 0) {
		reply_error(l, id, &err);
		return;
	}
	reply_ok(l, id, json_pack("{s:s}", "name", name));
}

static void op_remove(struct controller_link *l, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s;
	const char *name = slice_name(req, &err);
	/* The pool has decided: a running slice is killed and removed once it has ended. */
	int rc = !name ? -EINVAL : slice_ops_remove(l->sv, SLICE_CALLER_POOL, name, true, &s, &err);
	if (rc < 0) {
		reply_error(l, id, &err);
		return;
	}
	acre_log(ACRE_LOG_INFO, "slice=%s event=remove_requested by=controller", name);
	reply_ok(l, id, json_pack("{s:s,s:b}", "name", name, "removed", rc == 0));
}

/* {"name"}: the volume goes, unless a slice names it; none there is no error (asked twice). */
static void op_volume_remove(struct controller_link *l, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	const char *name = json_string_value(json_object_get(req, "name"));
	int rc = -EINVAL;
	if (!name || !acre_volume_name_valid(name))
		acre_error_set(&err, EINVAL, "name", "volume.remove: name required, a volume name");
	else
		rc = volume_remove(l->sv, name, &err);
	if (rc < 0 && rc != -ENOENT) {
		reply_error(l, id, &err);
		return;
	}
	acre_log(ACRE_LOG_INFO, "volume=%s event=volume_remove_requested by=controller removed=%s",
		 name, rc == 0 ? "yes" : "none");
	reply_ok(l, id, json_pack("{s:s,s:b}", "name", name, "removed", rc == 0));
}

/* net.peers, net.names, net.vips: the pool's network (pool_net.c). */
static void op_pool_net(struct controller_link *l, const char *op, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	json_t *result = NULL;
	if (pool_net_request(l->sv, op, req, &result, &err) < 0)
		reply_error(l, id, &err);
	else
		reply_ok(l, id, result);
}

/* {"paths"}: which of these host binaries the node has. */
static void op_binaries_check(struct controller_link *l, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	json_t *result = binaries_check(req, &err);
	if (!result)
		reply_error(l, id, &err);
	else
		reply_ok(l, id, result);
}

void link_handle_request(struct controller_link *l, const char *op, json_t *req, json_t *id)
{
	if (!strcmp(op, ACRE_OP_ASSIGN)) {
		op_assign(l, req, id);
	} else if (!strcmp(op, ACRE_OP_KILL)) {
		op_kill(l, req, id);
	} else if (!strcmp(op, ACRE_OP_REMOVE)) {
		op_remove(l, req, id);
	} else if (!strcmp(op, ACRE_OP_VOLUME_REMOVE)) {
		op_volume_remove(l, req, id);
	} else if (!strcmp(op, ACRE_OP_BINARIES_CHECK)) {
		op_binaries_check(l, req, id);
	} else if (link_logs_owns(op)) {
		link_logs_request(l, op, req, id);
	} else if (pool_net_owns(op)) {
		op_pool_net(l, op, req, id);
	} else {
		struct acre_error err;
		acre_error_set(&err, EINVAL, "op", "unknown op \"%.64s\"", op);
		reply_error(l, id, &err);
	}
}
