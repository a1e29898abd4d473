/*
 * /v1/why/{kind}/{name}: why something does not run (pool_why), for the
 * kinds that have it: slice and app.
 */
#include "internal.h"

#include "controller/apps/apps.h"

API_HANDLER(api_why)
{
	(void)q;
	const char *kind = api_param(p, "kind"), *name = api_param(p, "name");
	struct acre_error err = {0};
	if (!strcmp(kind, "app") && a->opt.apps) {
		json_t *out = NULL;
		if (apps_why(a->opt.apps, name, &out, &err) < 0)
			api_reply_error(a, req, 404, &err);
		else
			api_reply_json(a, req, 200, out);
		return;
	}
	if (strcmp(kind, "slice") != 0) {
		acre_error_set(&err, ENOENT, "kind", "kind %s: not one that why knows (slice, app)",
			       kind);
		api_reply_error(a, req, 404, &err);
		return;
	}
	struct pool_slice *sl = pool_slice_find(a->pool, name);
	if (!sl) {
		acre_error_set(&err, ENOENT, "name", "no slice named %s in the pool", name);
		api_reply_error(a, req, 404, &err);
		return;
	}
	json_t *j = pool_why_slice(a->pool, sl);
	if (!j) {
		acre_error_set(&err, ENOMEM, NULL, "out of memory");
		api_reply_error(a, req, 500, &err);
		return;
	}
	api_reply_json(a, req, 200, j);
}
