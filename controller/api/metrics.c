/*
 * GET /metrics: Prometheus text format 0.0.4 — the pool (nodes by state,
 * slices by state, CPUs and memory by kind), the work done (placements,
 * losses, messages, commits) and the process itself, named and typed so
 * that `promtool check metrics` accepts them.  The time from a slice's
 * placement to its running is measured by a subscriber of the pool's
 * changes; the rest is read from the pool when asked.
 */
#include "internal.h"

#include <event2/buffer.h>
#include <sys/resource.h>
#include <time.h>

#include "controller/store/store.h"

/* Seconds from placement to running, bucket bounds. */
static const double latency_bounds[LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
						       0.25,  0.5,    1,     2.5,  5,	  10,	30};

static void observe_run_latency(struct api *a, double seconds)
{
	size_t i = 0;
	while (i < LATENCY_BUCKETS && seconds > latency_bounds[i])
		i++;
	a->m.run_latency[i]++;
	a->m.run_latency_sum += seconds;
	a->m.run_latency_count++;
}

/* A slice running for the first time since it was placed. */
static void changed(void *ud, const struct pool_change *ch)
{
	const struct pool_slice *sl = ch->slice;
	if (ch->kind == POOL_CHANGE_SLICE && !ch->quiet && sl->state == ACRE_SLICE_RUNNING &&
	    sl->placed_ns)
		observe_run_latency(ud, (double)(acre_monotonic_ns() - sl->placed_ns) / 1e9);
}

int api_metrics_start(struct api *a)
{
	struct pool_subscriber s = {.changed = changed, .ud = a};
	return pool_subscribe(a->pool, &s);
}

static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "counter", help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(struct evbuffer *b, const char *name, const char *help, double v)
{
	family(b, name, "gauge", help);
	evbuffer_add_printf(b, "%s %.17g\n", name, v);
}

struct pool_sums {
	size_t by_state[3], connected;
	uint64_t cap_cpus, reserved_cpus, local_cpus, cap_mem, reserved_mem, local_mem;
};

static void sum_node(struct pool_node *n, void *ud)
{
	struct pool_sums *s = ud;
	s->by_state[n->state]++;
	s->connected += n->conn != NULL;
	if (n->state != POOL_NODE_READY)
		return;
	s->cap_cpus += n->sn.cap_cpus;
	s->reserved_cpus += n->reserved_cpus;
	s->local_cpus += n->local_cpus;
	s->cap_mem += n->sn.cap_mem;
	s->reserved_mem += n->reserved_mem;
	s->local_mem += n->local_mem;
}

static void pool(struct api *a, struct evbuffer *b)
{
	struct pool_sums s = {0};
	pool_node_foreach(a->pool, sum_node, &s);
	family(b, "acre_controller_nodes", "gauge", "Nodes known to the controller, by state.");
	for (int i = 0; i < 3; i++)
		evbuffer_add_printf(b, "acre_controller_nodes{state=\"%s\"} %zu\n",
				    pool_node_state_name((enum pool_node_state)i), s.by_state[i]);
	gauge(b, "acre_controller_nodes_connected", "Nodes with a live connection.",
	      (double)s.connected);
	family(b, "acre_controller_slices", "gauge", "Slices in the pool, by state.");
	for (int i = ACRE_SLICE_PENDING; i < ACRE_SLICE_DESTROYED; i++)
		evbuffer_add_printf(b, "acre_controller_slices{state=\"%s\"} %zu\n",
				    acre_slice_state_name((enum acre_slice_state)i),
				    pool_slice_count(a->pool, (enum acre_slice_state)i));
	uint64_t cfree = s.cap_cpus > s.reserved_cpus + s.local_cpus
				 ? s.cap_cpus - s.reserved_cpus - s.local_cpus
				 : 0;
	uint64_t mfree = s.cap_mem > s.reserved_mem + s.local_mem
				 ? s.cap_mem - s.reserved_mem - s.local_mem
				 : 0;
	family(b, "acre_controller_pool_cpus", "gauge",
	       "CPUs of the ready nodes: capacity, reserved by placed slices, used by slices "
	       "the nodes run alone, and free.");
	evbuffer_add_printf(b,
			    "acre_controller_pool_cpus{kind=\"capacity\"} %g\n"
			    "acre_controller_pool_cpus{kind=\"reserved\"} %g\n"
			    "acre_controller_pool_cpus{kind=\"local\"} %g\n"
			    "acre_controller_pool_cpus{kind=\"free\"} %g\n",
			    s.cap_cpus / 1000.0, s.reserved_cpus / 1000.0, s.local_cpus / 1000.0,
			    cfree / 1000.0);
	family(b, "acre_controller_pool_memory_bytes", "gauge",
	       "Memory of the ready nodes, by the same kinds as the CPUs.");
	evbuffer_add_printf(b,
			    "acre_controller_pool_memory_bytes{kind=\"capacity\"} %llu\n"
			    "acre_controller_pool_memory_bytes{kind=\"reserved\"} %llu\n"
			    "acre_controller_pool_memory_bytes{kind=\"local\"} %llu\n"
			    "acre_controller_pool_memory_bytes{kind=\"free\"} %llu\n",
			    (unsigned long long)s.cap_mem, (unsigned long long)s.reserved_mem,
			    (unsigned long long)s.local_mem, (unsigned long long)mfree);
	gauge(b, "acre_controller_pending_slices", "Slices waiting for room.",
	      (double)pool_pending_count(a->pool));
}

/* The event log: its streams, what it holds, what it delivered. */
static void events(struct api *a, struct evbuffer *b)
{
	struct eventlog_stats st;
	eventlog_stats(a->eventlog, &st);
	gauge(b, "acre_controller_event_subscribers", "Open event streams.",
	      (double)st.subscribers);
	counter(b, "acre_controller_events_total", "Events sent to event streams.", st.delivered);
	gauge(b, "acre_controller_events_stored", "Events kept in the event log.",
	      (double)st.stored);
	gauge(b, "acre_controller_events_last_seq",
	      "The sequence number of the newest event committed.", (double)st.last_seq);
	counter(b, "acre_controller_events_lagged_total",
		"Notices that told a stream which events the log dropped before it read them.",
		st.lagged);
}

static void work(struct api *a, struct evbuffer *b)
{
	const struct pool_stats *m = pool_stats(a->pool);
	const struct api_metrics *am = &a->m;
	counter(b, "acre_controller_slices_created_total", "Slices accepted by the API.",
		m->slices_created);
	counter(b, "acre_controller_slices_removed_total", "Slices removed from the pool.",
		m->slices_removed);
	counter(b, "acre_controller_placements_total", "Slices assigned to a node.", m->placements);
	counter(b, "acre_controller_placements_no_room_total",
		"Placement attempts that found no node with room.", m->placement_pending);
	counter(b, "acre_controller_slices_lost_total", "Slices lost with their node.",
		m->slices_lost);
	counter(b, "acre_controller_slices_replaced_total",
		"Lost slices placed again by their restart policy.", m->slices_replaced);
	counter(b, "acre_controller_assign_failures_total", "Assignments a node refused.",
		m->assign_failures);
	family(b, "acre_controller_node_requests_total", "counter",
	       "Requests sent to nodes, by operation.");
	evbuffer_add_printf(b,
			    "acre_controller_node_requests_total{op=\"assign\"} %llu\n"
			    "acre_controller_node_requests_total{op=\"kill\"} %llu\n"
			    "acre_controller_node_requests_total{op=\"remove\"} %llu\n"
			    "acre_controller_node_requests_total{op=\"net\"} %llu\n",
			    (unsigned long long)m->assigns_sent, (unsigned long long)m->kills_sent,
			    (unsigned long long)m->removes_sent, (unsigned long long)m->net_sent);
	counter(b, "acre_controller_registrations_total", "Node registrations accepted.",
		m->registrations);
	counter(b, "acre_controller_registrations_refused_total",
		"Node registrations refused (token, identity, malformed).", m->refusals);
	counter(b, "acre_controller_protocol_errors_total",
		"Malformed or invalid messages from nodes.", m->protocol_errors);
	family(b, "acre_controller_updates_total", "counter",
	       "Slice updates from nodes: applied, or duplicates of applied ones.");
	evbuffer_add_printf(b,
			    "acre_controller_updates_total{result=\"applied\"} %llu\n"
			    "acre_controller_updates_total{result=\"duplicate\"} %llu\n",
			    (unsigned long long)m->updates_applied,
			    (unsigned long long)m->updates_duplicate);
	counter(b, "acre_controller_heartbeats_total", "Heartbeats received.", m->heartbeats);
	family(b, "acre_controller_api_requests_total", "counter",
	       "HTTP API responses, by status class.");
	for (int i = 1; i <= 5; i++)
		evbuffer_add_printf(b, "acre_controller_api_requests_total{code=\"%dxx\"} %llu\n",
				    i, (unsigned long long)am->requests[i]);
	counter(b, "acre_controller_api_unauthorized_total",
		"API requests refused for a missing or wrong token.", am->unauthorized);
	events(a, b);
	family(b, "acre_controller_slice_start_seconds", "histogram",
	       "Time from a slice's placement to its node reporting it running.");
	uint64_t cum = 0;
	for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
		cum += am->run_latency[i];
		evbuffer_add_printf(b,
				    "acre_controller_slice_start_seconds_bucket{le=\"%g\"} %llu\n",
				    latency_bounds[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(b,
			    "acre_controller_slice_start_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "acre_controller_slice_start_seconds_sum %.9g\n"
			    "acre_controller_slice_start_seconds_count %llu\n",
			    (unsigned long long)am->run_latency_count, am->run_latency_sum,
			    (unsigned long long)am->run_latency_count);
}

static void store_and_process(struct api *a, struct evbuffer *b)
{
	int64_t file_size;
	const struct store_stats *st = pool_store_stats(a->pool, &file_size);
	counter(b, "acre_controller_store_commits_total", "SQLite transactions committed.",
		st->commits);
	counter(b, "acre_controller_store_rows_written_total", "Rows written to SQLite.",
		st->rows_written);
	family(b, "acre_controller_store_commit_seconds_total", "counter",
	       "Time spent committing, the fsync included.");
	evbuffer_add_printf(b, "acre_controller_store_commit_seconds_total %.9f\n",
			    (double)st->commit_ns_total / 1e9);
	gauge(b, "acre_controller_store_size_bytes", "Size of the state file and its log.",
	      (double)file_size);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	family(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
	evbuffer_add_printf(b, "process_cpu_seconds_total %.6f\n",
			    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
				    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	long rss_pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (f) {
		long size;
		if (fscanf(f, "%ld %ld", &size, &rss_pages) != 2)
			rss_pages = 0;
		fclose(f);
	}
	gauge(b, "process_resident_memory_bytes", "Resident memory size.",
	      (double)rss_pages * (double)sysconf(_SC_PAGESIZE));
	gauge(b, "acre_controller_uptime_seconds", "Seconds since the controller started.",
	      (double)(acre_monotonic_ns() - a->started_ns) / 1e9);
	family(b, "acre_controller_build_info", "gauge", "The controller's version.");
	evbuffer_add_printf(b, "acre_controller_build_info{version=\"%s\"} 1\n", ACRE_VERSION);
}

API_HANDLER(api_metrics)
{
	(void)p;
	(void)q;
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	pool(a, b);
	work(a, b);
	store_and_process(a, b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	api_count(a, 200);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
