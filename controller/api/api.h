/*
 * The HTTP API's internals: replies now or after the commit, errors as
 * JSON, and the handlers of each resource.
 */
#ifndef ACRE_CONTROLLER_API_H
#define ACRE_CONTROLLER_API_H

#include "controller/ctl.h"
#include "view.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

/* The HTTP status that says what an errno means to a client. */
int api_status_for(int code);
void api_reply_json(struct ctl *c, struct evhttp_request *req, int status, json_t *body);
void api_reply_error(struct ctl *c, struct evhttp_request *req, int status,
		     const struct acre_error *err);
/* Held until the pass's changes are committed: the reply promises they are on disk. */
void api_defer_json(struct ctl *c, struct evhttp_request *req, int status, json_t *body);
/* The same with a body already encoded (JSON text, taken over). */
void api_defer_text(struct ctl *c, struct evhttp_request *req, int status, char *body, size_t len);
json_t *api_error_json(const struct acre_error *err);
/* Tells the API when the client of req goes away (pending replies, event streams). */
void api_watch_close(struct ctl *c, struct evhttp_request *req);
/* The request body as JSON; NULL and err on anything else. */
json_t *api_read_body(struct evhttp_request *req, bool optional, struct acre_error *err);
/* A query parameter, or NULL. */
const char *api_query(struct evkeyvalq *q, const char *key);

void api_nodes_list(struct ctl *c, struct evhttp_request *req);
void api_node_show(struct ctl *c, struct evhttp_request *req, const char *id);
void api_pool_show(struct ctl *c, struct evhttp_request *req);
void api_slices_list(struct ctl *c, struct evhttp_request *req, struct evkeyvalq *q);
void api_slices_create(struct ctl *c, struct evhttp_request *req);
void api_slice_show(struct ctl *c, struct evhttp_request *req, const char *name);
void api_slice_delete(struct ctl *c, struct evhttp_request *req, const char *name,
		      struct evkeyvalq *q);
void api_slice_kill(struct ctl *c, struct evhttp_request *req, const char *name);
void api_metrics(struct ctl *c, struct evhttp_request *req);
void api_events_subscribe(struct ctl *c, struct evhttp_request *req, struct evkeyvalq *q);
/* A request whose client went away: freed if libevent left it to us. */
void api_forget_request(struct evhttp_request *req);
/* A client connection went away: forget its pending replies and streams. */
void events_conn_closed(struct ctl *c, struct evhttp_connection *evcon);
size_t events_subscribers(const struct ctl *c);

#endif
