/*
 * packages: the package library's pure core — a package read from its
 * directory, its options checked against its schema, its templates
 * expanded into apps and volumes owned by an install, the plan of that
 * expansion and the diff of two plans, a repository's index, checksums and
 * versions.  Nothing here touches the pool, the store or the network:
 * every input comes as an argument (a directory, a file, a JSON value), so
 * each piece is unit-tested alone (tests/unit/test_pkg_*.c).  The runtime
 * (installs, upgrades, the API and the CLI) builds on it.
 *
 *   package         package.json, artifacts, icon, the directory (manifest.c,
 *                   artifacts.c, load.c, repo_dir.c; strict.c: the strict
 *                   JSON readers they share)
 *   options         the schema and the options checked against it, --set,
 *                   defaults, secrets redacted (schema.c, options.c,
 *                   options_set.c, redact.c)
 *   templates       {{...}} substitution and the expansion of an install
 *                   (template.c, expand.c, owner.c)
 *   plan            what an expansion runs, and what changes between two
 *                   (plan.c, diff.c)
 *   repositories    an HTTP(S) index, sha256 of a file and from a published
 *                   checksum file, versions (index.c, sha256.c, version.c)
 *   fetching        downloads, tar, archives verified and unpacked, bundles
 *                   (repo_get.c, bundle.c): blocking, for child processes,
 *                   the one part that reaches the network and runs programs
 *
 * controller/README.md ("Packages") and packages/README.md describe the
 * formats as package authors and users see them.  Every error fills a
 * struct acre_error whose message names the file and the field at fault
 * ("package.json: tags[2]: ...", "options.redis.port: 70000 is above the
 * maximum 65535").
 */
#ifndef ACRE_CONTROLLER_PACKAGES_H
#define ACRE_CONTROLLER_PACKAGES_H

#include "common/common.h"
#include "controller/apps/apps.h"

/* A package's name: a DNS label of at most 32, leaving room for "-suffix" in its apps' names. */
#define PKG_NAME_MAX	32
#define PKG_VERSION_MAX 64
/* An install's name: a package name's rules, so that "NAME-zk" is still an app name. */
#define PKG_INSTALL_NAME_MAX PKG_NAME_MAX
#define PKG_TEMPLATES_MAX    64
#define PKG_ARTIFACTS_MAX    32
#define PKG_FILE_MAX	     (1024 * 1024) /* package.json, config.json, a template */
#define PKG_ICON_MAX	     (64 * 1024)

/* The label every object an install makes carries: acre.install=NAME. */
#define PKG_LABEL_INSTALL "acre.install"
/* What a secret option's value is shown as. */
#define PKG_SECRET_REDACTED "********"

/* ---- versions (version.c) ---------------------------------------------------------------- */

/*
 * "1.2.3", "7.0.15-2", "1.0-rc.1": one to eight dotted numbers, then an
 * optional "-suffix" of letters, digits, '.' and '-'.
 */
bool pkg_version_valid(const char *v);
/*
 * <0, 0, >0 as a is older, equal, newer than b: numbers compared as
 * numbers, a missing one counting as 0 ("1.2" == "1.2.0"); then, as in
 * semver, a version with a suffix comes before the same one without
 * ("1.0-rc.1" < "1.0"), suffixes compared part by dotted part (numbers as
 * numbers, below words).  Both must be valid.
 */
int pkg_version_compare(const char *a, const char *b);

/* ---- the package (manifest.c, artifacts.c, load.c) --------------------------------------- */

enum pkg_artifact_kind {
	PKG_ARTIFACT_BINARY, /* a host binary a Debian package provides */
	PKG_ARTIFACT_URI,    /* a file fetched, verified against sha256 or sha256_from */
};

struct pkg_artifact {
	enum pkg_artifact_kind kind;
	char *binary;	   /* BINARY: an absolute path ("/usr/bin/redis-server") */
	char *deb;	   /* BINARY: the Debian package that provides it */
	char *uri;	   /* URI: file://, http:// or https:// */
	char sha256[65];   /* URI: 64 lower-case hex digits, or "" with sha256/512_from */
	char *sha256_from; /* URI: the project's published checksum file (http(s)://) */
	char *sha512_from; /* URI: the same, of SHA-512 sums (Spark, Hadoop publish only those) */
	int extract;	   /* URI: 1 unpacked, 0 not, -1 by its name (.tgz, .tar.gz, ...) */
	char *path;	   /* URI: where the tasks find it, read-only (PKG_ARTIFACT_PATH) */
};

/*
 * Where a URI artifact is mounted in its apps' slices when the package
 * names no path: a directory every Debian node has, so that a slice with
 * the read-only host root can be mounted over it (a mount point must exist
 * in the root).  A package with several gives each a path of its own.
 */
#define PKG_ARTIFACT_PATH "/opt"
/* A binary's path fits a constraint: "bin:" and the path, an attribute name. */
#define PKG_BINARY_PATH_MAX (63 - 4)

/* One templates/NAME.json, as read: its file name and its body. */
struct pkg_template {
	char *file; /* "templates/redis.json" */
	json_t *body;
};

struct pkg {
	char name[PKG_NAME_MAX + 1];
	char version[PKG_VERSION_MAX + 1];
	char *description, *maintainer, *licence, *website;
	char min_acre_version[PKG_VERSION_MAX + 1];
	char **tags;	      /* NULL-terminated, never NULL */
	char **upgrades_from; /* versions upgraded in place; NULL-terminated, never NULL */
	char *pre_install, *post_install; /* notes shown to the user; NULL when none */
	struct pkg_artifact *artifacts;
	size_t nartifacts;
	json_t *schema;			/* config.json, checked (schema.c) */
	struct pkg_template *templates; /* in file name order */
	size_t ntemplates;
	char *icon; /* icon.svg's text; NULL when there is none */
};

/*
 * Reads package.json alone (name, version, ...; unknown fields refused).
 * Errors are "package.json: FIELD: why".
 */
int pkg_manifest_parse(const json_t *j, struct pkg *pkg, struct acre_error *err);
/* Artifacts as package.json lists them; errors name "artifacts[i].FIELD". */
int pkg_artifacts_parse(const json_t *j, struct pkg *pkg, struct acre_error *err);
/*
 * The package's artifacts put into one app of its expansion (the rendered
 * template's "app", before it is parsed): each host binary a placement
 * constraint bin:PATH==true, so its instances go only to nodes that have
 * it; each URI artifact an entry of slice.artifacts ({"uri", "sha256" |
 * "sha256_from" | "sha512_from", "extract", "path"}), fetched and verified
 * by the node before the launch.
 */
int pkg_artifacts_apply(const struct pkg *pkg, json_t *app, struct acre_error *err);
/* The host binaries, [{"binary", "deb"}], for the plan; NULL when there are none. */
json_t *pkg_artifacts_binaries(const struct pkg *pkg);
/*
 * Reads and checks a whole package version from its directory:
 * package.json, config.json (optional: no options), templates/NAME.json
 * (at least one), icon.svg (optional; an SVG picture only: no script,
 * event handler, entity or embedded document).  Every template's
 * placeholders and "when" keys must name options of the schema, and no
 * placeholder a secret one.  On error *pkg holds nothing and the message
 * names the file and the field.
 */
int pkg_load(const char *dir, struct pkg *pkg, struct acre_error *err);
void pkg_free(struct pkg *pkg);
/* package.json's fields, the schema and the templates' names, for `pkg show` and the API. */
json_t *pkg_to_json(const struct pkg *pkg);
/* -EPROTO (naming both) when this acre is older than the package's min_acre_version. */
int pkg_check_acre_version(const struct pkg *pkg, const char *acre_version, struct acre_error *err);
/* A DNS label of 1 to PKG_NAME_MAX lower-case letters, digits and '-'. */
bool pkg_name_valid(const char *name);

/* ---- a repository directory (repo_dir.c) ------------------------------------------------- */

/*
 * A repository directory holds one folder per package and, in it, one
 * folder per version: REPO/NAME/VERSION/package.json.
 * {"NAME": ["VERSION", ...]}, versions oldest first; folders that are not
 * a valid name or version are skipped.
 */
int pkg_repo_dir_list(const char *repo, json_t **out, struct acre_error *err);
/* Loads NAME at VERSION, or at its newest version when version is NULL; -ENOENT names what. */
int pkg_repo_dir_load(const char *repo, const char *name, const char *version, struct pkg *pkg,
		      struct acre_error *err);

/* ---- options (schema.c, options.c, options_set.c, redact.c) ------------------------------ */

/*
 * Checks an options schema: an object schema at the top; each schema a
 * JSON object of type (object, string, integer, number, boolean, array),
 * title, description, default, enum, minimum, maximum, pattern (a POSIX
 * extended regular expression, matched anywhere unless anchored),
 * required (object: names of its properties), properties (object), items
 * (array: the schema of each element) and secret.  Defaults and enum
 * values must themselves be valid.  Errors name the schema's path
 * ("config.json: properties.port.maximum: ...").
 */
int pkg_schema_check(const json_t *schema, struct acre_error *err);
/* The schema of options path "a.b" ("options." in front allowed), or NULL. */
const json_t *pkg_schema_find(const json_t *schema, const char *path);

/*
 * The user's options (NULL: none) checked against the schema: unknown
 * options refused, each value of its type and in its bounds, required
 * options present; defaults filled in, objects with defaults inside
 * filled in even when not given.  *out is the whole options object.
 * Every error names the path: "options.redis.port: 70000 is above the
 * maximum 65535".
 */
int pkg_options_check(const json_t *schema, const json_t *options, json_t **out,
		      struct acre_error *err);
/* The defaults alone (`pkg show --config`), never failing on a missing required option. */
json_t *pkg_options_defaults(const json_t *schema);
/*
 * `--set a.b=VALUE` into the user's options object: the value typed by the
 * schema (integer, number, boolean true|false, string as is, an array as
 * comma-separated elements of its items' type); an unknown option, a
 * value not of its type or an object set whole is refused, naming
 * "options.a.b".
 */
int pkg_options_set(const json_t *schema, json_t *options, const char *assignment,
		    struct acre_error *err);
/* A copy of options with the value of every secret option replaced by PKG_SECRET_REDACTED. */
json_t *pkg_options_redact(const json_t *schema, const json_t *options);
/*
 * The secret options that have a value, as {"redis.auth.token": "TEXT"}:
 * each is to reach the install's tasks as the file /run/secrets/PATH (a
 * string as it is, any other value as compact JSON).  A template cannot
 * read a secret option (pkg_template_check refuses it), so a secret never
 * ends up in an app spec, which apps show.
 */
json_t *pkg_options_secrets(const json_t *schema, const json_t *options);

/* ---- templates and expansion (template.c, expand.c, owner.c) ----------------------------- */

/*
 * What a template's placeholders read: {{options.PATH}}, {{install.name}},
 * {{package.name}}, {{package.version}}.
 */
struct pkg_context {
	const char *install;
	const char *package;
	const char *version;
	const json_t *options; /* checked, defaults filled (pkg_options_check) */
};

/*
 * A copy of value with every placeholder substituted.  A string that is
 * exactly one placeholder takes its value's JSON type; a placeholder
 * inside a longer string (or an object's key), or written
 * {{options.x | text}}, is put in as text (numbers in decimal, booleans
 * as true|false; an object or array there is refused).  An unknown placeholder, an option without a
 * value, or "{{" left unclosed is refused, naming file and the JSON path
 * ("templates/redis.json: app.slice.command[2]: unknown placeholder
 * {{options.nope}}").
 */
int pkg_template_render(const json_t *value, const struct pkg_context *ctx, const char *file,
			json_t **out, struct acre_error *err);
/*
 * A template's shape ("when" and one of "app" and "volume"), every
 * placeholder naming something of the schema that is not secret, every
 * key of "when" an option of it and its value of the option's type;
 * checked when a package is loaded.
 */
int pkg_template_check(const struct pkg_template *t, const json_t *schema, struct acre_error *err);

/*
 * An install's expansion: the apps (canonical app specs, app_spec_to_json,
 * each with acre.install=NAME among its labels) in start order, and the
 * volumes ({"name", "size" (bytes), "labels"}) in name order.
 */
struct pkg_expansion {
	json_t *apps;	  /* array */
	json_t *volumes;  /* array */
	json_t *sources;  /* {"NAME": "templates/FILE.json"}: where each object came from */
	json_t *binaries; /* [{"binary", "deb"}] the package's host binaries; NULL: none */
};

/*
 * Expands every template whose "when" holds for ctx->options, checks each
 * app through the apps module's parser (errors prefixed with the template
 * file), then the whole: names unique among apps and among volumes, every
 * dependency an app of the install (app_deps_check), a start order.  Same
 * inputs, same expansion (byte for byte under JSON_SORT_KEYS).
 */
int pkg_expand(const struct pkg *pkg, const struct pkg_context *ctx, struct pkg_expansion *out,
	       struct acre_error *err);
void pkg_expansion_free(struct pkg_expansion *x);

/* An object's labels.acre.install, or NULL. */
const char *pkg_owner(const json_t *object);
/*
 * The objects of an array (apps, slices, volumes: anything with
 * "labels") that install owns, as a new array of references, in order.
 */
json_t *pkg_owned(const json_t *objects, const char *install);

/* ---- plan and diff (plan.c, diff.c) ------------------------------------------------------ */

/*
 * What an expansion runs: {"apps": [{"name", "instances", "placement",
 * "ports", "publish", "vip", "volumes", "artifacts", "dependencies",
 * "start"}], "volumes": [...], "order": ["APP", ...], "spec": {"APP":
 * canonical}, "binaries": [{"binary", "deb"}] (only when there are; the
 * controller adds "nodes", how many of the pool's have it)}.
 */
json_t *pkg_plan(const struct pkg_expansion *x);
/* The plan as lines for a terminal, NULL-terminated (acre_strv_free). */
char **pkg_plan_lines(const json_t *plan);

/*
 * From plan a (what runs) to plan b (what would): {"added": ["APP"],
 * "removed": [...], "changed": [{"name", "fields": ["instances",
 * "slice.command", ...], "replaces": bool}], "volumes_added": [...],
 * "volumes_removed": [...], "volumes_changed": [...]}; replaces says
 * whether the app's instances are replaced (app_spec_json_replaces).
 * Every list in name order.
 */
json_t *pkg_plan_diff(const json_t *a, const json_t *b);
/* Whether a diff changes nothing (`--dry-run` exits 0 then, 2 otherwise). */
bool pkg_diff_empty(const json_t *diff);
char **pkg_diff_lines(const json_t *diff);

/* ---- repositories: index, checksums, upgrades (index.c, sha256.c, version.c) ------------- */

/*
 * An HTTP(S) repository's index:
 * {"packages": [{"name", "description"?, "versions": [{"version",
 * "archive", "sha256"}]}]}, archive an http(s):// or file:// URL or a path
 * relative to the index.  Checked whole; errors name the entry
 * ("packages[1].versions[0].sha256: not 64 hex digits").
 */
int pkg_index_parse(const json_t *j, struct acre_error *err);
/* The entry {"version", "archive", "sha256"} of NAME at VERSION (NULL: newest), or NULL. */
const json_t *pkg_index_find(const json_t *index, const char *name, const char *version);
/* An archive's URL resolved against the index's: absolute as it is, else beside the index. */
char *pkg_index_archive_url(const char *index_url, const char *archive);
/* {"NAME": ["VERSION", ...]} of a checked index, versions oldest first. */
json_t *pkg_index_list(const json_t *index);
/* NAME's description in a checked index, or NULL. */
const char *pkg_index_description(const json_t *index, const char *name);

/* 64 lower-case hex digits of a file's SHA-256 into hex (65 bytes). */
int pkg_sha256_file(const char *path, char hex[65], struct acre_error *err);
/* -EBADMSG when the file's SHA-256 is not expected (either case), naming both. */
int pkg_sha256_verify(const char *path, const char *expected, struct acre_error *err);
bool pkg_sha256_valid(const char *hex);
/*
 * The SHA-256 a project's published checksum file (sha256_from) gives for
 * file (a URL or a path: its last component is looked up): the line
 * "HEX  NAME" or "HEX *NAME" (sha256sum's output) for that name, or a
 * file holding the hex alone.  -ENOENT when it lists none for it.
 */
int pkg_sha256_from_text(const char *text, const char *file, char hex[65], struct acre_error *err);

/*
 * The blocking steps of a repository that is not a directory (repo_get.c),
 * for child processes only: a download to path (http(s):// or file://), tar
 * with args (GNU tar; its last line of stderr in the error), rm -rf, and a
 * package archive (a tar.gz of NAME/VERSION/) verified against sha256 —
 * "package NAME VERSION: checksum mismatch: expected sha256 E, got G"
 * (-EBADMSG) — and unpacked into `into`.
 */
int pkg_get_url(const char *url, const char *path, struct acre_error *err);
int pkg_tar(const char *const *args, struct acre_error *err);
int pkg_remove_tree(const char *path);
int pkg_archive_unpack(const char *tarball, const char *sha256, const char *name,
		       const char *version, const char *into, struct acre_error *err);

/*
 * A bundle (bundle.c): index.json, archives/NAME-VERSION.tar.gz and
 * artifacts/SHA256 in one tar file.  Written by staging a directory
 * (pkg_bundle_stage), adding package versions from the directory that
 * holds NAME/VERSION/ (their URI artifacts downloaded and verified), then
 * packing it; read back by unpacking and verifying every archive against
 * the index and every artifact against its name (a mismatch refused,
 * -EBADMSG, naming both sums).
 */
int pkg_bundle_stage(const char *staging, struct acre_error *err);
int pkg_bundle_add(const char *staging, const char *repo_dir, const struct pkg *pkg,
		   struct acre_error *err);
int pkg_bundle_pack(const char *staging, const char *out, struct acre_error *err);
int pkg_bundle_verify(const char *dir, json_t **index, struct acre_error *err);
int pkg_bundle_unpack(const char *file, const char *into, json_t **index, struct acre_error *err);

/*
 * Whether an install at version `from` may move to package `to` in place:
 * the same version (an options change), or one listed in to's
 * upgrades_from; a downgrade or an unlisted version is refused (-EPERM)
 * with the versions it may come from.
 */
int pkg_upgrade_check(const struct pkg *to, const char *from, struct acre_error *err);

/* ---- the pool's installs (catalog.c, installs.c, install_verbs.c, install_store.c) ------- */

/*
 * Above the pure core: the packages the controller knows (its catalog: the
 * shipped directory and the repositories added), and the installs of the
 * pool, each a set of apps (made through apps_create/apps_update with the
 * install as their owner), kept in the pool's store (table installs) and
 * carried forward at the end of every pass (installs_tick).  Every step is
 * published as an "install" event; secret options are kept in the store
 * and shown redacted everywhere else.
 */
struct pool;
struct installs;

struct event_base;

struct installs_options {
	const char *packages_dir; /* the shipped packages: the repository named "acre" */
	const char *data_dir;	  /* the controller's: repositories' indexes, bundles, cache */
	struct event_base *base;  /* where fetches are watched; NULL: none (only "dir") */
	/* The API as the nodes reach it ("http://H:P"): they fetch bundled artifacts there. */
	const char *api_url;
};

int installs_open(struct pool *p, struct apps *apps, const struct installs_options *o,
		  struct installs **out, struct acre_error *err);
void installs_close(struct installs *s);
/* At the end of every pass, after apps_reconcile: running operations move on. */
void installs_tick(struct installs *s);

/* {"packages": [{"name", "versions", "description", "tags", "repo"}]}; q: a search, or NULL. */
json_t *installs_catalog_json(struct installs *s, const char *q);
/* A package: every version, the one asked for (NULL: newest) in full, its defaults. */
int installs_package_json(struct installs *s, const char *name, const char *version, json_t **out,
			  struct acre_error *err);
/* {"repos": [{"name", "kind", "dir"}]}: "acre" (the shipped one) first. */
json_t *installs_repos_json(struct installs *s);
int installs_repo_add(struct installs *s, const json_t *body, json_t **out, struct acre_error *err);
int installs_repo_remove(struct installs *s, const char *name, struct acre_error *err);
/* An http repository's index fetched again ("dir" and "bundle": nothing to do). */
int installs_repo_refresh(struct installs *s, const char *name, json_t **out,
			  struct acre_error *err);

/*
 * What reads a repository that is not a directory may have to wait for:
 * an index, a package archive or a bundle is fetched by a child process,
 * and the verb that needs it (repo add and refresh, package show,
 * install, upgrade, bundle) answers -EINPROGRESS meanwhile.  fn is
 * called when a fetch ended: ask again, and the verb takes its result
 * (the error of a failed fetch goes to the first that asks).
 */
void installs_on_fetched(struct installs *s, void (*fn)(void *), void *arg);

/*
 * A bundle of {"packages": ["NAME", "NAME@VERSION", ...]} written: *path
 * the file (the caller sends and removes it), or -EINPROGRESS.
 */
int installs_bundle(struct installs *s, const json_t *body, char **path, struct acre_error *err);
/* A bundled URI artifact's file by its SHA-256 (in buf); -ENOENT when no bundle has it. */
int installs_artifact_path(struct installs *s, const char *sha256, char *buf, size_t len);
/*
 * The URI the pool's nodes fetch the file of sha256 from when a bundle has
 * it: api_url (the controller's API as the nodes reach it, "http://H:P")
 * and "/v1/artifacts/SHA256", in buf; NULL when no bundle has it (fetch
 * the artifact's own URI).
 */
const char *installs_artifact_mirror(struct installs *s, const char *sha256, const char *api_url,
				     char *buf, size_t len);

struct install_request {
	const char *name;      /* the install; install: NULL takes the package's name */
	const char *package;   /* install */
	const char *version;   /* install, upgrade: NULL the newest (upgrade: the same) */
	const json_t *options; /* install, upgrade: NULL none (upgrade: those it has) */
	const json_t *set;     /* install, upgrade: ["a.b=VALUE", ...] over options (--set) */
	unsigned revision;     /* rollback: 0 the one before the current */
	bool dry_run;
	bool keep_volumes; /* uninstall */
};

/*
 * The verbs, each answering with {"install"} (and "plan" or "diff" when
 * dry_run).  One operation per install at a time: another is refused
 * (-EBUSY, naming the running one's id).  Errors name the field.
 */
int installs_install(struct installs *s, const struct install_request *r, json_t **reply,
		     struct acre_error *err);
int installs_upgrade(struct installs *s, const struct install_request *r, json_t **reply,
		     struct acre_error *err);
int installs_rollback(struct installs *s, const struct install_request *r, json_t **reply,
		      struct acre_error *err);
int installs_uninstall(struct installs *s, const struct install_request *r, json_t **reply,
		       struct acre_error *err);
json_t *installs_list_json(struct installs *s);
int installs_show(struct installs *s, const char *name, json_t **out, struct acre_error *err);

#endif
