/*
 * Each slice's directory under --state-dir/slices/<name>: slice.json (the
 * checkpoint, replaced atomically on every state change), exit (acre-init's
 * record of how the task ended) and log (a detached slice's output).  After
 * a crash the supervisor rebuilds everything it knew from these files.
 */
#include "checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>

static const char *const slice_files[] = {"slice.json", ".slice.json.tmp", "exit", "log"};

int checkpoint_dir_create(struct supervisor *sv, const char *name, struct acre_error *err)
{
	if (mkdirat(sv->slices_fd, name, 0700) < 0)
		return acre_error_set(err, errno, NULL, "creating state directory for %s: %s", name,
				      strerror(errno));
	return 0;
}

int checkpoint_dir_remove(struct supervisor *sv, const char *name)
{
	int dir = openat(sv->slices_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 0 : -errno;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(slice_files); i++)
		unlinkat(dir, slice_files[i], 0);
	close(dir);
	if (unlinkat(sv->slices_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int checkpoint_open(struct supervisor *sv, const char *name, const char *file, int flags)
{
	char rel[ACRE_NAME_MAX + 32];
	snprintf(rel, sizeof(rel), "%s/%s", name, file);
	return openat(sv->slices_fd, rel, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int checkpoint_write(struct supervisor *sv, const struct acre_slice_record *rec)
{
	_cleanup_json_ json_t *j = acre_slice_record_to_json(rec);
	_cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	_cleanup_close_ int dir =
		openat(sv->slices_fd, rec->spec.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct acre_error err = {0};
	int rc = dir < 0 ? -errno
			 : acre_file_write_atomic(dir, "slice.json", text, strlen(text), &err);
	if (rc < 0)
		acre_log(ACRE_LOG_ERROR, "slice=%s event=checkpoint_failed error=\"%s\"",
			 rec->spec.name, err.message[0] ? err.message : strerror(-rc));
	return rc;
}

int checkpoint_read_exit(struct supervisor *sv, const char *name, struct acre_exit *out)
{
	char rel[ACRE_NAME_MAX + 16];
	snprintf(rel, sizeof(rel), "%s/exit", name);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = acre_file_read(sv->slices_fd, rel, &text, &len, 64 * 1024);
	if (rc < 0)
		return rc;
	return acre_exit_record_parse(text, len, out);
}
