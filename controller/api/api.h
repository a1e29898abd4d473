/*
 * api: the HTTP API on --api-listen (libevent's evhttp) — bearer-token
 * authentication, the routes of /v1/..., /metrics and the event log,
 * JSON replies and errors.  Handlers are thin: they read the request,
 * call a verb of the pool, and answer.  A request that changes the pool
 * is answered only after the pass's commit (api_flush), so a 2xx means
 * the change is on disk.
 */
#ifndef ACRE_CONTROLLER_API_H
#define ACRE_CONTROLLER_API_H

#include "common/common.h"
#include "controller/api/eventlog.h"

struct event_base;
struct pool;
struct api;
struct apps;

/* What a host needs to join the pool: where, the join token, the CA's hash (NULL: no CA). */
struct api_join {
	const char *node_listen, *token, *ca_hash;
};

struct nodeport;

struct api_options {
	const char *listen;		/* HOST:PORT */
	const char *token;		/* what Authorization: Bearer must carry */
	unsigned max_batch;		/* slices per POST /v1/slices */
	struct eventlog_options events; /* --events-max, --events-max-age */
	struct apps *apps;		/* /v1/apps, /v1/deployments; NULL: not served */
	struct installs *installs; /* /v1/packages, /v1/repos, /v1/installs; NULL: not served */
	struct api_join join;	   /* GET /v1/join (join.c) */
	struct nodeport *nodeport; /* where slices' logs come from (their nodes) */
};

/* ---- the route table (route.c) ---- */

struct evhttp_request;
struct evkeyvalq;

#define API_PARAMS_MAX 4
#define API_PARAM_MAX  255

/* The {name} segments of a matched path. */
struct api_params {
	unsigned n;
	struct {
		const char *name; /* into the pattern, name_len bytes */
		size_t name_len;
		char value[API_PARAM_MAX + 1];
	} p[API_PARAMS_MAX];
};

struct api_route {
	int method;	     /* one EVHTTP_REQ_* */
	const char *pattern; /* "/v1/slices/{id}/kill" */
	void (*handler)(struct api *a, struct evhttp_request *req, const struct api_params *p,
			struct evkeyvalq *q);
	bool public; /* answered without the token */
};

/* The routes of the API, in the order they are tried. */
extern const struct api_route api_routes[];
extern const size_t api_nroutes;

/*
 * The route for a method and path: 0, *out and its parameters; -ENOENT
 * when no route has the path (404); -EOPNOTSUPP when routes have it for
 * other methods only (405), named in allow ("GET, DELETE").
 */
int api_route_match(const struct api_route *table, size_t n, int method, const char *path,
		    const struct api_route **out, struct api_params *params, char *allow,
		    size_t allow_len);
/* A parameter of the path by name, or NULL. */
const char *api_param(const struct api_params *p, const char *name);
const char *api_method_name(int method);

int api_start(struct event_base *base, struct pool *pool, const struct api_options *o,
	      struct api **out, struct acre_error *err);
/* After the pass's commit: the replies that waited for it. */
void api_flush(struct api *a);
void api_stop(struct api *a);

#endif
