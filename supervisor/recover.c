/*
 * Start-up after a crash or an upgrade: every slice checkpointed under the
 * state directory is read back.  Those whose acre-init still runs (same pid,
 * same start time) are adopted through a pidfd; those that ended meanwhile
 * are settled from the exit record acre-init left; cgroups under our
 * subtree that belong to no slice are emptied and removed.
 */
#include "recover.h"
#include "checkpoint.h"
#include "fetch.h"
#include "health.h"
#include "prelaunch.h"
#include "slice.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/pidfd.h>

static int read_record(struct supervisor *sv, const char *name, struct acre_slice_record *rec,
		       struct acre_error *err)
{
	char rel[ACRE_NAME_MAX + 16];
	snprintf(rel, sizeof(rel), "%s/slice.json", name);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = acre_file_read(sv->slices_fd, rel, &text, &len, 16 << 20);
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "reading %s: %s", rel, strerror(-rc));
	json_error_t jerr;
	_cleanup_json_ json_t *j = json_loadb(text, len, 0, &jerr);
	if (!j)
		return acre_error_set(err, EINVAL, NULL, "%s: %s", rel, jerr.text);
	rc = acre_slice_record_from_json(j, rec, err);
	if (rc == 0 && strcmp(rec->spec.name, name) != 0) {
		acre_slice_record_free(rec);
		return acre_error_set(err, EINVAL, NULL, "%s names another slice", rel);
	}
	return rc;
}

/* The same process we launched: a pid can be reused, its start time cannot. */
static int adopt(struct slice *s)
{
	if (s->rec.pid <= 0 || s->rec.pid_start == 0)
		return -ESRCH;
	int fd = pidfd_open(s->rec.pid, 0);
	if (fd < 0)
		return -errno;
	if (acre_process_start_time(s->rec.pid) != s->rec.pid_start) {
		close(fd);
		return -ESRCH;
	}
	/* A zombie (reaped by nobody yet) has ended as far as we are concerned. */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 0) == 1) {
		close(fd);
		return -ESRCH;
	}
	s->pidfd = fd;
	s->is_child = false;
	s->pid_ev = event_new(s->sv->base, fd, EV_READ, slice_on_exit, s);
	if (!s->pid_ev)
		return -ENOMEM;
	event_add(s->pid_ev, NULL);
	return 0;
}

static void recover_one(struct supervisor *sv, const char *name)
{
	struct acre_error err = {0};
	struct slice *s = slice_alloc(sv);
	if (!s)
		return;
	if (read_record(sv, name, &s->rec, &err) < 0) {
		acre_log(ACRE_LOG_WARN,
			 "slice=%s event=unreadable_state action=remove error=\"%s\"", name,
			 err.message);
		free(s);
		checkpoint_dir_remove(sv, name);
		return;
	}
	if (acre_cgroup_open(sv->cgroups, s->rec.cgroup, &s->cgroup, &err) < 0 ||
	    acre_map_put(sv->slices, name, s) < 0) {
		slice_free(s);
		return;
	}
	slice_account(s);
	if (slice_prepare(s, &err) < 0)
		acre_log(ACRE_LOG_WARN, "slice=%s event=cannot_relaunch error=\"%s\"", name,
			 err.message);
	s->oom_base = acre_cgroup_oom_kills(s->cgroup);
	enum acre_slice_state st = s->rec.state;
	/* It waited for its artifacts when the last supervisor stopped: it waits again. */
	if (st == ACRE_SLICE_PENDING && s->rec.pid == 0 && s->rec.spec.nartifacts) {
		fetch_resume_later(sv, name);
		return;
	}
	if (st == ACRE_SLICE_STARTING || st == ACRE_SLICE_RUNNING || st == ACRE_SLICE_PENDING) {
		if (adopt(s) == 0) {
			/* OOM kills before now belong to earlier runs only if it restarted. */
			if (s->rec.restarts == 0)
				s->oom_base = 0;
			if (st != ACRE_SLICE_RUNNING) {
				slice_set_state(s, ACRE_SLICE_RUNNING, "adopted");
				slice_publish(s);
			}
			acre_log(ACRE_LOG_INFO, "slice=%s event=adopted pid=%d", name,
				 (int)s->rec.pid);
			health_adopted(s);
			return;
		}
		if (s->rec.restarts == 0)
			s->oom_base = 0;
		slice_settle_ended(s);
		return;
	}
	slice_resume_policy(s);
}

static int collect_name(int dfd, const char *entry, unsigned char type, void *ud)
{
	(void)dfd;
	(void)type;
	return entry[0] == '.' ? 0 : acre_strv_push(ud, entry);
}

int recover_slices(struct supervisor *sv)
{
	/* Names first, then the slices: recovering one may remove its directory. */
	_cleanup_strv_free_ char **names = NULL;
	int rc = acre_dir_foreach(sv->slices_fd, ".", collect_name, &names);
	if (rc < 0 && rc != -ENOMEM)
		return rc;
	for (size_t i = 0; names && names[i]; i++) {
		if (acre_slice_name_valid(names[i]))
			recover_one(sv, names[i]);
	}
	return 0;
}

struct cgroup_search {
	const char *name;
	bool found;
};

static void match_cgroup(const char *key, void *value, void *ud)
{
	(void)key;
	struct cgroup_search *q = ud;
	const struct slice *s = value;
	if (!strcmp(s->rec.cgroup, q->name))
		q->found = true;
}

static bool cgroup_in_use(struct supervisor *sv, const char *name)
{
	struct cgroup_search q = {.name = name};
	acre_map_foreach(sv->slices, match_cgroup, &q);
	return q.found || prelaunch_owns_cgroup(sv, name);
}

/*
 * Orphans are killed at once and removed as they empty, from a timer: a
 * thousand of them take seconds to die (each takes its namespaces along),
 * and the socket is served meanwhile.
 */
struct sweep {
	struct supervisor *sv;
	struct acre_cgroup **orphans;
	size_t n;
	struct event *timer;
	int rounds;
};

static void sweep_free(struct sweep *w)
{
	for (size_t i = 0; i < w->n; i++)
		acre_cgroup_free(w->orphans[i]);
	free(w->orphans);
	if (w->timer)
		event_free(w->timer);
	free(w);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sweep *w = arg;
	size_t left = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct acre_cgroup *cg = w->orphans[i];
		struct acre_error err = {0};
		if (acre_cgroup_is_empty(cg) && acre_cgroup_remove(cg, &err) == 0) {
			acre_log(ACRE_LOG_INFO, "cgroup=%s event=orphan_removed",
				 acre_cgroup_name(cg));
			acre_cgroup_free(cg);
			continue;
		}
		if (w->rounds % 20 == 19)
			acre_cgroup_kill_all(cg); /* something new got in: kill again */
		w->orphans[left++] = cg;
	}
	w->n = left;
	/* Give up after a minute: whatever resists is logged, not looped on forever. */
	if (w->n == 0 || ++w->rounds > 1200) {
		for (size_t i = 0; i < w->n; i++)
			acre_log(ACRE_LOG_ERROR, "cgroup=%s event=orphan_remove_failed",
				 acre_cgroup_name(w->orphans[i]));
		w->sv->sweep = NULL;
		sweep_free(w);
		return;
	}
	struct timeval tv = {0, 50000};
	evtimer_add(w->timer, &tv);
}

void recover_sweep_cgroups(struct supervisor *sv)
{
	_cleanup_strv_free_ char **names = NULL;
	if (acre_cgroup_system_list(sv->cgroups, &names) < 0)
		return;
	struct sweep *w = calloc(1, sizeof(*w));
	if (!w)
		return;
	w->sv = sv;
	w->orphans = calloc(acre_strv_length(names) + 1, sizeof(*w->orphans));
	w->timer = evtimer_new(sv->base, on_sweep, w);
	if (!w->orphans || !w->timer) {
		sweep_free(w);
		return;
	}
	for (size_t i = 0; names[i]; i++) {
		struct acre_cgroup *cg;
		if (cgroup_in_use(sv, names[i]) ||
		    acre_cgroup_open(sv->cgroups, names[i], &cg, NULL) < 0)
			continue;
		int killed = acre_cgroup_kill_all(cg);
		acre_log(ACRE_LOG_INFO, "cgroup=%s event=orphan_found killed=%d", names[i], killed);
		/* A slice made before a crash and never recorded: its counters exist. */
		if (sv->bpf)
			acre_bpf_slice_remove(sv->bpf, acre_cgroup_id(cg));
		w->orphans[w->n++] = cg;
	}
	if (w->n == 0) {
		sweep_free(w);
		return;
	}
	sv->sweep = w;
	on_sweep(-1, 0, w);
}

void recover_sweep_free(struct supervisor *sv)
{
	if (sv->sweep)
		sweep_free(sv->sweep);
	sv->sweep = NULL;
}
