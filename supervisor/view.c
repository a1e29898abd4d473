/*
 * Slices as the protocol shows them: a summary for lists, the whole record
 * for show, the usage numbers for stat and the outcome a foreground client
 * exits with.  The CLI prints the same fields as tables.
 */
#include "view.h"
#include "network.h"
#include "vip.h"

static json_t *command_string(const struct acre_slice_spec *spec)
{
	char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; spec->command[i] && n < sizeof(buf) - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				      spec->command[i]);
	return json_string(buf);
}

static json_t *resources(const struct acre_slice_spec *spec)
{
	json_t *r = json_object();
	if (spec->resources.cpus_milli)
		json_object_set_new(r, "cpus", json_real(spec->resources.cpus_milli / 1000.0));
	if (spec->resources.memory)
		json_object_set_new(r, "memory", json_integer((json_int_t)spec->resources.memory));
	if (spec->resources.pids)
		json_object_set_new(r, "pids", json_integer((json_int_t)spec->resources.pids));
	return r;
}

json_t *view_health(const struct slice *s)
{
	const struct slice_health *h = &s->health;
	if (s->rec.spec.nchecks + s->rec.spec.nreadiness == 0)
		return NULL;
	return json_pack("{s:s,s:b,s:i,s:s,s:I}", "status", acre_health_name(h->health), "ready",
			 h->ready, "failures", (int)h->failures, "reason", h->reason, "changed_at",
			 (json_int_t)h->changed_at);
}

json_t *view_slice_summary(const struct slice *s)
{
	const struct acre_slice_record *r = &s->rec;
	json_t *j = json_pack(
		"{s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:I,s:I,s:I,s:b,s:O}", "name", r->spec.name, "state",
		acre_slice_state_name(r->state), "reason", r->reason, "pid",
		slice_is_active(s) ? (int)r->pid : 0, "restarts", (int)r->restarts, "command",
		command_string(&r->spec), "resources", resources(&r->spec), "created_at",
		(json_int_t)r->created_at, "started_at", (json_int_t)r->started_at, "finished_at",
		(json_int_t)r->finished_at, "foreground", r->foreground, "labels", r->spec.labels);
	json_t *health = view_health(s);
	if (j && health)
		json_object_set_new(j, "health", health);
	return j;
}

json_t *view_exit(const struct acre_exit *e)
{
	if (!e->known)
		return json_null();
	json_t *j = json_pack("{s:b,s:i}", "oom", e->oom, "status", acre_exit_status(e));
	if (e->launch_failed[0])
		json_object_set_new(j, "launch_failed", json_string(e->launch_failed));
	else if (e->signal)
		json_object_set_new(j, "signal", json_integer(e->signal));
	else
		json_object_set_new(j, "exit_code", json_integer(e->exit_code));
	return j;
}

json_t *view_slice_detail(const struct slice *s)
{
	json_t *j = view_slice_summary(s);
	const struct acre_slice_record *r = &s->rec;
	json_object_set_new(j, "spec", acre_slice_spec_to_json_redacted(&r->spec));
	json_object_set_new(j, "exit", view_exit(&r->exit));
	json_object_set_new(j, "task_pid", json_integer(r->task_pid));
	json_object_set_new(j, "remove_on_exit", json_boolean(r->remove_on_exit));
	json_object_set_new(j, "network", network_view(s->sv, &r->spec));
	json_t *vips = vip_view(s->sv, &r->spec);
	if (vips)
		json_object_set_new(j, "vips", vips);
	json_object_set_new(j, "cgroup",
			    json_pack("{s:s,s:s,s:I}", "root", s->sv->opt.cgroup_root, "name",
				      r->cgroup, "id", (json_int_t)acre_cgroup_id(s->cgroup)));
	return j;
}

json_t *view_slice_result(const struct slice *s)
{
	const struct acre_slice_record *r = &s->rec;
	json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:b}", "name", r->spec.name, "state",
			      acre_slice_state_name(r->state), "reason", r->reason, "exit",
			      view_exit(&r->exit), "removed", r->state == ACRE_SLICE_DESTROYED);
	if (r->spec.resources.memory)
		json_object_set_new(j, "memory_limit",
				    json_integer((json_int_t)r->spec.resources.memory));
	return j;
}
