/*
 * /v1/packages and /v1/repos: thin handlers over the catalog
 * (controller/packages/packages.h, "the pool's installs").
 */
#include "internal.h"

#include "controller/packages/packages.h"

/* Served only when the controller has its installs (tests may run without). */
static bool served(struct api *a, struct evhttp_request *req)
{
	if (a->opt.installs)
		return true;
	struct acre_error err = {0};
	acre_error_set(&err, ENOENT, NULL, "packages are not served here");
	api_reply_error(a, req, 404, &err);
	return false;
}

API_HANDLER(api_packages_list)
{
	(void)p;
	if (served(a, req))
		api_reply_json(a, req, 200,
			       installs_catalog_json(a->opt.installs, api_query(q, "q")));
}

API_HANDLER(api_package_show)
{
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = installs_package_json(a->opt.installs, api_param(p, "name"),
				       api_query(q, "version"), &out, &err);
	if (rc < 0)
		api_reply_error(a, req, api_status_for(rc), &err);
	else
		api_reply_json(a, req, 200, out);
}

API_HANDLER(api_repos_list)
{
	(void)p;
	(void)q;
	if (served(a, req))
		api_reply_json(a, req, 200, installs_repos_json(a->opt.installs));
}

API_HANDLER(api_repos_add)
{
	(void)p;
	(void)q;
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	json_t *out = NULL;
	int rc = body ? installs_repo_add(a->opt.installs, body, &out, &err) : -EINVAL;
	if (rc < 0)
		api_reply_error(a, req, api_status_for(rc), &err);
	else
		api_defer_json(a, req, 201, out);
}

API_HANDLER(api_repo_delete)
{
	(void)q;
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	int rc = installs_repo_remove(a->opt.installs, api_param(p, "name"), &err);
	if (rc < 0)
		api_reply_error(a, req, api_status_for(rc), &err);
	else
		api_defer_json(a, req, 200, json_pack("{s:s}", "removed", api_param(p, "name")));
}
