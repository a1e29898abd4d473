/*
 * What the files of store/ share: the open store, and the description of
 * each kind of row — its table, its columns, where each column's value
 * lives in the row's struct — from which schema.c makes the tables, the
 * migrations and the SQL that writes and reads rows.
 */
#ifndef ACRE_CONTROLLER_STORE_INTERNAL_H
#define ACRE_CONTROLLER_STORE_INTERNAL_H

#include "controller/store/store.h"

#include <sqlite3.h>

/* The schema this build writes: migrations.c brings older stores up to it. */
#define STORE_SCHEMA_VERSION 5

enum store_type {
	STORE_TEXT, /* const char *, NULL as NULL */
	STORE_I64,  /* int64_t */
	STORE_U32,  /* uint32_t */
	STORE_U64,  /* uint64_t */
	STORE_UINT, /* unsigned */
	STORE_BOOL, /* bool */
};

enum store_flag {
	STORE_KEY = 1 << 0,	 /* the primary key */
	STORE_NOT_NULL = 1 << 1, /* NOT NULL */
	STORE_FIXED = 1 << 2,	 /* written when the row is made, never updated */
	STORE_LAZY = 1 << 3,	 /* large and rarely read: not loaded with the others */
	STORE_DEFAULT0 = 1 << 4, /* DEFAULT 0, as an added NOT NULL column needs */
};

struct store_column {
	const char *name;
	enum store_type type;
	unsigned flags;
	size_t offset;	/* of its field in the row's struct */
	unsigned since; /* the schema version that added it */
};

struct store_table {
	const char *name;
	const struct store_column *cols;
	size_t ncols;
};

extern const struct store_table store_nodes, store_slices;

enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_NODE_PUT,
	ST_NODE_DELETE,
	ST_SLICE_INSERT,
	ST_SLICE_UPDATE,
	ST_SLICE_DELETE,
	ST_SLICE_SPEC,
	ST_COUNT,
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	bool in_txn;
	char path[4096];
	struct store_stats stats;
	unsigned version, migrated;
};

int store_db_error(struct store *st, struct acre_error *err, const char *what);
int store_exec(struct store *st, const char *sql, struct acre_error *err);

/* schema.c: SQL made from a description (caller frees), and rows bound and read by it. */
enum store_sql { STORE_SQL_INSERT, STORE_SQL_UPSERT, STORE_SQL_UPDATE, STORE_SQL_DELETE };
char *store_sql(const struct store_table *t, enum store_sql kind);
/* "SELECT <columns> FROM <table>", the lazy ones too when asked. */
char *store_sql_select(const struct store_table *t, bool lazy);
/* Column i's value as parameter ?i+1: all of them, or (update) the key and those that change. */
void store_bind_row(sqlite3_stmt *s, const struct store_table *t, const void *row, bool update);
/* A row from a statement made by store_sql_select(t, lazy). */
void store_read_row(sqlite3_stmt *s, const struct store_table *t, void *row, bool lazy);
/* The columns of version `version` of the table, as CREATE TABLE wants them. */
char *store_sql_create(const struct store_table *t, unsigned version);
/* One column's definition, as ALTER TABLE ADD COLUMN wants it. */
char *store_sql_column(const struct store_column *c);

/* migrations.c */
int store_migrate(struct store *st, struct acre_error *err);

#endif
