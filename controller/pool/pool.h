/*
 * pool: the controller's domain as plain C verbs — the nodes of the pool,
 * its slices, the queue of slices that wait for room, reconciliation with
 * a node that (re)connects, and the scheduler that picks a node.  Whoever
 * changes the pool calls these verbs: the HTTP API and the node port today,
 * apps, jobs and triggers later.  The pool calls nothing above it.
 *
 * Every change is published at once to the pool's subscribers (the store's
 * writer, the event stream, metrics), each as a struct pool_change that
 * carries what an event needs.  The daemon's loop runs one pass at a time;
 * at the end of each, pool_commit() writes the pass's changes in one
 * transaction, commits it, and only then lets the subscribers deliver what
 * depends on it.  Messages for nodes (assign, kill, remove) wait in the
 * pool's outbound queue until that commit too.
 *
 * Objects are plain structs that readers may look into; only the verbs
 * below change them.
 */
#ifndef ACRE_CONTROLLER_POOL_H
#define ACRE_CONTROLLER_POOL_H

#include "common/common.h"
#include "proto/proto.h"
#include "controller/pool/sched.h"

struct pool;
struct store;
struct store_stats;

/* The pool's network (net.c): addresses of nodes' slices, VIPs, how nodes reach each other. */
enum pool_overlay { POOL_OVERLAY_HOST_GW, POOL_OVERLAY_VXLAN };
#define POOL_NET_POOL_CIDR   "10.64.0.0/10" /* 16,384 node subnets of /24 */
#define POOL_NET_VIP_CIDR    "10.63.0.0/16"
#define POOL_NET_SUBNET_BITS 24
#define POOL_NET_VNI	     7470
#define POOL_NET_VXLAN_PORT  4789

struct pool_net_options {
	const char *pool_cidr;	   /* --pool-cidr; NULL: POOL_NET_POOL_CIDR */
	const char *vip_cidr;	   /* --vip-cidr; NULL: POOL_NET_VIP_CIDR */
	const char *overlay;	   /* --overlay host-gw|vxlan; NULL: host-gw */
	unsigned node_subnet_bits; /* --node-subnet-bits; 0: POOL_NET_SUBNET_BITS */
};
/* Whether the options make a network: errors name the option (pool too small, overlap, ...). */
int pool_net_options_check(const struct pool_net_options *o, struct acre_error *err);

struct pool_options {
	uint64_t node_timeout_ms; /* silent this long: unreachable */
	uint64_t lost_after_ms;	  /* unreachable this long: down, its slices lost */
	struct pool_net_options net;
};

enum pool_node_state { POOL_NODE_READY, POOL_NODE_UNREACHABLE, POOL_NODE_DOWN };
enum pool_desired { POOL_DESIRED_RUN, POOL_DESIRED_STOP, POOL_DESIRED_REMOVE };

/* ---- labels ---------------------------------------------------------------------------- */

/* The slices that carry one label key=value, in creation order (labels.c). */
struct pool_label_set;

/* One label of one slice: its place in the set of the slices that carry it. */
struct pool_label {
	struct pool_label_set *set;
	struct pool_slice *slice;
	ACRE_LIST_FIELDS(struct pool_label, set);
};

/* A slice's labels, in one block. */
struct pool_labels {
	unsigned n, cap;
	struct pool_label l[];
};

#define POOL_LABEL_FILTER_MAX 16

/* Labels a slice must all carry: "K=V" texts, split at the first '=' (not copied). */
struct pool_label_filter {
	unsigned n;
	struct {
		const char *key; /* key_len bytes, then '=' */
		size_t key_len;
		const char *value;
	} l[POOL_LABEL_FILTER_MAX];
};

/* ---- nodes and slices ------------------------------------------------------------------ */

/*
 * Ports of the host's network a slice asks its node to pick (an app's
 * --net host port without a number): the spec's "host_ports" member,
 * ["http", "metrics:20005/udp"], a number being the one asked for first.
 * The pool picks each from the --port-range of the node it binds the
 * slice to, one no other slice there holds, and writes it into the spec
 * the node gets (host_ports.c).
 */
#define POOL_HOST_PORTS_MAX 16
struct pool_host_port {
	char name[ACRE_PORT_NAME_MAX + 1];
	bool udp;
	uint16_t want; /* asked first: the one it had; 0: any */
	uint16_t port; /* held on its node; 0: none (not bound) */
};
struct pool_host_ports {
	unsigned n;
	struct pool_host_port p[POOL_HOST_PORTS_MAX];
};

struct pool_node {
	struct sched_node sn; /* first: the scheduler's view (capacity, use, attributes) */
	char id[ACRE_NAME_MAX + 1];
	char *hostname;
	char secret_hash[65]; /* SHA-256 of the secret the node chose, hex */
	char address[64];
	char version[32];
	json_t *attributes;	  /* what the node declared, object of strings */
	struct sched_attr *attrs; /* the same plus node.id and node.hostname */
	enum pool_node_state state;
	void *conn;	  /* the node port's connection, NULL while disconnected (opaque here) */
	bool synced;	  /* its slices reconciled on this connection */
	int64_t last_seq; /* last update applied */
	uint64_t last_seen_ns, state_since_ns;
	int64_t registered_at, last_seen_ms;
	uint32_t reserved_cpus, local_cpus; /* placed by the pool; run by the node alone */
	uint64_t reserved_mem, local_mem;
	json_t *usage; /* the last heartbeat's */
	/* Pool networking: its slices' subnet, given at its first registration and kept. */
	char subnet[20];       /* "" until given */
	char net_address[48];  /* where other nodes reach its slices: network.address, or source */
	char vtep_mac[18];     /* its VXLAN device's MAC, "" when it sent none */
	bool network;	       /* it sent a network member: it takes net.* messages */
	bool cordoned;	       /* an admin's: it takes no new placement, keeps what it runs */
	bool removed;	       /* gone from the pool; freed after the commit */
	bool net_full;	       /* owes the full net.* tables on this connection */
	bool net_live;	       /* had them: takes the changes */
	uint64_t reserved_net; /* bit/s of net_rate placed here */
	uint64_t disk_total;   /* the filesystem of its volumes: size, bytes; 0: not known */
	uint64_t disk_free;    /* and its free bytes, as last reported; 0: not known */
	uint32_t ports_held;   /* host ports its slices hold in its --port-range (sn: the range) */
	struct pool_slice *slices; /* placed here: a list through node_prev, node_next */
	size_t nslices;
	unsigned sync_gen;
};

/*
 * A new slice's spec, encoded once (spec_text.c) and shared by the store's
 * row and the assign message; never changed once made.
 */
struct pool_spec_text {
	unsigned refs;
	size_t len;   /* of text */
	char *labels; /* the spec's labels object as text; NULL: none */
	char text[];  /* the spec, compact JSON */
};

struct pool_spec_text *pool_spec_text_ref(struct pool_spec_text *t);
void pool_spec_text_unref(struct pool_spec_text *t);

struct pool_slice {
	int64_t id; /* row id, never reused */
	char name[ACRE_NAME_MAX + 1];
	struct pool_node *node;	     /* where it is placed; NULL while pending or once lost */
	struct pool_node *last_node; /* where it was, for display and re-adoption */
	enum acre_slice_state state;
	enum pool_desired desired;
	enum acre_restart restart;
	unsigned restart_max;
	unsigned restarts;     /* on its present node, as the node counts them */
	unsigned replacements; /* new placements after its node was lost */
	enum acre_strategy strategy;
	uint32_t cpus;
	uint64_t mem;
	uint64_t net_rate;		  /* bit/s reserved on its node (resources.net_rate) */
	char *address;			  /* its address on the pool's network, NULL: none */
	uint32_t vip;			  /* its group's virtual IP (IPv4, host order), 0: none */
	char *reason;			  /* NULL: none */
	json_t *exit;			  /* the node's exit record as it sent it; NULL: unknown */
	char *spread, *group;		  /* --spread ATTR; the slices counted with it and unique */
	struct acre_placement *placement; /* NULL: the default */
	struct pool_labels *labels;	  /* NULL: none */
	struct pool_host_ports *host_ports; /* picked from its node's --port-range; NULL: none */
	bool ports_released;	     /* it ended: its host ports went back to its node (slice.c) */
	struct pool_spec_text *spec; /* a new slice's spec, until the store holds it */
	bool assigned;		     /* the node has accepted it */
	bool reserved;		     /* its resources are counted on node */
	bool removed;		     /* gone from the pool; freed after the commit */
	unsigned seen_gen;
	int64_t created_at, updated_at;
	uint64_t placed_ns; /* when placed, until it first runs: the time-to-running histogram */
	/* What its checks say on its node (transitions only; not stored: the node resends). */
	uint8_t health;	   /* enum acre_health */
	bool unready;	   /* a readiness check does not pass */
	bool checked;	   /* its node reported checks */
	int64_t health_at; /* the node's time of the last transition, unix ms */
	ACRE_LIST_FIELDS(struct pool_slice, node);
	ACRE_LIST_FIELDS(struct pool_slice, pending);
};

const char *pool_node_state_name(enum pool_node_state st);
const char *pool_desired_name(enum pool_desired d);

/* ---- changes and their subscribers ------------------------------------------------------ */

/*
 * Nodes and slices are the pool's own; an object is one of a layer above
 * (an app, a deployment) published through the pool so that the same
 * subscribers (the event log, the GUI's stream) see every change in one
 * order.
 */
enum pool_change_kind { POOL_CHANGE_NODE, POOL_CHANGE_SLICE, POOL_CHANGE_OBJECT };

/*
 * One change of the pool, published at once to every subscriber, in the
 * order the changes happened.  The object is as the change left it while
 * the callback runs (and no longer afterwards: copy what is kept).
 */
struct pool_change {
	enum pool_change_kind kind;
	/*
	 * slice: "created", "state", "health", "removed", or "updated";
	 * node: "registered", "ready", "unreachable", "down", "disconnected", "removed", or
	 * "updated".
	 */
	const char *event;
	/* "updated": a field no event reports (restarts, desired, exit record, ...). */
	bool quiet;
	const struct pool_node *node;	/* kind node */
	const struct pool_slice *slice; /* kind slice */
	/* kind object: its type ("app", "deployment"), itself as events show it, its labels. */
	const char *type;
	const json_t *object, *labels;
};

/* "slice", "node", or an object's type. */
const char *pool_change_type(const struct pool_change *ch);
/*
 * A change of an object of a layer above the pool, published to the
 * pool's subscribers as the pool's own are (the store's writer ignores
 * it: the layer writes its own rows).  object and labels (an object of
 * strings, or NULL) are borrowed for the call.
 */
void pool_publish_object(struct pool *p, const char *type, const char *event, const json_t *object,
			 const json_t *labels);
/* The object as an event shows it (a slice as the API does; a node in brief). */
json_t *pool_change_json(const struct pool_change *ch);
/* Its labels: a slice's labels, a node's attributes; an object of strings. */
json_t *pool_change_labels(const struct pool_change *ch);
bool pool_change_has_label(const struct pool_change *ch, const char *key, const char *value);

struct acre_jsonw;
/*
 * The same two written straight into a JSON writer (common/jsonw.h), the
 * same text json_dumps would give, with no jansson tree on the way: how
 * the event log encodes the hundreds of thousands of changes of a busy
 * pool.
 */
void pool_change_write(struct acre_jsonw *w, const struct pool_change *ch);
void pool_change_write_labels(struct acre_jsonw *w, const struct pool_change *ch);

struct pool_subscriber {
	/* At once, in the pass that made the change. */
	void (*changed)(void *ud, const struct pool_change *ch);
	/*
	 * Before the pass's commit, at the end of every pass: rows of one's own
	 * go in the same transaction (store_begin(pool_store(p)) opens it if the
	 * pass wrote nothing else).  A failure ends the process, as a failed
	 * commit does.
	 */
	int (*committing)(void *ud, struct acre_error *err);
	/* After the commit: what depends on the pass's changes may go out now, in order. */
	void (*committed)(void *ud);
	void *ud;
};

/* Subscribers are called in the order they subscribed; the store's writer is first. */
int pool_subscribe(struct pool *p, const struct pool_subscriber *s);
/* Every subscription made with this ud ends. */
void pool_unsubscribe(struct pool *p, void *ud);

/* ---- the pool as a whole ----------------------------------------------------------------- */

/*
 * The pool as the store holds it (store NULL: an empty pool kept in
 * memory only, for tests).  The store stays the caller's.
 */
int pool_open(struct store *st, const struct pool_options *o, struct pool **out,
	      struct acre_error *err);
void pool_close(struct pool *p);

/*
 * The end of a loop pass: pending slices tried again if room appeared,
 * then the pass's changes written and committed (one fsync), then the
 * subscribers told.  A failed commit ends the process: memory would no
 * longer match the disk, and a restart resumes from the last commit,
 * which is exactly what was acknowledged.
 */
void pool_commit(struct pool *p);
/* Node timeouts, a few times a second; pending slices retried at the next commit. */
void pool_tick(struct pool *p);
/*
 * How long a node cut off from the controller waits before it stops its
 * slices labelled acre.on-partition=replace: half of --lost-after, so they
 * have stopped well before the pool declares them lost and runs them
 * elsewhere (never one name on two nodes).  Told to each node as it
 * registers.
 */
uint64_t pool_disconnect_grace_ms(const struct pool *p);

/* The controller's counters, for /metrics: the pool's, and the node port's (counted here). */
struct pool_stats {
	uint64_t slices_created, slices_removed, placements, placement_pending;
	uint64_t slices_lost, slices_replaced, assign_failures;
	uint64_t registrations, refusals, protocol_errors, heartbeats;
	uint64_t updates_applied, updates_duplicate;
	uint64_t assigns_sent, kills_sent, removes_sent, net_sent;
};
struct pool_stats *pool_stats(struct pool *p);
size_t pool_slice_count(const struct pool *p, enum acre_slice_state st);
size_t pool_pending_count(const struct pool *p);
const struct store_stats *pool_store_stats(const struct pool *p, int64_t *file_size);
/* The store under the pool, for a module that keeps a table of its own in it (the event log). */
struct store *pool_store(struct pool *p);

/* ---- nodes ------------------------------------------------------------------------------- */

struct pool_node *pool_node_find(struct pool *p, const char *id);
size_t pool_node_count(const struct pool *p);
/* Node ids sorted, NULL-terminated; free the array (the strings are the pool's). */
const char **pool_node_ids(const struct pool *p);
void pool_node_foreach(const struct pool *p, void (*fn)(struct pool_node *n, void *ud), void *ud);

struct pool_registration {
	const char *id, *secret_hash, *hostname, *version, *address;
	uint32_t cpus; /* millicpus */
	uint64_t memory;
	uint64_t net;			/* capacity.net, bit/s; 0: not given (no limit) */
	uint64_t disk, disk_free;	/* capacity.disk and disk_free, bytes; 0: not given */
	uint16_t port_first, port_last; /* --port-range; 0: not given (the default) */
	bool network;			/* it sent a network member */
	const char *net_address;	/* network.address, else the connection's source address */
	const char *vtep_mac;		/* network.vtep_mac, or NULL */
	json_t *attributes;		/* checked: an object of valid attribute strings */
};

bool pool_node_secret_matches(const struct pool_node *n, const char *secret_hash);
/*
 * A node joins (or rejoins) on connection `conn`: created at its first
 * registration, described anew, ready; -EACCES when its id belongs to a
 * node with another secret.  Close an older connection of the node first.
 */
int pool_node_register(struct pool *p, const struct pool_registration *r, void *conn,
		       struct pool_node **out, struct acre_error *err);
/* The node spoke: false when it was declared down meanwhile (it must reconnect and reconcile). */
bool pool_node_heard(struct pool *p, struct pool_node *n);
void pool_node_disconnected(struct pool *p, struct pool_node *n, void *conn);
/*
 * Forgets a node: its row, its subnet (free for the next node), its place
 * in its peers' routes.  -EBUSY while it is connected, and while it is not
 * down unless force (then it goes down first: its slices are lost, and
 * placed again where their policy says).
 */
int pool_node_remove(struct pool *p, struct pool_node *n, bool force, struct acre_error *err);
/*
 * Cordons a node (on) or lets it take placements again: a cordoned node
 * keeps what it runs and takes nothing new; stored, and an event.
 */
void pool_node_cordon(struct pool *p, struct pool_node *n, bool on);

/* What a node runs on its own (slices started on its socket): counted as used. */
struct pool_local {
	uint32_t cpus; /* millicpus */
	uint64_t memory;
};
/*
 * local NULL: not reported; usage: the heartbeat's object, kept (a
 * reference), its disk_free (checked by the caller) the node's.
 */
void pool_node_heartbeat(struct pool *p, struct pool_node *n, const struct pool_local *local,
			 json_t *usage);

/* A slice as its node reports it: an update (seq > 0) or an entry of a sync. */
struct pool_report {
	int64_t seq;
	const char *slice, *reason;
	enum acre_slice_state state;
	unsigned restarts;
	json_t *exit;	     /* an object, or NULL */
	bool managed;	     /* sync: assigned by the pool */
	const char *address; /* a bridged slice's address, or NULL */
	bool checked;	     /* a slice with checks: health and ready follow */
	enum acre_health health;
	bool ready;
};
/* Updates in order, each applied once (a duplicate's seq is at most the last); the last seq. */
int64_t pool_node_update(struct pool *p, struct pool_node *n, const struct pool_report *u,
			 size_t count);
/*
 * A health transition of a slice on node n (its checks run there): kept on
 * the slice, published, and its names and VIPs follow.  -ENOENT when the
 * slice is not the pool's on that node.
 */
int pool_node_health(struct pool *p, struct pool_node *n, const char *slice,
		     enum acre_health health, bool ready, int64_t at);
/* A running slice in its names and VIPs: ready, and healthy when it has checks. */
bool pool_slice_serving(const struct pool_slice *sl);
/* The node's slices after it (re)connected, reconciled both ways; then it takes placements. */
void pool_node_sync(struct pool *p, struct pool_node *n, const struct pool_report *slices,
		    size_t count, const struct pool_local *local);

/* ---- a node's disk (node_disk.c) -------------------------------------------------------- */

/*
 * Asks node n to remove its persistent volume (volume.remove, sent after
 * the commit; the node refuses while a slice names it, and the answer is
 * logged, not waited for: list the node's volumes to know).  -EINVAL for
 * a bad name; -ENOTCONN while the node is not connected (nothing is
 * queued: ask again once it is back).
 */
int pool_node_volume_remove(struct pool *p, struct pool_node *n, const char *volume,
			    struct acre_error *err);
/* The most free disk (bytes, where volumes go) of any ready node; 0: none known. */
uint64_t pool_max_disk_free(struct pool *p);

/* ---- slices ------------------------------------------------------------------------------ */

struct pool_slice *pool_slice_find(struct pool *p, const char *name);

/*
 * A new slice from its spec (JSON, validated here with
 * acre_slice_spec_parse: errors name the field under "spec") and its
 * placement (NULL: the default).  The spec object is kept as the slice's
 * one copy (a reference is taken; the generated name, if any, is set in
 * it); the slice is placed, or pending with the reason.  -EEXIST for a
 * name in use, -E2BIG when no node could ever hold it; nothing is created
 * then.  A spec may carry "host_ports" (struct pool_host_ports): the spec
 * is kept with it, and the node gets it resolved.
 */
int pool_slice_create(struct pool *p, json_t *spec, const struct acre_placement *placement,
		      struct pool_slice **out, struct acre_error *err);
/*
 * pool_slice_create for a spec its caller made from one already checked
 * (an app's instance, from its checked template), which the pool does not
 * parse again: `known` is that spec parsed, and the pool reads only its
 * name, resources, restart, network mode and labels, which must be the
 * spec's.  At 100,000 instances parsing each spec back was a tenth of
 * the controller's time in a scale up.
 */
int pool_slice_create_known(struct pool *p, json_t *spec, const struct acre_slice_spec *known,
			    const struct acre_placement *placement, struct pool_slice **out,
			    struct acre_error *err);
/*
 * Ends a slice (signal 0: TERM, then KILL after the node's stop timeout;
 * another signal is only sent).  0: it was never placed and is killed now;
 * 1: asked of its node; -ESRCH: it does not run.
 */
int pool_slice_kill(struct pool *p, struct pool_slice *sl, int signal, struct acre_error *err);
/*
 * The port of the host's network the slice holds under that name on its
 * node, else the one it held last or asks for; 0: none.
 */
uint16_t pool_slice_host_port(const struct pool_slice *sl, const char *name);
/*
 * Removes a slice.  0: removed now (it was on no node); 1: being removed
 * on its node, gone when the node says so; -EBUSY: it runs and !force.
 */
int pool_slice_remove(struct pool *p, struct pool_slice *sl, bool force, struct acre_error *err);
/*
 * Its spec as shown (the API's): from memory while new, else from the
 * store, its secrets' values redacted (the store keeps them, for the
 * node, and nothing shows them).  A new reference.
 */
int pool_slice_spec(struct pool *p, const struct pool_slice *sl, json_t **out,
		    struct acre_error *err);

struct pool_slice_query {
	int64_t after;	/* ids greater than this */
	unsigned limit; /* 0: no limit */
	const char *node_id;
	int state;				/* enum acre_slice_state, or -1 for any */
	const struct pool_label_filter *labels; /* NULL or empty: any */
	bool with_spec;
};
/*
 * Slices in creation order, each with its latest state (and its spec when
 * asked, else NULL); fn returning non-zero stops.  Without labels the
 * store's order is walked, and slices made in this very pass are not
 * listed yet; with labels, the label index in memory.
 */
int pool_slice_list(struct pool *p, const struct pool_slice_query *q,
		    int (*fn)(const struct pool_slice *sl, json_t *spec, void *ud), void *ud,
		    struct acre_error *err);

/* Adds "K=V" to the filter (the text is kept by pointer, not copied). */
int pool_label_filter_add(struct pool_label_filter *f, const char *kv, struct acre_error *err);
bool pool_slice_has_labels(const struct pool_slice *sl, const struct pool_label_filter *f);
/* The slices carrying every label of f (at least one), in creation order; fn returning non-zero
 * stops. */
int pool_slices_labelled(struct pool *p, const struct pool_label_filter *f,
			 int (*fn)(struct pool_slice *sl, void *ud), void *ud);
/* A slice's labels as an object of strings. */
json_t *pool_slice_labels_json(const struct pool_slice *sl);
/* The value of one of its labels, NULL when it has none of that key. */
const char *pool_slice_label(const struct pool_slice *sl, const char *key);

/* ---- messages for nodes -------------------------------------------------------------------- */

enum pool_op {
	POOL_OP_ASSIGN,
	POOL_OP_KILL,
	POOL_OP_REMOVE,
	POOL_OP_NET,
	POOL_OP_VOLUME_REMOVE,
	POOL_OP_BINARIES_CHECK, /* name: the path */
};

/* A message for a node, decided in a pass and sent once that pass is committed. */
struct pool_outbound {
	ACRE_LIST_FIELDS(struct pool_outbound, out);
	enum pool_op op;
	struct pool_node *node;
	int64_t slice_id; /* 0: a slice the pool does not know (reconciliation's removals) */
	/* the slice's; volume.remove: the volume's; binaries.check: the path (fits: bin:PATH is an
	 * attribute name) */
	char name[ACRE_NAME_MAX + 1];
	struct pool_spec_text *spec; /* assign: the spec, or NULL to read it from the store */
	int signal;		     /* kill: 0 = TERM, then KILL after the node's stop timeout */
};

/* The committed pass's messages, in the order decided (a list through out_next). */
struct pool_outbound *pool_outbound_take(struct pool *p);
void pool_outbound_free(struct pool_outbound *o);
/* Whether an assign still stands: the same slice, still placed there, not yet accepted. */
bool pool_assign_current(struct pool *p, const struct pool_outbound *o);
/* Fills o->spec from the store when it is not in memory. */
int pool_outbound_spec(struct pool *p, struct pool_outbound *o, struct acre_error *err);

/* The node's answer to an assign of one slice: err NULL when it took it. */
void pool_assign_result(struct pool *p, struct pool_node *n, const char *name, int64_t id,
			const struct acre_error *err);
/*
 * The node's answer to binaries.check of one path: its attribute
 * bin:PATH is "true" when present, gone when not (node_binaries.c).
 */
void pool_node_binary_result(struct pool *p, struct pool_node *n, const char *path, bool present);
/* The placement has a bin:PATH constraint. */
bool pool_binaries_named(const struct acre_placement *pl);
/* The nodes asked about PATH (once; an install's plan names it before any slice does). */
void pool_binaries_want(struct pool *p, const char *path);
/*
 * The placement without its bin:PATH constraints: what "could any node
 * ever take it" is asked of, since a binary may be installed later.
 */
void pool_binaries_strip(const struct acre_placement *in, struct acre_placement *out);
/* The node answered a remove with not_found: nothing left to wait for. */
void pool_remove_gone(struct pool *p, struct pool_node *n, const char *name, int64_t id);

/* ---- the pool's network (net.c, net_view.c) --------------------------------------------- */

/*
 * After the commit: the net.peers, net.names and net.vips messages the
 * pass decided, each handed to send() as the text after its op and id
 * ("\"full\":...}\n") — at most one of each kind per node per pass: the
 * full tables to a node that registered with a network member, the
 * changes to the others.  Members stopped by the pool leave here, before
 * their kill goes out.
 */
void pool_net_flush(struct pool *p,
		    void (*send)(void *ud, struct pool_node *n, const char *op, const char *body,
				 size_t len),
		    void *ud);
/* What a node with a network member is told at registration: its subnet and the pool's. */
json_t *pool_node_network_json(struct pool *p, const struct pool_node *n);
/* A node's network as GET /v1/nodes/{id} shows it: address, subnet, overlay, routes. */
json_t *pool_node_net_view(struct pool *p, const struct pool_node *n);
/* GET /v1/network: the pool's ranges, the nodes' subnets, every name and VIP. */
json_t *pool_network_json(struct pool *p);

/* ---- JSON shapes (view.c) -------------------------------------------------------------------- */

json_t *pool_node_json(const struct pool_node *n);
/*
 * Every health-checked running slice on the node (two at least) fails at
 * once: the node (its network, its disk, its clock), not the slices, is
 * the likely cause.  Apps kill nothing there until the node is judged lost;
 * the node's view says so (suspect).
 */
bool pool_node_suspect(const struct pool_node *n);
json_t *pool_slice_json(const struct pool_slice *sl);
/* The same text as json_dumps(pool_slice_json(sl)), written into w. */
void pool_slice_write(struct acre_jsonw *w, const struct pool_slice *sl);
/* Capacity, use and room of the ready nodes, in all and per attribute value; slice counts. */
json_t *pool_summary_json(struct pool *p);

/* ---- why something does not run (why.c) ---------------------------------------------- */

/* What a placement needs: a slice's, or one instance's of an app. */
struct pool_why_request {
	uint32_t cpus; /* millicpus */
	uint64_t mem;
	uint64_t net;				/* bit/s */
	unsigned ports;				/* host ports picked from the node's range */
	const struct acre_placement *placement; /* NULL: anywhere */
	const char *group; /* whose slices placement.unique keeps apart; NULL: "" */
};

/*
 * Every node's reasons it does not take r, grouped and counted ("reasons":
 * [{reason, nodes, examples: [{node, detail}]}], most nodes first), every
 * node's own list in pools of up to 100 ("by_node"), how many would take it
 * now ("fit") and could by capacity ("could_ever"), and the smallest changes
 * that would let it run ("suggestions").  A unique placement adds "unique":
 * {attr, values (distinct, on nodes its constraints allow), slices (of its
 * group placed unique by it, not lost)}: more slices than values can never
 * all run.  NULL: out of memory.
 */
json_t *pool_why(struct pool *p, const struct pool_why_request *r);
/* The same for a slice of the pool, with its kind, name, state and reason. */
json_t *pool_why_slice(struct pool *p, const struct pool_slice *sl);

#endif
