/*
 * Launches made ahead of time (prelaunch.c, --prelaunch N): cgroup sets with
 * acre-init parked in them, taken by new slices with the default namespaces.
 */
#ifndef ACRE_SUPERVISOR_PRELAUNCH_H
#define ACRE_SUPERVISOR_PRELAUNCH_H

#include "supervisor.h"

/* A launch made ahead of time: a cgroup set and acre-init parked in it. */
struct prelaunch_slot {
	struct acre_cgroup *cgroup;
	struct acre_launch launch;
	uint64_t parked_at; /* monotonic ns */
};

int prelaunch_init(struct supervisor *sv, unsigned want, struct acre_error *err);
void prelaunch_free(struct supervisor *sv);
/* A launch has passed the stages that take the kernel's cgroup mutex. */
void prelaunch_launch_under_way(struct supervisor *sv);
/* A ready slot for a spec with the default namespaces; false when there is none. */
bool prelaunch_take(struct supervisor *sv, const struct acre_slice_spec *spec,
		    struct prelaunch_slot *out);
/* What a slice launches with: the prelaunch template, for the slice's cgroup. */
struct acre_launch_park prelaunch_park_for(struct supervisor *sv,
					   const struct acre_slice_spec *spec,
					   const struct acre_cgroup *cg);
/* Ends a parked acre-init (its cgroups stay). */
void prelaunch_discard_launch(struct acre_launch *l);
/* Ends a slot's acre-init and removes its cgroups. */
void prelaunch_release(struct prelaunch_slot *slot);
bool prelaunch_owns_cgroup(struct supervisor *sv, const char *name);
/* A fresh name for a cgroup, a slot's or a slice's: slices are renamed by nobody, cgroups never. */
void prelaunch_cgroup_name(char *buf, size_t len);

#endif
