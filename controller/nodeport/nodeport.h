/*
 * nodeport: where supervisors connect.  TLS connections (plain TCP only
 * with --insecure, and then only on loopback), NDJSON both ways, the
 * supervisor protocol's operations (register, sync, heartbeat, update,
 * and the replies to assign, kill and remove; ca and join for a host
 * joining with a certificate of the pool's CA), each turned into a verb of
 * the pool.  What a node is told depends on a committed pass: replies to
 * its updates and the pass's assignments, kills and removals go out in
 * nodeport_flush(), after pool_commit().  Slices' logs are relayed from
 * their nodes for the API (nodeport_logs_*, below), which changes nothing.
 */
#ifndef ACRE_CONTROLLER_NODEPORT_H
#define ACRE_CONTROLLER_NODEPORT_H

#include "common/common.h"

struct event_base;
struct pool;
struct nodeport;
struct acre_proto_ca;

struct nodeport_options {
	const char *listen; /* HOST:PORT, numeric */
	bool insecure;	    /* plain TCP: only on a loopback address */
	void *ssl_ctx;	    /* SSL_CTX for the server side; NULL with insecure */
	const char *join_token;
	uint64_t heartbeat_ms;
	bool client_certs;		/* --tls-ca: register only with a certificate */
	const struct acre_proto_ca *ca; /* --tls-ca-key: signs joining nodes (join.c); or NULL */
	int cert_days;			/* their certificates' validity (0: a year) */
};

int nodeport_start(struct event_base *base, struct pool *pool, const struct nodeport_options *o,
		   struct nodeport **out, struct acre_error *err);
/* Closes every connection (their nodes disconnect) and the listener. */
void nodeport_stop(struct nodeport *np);
/* Connections that never registered are closed after a while. */
void nodeport_tick(struct nodeport *np);
/* After the pass's commit: the deferred replies, then the pass's messages for nodes. */
void nodeport_flush(struct nodeport *np);

/*
 * A slice's log read from its node over the node's connection (logs.c):
 * logs.open, then the bytes as the node sends them, at most
 * ACRE_LOGS_WINDOW chunks unanswered; a sink that is full holds the
 * answers, which pauses the node's reading of that log and nothing else.
 * Every callback runs on the loop, never inside nodeport_logs_open,
 * resume or close.
 */
struct pool_node;
struct nodeport_logs;
struct nodeport_logs_sink {
	/* The node has the log: its bytes follow. */
	void (*opened)(void *ud);
	/* Bytes of the log; false when the sink is full (it calls nodeport_logs_resume later). */
	bool (*data)(void *ud, const void *buf, size_t len);
	/* The end, once: err NULL at the log's end, else why (refused, node gone); lg is freed. */
	void (*end)(void *ud, const struct acre_error *err);
};
/* tail -1: the whole log. -ENOTCONN when the node is not connected, -EBUSY past the bound. */
int nodeport_logs_open(struct nodeport *np, struct pool_node *node, const char *slice, bool follow,
		       int64_t tail, const struct nodeport_logs_sink *sink, void *ud,
		       struct nodeport_logs **out, struct acre_error *err);
/* The sink has room again: the answers it held go to the node. */
void nodeport_logs_resume(struct nodeport_logs *lg);
/* The reader went away: the node is told to stop; no callback follows. */
void nodeport_logs_close(struct nodeport_logs *lg);

#endif
