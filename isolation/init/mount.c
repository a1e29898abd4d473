/*
 * The slice's filesystem, built in the launch child's private mount
 * namespace: a detached copy of the root (read-only unless asked; an
 * overlay with a layer of the slice's own over a shared host root), its own
 * /proc, a minimal /dev, private tmpfs on /tmp and /run (and on
 * /run/secrets, the slice's secrets), /sys read-only with
 * only the slice's own cgroups under /sys/fs/cgroup, and the /proc and /sys
 * paths Docker masks hidden or made read-only.  Then pivot_root into it and
 * let go of the host's tree.
 */
#include "isolation/launch_internal.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>

#define STAGING "/run/.acre-root"

/* Files hidden behind /dev/null, directories behind an empty read-only tmpfs. */
static const char *const masked_paths[] = {
	"proc/kcore",
	"proc/keys",
	"proc/timer_list",
	"proc/timer_stats",
	"proc/sched_debug",
	"proc/latency_stats",
	"proc/acpi",
	"proc/asound",
	"proc/scsi",
	"sys/firmware",
	"sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus", "proc/fs",
};

static const struct {
	const char *name;
	unsigned major, minor;
} devices[] = {
	{"null", 1, 3},	  {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
	const char *target, *name;
} dev_links[] = {
	{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
};

static int fail(struct acre_error *err, const char *what, const char *path)
{
	return acre_error_set(err, errno, NULL, "%s %s: %s", what, path, strerror(errno));
}

static int mount_fs(const char *type, const char *target, unsigned long flags, const char *data,
		    struct acre_error *err)
{
	if (mount(type, target, type, flags, data) < 0)
		return acre_error_set(err, errno, NULL, "mounting %s on /%s: %s", type, target,
				      strerror(errno));
	return 0;
}

static int set_tree_attrs(int fd, const char *path, bool recursive, uint64_t set,
			  struct acre_error *err)
{
	struct mount_attr attr = {.attr_set = set, .propagation = MS_PRIVATE};
	unsigned flags = (fd >= 0 && !*path ? AT_EMPTY_PATH : 0) | (recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(fd, path, flags, &attr, sizeof(attr)) < 0)
		return fail(err, "setting mount attributes of", *path ? path : "the root");
	return 0;
}

static int overlay_option(int fs, const char *key, const char *value, struct acre_error *err)
{
	if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
		return acre_error_set(err, errno, NULL, "overlay %s=%s: %s", key, value,
				      strerror(errno));
	return 0;
}

/*
 * A writable root over a shared one: an overlay, detached, with the root as
 * its only lower layer and the slice's own layer taking every write, so the
 * host's files never change.  The lower layer is the root's filesystem
 * alone, without the mounts below it (the kernel takes one mount per
 * layer): /proc, /dev, /sys, /tmp and /run are the slice's own anyway, and
 * the host's other mounts stay out of such a slice.
 */
static int overlay_root(const struct mount_plan *p, struct acre_error *err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return fail(err, "opening an overlay for", p->rootfs);
	char upper[PATH_MAX], work[PATH_MAX];
	snprintf(upper, sizeof(upper), "%s/upper", p->rw_layer);
	snprintf(work, sizeof(work), "%s/work", p->rw_layer);
	int rc = overlay_option(fs, "lowerdir", p->rootfs, err);
	if (rc == 0)
		rc = overlay_option(fs, "upperdir", upper, err);
	if (rc == 0)
		rc = overlay_option(fs, "workdir", work, err);
	if (rc < 0)
		return rc;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fail(err, "creating the overlay over", p->rootfs);
	int tree = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (tree < 0)
		return fail(err, "mounting the overlay over", p->rootfs);
	return tree;
}

/* A detached copy of the root; mountpoints it lacks are made while it is writable. */
static int clone_root(const struct mount_plan *p, struct acre_error *err)
{
	_cleanup_close_ int tree =
		p->rw_layer ? overlay_root(p, err)
			    : open_tree(AT_FDCWD, p->rootfs,
					OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC);
	if (tree < 0 && p->rw_layer)
		return tree;
	if (tree < 0)
		return fail(err, "cloning the root", p->rootfs);
	static const char *const mountpoints[] = {"proc", "dev", "sys", "tmp", "run"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(mountpoints); i++) {
		if (mkdirat(tree, mountpoints[i], 0755) < 0 && errno != EEXIST)
			return acre_error_set(err, errno, NULL, "rootfs %s has no /%s: %s",
					      p->rootfs, mountpoints[i], strerror(errno));
	}
	uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	if (p->readonly)
		attrs |= MOUNT_ATTR_RDONLY;
	int rc = set_tree_attrs(tree, "", true, attrs, err);
	if (rc < 0)
		return rc;
	/* Attach it under a private tmpfs (this namespace's /run) to pivot into it. */
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=700") < 0)
		return fail(err, "mounting the staging tmpfs on", "/run");
	if (mkdir(STAGING, 0700) < 0)
		return fail(err, "creating", STAGING);
	if (move_mount(tree, "", AT_FDCWD, STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return fail(err, "attaching the root at", STAGING);
	if (chdir(STAGING) < 0)
		return fail(err, "entering", STAGING);
	/*
	 * The host's own /proc, /dev, /sys, /tmp and /run came along in the
	 * copy; let go of them (and everything mounted below) before mounting
	 * the slice's, so not even a shadowed mount of the host's remains.
	 */
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(mountpoints); i++) {
		while (umount2(mountpoints[i], MNT_DETACH) == 0)
			; /* stacked mounts go one by one */
		if (errno != EINVAL && errno != ENOENT)
			return fail(err, "detaching the host's", mountpoints[i]);
	}
	return 0;
}

static int setup_dev(struct acre_error *err)
{
	int rc = mount_fs("tmpfs", "dev", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
			  "mode=755,size=65536k", err);
	if (rc < 0)
		return rc;
	_cleanup_close_ int dev = open("dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dev < 0)
		return fail(err, "opening", "/dev");
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(devices); i++) {
		if (mknodat(dev, devices[i].name, S_IFCHR | 0666,
			    makedev(devices[i].major, devices[i].minor)) < 0)
			return fail(err, "creating device", devices[i].name);
	}
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(dev_links); i++)
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0)
			return fail(err, "creating link", dev_links[i].name);
	if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0)
		return fail(err, "creating", "/dev/pts and /dev/shm");
	if ((rc = mount_fs("devpts", "dev/pts", MS_NOSUID | MS_NOEXEC,
			   "newinstance,ptmxmode=0666,mode=0620,gid=5", err)) < 0)
		return rc;
	return mount_fs("tmpfs", "dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			"mode=1777,size=65536k", err);
}

/* The slice's view of the cgroup hierarchies it is in, read-only, rooted at its own cgroup. */
static int setup_cgroups(const struct mount_plan *p, struct acre_error *err)
{
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (p->cgroup_v2_only)
		return mount_fs("cgroup2", "sys/fs/cgroup", ro, NULL, err);
	int rc = mount_fs("tmpfs", "sys/fs/cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=755,size=16k", err);
	for (size_t i = 0; rc == 0 && i < p->ncgroups; i++) {
		const struct cgroup_mount *m = &p->cgroups[i];
		char target[128];
		snprintf(target, sizeof(target), "sys/fs/cgroup/%s", m->dir);
		if (mkdir(target, 0755) < 0)
			return fail(err, "creating", target);
		if (mount(m->type, target, m->type, ro, m->options[0] ? m->options : NULL) < 0)
			return acre_error_set(err, errno, NULL, "mounting %s %s on /%s: %s",
					      m->type, m->options, target, strerror(errno));
		/* Co-mounted controllers ("cpu,cpuacct") also get a link under each name. */
		char opts[sizeof(m->options)], *save = NULL;
		snprintf(opts, sizeof(opts), "%s", m->options);
		for (char *c = strtok_r(opts, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			char link[128];
			snprintf(link, sizeof(link), "sys/fs/cgroup/%s", c);
			if (strcmp(c, m->dir) != 0 && symlink(m->dir, link) < 0 && errno != EEXIST)
				return fail(err, "creating link", link);
		}
	}
	if (rc == 0 && mount(NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | ro, "mode=755") < 0)
		rc = fail(err, "making read-only", "/sys/fs/cgroup");
	return rc;
}

static int setup_masks(struct acre_error *err)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(masked_paths); i++) {
		const char *path = masked_paths[i];
		struct stat st;
		if (stat(path, &st) < 0)
			continue; /* nothing to hide on this kernel */
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs",
						    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
						    "size=0,mode=555")
					    : mount("dev/null", path, NULL, MS_BIND, NULL);
		if (r < 0)
			return fail(err, "masking", path);
	}
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(readonly_paths); i++) {
		const char *path = readonly_paths[i];
		if (access(path, F_OK) < 0)
			continue;
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
			return fail(err, "binding", path);
		int rc = set_tree_attrs(AT_FDCWD, path, true,
					MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
						MOUNT_ATTR_NOEXEC,
					err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The slice's /etc/resolv.conf, a host file bound read-only over the root's
 * (the supervisor's DNS for a bridged slice, one that fails at once for a
 * slice without a network).  A symlink there is followed inside the slice's
 * root; a root with no such file, or one whose link leads nowhere, keeps
 * what it has: the C library then asks 127.0.0.1 in the slice's own network
 * namespace, which refuses at once.
 */
static int bind_resolv_conf(const struct mount_plan *p, struct acre_error *err)
{
	if (!p->resolv_conf)
		return 0;
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	_cleanup_close_ int root = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int target =
		root < 0 ? -1
			 : (int)syscall(SYS_openat2, root, "etc/resolv.conf", &how, sizeof(how));
	if (target < 0)
		return 0;
	struct stat st;
	if (fstat(target, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	_cleanup_close_ int tree =
		open_tree(AT_FDCWD, p->resolv_conf, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return fail(err, "opening", p->resolv_conf);
	int rc = set_tree_attrs(
		tree, "", false,
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
	if (rc < 0)
		return rc;
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return fail(err, "binding /etc/resolv.conf from", p->resolv_conf);
	return 0;
}

/* A directory of the slice's root (cwd), resolved inside it; -errno. */
static int open_in_root(int root, const char *rel)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT};
	int fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* The directory a volume goes on: made, parents too, where the root is writable. */
static int volume_target(int root, const char *path, struct acre_error *err)
{
	const char *rel = path + 1;
	int fd = open_in_root(root, rel);
	if (fd != -ENOENT)
		return fd < 0 ? acre_error_set(err, -fd, NULL, "volume path %s: %s", path,
					       strerror(-fd))
			      : fd;
	char prefix[1024];
	for (const char *c = rel;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(c - rel), rel);
		int have = open_in_root(root, prefix);
		if (have >= 0) {
			close(have);
		} else if (have == -ENOENT) {
			char *slash = strrchr(prefix, '/');
			const char *name = slash ? slash + 1 : prefix;
			if (slash)
				*slash = '\0';
			_cleanup_close_ int parent = open_in_root(root, slash ? prefix : "");
			if (parent < 0 || mkdirat(parent, name, 0755) < 0) {
				int e = parent < 0 ? -parent : errno;
				return acre_error_set(
					err, e, NULL,
					"volume path %s: making it in the slice's root: %s%s", path,
					strerror(e),
					e == EROFS ? " (the root is read-only: make the directory "
						     "there, or run with --rw)"
						   : "");
			}
		} else {
			return acre_error_set(err, -have, NULL, "volume path %s: %s", path,
					      strerror(-have));
		}
		if (*c == '\0')
			break;
	}
	fd = open_in_root(root, rel);
	return fd < 0 ? acre_error_set(err, -fd, NULL, "volume path %s: %s", path, strerror(-fd))
		      : fd;
}

/* The volumes, each a detached mount tree from the supervisor, attached at its path. */
static int attach_volumes(const struct mount_plan *p, struct acre_error *err)
{
	if (!p->nvolumes)
		return 0;
	_cleanup_close_ int root = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail(err, "opening", "the slice root");
	for (size_t i = 0; i < p->nvolumes; i++) {
		_cleanup_close_ int target = volume_target(root, p->volume_paths[i], err);
		if (target < 0)
			return target;
		if (move_mount(p->volume_fds[i], "", target, "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return fail(err, "attaching the volume at", p->volume_paths[i]);
		close(p->volume_fds[i]);
	}
	return 0;
}

static int write_secret(int dir, const char *name, const char *value, uid_t uid, gid_t gid)
{
	_cleanup_close_ int fd =
		openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	for (size_t n = strlen(value); n > 0;) {
		ssize_t w = write(fd, value, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		value += w;
		n -= (size_t)w;
	}
	return fchown(fd, uid, gid) < 0 ? -errno : 0;
}

/*
 * The secrets, one file of mode 0400 each on a tmpfs of their own at
 * /run/secrets (mode 0700, the task's user's), made read-only once
 * written.  The tmpfs exists only in this mount namespace: the values
 * never reach a disk, and go with the slice.
 */
static int setup_secrets(struct mount_plan *p, struct acre_error *err)
{
	if (!p->nsecrets)
		return 0;
	char opts[96];
	/* A page per file at least, and the directory's. */
	snprintf(opts, sizeof(opts), "size=%zu,nr_inodes=%zu,mode=0700,uid=%u,gid=%u",
		 p->secrets_len + (p->nsecrets + 1) * 4096, p->nsecrets + 8,
		 (unsigned)p->secrets_uid, (unsigned)p->secrets_gid);
	if (mkdir("run/secrets", 0700) < 0 && errno != EEXIST)
		return fail(err, "making", "/run/secrets");
	int rc = mount_fs("tmpfs", "run/secrets", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts, err);
	if (rc < 0)
		return rc;
	_cleanup_close_ int dir = open("run/secrets", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return fail(err, "opening", "/run/secrets");
	const char *s = p->secrets, *end = p->secrets + p->secrets_len;
	while (s < end) {
		const char *value = s + strlen(s) + 1;
		if ((rc = write_secret(dir, s, value, p->secrets_uid, p->secrets_gid)) < 0)
			return acre_error_set(err, -rc, NULL, "writing /run/secrets/%s: %s", s,
					      strerror(-rc));
		s = value + strlen(value) + 1;
	}
	explicit_bzero(p->secrets, p->secrets_len);
	free(p->secrets);
	p->secrets = NULL;
	if (mount(NULL, "run/secrets", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail(err, "making read-only", "/run/secrets");
	return 0;
}

/* Host paths the slice must not see through the shared host root (the supervisor's state). */
static int hide_host_paths(const struct mount_plan *p, struct acre_error *err)
{
	if (strcmp(p->rootfs, "/") != 0)
		return 0;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(p->hide_paths) && p->hide_paths[i]; i++) {
		const char *path = p->hide_paths[i] + 1; /* relative to the new root */
		struct stat st;
		if (!*path || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=0,mode=000") < 0)
			return fail(err, "hiding", p->hide_paths[i]);
	}
	return 0;
}

static int enter_root(struct acre_error *err)
{
	/* pivot_root(".", "."): the old root ends up stacked on the new one, then goes. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(err, "pivot_root into", "the slice root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(err, "detaching", "the host root");
	if (chdir("/") < 0)
		return fail(err, "entering", "/");
	return 0;
}

int mount_setup(struct mount_plan *p, struct acre_error *err)
{
	/* Nothing done here may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(err, "making private", "/");
	int rc = clone_root(p, err);
	if (rc == 0)
		rc = mount_fs("proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
	if (rc == 0)
		rc = setup_dev(err);
	if (rc == 0)
		rc = mount_fs("sysfs", "sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			      err);
	if (rc == 0)
		rc = setup_cgroups(p, err);
	if (rc == 0)
		rc = mount_fs("tmpfs", "tmp", MS_NOSUID | MS_NODEV, "mode=1777", err);
	if (rc == 0)
		rc = mount_fs("tmpfs", "run", MS_NOSUID | MS_NODEV, "mode=755", err);
	if (rc == 0)
		rc = setup_secrets(p, err);
	if (rc == 0)
		rc = setup_masks(err);
	if (rc == 0)
		rc = bind_resolv_conf(p, err);
	if (rc == 0)
		rc = attach_volumes(p, err);
	if (rc == 0)
		rc = hide_host_paths(p, err);
	if (rc == 0)
		rc = enter_root(err);
	return rc;
}
