/*
 * The slice record: what the supervisor checkpoints for each slice (spec,
 * state, pids, how it ended) and what acre-init writes when the task ends.
 * Both directions are here so the round trip is tested in one place.
 */
#include "common.h"
#include <signal.h>

static const char *const state_names[] = {
	[ACRE_SLICE_PENDING] = "pending", [ACRE_SLICE_STARTING] = "starting",
	[ACRE_SLICE_RUNNING] = "running", [ACRE_SLICE_EXITED] = "exited",
	[ACRE_SLICE_FAILED] = "failed",	  [ACRE_SLICE_KILLED] = "killed",
	[ACRE_SLICE_LOST] = "lost",	  [ACRE_SLICE_DESTROYED] = "destroyed",
};

const char *acre_slice_state_name(enum acre_slice_state s)
{
	return (unsigned)s < ACRE_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

int acre_slice_state_parse(const char *s, enum acre_slice_state *out)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(state_names); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum acre_slice_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool acre_slice_state_is_final(enum acre_slice_state s)
{
	return s == ACRE_SLICE_EXITED || s == ACRE_SLICE_FAILED || s == ACRE_SLICE_KILLED ||
	       s == ACRE_SLICE_LOST || s == ACRE_SLICE_DESTROYED;
}

void acre_exit_reason(const struct acre_exit *e, char *buf, size_t len)
{
	if (!e->known)
		snprintf(buf, len, "unknown");
	else if (e->launch_failed[0])
		snprintf(buf, len, "launch_failed: %s", e->launch_failed);
	else if (e->oom)
		snprintf(buf, len, "oom");
	else if (e->signal)
		snprintf(buf, len, "signal %d", e->signal);
	else
		snprintf(buf, len, "exit %d", e->exit_code);
}

int acre_exit_status(const struct acre_exit *e)
{
	if (!e->known)
		return 125;
	if (e->launch_failed[0])
		return e->exit_code ? e->exit_code : 125;
	if (e->oom)
		return 128 + SIGKILL;
	if (e->signal)
		return 128 + e->signal;
	return e->exit_code;
}

/*
 * Copies into a fixed buffer without cutting a UTF-8 character in two: a
 * torn character would make acre_slice_record_to_json() fail, and the
 * record could no longer be saved.
 */
static void copy_utf8(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int acre_exit_record_parse(const char *text, size_t len, struct acre_exit *out)
{
	memset(out, 0, sizeof(*out));
	_cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
	if (!json_is_object(j))
		return -EINVAL;
	json_t *v;
	if ((v = json_object_get(j, "exit_code")) && json_is_integer(v)) {
		out->exit_code = (int)json_integer_value(v);
	} else if ((v = json_object_get(j, "signal")) && json_is_integer(v)) {
		out->signal = (int)json_integer_value(v);
	} else if ((v = json_object_get(j, "launch_failed")) && json_is_string(v)) {
		copy_utf8(out->launch_failed, sizeof(out->launch_failed), json_string_value(v));
		json_t *code = json_object_get(j, "exit_code_hint");
		out->exit_code = json_is_integer(code) ? (int)json_integer_value(code) : 127;
	} else {
		return -EINVAL;
	}
	out->known = true;
	return 0;
}

static json_t *exit_to_json(const struct acre_exit *e)
{
	if (!e->known)
		return json_null();
	json_t *j = json_pack("{s:b}", "oom", e->oom);
	if (e->launch_failed[0])
		json_object_set_new(j, "launch_failed", json_string(e->launch_failed));
	if (e->signal)
		json_object_set_new(j, "signal", json_integer(e->signal));
	else
		json_object_set_new(j, "exit_code", json_integer(e->exit_code));
	return j;
}

static void exit_from_json(const json_t *j, struct acre_exit *e)
{
	memset(e, 0, sizeof(*e));
	if (!json_is_object(j))
		return;
	e->known = true;
	e->oom = json_is_true(json_object_get(j, "oom"));
	json_t *v;
	if ((v = json_object_get(j, "signal")) && json_is_integer(v))
		e->signal = (int)json_integer_value(v);
	if ((v = json_object_get(j, "exit_code")) && json_is_integer(v))
		e->exit_code = (int)json_integer_value(v);
	if ((v = json_object_get(j, "launch_failed")) && json_is_string(v))
		copy_utf8(e->launch_failed, sizeof(e->launch_failed), json_string_value(v));
}

json_t *acre_slice_record_to_json(const struct acre_slice_record *rec)
{
	json_t *spec = acre_slice_spec_to_json(&rec->spec);
	if (!spec)
		return NULL;
	return json_pack("{s:i,s:o,s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:i,s:b,s:b,s:b,s:I,s:I,s:I}",
			 "version", ACRE_SLICE_RECORD_VERSION, "spec", spec, "cgroup", rec->cgroup,
			 "state", acre_slice_state_name(rec->state), "reason", rec->reason, "exit",
			 exit_to_json(&rec->exit), "pid", (json_int_t)rec->pid, "pid_start",
			 (json_int_t)rec->pid_start, "task_pid", (json_int_t)rec->task_pid,
			 "restarts", rec->restarts, "foreground", rec->foreground, "remove_on_exit",
			 rec->remove_on_exit, "killed_by_user", rec->killed_by_user, "created_at",
			 (json_int_t)rec->created_at, "started_at", (json_int_t)rec->started_at,
			 "finished_at", (json_int_t)rec->finished_at);
}

int acre_slice_record_from_json(const json_t *json, struct acre_slice_record *rec,
				struct acre_error *err)
{
	memset(rec, 0, sizeof(*rec));
	json_t *spec = NULL, *exit = NULL;
	const char *state = NULL, *reason = "", *cgroup = NULL;
	json_int_t version = 0, pid = 0, pid_start = 0, task_pid = 0, restarts = 0;
	json_int_t created = 0, started = 0, finished = 0;
	int fg = 0, rm = 0, killed = 0;
	json_error_t jerr;
	if (json_unpack_ex((json_t *)json, &jerr, 0,
			   "{s:I,s:o,s:s,s:s,s?s,s?o,s?I,s?I,s?I,s?I,s?b,s?b,s?b,s?I,s?I,s?I}",
			   "version", &version, "spec", &spec, "cgroup", &cgroup, "state", &state,
			   "reason", &reason, "exit", &exit, "pid", &pid, "pid_start", &pid_start,
			   "task_pid", &task_pid, "restarts", &restarts, "foreground", &fg,
			   "remove_on_exit", &rm, "killed_by_user", &killed, "created_at", &created,
			   "started_at", &started, "finished_at", &finished) < 0)
		return acre_error_set(err, EINVAL, NULL, "slice record: %s", jerr.text);
	if (version != ACRE_SLICE_RECORD_VERSION)
		return acre_error_set(err, EINVAL, "version", "slice record: unknown version %lld",
				      (long long)version);
	if (acre_slice_state_parse(state, &rec->state) < 0)
		return acre_error_set(err, EINVAL, "state", "slice record: unknown state %s",
				      state);
	int rc = acre_slice_spec_parse(spec, &rec->spec, err);
	if (rc < 0)
		return acre_error_prefix(err, "slice record");
	if (!rec->spec.name[0]) {
		acre_slice_spec_free(&rec->spec);
		return acre_error_set(err, EINVAL, "spec.name", "slice record: spec has no name");
	}
	if (!acre_slice_name_valid(cgroup)) {
		acre_slice_spec_free(&rec->spec);
		return acre_error_set(err, EINVAL, "cgroup", "slice record: invalid cgroup name");
	}
	snprintf(rec->cgroup, sizeof(rec->cgroup), "%s", cgroup);
	copy_utf8(rec->reason, sizeof(rec->reason), reason);
	exit_from_json(exit, &rec->exit);
	rec->pid = (pid_t)pid;
	rec->pid_start = (uint64_t)pid_start;
	rec->task_pid = (pid_t)task_pid;
	rec->restarts = (unsigned)restarts;
	rec->foreground = fg;
	rec->remove_on_exit = rm;
	rec->killed_by_user = killed;
	rec->created_at = created;
	rec->started_at = started;
	rec->finished_at = finished;
	return 0;
}

void acre_slice_record_free(struct acre_slice_record *rec)
{
	acre_slice_spec_free(&rec->spec);
}
