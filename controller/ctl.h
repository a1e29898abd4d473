/*
 * acre-controller, the daemon: its options and the context that ties its
 * layers together in main.c — the store, the pool over it, and the two
 * doors to the pool (the node port and the HTTP API).  One process, one
 * libevent loop; each pass ends with the pool's commit, then what waited
 * for it (see pool/pool.h).
 */
#ifndef ACRE_CONTROLLER_CTL_H
#define ACRE_CONTROLLER_CTL_H

#include "proto/proto.h"
#include "controller/api/eventlog.h"
#include "controller/pool/pool.h"
#include "controller/apps/apps.h"
#include "controller/packages/packages.h"

struct event_base;
struct event;
struct store;
struct pool;
struct nodeport;
struct api;

struct ctl_options {
	const char *data_dir;
	const char *node_listen, *api_listen;
	const char *api_url; /* as the nodes reach the API; NULL: from api_listen */
	const char *tls_cert, *tls_key, *tls_ca, *tls_ca_key;
	char *join_token, *api_token;
	bool insecure;
	uint64_t node_timeout_ms, lost_after_ms, heartbeat_ms;
	uint64_t step_deadline_ms;	/* --deployment-step-deadline */
	const char *packages_dir;	/* --packages-dir; NULL: the default (main.c) */
	unsigned max_batch;		/* slices per POST */
	struct eventlog_options events; /* --events-max, --events-max-age */
	struct pool_net_options net;	/* --pool-cidr, --node-subnet-bits, --vip-cidr, --overlay */
};

struct ctl {
	struct ctl_options opt;
	struct event_base *base;
	void *ssl_ctx;		  /* SSL_CTX, NULL with --insecure */
	struct acre_proto_ca *ca; /* --tls-ca-key: signs joining nodes */
	struct store *store;
	struct pool *pool;
	struct apps *apps;
	struct installs *installs;
	struct nodeport *nodeport;
	struct api *api;
	struct event *tick;
	bool stopping;
};

#endif
