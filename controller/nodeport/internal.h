/*
 * What the files of nodeport/ share: the port, its connections, the
 * requests sent on them and awaiting replies, and the replies held until
 * the pass is committed.
 */
#ifndef ACRE_CONTROLLER_NODEPORT_INTERNAL_H
#define ACRE_CONTROLLER_NODEPORT_INTERNAL_H

#include "controller/nodeport/nodeport.h"
#include "controller/pool/pool.h"

#include <event2/buffer.h>
#include <event2/event.h>

/* What a request to a node was about, kept until its reply. */
struct sent_item {
	int64_t slice_id;
	char name[ACRE_NAME_MAX + 1];
};
struct sent_req {
	int64_t id;
	enum pool_op op;
	struct sent_item *items; /* an assign carries many slices */
	size_t n;
};

/* A reply to a node, held until the pass is committed. */
struct deferred {
	ACRE_LIST_FIELDS(struct deferred, def);
	struct node_conn *conn;
	char *line;
	size_t len;
};

struct node_conn {
	struct nodeport *np;
	struct bufferevent *bev;
	struct pool_node *node;
	char peer[64];
	bool dead, closing, discarding;
	int64_t next_id;
	struct sent_req *reqs; /* a ring of requests awaiting their reply */
	size_t rhead, rlen, rcap;
	uint64_t opened_ns;
	ACRE_VEC(struct pool_outbound *) batch; /* assigns of the pass being sent, as one message */
	ACRE_LIST_FIELDS(struct node_conn, conn);
	ACRE_LIST_FIELDS(struct node_conn, batched);
};

struct nodeport {
	struct nodeport_options opt;
	struct event_base *base;
	struct pool *pool;
	struct pool_stats *stats;
	void *listener; /* struct evconnlistener */
	struct node_conn *conns, *zombies;
	size_t nconns;
	struct deferred *def_head, *def_tail;
	struct nodeport_logs *logs; /* slices' logs being relayed (logs.c) */
	size_t nlogs;
	int64_t next_stream;
};

/* conn.c */
void nodeport_conn_send(struct node_conn *conn, const char *line, size_t len);
void nodeport_conn_send_json(struct node_conn *conn, const json_t *msg);
void nodeport_conn_reply_error(struct node_conn *conn, json_t *id, const struct acre_error *err);
/* Sends a request (its id from ++conn->next_id), the line with its '\n'; takes req->items. */
int nodeport_conn_request(struct node_conn *conn, struct sent_req *req, const char *line,
			  size_t len);
void nodeport_conn_close(struct node_conn *conn, const char *why);
/* Replies with the error, then closes once it is written (a refused registration). */
void nodeport_conn_refuse(struct node_conn *conn, json_t *id, const struct acre_error *err);
bool nodeport_conn_alive(const struct node_conn *conn);
void nodeport_conn_free_zombies(struct nodeport *np);
/* The request a reply answers, taken off the connection's list; the caller frees out->items. */
bool nodeport_conn_take_request(struct node_conn *conn, int64_t id, struct sent_req *out);

/* ops.c: a line from a node */
void nodeport_message(struct node_conn *conn, const char *line, size_t len);
/* register.c */
void nodeport_register(struct node_conn *conn, json_t *req, json_t *id);
/* A node's secret: 32 to 128 lowercase hex digits; kept as its SHA-256 (hex). */
bool nodeport_secret_valid(const char *secret);
int nodeport_secret_hash(const char *secret, char out[65]);
/* join.c: a host joining, before it registers */
void nodeport_ca(struct node_conn *conn, json_t *req, json_t *id);
void nodeport_join(struct node_conn *conn, json_t *req, json_t *id);
/* The error to the node (and the log, and the counter); before registration, the end of it. */
void nodeport_reply_error(struct node_conn *conn, json_t *id, struct acre_error *err);

/* logs.c: logs.data from a node; the answer to a logs.open (true: it was one); a conn gone */
void nodeport_logs_data(struct node_conn *conn, json_t *req, json_t *id);
bool nodeport_logs_reply(struct node_conn *conn, json_t *msg);
void nodeport_logs_conn_closed(struct node_conn *conn);

/* send.c: after the commit */
void nodeport_defer_reply(struct nodeport *np, struct node_conn *conn, json_t *msg);
/* The same with a line already encoded (and its '\n'), taken over. */
void nodeport_defer_take(struct nodeport *np, struct node_conn *conn, char *line, size_t len);
void nodeport_send_deferred(struct nodeport *np);
void nodeport_send_outbound(struct nodeport *np);

#endif
