/*
 * The controller's downloads for its repositories, each in a child
 * process (fork, then the blocking steps of repo_get.c and bundle.c), so
 * that the event loop never waits on a network or a disk: an index
 * fetched and checked, a package archive fetched, verified and unpacked
 * into the cache, a bundle unpacked and verified, a bundle written.  The
 * child leaves its result in the data directory and says "ok" or why not
 * on a pipe; the loop reads the pipe, reaps the child, and tells whoever
 * waits (installs_on_fetched) that a job ended.  A job stays until the
 * verb that asked for it takes its result (repo_job_take).
 */
#include "runtime.h"

#include <event2/event.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/file.h"

void repo_job_free(struct repo_job *j)
{
	if (!j)
		return;
	if (j->ev)
		event_free(j->ev);
	if (j->pid > 0 && j->fd >= 0)
		close(j->fd);
	free(j->url);
	free(j->dest);
	for (size_t i = 0; i < j->npkgs; i++) {
		pkg_free(&j->pkgs[i]);
		free(j->dirs[i]);
	}
	free(j->pkgs);
	free(j->dirs);
	free(j);
}

struct repo_job *repo_job_find(struct installs *s, const char *key)
{
	for (size_t i = 0; i < s->jobs.n; i++)
		if (!strcmp(s->jobs.v[i]->key, key))
			return s->jobs.v[i];
	return NULL;
}

struct repo_job *repo_job_take(struct installs *s, struct repo_job *j)
{
	for (size_t i = 0; i < s->jobs.n; i++)
		if (s->jobs.v[i] == j) {
			memmove(&s->jobs.v[i], &s->jobs.v[i + 1], (s->jobs.n - i - 1) * sizeof(j));
			s->jobs.n--;
		}
	return j;
}

/* The index at url, checked, at dest. */
static int work_index(struct repo_job *j, struct acre_error *err)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.part", j->dest);
	int rc = pkg_get_url(j->url, tmp, err);
	json_error_t je;
	_cleanup_json_ json_t *index =
		rc == 0 ? json_load_file(tmp, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (rc == 0 && !index)
		rc = acre_error_set(err, EINVAL, "url", "%s: the index does not parse: line %d: %s",
				    j->url, je.line, je.text);
	if (rc == 0 && (rc = pkg_index_parse(index, err)) < 0) {
		char why[sizeof(err->message)];
		snprintf(why, sizeof(why), "%s", err->message);
		acre_error_set(err, -rc, "url", "%s: the index does not parse: %s", j->url, why);
	}
	if (rc == 0 && rename(tmp, j->dest) < 0)
		rc = acre_error_set(err, errno, "", "%s: %s", j->dest, strerror(errno));
	unlink(tmp);
	return rc;
}

/* The archive at url, verified against its sum, unpacked at dest (a cache entry). */
static int work_archive(struct repo_job *j, struct acre_error *err)
{
	char tmp[4200], tree[4200];
	snprintf(tmp, sizeof(tmp), "%s.tar.gz", j->dest);
	snprintf(tree, sizeof(tree), "%s.part", j->dest);
	pkg_remove_tree(tree);
	char parent[4200];
	snprintf(parent, sizeof(parent), "%s", j->dest);
	*strrchr(parent, '/') = '\0';
	if (acre_mkdir_p(parent, 0755) < 0)
		return acre_error_set(err, errno, "", "%s: %s", parent, strerror(errno));
	int rc = pkg_get_url(j->url, tmp, err);
	if (rc < 0) {
		char why[sizeof(err->message)];
		snprintf(why, sizeof(why), "%s", err->message);
		acre_error_set(err, -rc, "", "package %s %s: %s", j->name, j->version, why);
	}
	if (rc == 0)
		rc = pkg_archive_unpack(tmp, j->sha256, j->name, j->version, tree, err);
	if (rc == 0 && rename(tree, j->dest) < 0)
		rc = acre_error_set(err, errno, "", "%s: %s", j->dest, strerror(errno));
	unlink(tmp);
	pkg_remove_tree(tree);
	return rc;
}

/* The bundle file (url) unpacked and verified at dest. */
static int work_bundle_add(struct repo_job *j, struct acre_error *err)
{
	pkg_remove_tree(j->dest);
	int rc = pkg_bundle_unpack(j->url, j->dest, NULL, err);
	if (rc < 0)
		pkg_remove_tree(j->dest);
	return rc;
}

/* The packages of the job, with their URI artifacts, in one bundle file at dest. */
static int work_bundle_make(struct repo_job *j, struct acre_error *err)
{
	char staging[4200];
	snprintf(staging, sizeof(staging), "%s.d", j->dest);
	pkg_remove_tree(staging);
	int rc = pkg_bundle_stage(staging, err);
	for (size_t i = 0; rc == 0 && i < j->npkgs; i++)
		rc = pkg_bundle_add(staging, j->dirs[i], &j->pkgs[i], err);
	if (rc == 0)
		rc = pkg_bundle_pack(staging, j->dest, err);
	pkg_remove_tree(staging);
	if (rc < 0)
		unlink(j->dest);
	return rc;
}

static void child(struct repo_job *j, int fd)
{
	struct acre_error err = {0};
	int rc = j->kind == REPO_JOB_INDEX	  ? work_index(j, &err)
		 : j->kind == REPO_JOB_ARCHIVE	  ? work_archive(j, &err)
		 : j->kind == REPO_JOB_BUNDLE_ADD ? work_bundle_add(j, &err)
						  : work_bundle_make(j, &err);
	char line[sizeof(err.message) + 16];
	int n = snprintf(line, sizeof(line), "%d %s", rc < 0 ? -rc : 0, rc < 0 ? err.message : "");
	if (write(fd, line, (size_t)n) < 0)
		_exit(2);
	_exit(rc < 0 ? 1 : 0);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct repo_job *j = arg;
	struct installs *s = j->owner;
	ssize_t n = read(fd, j->out + j->got, sizeof(j->out) - 1 - j->got);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		j->got += (size_t)n;
		if (j->got < sizeof(j->out) - 1)
			return;
	}
	int status = 0;
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->out[j->got] = '\0';
	char *rest = NULL;
	long code = strtol(j->out, &rest, 10);
	j->rc = j->got == 0 ? -EIO : code ? -(int)code : 0;
	snprintf(j->why, sizeof(j->why), "%s",
		 j->got == 0 ? "the download ended without a word" : rest + (*rest == ' '));
	j->done = true;
	event_free(j->ev);
	j->ev = NULL;
	close(j->fd);
	j->fd = -1;
	acre_log(j->rc ? ACRE_LOG_WARN : ACRE_LOG_INFO, "event=repo_fetched job=\"%s\" ok=%d%s%s%s",
		 j->key, j->rc == 0, j->rc ? " error=\"" : "", j->rc ? j->why : "",
		 j->rc ? "\"" : "");
	if (s->fetched)
		s->fetched(s->fetched_arg);
}

int repo_job_start(struct installs *s, struct repo_job *j, struct acre_error *err)
{
	int p[2];
	j->fd = -1;
	j->owner = s;
	if (!s->base)
		return acre_error_set(err, EOPNOTSUPP, "",
				      "repositories: no event loop to fetch on");
	if (acre_vec_reserve(&s->jobs, 1) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (pipe2(p, O_CLOEXEC) < 0)
		return acre_error_set(err, errno, "", "fetching: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return acre_error_set(err, errno, "", "fetching: %s", strerror(errno));
	}
	if (pid == 0) {
		/*
		 * Nothing of the controller's stays open in the child (its listening
		 * sockets would outlive a restart of the controller while a download
		 * runs), and its signals are the default ones again (the loop's
		 * handlers are the parent's).
		 */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (dup2(p[1], 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
			_exit(2);
		close_range(4, ~0U, 0);
		child(j, 3);
	}
	close(p[1]);
	j->pid = pid;
	j->fd = p[0];
	j->ev = event_new(s->base, j->fd, EV_READ | EV_PERSIST, on_readable, j);
	if (!j->ev || event_add(j->ev, NULL) < 0) {
		/* The child runs on; its result is lost, the verb says so now. */
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	s->jobs.v[s->jobs.n++] = j;
	acre_log(ACRE_LOG_INFO, "event=repo_fetch job=\"%s\" pid=%d", j->key, (int)pid);
	return 0;
}

void installs_on_fetched(struct installs *s, void (*fn)(void *), void *arg)
{
	s->fetched = fn;
	s->fetched_arg = arg;
}

int repo_path(const struct installs *s, char *buf, size_t len, const char *fmt, ...)
{
	char rest[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rest) ||
	    (size_t)snprintf(buf, len, "%s/repos/%s", s->data_dir, rest) >= len)
		return -ENAMETOOLONG;
	return 0;
}
