/*
 * The scheduler: which node a slice goes to.  Pure code over plain structs
 * (no I/O, no event loop), so tests drive it directly.
 *
 * It never scans the pool per placement.  Eligible nodes sit in groups —
 * one of all nodes, and one per (attribute, value) that a constraint or a
 * spread has asked about, built on first use — and inside each group, for
 * each resource (CPUs, memory), in 256 logarithmic buckets by how much of
 * it they have free, with a bitmap of the non-empty buckets.  A placement
 * walks the buckets of the resource it needs most relative to the largest
 * node: binpack up from the request's own bucket (nodes with too little
 * free, full ones included, are never visited: best fit), spread down from
 * the top (most free first); the first few nodes that fit and match are
 * scored and the best one wins.  A placement costs a
 * handful of node visits however large the pool, and moving a node
 * between buckets after a reservation is O(1) per group it belongs to.
 *
 * A unique placement (one slice of its group per value of an attribute)
 * asks one counter per candidate visited, kept per (group, attribute,
 * value) as the spread counters are: a node whose value is taken is
 * passed over like a node without room.
 */
#ifndef ACRE_CONTROLLER_SCHED_H
#define ACRE_CONTROLLER_SCHED_H

#include "proto/proto.h"

#define SCHED_BUCKETS 256

enum sched_dim { SCHED_CPU, SCHED_MEM, SCHED_DIMS };

struct sched_group;

/* One membership of a node in a group: its place in the group's bucket list of each resource. */
struct sched_link {
	struct sched_link *prev[SCHED_DIMS], *next[SCHED_DIMS];
	unsigned bucket[SCHED_DIMS];
	struct sched_node *node;
	struct sched_group *group;
	struct sched_link *next_of_node;
};

struct sched_attr {
	const char *key, *value;
};

/* The scheduler's view of a node, embedded in the controller's node. */
struct sched_node {
	const char *id;
	uint32_t cap_cpus;  /* millicpus */
	uint64_t cap_mem;   /* bytes */
	uint32_t used_cpus; /* reserved by slices placed here, plus what the node runs alone */
	uint64_t used_mem;
	/*
	 * Bandwidth (bit/s): not bucketed, checked as candidates are visited.
	 * cap_net 0: the node declared none, and any net_rate fits.
	 */
	uint64_t cap_net, used_net;
	/*
	 * Its --port-range and how many of it no slice holds: a request for
	 * host ports fits only where that many are free (not bucketed either).
	 */
	uint16_t port_first, port_last;
	uint32_t ports_free;
	const struct sched_attr *attrs; /* owned by the caller, stable while known */
	unsigned nattrs;
	/* Scheduler-owned from here on. */
	struct sched_link *links; /* NULL unless eligible */
	bool eligible;
	size_t index; /* in the scheduler's array of known nodes */
};

struct sched_request {
	uint32_t cpus;
	uint64_t mem;
	uint64_t net;	/* bit/s of net_rate, 0: none */
	unsigned ports; /* host ports picked from the node's --port-range, 0: none */
	const struct acre_placement *placement;
	/* Slices counted together by --spread and unique: the acre.app (else app) label, or "". */
	const char *group;
	/* Tell apart "no room now" from "no node could ever" (scans the pool: first tries only). */
	bool check_capacity;
};

struct sched_stats {
	uint64_t placements, failures, visited;
};

struct sched;

struct sched *sched_new(void);
void sched_free(struct sched *s);

/* A node the pool knows (any state); it stays until forgotten. */
int sched_node_add(struct sched *s, struct sched_node *n);
void sched_node_forget(struct sched *s, struct sched_node *n);
/* Takes placements (ready) or not (unreachable, down, draining). */
int sched_node_set_eligible(struct sched *s, struct sched_node *n, bool eligible);
/* Capacity or usage changed outside a reserve/release: re-bucket it. */
void sched_node_changed(struct sched *s, struct sched_node *n);

/*
 * Picks the node for a request.  0 and *out; -ENOSPC when no eligible node
 * has room now; -E2BIG when no known node could ever hold it (capacity or
 * constraints) — the latter only with check_capacity.  err says why.
 */
int sched_place(struct sched *s, const struct sched_request *r, struct sched_node **out,
		struct acre_error *err);
void sched_reserve(struct sched *s, struct sched_node *n, uint32_t cpus, uint64_t mem,
		   enum acre_strategy strategy);
void sched_release(struct sched *s, struct sched_node *n, uint32_t cpus, uint64_t mem);
/* Slices placed with --spread ATTR, counted per (group, ATTR, node's value of ATTR). */
void sched_spread_count(struct sched *s, const char *group, const char *attr,
			const struct sched_node *n, int delta);
unsigned sched_spread_get(struct sched *s, const char *group, const char *attr, const char *value);
/*
 * Slices placed unique by ATTR (the attribute itself: node.id for "node"),
 * counted per (group, ATTR, node's value of ATTR) while they are on a node;
 * a node whose value counts one takes no other slice of the group.
 */
void sched_unique_count(struct sched *s, const char *group, const char *attr,
			const struct sched_node *n, int delta);
unsigned sched_unique_get(struct sched *s, const char *group, const char *attr, const char *value);

const char *sched_node_attr(const struct sched_node *n, const char *key);
bool sched_node_matches(const struct sched_node *n, const struct acre_placement *p);
bool sched_node_fits(const struct sched_node *n, uint32_t cpus, uint64_t mem);
/* Room for net bit/s of net_rate: always on a node that declared no capacity. */
bool sched_node_fits_net(const struct sched_node *n, uint64_t net);
/* Room for that many host ports in its --port-range. */
bool sched_node_fits_ports(const struct sched_node *n, unsigned ports);
size_t sched_eligible_count(const struct sched *s);
const struct sched_stats *sched_get_stats(const struct sched *s);

#endif
