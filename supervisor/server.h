/*
 * The supervisor's Unix socket (server.c) and who may use it (peer_auth.c).  The
 * socket only frames and routes: each request goes to the handler that
 * main.c gives server_listen (socket_ops.c), which answers through conn_*.
 */
#ifndef ACRE_SUPERVISOR_SERVER_H
#define ACRE_SUPERVISOR_SERVER_H

#include "supervisor.h"

struct conn;
struct waiter;

struct server_handler {
	/* One request, its envelope checked; answered now or later, exactly once. */
	void (*request)(struct supervisor *sv, struct conn *c, const char *op, json_t *req,
			json_t *id);
	/* The connection is going away: what waits on it lets go of it. */
	void (*closed)(struct supervisor *sv, struct conn *c);
};

int server_listen(struct supervisor *sv, const struct server_handler *h, struct acre_error *err);
void server_close(struct supervisor *sv);
/* Queues one message line; ownership of msg stays with the caller. */
void conn_send(struct conn *c, const json_t *msg);
/* Queues a reply already written as one line of JSON text (its contents are moved). */
void conn_send_buffer(struct conn *c, struct evbuffer *line);
/* Sends a message with a file descriptor attached (SCM_RIGHTS). */
int conn_send_fd(struct conn *c, const json_t *msg, int fd);
void conn_reply_ok(struct conn *c, json_t *id, json_t *result);
void conn_reply_error(struct conn *c, json_t *id, const struct acre_error *err);
/* The fds the client attached to its messages, taken in order; -1 when none is left. */
int conn_take_fd(struct conn *c);
/* The head of the list of requests of this connection that answer later (waiters.c's). */
struct waiter **conn_waiters(struct conn *c);

/* ---- peer_auth.c ---- */
int peer_authorize(struct supervisor *sv, int fd, pid_t *pid, uid_t *uid, struct acre_error *err);

#endif
