/*
 * The pin directory: /sys/fs/bpf/acre/<cgroup-root>/.  Pins are what keep
 * acre's maps, programs and links alive while no supervisor runs, so this
 * file makes sure bpffs is mounted (systemd mounts it; minimal hosts and
 * containers may not), names the directory after the cgroup root, and
 * serialises openers with flock(2) so two supervisors starting at once
 * cannot both decide to attach.
 */
#include "bpf_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/*
 * bpffs refuses '.' in names (it keeps them for the kernel's own files), and
 * a cgroup root may contain dots: "%2e" stands for a dot, which is
 * unambiguous because '%' is not allowed in a cgroup root.  '/' makes
 * subdirectories, as in the cgroup tree.
 */
int acre_bpf_pins_path(const char *root, char *buf, size_t len)
{
	if (!root || !*root || root[0] == '/' || strstr(root, "..") || strstr(root, "//") ||
	    root[strlen(root) - 1] == '/' || strlen(root) > 200)
		return -EINVAL;
	size_t n = (size_t)snprintf(buf, len, "%s/", ACRE_BPF_PIN_ROOT);
	for (const char *p = root; *p; p++) {
		char c = *p;
		bool ok = c == '/' || c == '-' || c == '_' || c == '.' || (c >= 'a' && c <= 'z') ||
			  (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!ok)
			return -EINVAL;
		const char *out = c == '.' ? "%2e" : (char[]){c, 0};
		size_t m = strlen(out);
		if (n + m >= len)
			return -ENAMETOOLONG;
		memcpy(buf + n, out, m + 1);
		n += m;
	}
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;
	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int acre_bpf_pins_mount(struct acre_error *err)
{
	if (is_bpffs(ACRE_BPF_FS))
		return 0;
	/* Mode 0700 as systemd mounts it: pins are root's business. */
	if (mount("bpf", ACRE_BPF_FS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
		int e = errno;
		return acre_error_set(err, e, NULL, "mounting bpffs on %s: %s", ACRE_BPF_FS,
				      strerror(e));
	}
	acre_log(ACRE_LOG_INFO, "event=bpffs_mounted path=%s", ACRE_BPF_FS);
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	/* Start below /sys/fs/bpf: it exists, and sysfs refuses mkdir anyway. */
	for (char *p = buf + strlen(ACRE_BPF_FS) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int acre_bpf_pins_lock(const char *dir, int *out, struct acre_error *err)
{
	int rc = mkdir_p(dir);
	if (rc < 0)
		return acre_error_set(err, rc, NULL, "creating the pin directory %s: %s", dir,
				      strerror(-rc));
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "opening the pin directory %s: %s", dir,
				      strerror(errno));
	if (flock(fd, LOCK_EX) < 0)
		return acre_error_set(err, errno, NULL, "locking the pin directory %s: %s", dir,
				      strerror(errno));
	*out = TAKE_FD(fd);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

struct remove_pass {
	const char *prefix;
	bool links;
	int rc;
};

static int remove_entry(int dfd, const char *entry, unsigned char type, void *ud)
{
	struct remove_pass *p = ud;
	/* Subdirectories belong to other cgroup roots ("acre" vs "acre/test"). */
	if (type == DT_DIR || strncmp(entry, p->prefix, strlen(p->prefix)) != 0)
		return 0;
	if (has_suffix(entry, "_link") != p->links)
		return 0;
	if (unlinkat(dfd, entry, 0) < 0 && errno != ENOENT && p->rc == 0)
		p->rc = -errno;
	return 0;
}

static int remove_pass(int dir_fd, const char *prefix, bool links)
{
	struct remove_pass p = {.prefix = prefix, .links = links};
	int rc = acre_dir_foreach(dir_fd, ".", remove_entry, &p);
	return rc < 0 ? rc : p.rc;
}

int acre_bpf_pins_remove(int dir_fd, const char *prefix)
{
	/* Links first: the programs are detached before anything else goes. */
	int rc = remove_pass(dir_fd, prefix, true);
	int rc2 = remove_pass(dir_fd, prefix, false);
	return rc < 0 ? rc : rc2;
}
