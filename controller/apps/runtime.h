/*
 * What the runtime files of controller/apps/ share: the apps of a pool as
 * the controller keeps them (each with its versions, the state of each
 * instance index, and its deployments), their rows in the store, and the
 * reconciliation that turns an app's wanted instances into the pool's
 * verbs.  The pure core (internal.h, apps.h's first sections) knows none
 * of this.
 */
#ifndef ACRE_CONTROLLER_APPS_RUNTIME_H
#define ACRE_CONTROLLER_APPS_RUNTIME_H

#include "controller/apps/apps.h"
#include "controller/pool/pool.h"
#include "common/vec.h"

#define APPS_STEPS_MAX	200  /* steps kept per deployment: the first and the newest */
#define APPS_STEP_BATCH 16   /* more actions in one pass: one step says them all */
#define APPS_LARGE	1000 /* instances from which an app is reconciled at most ... */
#define APPS_LARGE_EVERY_MS                                                                        \
	100			  /* ... this often, or rarer by its size (apps.c): one pass       \
				     over its instances takes the changes of many */
#define APPS_STARTS_PER_PASS 2000 /* a scale up's starts in one pass (app.backlog) */
#define APPS_RETRY_MS	     250 /* a start that waits (a dependency) or failed is tried again after */

enum deploy_state {
	DEPLOY_RUNNING,
	DEPLOY_SUCCEEDED,
	DEPLOY_FAILED,
	DEPLOY_ROLLED_BACK,
	DEPLOY_CANCELLED,
	DEPLOY_PAUSED,
};

/* One deployment: every create, update, scale, restart, rollback, stop, start, move, remove. */
struct deploy {
	int64_t id;
	char app[APP_NAME_MAX + 1];
	char kind[16];
	uint32_t from_version, to_version; /* the app's version numbers; from 0: none */
	uint32_t target;		   /* the instance_version it runs towards */
	enum deploy_state state;
	char reason[512];  /* why it ended as it did (failed, rolled back, cancelled) */
	char waiting[512]; /* what it waits for now, "" when acting or done */
	/* The last instance that ended in failure, and why: what a stalled one reports. */
	char last_failure[400];
	int64_t started_at, ended_at, progress_at;
	int64_t deadline; /* progress_at + the step deadline */
	bool stalled;	  /* said so once it passed its deadline without progress */
	unsigned wanted, at_target, available;
	json_t *steps; /* [{"at", "text", "at_target", "available"}] */
	/*
	 * Its plan ahead as last made for a view (view.c), and when: a client
	 * following a deployment of 100,000 instances asks many times a second.
	 */
	json_t *plan;
	int64_t plan_at;
	bool dirty; /* its row is to be written */
};

/* What the runtime keeps of one instance index. */
struct app_slot {
	struct app_restarts restarts;
	char volume_node[ACRE_NAME_MAX + 1]; /* where its volumes live; "" none yet */
	char move_to[ACRE_NAME_MAX + 1];     /* its next placement's node (a move); "" none */
	uint16_t host_ports[APP_PORTS_MAX];  /* picked by the pool on its node: asked for first */
	char last_event[24];		     /* its last step said, so it is said once */
	/*
	 * The ended slice whose failure the back-off counted: kept (its log and
	 * exit can be read) until its restart removes it.
	 */
	int64_t failed_id;
	/*
	 * How far its instance got, as the app last counted it: 0 not running,
	 * 1 running, 2 healthy and ready (apps.c counts a converging app's
	 * instances forward by it, without a pass over all of them).
	 */
	uint8_t level;
	bool listed; /* an instance at this index was listed in this reconciliation */
};

struct app {
	char name[APP_NAME_MAX + 1];
	struct app_versions versions;
	uint32_t version;     /* the newest version's number: what the app is now */
	uint32_t target;      /* the instance_version its instances run towards */
	uint32_t rollback_to; /* the instance_version a failing target goes back to; 0: none */
	struct app_spec spec; /* the newest version's, parsed */
	struct app_spec target_spec; /* the spec the target's instances run (a rollback's) */
	int stopped_instances;	     /* remembered by stop, -1: not stopped */
	bool removing, keep_volumes;
	struct app_slot *slots;
	size_t nslots;
	struct deploy *dep;		   /* the running deployment, NULL: none */
	ACRE_VEC(struct deploy *) deploys; /* every kept one, oldest first */
	int64_t created_at, updated_at;
	bool dirty; /* to reconcile at the end of the pass */
	/*
	 * Its last reconciliation took no action and waits only for its
	 * instances, each at the target and below instances, to come up: until
	 * one fails, stops or goes, or all are healthy, a change is counted
	 * (running, healthy, the slot's level) rather than reconciled.
	 */
	bool converging;
	bool reconciling; /* its own verbs' changes are its reconciliation's to look at */
	/*
	 * A scale up's starts beyond the first APPS_STARTS_PER_PASS, taken in the
	 * passes that follow (while it converges): the first instances go to
	 * their nodes while the rest are made, as bare slices sent in batches do.
	 */
	ACRE_VEC(unsigned) backlog;
	int64_t wake_ms;      /* a timer of its own (a back-off, a deadline) is due then; 0: none */
	int64_t next_pass_ms; /* a large app's next reconciliation, at the earliest */
	bool row_dirty;	      /* its row is to be written */
	bool gone;	      /* removed: its row is to be deleted, then it is freed */
	char health[16];      /* running, deploying, degraded, stopped, removing: the last said */
	unsigned running, healthy;
};

struct apps {
	struct pool *pool;
	struct apps_options opt;
	ACRE_VEC(struct app *) apps; /* sorted by name */
	ACRE_VEC(struct app *) gone; /* removed this pass: deleted at the commit */
	ACRE_VEC(char *) drains;     /* nodes being drained */
	bool drains_dirty;
	json_t *kept; /* kept_volumes.c: {"APP": [{"index", "volume_node"}]} */
	bool kept_dirty;
	int64_t next_deploy_id;
	struct sqlite3_stmt *put_app, *del_app, *put_deploy, *del_deploys, *put_drains;
};

/* apps.c: the registry. */
struct app *apps_find(struct apps *a, const char *name);
int apps_insert(struct apps *a, struct app *app);
void app_free(struct app *app);
/* Something of the app changed that its last reconciliation did not see: a full one, next. */
void app_touch(struct app *app);
/* The spec of instance_version v: the newest kept version that runs it, parsed into out. */
int app_spec_for_instances(struct app *app, uint32_t v, struct app_spec *out,
			   struct acre_error *err);
/* Publishes the app as an event ("app", event); its row is written at the commit. */
void app_changed(struct apps *a, struct app *app, const char *event);
/* The slots up to n (zeroed). */
int app_slots_reserve(struct app *app, size_t n);
/*
 * The host ports the pool picked for the instance's slice on its node
 * (app_port_picked), kept in its slot: its next start asks for them first.
 */
void app_slot_note_ports(struct app *app, struct app_slot *slot, const struct app_spec *spec,
			 const struct pool_slice *sl);
/* How many of its ports each instance's node picks: what a placement asks for of its range. */
unsigned app_ports_picked(const struct app_spec *spec);

/* deploy.c: deployments. */
struct deploy *deploy_start(struct apps *a, struct app *app, const char *kind, uint32_t from);
void deploy_step(struct apps *a, struct deploy *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void deploy_end(struct apps *a, struct app *app, enum deploy_state st, const char *reason);
const char *deploy_state_name(enum deploy_state s);
int deploy_state_parse(const char *s, enum deploy_state *out);
json_t *deploy_json(const struct deploy *d);
int deploy_from_json(const json_t *j, struct deploy *d, struct acre_error *err);
void deploy_free(struct deploy *d);
struct deploy *apps_deploy_find(struct apps *a, int64_t id, struct app **owner);

/* store.c: the rows. */
/* kept_volumes.c: the volumes' nodes of an app removed with keep_volumes, for the next of its name.
 */
void app_kept_volumes_record(struct apps *a, const struct app *app);
/* Each slot of app (just made) where its volumes are, if an app of its name kept them. */
void app_kept_volumes_claim(struct apps *a, struct app *app);
int app_kept_volumes_load(struct apps *a, struct acre_error *err);
/* In the store's transaction, when something changed. */
int app_kept_volumes_write(struct apps *a, struct acre_error *err);

int apps_store_open(struct apps *a, struct acre_error *err);
int apps_store_load(struct apps *a, struct acre_error *err);
int apps_store_write(struct apps *a, struct acre_error *err);
void apps_store_close(struct apps *a);
json_t *app_state_json(const struct app *app);
int app_state_from_json(struct app *app, const json_t *j, struct acre_error *err);

/* reconcile.c: one app's instances towards what it wants. */
void app_reconcile(struct apps *a, struct app *app, int64_t now);
/* The next starts of a converging app's backlog, without reading its instances. */
void app_backlog_run(struct apps *a, struct app *app, int64_t now);
/* Its instances' slices by index (NULL where none); the array has n = max(index)+1 entries. */
struct app_instance_view {
	struct pool_slice *slice;
	unsigned index;
	uint32_t version;
};
/* Its index and version (0: none) from its labels; false: not an instance of an app. */
bool app_instance_labels(const struct pool_slice *sl, unsigned *index, uint32_t *version);
/* How far the instance got: 0 not running, 1 running, 2 healthy and ready (app_slot.level). */
uint8_t app_instance_level(const struct pool_slice *sl);
int app_instances_collect(struct apps *a, const struct app *app, struct app_instance_view **out,
			  size_t *n);

/* view.c: JSON shapes. */
json_t *app_brief_json(struct apps *a, const struct app *app);
json_t *app_instance_json(const struct app *app, const struct app_instance_view *v);
const char *app_health_name(struct apps *a, struct app *app);
/* A deployment as the API shows it: deploy_json, and while it runs its plan ahead. */
json_t *deploy_view(struct apps *a, const struct app *app, struct deploy *d);

/* drain.c */
bool apps_node_draining(const struct apps *a, const char *node);

#endif
