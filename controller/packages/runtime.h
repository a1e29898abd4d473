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

struct event;
struct event_base;

/*
 * A repository: "dir" (dir: a repository directory), "http" (dir: its
 * index's URL, http(s):// or file://) or "bundle" (dir: the bundle file it
 * was added from).  The last two read their index from the data directory:
 *
 *   DATA/repos/NAME/index.json      an http repository's index, as last fetched
 *   DATA/repos/NAME/bundle/         a bundle's contents, verified (bundle.c)
 *   DATA/repos/archives/SHA256/     a package archive unpacked: NAME/VERSION/
 *   DATA/repos/.new-*, .bundle-*    a fetch's result before it is taken (removed at start)
 */
struct pkg_repo {
	char name[PKG_NAME_MAX + 1];
	char kind[8];
	char *dir;
	json_t *index; /* http, bundle: the index, checked */
	bool builtin;  /* the shipped one: not stored, not removed */
};

enum repo_job_kind {
	REPO_JOB_INDEX,	      /* url -> dest, an index checked */
	REPO_JOB_ARCHIVE,     /* url -> dest, an archive verified and unpacked */
	REPO_JOB_BUNDLE_ADD,  /* url (a bundle file) -> dest, unpacked and verified */
	REPO_JOB_BUNDLE_MAKE, /* pkgs (from dirs) -> dest, a bundle file */
};

/* A download under way in a child (repo_fetch.c), or ended and not yet taken. */
struct repo_job {
	char key[512]; /* "index:NAME", "archive:SHA256", "bundle:NAME", "make:LIST" */
	enum repo_job_kind kind;
	char *url, *dest;
	char name[PKG_NAME_MAX + 1], version[PKG_VERSION_MAX + 1], sha256[65];
	struct pkg *pkgs; /* BUNDLE_MAKE */
	char **dirs;	  /* ... the directory holding each one's NAME/VERSION/ */
	size_t npkgs;
	struct installs *owner;
	pid_t pid;
	int fd;
	struct event *ev;
	char out[1100];
	size_t got;
	bool done;
	int rc;
	char why[1024];
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
	char *data_dir;			  /* NULL: only "dir" repositories */
	char *api_url;			  /* installs_options.api_url; NULL: bundles not mirrored */
	struct event_base *base;	  /* where the fetch children are watched */
	ACRE_VEC(struct repo_job *) jobs; /* under way, or ended and not yet taken */
	void (*fetched)(void *);	  /* a job ended (installs_on_fetched) */
	void *fetched_arg;
};

/* catalog.c */
/* Loads NAME at VERSION (NULL: the newest any repository has). */
int catalog_load(struct installs *s, const char *name, const char *version, struct pkg *pkg,
		 struct acre_error *err);
/* The same, and *dir the directory that holds its NAME/VERSION/ (the caller frees it). */
int catalog_locate(struct installs *s, const char *name, const char *version, struct pkg *pkg,
		   char **dir, struct acre_error *err);
void repo_free(struct pkg_repo *r);
/*
 * The URI the nodes fetch for a URI artifact (or its checksum file) of a
 * package from repository r, newly allocated: the package's own for a
 * "dir" repository; a kind that mirrors artifacts (an offline bundle
 * served by the controller) returns its copy's URI here.
 */
char *catalog_artifact_uri(struct installs *s, const struct pkg_repo *r, const char *uri,
			   const char *sha256);
/* Reads an http or bundle repository's index from the data directory (empty when unreadable). */
void repo_index_load(struct installs *s, struct pkg_repo *r);
/* At start: what fetches of the last run left half-done or untaken (DATA/repos/.*) removed. */
void repo_sweep(struct installs *s);

/* repo_fetch.c */
/* Forks the child that does j; j is the installs' until taken. */
int repo_job_start(struct installs *s, struct repo_job *j, struct acre_error *err);
struct repo_job *repo_job_find(struct installs *s, const char *key);
/* j out of the list, the caller's to free. */
struct repo_job *repo_job_take(struct installs *s, struct repo_job *j);
void repo_job_free(struct repo_job *j);
/* DATA/repos/FMT...; -ENAMETOOLONG when it does not fit. */
int repo_path(const struct installs *s, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

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
