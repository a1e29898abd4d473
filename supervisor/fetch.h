/*
 * Artifacts of slices: files fetched before a launch into the node's cache,
 * keyed by their SHA-256, and mounted read-only in the slices that name
 * them.
 *
 *   fetch.c           the fetches under way, one child process each, and
 *                     the slices waiting on them
 *   fetch_child.c     what that child does: download (proto's acre_proto_http_get),
 *                     verify, extract, rename
 *   fetch_sums.c      an artifact named by its project's checksum file
 *                     (sha256_from, sha512_from): the file read for its sum
 *   artifact_cache.c  the cache: its layout, what is ready, the mounts of a
 *                     launch, listing and pruning
 */
#ifndef ACRE_SUPERVISOR_FETCH_H
#define ACRE_SUPERVISOR_FETCH_H

#include "supervisor.h"

struct slice;

/* What a launch hands acre-init after the volumes: a read-only tree per artifact. */
struct artifact_handles {
	int fds[ACRE_ARTIFACTS_MAX];
	const char *paths[ACRE_ARTIFACTS_MAX];
	size_t n;
};

/* STATE-DIR/artifacts made, and what an earlier run left half-written there removed. */
int fetch_init(struct supervisor *sv, struct acre_error *err);
/* Ends the fetches under way (their slices stay pending; a restart finds them lost). */
void fetch_free(struct supervisor *sv);
/*
 * 0: every artifact of the slice is in the cache, launch it now.  1: some
 * are being fetched; the slice waits (s->fetching) and is launched, or
 * failed with launch_failed: artifact URI: WHY, once they are.
 */
int fetch_artifacts(struct slice *s, struct acre_error *err);
/*
 * A slice recovered while it waited for its artifacts: the fetch begins
 * again once the event loop runs (the node's network and egress are set up
 * after recovery), unless the slice went or launched meanwhile.
 */
void fetch_resume_later(struct supervisor *sv, const char *name);
/* A kill of a slice waiting for its artifacts: it ends (killed) without a run. */
void fetch_cancel(struct slice *s);

/* The slice's artifacts as read-only trees, each marked used now; h's fds are the caller's. */
int artifacts_open(struct supervisor *sv, const struct acre_slice_spec *spec,
		   struct artifact_handles *h, struct acre_error *err);
void artifact_handles_close(struct artifact_handles *h);
/* [{"sha256", "size", "last_used", "uris": [...], "slices": [...]}] */
json_t *artifacts_list(struct supervisor *sv);
/* Removes every cached artifact that no slice of the node names; *removed lists their sums. */
int artifacts_prune(struct supervisor *sv, json_t **removed, struct acre_error *err);

#endif
