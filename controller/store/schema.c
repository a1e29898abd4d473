/*
 * The rows of the store, described once: for each kind, its table and its
 * columns, each with its type, its flags and the field of the row's
 * struct that holds its value.  The tables' definitions, the INSERT,
 * UPDATE, DELETE and SELECT statements, binding a row and reading one are
 * all made from these descriptions; a new column is one line here (and a
 * migration that adds it to older stores).
 */
#include "internal.h"

/* A table, one column a line: */
/* clang-format off */
#define COL(row, field, type, flags, since)                                                        \
	{#field, type, flags, offsetof(struct row, field), since}

static const struct store_column node_columns[] = {
	COL(store_node_row, id, STORE_TEXT, STORE_KEY, 1),
	COL(store_node_row, hostname, STORE_TEXT, STORE_NOT_NULL, 1),
	COL(store_node_row, secret_hash, STORE_TEXT, STORE_NOT_NULL, 1),
	COL(store_node_row, attributes, STORE_TEXT, STORE_NOT_NULL, 1),
	COL(store_node_row, state, STORE_TEXT, STORE_NOT_NULL, 1),
	COL(store_node_row, address, STORE_TEXT, 0, 1),
	COL(store_node_row, cpus, STORE_U32, STORE_NOT_NULL, 1),
	COL(store_node_row, memory, STORE_U64, STORE_NOT_NULL, 1),
	COL(store_node_row, last_seq, STORE_I64, STORE_NOT_NULL, 1),
	COL(store_node_row, registered_at, STORE_I64, STORE_NOT_NULL, 1),
	COL(store_node_row, updated_at, STORE_I64, STORE_NOT_NULL, 1),
	COL(store_node_row, subnet, STORE_TEXT, 0, 3),
	COL(store_node_row, net_address, STORE_TEXT, 0, 3),
	COL(store_node_row, vtep_mac, STORE_TEXT, 0, 3),
	COL(store_node_row, net_capacity, STORE_U64, STORE_NOT_NULL | STORE_DEFAULT0, 3),
	COL(store_node_row, network, STORE_BOOL, STORE_NOT_NULL | STORE_DEFAULT0, 3),
	COL(store_node_row, cordoned, STORE_BOOL, STORE_NOT_NULL | STORE_DEFAULT0, 4),
};

static const struct store_column slice_columns[] = {
	COL(store_slice_row, id, STORE_I64, STORE_KEY, 1),
	COL(store_slice_row, name, STORE_TEXT, STORE_NOT_NULL | STORE_FIXED, 1),
	COL(store_slice_row, spec, STORE_TEXT, STORE_NOT_NULL | STORE_FIXED | STORE_LAZY, 1),
	COL(store_slice_row, placement, STORE_TEXT, STORE_FIXED, 1),
	COL(store_slice_row, node_id, STORE_TEXT, 0, 1),
	COL(store_slice_row, state, STORE_TEXT, STORE_NOT_NULL, 1),
	COL(store_slice_row, reason, STORE_TEXT, 0, 1),
	COL(store_slice_row, desired, STORE_TEXT, STORE_NOT_NULL, 1),
	COL(store_slice_row, exit, STORE_TEXT, 0, 1),
	COL(store_slice_row, spread, STORE_TEXT, 0, 1),
	COL(store_slice_row, spread_group, STORE_TEXT, 0, 1),
	COL(store_slice_row, cpus, STORE_U32, STORE_NOT_NULL | STORE_FIXED, 1),
	COL(store_slice_row, memory, STORE_U64, STORE_NOT_NULL | STORE_FIXED, 1),
	COL(store_slice_row, restart, STORE_TEXT, STORE_NOT_NULL | STORE_FIXED, 1),
	COL(store_slice_row, restarts, STORE_UINT, STORE_NOT_NULL, 1),
	COL(store_slice_row, assigned, STORE_BOOL, STORE_NOT_NULL, 1),
	COL(store_slice_row, created_at, STORE_I64, STORE_NOT_NULL | STORE_FIXED, 1),
	COL(store_slice_row, updated_at, STORE_I64, STORE_NOT_NULL, 1),
	COL(store_slice_row, replacements, STORE_UINT, STORE_NOT_NULL | STORE_DEFAULT0, 1),
	COL(store_slice_row, last_node_id, STORE_TEXT, 0, 1),
	COL(store_slice_row, labels, STORE_TEXT, STORE_FIXED, 2),
	COL(store_slice_row, net_rate, STORE_U64, STORE_NOT_NULL | STORE_FIXED | STORE_DEFAULT0, 3),
	COL(store_slice_row, address, STORE_TEXT, 0, 3),
	COL(store_slice_row, vip, STORE_TEXT, 0, 3),
	COL(store_slice_row, host_ports, STORE_TEXT, 0, 5),
};

/* clang-format on */

const struct store_table store_nodes = {"nodes", node_columns, ACRE_ARRAY_SIZE(node_columns)};
const struct store_table store_slices = {"slices", slice_columns, ACRE_ARRAY_SIZE(slice_columns)};

/* A string built in pieces; NULL once anything failed. */
struct sql {
	char *s;
	size_t len;
	bool failed;
};

static void add(struct sql *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct sql *q, const char *fmt, ...)
{
	if (q->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n >= 0 ? realloc(q->s, q->len + (size_t)n + 1) : NULL;
	if (!s) {
		q->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(s + q->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	q->s = s;
	q->len += (size_t)n;
}

static char *done(struct sql *q)
{
	if (q->failed || !q->s) {
		free(q->s);
		return NULL;
	}
	return q->s;
}

static const struct store_column *key_of(const struct store_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (t->cols[i].flags & STORE_KEY)
			return &t->cols[i];
	return NULL;
}

static size_t key_index(const struct store_table *t)
{
	return (size_t)(key_of(t) - t->cols);
}

char *store_sql_column(const struct store_column *c)
{
	struct sql q = {0};
	add(&q, "%s %s%s%s%s", c->name, c->type == STORE_TEXT ? "TEXT" : "INTEGER",
	    c->flags & STORE_KEY ? " PRIMARY KEY" : "",
	    c->flags & STORE_NOT_NULL ? " NOT NULL" : "",
	    c->flags & STORE_DEFAULT0 ? " DEFAULT 0" : "");
	return done(&q);
}

char *store_sql_create(const struct store_table *t, unsigned version)
{
	struct sql q = {0};
	add(&q, "CREATE TABLE IF NOT EXISTS %s (", t->name);
	bool first = true;
	for (size_t i = 0; i < t->ncols; i++) {
		if (t->cols[i].since > version)
			continue;
		_cleanup_free_ char *col = store_sql_column(&t->cols[i]);
		if (!col)
			q.failed = true;
		add(&q, "%s%s", first ? "" : ", ", col ? col : "");
		first = false;
	}
	add(&q, ")");
	return done(&q);
}

char *store_sql(const struct store_table *t, enum store_sql kind)
{
	struct sql q = {0};
	const struct store_column *key = key_of(t);
	size_t k = key_index(t);
	switch (kind) {
	case STORE_SQL_INSERT:
	case STORE_SQL_UPSERT:
		add(&q, "INSERT%s INTO %s (", kind == STORE_SQL_UPSERT ? " OR REPLACE" : "",
		    t->name);
		for (size_t i = 0; i < t->ncols; i++)
			add(&q, "%s%s", i ? ", " : "", t->cols[i].name);
		add(&q, ") VALUES (");
		for (size_t i = 0; i < t->ncols; i++)
			add(&q, "%s?%zu", i ? ", " : "", i + 1);
		add(&q, ")");
		break;
	case STORE_SQL_UPDATE: {
		bool first = true;
		add(&q, "UPDATE %s SET ", t->name);
		for (size_t i = 0; i < t->ncols; i++) {
			if (t->cols[i].flags & (STORE_KEY | STORE_FIXED))
				continue;
			add(&q, "%s%s = ?%zu", first ? "" : ", ", t->cols[i].name, i + 1);
			first = false;
		}
		add(&q, " WHERE %s = ?%zu", key->name, k + 1);
		break;
	}
	case STORE_SQL_DELETE:
		add(&q, "DELETE FROM %s WHERE %s = ?%zu", t->name, key->name, k + 1);
		break;
	}
	return done(&q);
}

char *store_sql_select(const struct store_table *t, bool lazy)
{
	struct sql q = {0};
	bool first = true;
	add(&q, "SELECT ");
	for (size_t i = 0; i < t->ncols; i++) {
		if ((t->cols[i].flags & STORE_LAZY) && !lazy)
			continue;
		add(&q, "%s%s", first ? "" : ", ", t->cols[i].name);
		first = false;
	}
	add(&q, " FROM %s", t->name);
	return done(&q);
}

void store_bind_row(sqlite3_stmt *s, const struct store_table *t, const void *row, bool update)
{
	const char *base = row;
	for (size_t i = 0; i < t->ncols; i++) {
		const struct store_column *c = &t->cols[i];
		const void *f = base + c->offset;
		int at = (int)i + 1;
		if (update && (c->flags & STORE_FIXED))
			continue;
		switch (c->type) {
		case STORE_TEXT: {
			const char *v = *(const char *const *)f;
			if (!v && (c->flags & STORE_NOT_NULL))
				v = ""; /* NOT NULL: say nothing rather than fail the pass */
			if (v)
				sqlite3_bind_text(s, at, v, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, at);
			break;
		}
		case STORE_I64:
			sqlite3_bind_int64(s, at, *(const int64_t *)f);
			break;
		case STORE_U32:
			sqlite3_bind_int64(s, at, *(const uint32_t *)f);
			break;
		case STORE_U64:
			sqlite3_bind_int64(s, at, (sqlite3_int64) * (const uint64_t *)f);
			break;
		case STORE_UINT:
			sqlite3_bind_int64(s, at, *(const unsigned *)f);
			break;
		case STORE_BOOL:
			sqlite3_bind_int(s, at, *(const bool *)f);
			break;
		}
	}
}

void store_read_row(sqlite3_stmt *s, const struct store_table *t, void *row, bool lazy)
{
	char *base = row;
	int at = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		const struct store_column *c = &t->cols[i];
		if ((c->flags & STORE_LAZY) && !lazy)
			continue;
		void *f = base + c->offset;
		switch (c->type) {
		case STORE_TEXT:
			*(const char **)f = (const char *)sqlite3_column_text(s, at);
			break;
		case STORE_I64:
			*(int64_t *)f = sqlite3_column_int64(s, at);
			break;
		case STORE_U32:
			*(uint32_t *)f = (uint32_t)sqlite3_column_int64(s, at);
			break;
		case STORE_U64:
			*(uint64_t *)f = (uint64_t)sqlite3_column_int64(s, at);
			break;
		case STORE_UINT:
			*(unsigned *)f = (unsigned)sqlite3_column_int64(s, at);
			break;
		case STORE_BOOL:
			*(bool *)f = sqlite3_column_int(s, at) != 0;
			break;
		}
		at++;
	}
}
