/*
 * acre-controller's internal interfaces: the daemon's context, its nodes
 * and slices, the connections of supervisors, and the verbs each file of
 * controller/ offers the others.  One process, one libevent loop, all state
 * in struct ctl.
 *
 * The loop runs one pass at a time (EVLOOP_ONCE).  Handlers change memory
 * and mark what changed; after each pass ctl_flush() writes every change of
 * the pass in one SQLite transaction, commits it, and only then sends what
 * depends on it: HTTP replies, acknowledgements of updates, assignments to
 * nodes, events.  Many changes share one fsync, and nothing is promised
 * that a crash could take back.
 */
#ifndef ACRE_CONTROLLER_CTL_H
#define ACRE_CONTROLLER_CTL_H

#include "controller.h"
#include "pool/sched.h"
#include "store/store.h"

#include <event2/buffer.h>
#include <event2/event.h>

struct ctl_options {
	const char *data_dir;
	const char *node_listen, *api_listen;
	const char *tls_cert, *tls_key, *tls_ca;
	char *join_token, *api_token;
	bool insecure;
	uint64_t node_timeout_ms, lost_after_ms, heartbeat_ms;
	unsigned max_batch; /* slices per POST */
};

enum node_state { NODE_READY, NODE_UNREACHABLE, NODE_DOWN };
enum desired { DESIRED_RUN, DESIRED_STOP, DESIRED_REMOVE };

struct node_conn;
struct api;
struct events;

struct ctl_node {
	struct sched_node sn; /* the scheduler's view: capacity, use, attributes */
	char id[ACRE_NAME_MAX + 1];
	char *hostname;
	char secret_hash[65]; /* SHA-256 of the secret the node chose, hex */
	char address[64];
	char version[32];
	json_t *attributes;	   /* what the node declared, object of strings */
	struct sched_attr *attrs;  /* the same plus node.id and node.hostname */
	enum node_state state;
	struct node_conn *conn;	   /* NULL while disconnected */
	bool synced;		   /* its slices reconciled on this connection */
	int64_t last_seq;	   /* last update applied */
	uint64_t last_seen_ns, state_since_ns;
	int64_t registered_at, last_seen_ms;
	uint32_t reserved_cpus, local_cpus; /* placed by us; run by the node alone */
	uint64_t reserved_mem, local_mem;
	json_t *usage;		   /* the last heartbeat's */
	struct ctl_slice *slices;  /* placed here, in a list */
	size_t nslices;
	unsigned sync_gen;
	bool dirty;
	struct ctl_node *dirty_next;
	struct outbound **batch; /* assigns of the pass being sent, sent as one message */
	size_t nbatch, batch_cap;
	bool batch_listed;
	struct ctl_node *batch_next;
};

struct ctl_slice {
	int64_t id; /* row id, never reused */
	char name[ACRE_NAME_MAX + 1];
	struct ctl_node *node;	    /* where it is placed; NULL while pending or once lost */
	struct ctl_node *last_node; /* where it was, for display and re-adoption */
	enum acre_slice_state state;
	enum desired desired;
	enum acre_restart restart;
	unsigned restart_max;
	unsigned restarts;     /* on its present node, as the node counts them */
	unsigned replacements; /* new placements after its node was lost */
	enum acre_strategy strategy;
	uint32_t cpus;
	uint64_t mem;
	char *reason;			   /* NULL: none */
	char *exit;			   /* the node's exit record, JSON text; NULL: unknown */
	char *spread, *group;		   /* --spread ATTR and the slices counted with it */
	struct acre_placement *placement;  /* NULL: the default */
	char *spec_text;		   /* a new slice's spec, until inserted */
	bool assigned;			   /* the node has accepted it */
	bool reserved;			   /* its resources are counted on node */
	bool is_new, dirty, deleted, queued_assign;
	unsigned seen_gen;
	int64_t created_at, updated_at;
	uint64_t placed_ns; /* when placed, for the time-to-running histogram */
	struct ctl_slice *node_prev, *node_next;
	struct ctl_slice *pending_prev, *pending_next;
	struct ctl_slice *dirty_next;
};

/* A message for a node, sent once the pass that decided it is committed. */
enum outbound_op { OUT_ASSIGN, OUT_KILL, OUT_REMOVE };
struct outbound {
	struct outbound *next;
	enum outbound_op op;
	struct ctl_node *node;
	int64_t slice_id;
	char name[ACRE_NAME_MAX + 1];
	char *spec; /* assign: the spec text */
	int signal; /* kill: 0 = TERM then KILL after the node's stop timeout */
};

/* What a request to a node was about, kept until its reply. */
struct sent_item {
	int64_t slice_id;
	char name[ACRE_NAME_MAX + 1];
};
struct sent_req {
	int64_t id;
	enum outbound_op op;
	struct sent_item *items; /* an assign carries many slices */
	size_t n;
};

/* A reply to a node, held until the pass is committed. */
struct deferred {
	struct deferred *next;
	struct node_conn *conn;
	char *line;
	size_t len;
};

/* slice_table.c: the slices by name, allocated in slabs. */
struct slab;
struct slice_table {
	struct ctl_slice **slots;
	size_t cap, size, used;
	struct slab *slabs;
	struct ctl_slice *free_list;
};
struct ctl_slice *slice_table_alloc(struct slice_table *t);
void slice_table_release(struct slice_table *t, struct ctl_slice *sl);
struct ctl_slice *slice_table_get(const struct slice_table *t, const char *name);
int slice_table_put(struct slice_table *t, struct ctl_slice *sl);
void slice_table_remove(struct slice_table *t, const struct ctl_slice *sl);
void slice_table_foreach(const struct slice_table *t, void (*fn)(struct ctl_slice *, void *),
			 void *ud);
void slice_table_free(struct slice_table *t);

#define LATENCY_BUCKETS 14

struct ctl_metrics {
	uint64_t slices_created, slices_removed, placements, placement_pending;
	uint64_t slices_lost, slices_replaced, assigns_sent, kills_sent, removes_sent;
	uint64_t registrations, refusals, protocol_errors, updates_applied, updates_duplicate;
	uint64_t heartbeats, api_requests[6]; /* by class: 1xx..5xx, [0] other */
	uint64_t api_unauthorized, assign_failures, events_sent, subscribers_dropped;
	uint64_t run_latency[LATENCY_BUCKETS + 1]; /* placed -> running, seconds */
	double run_latency_sum;
	uint64_t run_latency_count;
};

struct ctl {
	struct ctl_options opt;
	struct event_base *base;
	struct store *store;
	struct sched *sched;
	void *ssl_ctx; /* SSL_CTX, NULL with --insecure */
	struct acre_map *nodes;	 /* id -> struct ctl_node */
	struct slice_table slices;
	int64_t next_slice_id;
	uint64_t rng;
	size_t by_state[ACRE_SLICE_DESTROYED + 1];
	struct ctl_node *dirty_nodes;
	struct ctl_slice *dirty_slices;
	struct outbound *out_head, *out_tail;
	struct deferred *def_head, *def_tail;
	struct ctl_slice *pending_head, *pending_tail;
	size_t npending;
	bool retry_pending;
	struct node_conn *conns, *zombies;
	size_t nconns;
	void *listener; /* struct evconnlistener */
	struct api *api;
	struct events *events;
	struct event *tick;
	struct ctl_metrics m;
	uint64_t started_ns;
	bool stopping;
};

/* ---- main.c / flush.c ---- */
void ctl_flush(struct ctl *c);
void ctl_defer_reply(struct ctl *c, struct node_conn *conn, json_t *msg);
void ctl_defer_line(struct ctl *c, struct node_conn *conn, const char *line, size_t len);
void ctl_queue_outbound(struct ctl *c, struct outbound *o);
int ctl_load(struct ctl *c, struct acre_error *err);

/* ---- node.c: the node table ---- */
struct ctl_node *node_find(struct ctl *c, const char *id);
struct ctl_node *node_create(struct ctl *c, const char *id);
void node_free(struct ctl_node *n);
/* Hostname, capacity and attributes as the node declared them. */
int node_describe(struct ctl *c, struct ctl_node *n, const char *hostname, uint32_t cpus,
		  uint64_t mem, json_t *attributes);
void node_set_state(struct ctl *c, struct ctl_node *n, enum node_state st, const char *why);
void node_update_eligibility(struct ctl *c, struct ctl_node *n);
void node_set_local(struct ctl *c, struct ctl_node *n, uint32_t cpus, uint64_t mem);
void node_mark_dirty(struct ctl *c, struct ctl_node *n);
void node_seen(struct ctl_node *n);
void node_tick(struct ctl *c);
const char *node_state_name(enum node_state st);
int node_state_parse(const char *s, enum node_state *out);
void node_attach(struct ctl_node *n, struct ctl_slice *sl);
void node_detach(struct ctl_slice *sl);

/* ---- slice.c: the slice table and its life ---- */
struct ctl_slice *slice_find(struct ctl *c, const char *name);
struct ctl_slice *slice_new(struct ctl *c, const char *name);
void slice_mark_dirty(struct ctl *c, struct ctl_slice *sl);
void slice_set_state(struct ctl *c, struct ctl_slice *sl, enum acre_slice_state st,
		     const char *reason);
void slice_set_reason(struct ctl_slice *sl, const char *reason);
void slice_reserve(struct ctl *c, struct ctl_slice *sl);
void slice_unreserve(struct ctl *c, struct ctl_slice *sl);
/* Whether a slice in its state still takes up room on its node (its policy may restart it). */
bool slice_holds_resources(const struct ctl_slice *sl);
bool slice_is_active(const struct ctl_slice *sl);
/* The node lost it: lost for good, or pending again when its restart policy says so. */
void slice_lost(struct ctl *c, struct ctl_slice *sl, const char *why);
/* Gone from the pool: the row is deleted at the next commit. */
void slice_delete(struct ctl *c, struct ctl_slice *sl);
/* Its strings freed, its struct back to the slab. */
void slice_free(struct ctl *c, struct ctl_slice *sl);
/* A report from the node it runs on (an update, or its entry at sync). */
void slice_apply_report(struct ctl *c, struct ctl_slice *sl, enum acre_slice_state st,
			const char *reason, unsigned restarts, const char *exit_json);
void slice_request_kill(struct ctl *c, struct ctl_slice *sl, int signal);
void slice_request_remove(struct ctl *c, struct ctl_slice *sl);
const char *desired_name(enum desired d);
int desired_parse(const char *s, enum desired *out);
void ctl_name_generate(struct ctl *c, char *buf, size_t len);

/* ---- place.c: slices onto nodes ---- */
/*
 * Places a new or pending slice: assigned to a node (spec sent after the
 * commit), or left pending with the reason.  -E2BIG (with check_capacity)
 * when no node could ever hold it.  spec: the text to send, or NULL to read
 * it from the store.
 */
int place_slice(struct ctl *c, struct ctl_slice *sl, const char *spec, bool check_capacity,
		struct acre_error *err);
void place_assign(struct ctl *c, struct ctl_slice *sl, struct ctl_node *n, const char *spec);
void pending_add(struct ctl *c, struct ctl_slice *sl);
void pending_remove(struct ctl *c, struct ctl_slice *sl);
/* Places what waits, as room appeared (a bounded number per call). */
void place_retry_pending(struct ctl *c);

/* ---- reconcile.c ---- */
/* A node's slices after it (re)connected: both ways, see the file. */
int reconcile_node(struct ctl *c, struct ctl_node *n, json_t *slices, struct acre_error *err);

/* ---- tls.c ---- */
int tls_server_ctx(const struct ctl_options *o, void **out, struct acre_error *err);
void tls_ctx_free(void *ctx);

/* ---- nodeconn.c: supervisors' connections ---- */
int nodeconn_listen(struct ctl *c, struct acre_error *err);
void nodeconn_shutdown(struct ctl *c);
void conn_send(struct node_conn *conn, const char *line, size_t len);
void conn_send_json(struct node_conn *conn, const json_t *msg);
void conn_reply_error(struct node_conn *conn, json_t *id, const struct acre_error *err);
/* Sends a request (its id from conn_next_id; the line in msg, drained); takes req->items. */
int conn_request(struct node_conn *conn, struct sent_req *req, struct evbuffer *msg);
/* Connections that never registered are closed after a while. */
void nodeconn_tick(struct ctl *c);
void conn_close(struct node_conn *conn, const char *why);
/* Replies with the error, then closes once it is written (a refused registration). */
void conn_refuse(struct node_conn *conn, json_t *id, const struct acre_error *err);
struct ctl_node *conn_node(const struct node_conn *conn);
struct ctl *conn_ctl(const struct node_conn *conn);
void conn_set_node(struct node_conn *conn, struct ctl_node *n);
const char *conn_peer(const struct node_conn *conn);
bool conn_alive(const struct node_conn *conn);
int64_t conn_next_id(struct node_conn *conn);
void conn_free_zombies(struct ctl *c);
/* The request a reply answers, taken off the connection's list; the caller frees out->items. */
bool conn_take_request(struct node_conn *conn, int64_t id, struct sent_req *out);

/* ---- nodeproto.c: the supervisor protocol's operations ---- */
void nodeproto_message(struct node_conn *conn, const char *line, size_t len);

/* ---- api*.c, events.c, metrics.c ---- */
int api_start(struct ctl *c, struct acre_error *err);
void api_stop(struct ctl *c);
void api_flush(struct ctl *c);
int events_init(struct ctl *c);
void events_free(struct ctl *c);
bool events_wanted(const struct ctl *c);
void events_node(struct ctl *c, const struct ctl_node *n, const char *event);
void events_slice(struct ctl *c, const struct ctl_slice *sl, const char *event);
void events_flush(struct ctl *c);
void metrics_observe_run_latency(struct ctl *c, double seconds);

#endif
