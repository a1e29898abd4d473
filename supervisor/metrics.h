/*
 * --metrics-listen ADDR:PORT: Prometheus text of the node and of every
 * slice at GET /metrics, served by evhttp on the supervisor's own event
 * loop (metrics.c); the node's families (metrics_node.c) and the slices'
 * (metrics_slices.c) read what `slice stat` reads, through the same
 * readers of isolation/ and bpf/, in the format of metrics_text.h.
 */
#ifndef ACRE_SUPERVISOR_METRICS_H
#define ACRE_SUPERVISOR_METRICS_H

#include "supervisor.h"

/* Checks ADDR:PORT ([ADDR]:PORT for IPv6) before anything starts; err names the flag. */
int metrics_listen_check(const char *listen, struct acre_error *err);
/* Serves --metrics-listen, when given; nothing otherwise. */
int metrics_init(struct supervisor *sv, struct acre_error *err);
void metrics_free(struct supervisor *sv);

/* ---- metrics_node.c ---- */
/* The node label's value: the pool's id of this node, or its hostname outside a pool. */
const char *metrics_node_name(struct supervisor *sv, char buf[256]);
/*
 * acre_node_*: capacity and free, slices by state, the usage of the slices
 * together (subtree: the supervisor's cgroup subtree; NULL leaves it out),
 * uptime, version.
 */
void metrics_node_write(struct supervisor *sv, struct acre_cgroup *subtree, const char *node,
			struct evbuffer *b);

/* ---- metrics_slices.c ---- */
/* eBPF counts of the slices removed since the supervisor started. */
struct metrics_gone {
	struct acre_bpf_net net;
	struct acre_bpf_runq runq;
};
/* Adds a removed slice's last counts (slice.h's final_*) to gone. */
void metrics_gone_add(struct metrics_gone *gone, const struct acre_bpf_net *net,
		      const struct acre_bpf_runq *runq);
/*
 * acre_slice_*, every slice with a cgroup, each labelled slice, app and
 * install; and, with eBPF accounting, the node's network and run-queue
 * totals (acre_node_slices_*): the live slices' counts and gone's.
 */
void metrics_slices_write(struct supervisor *sv, const struct metrics_gone *gone, const char *node,
			  struct evbuffer *b);

#endif
