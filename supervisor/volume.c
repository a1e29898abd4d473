/*
 * Persistent volumes, the supervisor's side: where each lives
 * (STATE-DIR/volumes/NAME/image, mounted on .../mnt), who uses it, and when
 * it is made, mounted, listed and removed.  The filesystem work is
 * isolation/volume.c's.  A volume outlives its slices: an app's instance
 * replaced under its name finds its data again; only `acre volume rm` (or
 * the app that made it) removes it.  Making one runs mkfs.ext4, a fraction
 * of a second, on the supervisor's loop: once per volume, not per launch.
 */
#include "volume.h"
#include "slice.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static bool volume_dir(struct supervisor *sv, const char *name, const char *leaf, char *buf,
		       size_t len)
{
	char state[PATH_MAX];
	if (!realpath(sv->opt.state_dir, state))
		return false;
	return (size_t)snprintf(buf, len, "%s/volumes/%s%s%s", state, name, leaf ? "/" : "",
				leaf ? leaf : "") < len;
}

static bool names_volume(const struct acre_slice_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->nvolumes; i++)
		if (!strcmp(spec->volumes[i].name, name))
			return true;
	return false;
}

struct users {
	const char *volume;
	const struct slice *except;
	const struct slice *running; /* an active slice that names it */
	json_t *names;		     /* every slice that names it, or NULL */
};

static void find_users(const char *key, void *value, void *ud)
{
	(void)key;
	struct users *u = ud;
	const struct slice *s = value;
	if (s == u->except || !names_volume(&s->rec.spec, u->volume))
		return;
	if (slice_is_active(s) && !u->running)
		u->running = s;
	if (u->names)
		json_array_append_new(u->names, json_string(s->rec.spec.name));
}

void volume_handles_close(struct volume_handles *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	h->n = 0;
}

int volumes_open(struct supervisor *sv, const struct slice *s, struct volume_handles *h,
		 struct acre_error *err)
{
	const struct acre_slice_spec *spec = &s->rec.spec;
	h->n = 0;
	if (!spec->nvolumes)
		return 0;
	/* A read-only root must have the mountpoints already: said before anything is made. */
	for (size_t i = 0; spec->isolation.readonly_root && i < spec->nvolumes; i++) {
		int rc = acre_root_dir_exists(spec->isolation.rootfs, spec->volumes[i].path);
		if (rc < 0)
			return acre_error_set(err, -rc, "volumes",
					      "volume path %s: %s in the slice's read-only root "
					      "(make the directory there, or run with --rw)",
					      spec->volumes[i].path, strerror(-rc));
	}
	if (mkdirat(sv->state_fd, "volumes", 0700) < 0 && errno != EEXIST)
		return acre_error_set(err, errno, NULL, "creating %s/volumes: %s",
				      sv->opt.state_dir, strerror(errno));
	for (size_t i = 0; i < spec->nvolumes; i++) {
		const struct acre_volume *v = &spec->volumes[i];
		struct users u = {.volume = v->name, .except = s};
		acre_map_foreach(sv->slices, find_users, &u);
		if (u.running) {
			volume_handles_close(h);
			return acre_error_set(err, EBUSY, "volumes",
					      "volume %s: in use by slice %s, which runs", v->name,
					      u.running->rec.spec.name);
		}
		char dir[PATH_MAX], image[PATH_MAX], mnt[PATH_MAX];
		bool made = false;
		int rc = 0;
		if (!volume_dir(sv, v->name, NULL, dir, sizeof(dir)) ||
		    !volume_dir(sv, v->name, "image", image, sizeof(image)) ||
		    !volume_dir(sv, v->name, "mnt", mnt, sizeof(mnt)))
			rc = acre_error_set(err, ENAMETOOLONG, NULL, "volume %s: path too long",
					    v->name);
		if (rc == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = acre_error_set(err, errno, NULL, "creating %s: %s", dir,
					    strerror(errno));
		if (rc == 0)
			rc = acre_volume_ensure(image, mnt, v->size, s->user.uid, s->user.gid,
						&made, err);
		int fd = rc == 0 ? acre_volume_tree(mnt, err) : -1;
		if (rc < 0 || fd < 0) {
			volume_handles_close(h);
			if (made) { /* nothing of a volume half made is left */
				acre_volume_unmount(mnt, NULL);
				unlink(image);
				rmdir(mnt);
				rmdir(dir);
			}
			return acre_error_prefix(err, "volume %s", v->name);
		}
		if (made)
			acre_log(ACRE_LOG_INFO, "slice=%s event=volume_made volume=%s size=%llu",
				 spec->name, v->name, (unsigned long long)v->size);
		h->fds[h->n] = fd;
		h->paths[h->n++] = v->path;
	}
	return 0;
}

struct list_ctx {
	struct supervisor *sv;
	json_t *out;
};

static json_t *volume_json(struct supervisor *sv, const char *name)
{
	char image[PATH_MAX], mnt[PATH_MAX];
	struct stat st;
	if (!volume_dir(sv, name, "image", image, sizeof(image)) ||
	    !volume_dir(sv, name, "mnt", mnt, sizeof(mnt)) || stat(image, &st) < 0)
		return NULL;
	bool mounted = acre_volume_mounted(mnt);
	json_t *j = json_pack("{s:s,s:I,s:b}", "name", name, "size", (json_int_t)st.st_size,
			      "mounted", mounted);
	struct statvfs vfs;
	if (j && mounted && statvfs(mnt, &vfs) == 0)
		json_object_set_new(
			j, "used",
			json_integer((json_int_t)((vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize)));
	/* On disk: the image is sparse, only what was written takes room. */
	if (j)
		json_object_set_new(j, "on_disk", json_integer((json_int_t)st.st_blocks * 512));
	struct users u = {.volume = name, .names = json_array()};
	acre_map_foreach(sv->slices, find_users, &u);
	if (j)
		json_object_set_new(j, "slices", u.names);
	else
		json_decref(u.names);
	return j;
}

json_t *volumes_list(struct supervisor *sv)
{
	json_t *out = json_array();
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/volumes", sv->opt.state_dir);
	DIR *d = opendir(dir);
	if (!d)
		return out;
	struct dirent *e;
	while ((e = readdir(d)))
		if (acre_volume_name_valid(e->d_name)) {
			json_t *j = volume_json(sv, e->d_name);
			if (j)
				json_array_append_new(out, j);
		}
	closedir(d);
	return out;
}

int volume_remove(struct supervisor *sv, const char *name, struct acre_error *err)
{
	char dir[PATH_MAX], image[PATH_MAX], mnt[PATH_MAX];
	struct stat st;
	if (!acre_volume_name_valid(name) || !volume_dir(sv, name, NULL, dir, sizeof(dir)) ||
	    !volume_dir(sv, name, "image", image, sizeof(image)) ||
	    !volume_dir(sv, name, "mnt", mnt, sizeof(mnt)) || stat(image, &st) < 0)
		return acre_error_set(err, ENOENT, "name", "no volume named %s on this node", name);
	struct users u = {.volume = name, .names = json_array()};
	acre_map_foreach(sv->slices, find_users, &u);
	size_t n = json_array_size(u.names);
	const char *first = n ? json_string_value(json_array_get(u.names, 0)) : NULL;
	int rc = n ? acre_error_set(err, EBUSY, "name",
				    "volume %s: slice %s names it (remove the slice first)", name,
				    first)
		   : 0;
	json_decref(u.names);
	if (rc < 0)
		return rc;
	if ((rc = acre_volume_unmount(mnt, err)) < 0)
		return rc;
	if (unlink(image) < 0 || (rmdir(mnt) < 0 && errno != ENOENT) || rmdir(dir) < 0)
		return acre_error_set(err, errno, NULL, "removing volume %s: %s", name,
				      strerror(errno));
	acre_log(ACRE_LOG_INFO, "event=volume_removed volume=%s", name);
	return 0;
}

int volumes_disk(struct supervisor *sv, uint64_t *total, uint64_t *free_bytes)
{
	struct statvfs vfs;
	if (fstatvfs(sv->state_fd, &vfs) < 0)
		return -errno;
	/* volumes/ is a directory of the state directory: the same filesystem, unless mounted. */
	int fd = openat(sv->state_fd, "volumes", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		struct statvfs v2;
		if (fstatvfs(fd, &v2) == 0)
			vfs = v2;
		close(fd);
	}
	*total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	*free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return 0;
}

void volumes_unmount_all(struct supervisor *sv)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/volumes", sv->opt.state_dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char mnt[PATH_MAX];
		struct acre_error err = {0};
		if (acre_volume_name_valid(e->d_name) &&
		    volume_dir(sv, e->d_name, "mnt", mnt, sizeof(mnt)) &&
		    acre_volume_unmount(mnt, &err) < 0)
			acre_log(ACRE_LOG_WARN,
				 "event=volume_unmount_failed volume=%s error=\"%s\"", e->d_name,
				 err.message);
	}
	closedir(d);
}
