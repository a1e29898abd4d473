/*
 * Persistent volumes of the node (volume.c): made at the first slice that
 * names one, mounted for it, kept when slices end or go, listed and removed
 * by name.
 */
#ifndef ACRE_SUPERVISOR_VOLUME_H
#define ACRE_SUPERVISOR_VOLUME_H

#include "supervisor.h"

struct slice;

/* What a launch hands acre-init: a detached mount tree per volume, and where it goes. */
struct volume_handles {
	int fds[ACRE_VOLUMES_MAX];
	const char *paths[ACRE_VOLUMES_MAX];
	size_t n;
};

/*
 * The slice's volumes, each made (owned by its user) or found, mounted, and
 * not used by another running slice; h's fds are the caller's to close.
 */
int volumes_open(struct supervisor *sv, const struct slice *s, struct volume_handles *h,
		 struct acre_error *err);
void volume_handles_close(struct volume_handles *h);
/* [{"name", "size", "used", "mounted", "slices": [...]}] */
json_t *volumes_list(struct supervisor *sv);
/* Its image and mount go: -EBUSY while a slice names it, -ENOENT when there is none. */
int volume_remove(struct supervisor *sv, const char *name, struct acre_error *err);
/*
 * The filesystem where volume images go (STATE-DIR/volumes, or the state
 * directory before the first volume): its size and the bytes free to make
 * images with (statvfs's f_bavail, what df says is available).
 */
int volumes_disk(struct supervisor *sv, uint64_t *total, uint64_t *free_bytes);
/* A clean stop with no slice left: every volume unmounted (the images stay). */
void volumes_unmount_all(struct supervisor *sv);

#endif
