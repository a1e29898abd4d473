/*
 * What the files of pool/ share: the pool's state and the helpers each
 * file offers the others.  Nothing outside pool/ includes this (but the
 * unit tests, which drive the pieces directly).
 */
#ifndef ACRE_CONTROLLER_POOL_INTERNAL_H
#define ACRE_CONTROLLER_POOL_INTERNAL_H

#include "controller/pool/pool.h"
#include "controller/store/store.h"
#include "common/jsonw.h"

/* slab.c: where the slices' structs come from. */
struct slab;
struct slabs {
	struct slab *slabs;
	struct pool_slice *free_list; /* through pending_next */
};
struct pool_slice *pool_slab_alloc(struct slabs *s);
void pool_slab_release(struct slabs *s, struct pool_slice *sl);
void pool_slabs_free(struct slabs *s);

struct persist;
struct label_blocks;
struct pool_net;

struct pool {
	struct pool_options opt;
	struct store *store; /* NULL: memory only */
	struct sched *sched;
	struct acre_map *nodes;	 /* id -> struct pool_node */
	struct acre_map *labels; /* label -> struct pool_label_set (labels.c) */
	struct label_blocks *label_blocks;
	struct acre_map *slices; /* name -> struct pool_slice, keyed by the slice's own name */
	struct slabs slabs;
	int64_t next_slice_id;
	uint64_t rng;
	size_t by_state[ACRE_SLICE_DESTROYED + 1];
	struct pool_slice *pending_head, *pending_tail;
	size_t npending;
	bool retry_pending;
	struct pool_outbound *out_head, *out_tail;
	ACRE_VEC(struct pool_subscriber) subs;
	ACRE_VEC(struct pool_slice *) removed; /* freed after the commit */
	ACRE_VEC(struct pool_node *) removed_nodes;
	struct persist *persist;
	struct pool_net *net;	   /* net.c */
	struct acre_jsonw scratch; /* encodes new slices' specs (spec_text.c) */
	struct pool_stats stats;
	struct acre_map *binaries; /* paths a bin:PATH constraint named (node_binaries.c) */
};

/*
 * host_ports.c: ports of the host's network picked from a node's
 * --port-range.  The spec's "host_ports" member, read (NULL: none); the
 * spec made whole with the ports (held, else asked for, else a stand-in
 * for checking the spec): the member gone, PORT_<NAME> in env, NAME:N/PROTO
 * in the acre.ports label, and checks whose "port" names one numbered.
 */
int pool_host_ports_parse(const json_t *v, struct pool_host_ports **out, struct acre_error *err);
int pool_host_ports_apply(json_t *spec, const struct pool_host_ports *hp, struct acre_error *err);
/* Picks the ports on n, before the slice is attached there; -ENOSPC: its range is full. */
int pool_host_ports_pick(struct pool_node *n, struct pool_slice *sl);
/* The slice's held ports counted on its node (attach: +1, detach: -1, which lets them go). */
void pool_host_ports_hold(struct pool_node *n, struct pool_slice *sl, int delta);
/* A node's --port-range (0, 0: the default); its free count follows. */
void pool_node_set_port_range(struct pool *p, struct pool_node *n, uint16_t first, uint16_t last);
/* "http:20005/tcp,dns:0/udp" for the store's column, and back; NULL text: none. */
char *pool_host_ports_text(const struct pool_host_ports *hp);
int pool_host_ports_of_text(const char *text, bool held, struct pool_host_ports **out);
/* The spec's text as its node gets it: resolved when it asks for host ports. */
struct pool_spec_text *pool_host_ports_resolve(struct pool *p, const struct pool_slice *sl,
					       const char *text, struct acre_error *err);

/* pool.c: publishing. */
void pool_publish_slice(struct pool *p, const struct pool_slice *sl, const char *event);
void pool_publish_node(struct pool *p, const struct pool_node *n, const char *event);
/* A change no event reports (the store writes it). */
void pool_slice_touch(struct pool *p, struct pool_slice *sl);
void pool_node_touch(struct pool *p, struct pool_node *n);

/* persist.c: the store's writer, the first subscriber. */
int pool_persist_new(struct pool *p);
void pool_persist_free(struct pool *p);
/* Writes what the pass changed; the caller commits. */
int pool_persist_write(struct pool *p, struct acre_error *err);
/* What was just loaded is what is on disk: nothing to write back. */
void pool_persist_forget(struct pool *p);
/* After the commit: the new slices' specs are the store's now. */
void pool_persist_done(struct pool *p);

/* labels.c: the label index */
int pool_labels_init(struct pool *p);
void pool_labels_free(struct pool *p);
/* Indexes the slice under each label of the object (of strings). */
int pool_labels_attach(struct pool *p, struct pool_slice *sl, const json_t *labels);
/* The same labels as another slice's (loading rows of slices made together): no lookup. */
int pool_labels_attach_same(struct pool *p, struct pool_slice *sl, const struct pool_slice *like);
void pool_labels_detach(struct pool *p, struct pool_slice *sl);

/* spec_text.c: a spec (and its labels) encoded once, in scratch; NULL: out of memory. */
struct pool_spec_text *pool_spec_text_encode(struct acre_jsonw *scratch, const json_t *spec);
/* Text read from the store, as it is. */
struct pool_spec_text *pool_spec_text_of(const char *spec);

/* load.c */
int pool_load(struct pool *p, struct acre_error *err);

/* node.c: the node table */
struct pool_node *pool_node_create(struct pool *p, const char *id);
void pool_node_free(struct pool_node *n);
/* Hostname, capacity and attributes as the node declared them. */
int pool_node_describe(struct pool *p, struct pool_node *n, const char *hostname, uint32_t cpus,
		       uint64_t mem, json_t *attributes);
void pool_node_set_state(struct pool *p, struct pool_node *n, enum pool_node_state st,
			 const char *why);
void pool_node_update_eligibility(struct pool *p, struct pool_node *n);
void pool_node_set_local(struct pool *p, struct pool_node *n, uint32_t cpus, uint64_t mem);
int pool_node_state_parse(const char *s, enum pool_node_state *out);
/* Ties the slice to its node (and counts it there when it is placed unique). */
void pool_node_attach(struct pool *p, struct pool_node *n, struct pool_slice *sl);
/* Ready -> unreachable -> down as nodes fall silent. */
void pool_node_tick(struct pool *p);
void pool_node_detach(struct pool *p, struct pool_slice *sl);

/* slice.c: the slice table and its life */
int pool_slice_index(struct pool *p, struct pool_slice *sl);
void pool_slice_unindex(struct pool *p, struct pool_slice *sl);
struct pool_slice *pool_slice_new(struct pool *p, const char *name);
/* The state and reason (room follows); false when neither changed.  Published by the caller. */
bool pool_slice_change_state(struct pool *p, struct pool_slice *sl, enum acre_slice_state st,
			     const char *reason);
/* The same, published as a "state" change. */
void pool_slice_set_state(struct pool *p, struct pool_slice *sl, enum acre_slice_state st,
			  const char *reason);
void pool_slice_set_reason(struct pool_slice *sl, const char *reason);
/* Its checks' verdict from its node; published as "health" when it changed. */
void pool_slice_set_health(struct pool *p, struct pool_slice *sl, enum acre_health health,
			   bool ready, int64_t at);
void pool_slice_reserve(struct pool *p, struct pool_slice *sl);
void pool_slice_unreserve(struct pool *p, struct pool_slice *sl);
/* Whether a slice in its state still takes up room on its node (its policy may restart it). */
bool pool_slice_holds_resources(const struct pool_slice *sl);
bool pool_slice_is_active(const struct pool_slice *sl);
/* The node lost it: lost for good, or pending again when its restart policy says so. */
void pool_slice_lost(struct pool *p, struct pool_slice *sl, const char *why);
/* Gone from the pool: the row is deleted at the next commit, the memory after it. */
void pool_slice_delete(struct pool *p, struct pool_slice *sl);
/* Its strings freed, its struct back to the slab. */
void pool_slice_free(struct pool *p, struct pool_slice *sl);
/* A report from the node it runs on (an update, or its entry at sync). */
void pool_slice_apply_report(struct pool *p, struct pool_slice *sl, const struct pool_report *r);
void pool_slice_request_kill(struct pool *p, struct pool_slice *sl, int signal);
void pool_slice_request_remove(struct pool *p, struct pool_slice *sl);
int pool_desired_parse(const char *s, enum pool_desired *out);
void pool_slice_name_generate(struct pool *p, char *buf, size_t len);
/* "on-failure:3" and back. */
void pool_slice_restart_text(const struct pool_slice *sl, char *buf, size_t len);
int pool_slice_restart_parse(const char *s, enum acre_restart *r, unsigned *max);

/* place.c: slices onto nodes */
/*
 * Places a pending slice: assigned to a node (spec sent after the commit),
 * or left pending with the reason.
 */
void pool_place_slice(struct pool *p, struct pool_slice *sl);
/*
 * announce: publish the change of state (false for a slice not yet published as created).
 * -ENOSPC: n's --port-range has not the host ports it asks for (nothing done).
 */
int pool_place_assign(struct pool *p, struct pool_slice *sl, struct pool_node *n, bool announce);
void pool_pending_add(struct pool *p, struct pool_slice *sl);
void pool_pending_remove(struct pool *p, struct pool_slice *sl);
/* Places what waits, as room appeared (a bounded number per call). */
void pool_place_retry_pending(struct pool *p);
/* A message for a node, sent after the commit. */
void pool_outbound_queue(struct pool *p, enum pool_op op, struct pool_node *n, const char *name,
			 int64_t slice_id, struct pool_spec_text *spec, int signal);

/* node_binaries.c: the host binaries constraints name, asked of the nodes */
/* The placement's bin:PATH constraints: a path named first is asked of every connected node. */
void pool_binaries_note(struct pool *p, const struct acre_placement *pl);
/* A node that registered is asked for every path named so far. */
void pool_binaries_ask(struct pool *p, struct pool_node *n);
/*
 * Whether a path pl names was named first a moment ago and nodes have not
 * all answered yet: what asks for it waits (why says so) rather than go to
 * the first node that answered.
 */
bool pool_binaries_awaited(struct pool *p, const struct acre_placement *pl, char *why, size_t len);
void pool_binaries_free(struct pool *p);

/* reconcile.c */
void pool_reconcile_node(struct pool *p, struct pool_node *n, const struct pool_report *slices,
			 size_t count);

#endif
