/*
 * /v1/installs: thin handlers over the installs' verbs
 * (controller/packages/packages.h).  A change's reply waits for the
 * commit; a dry run and the reads answer at once.
 */
#include "internal.h"

#include "controller/packages/packages.h"

static bool flag(struct evkeyvalq *q, const char *key)
{
	const char *v = api_query(q, key);
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !*v);
}

static bool served(struct api *a, struct evhttp_request *req)
{
	if (a->opt.installs)
		return true;
	struct acre_error err = {0};
	acre_error_set(&err, ENOENT, NULL, "installs are not served here");
	api_reply_error(a, req, 404, &err);
	return false;
}

static void answer(struct api *a, struct evhttp_request *req, int rc, int status, bool dry_run,
		   json_t *body, const struct acre_error *err)
{
	if (rc == -EINPROGRESS) {
		json_decref(body);
		api_park(a, req); /* a package archive being fetched: asked again after */
	} else if (rc < 0) {
		json_decref(body);
		api_reply_error(a, req, api_status_for(rc), err);
	} else if (dry_run) {
		api_reply_json(a, req, 200, body);
	} else {
		api_defer_json(a, req, status, body);
	}
}

/* What a body's field must be, or NULL when v is that. */
static const char *wrong_type(const char *k, const json_t *v)
{
	if (!strcmp(k, "set"))
		return json_is_array(v) ? NULL : "an array of \"a.b=VALUE\"";
	if (!strcmp(k, "options"))
		return json_is_object(v) ? NULL : "an object";
	if (!strcmp(k, "revision"))
		return json_is_integer(v) && json_integer_value(v) >= 1 &&
				       json_integer_value(v) <= 1000000000
			       ? NULL
			       : "a positive integer";
	return json_is_string(v) ? NULL : "a string";
}

/* The body's keys must be among allowed (NULL-terminated), each of its type. */
static int body_check(const json_t *body, const char *const *allowed, struct acre_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v) {
		bool ok = false;
		for (const char *const *x = allowed; *x && !ok; x++)
			ok = !strcmp(*x, k);
		if (!ok)
			return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
		const char *want = wrong_type(k, v);
		if (want)
			return acre_error_set(err, EINVAL, k, "%s: must be %s", k, want);
	}
	return 0;
}

static const char *str(const json_t *body, const char *key)
{
	return json_string_value(json_object_get(body, key));
}

API_HANDLER(api_installs_list)
{
	(void)p;
	(void)q;
	if (served(a, req))
		api_reply_json(a, req, 200, installs_list_json(a->opt.installs));
}

API_HANDLER(api_installs_create)
{
	(void)p;
	if (!served(a, req))
		return;
	static const char *const keys[] = {"package", "version", "name", "options", "set", NULL};
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	int rc = body ? body_check(body, keys, &err) : -EINVAL;
	struct install_request r = {.name = str(body, "name"),
				    .package = str(body, "package"),
				    .version = str(body, "version"),
				    .options = json_object_get(body, "options"),
				    .set = json_object_get(body, "set"),
				    .dry_run = flag(q, "dry_run")};
	json_t *reply = NULL;
	if (rc == 0)
		rc = installs_install(a->opt.installs, &r, &reply, &err);
	answer(a, req, rc, 201, r.dry_run, reply, &err);
}

API_HANDLER(api_install_show)
{
	(void)q;
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = installs_show(a->opt.installs, api_param(p, "name"), &out, &err);
	if (rc < 0)
		api_reply_error(a, req, api_status_for(rc), &err);
	else
		api_reply_json(a, req, 200, out);
}

API_HANDLER(api_install_put)
{
	if (!served(a, req))
		return;
	static const char *const keys[] = {"version", "options", "set", NULL};
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, true, &err);
	int rc = body ? body_check(body, keys, &err) : -EINVAL;
	struct install_request r = {.name = api_param(p, "name"),
				    .version = str(body, "version"),
				    .options = json_object_get(body, "options"),
				    .set = json_object_get(body, "set"),
				    .dry_run = flag(q, "dry_run")};
	json_t *reply = NULL;
	if (rc == 0)
		rc = installs_upgrade(a->opt.installs, &r, &reply, &err);
	answer(a, req, rc, 200, r.dry_run, reply, &err);
}

API_HANDLER(api_install_rollback)
{
	(void)q;
	if (!served(a, req))
		return;
	static const char *const keys[] = {"revision", NULL};
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, true, &err);
	int rc = body ? body_check(body, keys, &err) : -EINVAL;
	struct install_request r = {
		.name = api_param(p, "name"),
		.revision = (unsigned)json_integer_value(json_object_get(body, "revision"))};
	json_t *reply = NULL;
	if (rc == 0)
		rc = installs_rollback(a->opt.installs, &r, &reply, &err);
	answer(a, req, rc, 200, false, reply, &err);
}

API_HANDLER(api_install_delete)
{
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	struct install_request r = {.name = api_param(p, "name"),
				    .keep_volumes = flag(q, "keep_volumes")};
	json_t *reply = NULL;
	int rc = installs_uninstall(a->opt.installs, &r, &reply, &err);
	answer(a, req, rc, 202, false, reply, &err);
}
