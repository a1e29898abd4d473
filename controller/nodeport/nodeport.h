/*
 * nodeport: where supervisors connect.  TLS connections (plain TCP only
 * with --insecure, and then only on loopback), NDJSON both ways, the
 * supervisor protocol's operations (register, sync, heartbeat, update,
 * and the replies to assign, kill and remove; ca and join for a host
 * joining with a certificate of the pool's CA), each turned into a verb of
 * the pool.  What a node is told depends on a committed pass: replies to
 * its updates and the pass's assignments, kills and removals go out in
 * nodeport_flush(), after pool_commit().
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

#endif
