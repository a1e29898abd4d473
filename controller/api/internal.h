/*
 * What the files of api/ share: the server's state, replies (now, or
 * after the commit), errors as JSON, and the handlers of each resource.
 */
#ifndef ACRE_CONTROLLER_API_INTERNAL_H
#define ACRE_CONTROLLER_API_INTERNAL_H

#include "controller/api/api.h"
#include "controller/pool/pool.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

#define LATENCY_BUCKETS 14

/* What the API counts itself; the pool's counters are pool_stats(). */
struct api_metrics {
	uint64_t requests[6]; /* by class: 1xx..5xx, [0] other */
	uint64_t unauthorized;
	uint64_t run_latency[LATENCY_BUCKETS + 1]; /* placed -> running, seconds */
	double run_latency_sum;
	uint64_t run_latency_count;
};

struct api_reply;
struct api_parked;
struct event;

struct api {
	struct api_options opt;
	struct event_base *base;
	struct pool *pool;
	struct evhttp *http;
	struct api_reply *head, *tail;
	struct api_parked *parked_head, *parked_tail; /* waiting on a download (park.c) */
	struct eventlog *eventlog; /* the durable event log, a subscriber of the pool (events.c) */
	struct event *events_trim; /* trims it by age when no pass does */
	struct api_metrics m;
	uint64_t started_ns;
};

/* The HTTP status that says what an errno means to a client. */
int api_status_for(int code);
void api_reply_json(struct api *a, struct evhttp_request *req, int status, json_t *body);
void api_reply_error(struct api *a, struct evhttp_request *req, int status,
		     const struct acre_error *err);
/* Held until the pass's changes are committed: the reply promises they are on disk. */
void api_defer_json(struct api *a, struct evhttp_request *req, int status, json_t *body);
/* The same with a body already encoded (JSON text and its '\n', taken over; NULL: 500). */
void api_defer_text(struct api *a, struct evhttp_request *req, int status, char *body, size_t len);
json_t *api_error_json(const struct acre_error *err);
/* Tells the API when the client of req goes away (pending replies, event streams). */
void api_watch_close(struct api *a, struct evhttp_request *req);
/* The request body as JSON; NULL and err on anything else. */
json_t *api_read_body(struct evhttp_request *req, bool optional, struct acre_error *err);
/* A query parameter, or NULL. */
const char *api_query(struct evkeyvalq *q, const char *key);
/* A request whose client went away: freed if libevent left it to us. */
void api_forget_request(struct evhttp_request *req);
void api_count(struct api *a, int status);
/* A request through the route table, as it came in (or again, when unparked). */
void api_dispatch(struct api *a, struct evhttp_request *req);

/* park.c: a request whose verb said -EINPROGRESS, dispatched again when a fetch ends. */
void api_park(struct api *a, struct evhttp_request *req);
void api_park_forget(struct api *a, struct evhttp_connection *evcon);
void api_unpark(void *arg);
void api_park_stop(struct api *a);

/* Handlers, one per route (api.c's table): the path's parameters in p, the query in q. */
#define API_HANDLER(name)                                                                          \
	void name(struct api *a, struct evhttp_request *req, const struct api_params *p,           \
		  struct evkeyvalq *q)
API_HANDLER(api_healthz);
API_HANDLER(api_nodes_list);
API_HANDLER(api_node_show);
API_HANDLER(api_pool_show);
API_HANDLER(api_network_show);
API_HANDLER(api_join_show); /* join.c */
API_HANDLER(api_node_delete);
API_HANDLER(api_node_cordon);
API_HANDLER(api_node_uncordon);
API_HANDLER(api_node_drain);
API_HANDLER(api_node_volume_delete); /* node_volumes.c */
API_HANDLER(api_slices_list);
API_HANDLER(api_slices_create);
API_HANDLER(api_slice_show);
API_HANDLER(api_why);
API_HANDLER(api_slice_delete);
API_HANDLER(api_slice_kill);
API_HANDLER(api_apps_list);
API_HANDLER(api_apps_create);
API_HANDLER(api_app_show);
API_HANDLER(api_app_put);
API_HANDLER(api_app_delete);
API_HANDLER(api_app_versions);
API_HANDLER(api_app_instances);
API_HANDLER(api_app_verb);
API_HANDLER(api_deployments_list);
API_HANDLER(api_deployment_show);
API_HANDLER(api_deployment_cancel);
API_HANDLER(api_packages_list); /* packages.c */
API_HANDLER(api_package_show);
API_HANDLER(api_repos_list);
API_HANDLER(api_repos_add);
API_HANDLER(api_repo_delete);
API_HANDLER(api_repo_refresh);
API_HANDLER(api_bundles_create);
API_HANDLER(api_artifact_get);
API_HANDLER(api_installs_list); /* installs.c */
API_HANDLER(api_installs_create);
API_HANDLER(api_install_show);
API_HANDLER(api_install_put);
API_HANDLER(api_install_rollback);
API_HANDLER(api_install_delete);
API_HANDLER(api_slice_logs); /* slice_logs.c */
API_HANDLER(api_metrics);
API_HANDLER(api_events_subscribe);

/* events.c: the event log opened in the pool's store, fed by the pool's changes. */
int api_events_start(struct api *a, struct acre_error *err);
void api_events_stop(struct api *a);

/* metrics.c: the time from placement to running, a subscriber of the pool's changes. */
int api_metrics_start(struct api *a);

#endif
