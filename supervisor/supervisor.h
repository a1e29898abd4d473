/*
 * acre-supervisor's internal interfaces: the daemon's context, its slices,
 * its client connections, and the verbs each file of supervisor/ offers the
 * others.  One process, one libevent loop, all state in struct supervisor.
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
	const char *group;	   /* members may use the socket besides root */
	uint64_t stop_timeout_ms;  /* SIGTERM to SIGKILL when ending a slice */
	unsigned prelaunch;	   /* launches kept ready ahead of time */
	const char *bridge;	   /* --bridge */
	const char *slice_cidr;	   /* --slice-cidr */
	bool net_given;		   /* either was given: a problem with them is fatal */
	bool no_accounting;	   /* leave eBPF out */
	struct controller_link_options link;
};

struct conn;
struct controller_link;
struct slice;
struct pool;
struct sweep;
struct network;

/* A launch made ahead of time: a cgroup set and acre-init parked in it. */
struct pool_slot {
	struct acre_cgroup *cgroup;
	struct acre_launch launch;
	uint64_t parked_at; /* monotonic ns */
};

/* Someone waiting on a slice: a foreground client, a detached run, an rm, a wait. */
enum waiter_kind {
	WAIT_RUN_FOREGROUND, /* "started" event, then the final reply when it ends */
	WAIT_RUN_DETACHED,   /* the reply once the task runs (or failed to) */
	WAIT_END,	     /* the reply once the slice has ended */
	WAIT_REMOVED,	     /* the reply once the slice is gone */
};

struct waiter {
	enum waiter_kind kind;
	struct conn *conn; /* NULL once the client went away */
	json_t *id;
	struct slice *slice;
	struct waiter *next_in_slice, *prev_in_slice;
	struct waiter *next_in_conn, *prev_in_conn;
};

struct supervisor {
	struct supervisor_options opt;
	struct event_base *base;
	int listen_fd;
	struct event *listen_ev;
	int state_fd;  /* --state-dir */
	int slices_fd; /* --state-dir/slices */
	int lock_fd;
	struct acre_cgroup_system *cgroups;
	struct acre_seccomp_filter *seccomp_default;
	int init_exe_fd;
	struct acre_map *slices; /* name -> struct slice */
	struct pool *pool;
	struct acre_bpf *bpf;	 /* NULL: accounting is off, for the reason below */
	char accounting_off[300];
	struct sweep *sweep; /* orphan cgroups still being emptied */
	struct network *net;
	struct conn *conns;
	gid_t group_gid;
	bool have_group;
	ino_t pid_ns; /* our pid namespace: peers from elsewhere are refused */
	unsigned ncpus;
	uint64_t memory_total;
	const char *hide_paths[3];
	char socket_dir[4096];
	bool stopping;
	struct controller_link *link; /* NULL unless --controller */
};

struct slice {
	struct supervisor *sv;
	struct acre_slice_record rec;
	struct acre_cgroup *cgroup;
	int pidfd;
	struct event *pid_ev;
	int status_fd;
	struct event *status_ev;
	bool is_child;	    /* launched by this process: its status can be reaped */
	bool removing;	    /* destroy as soon as it has ended */
	int stdio[3];	    /* a foreground client's fds, held until launched */
	uint64_t oom_base;  /* OOM kills counted before this run */
	uint64_t backoff_ms;
	struct event *restart_timer;
	struct event *kill_timer;
	struct event *checkpoint_timer;
	struct waiter *waiters;
	uint64_t cpu_sample_ns, cpu_sample_at; /* last stat sample, for CPU % */
	uint64_t net_sample_rx, net_sample_tx, net_sample_at; /* and for network rates */
	struct acre_user user;			/* resolved in the slice's root */
	struct acre_seccomp_filter *seccomp_profile; /* a profile of the slice's own */
	char launch_error[300];			/* what the launch child reported */
	int launch_errno;
	struct acre_launch parked;		/* a prelaunched acre-init to claim */
	bool has_parked;
	bool from_pool;				/* this run's acre-init was prelaunched */
	int veth_ifindex;			/* an isolated slice's host veth */
};

/* ---- server.c: the socket and its connections ---- */
int server_listen(struct supervisor *sv, struct acre_error *err);
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
pid_t conn_peer_pid(const struct conn *c);
void conn_add_waiter(struct conn *c, struct waiter *w);
void conn_remove_waiter(struct conn *c, struct waiter *w);

/* ---- peer.c ---- */
int peer_authorize(struct supervisor *sv, int fd, pid_t *pid, uid_t *uid,
		   struct acre_error *err);

/* ---- ops.c: the protocol's operations ---- */
void ops_dispatch(struct supervisor *sv, struct conn *c, const char *op, json_t *req,
		  json_t *id);

/* ---- slice.c: life of a slice ---- */
struct slice_run_options {
	bool foreground;
	bool remove_on_exit;
	int stdio[3]; /* foreground: the client's fds (taken over); else -1 */
};
int slice_create(struct supervisor *sv, struct acre_slice_spec *spec,
		 const struct slice_run_options *o, struct slice **out, struct acre_error *err);
struct slice *slice_find(struct supervisor *sv, const char *name);
struct slice *slice_alloc(struct supervisor *sv);
/* Resolves what a launch needs from the spec (user, seccomp profile), creating nothing. */
int slice_prepare(struct slice *s, struct acre_error *err);
int slice_launch(struct slice *s, struct acre_error *err);
int slice_signal(struct slice *s, int sig, bool ending, struct acre_error *err);
/* Ends a running slice: SIGTERM, then SIGKILL after the stop timeout. */
void slice_stop(struct slice *s);
/*
 * A kill from a client or the controller: without a signal, slice_stop, or
 * between two runs no next run; with one, it is sent (TERM, KILL, INT, HUP
 * and QUIT count as the user's ending it).  ESRCH when nothing runs.
 */
int slice_kill(struct slice *s, bool with_signal, int sig, struct acre_error *err);
/* Removes an ended slice now, or once it has ended (force). */
int slice_remove(struct slice *s, bool force, struct acre_error *err);
void slice_destroy(struct slice *s);
void slice_watch(struct slice *s);
bool slice_is_active(const struct slice *s);
/* Ended, and its next run is waiting out the back-off. */
bool slice_restart_pending(const struct slice *s);
/* Enters the slice's cgroup into the eBPF accounting maps (keeping counters it has). */
void slice_account(struct slice *s);
void slice_set_state(struct slice *s, enum acre_slice_state st, const char *reason);
void slice_free(struct slice *s);

/* ---- slice_exit.c ---- */
void slice_on_status(evutil_socket_t fd, short what, void *arg);
void slice_on_exit(evutil_socket_t fd, short what, void *arg);
/* The task ended while nobody watched (found at start): settle from the exit record. */
void slice_settle_ended(struct slice *s);
/* A slice found ended at start: restart it if its policy says so. */
void slice_resume_policy(struct slice *s);

/* ---- waiters.c ---- */
struct waiter *waiter_add(struct slice *s, struct conn *c, json_t *id, enum waiter_kind kind);
void waiter_free(struct waiter *w);
/* Tells the waiters of `s` what happened; `started` or ended. */
void waiters_notify_started(struct slice *s);
void waiters_notify_ended(struct slice *s);
void waiters_notify_removed(struct slice *s);
void waiters_fail(struct slice *s, const struct acre_error *err);
void waiters_detach_conn(struct waiter *list_in_conn);

/* ---- network.c: bridge, leases, veths, isolation, --allow ---- */
int network_init(struct supervisor *sv, struct acre_error *err);
void network_free(struct supervisor *sv, bool no_slices_left);
/* Before anything of the slice exists: policy, bridge, lease (kept across restarts). */
int network_prepare(struct slice *s, struct acre_error *err);
/* While acre-init holds the task: the slice's veth, address, route, rate, isolation. */
int network_attach(struct slice *s, const struct acre_launch *l, struct acre_error *err);
void network_release(struct slice *s);
void network_recover(struct supervisor *sv);
json_t *network_view(const struct slice *s);

/* ---- pool.c: launches made ahead of time ---- */
int pool_init(struct supervisor *sv, unsigned want, struct acre_error *err);
void pool_free(struct supervisor *sv);
/* A launch has passed the stages that take the kernel's cgroup mutex. */
void pool_launch_under_way(struct supervisor *sv);
/* A ready slot for a spec with the default namespaces; false when there is none. */
bool pool_take(struct supervisor *sv, const struct acre_slice_spec *spec, struct pool_slot *out);
/* What a slice launches with: the pool's template, for the slice's cgroup. */
struct acre_launch_park pool_park_for(struct supervisor *sv, const struct acre_slice_spec *spec,
				      const struct acre_cgroup *cg);
/* Ends a parked acre-init (and, with its cgroups, removes them). */
void pool_discard_launch(struct acre_launch *l);
void pool_release(struct pool_slot *slot);
bool pool_owns_cgroup(struct supervisor *sv, const char *name);
/* A fresh name for a slice's cgroup: slices are renamed by nobody, cgroups never. */
void pool_cgroup_name(char *buf, size_t len);

/* ---- checkpoint.c ---- */
int checkpoint_write(struct slice *s);
int checkpoint_dir_create(struct supervisor *sv, const char *name, struct acre_error *err);
int checkpoint_dir_remove(struct supervisor *sv, const char *name);
int checkpoint_open(struct supervisor *sv, const char *name, const char *file, int flags);
int checkpoint_read_exit(struct supervisor *sv, const char *name, struct acre_exit *out);

/* ---- recover.c ---- */
int recover_slices(struct supervisor *sv);
void recover_sweep_cgroups(struct supervisor *sv);
void recover_sweep_free(struct supervisor *sv);

/* ---- view.c: slices as the protocol shows them ---- */
json_t *view_slice_summary(const struct slice *s);
json_t *view_slice_detail(const struct slice *s);
/* How a slice ended, or null while it has not. */
json_t *view_exit(const struct acre_exit *e);
/* view_stats.c: one slice's usage as JSON text; detail adds the run-queue histogram. */
void view_stats_append(struct slice *s, bool detail, bool first, struct evbuffer *b);
json_t *view_slice_result(const struct slice *s);

#endif
