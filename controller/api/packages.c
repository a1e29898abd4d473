/*
 * /v1/packages, /v1/repos, /v1/bundles and /v1/artifacts: thin handlers
 * over the catalog (controller/packages/packages.h, "the pool's
 * installs").  A verb that waits on a download parks its request (park.c).
 */
#include "internal.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <sys/stat.h>

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
	if (rc == -EINPROGRESS)
		api_park(a, req);
	else if (rc < 0)
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
	if (rc == -EINPROGRESS)
		api_park(a, req);
	else if (rc < 0)
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

API_HANDLER(api_repo_refresh)
{
	(void)q;
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	json_t *out = NULL;
	int rc = installs_repo_refresh(a->opt.installs, api_param(p, "name"), &out, &err);
	if (rc == -EINPROGRESS)
		api_park(a, req);
	else if (rc < 0)
		api_reply_error(a, req, api_status_for(rc), &err);
	else
		api_reply_json(a, req, 200, out);
}

/* A file as the reply's body, by reference (libevent sends it from the fd). */
static void send_file(struct api *a, struct evhttp_request *req, const char *path, const char *type)
{
	struct acre_error err = {0};
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct evbuffer *out = evbuffer_new();
	if (fd < 0 || fstat(fd, &st) < 0 || !out || evbuffer_add_file(out, fd, 0, st.st_size) < 0) {
		acre_error_set(&err, errno ? errno : EIO, NULL, "sending %s: %s", path,
			       strerror(errno ? errno : EIO));
		if (out)
			evbuffer_free(out);
		else if (fd >= 0)
			close(fd);
		api_reply_error(a, req, 500, &err);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	api_count(a, 200);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

API_HANDLER(api_bundles_create)
{
	(void)p;
	(void)q;
	if (!served(a, req))
		return;
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = api_read_body(req, false, &err);
	_cleanup_free_ char *path = NULL;
	int rc = body ? installs_bundle(a->opt.installs, body, &path, &err) : -EINVAL;
	if (rc == -EINPROGRESS) {
		api_park(a, req);
		return;
	}
	if (rc < 0) {
		api_reply_error(a, req, api_status_for(rc), &err);
		return;
	}
	send_file(a, req, path, "application/x-tar");
	unlink(path); /* the open file lives on until it is sent */
}

API_HANDLER(api_artifact_get)
{
	(void)q;
	if (!served(a, req))
		return;
	char path[4096];
	const char *sha = api_param(p, "sha256");
	if (installs_artifact_path(a->opt.installs, sha, path, sizeof(path)) < 0) {
		struct acre_error err = {0};
		acre_error_set(&err, ENOENT, "sha256", "no bundled artifact has sha256 %s", sha);
		api_reply_error(a, req, 404, &err);
		return;
	}
	/* Told: which bundled artifacts the nodes fetch from here rather than their projects. */
	acre_log(ACRE_LOG_INFO, "event=artifact_served sha256=%s", sha);
	send_file(a, req, path, "application/octet-stream");
}
