/*
 * Writable host roots (rwroot.c): each slice that shares the host root
 * writable (--rw without --rootfs) has a layer of its own under
 * --state-dir/rwroot/<name>, made with the slice, removed with it, and swept
 * at start when it belongs to no slice.
 */
#ifndef ACRE_SUPERVISOR_RWROOT_H
#define ACRE_SUPERVISOR_RWROOT_H

#include "supervisor.h"

/* The layer's absolute path; false when the state directory cannot be resolved. */
bool rwroot_path(struct supervisor *sv, const char *name, char *buf, size_t len);
/* Makes the slice's layer if its spec asks for a writable host root; 0 otherwise. */
int rwroot_prepare(struct supervisor *sv, const struct acre_slice_spec *spec,
		   struct acre_error *err);
/*
 * The layer a run of the slice writes to, into buf: the one it has (a
 * restarted task finds what it wrote, as in Docker), or a new one if it has
 * none any more (its tmpfs went with a reboot of the node).
 */
int rwroot_ensure(struct supervisor *sv, const struct acre_slice_spec *spec, char *buf, size_t len,
		  struct acre_error *err);
/* Removes the slice's layer, if any; failures are logged. */
void rwroot_release(struct supervisor *sv, const char *name);
/* Removes the layers of slices that no longer exist (after a crash, say). */
void rwroot_sweep(struct supervisor *sv);

#endif
