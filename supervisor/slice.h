/*
 * A slice in the supervisor and its life: slice_lifecycle.c creates,
 * launches, signals, stops and removes it; slice_exit.c sees a run end and
 * applies the restart policy.  Every change of state is told to the
 * observers registered on struct supervisor (the pool link, the waiters),
 * which the lifecycle knows only as a list of callbacks.
 */
#ifndef ACRE_SUPERVISOR_SLICE_H
#define ACRE_SUPERVISOR_SLICE_H

#include "supervisor.h"

struct waiter;
struct health_probes;

/* What the slice's checks say of its present run (health.c keeps it; views show it). */
struct slice_health {
	enum acre_health health;
	bool ready;
	unsigned failures;  /* consecutive, of the check failing longest */
	char reason[256];   /* the last verdict's why: a check's output, an exit, a timeout */
	int64_t changed_at; /* unix ms of the last transition, 0: none */
};

struct slice {
	struct supervisor *sv;
	struct acre_slice_record rec;
	struct acre_cgroup *cgroup;
	int pidfd;
	struct event *pid_ev;
	int status_fd;
	struct event *status_ev;
	bool is_child;	   /* launched by this process: its status can be reaped */
	bool removing;	   /* destroy as soon as it has ended */
	int stdio[3];	   /* a foreground client's fds, held until launched */
	uint64_t oom_base; /* OOM kills counted before this run */
	uint64_t backoff_ms;
	struct event *restart_timer;
	struct event *kill_timer;
	struct event *checkpoint_timer;
	struct waiter *waiters; /* waiters.c's: requests answered when this slice changes */
	/* The last stat sample, for CPU % and network rates. */
	uint64_t cpu_sample_ns, cpu_sample_at;
	uint64_t net_sample_rx, net_sample_tx, net_sample_at;
	struct acre_user user;			     /* resolved in the slice's root */
	struct acre_seccomp_filter *seccomp_profile; /* a profile of the slice's own */
	char launch_error[300];			     /* what the launch child reported */
	int launch_errno;
	struct acre_launch parked; /* a prelaunched acre-init to claim */
	bool has_parked;
	bool from_prelaunch; /* this run's acre-init was prelaunched */
	bool fetching;	     /* pending: waits for its artifacts (fetch.h) */
	int veth_ifindex;    /* an isolated slice's host veth */
	struct slice_health health;
	struct health_probes *probes; /* health.c's, while checks run */
	/* Why the node itself ends this run (partition.c), "": a client did; leads its reason. */
	char stop_reason[128];
	/*
	 * Its eBPF counters as they were when it was removed from the maps, for
	 * the observers told of DESTROYED (metrics.c keeps the node's totals).
	 */
	bool has_final_net, has_final_runq;
	struct acre_bpf_net final_net;
	struct acre_bpf_runq final_runq;
};

/*
 * Told of every change of a slice's state (rec.state, rec.reason, and once
 * it ended rec.exit) once the lifecycle has settled it: checkpointed, and a
 * restart scheduled if one follows.  DESTROYED is the last, just before the
 * slice is freed.  An observer may keep what is its own in the slice (the
 * waiters' list) but changes nothing of its life.
 */
struct slice_observer {
	void (*changed)(void *ud, struct slice *s);
	void *ud;
	ACRE_LIST_FIELDS(struct slice_observer, observers);
};

void slice_observer_add(struct supervisor *sv, struct slice_observer *o);
void slice_observer_remove(struct supervisor *sv, struct slice_observer *o);

/*
 * Told of every change of a slice's health or readiness (s->health), from
 * health.c, once it is logged: the names and VIPs follow, the pool hears.
 */
void slice_health_observer_add(struct supervisor *sv, struct slice_observer *o);
void slice_health_observer_remove(struct supervisor *sv, struct slice_observer *o);
void slice_publish_health(struct slice *s);

/* ---- slice_lifecycle.c ---- */
struct slice_run_options {
	bool foreground;
	bool remove_on_exit;
	int stdio[3]; /* foreground: the client's fds (taken over on success); else -1 */
};
/* Creates and launches; on failure everything is undone and the spec is the caller's again. */
int slice_create(struct supervisor *sv, struct acre_slice_spec *spec,
		 const struct slice_run_options *o, struct slice **out, struct acre_error *err);
struct slice *slice_find(struct supervisor *sv, const char *name);
struct slice *slice_alloc(struct supervisor *sv);
/* The task's environment: PATH, HOME, HOSTNAME and the spec's own; NULL: out of memory. */
char **slice_env(const struct acre_slice_spec *spec, const struct acre_user *user);
/* The seccomp filter of the slice's task; NULL: unconfined. */
const struct acre_seccomp_filter *slice_seccomp_filter(const struct slice *s);
/* Resolves what a launch needs from the spec (user, seccomp profile), creating nothing. */
int slice_prepare(struct slice *s, struct acre_error *err);
int slice_launch(struct slice *s, struct acre_error *err);
int slice_signal(struct slice *s, int sig, bool ending, struct acre_error *err);
/* Ends a running slice: SIGTERM, then SIGKILL after the stop timeout. */
void slice_stop(struct slice *s);
/*
 * A kill: without a signal (sig 0), slice_stop, or between two runs no next
 * run; with one, it is sent (TERM, KILL, INT, HUP and QUIT count as the
 * user's ending it).  ESRCH when nothing runs.
 */
int slice_kill(struct slice *s, int sig, struct acre_error *err);
/* Removes an ended slice now (0), or once it has ended (force; 1). */
int slice_remove(struct slice *s, bool force, struct acre_error *err);
void slice_destroy(struct slice *s);
bool slice_is_active(const struct slice *s);
/* Ended, and its next run is waiting out the back-off. */
bool slice_restart_pending(const struct slice *s);
/* Ended for good: not running, and no next run coming. */
bool slice_has_ended(const struct slice *s);
/* Enters the slice's cgroup into the eBPF accounting maps (keeping counters it has). */
void slice_account(struct slice *s);
/*
 * A change of state, logged.  The caller checkpoints it as the state asks
 * (at once, a moment later, or not at all) and then publishes it: a client
 * told that its slice ended finds it ended after a crash too.
 */
void slice_set_state(struct slice *s, enum acre_slice_state st, const char *reason);
void slice_publish(struct slice *s);
void slice_free(struct slice *s);

/* ---- slice_exit.c ---- */
void slice_on_status(evutil_socket_t fd, short what, void *arg);
void slice_on_exit(evutil_socket_t fd, short what, void *arg);
/* The task ended while nobody watched (found at start): settle from the exit record. */
void slice_settle_ended(struct slice *s);
/* A slice found ended at start: restart it if its policy says so. */
void slice_resume_policy(struct slice *s);

#endif
