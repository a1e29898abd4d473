/*
 * acre-supervisor's context: its options and struct supervisor, where the
 * daemon keeps all its state (one process, one libevent loop).  Each concern
 * of supervisor/ has a header of its own; the arrows of the include graph go
 * one way, down this list:
 *
 *   main.c                          wires the rest together
 *   metrics.h       metrics.c, metrics_node.c, metrics_slices.c: Prometheus text
 *                                   of the node and its slices on --metrics-listen
 *   metrics_text.h  metrics_text.c  the text format itself (pure)
 *   socket_ops.h    socket_ops.c    the socket's requests, decoded and answered
 *   controller_link.h  controller_link.c, controller_outbox.c, controller_ops.c,
 *                   partition.c:    the link to the pool and its requests, and
 *                                   the slices stopped when cut off from it
 *   waiters.h       waiters.c       socket requests answered when a slice changes
 *   server.h        server.c, peer_auth.c: the Unix socket and who may use it
 *   recover.h       recover.c       start-up: adopting slices, sweeping orphans
 *   slice_ops.h     slice_ops.c, slice_ops_signal.c: the verbs every caller uses
 *   view.h          view.c, view_stats.c: slices as the protocols show them
 *   health.h        health.c, health_run.c: the slices' health and readiness checks
 *   health_verdict.h  health_verdict.c: what their results add up to (pure)
 *   slice.h         slice_lifecycle.c, slice_exit.c: the life of a slice, and
 *                                   the observers it tells of every change
 *   dns.h           dns.c, dns_server.c, dns_forward.c, dns_local.c, dns_zone.h
 *                   (dns_zone.c, dns_answer.c): DNS for the slices
 *   pool_net.h      pool_net.c, pool_net_msg.c: the pool's network on this node
 *   network.h       network.c       slice networking policy
 *   egress.h        egress.c        NAT out of the node, published ports in
 *   fetch.h         fetch.c, fetch_child.c, artifact_cache.c: artifacts
 *                   fetched before a launch into a cache by checksum, mounted read-only
 *   binaries.h      binaries.c      which host binaries the node has (binaries.check)
 *   prelaunch.h     prelaunch.c     launches made ahead of time
 *   checkpoint.h    checkpoint.c    each slice's files in the state directory
 *   supervisor.h                    this context
 */
#ifndef ACRE_SUPERVISOR_H
#define ACRE_SUPERVISOR_H

#include "common/common.h"
#include "proto/proto.h"
#include "isolation/isolation.h"
#include "bpf/bpf.h"

#include <event2/event.h>
#include <event2/buffer.h>
#include <sys/types.h>

/* --controller and what goes with it: the link to the pool (controller_link.c). */
struct controller_link_options {
	const char *controller; /* HOST:PORT; NULL: not part of a pool */
	const char *join_token;
	char **attrs; /* "KEY=VALUE" */
	const char *tls_ca, *tls_cert, *tls_key;
	bool insecure;
};

struct supervisor_options {
	const char *socket_path;
	const char *state_dir;
	const char *cgroup_root;
	const char *init_path;
	const char *group;	  /* members may use the socket besides root */
	uint64_t stop_timeout_ms; /* SIGTERM to SIGKILL when ending a slice */
	unsigned prelaunch;	  /* launches kept ready ahead of time */
	const char *vip_cgroup;	  /* --vip-cgroup: where VIPs serve the node (NULL: the v2 root) */
	const char *bridge;	  /* --bridge */
	const char *slice_cidr;	  /* --slice-cidr */
	bool net_given;		  /* either was given: a problem with them is fatal */
	bool egress_none;	  /* --egress none: bridged slices reach the node and pool only */
	bool no_accounting;	  /* leave eBPF out */
	const char *resolv_conf;  /* --resolv-conf: the resolvers names outside .acre go to */
	const char *dns_hosts;	  /* --dns-hosts: fixed names served in .acre */
	uint32_t node_address;	  /* --node-address, host order; 0: the link's source address */
	uint64_t net_capacity;	  /* --net-capacity in bit/s; 0: the link's speed */
	const char *metrics_listen; /* --metrics-listen ADDR:PORT; NULL: no metrics served */
	uint16_t port_first;	    /* --port-range: what the pool picks host ports from */
	uint16_t port_last;
	struct controller_link_options link;
};

struct conn;
struct controller_link;
struct dns;
struct network;
struct pool_net;
struct egress;
struct health;
struct metrics;
struct prelaunch;
struct server_handler;
struct slice_observer;
struct sweep;
struct waiters;

struct supervisor {
	struct supervisor_options opt;
	struct event_base *base;
	int listen_fd;
	struct event *listen_ev;
	const struct server_handler *handler; /* what the socket's requests go to */
	int state_fd;			      /* --state-dir */
	int slices_fd;			      /* --state-dir/slices */
	int lock_fd;
	struct acre_cgroup_system *cgroups;
	struct acre_seccomp_filter *seccomp_default;
	int init_exe_fd;
	struct acre_map *slices;		 /* name -> struct slice */
	struct slice_observer *observers;	 /* told of every change of a slice (slice.h) */
	struct slice_observer *health_observers; /* ... of its health or readiness */
	struct prelaunch *prelaunch;
	struct acre_bpf *bpf; /* NULL: accounting is off, for the reason below */
	char accounting_off[300];
	struct sweep *sweep; /* orphan cgroups still being emptied */
	struct network *net;
	struct dns *dns;	   /* DNS for the slices (dns.h) */
	struct pool_net *pool_net; /* NULL unless --controller (pool_net.h) */
	struct egress *egress;	   /* egress.c: NAT and published ports */
	struct conn *conns;
	struct waiters *waiters;
	gid_t group_gid;
	bool have_group;
	ino_t pid_ns; /* our pid namespace: peers from elsewhere are refused */
	unsigned ncpus;
	uint64_t memory_total;
	const char *hide_paths[3];
	char socket_dir[4096];
	bool stopping;
	struct controller_link *link; /* NULL unless --controller */
	struct acre_map *vips;	      /* group name -> struct vip_record (vip.h) */
	struct health *health;	      /* the slices' checks (health.h) */
	struct metrics *metrics;      /* NULL unless --metrics-listen (metrics.h) */
	uint64_t started_ns;	      /* monotonic, when the process started */
	struct fetcher *fetcher;      /* the artifacts' cache and fetches (fetch.h) */
};

/* join.c: `acre-supervisor join ...`, this host joining a pool; the exit status. */
int supervisor_join_main(int argc, char **argv);

#endif
