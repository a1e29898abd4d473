/*
 * What the two halves of the scheduler share: the index (sched_index.c)
 * and the placement over it (sched.c).
 */
#ifndef ACRE_CONTROLLER_SCHED_INTERNAL_H
#define ACRE_CONTROLLER_SCHED_INTERNAL_H

#include "sched.h"

struct sched_group {
	char *key, *value; /* NULL for the group of all nodes */
	struct sched_link *head[SCHED_DIMS][SCHED_BUCKETS], *tail[SCHED_DIMS][SCHED_BUCKETS];
	uint64_t nonempty[SCHED_DIMS][SCHED_BUCKETS / 64];
	size_t count;
	/* The largest capacities that ever joined: a bound on what the group can hold. */
	uint32_t max_cap_cpus;
	uint64_t max_cap_mem;
};

struct sched {
	ACRE_VEC(struct sched_node *) nodes; /* every node known, eligible or not */
	size_t eligible;
	struct sched_group all;
	struct acre_map *groups;      /* "key\x1fvalue" -> struct sched_group */
	struct acre_map *attr_values; /* key -> map of value -> eligible nodes with it */
	struct acre_map *spread;      /* "group\x1fattr\x1fvalue" -> slices */
	struct acre_map *unique;      /* "group\x1fattr\x1fvalue" -> slices, unique ones */
	struct sched_stats stats;
};

/* The bucket of an amount (millicpus, MiB): 0 for none, growing with it. */
unsigned sched_bucket_of_amount(uint64_t v);
/* A resource in the unit its buckets count: millicpus, or MiB from bytes. */
uint64_t sched_amount(enum sched_dim d, uint64_t v);
/* The bucket of what a node has free of one resource. */
unsigned sched_bucket_of(const struct sched_node *n, enum sched_dim d);
int sched_next_nonempty(const struct sched_group *g, enum sched_dim d, int from);
int sched_prev_nonempty(const struct sched_group *g, enum sched_dim d, int from);
struct sched_group *sched_group_find(struct sched *s, const char *key, const char *value);
/* Finds or builds the group of eligible nodes whose `key` is `value`; NULL on ENOMEM. */
struct sched_group *sched_group_get(struct sched *s, const char *key, const char *value);
/* Moves the node's links to the bucket of its free fraction (to the tail: last among equals). */
void sched_relink(struct sched_node *n, bool to_tail);

#endif
