/*
 * Shared between the cgroup files of isolation/ (and the mount code, which
 * mounts the slice's own view of the hierarchies): not part of the module's
 * public header.
 */
#ifndef ACRE_CGROUP_INTERNAL_H
#define ACRE_CGROUP_INTERNAL_H

#include "isolation.h"
#include <limits.h>

struct cg_hierarchy {
	char mount[PATH_MAX];
	char options[128]; /* v1: the co-mounted controllers, "cpu,cpuacct" */
	bool v2;
	unsigned controllers; /* bits of enum acre_cgroup_controller that acre uses here */
	int root_fd;	      /* the supervisor's subtree in this hierarchy, -1 if unused */
};

struct acre_cgroup_system {
	enum acre_cgroup_mode mode;
	char root[256];
	struct cg_hierarchy h[16];
	size_t nh;
	int hier_of[ACRE_CG_COUNT]; /* index into h, -1 when absent */
	char v2_path[PATH_MAX + 256];
};

struct acre_cgroup {
	struct acre_cgroup_system *sys;
	char name[ACRE_NAME_MAX + 1];
	uint64_t id;
};

#endif
