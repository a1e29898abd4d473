/*
 * /v1/apps and /v1/deployments: thin handlers over the apps' verbs
 * (controller/apps/apps.h).  A change's reply waits for the commit, as
 * every reply to a change does; reads answer at once.
 */
#include "internal.h"

#include "controller/apps/apps.h"

static bool flag(struct evkeyvalq *q, const char *key)
{
	const char *v = api_query(q, key);
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !*v);
}

static void answer(struct api *a, struct evhttp_request *req, int rc, int status, json_t *body,
		   const struct acre_error *err)
{
	if (rc < 0) {
		json_decref(body);
		api_reply_error(a, req, api_status_for(rc), err);
		return;
	}
	api_defer_json(a, req, status, body);
}

static void read_answer(struct api *a, struct evhttp_request *req, int rc, json_t *body,
			const struct acre_error *err)
{
	if (rc < 0)
		api_reply_error(a, req, api_status_for(rc), err);
	else
		api_reply_json(a, req, 200, body);
}

API_HANDLER(api_apps_list)
{
	(void)p;
	(void)q;
	api_reply_json(a, req, 200, apps_list_json(a->opt.apps));
}

API_HANDLER(api_apps_create)
{
	(void)p;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	if (!body) {
		api_reply_error(a, req, 400, &err);
		return;
	}
	struct apps_request r = {.dry_run = flag(q, "dry_run"), .force = flag(q, "force")};
	json_t *reply = NULL;
	int rc = apps_create(a->opt.apps, body, &r, &reply, &err);
	if (rc == 0 && r.dry_run)
		api_reply_json(a, req, 200, reply);
	else
		answer(a, req, rc, 201, reply, &err);
}

API_HANDLER(api_app_show)
{
	(void)q;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = apps_show(a->opt.apps, api_param(p, "name"), &out, &err);
	read_answer(a, req, rc, out, &err);
}

API_HANDLER(api_app_put)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	if (!body) {
		api_reply_error(a, req, 400, &err);
		return;
	}
	struct apps_request r = {.name = api_param(p, "name"), .force = flag(q, "force")};
	json_t *reply = NULL;
	bool created = false;
	int rc = apps_update(a->opt.apps, body, &r, &reply, &created, &err);
	answer(a, req, rc, created ? 201 : 200, reply, &err);
}

API_HANDLER(api_app_delete)
{
	struct acre_error err = {0};
	struct apps_request r = {.name = api_param(p, "name"),
				 .force = flag(q, "force"),
				 .keep_volumes = flag(q, "keep_volumes")};
	json_t *reply = NULL;
	int rc = apps_remove(a->opt.apps, &r, &reply, &err);
	answer(a, req, rc, 202, reply, &err);
}

API_HANDLER(api_app_versions)
{
	(void)q;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = apps_versions_json(a->opt.apps, api_param(p, "name"), &out, &err);
	read_answer(a, req, rc, out, &err);
}

API_HANDLER(api_app_instances)
{
	(void)q;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = apps_instances_json(a->opt.apps, api_param(p, "name"), &out, &err);
	read_answer(a, req, rc, out, &err);
}

/* An unsigned member of the body, or its default when absent; -EINVAL names it. */
static int body_uint(const json_t *body, const char *key, bool required, unsigned max,
		     unsigned *out, struct acre_error *err)
{
	const json_t *v = json_object_get(body, key);
	if (!v && !required)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return acre_error_set(err, EINVAL, key, "%s: %s an integer from 0 to %u", key,
				      v ? "must be" : "required,", max);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

/* The body's keys must be among allowed (NULL-terminated). */
static int body_keys(const json_t *body, const char *const *allowed, struct acre_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v) {
		bool ok = false;
		for (const char *const *x = allowed; *x && !ok; x++)
			ok = !strcmp(*x, k);
		if (!ok)
			return acre_error_set(err, EINVAL, k, "%s: unknown field", k);
	}
	return 0;
}

/* POST /v1/apps/{name}/scale|restart|rollback|stop|start|move */
API_HANDLER(api_app_verb)
{
	struct acre_error err = {0};
	const char *verb = api_param(p, "verb");
	_cleanup_json_ json_t *body = api_read_body(req, true, &err);
	if (!body) {
		api_reply_error(a, req, 400, &err);
		return;
	}
	struct apps_request r = {.name = api_param(p, "name"), .force = flag(q, "force")};
	struct apps *apps = a->opt.apps;
	json_t *reply = NULL;
	int rc;
	if (!strcmp(verb, "scale")) {
		static const char *const keys[] = {"instances", NULL};
		rc = body_keys(body, keys, &err);
		if (rc == 0)
			rc = body_uint(body, "instances", true, APP_INSTANCES_MAX, &r.instances,
				       &err);
		if (rc == 0)
			rc = apps_scale(apps, &r, &reply, &err);
	} else if (!strcmp(verb, "rollback")) {
		static const char *const keys[] = {"version", NULL};
		unsigned v = 0;
		rc = body_keys(body, keys, &err);
		if (rc == 0)
			rc = body_uint(body, "version", false, UINT32_MAX / 2, &v, &err);
		r.version = v;
		if (rc == 0)
			rc = apps_rollback(apps, &r, &reply, &err);
	} else if (!strcmp(verb, "move")) {
		static const char *const keys[] = {"instance", "to", NULL};
		r.node = json_string_value(json_object_get(body, "to"));
		rc = body_keys(body, keys, &err);
		if (rc == 0)
			rc = body_uint(body, "instance", true, APP_INSTANCES_MAX, &r.index, &err);
		if (rc == 0 && !r.node)
			rc = acre_error_set(&err, EINVAL, "to", "to: required, a node id");
		if (rc == 0)
			rc = apps_move(apps, &r, &reply, &err);
	} else if (!strcmp(verb, "restart") || !strcmp(verb, "stop") || !strcmp(verb, "start")) {
		static const char *const none[] = {NULL};
		rc = body_keys(body, none, &err);
		if (rc == 0)
			rc = !strcmp(verb, "restart") ? apps_restart(apps, &r, &reply, &err)
			     : !strcmp(verb, "stop")  ? apps_stop(apps, &r, &reply, &err)
						      : apps_start(apps, &r, &reply, &err);
	} else {
		rc = acre_error_set(&err, ENOENT, "verb",
				    "no such action on an app: %s (scale, restart, rollback, stop, "
				    "start, move)",
				    verb);
	}
	answer(a, req, rc, 200, reply, &err);
}

API_HANDLER(api_deployments_list)
{
	(void)p;
	api_reply_json(a, req, 200,
		       apps_deployments_json(a->opt.apps, api_query(q, "app"), flag(q, "active")));
}

API_HANDLER(api_deployment_show)
{
	(void)q;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = apps_deployment_show(a->opt.apps, api_param(p, "id"), &out, &err);
	read_answer(a, req, rc, out, &err);
}

API_HANDLER(api_deployment_cancel)
{
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = apps_deployment_cancel(a->opt.apps, api_param(p, "id"), flag(q, "force"), &out,
					&err);
	answer(a, req, rc, 200, out, &err);
}

API_HANDLER(api_node_drain)
{
	(void)q;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = apps_node_drain(a->opt.apps, api_param(p, "id"), &out, &err);
	answer(a, req, rc, 202, out, &err);
}
