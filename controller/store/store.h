/*
 * store: the controller's state on disk, one SQLite file (WAL) under
 * --data-dir with the nodes and the slices of the pool.  The controller
 * writes a whole loop pass's changes in one transaction and acknowledges
 * nothing before that transaction is committed (synchronous=FULL: the
 * commit is on disk when store_commit returns), so many changes share one
 * fsync and `kill -9` at any moment loses nothing acknowledged.
 *
 * Each kind of row is described once, column by column (schema.c): the
 * tables, their inserts, updates and loads are made from that
 * description.  The schema carries a number (PRAGMA user_version); a
 * store written by an older build is brought up to this build's number,
 * one numbered migration at a time, each in its own transaction.
 */
#ifndef ACRE_CONTROLLER_STORE_H
#define ACRE_CONTROLLER_STORE_H

#include "common/common.h"

#define STORE_FILE "controller.db"

struct store;
struct sqlite3;

struct store_node_row {
	const char *id, *hostname, *secret_hash, *attributes, *state, *address;
	uint32_t cpus; /* millicpus */
	uint64_t memory;
	/* Pool networking (schema 3): its subnet, kept for its id; where peers reach it. */
	const char *subnet, *net_address, *vtep_mac;
	uint64_t net_capacity; /* bit/s, 0: not given */
	bool network;	       /* it registered with a network member */
	bool cordoned;	       /* takes no new placement (schema 4) */
	int64_t last_seq;
	int64_t registered_at, updated_at;
};

struct store_slice_row {
	int64_t id;
	const char *name;
	const char *spec;	  /* insert, store_slice_spec and lists that ask for it */
	const char *placement;	  /* NULL: the default placement */
	const char *node_id;	  /* NULL: not placed */
	const char *last_node_id; /* where it was placed last (still, or before it was lost) */
	const char *state, *reason, *desired, *exit;
	const char *spread, *spread_group; /* NULL unless placed with --spread */
	uint32_t cpus;
	uint64_t memory;
	const char *restart;
	unsigned restarts, replacements;
	bool assigned;
	int64_t created_at, updated_at;
	const char *labels;  /* the spec's labels, a JSON object; NULL: none */
	uint64_t net_rate;   /* resources.net_rate, bit/s (schema 3) */
	const char *address; /* on the pool's network, while it runs; NULL: none */
	const char *vip;     /* its group's virtual IP; NULL: none */
	/* "http:20005/tcp": held on its node, else asked for (schema 5); NULL: none */
	const char *host_ports;
};

struct store_stats {
	uint64_t commits, rows_written;
	uint64_t commit_ns_total, commit_ns_max;
};

/* Opens (creating, or migrating an older schema) dir/controller.db. */
int store_open(const char *dir, struct store **out, struct acre_error *err);
void store_close(struct store *st);
/* The schema's number, and how many migrations this open applied. */
unsigned store_schema_version(const struct store *st);
unsigned store_migrations_applied(const struct store *st);

/* Opens the pass's transaction if none is open. */
int store_begin(struct store *st, struct acre_error *err);
bool store_in_transaction(const struct store *st);
int store_commit(struct store *st, struct acre_error *err);
/*
 * The database itself, for a module that keeps a table of its own in the
 * same file and the same transactions (call store_begin before writing).
 */
struct sqlite3 *store_sqlite(struct store *st);

int store_node_put(struct store *st, const struct store_node_row *r, struct acre_error *err);
int store_node_delete(struct store *st, const char *id, struct acre_error *err);
int store_slice_insert(struct store *st, const struct store_slice_row *r, struct acre_error *err);
/* Everything that changes after creation: node, state, reason, desired, assigned, ... */
int store_slice_update(struct store *st, const struct store_slice_row *r, struct acre_error *err);
int store_slice_delete(struct store *st, int64_t id, struct acre_error *err);

typedef int (*store_node_fn)(const struct store_node_row *r, void *ud);
typedef int (*store_slice_fn)(const struct store_slice_row *r, void *ud);
int store_load_nodes(struct store *st, store_node_fn fn, void *ud, struct acre_error *err);
/* Every slice but its spec, in id order. */
int store_load_slices(struct store *st, store_slice_fn fn, void *ud, struct acre_error *err);
/* The spec and placement texts of one slice; caller frees both. */
int store_slice_spec(struct store *st, int64_t id, char **spec, char **placement,
		     struct acre_error *err);

struct store_slice_query {
	int64_t after_id; /* pagination: ids greater than this */
	unsigned limit;	  /* 0: no limit */
	const char *node_id, *state;
	bool with_spec;
};
/* Rows in id order, spec included when asked; fn returning non-zero stops. */
int store_slice_list(struct store *st, const struct store_slice_query *q, store_slice_fn fn,
		     void *ud, struct acre_error *err);

const struct store_stats *store_get_stats(const struct store *st);
int64_t store_file_size(const struct store *st);

#endif
