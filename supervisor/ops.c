/*
 * The operations of the supervisor's protocol, one handler each, found
 * through a table.  Every handler validates its arguments by name and type
 * before touching anything, and answers with exactly one reply (some of
 * them later, through a waiter).
 */
#include "supervisor.h"

#include <fcntl.h>
#include <signal.h>

struct op {
	const char *name;
	void (*fn)(struct supervisor *sv, struct conn *c, json_t *req, json_t *id);
	const char *const *keys; /* what the request may carry besides op and id */
};

static int check_request_keys(json_t *req, const char *const *keys, struct acre_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach(req, k, v) {
		if (!strcmp(k, "op") || !strcmp(k, "id"))
			continue;
		bool ok = false;
		for (const char *const *p = keys; p && *p; p++)
			ok |= strcmp(*p, k) == 0;
		if (!ok)
			return acre_error_set(err, EINVAL, k, "%s: unknown argument", k);
	}
	return 0;
}

/* A required string argument naming an existing slice. */
static struct slice *lookup(struct supervisor *sv, json_t *req, struct acre_error *err)
{
	json_t *name = json_object_get(req, "name");
	if (!json_is_string(name)) {
		acre_error_set(err, EINVAL, "name", "name: required, a string");
		return NULL;
	}
	struct slice *s = slice_find(sv, json_string_value(name));
	if (!s)
		acre_error_set(err, ENOENT, "name", "no slice named %s", json_string_value(name));
	return s;
}

static int get_bool(json_t *req, const char *key, bool *out, struct acre_error *err)
{
	json_t *v = json_object_get(req, key);
	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return acre_error_set(err, EINVAL, key, "%s: must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static void op_ping(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	conn_reply_ok(c, id,
		      json_pack("{s:s,s:s,s:I,s:i}", "version", ACRE_VERSION, "cgroup_mode",
				acre_cgroup_mode_name(acre_cgroup_system_mode(sv->cgroups)),
				"slices", (json_int_t)acre_map_size(sv->slices), "cpus",
				(int)sv->ncpus));
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void op_run(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice_run_options o = {.stdio = {-1, -1, -1}};
	bool detach, stdio;
	struct acre_slice_spec spec;
	if (get_bool(req, "detach", &detach, &err) < 0 ||
	    get_bool(req, "remove", &o.remove_on_exit, &err) < 0 ||
	    get_bool(req, "stdio", &stdio, &err) < 0)
		goto fail;
	o.foreground = !detach;
	/* The client attaches its stdin, stdout and stderr to this very request. */
	for (int i = 0; stdio && i < 3; i++)
		o.stdio[i] = conn_take_fd(c);
	if (o.foreground && (o.stdio[0] < 0 || o.stdio[1] < 0 || o.stdio[2] < 0)) {
		acre_error_set(&err, EINVAL, "stdio",
			       "a foreground run needs the client's stdin, stdout and stderr "
			       "attached (3 fds)");
		goto fail;
	}
	if (!o.foreground) {
		/* A detached slice writes to its log; fds sent along anyway are not kept. */
		close_fds(o.stdio, 3);
		o.stdio[0] = o.stdio[1] = o.stdio[2] = -1;
	}
	if (acre_slice_spec_parse(json_object_get(req, "spec"), &spec, &err) < 0)
		goto fail;
	struct slice *s;
	if (slice_create(sv, &spec, &o, &s, &err) < 0) {
		acre_slice_spec_free(&spec);
		goto fail;
	}
	waiter_add(s, c, id, o.foreground ? WAIT_RUN_FOREGROUND : WAIT_RUN_DETACHED);
	return;
fail:
	close_fds(o.stdio, 3);
	conn_reply_error(c, id, &err);
}

static void op_list(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	json_t *list = json_array();
	_cleanup_free_ const char **names = acre_map_sorted_keys(sv->slices);
	for (size_t i = 0; names && names[i]; i++)
		json_array_append_new(list, view_slice_summary(slice_find(sv, names[i])));
	conn_reply_ok(c, id, json_pack("{s:o}", "slices", list));
}

static void op_show(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s = lookup(sv, req, &err);
	if (!s) {
		conn_reply_error(c, id, &err);
		return;
	}
	conn_reply_ok(c, id, view_slice_detail(s));
}

static void op_stat(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	json_t *names = json_object_get(req, "names");
	if (names && !json_is_array(names)) {
		acre_error_set(&err, EINVAL, "names", "names: must be an array of slice names");
		conn_reply_error(c, id, &err);
		return;
	}
	/* Every name is checked before anything is read. */
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		if (!json_is_string(n) || !slice_find(sv, json_string_value(n))) {
			acre_error_set(&err, ENOENT, "names", "no slice named %s",
				       json_is_string(n) ? json_string_value(n) : "?");
			conn_reply_error(c, id, &err);
			return;
		}
	}
	struct evbuffer *b = evbuffer_new();
	_cleanup_free_ char *idtext = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!b || !idtext) {
		evbuffer_free(b);
		return;
	}
	evbuffer_add_printf(b, "{\"id\":%s,\"ok\":true,\"result\":{\"slices\":[", idtext);
	if (json_array_size(names) > 0) {
		json_array_foreach(names, i, n)
			view_stats_append(slice_find(sv, json_string_value(n)), true, i == 0, b);
	} else {
		_cleanup_free_ const char **all = acre_map_sorted_keys(sv->slices);
		for (i = 0; all && all[i]; i++)
			view_stats_append(slice_find(sv, all[i]), false, i == 0, b);
	}
	_cleanup_json_ json_t *acct = sv->bpf ? json_string("on")
					       : json_sprintf("off: %s", sv->accounting_off);
	_cleanup_free_ char *accttext = json_dumps(acct, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	evbuffer_add_printf(b, "],\"accounting\":%s}}\n", accttext ? accttext : "null");
	conn_send_buffer(c, b);
	evbuffer_free(b);
}

static void op_kill(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s = lookup(sv, req, &err);
	if (!s) {
		conn_reply_error(c, id, &err);
		return;
	}
	json_t *sigj = json_object_get(req, "signal");
	int sig = SIGTERM;
	if (sigj) {
		char buf[32];
		const char *text = json_string_value(sigj);
		if (json_is_integer(sigj)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(sigj));
			text = buf;
		}
		if (!text || acre_parse_signal(text, &sig, &err, "signal") < 0) {
			if (!text)
				acre_error_set(&err, EINVAL, "signal",
					       "signal: a name (TERM) or a number");
			conn_reply_error(c, id, &err);
			return;
		}
	}
	if (slice_kill(s, sigj != NULL, sig, &err) < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	conn_reply_ok(c, id, json_pack("{s:s,s:s}", "name", s->rec.spec.name, "signal",
				       acre_signal_name(sig) ? acre_signal_name(sig) : "?"));
}

static void op_rm(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	bool force;
	struct slice *s = lookup(sv, req, &err);
	if (!s || get_bool(req, "force", &force, &err) < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	char name[ACRE_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", s->rec.spec.name);
	int rc = slice_remove(s, force, &err);
	if (rc < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	if (rc > 0) {
		waiter_add(s, c, id, WAIT_REMOVED);
		return;
	}
	conn_reply_ok(c, id, json_pack("{s:s,s:b}", "name", name, "removed", 1));
}

static void op_logs(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s = lookup(sv, req, &err);
	if (!s) {
		conn_reply_error(c, id, &err);
		return;
	}
	if (s->rec.foreground) {
		acre_error_set(&err, ENOENT, "name",
			       "slice %s runs in the foreground: its output went to its client",
			       s->rec.spec.name);
		conn_reply_error(c, id, &err);
		return;
	}
	_cleanup_close_ int fd = checkpoint_open(sv, s->rec.spec.name, "log", O_RDONLY);
	if (fd < 0) {
		acre_error_set(&err, errno, "name", "opening the log of %s: %s",
			       s->rec.spec.name, strerror(errno));
		conn_reply_error(c, id, &err);
		return;
	}
	_cleanup_json_ json_t *reply =
		acre_proto_ok(id, json_pack("{s:s,s:s,s:b}", "name", s->rec.spec.name, "state",
					    acre_slice_state_name(s->rec.state), "fd", 1));
	int rc = conn_send_fd(c, reply, fd);
	if (rc < 0 && rc != -EAGAIN) {
		acre_error_set(&err, -rc, NULL, "passing the log: %s", strerror(-rc));
		conn_reply_error(c, id, &err);
	}
}

static void op_wait(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s = lookup(sv, req, &err);
	if (!s) {
		conn_reply_error(c, id, &err);
		return;
	}
	if (!slice_is_active(s) && !slice_restart_pending(s)) {
		conn_reply_ok(c, id, view_slice_result(s));
		return;
	}
	waiter_add(s, c, id, WAIT_END);
}

static const char *const run_keys[] = {"spec", "detach", "remove", "stdio", NULL};
static const char *const name_keys[] = {"name", NULL};
static const char *const kill_keys[] = {"name", "signal", NULL};
static const char *const rm_keys[] = {"name", "force", NULL};
static const char *const stat_keys[] = {"names", NULL};

static const struct op ops[] = {
	{ACRE_OP_PING, op_ping, NULL},
	{ACRE_OP_SLICE_RUN, op_run, run_keys},
	{ACRE_OP_SLICE_LIST, op_list, NULL},
	{ACRE_OP_SLICE_SHOW, op_show, name_keys},
	{ACRE_OP_SLICE_STAT, op_stat, stat_keys},
	{ACRE_OP_SLICE_KILL, op_kill, kill_keys},
	{ACRE_OP_SLICE_RM, op_rm, rm_keys},
	{ACRE_OP_SLICE_LOGS, op_logs, name_keys},
	{ACRE_OP_SLICE_WAIT, op_wait, name_keys},
};

void ops_dispatch(struct supervisor *sv, struct conn *c, const char *op, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(ops); i++) {
		if (strcmp(ops[i].name, op) != 0)
			continue;
		if (check_request_keys(req, ops[i].keys, &err) < 0) {
			conn_reply_error(c, id, &err);
			return;
		}
		ops[i].fn(sv, c, req, id);
		return;
	}
	acre_error_set(&err, EINVAL, "op", "unknown op \"%s\"", op);
	conn_reply_error(c, id, &err);
}
