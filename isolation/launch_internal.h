/*
 * Shared inside isolation/ between the supervisor's half of a launch and
 * acre-init's: the message that carries a claim, and the steps acre-init
 * takes to build the slice (mount.c, caps.c, setup.c) and start the task (exec.c).  acre-init is
 * linked statically from these files; they use no library but libcap.
 */
#ifndef ACRE_LAUNCH_INTERNAL_H
#define ACRE_LAUNCH_INTERNAL_H

#include "isolation.h"

/* The fds acre-init starts with, and those the task finds. */
enum { INIT_CHANNEL_FD = 3, INIT_EXIT_FD = 4 };

#define LAUNCH_MESSAGE_MAX (192 * 1024)
/* The fds that come with it: the slice's stdin, stdout, stderr and exit record. */
#define LAUNCH_MESSAGE_FDS 4

/* A cgroup hierarchy as the slice mounts it under /sys/fs/cgroup. */
struct cgroup_mount {
	char dir[64];	   /* "memory", "cpu,cpuacct", "unified" */
	char type[16];	   /* "cgroup" or "cgroup2" */
	char options[128]; /* v1: the controllers */
};

struct mount_plan {
	const char *rootfs;
	bool readonly;
	bool cgroup_v2_only; /* cgroup2 straight on /sys/fs/cgroup */
	struct cgroup_mount cgroups[16];
	size_t ncgroups;
	const char *hide_paths[8];
	const char *resolv_conf; /* bound read-only on /etc/resolv.conf, or NULL */
	const char *rw_layer;	 /* upper/ and work/ of an overlay over rootfs, or NULL */
	/* Volumes: detached mount trees (fds that came with the claim) and where they go. */
	const char *volume_paths[ACRE_VOLUMES_MAX + ACRE_ARTIFACTS_MAX]; /* artifacts after */
	int volume_fds[ACRE_VOLUMES_MAX + ACRE_ARTIFACTS_MAX];
	size_t nvolumes;
	/*
	 * Secrets: "NAME\0VALUE\0" pairs read from the memfd that came with
	 * the claim, written to a tmpfs on /run/secrets owned by the task's user.
	 */
	char *secrets;
	size_t secrets_len, nsecrets;
	uid_t secrets_uid;
	gid_t secrets_gid;
};

/* What acre-init learns from a claim. */
struct launch_message {
	char name[ACRE_NAME_MAX + 1];
	unsigned namespaces;
	struct mount_plan mounts;
	uint64_t rootfs_dev, rootfs_ino; /* the root the supervisor saw, to catch a stale view */
	char *cwd;
	struct acre_user user;
	uint64_t capabilities;
	bool unprivileged_ports; /* ip_unprivileged_port_start=0 in its own netns */
	char **argv, **envp;
	bool hold;
	void *seccomp;	    /* a BPF program, or NULL */
	size_t seccomp_len; /* bytes */
	int stdio[3];
	int exit_fd;
};

int launch_message_send(int chan, const struct acre_launch_park *p,
			const struct acre_launch_config *cfg, struct acre_error *err);
/*
 * The entries of a claim (NUL-separated KEY=VALUE, buf[n] == '\0'), decoded
 * in place: m's strings point into buf; m->argv and m->envp are allocated.
 */
int launch_message_decode(char *buf, size_t n, struct launch_message *m, struct acre_error *err);
/* acre-init's side: blocks for the claim; ECANCELED when the supervisor let the slot go. */
int launch_message_receive(int chan, struct launch_message *m, struct acre_error *err);

/* The cgroup hierarchies a slice of this system sees. */
size_t cgroup_mounts(const struct acre_cgroup_system *sys, struct cgroup_mount *out, size_t max,
		     bool *v2_only);

int mount_setup(struct mount_plan *p, struct acre_error *err);

int caps_drop_bounding(uint64_t keep);
int caps_switch_user(const struct acre_user *u);
int caps_apply(uint64_t keep);

/*
 * exec.c: execvpe(3) in the task's own PATH (envp's), not acre-init's.  The
 * argv for a script without "#!" is made before vfork: exec_task, run in the
 * vfork child, allocates nothing.  exec_task returns only on failure, -errno.
 */
char **exec_script_argv(char *const argv[]);
int exec_task(char *const argv[], char *const envp[], char **script_argv);

/* slice_setup.c: everything acre-init does between a claim and starting the task. */
int slice_setup(struct launch_message *m, int chan, struct acre_error *err);

#endif
