/*
 * /v1/slices: create (one, or a batch of many in one request), list (in
 * creation order, a page at a time), show, kill and delete.  A slice is
 * checked completely — spec, placement, name, and whether any node could
 * ever hold it — before anything of it exists; then it is placed (or left
 * pending) and answered once committed.
 */
#include "api.h"

#include <event2/buffer.h>
#include <signal.h>

#define DEFAULT_LIMIT 1000
#define MAX_LIMIT 100000

/* A slice made in this pass that must not stay: gone without a trace or an event. */
static void discard(struct ctl *c, struct ctl_slice *sl)
{
	slice_table_remove(&c->slices, sl);
	c->by_state[sl->state]--;
	sl->deleted = true; /* never inserted: write_all skips it, then frees it */
}

static int take_spec(struct ctl_slice *sl, const struct acre_slice_spec *spec)
{
	sl->cpus = spec->resources.cpus_milli;
	sl->mem = spec->resources.memory;
	sl->restart = spec->restart;
	sl->restart_max = spec->restart_max;
	return 0;
}

static int take_placement(struct ctl_slice *sl, const struct acre_placement *p,
			  const struct acre_slice_spec *spec)
{
	sl->strategy = p->strategy;
	if (p->nconstraints || p->spread[0] || p->strategy != ACRE_STRATEGY_BINPACK) {
		sl->placement = malloc(sizeof(*p));
		if (!sl->placement)
			return -ENOMEM;
		*sl->placement = *p;
	}
	if (p->spread[0]) {
		/* Spread counts slices of one app together: the "app" label, else all of them. */
		const char *app = json_string_value(json_object_get(spec->labels, "app"));
		if (!(sl->spread = strdup(p->spread)) || !(sl->group = strdup(app ? app : "")))
			return -ENOMEM;
	}
	return 0;
}

/* One {"spec": ..., "placement": ...}: 0 and *out, or -errno with err. */
static int create_one(struct ctl *c, json_t *item, struct ctl_slice **out, struct acre_error *err)
{
	*out = NULL;
	json_t *spec_json = json_object_get(item, "spec");
	if (!spec_json && json_object_get(item, "command"))
		spec_json = item; /* a bare spec */
	else if (!json_is_object(item) || !spec_json)
		return acre_error_set(err, EINVAL, "spec", "spec: required, an object");
	if (spec_json != item) {
		const char *k;
		json_t *v;
		json_object_foreach(item, k, v)
			if (strcmp(k, "spec") && strcmp(k, "placement"))
				return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
	}
	struct acre_placement p;
	int rc = acre_controller_placement_from_json(
		spec_json == item ? NULL : json_object_get(item, "placement"), &p, err);
	if (rc < 0)
		return rc;
	struct acre_slice_spec spec;
	if ((rc = acre_slice_spec_parse(spec_json, &spec, err)) < 0)
		return acre_error_prefix(err, "spec");
	char name[ACRE_NAME_MAX + 1];
	if (spec.name[0])
		snprintf(name, sizeof(name), "%s", spec.name);
	else
		ctl_name_generate(c, name, sizeof(name));
	struct ctl_slice *sl = NULL;
	if (slice_find(c, name)) {
		rc = acre_error_set(err, EEXIST, "name",
				    "slice %s already exists in the pool (state %s); remove it first",
				    name, acre_slice_state_name(slice_find(c, name)->state));
		goto out;
	}
	if (!spec.name[0])
		json_object_set_new(spec_json, "name", json_string(name));
	if (!(sl = slice_new(c, name)) || take_spec(sl, &spec) < 0 ||
	    take_placement(sl, &p, &spec) < 0 ||
	    !(sl->spec_text = json_dumps(spec_json, JSON_COMPACT))) {
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	rc = place_slice(c, sl, sl->spec_text, true, err);
out:
	acre_slice_spec_free(&spec);
	if (rc < 0) {
		if (sl)
			discard(c, sl);
		return rc;
	}
	c->m.slices_created++;
	events_slice(c, sl, "created");
	acre_log(ACRE_LOG_DEBUG, "slice=%s event=created state=%s node=%s", sl->name,
		 acre_slice_state_name(sl->state), sl->node ? sl->node->id : "-");
	*out = sl;
	return 0;
}

static void error_item(struct evbuffer *out, const struct acre_error *err, size_t i)
{
	_cleanup_json_ json_t *e = api_error_json(err);
	json_object_set_new(e, "index", json_integer((json_int_t)i));
	_cleanup_free_ char *text = json_dumps(e, JSON_COMPACT);
	if (text)
		evbuffer_add(out, text, strlen(text));
}

/*
 * {"slices": [{"id", "state", "node"} | {"index", "error"}], "created", "failed"},
 * printed rather than built: names and node ids need no escaping, and a
 * batch of thousands is answered without a JSON object per slice.
 */
static void create_batch(struct ctl *c, struct evhttp_request *req, json_t *list)
{
	struct acre_error err = {0};
	if (json_array_size(list) > c->opt.max_batch) {
		acre_error_set(&err, EMSGSIZE, "slices", "slices: at most %u in one request",
			       c->opt.max_batch);
		api_reply_error(c, req, 413, &err);
		return;
	}
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(out, "{\"slices\":[", 11);
	size_t i, created = 0;
	json_t *item;
	json_array_foreach(list, i, item) {
		struct ctl_slice *sl;
		memset(&err, 0, sizeof(err));
		if (i)
			evbuffer_add(out, ",", 1);
		if (create_one(c, item, &sl, &err) < 0) {
			error_item(out, &err, i);
			continue;
		}
		if (sl->node)
			evbuffer_add_printf(out, "{\"id\":\"%s\",\"state\":\"%s\",\"node\":\"%s\"}",
					    sl->name, acre_slice_state_name(sl->state), sl->node->id);
		else
			evbuffer_add_printf(out, "{\"id\":\"%s\",\"state\":\"%s\",\"node\":null}",
					    sl->name, acre_slice_state_name(sl->state));
		created++;
	}
	evbuffer_add_printf(out, "],\"created\":%zu,\"failed\":%zu}\n", created,
			    json_array_size(list) - created);
	size_t len = evbuffer_get_length(out);
	char *text = malloc(len);
	if (text)
		evbuffer_remove(out, text, len);
	evbuffer_free(out);
	api_defer_text(c, req, 200, text, len);
}

void api_slices_create(struct ctl *c, struct evhttp_request *req)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	if (!body) {
		api_reply_error(c, req, 400, &err);
		return;
	}
	json_t *list = json_object_get(body, "slices");
	if (list) {
		if (!json_is_array(list) || json_object_size(body) != 1) {
			acre_error_set(&err, EINVAL, "slices",
				       "slices: an array of {\"spec\", \"placement\"}, alone in the "
				       "body");
			api_reply_error(c, req, 400, &err);
			return;
		}
		create_batch(c, req, list);
		return;
	}
	struct ctl_slice *sl;
	if (create_one(c, body, &sl, &err) < 0) {
		api_reply_error(c, req, api_status_for(err.code), &err);
		return;
	}
	api_defer_json(c, req, 201, view_slice(sl));
}

static void command_of(const char *spec, json_t *into)
{
	_cleanup_json_ json_t *j = spec ? json_loads(spec, 0, NULL) : NULL;
	json_t *cmd = json_object_get(j, "command");
	char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	size_t i;
	json_t *a;
	json_array_foreach(cmd, i, a) {
		if (n >= sizeof(buf) - 1 || !json_is_string(a))
			break;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				      json_string_value(a));
	}
	json_object_set_new(into, "command", json_string(buf));
	json_t *labels = json_object_get(j, "labels");
	json_object_set(into, "labels", json_is_object(labels) ? labels : json_object());
}

struct list_ctx {
	struct ctl *c;
	json_t *out;
	int64_t last;
	bool with_spec;
};

static int list_row(const struct store_slice_row *row, void *ud)
{
	struct list_ctx *l = ud;
	l->last = row->id;
	/* Memory has the latest state (this pass's changes are not written yet). */
	struct ctl_slice *sl = slice_find(l->c, row->name);
	if (!sl || sl->id != row->id)
		return 0;
	json_t *j = view_slice(sl);
	if (j && l->with_spec)
		command_of(row->spec, j);
	json_array_append_new(l->out, j);
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

void api_slices_list(struct ctl *c, struct evhttp_request *req, struct evkeyvalq *q)
{
	struct acre_error err = {0};
	uint64_t after = 0, limit = DEFAULT_LIMIT;
	const char *a = api_query(q, "after"), *l = api_query(q, "limit");
	const char *state = api_query(q, "state"), *node = api_query(q, "node");
	enum acre_slice_state st;
	if ((a && parse_u64(a, INT64_MAX, &after) < 0) ||
	    (l && parse_u64(l, MAX_LIMIT, &limit) < 0) || (l && limit == 0)) {
		acre_error_set(&err, EINVAL, "limit", "after and limit: integers, limit 1 to %d",
			       MAX_LIMIT);
		api_reply_error(c, req, 400, &err);
		return;
	}
	if (state && acre_slice_state_parse(state, &st) < 0) {
		acre_error_set(&err, EINVAL, "state", "state %.32s: unknown", state);
		api_reply_error(c, req, 400, &err);
		return;
	}
	const char *spec = api_query(q, "spec");
	struct list_ctx ctx = {.c = c, .out = json_array(),
			       .with_spec = spec && strcmp(spec, "0") && strcmp(spec, "false")};
	struct store_slice_query sq = {.after_id = (int64_t)after, .limit = (unsigned)limit,
				       .node_id = node, .state = state, .with_spec = ctx.with_spec};
	if (store_slice_list(c->store, &sq, list_row, &ctx, &err) < 0) {
		json_decref(ctx.out);
		api_reply_error(c, req, 500, &err);
		return;
	}
	/* A full page may have more after it. */
	json_t *next = ctx.last && json_array_size(ctx.out) >= limit ? json_integer(ctx.last)
								      : json_null();
	api_reply_json(c, req, 200, json_pack("{s:o,s:o}", "slices", ctx.out, "next_after", next));
}

static struct ctl_slice *lookup(struct ctl *c, struct evhttp_request *req, const char *name)
{
	struct ctl_slice *sl = slice_find(c, name);
	if (!sl) {
		struct acre_error err;
		acre_error_set(&err, ENOENT, "name", "no slice named %s in the pool", name);
		api_reply_error(c, req, 404, &err);
	}
	return sl;
}

void api_slice_show(struct ctl *c, struct evhttp_request *req, const char *name)
{
	struct ctl_slice *sl = lookup(c, req, name);
	if (!sl)
		return;
	json_t *j = view_slice(sl);
	struct acre_error err = {0};
	_cleanup_free_ char *spec = NULL, *placement = NULL;
	/* A slice made in this very pass is still in memory only. */
	const char *text = sl->spec_text;
	if (!text && store_slice_spec(c->store, sl->id, &spec, &placement, &err) == 0)
		text = spec;
	json_t *sj = text ? json_loads(text, 0, NULL) : NULL;
	if (sj) {
		command_of(text, j);
		json_object_set_new(j, "spec", sj);
	}
	api_reply_json(c, req, 200, j);
}

static bool truthy(const char *s)
{
	return s && (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes"));
}

void api_slice_delete(struct ctl *c, struct evhttp_request *req, const char *name,
		      struct evkeyvalq *q)
{
	struct ctl_slice *sl = lookup(c, req, name);
	if (!sl)
		return;
	struct acre_error err = {0};
	if (slice_is_active(sl) && !truthy(api_query(q, "force"))) {
		acre_error_set(&err, EBUSY, "name",
			       "slice %s is %s: kill it first, or remove it with --force", name,
			       acre_slice_state_name(sl->state));
		api_reply_error(c, req, 409, &err);
		return;
	}
	if (!sl->node) {
		slice_delete(c, sl);
		api_defer_json(c, req, 200, json_pack("{s:s,s:b}", "name", name, "removed", 1));
		return;
	}
	/* On a node: removed there first; the row goes when the node says it is gone. */
	slice_request_remove(c, sl);
	api_defer_json(c, req, 202,
		       json_pack("{s:s,s:b,s:s}", "name", name, "removing", 1, "node", sl->node->id));
}

static bool ending(int sig)
{
	return sig == 0 || sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGHUP ||
	       sig == SIGQUIT;
}

void api_slice_kill(struct ctl *c, struct evhttp_request *req, const char *name)
{
	struct ctl_slice *sl = lookup(c, req, name);
	if (!sl)
		return;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, true, &err);
	if (!body) {
		api_reply_error(c, req, 400, &err);
		return;
	}
	int sig = 0;
	json_t *s = json_object_get(body, "signal");
	if (s) {
		char buf[32];
		const char *text = json_string_value(s);
		if (json_is_integer(s)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(s));
			text = buf;
		}
		if (!text || acre_parse_signal(text, &sig, &err, "signal") < 0) {
			if (!text)
				acre_error_set(&err, EINVAL, "signal",
					       "signal: a name (TERM) or a number");
			api_reply_error(c, req, 400, &err);
			return;
		}
	}
	if (sl->state == ACRE_SLICE_PENDING && !sl->node) {
		/* Never placed: stopping it means not placing it. */
		pending_remove(c, sl);
		sl->desired = DESIRED_STOP;
		slice_set_state(c, sl, ACRE_SLICE_KILLED, "killed before it was placed");
		api_defer_json(c, req, 200, view_slice(sl));
		return;
	}
	if (!sl->node || (!slice_is_active(sl) && !slice_holds_resources(sl))) {
		acre_error_set(&err, ESRCH, "name", "slice %s is not running (state %s)", name,
			       acre_slice_state_name(sl->state));
		api_reply_error(c, req, 409, &err);
		return;
	}
	if (ending(sig) && sl->desired == DESIRED_RUN) {
		sl->desired = DESIRED_STOP;
		slice_mark_dirty(c, sl);
	}
	slice_request_kill(c, sl, sig);
	api_defer_json(c, req, 202,
		       json_pack("{s:s,s:s,s:s}", "name", name, "node", sl->node->id, "signal",
				 sig ? acre_signal_name(sig) : "TERM"));
}
