/*
 * Requests that wait on a download: a verb over a repository that is not a
 * directory answers -EINPROGRESS while a child fetches what it needs (an
 * index, a package archive, a bundle; controller/packages/repo_fetch.c).
 * The request is parked here, and when any fetch ends every parked request
 * is dispatched again from the start (its body is still in its buffer):
 * the verb then takes the fetch's result, or parks again for another.
 */
#include "internal.h"

struct api_parked {
	ACRE_LIST_FIELDS(struct api_parked, parked);
	struct evhttp_request *req; /* NULL once the client went away */
	struct evhttp_connection *evcon;
};

void api_park(struct api *a, struct evhttp_request *req)
{
	struct api_parked *p = calloc(1, sizeof(*p));
	if (!p) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	p->req = req;
	p->evcon = evhttp_request_get_connection(req);
	api_watch_close(a, req);
	ACRE_QUEUE_APPEND(parked, a->parked_head, a->parked_tail, p);
}

void api_park_forget(struct api *a, struct evhttp_connection *evcon)
{
	struct api_parked *p;
	ACRE_LIST_FOREACH (parked, p, a->parked_head) {
		if (p->evcon == evcon && p->req) {
			api_forget_request(p->req);
			p->req = NULL;
		}
	}
}

void api_unpark(void *arg)
{
	struct api *a = arg;
	struct api_parked *p = a->parked_head;
	a->parked_head = a->parked_tail = NULL; /* who parks again joins a new list */
	while (p) {
		struct api_parked *next = p->parked_next;
		if (p->req)
			api_dispatch(a, p->req);
		free(p);
		p = next;
	}
}

void api_park_stop(struct api *a)
{
	struct api_parked *p = a->parked_head;
	a->parked_head = a->parked_tail = NULL;
	while (p) {
		struct api_parked *next = p->parked_next;
		if (p->req)
			evhttp_send_error(p->req, 503, "the controller is stopping");
		free(p);
		p = next;
	}
}
