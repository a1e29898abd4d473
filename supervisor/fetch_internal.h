/*
 * What the files of the fetcher share among themselves (fetch.h is what
 * the rest of the supervisor sees).
 *
 * The cache, STATE-DIR/artifacts:
 *
 *   SHA256/blob          the file as fetched, verified
 *   SHA256/tree/         a tar archive's contents (extract true)
 *   SHA256/plain/NAME    the blob under the URI's file name (extract false)
 *   SHA256/meta.json     {"uri", "size", "fetched_at"}
 *   SHA256/used          its mtime: the last launch that mounted it
 *   .tmp-*               a fetch under way, or one a crash cut short
 *
 * An entry appears whole, by rename(2), or not at all.
 */
#ifndef ACRE_SUPERVISOR_FETCH_INTERNAL_H
#define ACRE_SUPERVISOR_FETCH_INTERNAL_H

#include "fetch.h"

#include <openssl/evp.h>

/* The cache's directory: STATE-DIR/artifacts, made absolute at start. */
struct fetcher {
	char dir[4096];
	struct fetch *fetches; /* under way (fetch.c) */
};

/* artifact_cache.c */
/* DIR/SHA256[/leaf]; false when it does not fit. */
bool artifact_path(const struct fetcher *f, const char *sha256, const char *leaf, char *buf,
		   size_t len);
/* What the artifact mounts: DIR/SHA256/tree or DIR/SHA256/plain. */
bool artifact_view(const struct fetcher *f, const struct acre_artifact *a, char *buf, size_t len);
/* Its view is in the cache, complete: a launch needs no fetch. */
bool artifact_ready(const struct fetcher *f, const struct acre_artifact *a);
/* rm -rf of a directory of ours (no symlink followed); 0 or -errno. */
int artifact_remove_tree(const char *path);

/* fetch_child.c: in the forked child; 0, or -errno with why filled. */
int fetch_child_run(const struct fetcher *f, const struct acre_artifact *a, char *why, size_t len);

#endif
