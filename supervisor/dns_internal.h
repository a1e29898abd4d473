/*
 * Shared inside the supervisor's DNS: dns.c (set-up, resolv.conf files,
 * net.names), dns_server.c (the sockets), dns_forward.c (names outside the
 * zone) and dns_local.c (a lone node's own names).
 */
#ifndef ACRE_SUPERVISOR_DNS_INTERNAL_H
#define ACRE_SUPERVISOR_DNS_INTERNAL_H

#include "dns.h"
#include "dns_zone.h"
#include "slice.h"

#include <limits.h>
#include <netinet/in.h>

struct dns_forward;
struct dns_server;

struct dns {
	struct supervisor *sv;
	struct dns_zone *zone;
	struct dns_forward *fwd;
	struct dns_server *server;
	uint32_t subnet_net; /* host order: who may ask (with loopback) */
	unsigned subnet_prefix;
	uint32_t gateway; /* host order: where the server listens */
	/* Not in a pool: the node's own slices fill the zone. */
	bool local_names;
	struct slice_observer observer;
	struct slice_observer health_observer; /* names follow health transitions */
	const struct slice *launching;	       /* named while its state still says otherwise */
	struct event *sync_ev;
	struct event *retry_ev; /* the server's sockets, tried again */
	bool retry_logged;
	char resolv_bridge[PATH_MAX]; /* empty until the gateway is known */
	char resolv_none[PATH_MAX];
};

/* ---- dns_forward.c ---- */
/*
 * How a forwarded query ended: the resolver's reply (its id the client's
 * again), or reply NULL after the timeout, with the client's query to answer
 * SERVFAIL to.
 */
typedef void (*dns_forward_done)(void *ud, uint64_t tag, const uint8_t *reply, size_t len,
				 const uint8_t *query, size_t qlen);
/* The resolvers of a resolv.conf; none is no error (every forward then fails at once). */
int dns_forward_new(struct event_base *base, const char *resolv_conf, struct dns_forward **out,
		    struct acre_error *err);
void dns_forward_free(struct dns_forward *fw);
size_t dns_forward_servers(const struct dns_forward *fw);
/* -ENOENT: no resolver; -EBUSY: the table of outstanding queries is full. */
/*
 * tcp: the client asked over TCP, and a truncated answer is asked for again
 * over TCP; client: its address, whose share of the table is bounded.
 */
int dns_forward_query(struct dns_forward *fw, const uint8_t *q, size_t len, bool tcp,
		      uint32_t client, dns_forward_done done, void *ud, uint64_t tag);
/* Forgets every query of ud (a TCP client gone): done is not called for them. */
void dns_forward_cancel(struct dns_forward *fw, void *ud);

/* ---- dns_server.c ---- */
int dns_server_start(struct dns *d, struct dns_server **out, struct acre_error *err);
void dns_server_free(struct dns_server *s);

/* ---- dns_local.c ---- */
void dns_local_start(struct dns *d);
void dns_local_stop(struct dns *d);

#endif
