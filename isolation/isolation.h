/*
 * libacre-isolation: the kernel-facing verbs that carve a slice out of a
 * node — cgroups (v1, hybrid and v2, found through libcgroup), namespaces,
 * the slice's root and its mounts, the seccomp filter (libseccomp),
 * capabilities (libcap), users, and the launch path that puts them together
 * and execs acre-init.  Policy (which limits, when to retry) lives in the
 * supervisor; these functions do one thing each and undo it on failure.
 */
#ifndef ACRE_ISOLATION_H
#define ACRE_ISOLATION_H

#include "common/common.h"
#include <sys/types.h>

/* ---- cgroups -------------------------------------------------------------- */

enum acre_cgroup_mode { ACRE_CGROUP_V1, ACRE_CGROUP_HYBRID, ACRE_CGROUP_V2 };

/* The controllers acre limits and reads, each in whichever hierarchy holds it. */
enum acre_cgroup_controller {
	ACRE_CG_CPU,
	ACRE_CG_CPUACCT,
	ACRE_CG_MEMORY,
	ACRE_CG_PIDS,
	ACRE_CG_UNIFIED, /* the v2 tree itself: eBPF attach point, cgroup ids */
	ACRE_CG_COUNT,
};

struct acre_cgroup_system;
struct acre_cgroup;

/*
 * Finds the hierarchies (libcgroup) and creates the supervisor's subtree
 * `root` in each, enabling the v2 controllers it needs on the way down.
 */
int acre_cgroup_system_open(const char *root, struct acre_cgroup_system **out,
			    struct acre_error *err);
void acre_cgroup_system_free(struct acre_cgroup_system *sys);
enum acre_cgroup_mode acre_cgroup_system_mode(const struct acre_cgroup_system *sys);
const char *acre_cgroup_mode_name(enum acre_cgroup_mode mode);
/* Absolute path of the subtree in the v2 tree (NULL on pure v1): where eBPF attaches. */
const char *acre_cgroup_system_v2_path(const struct acre_cgroup_system *sys);
/* Names of the slices' cgroups found under the subtree in any hierarchy. */
int acre_cgroup_system_list(const struct acre_cgroup_system *sys, char ***names);
/* Removes the subtree itself when it holds no slice (a clean shutdown of tests). */
int acre_cgroup_system_remove_root(const struct acre_cgroup_system *sys);

/* Creates acre/<name> in every hierarchy; EEXIST if any already exists. */
int acre_cgroup_create(struct acre_cgroup_system *sys, const char *name, struct acre_cgroup **out,
		       struct acre_error *err);
/* Opens the existing cgroups of a slice (after a supervisor restart). */
int acre_cgroup_open(struct acre_cgroup_system *sys, const char *name, struct acre_cgroup **out,
		     struct acre_error *err);
/*
 * The subtree itself, to read its stats: every slice's usage, the ended ones'
 * CPU time included (the kernel keeps it in the parent).  Never to remove.
 */
int acre_cgroup_open_subtree(struct acre_cgroup_system *sys, struct acre_cgroup **out,
			     struct acre_error *err);
void acre_cgroup_free(struct acre_cgroup *cg);
const char *acre_cgroup_name(const struct acre_cgroup *cg);

int acre_cgroup_set_limits(struct acre_cgroup *cg, const struct acre_slice_resources *res,
			   struct acre_error *err);
/* Directory fd of the v2 cgroup for CLONE_INTO_CGROUP, or -1 on pure v1. */
int acre_cgroup_v2_fd(const struct acre_cgroup *cg);
/* The v2 cgroup's id (its inode), the key of the eBPF maps; 0 without v2. */
uint64_t acre_cgroup_id(const struct acre_cgroup *cg);
/* Child side of a launch: moves the calling process into the v1 hierarchies. */
int acre_cgroup_enter_v1(const struct acre_cgroup *cg);
/* SIGKILLs every process in the slice's cgroups; returns how many were signalled. */
int acre_cgroup_kill_all(struct acre_cgroup *cg);
bool acre_cgroup_is_empty(struct acre_cgroup *cg);
/* Removes the cgroups; -EBUSY while processes remain. */
int acre_cgroup_remove(struct acre_cgroup *cg, struct acre_error *err);

#define ACRE_STAT_NONE UINT64_MAX
/* Usage only: the limits are the spec's, which the caller has. */
struct acre_cgroup_stats {
	uint64_t cpu_usage_ns;
	uint64_t cpu_throttled_ns;
	uint64_t cpu_nr_throttled;
	uint64_t memory_current;
	uint64_t memory_peak; /* ACRE_STAT_NONE where the kernel keeps no peak */
	uint64_t oom_kills;
	uint64_t pids_current;
};
int acre_cgroup_read_stats(struct acre_cgroup *cg, struct acre_cgroup_stats *st);
/* OOM kills counted in the slice's memory cgroup so far. */
uint64_t acre_cgroup_oom_kills(struct acre_cgroup *cg);
/*
 * Memory by kind, from memory.stat: anonymous and file-backed pages (v1's
 * total_rss and total_cache), kernel memory (v2's kernel, v1's
 * memory.kmem.usage_in_bytes) and slab (v2 only); ACRE_STAT_NONE for a
 * kind this kernel does not keep.  Apart from acre_cgroup_read_stats, which
 * `slice stat` calls for every slice, because memory.stat costs more to
 * make than the other files together.
 */
struct acre_cgroup_memory_kinds {
	uint64_t anon, file, kernel, slab;
};
int acre_cgroup_read_memory_kinds(struct acre_cgroup *cg, struct acre_cgroup_memory_kinds *mk);

/* ---- seccomp --------------------------------------------------------------- */

/* A compiled filter, built once and loaded by every launch that uses it. */
struct acre_seccomp_filter;
int acre_seccomp_compile_default(struct acre_seccomp_filter **out, struct acre_error *err);
/* A profile in the OCI / Docker seccomp JSON format. */
int acre_seccomp_compile_profile(const json_t *profile, struct acre_seccomp_filter **out,
				 struct acre_error *err);
void acre_seccomp_filter_free(struct acre_seccomp_filter *f);
/* The compiled program: what acre-init hands to seccomp(2). */
const void *acre_seccomp_program(const struct acre_seccomp_filter *f, size_t *len);

/* ---- users ------------------------------------------------------------------- */

struct acre_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	size_t ngroups;
	char home[256];
};
/* Resolves "name", "uid", "name:group" or "uid:gid" in the slice root's /etc files. */
int acre_user_resolve(const char *rootfs, const char *spec_user, struct acre_user *out,
		      struct acre_error *err);

/* ---- writable host root ------------------------------------------------------------ */

/*
 * The layer that takes a slice's writes when it shares the host root
 * writable: a tmpfs of `size` bytes (0: the kernel's default, half the
 * memory) mounted on `dir`, holding upper/ and work/ for the overlay
 * acre-init builds.  A tmpfs because the overlay cannot take an upper on the
 * host root's own filesystem (the kernel refuses layers that overlap) and
 * because a slice's writes then never reach the host's disk: they are
 * bounded by `size` and charged to the memory cgroup of whoever writes them.
 * An existing `dir` is reused after whatever was mounted on it is let go.
 */
int acre_rwroot_create(const char *dir, uint64_t size, struct acre_error *err);
/* Unmounts the layer (the slice's writes go with it) and removes `dir`; 0 if absent. */
int acre_rwroot_remove(const char *dir, struct acre_error *err);

/* ---- acre-init ----------------------------------------------------------------- */

/*
 * An O_PATH fd of acre-init on a private read-only mount (or, failing that,
 * a sealed memfd copy): what a slice's PID 1 is executed from, so that
 * /proc/1/exe inside a slice can never be opened for writing.
 */
int acre_init_exe_open(const char *path, int *fd, struct acre_error *err);

/* ---- launch --------------------------------------------------------------------- */

/*
 * A launch has two halves.  The first (acre_launch_park) clones the slice's
 * first process into new namespaces and its cgroups and execs acre-init,
 * which then waits: joining v1 cgroups costs a whole RCU grace period and
 * new namespaces cost a netns, both of which can be paid ahead of time.  The
 * second (acre_launch_claim) hands acre-init the spec; acre-init builds the
 * slice's root, drops privileges, loads the seccomp filter and starts the
 * task.  acre_launch_start does both at once.
 */
struct acre_launch_park {
	struct acre_cgroup_system *cgroups;
	const struct acre_cgroup *cgroup;
	unsigned namespaces; /* what claims must ask for, exactly */
	int init_exe_fd;
	/* Host paths hidden behind an empty tmpfs when the slice sees the host root. */
	const char *const *hide_paths;
	/*
	 * Wait for acre_launch_park_attach() before joining the v1 cgroups, so
	 * that a batch of parked launches joins together and waits out one RCU
	 * grace period, not one each.
	 */
	bool hold_attach;
};

struct acre_launch_config {
	const struct acre_slice_spec *spec;
	const struct acre_seccomp_filter *seccomp; /* NULL: unconfined */
	const struct acre_user *user;
	char *const *envp;
	int stdio[3];
	int exit_fd; /* where acre-init records how the task ended */
	/* acre-init waits for acre_launch_release() before starting the task. */
	bool hold;
	/* A host file bind-mounted read-only on the slice's /etc/resolv.conf; NULL: none. */
	const char *resolv_conf;
	/*
	 * A writable host root: the directory (acre_rwroot_create's) whose
	 * upper/ and work/ take the slice's writes over the host's / as the
	 * lower layer of an overlay; NULL: the root as the spec says.
	 */
	const char *rw_layer;
	/* Ports below 1024 open to any user in the slice's own network namespace. */
	bool unprivileged_ports;
	/*
	 * Volumes: detached mount trees (open_tree(OPEN_TREE_CLONE) fds, still the
	 * caller's) that acre-init attaches at these paths of the slice's root;
	 * an fd, unlike a path, reaches a launch parked before the volume was mounted.
	 */
	const int *volume_fds;
	const char *const *volume_paths;
	size_t nvolumes;
};

struct acre_launch {
	pid_t pid; /* acre-init, in the caller's pid namespace */
	int pidfd;
	int status_fd; /* messages from the launch child and acre-init */
};

int acre_launch_park(const struct acre_launch_park *p, struct acre_launch *out,
		     struct acre_error *err);
int acre_launch_park_attach(const struct acre_launch *parked);
/* -EMSGSIZE when the spec is too large to hand over in one message. */
int acre_launch_claim(const struct acre_launch_park *p, const struct acre_launch *parked,
		      const struct acre_launch_config *cfg, struct acre_error *err);
/* Park and claim in one go, for the slice's own cgroup. */
int acre_launch_start(const struct acre_launch_park *p, const struct acre_launch_config *cfg,
		      struct acre_launch *out, struct acre_error *err);
/* Lets a held acre-init start the task (after the caller set up its network, say). */
int acre_launch_release(const struct acre_launch *l);

enum acre_launch_event {
	ACRE_LAUNCH_AGAIN,   /* nothing to read yet */
	ACRE_LAUNCH_STARTED, /* the task is running: task_pid is set */
	ACRE_LAUNCH_FAILED,  /* the reason is in err */
	ACRE_LAUNCH_CLOSED,  /* the channel closed (the slice's init is gone or done talking) */
};
enum acre_launch_event acre_launch_read_event(int status_fd, pid_t *task_pid,
					      struct acre_error *err);

/* ---- joining a running slice (join.c) ------------------------------------------- */

struct acre_join {
	int pidfd;			  /* the slice's acre-init */
	unsigned namespaces;		  /* of its namespaces, those to enter (acre_namespace) */
	const struct acre_cgroup *cgroup; /* NULL: stay in the caller's */
	const struct acre_user *user;	  /* NULL: stay root */
	uint64_t capabilities;		  /* kept; every other one is dropped */
	const struct acre_seccomp_filter *seccomp; /* NULL: none */
	int out_fd;				   /* its stdout and stderr; stdin is /dev/null */
	uint64_t timeout_ms; /* past it, its process group is killed and it exits 124 */
};

/*
 * Starts a process inside a running slice that runs fn(ud) there and exits
 * with fn's return value (124 past the timeout, 125 when it could not join,
 * with the reason on out_fd).  The caller reaps it through *pidfd.
 */
int acre_join_spawn(const struct acre_join *j, int (*fn)(void *ud), void *ud, pid_t *pid,
		    int *pidfd, struct acre_error *err);

/* Start time of a process in clock ticks since boot (/proc/PID/stat), 0 if gone. */
uint64_t acre_process_start_time(pid_t pid);

/* ---- persistent volumes (volume.c) ---------------------------------------------------- */

/*
 * The volume whose filesystem is the image file (ext4, size bytes, its root
 * owned by uid:gid when it is made here; *made says so), mounted on mnt when
 * it is not already.  -EEXIST (nothing changed) when the image exists with
 * another size.
 */
int acre_volume_ensure(const char *image, const char *mnt, uint64_t size, uid_t uid, gid_t gid,
		       bool *made, struct acre_error *err);
/* A detached copy of the volume's mount, for acre_launch_config.volume_fds; fd or -errno. */
int acre_volume_tree(const char *mnt, struct acre_error *err);
/*
 * A detached read-only bind of a directory (nosuid, nodev), for
 * acre_launch_config.volume_fds: how an artifact of the node's cache is
 * shared with slices that cannot change it.  fd or -errno.
 */
int acre_readonly_tree(const char *dir, struct acre_error *err);
/* Unmounts it (lazily: slices that use it keep it); its loop device goes with the last mount. */
int acre_volume_unmount(const char *mnt, struct acre_error *err);
bool acre_volume_mounted(const char *mnt);
/* 0 when path is a directory of rootfs (symlinks resolved inside it), else -errno. */
int acre_root_dir_exists(const char *rootfs, const char *path);

#endif
