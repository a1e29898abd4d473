/*
 * The policy of writable host roots: where a slice's layer lives
 * (--state-dir/rwroot/<name>, hidden from slices with the rest of the state
 * directory), how large it may grow, and when it goes.  The layer is a
 * tmpfs (isolation/rwroot.c says why): it is as large as the slice's memory
 * limit, and without one the kernel's default for a tmpfs, half the node's
 * memory; either way what a slice writes is charged to its memory cgroup
 * and never reaches the host's disk.
 */
#include "rwroot.h"
#include "slice.h"

#include <fcntl.h>
#include <sys/stat.h>

bool rwroot_path(struct supervisor *sv, const char *name, char *buf, size_t len)
{
	char state[PATH_MAX];
	if (!realpath(sv->opt.state_dir, state))
		return false;
	return (size_t)snprintf(buf, len, "%s/rwroot/%s", state, name) < len;
}

int rwroot_prepare(struct supervisor *sv, const struct acre_slice_spec *spec,
		   struct acre_error *err)
{
	if (!acre_slice_spec_rw_host_root(spec))
		return 0;
	char dir[PATH_MAX];
	if (mkdirat(sv->state_fd, "rwroot", 0700) < 0 && errno != EEXIST)
		return acre_error_set(err, errno, NULL, "creating %s/rwroot: %s", sv->opt.state_dir,
				      strerror(errno));
	if (!rwroot_path(sv, spec->name, dir, sizeof(dir)))
		return acre_error_set(err, ENAMETOOLONG, NULL, "the writable layer of %s: %s",
				      spec->name, strerror(ENAMETOOLONG));
	return acre_rwroot_create(dir, spec->resources.memory, err);
}

int rwroot_ensure(struct supervisor *sv, const struct acre_slice_spec *spec, char *buf, size_t len,
		  struct acre_error *err)
{
	char work[PATH_MAX + 8];
	if (!rwroot_path(sv, spec->name, buf, len))
		return acre_error_set(err, ENAMETOOLONG, NULL, "the writable layer of %s: %s",
				      spec->name, strerror(ENAMETOOLONG));
	snprintf(work, sizeof(work), "%s/work", buf);
	struct stat st;
	return stat(work, &st) == 0 ? 0 : rwroot_prepare(sv, spec, err);
}

void rwroot_release(struct supervisor *sv, const char *name)
{
	char dir[PATH_MAX];
	struct acre_error err = {0};
	if (rwroot_path(sv, name, dir, sizeof(dir)) && acre_rwroot_remove(dir, &err) < 0)
		acre_log(ACRE_LOG_ERROR, "slice=%s event=rwroot_remove_failed error=\"%s\"", name,
			 err.message);
}

static int sweep_one(int dfd, const char *entry, unsigned char type, void *ud)
{
	(void)dfd;
	(void)type;
	struct supervisor *sv = ud;
	if (entry[0] == '.' || slice_find(sv, entry))
		return 0;
	acre_log(ACRE_LOG_INFO, "rwroot=%s event=orphan_removed", entry);
	rwroot_release(sv, entry);
	return 0;
}

void rwroot_sweep(struct supervisor *sv)
{
	int rc = acre_dir_foreach(sv->state_fd, "rwroot", sweep_one, sv);
	if (rc < 0 && rc != -ENOENT)
		acre_log(ACRE_LOG_WARN, "event=rwroot_sweep_failed error=\"%s\"", strerror(-rc));
}
