/*
 * The node's cgroup hierarchies as the supervisor sees them: which mount
 * holds each controller acre uses (found through libcgroup), whether the
 * node runs v1, hybrid or pure v2, and the supervisor's own subtree in each
 * hierarchy.  Nothing outside that subtree is ever written, except enabling
 * controllers in v2 subtree_control on the way down to it, which v2 demands.
 */
#include "isolation.h"
#include "cgroup_internal.h"
#include "launch_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

static const char *const controller_names[ACRE_CG_COUNT] = {
	[ACRE_CG_CPU] = "cpu",	 [ACRE_CG_CPUACCT] = "cpuacct", [ACRE_CG_MEMORY] = "memory",
	[ACRE_CG_PIDS] = "pids", [ACRE_CG_UNIFIED] = "unified",
};

const char *acre_cgroup_mode_name(enum acre_cgroup_mode mode)
{
	return mode == ACRE_CGROUP_V2 ? "v2" : mode == ACRE_CGROUP_HYBRID ? "hybrid" : "v1";
}

static bool is_cgroup2(const char *path)
{
	struct statfs fs;
	return statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Index of the hierarchy mounted at `mount`, adding it on first sight. */
static int hierarchy_for(struct acre_cgroup_system *sys, const char *mount)
{
	for (size_t i = 0; i < sys->nh; i++)
		if (strcmp(sys->h[i].mount, mount) == 0)
			return (int)i;
	if (sys->nh == ACRE_ARRAY_SIZE(sys->h))
		return -1;
	struct cg_hierarchy *h = &sys->h[sys->nh];
	memset(h, 0, sizeof(*h));
	snprintf(h->mount, sizeof(h->mount), "%s", mount);
	h->v2 = is_cgroup2(mount);
	h->root_fd = -1;
	return (int)sys->nh++;
}

/*
 * libcgroup lists every mounted controller with its mount point; a v1
 * hierarchy's mount options are the controllers that share that mount.
 */
static int discover(struct acre_cgroup_system *sys, struct acre_error *err)
{
	int rc = cgroup_init();
	if (rc != 0)
		return acre_error_set(err, ENOENT, NULL, "finding cgroup hierarchies: %s",
				      cgroup_strerror(rc));
	void *handle = NULL;
	struct cgroup_mount_point mp;
	for (rc = cgroup_get_controller_begin(&handle, &mp); rc == 0;
	     rc = cgroup_get_controller_next(&handle, &mp)) {
		int hi = hierarchy_for(sys, mp.path);
		if (hi < 0)
			continue;
		struct cg_hierarchy *h = &sys->h[hi];
		if (!h->v2) {
			size_t n = strlen(h->options);
			snprintf(h->options + n, sizeof(h->options) - n, "%s%s", n ? "," : "",
				 mp.name);
		}
		for (int c = 0; c < ACRE_CG_UNIFIED; c++)
			if (strcmp(mp.name, controller_names[c]) == 0)
				sys->hier_of[c] = hi;
	}
	cgroup_get_controller_end(&handle);
	/*
	 * In v2 the cpu controller also accounts usage, so cpuacct lives where
	 * cpu does.  The v2 tree may carry no controller at all on a hybrid
	 * node, and then libcgroup does not list it: look where systemd puts it.
	 */
	for (size_t i = 0; i < sys->nh; i++)
		if (sys->h[i].v2)
			sys->hier_of[ACRE_CG_UNIFIED] = (int)i;
	if (sys->hier_of[ACRE_CG_UNIFIED] < 0) {
		static const char *const candidates[] = {"/sys/fs/cgroup/unified",
							 "/sys/fs/cgroup"};
		for (size_t i = 0; i < ACRE_ARRAY_SIZE(candidates); i++) {
			if (is_cgroup2(candidates[i])) {
				sys->hier_of[ACRE_CG_UNIFIED] = hierarchy_for(sys, candidates[i]);
				break;
			}
		}
	}
	if (sys->hier_of[ACRE_CG_CPUACCT] < 0 && sys->hier_of[ACRE_CG_CPU] >= 0 &&
	    sys->h[sys->hier_of[ACRE_CG_CPU]].v2)
		sys->hier_of[ACRE_CG_CPUACCT] = sys->hier_of[ACRE_CG_CPU];
	static const enum acre_cgroup_controller needed[] = {ACRE_CG_CPU, ACRE_CG_CPUACCT,
							     ACRE_CG_MEMORY, ACRE_CG_PIDS};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(needed); i++)
		if (sys->hier_of[needed[i]] < 0)
			return acre_error_set(
				err, ENOENT, NULL,
				"finding cgroup hierarchies: the %s controller is not "
				"mounted",
				controller_names[needed[i]]);
	bool any_v1 = false, all_v2 = true;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(needed); i++) {
		bool v2 = sys->h[sys->hier_of[needed[i]]].v2;
		any_v1 |= !v2;
		all_v2 &= v2;
	}
	sys->mode = all_v2 ? ACRE_CGROUP_V2
			   : (sys->hier_of[ACRE_CG_UNIFIED] >= 0 && any_v1 ? ACRE_CGROUP_HYBRID
									   : ACRE_CGROUP_V1);
	for (int c = 0; c < ACRE_CG_COUNT; c++)
		if (sys->hier_of[c] >= 0)
			sys->h[sys->hier_of[c]].controllers |= 1u << c;
	return 0;
}

/* v2 hands a controller to children only when each ancestor enables it. */
static int enable_v2_controllers(int dirfd, const char *where, struct acre_error *err)
{
	char have[512] = "";
	_cleanup_close_ int fd = openat(dirfd, "cgroup.subtree_control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "opening %s/cgroup.subtree_control: %s",
				      where, strerror(errno));
	ssize_t n = read(fd, have, sizeof(have) - 1);
	have[n > 0 ? n : 0] = '\0';
	static const char *const wanted[] = {"cpu", "memory", "pids"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(wanted); i++) {
		char word[16];
		snprintf(word, sizeof(word), "%s", wanted[i]);
		bool present = false;
		for (char *tok = have; (tok = strstr(tok, word)); tok += strlen(word)) {
			char after = tok[strlen(word)];
			if ((tok == have || tok[-1] == ' ') &&
			    (after == ' ' || after == '\n' || after == '\0'))
				present = true;
		}
		if (present)
			continue;
		char cmd[20];
		int len = snprintf(cmd, sizeof(cmd), "+%s", wanted[i]);
		if (pwrite(fd, cmd, (size_t)len, 0) < 0)
			return acre_error_set(err, errno, NULL,
					      "enabling the %s controller in %s: %s", wanted[i],
					      where, strerror(errno));
	}
	return 0;
}

/* mkdir -p of the subtree inside one hierarchy, returning its directory fd. */
static int open_subtree(struct cg_hierarchy *h, const char *root, bool v2_limits,
			struct acre_error *err)
{
	_cleanup_close_ int fd = open(h->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "opening %s: %s", h->mount,
				      strerror(errno));
	char path[512], where[PATH_MAX + 512];
	snprintf(path, sizeof(path), "%s", root);
	snprintf(where, sizeof(where), "%s", h->mount);
	for (char *part = strtok(path, "/"); part; part = strtok(NULL, "/")) {
		if (v2_limits && enable_v2_controllers(fd, where, err) < 0)
			return -err->code;
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST)
			return acre_error_set(err, errno, NULL, "creating cgroup %s/%s: %s", where,
					      part, strerror(errno));
		int sub = openat(fd, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			return acre_error_set(err, errno, NULL, "opening cgroup %s/%s: %s", where,
					      part, strerror(errno));
		close(fd);
		fd = sub;
		size_t n = strlen(where);
		snprintf(where + n, sizeof(where) - n, "/%s", part);
	}
	if (v2_limits && enable_v2_controllers(fd, where, err) < 0)
		return -err->code;
	h->root_fd = TAKE_FD(fd);
	return 0;
}

static bool root_valid(const char *root)
{
	if (!*root || root[0] == '/' || strlen(root) > 200)
		return false;
	for (const char *p = root; *p; p++)
		if (!(*p == '/' || *p == '-' || *p == '_' || *p == '.' ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return !strstr(root, "..") && !strstr(root, "//");
}

int acre_cgroup_system_open(const char *root, struct acre_cgroup_system **out,
			    struct acre_error *err)
{
	if (!root_valid(root))
		return acre_error_set(
			err, EINVAL, "--cgroup-root",
			"--cgroup-root %s: must be a relative path of letters, digits, "
			"'-', '_', '.' and '/'",
			root);
	struct acre_cgroup_system *sys = calloc(1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	snprintf(sys->root, sizeof(sys->root), "%s", root);
	for (int c = 0; c < ACRE_CG_COUNT; c++)
		sys->hier_of[c] = -1;
	int rc = discover(sys, err);
	for (size_t i = 0; rc == 0 && i < sys->nh; i++) {
		struct cg_hierarchy *h = &sys->h[i];
		if (!h->controllers)
			continue;
		/* In hybrid mode the v2 tree holds no controller of ours: nothing to enable. */
		bool enable = h->v2 && (h->controllers & ~(1u << ACRE_CG_UNIFIED));
		rc = open_subtree(h, root, enable, err);
	}
	if (rc == 0 && sys->hier_of[ACRE_CG_UNIFIED] >= 0)
		snprintf(sys->v2_path, sizeof(sys->v2_path), "%s/%s",
			 sys->h[sys->hier_of[ACRE_CG_UNIFIED]].mount, root);
	if (rc < 0) {
		acre_cgroup_system_free(sys);
		return rc;
	}
	*out = sys;
	return 0;
}

void acre_cgroup_system_free(struct acre_cgroup_system *sys)
{
	if (!sys)
		return;
	for (size_t i = 0; i < sys->nh; i++)
		if (sys->h[i].root_fd >= 0)
			close(sys->h[i].root_fd);
	free(sys);
}

enum acre_cgroup_mode acre_cgroup_system_mode(const struct acre_cgroup_system *sys)
{
	return sys->mode;
}

const char *acre_cgroup_system_v2_path(const struct acre_cgroup_system *sys)
{
	return sys->v2_path[0] ? sys->v2_path : NULL;
}

static bool strv_contains(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int collect_dir(int dfd, const char *entry, unsigned char type, void *ud)
{
	(void)dfd;
	char ***out = ud;
	if (type != DT_DIR || entry[0] == '.' || strv_contains(*out, entry))
		return 0;
	return acre_strv_push(out, entry);
}

int acre_cgroup_system_list(const struct acre_cgroup_system *sys, char ***names)
{
	_cleanup_strv_free_ char **out = calloc(1, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < sys->nh; i++) {
		if (sys->h[i].root_fd < 0)
			continue;
		int rc = acre_dir_foreach(sys->h[i].root_fd, ".", collect_dir, &out);
		if (rc < 0)
			return rc;
	}
	*names = TAKE_PTR(out);
	return 0;
}

int acre_cgroup_system_remove_root(const struct acre_cgroup_system *sys)
{
	int rc = 0;
	for (size_t i = 0; i < sys->nh; i++) {
		const struct cg_hierarchy *h = &sys->h[i];
		if (h->root_fd < 0)
			continue;
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", h->mount, sys->root);
		if (rmdir(path) < 0 && errno != ENOENT)
			rc = -errno;
	}
	return rc;
}

size_t cgroup_mounts(const struct acre_cgroup_system *sys, struct cgroup_mount *out, size_t max,
		     bool *v2_only)
{
	*v2_only = sys->mode == ACRE_CGROUP_V2;
	size_t n = 0;
	for (size_t i = 0; i < sys->nh && n < max; i++) {
		const struct cg_hierarchy *h = &sys->h[i];
		if (h->root_fd < 0)
			continue; /* the slice has no cgroup of its own there */
		const char *base = strrchr(h->mount, '/') ? strrchr(h->mount, '/') + 1 : h->mount;
		struct cgroup_mount *m = &out[n++];
		snprintf(m->dir, sizeof(m->dir), "%s", base);
		snprintf(m->type, sizeof(m->type), "%s", h->v2 ? "cgroup2" : "cgroup");
		snprintf(m->options, sizeof(m->options), "%s", h->v2 ? "" : h->options);
	}
	return n;
}
