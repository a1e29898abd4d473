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
 *   from-KEY -> SHA256   a symlink: the entry an artifact named by its
 *                        checksum file (sha256_from, sha512_from) was
 *                        verified to be; KEY the SHA-256 of its URI, the
 *                        checksum file's URL and the sum's kind
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

/* What a fetch and an alias go by: the pinned SHA-256, or "from-KEY". */
#define FETCH_KEY_LEN (5 + ACRE_SHA256_HEX_LEN)

/* artifact_cache.c */
void artifact_key(const struct acre_artifact *a, char key[FETCH_KEY_LEN + 1]);
/* Its SHA-256: pinned, or the one its from-KEY alias names; false when not known yet. */
bool artifact_sum(const struct fetcher *f, const struct acre_artifact *a,
		  char sum[ACRE_SHA256_HEX_LEN + 1]);
/* from-KEY -> sum, replaced whole (rename); 0 or -errno. */
int artifact_alias_write(const struct fetcher *f, const struct acre_artifact *a, const char *sum);
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
/* A file:// or http(s) URI into fd, each byte through md; 0, or -errno with why. */
int fetch_get(const char *uri, int fd, EVP_MD_CTX *md, uint64_t *size, char *why, size_t len);

/* fetch_sums.c: in the child. */
/* The sum a's checksum file gives for its file name (want: 64 or 128 hex digits + 1). */
int fetch_published_sum(const struct acre_artifact *a, const char *dir, char *want, char *why,
			size_t len);
/* The hex digest (type: EVP_sha256(), EVP_sha512()) of a file; 0 or -errno. */
int fetch_file_digest(const char *path, const EVP_MD *type, char *hex);

#endif
