/*
 * One shape for a slice under -j, whoever answered: a node's socket and the
 * pool's controller describe a slice with different fields (the node knows
 * pids and cgroups, the pool knows nodes and placement), so each reply is
 * put into the documented object here, with every field present and null
 * where that side does not know it (cli/README.md lists them).  Also the
 * filter of `slice list`.  Pure: JSON in, JSON out.
 */
#include "cli.h"

/* o[key] when it has the wanted kind, else NULL (packed as null). */
static json_t *string_at(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? v : NULL;
}

static json_t *object_at(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_object(v) ? v : NULL;
}

static json_t *bool_at(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? v : NULL;
}

/* A pid, a time or a limit: 0 means "none", which -j says as null. */
static json_t *positive_at(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? v : NULL;
	if (json_is_real(v))
		return json_real_value(v) > 0 ? v : NULL;
	return NULL;
}

/* What both sides know of a slice, in the order -j prints it. */
struct slice_fields {
	const json_t *from;			      /* name, state, reason, command, restarts */
	json_t *node, *labels, *cpus, *memory, *pids; /* borrowed, NULL for null */
	json_t *pid, *created, *started, *finished, *updated;
};

/* {"status", "ready", ...} of a slice with checks, as both sides report it; null without. */
static json_t *health_of(const json_t *from)
{
	json_t *h = object_at(from, "health");
	return h ? json_incref(h) : json_null();
}

static json_t *slice_object(const struct slice_fields *f)
{
	json_t *labels = f->labels ? json_incref(f->labels) : json_object();
	return json_pack("{s:s,s:s,s:s,s:O?,s:s,s:o,s:{s:O?,s:O?,s:O?},s:I,s:O?,s:O?,s:O?,s:O?,"
			 "s:O?,s:o}",
			 "name", render_str(f->from, "name"), "state", render_str(f->from, "state"),
			 "reason", render_str(f->from, "reason"), "node", f->node, "command",
			 render_str(f->from, "command"), "labels", labels, "resources", "cpus",
			 f->cpus, "memory", f->memory, "pids", f->pids, "restarts",
			 json_integer_value(json_object_get(f->from, "restarts")), "pid", f->pid,
			 "created_at", f->created, "started_at", f->started, "finished_at",
			 f->finished, "updated_at", f->updated, "health", health_of(f->from));
}

/* show's fields beyond the list's: each side fills its own, the other's stay null. */
struct detail_fields {
	json_t *restart, *exit, *spec;
	json_t *task_pid, *foreground, *remove_on_exit, *network, *cgroup; /* a node's */
	json_t *desired, *placement, *replacements;			   /* the pool's */
};

static json_t *add_detail(json_t *o, const struct detail_fields *d)
{
	if (!o)
		return NULL;
	const struct {
		const char *key;
		json_t *v;
	} fields[] = {
		{"restart", d->restart},
		{"exit", d->exit},
		{"spec", d->spec},
		{"task_pid", d->task_pid},
		{"foreground", d->foreground},
		{"remove_on_exit", d->remove_on_exit},
		{"network", d->network},
		{"cgroup", d->cgroup},
		{"desired", d->desired},
		{"placement", d->placement},
		{"replacements", d->replacements},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(fields); i++)
		json_object_set_new(o, fields[i].key,
				    fields[i].v ? json_incref(fields[i].v) : json_null());
	return o;
}

json_t *slice_shape_node(const json_t *reply, bool detail)
{
	json_t *r = json_object_get(reply, "resources");
	struct slice_fields f = {
		.from = reply,
		.labels = object_at(reply, "labels"),
		.cpus = positive_at(r, "cpus"),
		.memory = positive_at(r, "memory"),
		.pids = positive_at(r, "pids"),
		.pid = positive_at(reply, "pid"),
		.created = positive_at(reply, "created_at"),
		.started = positive_at(reply, "started_at"),
		.finished = positive_at(reply, "finished_at"),
	};
	json_t *o = slice_object(&f);
	if (!detail)
		return o;
	json_t *spec = object_at(reply, "spec");
	struct detail_fields d = {
		.restart = string_at(spec, "restart"),
		.exit = object_at(reply, "exit"),
		.spec = spec,
		.task_pid = positive_at(reply, "task_pid"),
		.foreground = bool_at(reply, "foreground"),
		.remove_on_exit = bool_at(reply, "remove_on_exit"),
		.network = object_at(reply, "network"),
		.cgroup = object_at(reply, "cgroup"),
	};
	o = add_detail(o, &d);
	/* Its group's virtual IPs, as the pool shows them: only when it has some. */
	json_t *vips = json_object_get(reply, "vips");
	if (o && json_is_array(vips))
		json_object_set(o, "vips", vips);
	return o;
}

json_t *slice_shape_pool(const json_t *reply, bool detail)
{
	json_t *r = json_object_get(reply, "resources");
	json_t *spec = object_at(reply, "spec");
	struct slice_fields f = {
		.from = reply,
		.node = string_at(reply, "node"),
		.labels = object_at(reply, "labels"),
		.cpus = positive_at(r, "cpus"),
		.memory = positive_at(r, "memory"),
		/* The pool places by CPUs and memory; pids are only in the spec (show). */
		.pids = positive_at(json_object_get(spec, "resources"), "pids"),
		.created = positive_at(reply, "created_at"),
		.updated = positive_at(reply, "updated_at"),
	};
	if (!f.labels)
		f.labels = object_at(spec, "labels");
	json_t *o = slice_object(&f);
	if (!detail)
		return o;
	json_t *repl = json_object_get(reply, "replacements");
	struct detail_fields d = {
		.restart = string_at(reply, "restart"),
		.exit = object_at(reply, "exit"),
		.spec = spec,
		.desired = string_at(reply, "desired"),
		.placement = object_at(reply, "placement"),
		.replacements = json_is_integer(repl) ? repl : NULL,
	};
	o = add_detail(o, &d);
	/* On the pool's network: its address while it runs, its group's virtual IPs. */
	json_t *address = string_at(reply, "address"), *vips = json_object_get(reply, "vips");
	json_t *rate = positive_at(r, "net_rate");
	if (o && address)
		json_object_set(o, "address", address);
	if (o && json_is_array(vips))
		json_object_set(o, "vips", vips);
	if (o && rate)
		json_object_set(o, "net_rate", rate);
	return o;
}

static const char *name_of(const json_t *reply, const char *name)
{
	json_t *n = string_at(reply, "name");
	return n ? json_string_value(n) : name;
}

json_t *slice_shape_kill(const json_t *reply, const char *name)
{
	/* No signal: a slice of the pool killed before it was placed. */
	return json_pack("{s:s,s:O?,s:O?}", "name", name_of(reply, name), "node",
			 string_at(reply, "node"), "signal", string_at(reply, "signal"));
}

json_t *slice_shape_rm(const json_t *reply, const char *name)
{
	/* removing: the pool asked the slice's node, and forgets the slice once it is gone there.
	 */
	return json_pack("{s:s,s:O?,s:b,s:b}", "name", name_of(reply, name), "node",
			 string_at(reply, "node"), "removed",
			 json_is_true(json_object_get(reply, "removed")), "removing",
			 json_is_true(json_object_get(reply, "removing")));
}

int slice_filter_add_label(struct slice_filter *f, const char *kv, struct acre_error *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return acre_error_set(err, EINVAL, "--label", "--label %s: expected KEY=VALUE", kv);
	if (acre_vec_push(&f->labels, kv) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

int slice_filter_set_state(struct slice_filter *f, const char *state, struct acre_error *err)
{
	enum acre_slice_state st;
	if (acre_slice_state_parse(state, &st) < 0)
		return acre_error_set(err, EINVAL, "--state",
				      "--state %s: one of pending, starting, running, exited, "
				      "failed, killed, lost",
				      state);
	f->state = state;
	return 0;
}

bool slice_filter_match(const struct slice_filter *f, const json_t *slice)
{
	if (f->state && strcmp(render_str(slice, "state"), f->state) != 0)
		return false;
	json_t *labels = json_object_get(slice, "labels");
	for (size_t i = 0; i < f->labels.n; i++) {
		const char *kv = f->labels.v[i], *eq = strchr(kv, '=');
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		const char *have = json_string_value(json_object_get(labels, key));
		if (!have || strcmp(have, eq + 1) != 0)
			return false;
	}
	return true;
}
