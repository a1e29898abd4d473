/*
 * /v1/slices: create (one, or a batch of many in one request), list (in
 * creation order, a page at a time), show, kill and delete — each a verb
 * of the pool.  The body's spec goes to pool_slice_create as the object
 * it came in; its reply, like every reply to a change, waits for the
 * commit.
 */
#include "internal.h"

#include "common/jsonw.h"

#define DEFAULT_LIMIT 1000
#define MAX_LIMIT     100000

/* One {"spec": ..., "placement": ...} (or a bare spec): 0 and *out, or -errno with err. */
static int create_one(struct api *a, json_t *item, struct pool_slice **out, struct acre_error *err)
{
	*out = NULL;
	json_t *spec = json_object_get(item, "spec");
	if (!spec && json_object_get(item, "command"))
		spec = item; /* a bare spec */
	else if (!json_is_object(item) || !spec)
		return acre_error_set(err, EINVAL, "spec", "spec: required, an object");
	if (spec != item) {
		const char *k;
		json_t *v;
		json_object_foreach (item, k, v)
			if (strcmp(k, "spec") && strcmp(k, "placement"))
				return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
	}
	struct acre_placement p;
	int rc = acre_proto_placement_from_json(
		spec == item ? NULL : json_object_get(item, "placement"), &p, err);
	if (rc < 0)
		return rc;
	return pool_slice_create(a->pool, spec, &p, out, err);
}

static void created_item(struct acre_jsonw *w, const struct pool_slice *sl)
{
	acre_jsonw_object(w);
	acre_jsonw_key(w, "id");
	acre_jsonw_string(w, sl->name);
	acre_jsonw_key(w, "state");
	acre_jsonw_string(w, acre_slice_state_name(sl->state));
	acre_jsonw_key(w, "node");
	acre_jsonw_string(w, sl->node ? sl->node->id : NULL);
	acre_jsonw_end_object(w);
}

static void failed_item(struct acre_jsonw *w, const struct acre_error *err, size_t i)
{
	_cleanup_json_ json_t *e = api_error_json(err);
	acre_jsonw_object(w);
	acre_jsonw_key(w, "error");
	acre_jsonw_json(w, json_object_get(e, "error"));
	acre_jsonw_key(w, "index");
	acre_jsonw_int(w, (int64_t)i);
	acre_jsonw_end_object(w);
}

/*
 * {"slices": [{"id", "state", "node"} | {"error", "index"}], "created", "failed"},
 * written as it goes: a batch of thousands is answered without a JSON
 * object per slice.
 */
static void create_batch(struct api *a, struct evhttp_request *req, json_t *list)
{
	struct acre_error err = {0};
	if (json_array_size(list) > a->opt.max_batch) {
		acre_error_set(&err, EMSGSIZE, "slices", "slices: at most %u in one request",
			       a->opt.max_batch);
		api_reply_error(a, req, 413, &err);
		return;
	}
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	acre_jsonw_object(&w);
	acre_jsonw_key(&w, "slices");
	acre_jsonw_array(&w);
	size_t i, created = 0;
	json_t *item;
	json_array_foreach (list, i, item) {
		struct pool_slice *sl;
		memset(&err, 0, sizeof(err));
		if (create_one(a, item, &sl, &err) < 0) {
			failed_item(&w, &err, i);
			continue;
		}
		created_item(&w, sl);
		created++;
	}
	acre_jsonw_end_array(&w);
	acre_jsonw_key(&w, "created");
	acre_jsonw_int(&w, (int64_t)created);
	acre_jsonw_key(&w, "failed");
	acre_jsonw_int(&w, (int64_t)(json_array_size(list) - created));
	acre_jsonw_end_object(&w);
	acre_jsonw_newline(&w);
	size_t len = 0;
	char *text = acre_jsonw_take(&w, &len);
	api_defer_text(a, req, 200, text, len);
}

API_HANDLER(api_slices_create)
{
	(void)p;
	(void)q;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	if (!body) {
		api_reply_error(a, req, 400, &err);
		return;
	}
	json_t *list = json_object_get(body, "slices");
	if (list) {
		if (!json_is_array(list) || json_object_size(body) != 1) {
			acre_error_set(
				&err, EINVAL, "slices",
				"slices: an array of {\"spec\", \"placement\"}, alone in the "
				"body");
			api_reply_error(a, req, 400, &err);
			return;
		}
		create_batch(a, req, list);
		return;
	}
	struct pool_slice *sl;
	if (create_one(a, body, &sl, &err) < 0) {
		api_reply_error(a, req, api_status_for(err.code), &err);
		return;
	}
	api_defer_json(a, req, 201, pool_slice_json(sl));
}

/* "command" as one line, and "labels", for lists and shows. */
static void command_of(const json_t *spec, json_t *into)
{
	json_t *cmd = json_object_get(spec, "command");
	char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	size_t i;
	json_t *arg;
	json_array_foreach (cmd, i, arg) {
		if (n >= sizeof(buf) - 1 || !json_is_string(arg))
			break;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				      json_string_value(arg));
	}
	json_object_set_new(into, "command", json_string(buf));
	json_t *labels = json_object_get(spec, "labels");
	if (json_is_object(labels))
		json_object_set(into, "labels", labels);
	else
		json_object_set_new(into, "labels", json_object());
}

struct list_ctx {
	json_t *out;
	int64_t last;
	bool with_spec;
};

static int list_row(const struct pool_slice *sl, json_t *spec, void *ud)
{
	struct list_ctx *l = ud;
	l->last = sl->id;
	json_t *j = pool_slice_json(sl);
	if (j && l->with_spec)
		command_of(spec, j);
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

API_HANDLER(api_slices_list)
{
	(void)p;
	struct acre_error err = {0};
	uint64_t after = 0, limit = DEFAULT_LIMIT;
	const char *after_s = api_query(q, "after"), *limit_s = api_query(q, "limit");
	const char *state = api_query(q, "state");
	enum acre_slice_state st = ACRE_SLICE_PENDING;
	if ((after_s && parse_u64(after_s, INT64_MAX, &after) < 0) ||
	    (limit_s && parse_u64(limit_s, MAX_LIMIT, &limit) < 0) || (limit_s && limit == 0)) {
		acre_error_set(&err, EINVAL, "limit", "after and limit: integers, limit 1 to %d",
			       MAX_LIMIT);
		api_reply_error(a, req, 400, &err);
		return;
	}
	if (state && acre_slice_state_parse(state, &st) < 0) {
		acre_error_set(&err, EINVAL, "state", "state %.32s: unknown", state);
		api_reply_error(a, req, 400, &err);
		return;
	}
	/* ?label=K=V, repeatable: every one must match. */
	struct pool_label_filter labels = {0};
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, q, next)
	{
		if (strcmp(kv->key, "label"))
			continue;
		if (pool_label_filter_add(&labels, kv->value, &err) < 0) {
			api_reply_error(a, req, 400, &err);
			return;
		}
	}
	const char *spec = api_query(q, "spec");
	struct list_ctx ctx = {.out = json_array(),
			       .with_spec = spec && strcmp(spec, "0") && strcmp(spec, "false")};
	struct pool_slice_query pq = {
		.after = (int64_t)after,
		.limit = (unsigned)limit,
		.node_id = api_query(q, "node"),
		.state = state ? (int)st : -1,
		.labels = &labels,
		.with_spec = ctx.with_spec,
	};
	if (pool_slice_list(a->pool, &pq, list_row, &ctx, &err) < 0) {
		json_decref(ctx.out);
		api_reply_error(a, req, 500, &err);
		return;
	}
	/* A full page may have more after it. */
	json_t *next = ctx.last && json_array_size(ctx.out) >= limit ? json_integer(ctx.last)
								     : json_null();
	api_reply_json(a, req, 200, json_pack("{s:o,s:o}", "slices", ctx.out, "next_after", next));
}

static struct pool_slice *lookup(struct api *a, struct evhttp_request *req, const char *name)
{
	struct pool_slice *sl = pool_slice_find(a->pool, name);
	if (!sl) {
		struct acre_error err;
		acre_error_set(&err, ENOENT, "name", "no slice named %s in the pool", name);
		api_reply_error(a, req, 404, &err);
	}
	return sl;
}

API_HANDLER(api_slice_show)
{
	(void)q;
	struct pool_slice *sl = lookup(a, req, api_param(p, "id"));
	if (!sl)
		return;
	json_t *j = pool_slice_json(sl);
	json_t *spec = NULL;
	struct acre_error err = {0};
	if (pool_slice_spec(a->pool, sl, &spec, &err) == 0) {
		command_of(spec, j);
		json_object_set_new(j, "spec", spec);
	}
	api_reply_json(a, req, 200, j);
}

static bool truthy(const char *s)
{
	return s && (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes"));
}

API_HANDLER(api_slice_delete)
{
	const char *name = api_param(p, "id");
	struct pool_slice *sl = lookup(a, req, name);
	if (!sl)
		return;
	struct acre_error err = {0};
	int rc = pool_slice_remove(a->pool, sl, truthy(api_query(q, "force")), &err);
	if (rc < 0)
		api_reply_error(a, req, api_status_for(err.code), &err);
	else if (rc == 0)
		api_defer_json(a, req, 200, json_pack("{s:s,s:b}", "name", name, "removed", 1));
	else
		api_defer_json(a, req, 202,
			       json_pack("{s:s,s:b,s:s}", "name", name, "removing", 1, "node",
					 sl->node->id));
}

/* {"signal": "TERM"} or {"signal": 15}; none: 0, TERM then KILL. */
static int read_signal(json_t *body, int *sig, struct acre_error *err)
{
	*sig = 0;
	json_t *s = json_object_get(body, "signal");
	if (!s)
		return 0;
	char buf[32];
	const char *text = json_string_value(s);
	if (json_is_integer(s)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(s));
		text = buf;
	}
	if (!text)
		return acre_error_set(err, EINVAL, "signal", "signal: a name (TERM) or a number");
	return acre_parse_signal(text, sig, err, "signal");
}

API_HANDLER(api_slice_kill)
{
	(void)q;
	const char *name = api_param(p, "id");
	struct pool_slice *sl = lookup(a, req, name);
	if (!sl)
		return;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, true, &err);
	int sig;
	if (!body || read_signal(body, &sig, &err) < 0) {
		api_reply_error(a, req, 400, &err);
		return;
	}
	int rc = pool_slice_kill(a->pool, sl, sig, &err);
	if (rc < 0)
		api_reply_error(a, req, api_status_for(err.code), &err);
	else if (rc == 0)
		api_defer_json(a, req, 200, pool_slice_json(sl));
	else
		api_defer_json(a, req, 202,
			       json_pack("{s:s,s:s,s:s}", "name", name, "node", sl->node->id,
					 "signal", sig ? acre_signal_name(sig) : "TERM"));
}
