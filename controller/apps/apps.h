/*
 * apps: what users run on the pool — N instances of one slice template,
 * placed, checked, rolled out and kept.  This header is the pure core that
 * the layers around it (the HTTP handlers, the loop's reconciliation of an
 * app's instances) build on; nothing here touches the pool, the store or
 * the clock: every input comes as an argument, so each piece is tested on
 * its own.
 *
 *   app spec        parse, validate, print back (canonical JSON), and the
 *                   slice spec of instance N (app_spec.c, app_ports.c,
 *                   app_checks.c, app_volumes.c, app_policy.c, app_json.c,
 *                   app_spec_json.c, app_instance.c)
 *   dependencies    unknown names and cycles over a set of apps (app_deps.c)
 *   versions        every change of spec a numbered version (app_versions.c)
 *   rollout         the next actions of a deployment (rollout.c)
 *   surplus         which instances to stop when there are too many (surplus.c)
 *   back-off        when a failed instance may start again (backoff.c)
 *
 * controller/README.md ("Apps") describes the spec's fields, defaults and
 * errors as users see them.
 */
#ifndef ACRE_CONTROLLER_APPS_H
#define ACRE_CONTROLLER_APPS_H

#include "common/common.h"
#include "proto/proto.h"

/* ---- the app spec (app_spec.c and its parts) --------------------------------------------- */

/* APP-999999 is still a DNS label (63 bytes) when APP has at most 56. */
#define APP_NAME_MAX	  ACRE_APP_NAME_MAX
#define APP_INSTANCES_MAX 1000000
#define APP_PORTS_MAX	  16
#define APP_PORT_NAME_MAX ACRE_PORT_NAME_MAX /* an IANA service name (RFC 6335 section 5.1) */
#define APP_DEPS_MAX	  32
#define APP_LABELS_MAX	  48 /* leaves room under the slice's 64 for the labels the app sets */
#define APP_HISTORY_MAX	  1000

/* The labels an app sets on each of its instances (besides acre.service and acre.vip.ports). */
#define APP_LABEL_APP	   "acre.app"
#define APP_LABEL_INSTANCE "acre.instance"
#define APP_LABEL_VERSION  "acre.version"
/*
 * The install an app belongs to (controller/packages): set by the owner
 * given to apps_create/apps_update (apps_request.owner), never by a spec
 * alone; kept in the app's labels, so its instances carry it too.
 */
#define APP_LABEL_OWNER "acre.install"

/* The environment each instance is given besides PORT_<NAME>. */
#define APP_ENV_INSTANCE  "ACRE_INSTANCE"
#define APP_ENV_INSTANCES "ACRE_INSTANCES"

/* One named port: "http" or "http:8080", tcp unless "/udp" follows. */
struct app_port {
	char name[APP_PORT_NAME_MAX + 1];
	/*
	 * bridge: the slice's own port (always given); host: the node's port,
	 * 0 for one the node picks from its --port-range at placement.
	 */
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/* "18080:http": a named port of a bridged instance published on its node. */
struct app_publish {
	uint16_t node_port;
	unsigned port; /* index into ports */
};

/*
 * Health or readiness checks, run by the supervisor of the instance's
 * node: the slice spec's (common/spec.h, struct acre_check: kind, command,
 * path, grace, interval, timeout, failures) with the port named.
 */
struct app_checks {
	/*
	 * Their port: the declared number, or 1 for a port the node picks at
	 * placement; an instance's slice spec has the real one.
	 */
	struct acre_check *c;
	size_t n;
	unsigned port[ACRE_CHECKS_MAX]; /* tcp, http: index into ports */
};

/* A count of instances ("max_surge": 2) or a percentage of them ("25%"). */
struct app_amount {
	uint32_t value;
	bool percent;
};

/*
 * An amount against a number of instances (app_policy.c): a count as it
 * is (at most instances when clamp), a percentage rounded up (min_healthy
 * keeps more, max_surge moves on) or down (max_unavailable takes fewer
 * down).
 */
unsigned app_amount_resolve(const struct app_amount *a, unsigned instances, bool round_up,
			    bool clamp);

/* Restart delay: initial × factor^n, at most max, n back to 0 after reset_after healthy. */
struct app_backoff {
	uint64_t initial_ms;
	uint32_t factor_milli; /* 1150 for 1.15 */
	uint64_t max_ms;
	uint64_t reset_after_ms;
};

enum app_on_partition { APP_PARTITION_REPLACE, APP_PARTITION_WAIT };

struct app_spec {
	char name[APP_NAME_MAX + 1];
	unsigned instances;
	/*
	 * The slice template, parsed by the slice spec's own parser: name,
	 * labels, restart and network.publish are the app's to set.
	 */
	struct acre_slice_spec slice;
	struct acre_placement placement; /* placement.unique: "node", an attribute, or "" */
	struct app_port ports[APP_PORTS_MAX];
	size_t nports;
	struct app_publish publish[APP_PORTS_MAX];
	size_t npublish;
	struct app_checks checks, readiness;
	struct app_backoff backoff;
	json_t *labels; /* the user's, an object of strings; never NULL once parsed */
	bool vip;
	char **dependencies; /* other apps' names, NULL-terminated; never NULL once parsed */
	/*
	 * The slice spec's volumes (common/spec.h): each instance gets its own
	 * of each, on its node, named APP-N-NAME (app_volume_name).
	 */
	struct acre_volume *volumes;
	size_t nvolumes;
	bool ordered;
	enum app_on_partition on_partition;
	struct app_amount min_healthy, max_surge, max_unavailable;
	unsigned history;
	bool auto_rollback;
	/*
	 * app_instance_spec's, made on its first call: what every instance's
	 * slice spec has, so that each instance adds only what is its own.
	 */
	json_t *instance_base;
};

/*
 * Validates and converts an app spec.  Every error names the field with
 * its path ("checks[1].port", "slice.resources.memory") and the reason;
 * an unknown field anywhere is refused.  On error *spec holds nothing.
 */
int app_spec_parse(const json_t *json, struct app_spec *spec, struct acre_error *err);
/*
 * The spec back as canonical JSON: every field, defaults written out, in
 * one form (sizes and durations with the largest exact unit), so that
 * parsing it gives the same spec and two specs are equal exactly when
 * their canonical JSON is (json_equal).
 */
json_t *app_spec_to_json(const struct app_spec *spec);
/* app_spec_to_json's output as shown: its slice template's secrets redacted, in place. */
void app_spec_json_redact(json_t *app_spec_json);
void app_spec_free(struct app_spec *spec);

/* Whether a name is a valid app name: a DNS label (RFC 1123) of at most APP_NAME_MAX. */
bool app_name_valid(const char *name);
/* "http", "metrics-2": an IANA service name, lower case (RFC 6335 section 5.1). */
bool app_port_name_valid(const char *name);
/* "http" -> its index in spec->ports, or -1. */
int app_port_find(const struct app_spec *spec, const char *name);

const char *app_on_partition_name(enum app_on_partition p);

/*
 * Whether moving from one canonical spec to the other changes what an
 * instance runs (its slice spec, checks, volumes or placement), so that
 * its instances are replaced; false for changes of instances, history,
 * min_healthy, max_surge, max_unavailable, backoff, dependencies, ordered,
 * on_partition and auto_rollback, which a deployment applies in place.
 */
bool app_spec_json_replaces(const json_t *from, const json_t *to);

/* ---- instances (app_instance.c) ----------------------------------------------------------- */

/* "APP-N"; -ENAMETOOLONG if it does not fit in len. */
int app_instance_name(const struct app_spec *spec, unsigned index, char *buf, size_t len);
/* "APP-N-NAME": the name on its node of instance N's volume volumes[i]. */
int app_volume_name(const struct app_spec *spec, size_t i, unsigned index, char *buf, size_t len);

/*
 * The slice spec of instance `index` running version `version`, ready for
 * pool_slice_create: named APP-N; the template's env plus ACRE_INSTANCE,
 * ACRE_INSTANCES and PORT_<NAME> for each port; the app's labels plus
 * acre.app, acre.service (the DNS group APP.acre), acre.instance,
 * acre.version and, with vip, acre.vip.ports; network.publish from the
 * app's publish; checks and readiness with the ports' numbers; volumes,
 * each named APP-N-NAME, so its own and the same for a replacement; restart
 * "never", since the app decides every restart (with its back-off) and
 * every replacement, not the pool or the node.  A port of the host's
 * network without a number (network host, "http") is asked of the pool in
 * "host_ports", which picks it from the --port-range of the node it binds
 * the instance to; want[i], when not 0, is asked for first (the one the
 * instance had); want may be NULL.
 */
int app_instance_spec(struct app_spec *spec, unsigned index, uint32_t version, const uint16_t *want,
		      json_t **out, struct acre_error *err);

/* ---- dependencies (app_deps.c) ------------------------------------------------------------ */

/*
 * Checks a set of apps together: every dependency names an app of the
 * set, there is no cycle (the error spells it: "web -> db -> web"), and no
 * app is named as another's instance ("web-1" beside an app "web").  With
 * order non-NULL (n entries), fills it with a start order: each app after
 * the apps it depends on, ties in name order; stop in reverse.
 */
int app_deps_check(const struct app_spec *const *apps, size_t n, size_t *order,
		   struct acre_error *err);

/* ---- versions (app_versions.c) ------------------------------------------------------------ */

struct app_version {
	uint32_t number;	   /* 1, 2, ... never reused */
	uint32_t instance_version; /* the version whose instances this one runs (see below) */
	int64_t created_at;	   /* unix ms */
	bool healthy;		   /* all its instances were healthy once */
	json_t *spec;		   /* canonical */
};

/*
 * An app's versions, oldest first.  A change that does not replace
 * instances (a scale, a new min_healthy) is a version of its own whose
 * instance_version stays that of the version before it, so the rollout
 * planner, which compares instance_version, replaces nothing for it; and a
 * spec whose instances equal a kept version's (a rollback) takes that
 * version's instance_version, so the instances still running it stay.
 */
struct app_versions {
	struct app_version *v;
	size_t n, cap;
	uint32_t last; /* the highest number given */
};

/*
 * Records spec as the newest version unless it equals the newest (1: a new
 * version, *number its number; 0: no change, *number the newest's).  Keeps
 * the newest spec->history versions, and the newest healthy version besides
 * when it is older, since a rollback may need it.
 */
int app_versions_add(struct app_versions *h, const struct app_spec *spec, int64_t now,
		     uint32_t *number, struct acre_error *err);
/* Whether spec is the newest version's (what app_versions_add would not add). */
bool app_versions_is_latest(const struct app_versions *h, const struct app_spec *spec);
/*
 * A restart: the newest spec again as a new version whose instances are
 * new (its instance_version is its own number), so every instance is
 * replaced as by an update.
 */
int app_versions_restart(struct app_versions *h, unsigned history, int64_t now, uint32_t *number,
			 struct acre_error *err);
const struct app_version *app_versions_latest(const struct app_versions *h);
const struct app_version *app_versions_find(const struct app_versions *h, uint32_t number);
/* -ENOENT if that version is not kept. */
int app_versions_mark_healthy(struct app_versions *h, uint32_t number);
/*
 * Where a failed rollout goes back to: the newest healthy version whose
 * instances differ from failing_instance_version; NULL when there is none
 * (a first deployment has nothing to go back to).
 */
const struct app_version *app_versions_rollback_target(const struct app_versions *h,
						       uint32_t failing_instance_version);
/* {"last": N, "versions": [{"number", "instance_version", "created_at", "healthy", "spec"}]} */
json_t *app_versions_to_json(const struct app_versions *h);
int app_versions_from_json(const json_t *j, struct app_versions *h, struct acre_error *err);
void app_versions_free(struct app_versions *h);

/* ---- the rollout planner (rollout.c) ------------------------------------------------------ */

enum app_instance_state {
	APP_INSTANCE_STARTING,	/* placed or running, its checks not yet passed */
	APP_INSTANCE_HEALTHY,	/* its health checks pass */
	APP_INSTANCE_UNHEALTHY, /* its health checks failed (after the grace period) */
	APP_INSTANCE_STOPPING,	/* asked to stop; its name is still taken */
};

/* One instance as the app sees it. */
struct app_instance {
	unsigned index;
	uint32_t version; /* its instance_version */
	enum app_instance_state state;
	bool ready;	    /* its readiness check passes (true when it has none) */
	int64_t started_at; /* unix ms; the surplus chooser keeps the older */
	int64_t id;	    /* its slice's id: the last tie-breaker */
};

const char *app_instance_state_name(enum app_instance_state s);

/*
 * What the planner sees of an instance's slice, from what the pool keeps
 * of it: its state, whether it is wanted running (stopping: a kill or a
 * removal was asked), and the health its node reports.  A slice that runs
 * without checks is healthy; one that ended but still holds its name
 * (exited, failed, killed) is unhealthy, to be restarted with the
 * back-off; false for one that no longer holds its name (lost, destroyed):
 * its index is free.
 */
bool app_instance_state_from_slice(enum acre_slice_state st, bool stopping, enum acre_health health,
				   enum app_instance_state *out);

/*
 * What a rollout step is given.  Instance N of the app is the slice APP-N
 * and a replacement keeps the name, so a new version replaces instance N in
 * place: stop it, then start N again.  max_surge is spent on temporary
 * instances above the wanted ones (N = wanted, wanted + 1, ...), started at
 * the target version so that old instances may stop while min_healthy
 * still holds, and stopped once every wanted index runs the target.
 * Ordered apps start no such instance (it would be an extra ensemble
 * member): they move one instance at a time, starting in index order,
 * each healthy and ready before the next, stopping and replacing from the
 * highest index down, as StatefulSets do; one instance is down at a time
 * whatever min_healthy says.
 */
struct app_rollout {
	unsigned wanted;
	uint32_t target;      /* the instance_version to run */
	uint32_t rollback_to; /* the instance_version of the last healthy version; 0: none */
	bool auto_rollback;
	bool ordered;
	/*
	 * Each instance is its volumes (the app has some): a stand-in would
	 * start on volumes of its own, empty, and serve them under the app's
	 * name.  So no surge: one instance at a time is stopped and started
	 * again on its own, whatever max_surge and min_healthy say.
	 */
	bool bound;
	struct app_amount min_healthy, max_surge;
	const struct app_instance *instances; /* at most one per index (see app_surplus_choose) */
	size_t ninstances;
};

enum app_action_kind { APP_ACTION_START, APP_ACTION_STOP };

struct app_action {
	enum app_action_kind kind;
	unsigned index;
	uint32_t version; /* start: the version to start; stop: the version it runs */
};

enum app_plan_state {
	APP_PLAN_DONE,	   /* wanted instances, all at the target, healthy and ready */
	APP_PLAN_ACTING,   /* actions to take now */
	APP_PLAN_WAITING,  /* nothing to do until an instance changes state (reason says which) */
	APP_PLAN_STUCK,	   /* no action can ever be taken (reason says why) */
	APP_PLAN_ROLLBACK, /* new instances failed: plan again with target rollback_to */
	APP_PLAN_PAUSED,   /* the same, without auto_rollback: kept as it is for inspection */
};

struct app_plan {
	enum app_plan_state state;
	struct app_action *actions;
	size_t nactions;
	unsigned min_healthy, max_surge; /* resolved against wanted */
	unsigned available;		 /* healthy and ready now, any version */
	unsigned at_target;		 /* wanted indexes at the target, healthy and ready */
	uint32_t rollback_to;		 /* APP_PLAN_ROLLBACK, APP_PLAN_PAUSED */
	char reason[256];		 /* for every state but DONE and ACTING: why */
};

/*
 * The next actions towards `r`: never fewer than min_healthy instances
 * healthy and ready (once they were), never more than wanted + max_surge
 * not stopping.  A pure function of its input: call it again whenever an
 * instance changes state.  Refuses (-EINVAL) two instances of one index.
 */
int app_rollout_plan(const struct app_rollout *r, struct app_plan *plan, struct acre_error *err);
void app_plan_free(struct app_plan *plan);
const char *app_plan_state_name(enum app_plan_state s);

/* ---- the plan ahead (forecast.c) ------------------------------------------------------------ */

struct app_forecast_step {
	struct app_action *actions;
	size_t nactions, cap;
};

struct app_forecast {
	/* steps[0]: under way now (what starts and stops), unless nothing is */
	struct app_forecast_step *steps;
	size_t nsteps;
	enum app_plan_state now; /* the planner's state for the instances as they are */
	char now_reason[256];	 /* what it waits for now (APP_PLAN_WAITING), or why */
	enum app_plan_state end; /* DONE, or where the forecast stops: STUCK, ROLLBACK, ... */
	char reason[256];
	bool truncated; /* more steps than asked for */
};

/*
 * The steps ahead of a rollout from r's instances: the planner run again
 * and again, each step's starts taken as healthy and ready and its stops
 * as done, at most max_steps.  A forecast of a rollout that goes well.
 */
int app_rollout_forecast(const struct app_rollout *r, size_t max_steps, struct app_forecast *f,
			 struct acre_error *err);
void app_forecast_free(struct app_forecast *f);

/* ---- the surplus chooser (surplus.c) ------------------------------------------------------ */

/*
 * When a node comes back after its instances were replaced, or an app
 * shrank meanwhile, there are more instances than wanted.  Sets stop[i]
 * for each instance to stop: every instance at an index >= wanted, and
 * for each index below all but one, the one kept being the healthy over
 * the unhealthy, then the one started earlier, then the one at `current`
 * (instance_version), then the lower id.  The choice depends on the
 * instances only, not on their order.  Returns how many are to stop.
 */
size_t app_surplus_choose(const struct app_instance *inst, size_t n, unsigned wanted,
			  uint32_t current, bool *stop);

/* ---- the restart back-off (backoff.c) ----------------------------------------------------- */

#define APP_BACKOFF_INITIAL_MS	   1000
#define APP_BACKOFF_FACTOR_MILLI   1150
#define APP_BACKOFF_MAX_MS	   3600000
#define APP_BACKOFF_RESET_AFTER_MS 600000

/* The delay before restart n (0 for the first restart): initial × factor^n, at most max. */
uint64_t app_backoff_delay_ms(const struct app_backoff *b, unsigned n);

/* One instance's restarts. */
struct app_restarts {
	unsigned n; /* failures since the last reset */
	bool healthy;
	int64_t healthy_since_ms; /* when it last became healthy */
	int64_t not_before_ms;	  /* the next start waits until then */
};

/* It became healthy at now (a second call while healthy changes nothing). */
void app_restarts_healthy(struct app_restarts *r, int64_t now_ms);
/*
 * It failed at now: the count starts again from 0 if it had been healthy
 * for reset_after; returns the delay before its restart (also set in
 * not_before_ms).
 */
uint64_t app_restarts_failed(const struct app_backoff *b, struct app_restarts *r, int64_t now_ms);

/* ---- the pool's apps (apps.c, verbs.c, reconcile.c, deploy.c, store.c, view.c, drain.c) -- */

/*
 * Above the pure core: the apps of one pool, kept in the pool's store
 * (tables of their own, written in the pass's transaction), each
 * reconciled at the end of every pass that changed one of its instances,
 * through the pool's verbs, and every change published through the pool
 * (pool_publish_object: "app" and "deployment" events).
 */
struct pool;
struct apps;

struct apps_options {
	/* A deployment that makes no progress this long says why (an event); 0: 5 minutes. */
	uint64_t step_deadline_ms;
	unsigned deployments_kept; /* per app; 0: 100 */
};

int apps_open(struct pool *p, const struct apps_options *o, struct apps **out,
	      struct acre_error *err);
void apps_close(struct apps *a);
/* At the end of every pass, before pool_commit: the apps whose instances changed. */
void apps_reconcile(struct apps *a);
/* A few times a second: back-off timers and deadlines fall due. */
void apps_tick(struct apps *a);
/* Whether an app has starts left for the next pass: the loop then does not wait for events. */
bool apps_busy(const struct apps *a);

/*
 * The verbs, each answering with the JSON the API returns ({"app",
 * "deployment"}) in *reply.  A verb on an app whose deployment still runs
 * is refused (-EBUSY, naming it) unless force, which ends it as
 * cancelled.  Errors name the field.
 */
struct apps_request {
	const char *name;
	bool force;
	bool dry_run;	    /* create: check and show, change nothing */
	bool keep_volumes;  /* remove */
	unsigned instances; /* scale */
	uint32_t version;   /* rollback: 0 the last healthy before the current one */
	unsigned index;	    /* move */
	const char *node;   /* move: to; drain: which */
	/*
	 * create, update: the install that makes the app (its label
	 * APP_LABEL_OWNER); NULL for a user's app.  An app owned by an install
	 * is changed only by that owner.
	 */
	const char *owner;
};
int apps_create(struct apps *a, const json_t *spec, const struct apps_request *r, json_t **reply,
		struct acre_error *err);
/* The whole new spec; *created when there was no such app. */
int apps_update(struct apps *a, const json_t *spec, const struct apps_request *r, json_t **reply,
		bool *created, struct acre_error *err);
int apps_scale(struct apps *a, const struct apps_request *r, json_t **reply,
	       struct acre_error *err);
int apps_restart(struct apps *a, const struct apps_request *r, json_t **reply,
		 struct acre_error *err);
int apps_rollback(struct apps *a, const struct apps_request *r, json_t **reply,
		  struct acre_error *err);
int apps_stop(struct apps *a, const struct apps_request *r, json_t **reply, struct acre_error *err);
int apps_start(struct apps *a, const struct apps_request *r, json_t **reply,
	       struct acre_error *err);
int apps_move(struct apps *a, const struct apps_request *r, json_t **reply, struct acre_error *err);
int apps_remove(struct apps *a, const struct apps_request *r, json_t **reply,
		struct acre_error *err);

/* Reads: NULL and -ENOENT (err) for an unknown app. */
json_t *apps_list_json(struct apps *a);
int apps_show(struct apps *a, const char *name, json_t **out, struct acre_error *err);
int apps_versions_json(struct apps *a, const char *name, json_t **out, struct acre_error *err);
int apps_instances_json(struct apps *a, const char *name, json_t **out, struct acre_error *err);
/* Why its instances that do not run do not (pool_why), and what would let them. */
int apps_why(struct apps *a, const char *name, json_t **out, struct acre_error *err);

/* Deployments, newest first; app NULL: all apps. */
json_t *apps_deployments_json(struct apps *a, const char *app, bool active_only);
int apps_deployment_show(struct apps *a, const char *id, json_t **out, struct acre_error *err);
/* Ends it as cancelled: back to the version before unless force (then kept where it is). */
int apps_deployment_cancel(struct apps *a, const char *id, bool force, json_t **out,
			   struct acre_error *err);

/*
 * Drains a node: cordons it, then moves every app instance off it, never
 * taking an app below its max_unavailable.  *out: {"node", "drain"}.
 */
int apps_node_drain(struct apps *a, const char *node, json_t **out, struct acre_error *err);
/* {"remaining", "waiting_for"} while a node drains, else NULL. */
json_t *apps_node_drain_json(struct apps *a, const char *node);

#endif
