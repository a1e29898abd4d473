/*
 * What the runtime files of controller/packages/ share: the catalog's
 * repositories, the installs as the controller keeps them and their rows
 * in the pool's store.  An install is kept as one JSON object (its row):
 *
 *   {"name", "package", "version", "revision", "state", "reason",
 *    "options" (in full: the store only), "schema" (to redact them),
 *    "revisions": [{"revision", "version", "options", "apps": [spec, ...],
 *                   "at"}],
 *    "operation": {"id", "kind", "phase", "started_at", "apps": [spec...],
 *                  "deployments": {"APP": "d-N"}, "steps": {"APP": N said},
 *                  "waiting_for", "keep_volumes", "remove": ["APP"]} | null,
 *    "created_at", "updated_at"}
 *
 * apps are canonical app specs in start order, each labelled with the
 * install (pkg_expand), so that a rollback needs no package.
 */
#ifndef ACRE_CONTROLLER_PACKAGES_RUNTIME_H
#define ACRE_CONTROLLER_PACKAGES_RUNTIME_H

#include "controller/packages/packages.h"
#include "controller/pool/pool.h"
#include "common/vec.h"

#define INSTALLS_REVISIONS_KEPT 10

struct pkg_repo {
	char name[PKG_NAME_MAX + 1];
	char kind[8]; /* "dir"; an HTTP index is another kind */
	char *dir;
	bool builtin; /* the shipped one: not stored, not removed */
};

struct install {
	char name[PKG_INSTALL_NAME_MAX + 1];
	json_t *row;
	bool dirty, gone;
};

struct installs {
	struct pool *pool;
	struct apps *apps;
	struct pkg_repo shipped;	   /* repos.v[0] */
	ACRE_VEC(struct pkg_repo *) repos; /* the shipped one, then those added */
	ACRE_VEC(struct install *) list;   /* sorted by name */
	ACRE_VEC(struct install *) gone;   /* deleted at the commit */
	bool repos_dirty;
	int64_t last_op;
};

/* catalog.c */
/* Loads NAME at VERSION (NULL: the newest any repository has). */
int catalog_load(struct installs *s, const char *name, const char *version, struct pkg *pkg,
		 struct acre_error *err);
void repo_free(struct pkg_repo *r);
/*
 * The URI the nodes fetch for a URI artifact (or its checksum file) of a
 * package from repository r, newly allocated: the package's own for a
 * "dir" repository; a kind that mirrors artifacts (an offline bundle
 * served by the controller) returns its copy's URI here.
 */
char *catalog_artifact_uri(const struct pkg_repo *r, const char *uri);

/* install_store.c */
int install_store_open(struct installs *s, struct acre_error *err);
int install_store_write(struct installs *s, struct acre_error *err);

/* installs.c */
struct install *install_find(struct installs *s, const char *name);
struct install *install_add(struct installs *s, const char *name, json_t *row);
void install_drop(struct installs *s, struct install *in);
/* The row changed: written at the commit, published as ("install", event). */
void install_changed(struct installs *s, struct install *in, const char *event);
/* The install as the API shows it: options redacted, no schema, revisions in brief. */
json_t *install_view(const struct install *in);
const char *install_state(const struct install *in);
void install_set_state(struct install *in, const char *state, const char *reason);

/* install_verbs.c: starting the apps of an operation. */
/*
 * Makes each app of specs (start order) what it says through apps_update
 * with the install as owner and removes the install's apps not among
 * them; op.deployments gets each deployment's id.
 */
int install_apply(struct installs *s, struct install *in, json_t *op, const json_t *specs,
		  struct acre_error *err);
json_t *install_op_new(struct installs *s, const char *kind, const json_t *apps);

/* install_binaries.c */
/* binaries [{"binary", "deb"}] with "nodes" (how many have it) and "of" (the pool's nodes). */
json_t *install_binaries_seen(struct installs *s, const json_t *binaries);
/* An operation waiting: op.waiting_for names the first of op.binaries that no node has. */
void install_binaries_waiting(struct installs *s, json_t *op);

#endif
