/*
 * The steps of the launch child, each in the file of its concern
 * (caps.c, mount.c); shared inside isolation/ only.
 */
#ifndef ACRE_LAUNCH_INTERNAL_H
#define ACRE_LAUNCH_INTERNAL_H

#include "isolation.h"

struct mount_plan {
	const char *rootfs;
	bool readonly;
	const struct acre_cgroup_system *cgroups;
	const char *const *hide_paths;
};

int mount_setup(const struct mount_plan *p, struct acre_error *err);

int caps_drop_bounding(uint64_t keep);
int caps_switch_user(const struct acre_user *u);
int caps_apply(uint64_t keep);

#endif
