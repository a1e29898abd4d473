/*
 * The fetches under way.  A slice whose artifacts are not all in the cache
 * stays pending while a child process (fetch_child.c) gets the first one
 * missing; the event loop only watches the child's pidfd, so a slow
 * server never holds up the node.  Slices that need the same checksum
 * wait on the one fetch of it: one download, however many ask.  When the
 * child ends, each waiting slice looks again: launched when all is there,
 * on to the next fetch, or failed with launch_failed: artifact URI: WHY
 * (a slice that names the sum by another URI tries that one instead).
 * A child dies with the supervisor (PR_SET_PDEATHSIG); what it left
 * half-written is removed at the next start.
 */
#include "fetch_internal.h"
#include "checkpoint.h"
#include "slice.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct fetch {
	struct supervisor *sv;
	char key[FETCH_KEY_LEN + 1]; /* artifact_key: the sum, or what names it */
	char *uri;
	pid_t pid;
	int pidfd;
	int msg_fd; /* why it failed, from the child */
	struct event *ev;
	char **waiters; /* names of the slices that wait on it */
	ACRE_LIST_FIELDS(struct fetch, fetches);
};

static void fetch_release(struct fetch *x)
{
	if (x->ev)
		event_free(x->ev);
	acre_pidfd_kill_and_reap(x->pidfd); /* nothing when it has been reaped */
	if (x->msg_fd >= 0)
		close(x->msg_fd);
	acre_strv_free(x->waiters);
	free(x->uri);
	free(x);
}

static void remove_leftover(int dfd, const char *name, const char *dir)
{
	(void)dfd;
	char path[PATH_MAX];
	if (!strncmp(name, ".tmp-", 5) &&
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path))
		artifact_remove_tree(path);
}

static int leftover(int dfd, const char *name, unsigned char type, void *ud)
{
	(void)type;
	remove_leftover(dfd, name, ud);
	return 0;
}

int fetch_init(struct supervisor *sv, struct acre_error *err)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	char state[PATH_MAX];
	if (!realpath(sv->opt.state_dir, state) ||
	    (size_t)snprintf(f->dir, sizeof(f->dir), "%s/artifacts", state) >= sizeof(f->dir) ||
	    (mkdir(f->dir, 0755) < 0 && errno != EEXIST)) {
		int e = errno;
		free(f);
		return acre_error_set(err, e, NULL, "making %s/artifacts: %s", sv->opt.state_dir,
				      strerror(e));
	}
	acre_dir_foreach(AT_FDCWD, f->dir, leftover, f->dir);
	sv->fetcher = f;
	return 0;
}

void fetch_free(struct supervisor *sv)
{
	struct fetcher *f = sv->fetcher;
	if (!f)
		return;
	struct fetch *x, *next;
	ACRE_LIST_FOREACH_SAFE (fetches, x, next, f->fetches)
		fetch_release(x);
	free(f);
	sv->fetcher = NULL;
}

/* Ends a slice that never ran, as the end of a run does: removed if it was to be. */
static void end_unlaunched(struct slice *s, enum acre_slice_state st, const char *reason)
{
	s->fetching = false;
	s->rec.finished_at = acre_now_ms();
	slice_set_state(s, st, reason);
	if (s->removing || s->rec.remove_on_exit) {
		slice_publish(s);
		slice_destroy(s);
		return;
	}
	checkpoint_write(s->sv, &s->rec);
	slice_publish(s);
	for (int i = 0; i < 3; i++) {
		if (s->stdio[i] >= 0)
			close(s->stdio[i]);
		s->stdio[i] = -1;
	}
}

/* The slice's launch failed before it began: its artifact could not be had. */
static void fail_slice(struct slice *s, const char *why)
{
	acre_log(ACRE_LOG_ERROR, "slice=%s event=launch_failed error=\"%s\"", s->rec.spec.name,
		 why);
	snprintf(s->rec.exit.launch_failed, sizeof(s->rec.exit.launch_failed), "%s", why);
	s->rec.exit.known = true;
	char reason[sizeof(s->rec.reason)];
	acre_exit_reason(&s->rec.exit, reason, sizeof(reason));
	end_unlaunched(s, ACRE_SLICE_FAILED, reason);
}

/* Its artifacts are in: the launch that waited for them goes on. */
static void resume(struct slice *s)
{
	struct acre_error err = {0};
	int rc = fetch_artifacts(s, &err);
	if (rc == 0)
		rc = slice_launch(s, &err);
	if (rc < 0) {
		fail_slice(s, err.message);
	} else if (rc == 1) { /* on to its next artifact */
		checkpoint_write(s->sv, &s->rec);
		slice_publish(s);
	}
}

/* The failed fetch was of the slice's own URI: else its URI may yet serve the sum. */
static bool fetched_its_uri(const struct slice *s, const struct fetch *x)
{
	for (size_t i = 0; i < s->rec.spec.nartifacts; i++) {
		const struct acre_artifact *a = &s->rec.spec.artifacts[i];
		char key[FETCH_KEY_LEN + 1];
		artifact_key(a, key);
		if (!strcmp(key, x->key) && !strcmp(a->uri, x->uri))
			return true;
	}
	return false;
}

static void on_child_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fetch *x = arg;
	struct supervisor *sv = x->sv;
	siginfo_t si = {0};
	bool ok = waitid(P_PIDFD, (id_t)x->pidfd, &si, WEXITED) == 0 && si.si_code == CLD_EXITED &&
		  si.si_status == 0;
	char msg[200] = "", why[sizeof(((struct acre_exit *)0)->launch_failed)];
	ssize_t n = read(x->msg_fd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	if (!ok && !msg[0])
		snprintf(msg, sizeof(msg), "the fetch ended unexpectedly");
	snprintf(why, sizeof(why), "artifact %s: %s", x->uri, msg);
	acre_log(ok ? ACRE_LOG_INFO : ACRE_LOG_ERROR, "artifact=%s uri=%s event=%s%s%s%s", x->key,
		 x->uri, ok ? "fetched" : "fetch_failed", ok ? "" : " error=\"", ok ? "" : msg,
		 ok ? "" : "\"");
	close(x->pidfd);
	x->pidfd = -1; /* reaped */
	ACRE_LIST_REMOVE(fetches, sv->fetcher->fetches, x);
	/* Slices may come and go while the waiters are told: by name, one at a time. */
	for (char **w = x->waiters; w && *w; w++) {
		struct slice *s = slice_find(sv, *w);
		if (!s || !s->fetching)
			continue;
		s->fetching = false;
		if (ok || !fetched_its_uri(s, x))
			resume(s);
		else
			fail_slice(s, why);
	}
	fetch_release(x);
}

static void child_main(const struct fetcher *f, const struct acre_artifact *a, int msg_fd)
{
	/* Ends with the supervisor; takes the default for what the supervisor handles. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN); /* a server that hangs up is an error to report, not a death */
	char why[200] = "";
	int rc = fetch_child_run(f, a, why, sizeof(why));
	if (rc < 0 && write(msg_fd, why, strlen(why)) < 0)
		_exit(2);
	_exit(rc < 0 ? 1 : 0);
}

static struct fetch *start(struct supervisor *sv, const struct acre_artifact *a,
			   struct acre_error *err)
{
	struct fetch *x = calloc(1, sizeof(*x));
	int p[2] = {-1, -1};
	if (!x || !(x->uri = strdup(a->uri)) || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(x ? x->uri : NULL);
		free(x);
		acre_error_set(err, errno ? errno : ENOMEM, NULL, "fetching %s: %s", a->uri,
			       strerror(errno ? errno : ENOMEM));
		return NULL;
	}
	x->sv = sv;
	artifact_key(a, x->key);
	x->msg_fd = p[0];
	x->pidfd = -1;
	x->pid = fork();
	if (x->pid == 0) {
		close(p[0]);
		child_main(sv->fetcher, a, p[1]);
	}
	int e = errno;
	close(p[1]);
	if (x->pid > 0 && (x->pidfd = pidfd_open(x->pid, 0)) >= 0)
		x->ev = event_new(sv->base, x->pidfd, EV_READ, on_child_end, x);
	if (x->pid < 0 || x->pidfd < 0 || !x->ev || event_add(x->ev, NULL) < 0) {
		if (x->pid > 0 && x->pidfd < 0) {
			kill(x->pid, SIGKILL);
			waitpid(x->pid, NULL, 0);
		}
		fetch_release(x);
		acre_error_set(err, e ? e : EIO, NULL, "fetching %s: starting its process", a->uri);
		return NULL;
	}
	ACRE_LIST_PREPEND(fetches, sv->fetcher->fetches, x);
	acre_log(ACRE_LOG_INFO, "artifact=%s uri=%s event=fetch_started pid=%d", x->key, a->uri,
		 (int)x->pid);
	return x;
}

int fetch_artifacts(struct slice *s, struct acre_error *err)
{
	struct supervisor *sv = s->sv;
	const struct acre_slice_spec *spec = &s->rec.spec;
	for (size_t i = 0; i < spec->nartifacts; i++) {
		const struct acre_artifact *a = &spec->artifacts[i];
		if (artifact_ready(sv->fetcher, a))
			continue;
		/* One fetch of a sum at a time; the others wait on it and look again. */
		struct fetch *x;
		char key[FETCH_KEY_LEN + 1];
		artifact_key(a, key);
		ACRE_LIST_FOREACH (fetches, x, sv->fetcher->fetches)
			if (!strcmp(x->key, key))
				break;
		if (!x && !(x = start(sv, a, err)))
			return -EIO;
		if (acre_strv_push(&x->waiters, spec->name) < 0)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		s->fetching = true;
		/* What `slice show` says while it is pending. */
		snprintf(s->rec.reason, sizeof(s->rec.reason), "fetching artifact %s", a->uri);
		acre_log(ACRE_LOG_INFO, "slice=%s event=fetching artifact=%s", spec->name, key);
		return 1;
	}
	return 0;
}

/* A recovered slice to look at once the event loop runs. */
struct resume_later {
	struct supervisor *sv;
	char name[ACRE_NAME_MAX + 1];
};

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	_cleanup_free_ struct resume_later *r = arg;
	struct slice *s = slice_find(r->sv, r->name);
	if (s && !s->fetching && !slice_is_active(s) && s->rec.state == ACRE_SLICE_PENDING) {
		acre_log(ACRE_LOG_INFO, "slice=%s event=fetch_resumed", r->name);
		resume(s);
	}
}

void fetch_resume_later(struct supervisor *sv, const char *name)
{
	struct resume_later *r = calloc(1, sizeof(*r));
	struct timeval now = {0, 0};
	if (r) {
		r->sv = sv;
		snprintf(r->name, sizeof(r->name), "%s", name);
		if (event_base_once(sv->base, -1, EV_TIMEOUT, on_resume, r, &now) == 0)
			return;
	}
	acre_log(ACRE_LOG_ERROR, "slice=%s event=fetch_resume_failed error=\"out of memory\"",
		 name);
	free(r);
}

void fetch_cancel(struct slice *s)
{
	/* Its name among the fetch's waiters is passed over from now on. */
	s->rec.killed_by_user = true;
	end_unlaunched(s, ACRE_SLICE_KILLED, "killed while fetching its artifacts");
}
