/*
 * api: the HTTP API on --api-listen (libevent's evhttp) — bearer-token
 * authentication, the routes of /v1/..., /metrics and the event stream,
 * JSON replies and errors.  Handlers are thin: they read the request,
 * call a verb of the pool, and answer.  A request that changes the pool
 * is answered only after the pass's commit (api_flush), so a 2xx means
 * the change is on disk.
 */
#ifndef ACRE_CONTROLLER_API_H
#define ACRE_CONTROLLER_API_H

#include "common/common.h"

struct event_base;
struct pool;
struct api;

struct api_options {
	const char *listen; /* HOST:PORT */
	const char *token;  /* what Authorization: Bearer must carry */
	unsigned max_batch; /* slices per POST /v1/slices */
};

int api_start(struct event_base *base, struct pool *pool, const struct api_options *o,
	      struct api **out, struct acre_error *err);
/* After the pass's commit: the replies that waited for it. */
void api_flush(struct api *a);
void api_stop(struct api *a);

#endif
