/*
 * The controller's event log on a real SQLite file in a fresh temporary
 * directory: events are delivered in order and only once committed (one
 * appended after its pass was written waits for the next), the text a live
 * subscriber is sent being what a catch-up reads back; a
 * rolled-back pass delivers nothing and its numbers are never given
 * again; a subscriber resumes across a restart with no gap and no
 * duplicate, also while events are committed during its catch-up; the
 * log keeps to its bounds by count and by age; `lagged` names exactly
 * what a subscriber lost, whether it asked for trimmed events or fell
 * behind; filters by type and by label.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <time.h>

#include "controller/api/eventlog.h"
#include "tmpdir.h"

#define MAXGOT 512

/* What a subscriber received, in order. */
struct got {
	size_t n;
	int64_t seq[MAXGOT];
	char type[MAXGOT][16];
	char event[MAXGOT][16];
	char name[MAXGOT][32];
	char json[1024]; /* the last event's envelope */
	int nlagged;
	int64_t lag_first, lag_last;
	size_t lag_at; /* events received before the lagged notice */
	int nlive;
	int64_t live_seq;
	bool closed;
	long take; /* events (and notices) accepted before reporting full; -1: no bound */
};

static bool took(struct got *g)
{
	if (g->take < 0)
		return true;
	return --g->take > 0;
}

static bool on_event(const struct eventlog_event *ev, void *ud)
{
	struct got *g = ud;
	assert_true(g->n < MAXGOT);
	g->seq[g->n] = ev->seq;
	snprintf(g->type[g->n], sizeof(g->type[0]), "%s", ev->type);
	snprintf(g->event[g->n], sizeof(g->event[0]), "%s", ev->event);
	_cleanup_json_ json_t *data = json_loadb(ev->data, ev->data_len, 0, NULL);
	assert_non_null(data);
	const char *name = json_string_value(json_object_get(data, "name"));
	snprintf(g->name[g->n], sizeof(g->name[0]), "%s", name ? name : "");
	snprintf(g->json, sizeof(g->json), "%.*s", (int)ev->json_len, ev->json);
	g->n++;
	return took(g);
}

static bool on_lagged(int64_t first, int64_t last, void *ud)
{
	struct got *g = ud;
	g->nlagged++;
	g->lag_first = first;
	g->lag_last = last;
	g->lag_at = g->n;
	return took(g);
}

static bool on_live(int64_t seq, void *ud)
{
	struct got *g = ud;
	g->nlive++;
	g->live_seq = seq;
	return took(g);
}

static void on_closed(void *ud)
{
	struct got *g = ud;
	g->closed = true;
}

static const struct eventlog_sub_ops ops = {on_event, on_lagged, on_live, on_closed};

struct env {
	struct tmp *tmp;
	char path[128];
	sqlite3 *db;
	struct eventlog *log;
	struct eventlog_options opt;
};

static void env_open(struct env *e)
{
	struct acre_error err = {0};
	assert_int_equal(
		sqlite3_open_v2(e->path, &e->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_exec(e->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL),
			 SQLITE_OK);
	if (eventlog_open(e->db, &e->opt, &e->log, &err) < 0)
		fail_msg("eventlog_open: %s", err.message);
}

static void env_close(struct env *e)
{
	eventlog_close(e->log);
	e->log = NULL;
	assert_int_equal(sqlite3_close(e->db), SQLITE_OK);
	e->db = NULL;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e || tmp_setup((void **)&e->tmp, "eventlog") < 0)
		return -1;
	snprintf(e->path, sizeof(e->path), "%s/controller.db", e->tmp->path);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	if (e->log)
		env_close(e);
	void *t = e->tmp;
	int rc = tmp_teardown(&t);
	free(e);
	return rc;
}

static json_t *slice(const char *name, const char *state, const char *app)
{
	return json_pack("{s:s,s:s,s:{s:s}}", "name", name, "state", state, "labels", "app", app);
}

/* Stages one event, as a pass would. */
static int64_t append(struct env *e, const char *type, const char *event, const char *name,
		      const char *app)
{
	_cleanup_json_ json_t *data = slice(name, "running", app);
	_cleanup_json_ json_t *labels = json_pack("{s:s}", "app", app);
	struct acre_error err = {0};
	int64_t seq = 0;
	if (eventlog_append(e->log, type, event, data, labels, &seq, &err) < 0)
		fail_msg("eventlog_append: %s", err.message);
	return seq;
}

static void exec(struct env *e, const char *sql)
{
	assert_int_equal(sqlite3_exec(e->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The end of a pass: one transaction, the commit, then delivery. */
static void commit_pass(struct env *e)
{
	struct acre_error err = {0};
	exec(e, "BEGIN IMMEDIATE");
	if (eventlog_write_staged(e->log, &err) < 0)
		fail_msg("eventlog_write_staged: %s", err.message);
	exec(e, "COMMIT");
	eventlog_committed(e->log);
}

/* n slice events named s<first>.. in one pass. */
static void pass_of(struct env *e, int first, int n)
{
	char name[32];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%d", first + i);
		append(e, "slice", "created", name, "web");
	}
	commit_pass(e);
}

static struct eventlog_sub *subscribe(struct env *e, int64_t since, struct got *g,
				      const struct eventlog_filter *f)
{
	struct eventlog_sub *sub;
	struct acre_error err = {0};
	if (eventlog_subscribe(e->log, since, f, &ops, g, &sub, &err) < 0)
		fail_msg("eventlog_subscribe: %s", err.message);
	return sub;
}

static int pump(struct eventlog_sub *sub)
{
	struct acre_error err = {0};
	int rc = eventlog_pump(sub, &err);
	if (rc < 0)
		fail_msg("eventlog_pump: %s", err.message);
	return rc;
}

/* Pumps until the subscriber is live. */
static void catch_up(struct eventlog_sub *sub)
{
	for (int i = 0; i < 10000; i++)
		if (pump(sub) == EVENTLOG_LIVE)
			return;
	fail_msg("never caught up");
}

/* The subscriber got exactly first..last, in order. */
static void assert_run(const struct got *g, size_t from, int64_t first, int64_t last)
{
	assert_int_equal(g->n - from, (size_t)(last - first + 1));
	for (size_t i = from; i < g->n; i++)
		assert_int_equal(g->seq[i], first + (int64_t)(i - from));
}

static void test_commit_delivers_in_order(void **state)
{
	struct env *e = *state;
	env_open(e);
	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, -1, &g, NULL);
	assert_int_equal(pump(sub), EVENTLOG_LIVE);
	assert_int_equal(g.nlive, 1);
	assert_int_equal(g.live_seq, 0);

	assert_int_equal(append(e, "slice", "created", "web-1", "web"), 1);
	assert_int_equal(append(e, "slice", "state", "web-1", "web"), 2);
	assert_int_equal(append(e, "node", "registered", "n1", "infra"), 3);
	assert_int_equal(eventlog_staged(e->log), 3);
	assert_int_equal(g.n, 0); /* staged is not delivered */
	commit_pass(e);
	assert_run(&g, 0, 1, 3);
	assert_string_equal(g.type[0], "slice");
	assert_string_equal(g.event[1], "state");
	assert_string_equal(g.type[2], "node");
	assert_string_equal(g.event[2], "registered");
	assert_int_equal(eventlog_staged(e->log), 0);

	/* The envelope: the object under its type's name, labels beside it. */
	_cleanup_json_ json_t *j = json_loads(g.json, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "node");
	assert_string_equal(json_string_value(json_object_get(j, "event")), "registered");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "node"), "name")),
			    "n1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "labels"), "app")),
			    "infra");
	assert_true(json_integer_value(json_object_get(j, "time")) > 1600000000000LL);

	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.last_seq, 3);
	assert_int_equal(st.stored, 3);
	assert_int_equal(st.subscribers, 1);
	assert_int_equal(st.delivered, 3);
	eventlog_unsubscribe(sub);
	eventlog_stats(e->log, &st);
	assert_int_equal(st.subscribers, 0);
	env_close(e);
}

static void test_uncommitted_never_read(void **state)
{
	struct env *e = *state;
	env_open(e);
	pass_of(e, 1, 2);
	struct got live = {.take = -1};
	struct eventlog_sub *lsub = subscribe(e, -1, &live, NULL);
	catch_up(lsub);

	/* Written in the open transaction: neither delivered nor visible to a catch-up. */
	struct acre_error err = {0};
	append(e, "slice", "created", "s3", "web");
	exec(e, "BEGIN IMMEDIATE");
	assert_int_equal(eventlog_write_staged(e->log, &err), 0);
	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, 0, &g, NULL);
	assert_int_equal(pump(sub), EVENTLOG_LIVE);
	assert_run(&g, 0, 1, 2);
	assert_int_equal(live.n, 0);
	exec(e, "COMMIT");
	eventlog_committed(e->log);
	assert_run(&g, 0, 1, 3);
	assert_run(&live, 0, 3, 3);
	env_close(e);
}

/*
 * An event appended after its pass was written waits for the next pass,
 * its text intact; and what a live subscriber was sent is, byte for byte,
 * what a later catch-up reads back from the table.
 */
static void test_staged_across_passes(void **state)
{
	struct env *e = *state;
	env_open(e);
	struct got live = {.take = -1};
	struct eventlog_sub *lsub = subscribe(e, -1, &live, NULL);
	catch_up(lsub);
	struct acre_error err = {0};
	append(e, "slice", "created", "s1", "web");
	exec(e, "BEGIN IMMEDIATE");
	assert_int_equal(eventlog_write_staged(e->log, &err), 0);
	append(e, "slice", "state", "s2", "db"); /* after the write: the next pass's */
	exec(e, "COMMIT");
	eventlog_committed(e->log);
	assert_run(&live, 0, 1, 1);
	assert_int_equal(eventlog_staged(e->log), 1);
	append(e, "node", "ready", "n1", "infra");
	commit_pass(e);
	assert_run(&live, 0, 1, 3);
	assert_string_equal(live.name[1], "s2");
	assert_string_equal(live.event[1], "state");
	assert_string_equal(live.name[2], "n1");
	char sent[sizeof(live.json)];
	snprintf(sent, sizeof(sent), "%s", live.json);

	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, 0, &g, NULL);
	catch_up(sub);
	assert_run(&g, 0, 1, 3);
	assert_string_equal(g.name[1], "s2");
	assert_string_equal(g.json, sent);
	env_close(e);
}

static void test_write_needs_transaction(void **state)
{
	struct env *e = *state;
	env_open(e);
	append(e, "slice", "created", "s1", "web");
	struct acre_error err = {0};
	assert_int_equal(eventlog_write_staged(e->log, &err), -EINVAL);
	assert_non_null(strstr(err.message, "transaction"));
	assert_int_equal(eventlog_flush(e->log, &err), 0); /* its own transaction */
	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.last_seq, 1);
	assert_int_equal(st.stored, 1);
	env_close(e);
}

static void test_rollback_delivers_nothing_and_skips(void **state)
{
	struct env *e = *state;
	env_open(e);
	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, -1, &g, NULL);
	catch_up(sub);
	pass_of(e, 1, 2); /* seqs 1, 2 */

	struct acre_error err = {0};
	assert_int_equal(append(e, "slice", "created", "gone-1", "web"), 3);
	assert_int_equal(append(e, "slice", "created", "gone-2", "web"), 4);
	exec(e, "BEGIN IMMEDIATE");
	assert_int_equal(eventlog_write_staged(e->log, &err), 0);
	exec(e, "ROLLBACK");
	eventlog_rollback(e->log);
	assert_int_equal(eventlog_staged(e->log), 0);
	assert_int_equal(g.n, 2);

	/* Skipped, not given again: the next event is 5. */
	assert_int_equal(append(e, "slice", "created", "s3", "web"), 5);
	commit_pass(e);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.seq[2], 5);
	assert_string_equal(g.name[2], "s3");

	/* The table holds none of the rolled-back ones. */
	struct got all = {.take = -1};
	struct eventlog_sub *s2 = subscribe(e, 0, &all, NULL);
	catch_up(s2);
	assert_int_equal(all.n, 3);
	assert_int_equal(all.seq[0], 1);
	assert_int_equal(all.seq[1], 2);
	assert_int_equal(all.seq[2], 5);
	assert_int_equal(all.nlagged, 0); /* a hole that never existed is not a loss */
	assert_int_equal(all.live_seq, 5);

	/* And a restart goes on after the newest committed. */
	env_close(e);
	env_open(e);
	assert_int_equal(append(e, "slice", "created", "s4", "web"), 6);
	env_close(e);
}

static void test_resume_across_restart(void **state)
{
	struct env *e = *state;
	env_open(e);
	pass_of(e, 1, 3);
	pass_of(e, 4, 2); /* 1..5 */
	env_close(e);

	env_open(e);
	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.last_seq, 5);
	assert_int_equal(st.stored, 5);
	pass_of(e, 6, 4); /* 6..9 */

	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, 3, &g, NULL);
	catch_up(sub);
	assert_run(&g, 0, 4, 9);
	assert_string_equal(g.name[0], "s4");
	assert_string_equal(g.name[5], "s9");
	assert_int_equal(g.nlive, 1);
	assert_int_equal(g.live_seq, 9);
	pass_of(e, 10, 2);
	assert_run(&g, 0, 4, 11);

	/* A since past the newest (a store restored from an older copy) reads as the newest. */
	struct got late = {.take = -1};
	struct eventlog_sub *s2 = subscribe(e, 500, &late, NULL);
	catch_up(s2);
	assert_int_equal(late.n, 0);
	assert_int_equal(late.live_seq, 11);
	pass_of(e, 12, 1);
	assert_run(&late, 0, 12, 12);
	env_close(e);
}

/*
 * A subscriber catching up page by page while passes commit between its
 * pages, and while it keeps filling up: every event once, in order.
 */
static void test_catch_up_while_committing(void **state)
{
	struct env *e = *state;
	e->opt.page_rows = 3;
	env_open(e);
	pass_of(e, 1, 40);
	struct got g = {.take = 5};
	struct eventlog_sub *sub = subscribe(e, 0, &g, NULL);
	int next = 41, rounds = 0;
	for (;;) {
		int rc = pump(sub);
		if (rc == EVENTLOG_LIVE)
			break;
		if (rc == EVENTLOG_PAUSED)
			g.take = 5; /* it drained */
		pass_of(e, next, 2);
		next += 2;
		assert_true(++rounds < 1000);
	}
	/* Live now: the next passes come straight from memory, still pausing. */
	g.take = -1;
	pass_of(e, next, 3);
	next += 3;
	assert_run(&g, 0, 1, next - 1);
	assert_int_equal(g.nlagged, 0);
	assert_int_equal(g.nlive, 1);
	env_close(e);
}

static void test_trim_by_count(void **state)
{
	struct env *e = *state;
	e->opt.max_events = 5;
	env_open(e);
	pass_of(e, 1, 4);
	pass_of(e, 5, 4);
	pass_of(e, 9, 4); /* 1..12, keeps 8..12 */
	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.stored, 5);
	assert_int_equal(st.trimmed_through, 7);
	assert_int_equal(st.last_seq, 12);

	/* since older than the oldest kept: told first, then what is kept. */
	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, 0, &g, NULL);
	catch_up(sub);
	assert_int_equal(g.nlagged, 1);
	assert_int_equal(g.lag_first, 1);
	assert_int_equal(g.lag_last, 7);
	assert_int_equal(g.lag_at, 0);
	assert_run(&g, 0, 8, 12);

	/* since inside the kept range: no notice. */
	struct got h = {.take = -1};
	struct eventlog_sub *s2 = subscribe(e, 9, &h, NULL);
	catch_up(s2);
	assert_int_equal(h.nlagged, 0);
	assert_run(&h, 0, 10, 12);

	/* Exactly the boundary: since = trimmed_through lost nothing. */
	struct got k = {.take = -1};
	struct eventlog_sub *s3 = subscribe(e, 7, &k, NULL);
	catch_up(s3);
	assert_int_equal(k.nlagged, 0);
	assert_run(&k, 0, 8, 12);

	/* One pass larger than the bound: live subscribers still get all of it. */
	pass_of(e, 13, 8);
	assert_run(&g, 0, 8, 20);
	eventlog_stats(e->log, &st);
	assert_int_equal(st.stored, 5);
	assert_int_equal(st.trimmed_through, 15);

	/* The bound and the loss survive a restart. */
	env_close(e);
	env_open(e);
	eventlog_stats(e->log, &st);
	assert_int_equal(st.stored, 5);
	assert_int_equal(st.trimmed_through, 15);
	struct got r = {.take = -1};
	struct eventlog_sub *s4 = subscribe(e, 3, &r, NULL);
	catch_up(s4);
	assert_int_equal(r.nlagged, 1);
	assert_int_equal(r.lag_first, 4);
	assert_int_equal(r.lag_last, 15);
	assert_run(&r, 0, 16, 20);
	env_close(e);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void test_trim_by_age(void **state)
{
	struct env *e = *state;
	e->opt.max_age_ms = 300;
	env_open(e);
	pass_of(e, 1, 3);
	sleep_ms(400);
	pass_of(e, 4, 2); /* 1..3 are older than 300 ms now */
	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.stored, 2);
	assert_int_equal(st.trimmed_through, 3);

	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, 1, &g, NULL);
	catch_up(sub);
	assert_int_equal(g.nlagged, 1);
	assert_int_equal(g.lag_first, 2);
	assert_int_equal(g.lag_last, 3);
	assert_run(&g, 0, 4, 5);

	/* Trimming without new events (a timer's flush), down to nothing; numbers go on. */
	sleep_ms(400);
	struct acre_error err = {0};
	assert_int_equal(eventlog_flush(e->log, &err), 0);
	eventlog_stats(e->log, &st);
	assert_int_equal(st.stored, 0);
	assert_int_equal(st.trimmed_through, 5);
	env_close(e);
	env_open(e);
	assert_int_equal(append(e, "slice", "created", "s6", "web"), 6);
	commit_pass(e);
	struct got h = {.take = -1};
	struct eventlog_sub *s2 = subscribe(e, 0, &h, NULL);
	catch_up(s2);
	assert_int_equal(h.lag_first, 1);
	assert_int_equal(h.lag_last, 5);
	assert_run(&h, 0, 6, 6);
	env_close(e);
}

/*
 * A live subscriber that stops taking events is paused, not dropped;
 * while it is paused the log is trimmed past it: it is told exactly
 * which events it lost, then gets the rest.
 */
static void test_slow_subscriber_lagged(void **state)
{
	struct env *e = *state;
	e->opt.max_events = 4;
	env_open(e);
	struct got g = {.take = -1};
	struct eventlog_sub *sub = subscribe(e, -1, &g, NULL);
	catch_up(sub);
	g.take = 1; /* full after the next event */
	pass_of(e, 1, 3);
	assert_int_equal(g.n, 1);
	pass_of(e, 4, 3);
	pass_of(e, 7, 4); /* 1..10 committed; kept 7..10 */
	assert_int_equal(g.n, 1);
	g.take = -1;
	catch_up(sub);
	assert_int_equal(g.nlagged, 1);
	assert_int_equal(g.lag_first, 2);
	assert_int_equal(g.lag_last, 6);
	assert_int_equal(g.lag_at, 1);
	assert_int_equal(g.seq[0], 1);
	assert_run(&g, 1, 7, 10);
	assert_int_equal(g.nlive, 1);

	/* A slow subscriber that was not trimmed past loses nothing. */
	struct got h = {.take = -1};
	struct eventlog_sub *s2 = subscribe(e, -1, &h, NULL);
	catch_up(s2);
	h.take = 2;
	pass_of(e, 11, 3);
	assert_int_equal(h.n, 2);
	h.take = -1;
	catch_up(s2);
	assert_int_equal(h.nlagged, 0);
	assert_run(&h, 0, 11, 13);
	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.lagged, 1);
	env_close(e);
}

static void test_filters(void **state)
{
	struct env *e = *state;
	env_open(e);
	append(e, "slice", "created", "w1", "web");
	append(e, "node", "registered", "n1", "web");
	append(e, "slice", "created", "d1", "db");
	append(e, "app", "created", "web", "web");
	commit_pass(e); /* 1..4 */

	char *slices[] = {"slice", NULL};
	char *two[] = {"node", "app", NULL};
	char *web[] = {"app=web", NULL};
	char *none[] = {"app=web", "tier=front", NULL};
	struct eventlog_filter by_type = {.types = slices};
	struct eventlog_filter by_types = {.types = two};
	struct eventlog_filter by_label = {.types = slices, .labels = web};
	struct eventlog_filter by_two_labels = {.labels = none};
	struct got a = {.take = -1}, b = {.take = -1}, c = {.take = -1}, d = {.take = -1};
	struct eventlog_sub *sa = subscribe(e, 0, &a, &by_type);
	struct eventlog_sub *sb = subscribe(e, 0, &b, &by_types);
	struct eventlog_sub *sc = subscribe(e, 0, &c, &by_label);
	struct eventlog_sub *sd = subscribe(e, 0, &d, &by_two_labels);
	catch_up(sa);
	catch_up(sb);
	catch_up(sc);
	catch_up(sd);

	/* The same filters on live events. */
	append(e, "slice", "state", "w1", "web");
	append(e, "node", "ready", "n1", "db");
	commit_pass(e); /* 5, 6 */

	assert_int_equal(a.n, 3);
	assert_string_equal(a.name[0], "w1");
	assert_string_equal(a.name[1], "d1");
	assert_int_equal(a.seq[2], 5);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.seq[0], 2);
	assert_int_equal(b.seq[1], 4);
	assert_int_equal(b.seq[2], 6);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.seq[0], 1);
	assert_int_equal(c.seq[1], 5);
	assert_int_equal(d.n, 0);
	/* Filtered streams still say where they stand. */
	assert_int_equal(d.live_seq, 4);

	/* A filter that cannot be read is refused. */
	char *bad[] = {"app", NULL};
	struct eventlog_filter f = {.labels = bad};
	struct eventlog_sub *s;
	struct acre_error err = {0};
	assert_int_equal(eventlog_subscribe(e->log, 0, &f, &ops, &a, &s, &err), -EINVAL);
	assert_string_equal(err.field, "label");
	env_close(e);
}

static void test_append_validates(void **state)
{
	struct env *e = *state;
	env_open(e);
	struct acre_error err = {0};
	_cleanup_json_ json_t *obj = json_pack("{s:s}", "name", "x");
	_cleanup_json_ json_t *arr = json_array();
	_cleanup_json_ json_t *badl = json_pack("{s:i}", "app", 1);
	assert_int_equal(eventlog_append(e->log, "Slice", "created", obj, NULL, NULL, &err),
			 -EINVAL);
	assert_int_equal(eventlog_append(e->log, "lagged", "x", obj, NULL, NULL, &err), -EINVAL);
	assert_int_equal(eventlog_append(e->log, "labels", "x", obj, NULL, NULL, &err), -EINVAL);
	assert_int_equal(eventlog_append(e->log, "slice", "new state", obj, NULL, NULL, &err),
			 -EINVAL);
	assert_int_equal(eventlog_append(e->log, "slice", "created", arr, NULL, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.field, "data");
	assert_int_equal(eventlog_append(e->log, "slice", "created", obj, badl, NULL, &err),
			 -EINVAL);
	assert_string_equal(err.field, "labels");
	assert_int_equal(eventlog_staged(e->log), 0);
	/* Refused appends take no number. */
	int64_t seq;
	assert_int_equal(eventlog_append(e->log, "slice", "created", obj, NULL, &seq, &err), 0);
	assert_int_equal(seq, 1);
	env_close(e);
}

static void test_options(void **state)
{
	(void)state;
	struct eventlog_options o = {0};
	struct acre_error err = {0};
	assert_int_equal(eventlog_options_set(&o, "--events-max", "2500", &err), 0);
	assert_int_equal(o.max_events, 2500);
	assert_int_equal(eventlog_options_set(&o, "--events-max", "0", &err), -EINVAL);
	assert_int_equal(eventlog_options_set(&o, "--events-max", "12x", &err), -EINVAL);
	assert_string_equal(err.field, "--events-max");
	assert_int_equal(eventlog_options_set(&o, "--events-max-age", "7d", &err), 0);
	assert_int_equal(o.max_age_ms, 7LL * 24 * 3600 * 1000);
	assert_int_equal(eventlog_options_set(&o, "--events-max-age", "1.5d", &err), 0);
	assert_int_equal(o.max_age_ms, 36LL * 3600 * 1000);
	assert_int_equal(eventlog_options_set(&o, "--events-max-age", "90m", &err), 0);
	assert_int_equal(o.max_age_ms, 90LL * 60 * 1000);
	assert_int_equal(eventlog_options_set(&o, "--events-max-age", "0", &err), -EINVAL);
	assert_int_equal(eventlog_options_set(&o, "--events-max-age", "d", &err), -EINVAL);
	assert_int_equal(eventlog_options_set(&o, "--events-max-age", "3w", &err), -EINVAL);
	assert_int_equal(eventlog_options_set(&o, "--events", "1", &err), -EINVAL);
}

static void test_close_tells_subscribers(void **state)
{
	struct env *e = *state;
	env_open(e);
	struct got g = {.take = -1}, h = {.take = -1};
	subscribe(e, -1, &g, NULL);
	subscribe(e, 0, &h, NULL);
	append(e, "slice", "created", "s1", "web"); /* staged, never committed */
	env_close(e);
	assert_true(g.closed);
	assert_true(h.closed);
	assert_int_equal(g.n, 0);
	/* What was only staged is not there after a restart. */
	env_open(e);
	struct eventlog_stats st;
	eventlog_stats(e->log, &st);
	assert_int_equal(st.stored, 0);
	assert_int_equal(st.last_seq, 0);
	env_close(e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	acre_log_set_level(ACRE_LOG_WARN);
	const struct CMUnitTest tests[] = {
		T(test_commit_delivers_in_order),
		T(test_uncommitted_never_read),
		T(test_staged_across_passes),
		T(test_write_needs_transaction),
		T(test_rollback_delivers_nothing_and_skips),
		T(test_resume_across_restart),
		T(test_catch_up_while_committing),
		T(test_trim_by_count),
		T(test_trim_by_age),
		T(test_slow_subscriber_lagged),
		T(test_filters),
		T(test_append_validates),
		T(test_options),
		T(test_close_tells_subscribers),
	};
	return cmocka_run_group_tests_name("eventlog", tests, NULL, NULL);
}
