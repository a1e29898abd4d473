/*
 * The slice backend of the pool: the controller's HTTP API (/v1/slices),
 * its replies put into the shapes of slice_shape.c.  A list is read a page
 * at a time (a pool may hold a million slices) and filtered by the
 * controller (?state=, ?node=, ?label=K=V).  Slices in a pool run
 * detached, on a machine the client is not on: their logs come through
 * the controller (slice_pool_logs.c), and so does a foreground run, on
 * the log (slice_pool_foreground.c); their usage stays on the node, so
 * stat is asked of the node itself.
 */
#include "cli.h"

#define PAGE 5000

/* "&key=VALUE", the value escaped, appended to a growing query. */
static int query_add(char **q, const char *key, const char *value)
{
	_cleanup_free_ char *escaped = cli_uri_escape(value);
	char *grown = NULL;
	if (!escaped || asprintf(&grown, "%s&%s=%s", *q ? *q : "", key, escaped) < 0)
		return -ENOMEM;
	free(*q);
	*q = grown;
	return 0;
}

static int query_of(const struct slice_filter *f, char **q)
{
	*q = NULL;
	if (f->node && query_add(q, "node", f->node) < 0)
		return -ENOMEM;
	if (f->state && query_add(q, "state", f->state) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < f->labels.n; i++)
		if (query_add(q, "label", f->labels.v[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int failed(struct acre_error *err)
{
	return err->code ? -err->code : -EIO;
}

static int pool_list(struct cli *cli, const struct slice_filter *f, json_t **slices,
		     struct acre_error *err)
{
	_cleanup_free_ char *filter = NULL;
	if (query_of(f, &filter) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	_cleanup_json_ json_t *all = json_array();
	json_int_t after = 0;
	for (;;) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "/v1/slices?spec=1&limit=%d&after=%lld%s", PAGE,
			     (long long)after, filter ? filter : "") < 0)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, path, NULL, err);
		if (!res)
			return failed(err);
		size_t i;
		json_t *s;
		json_array_foreach (json_object_get(res, "slices"), i, s)
			json_array_append_new(all, slice_shape_pool(s, false));
		json_t *next = json_object_get(res, "next_after");
		if (!json_is_integer(next))
			break;
		after = json_integer_value(next);
	}
	*slices = TAKE_PTR(all);
	return 0;
}

/* "/v1/slices/NAME" and what follows, the name escaped. */
static char *slice_path(const char *name, const char *rest)
{
	_cleanup_free_ char *escaped = cli_uri_escape(name);
	char *path;
	if (!escaped || asprintf(&path, "/v1/slices/%s%s", escaped, rest) < 0)
		return NULL;
	return path;
}

static int pool_show(struct cli *cli, const char *name, json_t **slice, struct acre_error *err)
{
	_cleanup_free_ char *path = slice_path(name, "");
	if (!path)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, path, NULL, err);
	if (!res)
		return failed(err);
	*slice = slice_shape_pool(res, true);
	return 0;
}

static int pool_run(struct cli *cli, const struct run_request *req, json_t **slice,
		    struct acre_error *err)
{
	if (req->remove && req->detach)
		return acre_error_set(err, EINVAL, "--rm",
				      "--rm with --detach is not available in a pool: remove the "
				      "slice with acre slice rm, or run it in the foreground");
	_cleanup_json_ json_t *body = json_pack("{s:O}", "spec", req->spec);
	if (req->placement)
		json_object_set(body, "placement", req->placement);
	_cleanup_json_ json_t *res = cli_api(cli, CLI_POST, "/v1/slices", body, err);
	if (!res)
		return failed(err);
	*slice = slice_shape_pool(res, false);
	return 0;
}

static int pool_kill(struct cli *cli, const char *name, int signo, json_t **result,
		     struct acre_error *err)
{
	_cleanup_json_ json_t *body = json_object();
	if (signo)
		json_object_set_new(body, "signal", json_integer(signo));
	_cleanup_free_ char *path = slice_path(name, "/kill");
	if (!path)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	_cleanup_json_ json_t *res = cli_api(cli, CLI_POST, path, body, err);
	if (!res)
		return failed(err);
	*result = slice_shape_kill(res, name);
	return 0;
}

static int pool_rm(struct cli *cli, const char *name, bool force, json_t **result,
		   struct acre_error *err)
{
	_cleanup_free_ char *path = slice_path(name, force ? "?force=1" : "");
	if (!path)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	_cleanup_json_ json_t *res = cli_api(cli, CLI_DELETE, path, NULL, err);
	if (!res)
		return failed(err);
	*result = slice_shape_rm(res, name);
	return 0;
}

const struct slice_backend slice_pool_backend = {
	.name = "pool",
	.places = true,
	.lacks = "the pool does not relay a slice's usage, which only its node measures: ask "
		 "that node with --socket (acre slice show NAME says which)",
	.list = pool_list,
	.show = pool_show,
	.run = pool_run,
	.run_attached = slice_pool_run_attached,
	.kill = pool_kill,
	.rm = pool_rm,
	.logs = slice_pool_logs,
};
