/*
 * What the files of controller/packages/ share and no other module needs:
 * strict readers of JSON (unknown keys refused by name, strings and string
 * lists) and the dotted path walk over options objects.
 */
#ifndef ACRE_CONTROLLER_PACKAGES_INTERNAL_H
#define ACRE_CONTROLLER_PACKAGES_INTERNAL_H

#include "controller/packages/packages.h"

/* Refuses any key of obj not in allowed (NULL-terminated), as "WHERE: PREFIXKEY: unknown field". */
int pkg_check_keys(const json_t *obj, const char *where, const char *prefix,
		   const char *const *allowed, struct acre_error *err);
/* A string field that may be absent (*out NULL) or must be a string; errors "WHERE: FIELD: ...". */
int pkg_read_string(const json_t *obj, const char *key, bool required, const char *where,
		    char **out, struct acre_error *err);
/* An array of strings (absent: empty), NULL-terminated. */
int pkg_read_strv(const json_t *obj, const char *key, const char *where, char ***out,
		  struct acre_error *err);
/* The value at dotted path "a.b" in an options object, or NULL. */
const json_t *pkg_options_get(const json_t *options, const char *path);
/* The JSON type name a schema speaks of for v ("integer", "string", ...). */
const char *pkg_json_type_name(const json_t *v);

/* options.c: v checked against schema (its type, bounds, enum, pattern; objects whole). */
int pkg_value_check(const json_t *schema, const json_t *v, const char *path, json_t **out,
		    struct acre_error *err);
bool pkg_type_matches(const char *type, const json_t *v);
/* artifacts.c */
void pkg_artifacts_free(struct pkg *pkg);
/* A URI artifact as a slice spec's artifact: {"uri", "sha256" | "sha256_from" | "sha512_from",
 * "path", "extract"?}; what `pkg show` lists too. */
json_t *pkg_artifact_uri_json(const struct pkg_artifact *a);
/* schema.c: the schema node under an options path (dotted, "options." not in front). */
const json_t *pkg_schema_at(const json_t *schema, const char *path);

#endif
