/*
 * The operations of the supervisor's socket, one handler each, found
 * through a table.  A handler decodes its request (every argument checked
 * by name and type before anything is touched), calls the verb of
 * slice_ops.h that does the work, and answers with exactly one reply (some
 * of them later, through a waiter).
 */
#include "socket_ops.h"
#include "egress.h"
#include "pool_net.h"
#include "slice_ops.h"
#include "view.h"
#include "volume.h"
#include "fetch.h"
#include "binaries.h"
#include "waiters.h"

struct op {
	const char *name;
	void (*fn)(struct supervisor *sv, struct conn *c, json_t *req, json_t *id);
	const char *const *keys; /* what the request may carry besides op and id */
};

static int check_request_keys(json_t *req, const char *const *keys, struct acre_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach (req, k, v) {
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

/* The required string argument that names a slice. */
static const char *get_name(json_t *req, struct acre_error *err)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	if (!name)
		acre_error_set(err, EINVAL, "name", "name: required, a string");
	return name;
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

static void close_fds(int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
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

/*
 * The node itself, as it sees its place in the pool: overlay, subnet, routes;
 * and the host's firewall chains that would drop what it forwards.
 */
static void op_node_show(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	char host[256] = "", drops[512];
	gethostname(host, sizeof(host) - 1);
	bool dropped = egress_forward_drops(sv, drops, sizeof(drops)) > 0;
	conn_reply_ok(c, id,
		      json_pack("{s:s,s:s?,s:o,s:s?}", "hostname", host, "controller",
				sv->opt.link.controller, "network", pool_net_view(sv),
				"forward_dropped_by", dropped ? drops : NULL));
}

static void op_run(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice_create_options o = {.stdio = {-1, -1, -1}};
	bool stdio;
	struct acre_slice_spec spec;
	struct slice *s;
	int rc = get_bool(req, "detach", &o.detach, &err);
	if (rc == 0)
		rc = get_bool(req, "remove", &o.remove_on_exit, &err);
	if (rc == 0)
		rc = get_bool(req, "stdio", &stdio, &err);
	/* The client attaches its stdin, stdout and stderr to this very request. */
	for (int i = 0; rc == 0 && stdio && i < 3; i++)
		o.stdio[i] = conn_take_fd(c);
	if (rc == 0)
		rc = acre_slice_spec_parse(json_object_get(req, "spec"), &spec, &err);
	if (rc == 0)
		rc = slice_ops_create(sv, &spec, &o, &s, &err); /* takes the spec and fds over */
	else
		close_fds(o.stdio);
	if (rc < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	waiter_add(s, c, id, o.detach ? WAIT_RUN_DETACHED : WAIT_RUN_FOREGROUND);
}

static void op_list(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	json_t *list = json_array();
	_cleanup_free_ struct slice **slices = slice_ops_list(sv);
	for (size_t i = 0; slices && slices[i]; i++)
		json_array_append_new(list, view_slice_summary(slices[i]));
	conn_reply_ok(c, id, json_pack("{s:o}", "slices", list));
}

static void op_show(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s;
	const char *name = get_name(req, &err);
	if (!name || slice_ops_find(sv, SLICE_CALLER_SOCKET, name, &s, &err) < 0) {
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
	size_t i, n = json_array_size(names);
	json_t *v;
	_cleanup_free_ const char **list = calloc(n + 1, sizeof(*list));
	if (!list)
		return;
	json_array_foreach (names, i, v) {
		if (!(list[i] = json_string_value(v))) {
			acre_error_set(&err, ENOENT, "names", "no slice named ?");
			conn_reply_error(c, id, &err);
			return;
		}
	}
	struct evbuffer *b = evbuffer_new();
	_cleanup_free_ char *idtext = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!b || !idtext) {
		if (b)
			evbuffer_free(b);
		return;
	}
	evbuffer_add_printf(b, "{\"id\":%s,\"ok\":true,\"result\":{\"slices\":[", idtext);
	if (slice_ops_stat(sv, list, n, b, &err) < 0) {
		evbuffer_free(b);
		conn_reply_error(c, id, &err);
		return;
	}
	_cleanup_json_ json_t *acct =
		sv->bpf ? json_string("on") : json_sprintf("off: %s", sv->accounting_off);
	_cleanup_free_ char *accttext = json_dumps(acct, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	evbuffer_add_printf(b, "],\"accounting\":%s}}\n", accttext ? accttext : "null");
	conn_send_buffer(c, b);
	evbuffer_free(b);
}

static void op_kill(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s;
	int sig;
	const char *name = get_name(req, &err);
	if (!name || slice_ops_kill(sv, SLICE_CALLER_SOCKET, name, json_object_get(req, "signal"),
				    &s, &sig, &err) < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	conn_reply_ok(c, id,
		      json_pack("{s:s,s:s}", "name", s->rec.spec.name, "signal",
				acre_signal_name(sig) ? acre_signal_name(sig) : "?"));
}

static void op_volume_list(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	conn_reply_ok(c, id, json_pack("{s:o}", "volumes", volumes_list(sv)));
}

static void op_volume_rm(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	const char *name = get_name(req, &err);
	if (!name || volume_remove(sv, name, &err) < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	conn_reply_ok(c, id, json_pack("{s:s,s:b}", "name", name, "removed", 1));
}

static void op_rm(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	bool force;
	struct slice *s;
	const char *name = get_name(req, &err);
	int rc = !name ? -EINVAL : get_bool(req, "force", &force, &err);
	if (rc == 0)
		rc = slice_ops_remove(sv, SLICE_CALLER_SOCKET, name, force, &s, &err);
	if (rc < 0)
		conn_reply_error(c, id, &err);
	else if (rc > 0)
		waiter_add(s, c, id, WAIT_REMOVED);
	else
		conn_reply_ok(c, id, json_pack("{s:s,s:b}", "name", name, "removed", 1));
}

static void op_logs(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	struct acre_error err = {0};
	struct slice *s;
	_cleanup_close_ int fd = -1;
	const char *name = get_name(req, &err);
	if (!name || slice_ops_logs(sv, SLICE_CALLER_SOCKET, name, &s, &fd, &err) < 0) {
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
	struct slice *s;
	const char *name = get_name(req, &err);
	int rc = !name ? -EINVAL : slice_ops_wait(sv, SLICE_CALLER_SOCKET, name, &s, &err);
	if (rc < 0)
		conn_reply_error(c, id, &err);
	else if (rc > 0)
		waiter_add(s, c, id, WAIT_END);
	else
		conn_reply_ok(c, id, view_slice_result(s));
}

static const char *const run_keys[] = {"spec", "detach", "remove", "stdio", NULL};
static const char *const name_keys[] = {"name", NULL};
static void op_artifact_list(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	conn_reply_ok(c, id, json_pack("{s:o}", "artifacts", artifacts_list(sv)));
}

static void op_artifact_prune(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)req;
	struct acre_error err = {0};
	json_t *removed = NULL;
	if (artifacts_prune(sv, &removed, &err) < 0) {
		conn_reply_error(c, id, &err);
		return;
	}
	conn_reply_ok(c, id, json_pack("{s:o}", "removed", removed));
}

static void op_binaries_check(struct supervisor *sv, struct conn *c, json_t *req, json_t *id)
{
	(void)sv;
	struct acre_error err = {0};
	json_t *result = binaries_check(req, &err);
	if (!result)
		conn_reply_error(c, id, &err);
	else
		conn_reply_ok(c, id, result);
}

static const char *const paths_keys[] = {"paths", NULL};
static const char *const kill_keys[] = {"name", "signal", NULL};
static const char *const rm_keys[] = {"name", "force", NULL};
static const char *const stat_keys[] = {"names", NULL};

static const struct op ops[] = {
	{ACRE_OP_PING, op_ping, NULL},
	{ACRE_OP_NODE_SHOW, op_node_show, NULL},
	{ACRE_OP_SLICE_RUN, op_run, run_keys},
	{ACRE_OP_SLICE_LIST, op_list, NULL},
	{ACRE_OP_SLICE_SHOW, op_show, name_keys},
	{ACRE_OP_SLICE_STAT, op_stat, stat_keys},
	{ACRE_OP_SLICE_KILL, op_kill, kill_keys},
	{ACRE_OP_SLICE_RM, op_rm, rm_keys},
	{ACRE_OP_SLICE_LOGS, op_logs, name_keys},
	{ACRE_OP_SLICE_WAIT, op_wait, name_keys},
	{ACRE_OP_VOLUME_LIST, op_volume_list, NULL},
	{ACRE_OP_VOLUME_RM, op_volume_rm, name_keys},
	{ACRE_OP_ARTIFACT_LIST, op_artifact_list, NULL},
	{ACRE_OP_ARTIFACT_PRUNE, op_artifact_prune, NULL},
	{ACRE_OP_BINARIES_CHECK, op_binaries_check, paths_keys},
};

static void dispatch(struct supervisor *sv, struct conn *c, const char *op, json_t *req, json_t *id)
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

static void conn_closed(struct supervisor *sv, struct conn *c)
{
	(void)sv;
	waiters_detach_conn(c);
}

const struct server_handler socket_ops_handler = {.request = dispatch, .closed = conn_closed};
