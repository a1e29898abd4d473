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

/* The files stat reads, kept open: a read is then one pread(2), not three syscalls. */
enum cg_stat_file {
	CG_STAT_CPU,	     /* cpu.stat */
	CG_STAT_CPUACCT,     /* v1 cpuacct.usage */
	CG_STAT_MEM_CURRENT, /* memory.current | memory.usage_in_bytes */
	CG_STAT_MEM_PEAK,    /* memory.peak | memory.max_usage_in_bytes */
	CG_STAT_MEM_EVENTS,  /* memory.events | memory.oom_control */
	CG_STAT_PIDS,	     /* pids.current */
	CG_STAT_MEM_STAT,    /* memory.stat */
	CG_STAT_MEM_KMEM,    /* v1 memory.kmem.usage_in_bytes */
	CG_STAT_COUNT,
};

struct acre_cgroup {
	struct acre_cgroup_system *sys;
	char name[ACRE_NAME_MAX + 1];
	uint64_t id;
	int stat_fd[CG_STAT_COUNT]; /* -1 until first read */
};

#endif
