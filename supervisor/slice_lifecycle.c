/*
 * The life of a slice in the supervisor: checking a spec against this node,
 * creating its state directory and cgroups, launching it (again, under a
 * restart policy), signalling and stopping it, and removing every trace of
 * it.  A creation that fails half-way undoes what it did, in reverse.  Each
 * change of state goes to the observers registered on the supervisor; who
 * they are is none of this file's business.
 */
#include "slice.h"
#include "checkpoint.h"
#include "dns.h"
#include "egress.h"
#include "network.h"
#include "prelaunch.h"
#include "rwroot.h"
#include "volume.h"
#include "fetch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

void slice_account(struct slice *s)
{
	struct acre_bpf *b = s->sv->bpf;
	int rc = b ? acre_bpf_slice_add(b, acre_cgroup_id(s->cgroup)) : 0;
	if (rc < 0)
		acre_log(ACRE_LOG_WARN, "slice=%s event=not_accounted error=\"%s\"",
			 s->rec.spec.name, strerror(-rc));
}

struct slice *slice_find(struct supervisor *sv, const char *name)
{
	return acre_map_get(sv->slices, name);
}

bool slice_is_active(const struct slice *s)
{
	return s && s->pidfd >= 0;
}

/* The timer stays allocated between restarts: only a pending one means a next run. */
bool slice_restart_pending(const struct slice *s)
{
	return s->restart_timer && evtimer_pending(s->restart_timer, NULL);
}

bool slice_has_ended(const struct slice *s)
{
	return !slice_is_active(s) && !slice_restart_pending(s);
}

void slice_observer_add(struct supervisor *sv, struct slice_observer *o)
{
	ACRE_LIST_PREPEND(observers, sv->observers, o);
}

void slice_observer_remove(struct supervisor *sv, struct slice_observer *o)
{
	ACRE_LIST_REMOVE(observers, sv->observers, o);
}

void slice_health_observer_add(struct supervisor *sv, struct slice_observer *o)
{
	ACRE_LIST_PREPEND(observers, sv->health_observers, o);
}

void slice_health_observer_remove(struct supervisor *sv, struct slice_observer *o)
{
	ACRE_LIST_REMOVE(observers, sv->health_observers, o);
}

void slice_publish_health(struct slice *s)
{
	struct slice_observer *o, *next;
	ACRE_LIST_FOREACH_SAFE (observers, o, next, s->sv->health_observers)
		o->changed(o->ud, s);
}

void slice_publish(struct slice *s)
{
	struct slice_observer *o, *next;
	ACRE_LIST_FOREACH_SAFE (observers, o, next, s->sv->observers)
		o->changed(o->ud, s);
}

void slice_set_state(struct slice *s, enum acre_slice_state st, const char *reason)
{
	s->rec.state = st;
	snprintf(s->rec.reason, sizeof(s->rec.reason), "%s", reason ? reason : "");
	if (reason && *reason)
		acre_log(ACRE_LOG_INFO, "slice=%s state=%s pid=%d reason=\"%s\"", s->rec.spec.name,
			 acre_slice_state_name(st), (int)s->rec.pid, reason);
	else
		acre_log(ACRE_LOG_INFO, "slice=%s state=%s pid=%d", s->rec.spec.name,
			 acre_slice_state_name(st), (int)s->rec.pid);
}

/* What this node can give: more CPUs or memory than it has is a mistake, not a wish. */
static int check_capacity(struct supervisor *sv, const struct acre_slice_spec *spec,
			  struct acre_error *err)
{
	if (spec->resources.cpus_milli > sv->ncpus * 1000)
		return acre_error_set(err, EINVAL, "resources.cpus",
				      "resources.cpus %g: this node has %u CPUs",
				      spec->resources.cpus_milli / 1000.0, sv->ncpus);
	if (spec->resources.memory > sv->memory_total) {
		char have[32];
		acre_format_size(sv->memory_total, have, sizeof(have));
		return acre_error_set(err, EINVAL, "resources.memory",
				      "resources.memory: more than this node's %s", have);
	}
	struct stat st;
	if (stat(spec->isolation.rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return acre_error_set(err, errno ? errno : ENOTDIR, "isolation.rootfs",
				      "isolation.rootfs %s: %s", spec->isolation.rootfs,
				      errno ? strerror(errno) : "not a directory");
	return 0;
}

char **slice_env(const struct acre_slice_spec *spec, const struct acre_user *user)
{
	char **env = NULL;
	char buf[512];
	bool ok = acre_strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
				       "/sbin:/bin") == 0;
	snprintf(buf, sizeof(buf), "HOME=%s", user->home);
	ok = ok && acre_strv_push(&env, buf) == 0;
	snprintf(buf, sizeof(buf), "HOSTNAME=%s", spec->name);
	ok = ok && acre_strv_push(&env, buf) == 0;
	/* The spec's own variables win over the defaults above. */
	for (size_t i = 0; ok && spec->env && spec->env[i]; i++) {
		size_t klen = (size_t)(strchr(spec->env[i], '=') - spec->env[i]);
		for (size_t j = 0; env[j]; j++) {
			if (strncmp(env[j], spec->env[i], klen + 1) == 0) {
				free(env[j]);
				for (size_t k = j; env[k]; k++)
					env[k] = env[k + 1];
				break;
			}
		}
		ok = acre_strv_push(&env, spec->env[i]) == 0;
	}
	if (!ok) {
		acre_strv_free(env);
		return NULL;
	}
	return env;
}

static int open_stdio(struct slice *s, int fds[3], struct acre_error *err)
{
	/* A foreground slice re-adopted after a restart has lost its client: log instead. */
	if (s->rec.foreground && s->stdio[0] >= 0) {
		for (int i = 0; i < 3; i++)
			fds[i] = s->stdio[i];
		return 0;
	}
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = checkpoint_open(s->sv, s->rec.spec.name, "log", O_WRONLY | O_CREAT | O_APPEND);
	fds[2] = fds[1];
	if (fds[0] < 0 || fds[1] < 0) {
		int e = errno;
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return acre_error_set(err, e, NULL, "opening the log of %s: %s", s->rec.spec.name,
				      strerror(e));
	}
	return 0;
}

static void close_stdio(struct slice *s, int fds[3])
{
	if (s->rec.foreground && s->stdio[0] >= 0)
		return; /* the client's fds are held for restarts, closed with the slice */
	close(fds[0]);
	close(fds[1]);
}

const struct acre_seccomp_filter *slice_seccomp_filter(const struct slice *s)
{
	switch (s->rec.spec.isolation.seccomp) {
	case ACRE_SECCOMP_DEFAULT:
		return s->sv->seccomp_default;
	case ACRE_SECCOMP_PROFILE:
		return s->seccomp_profile;
	default:
		return NULL;
	}
}

/* Hands the spec to the prelaunched acre-init, if the slice has one. */
static int claim_parked(struct slice *s, const struct acre_launch_config *cfg,
			struct acre_launch *l)
{
	s->from_prelaunch = false;
	if (!s->has_parked)
		return -ENOENT;
	struct acre_error err = {0};
	struct acre_launch_park park = prelaunch_park_for(s->sv, &s->rec.spec, s->cgroup);
	s->has_parked = false;
	if (acre_launch_claim(&park, &s->parked, cfg, &err) == 0) {
		*l = s->parked;
		s->from_prelaunch = true;
		return 0;
	}
	acre_log(ACRE_LOG_WARN, "slice=%s event=prelaunch_unused error=\"%s\"", s->rec.spec.name,
		 err.message);
	prelaunch_discard_launch(&s->parked); /* its cgroups stay, for a direct launch */
	return -EAGAIN;
}

int slice_launch(struct slice *s, struct acre_error *err)
{
	struct supervisor *sv = s->sv;
	const char *name = s->rec.spec.name;
	_cleanup_close_ int exit_fd = checkpoint_open(sv, name, "exit", O_RDWR | O_CREAT | O_TRUNC);
	if (exit_fd < 0)
		return acre_error_set(err, errno, NULL, "creating the exit record of %s: %s", name,
				      strerror(errno));
	_cleanup_strv_free_ char **env = slice_env(&s->rec.spec, &s->user);
	if (!env)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int stdio[3];
	int rc = open_stdio(s, stdio, err);
	if (rc < 0)
		return rc;
	s->oom_base = acre_cgroup_oom_kills(s->cgroup);
	struct acre_launch_config cfg = {
		.spec = &s->rec.spec,
		.seccomp = slice_seccomp_filter(s),
		.user = &s->user,
		.envp = env,
		.stdio = {stdio[0], stdio[1], stdio[2]},
		.exit_fd = exit_fd,
		/* A bridged slice's task waits for its network. */
		.hold = s->rec.spec.net_mode == ACRE_NET_BRIDGE,
		.resolv_conf = dns_resolv_conf_for(sv, &s->rec.spec),
		/*
		 * Ports below 1024 guard nothing in a namespace of the slice's
		 * own (Docker opens them too); the host's are never touched.
		 */
		.unprivileged_ports = (s->rec.spec.isolation.namespaces & ACRE_NS_NET) &&
				      s->rec.spec.net_mode != ACRE_NET_HOST,
	};
	char rw_layer[PATH_MAX];
	if (acre_slice_spec_rw_host_root(&s->rec.spec)) {
		rc = rwroot_ensure(sv, &s->rec.spec, rw_layer, sizeof(rw_layer), err);
		if (rc < 0) {
			close_stdio(s, stdio);
			return rc;
		}
		cfg.rw_layer = rw_layer;
	}
	struct volume_handles vols = {0};
	if ((rc = volumes_open(sv, s, &vols, err)) < 0) {
		close_stdio(s, stdio);
		return rc;
	}
	/* The artifacts' read-only trees go after the volumes: one list for acre-init. */
	struct artifact_handles arts = {0};
	if ((rc = artifacts_open(sv, &s->rec.spec, &arts, err)) < 0) {
		volume_handles_close(&vols);
		close_stdio(s, stdio);
		return rc;
	}
	int mount_fds[ACRE_VOLUMES_MAX + ACRE_ARTIFACTS_MAX];
	const char *mount_paths[ACRE_VOLUMES_MAX + ACRE_ARTIFACTS_MAX];
	size_t nmounts = 0;
	for (size_t i = 0; i < vols.n; i++, nmounts++) {
		mount_fds[nmounts] = vols.fds[i];
		mount_paths[nmounts] = vols.paths[i];
	}
	for (size_t i = 0; i < arts.n; i++, nmounts++) {
		mount_fds[nmounts] = arts.fds[i];
		mount_paths[nmounts] = arts.paths[i];
	}
	cfg.volume_fds = mount_fds;
	cfg.volume_paths = mount_paths;
	cfg.nvolumes = nmounts;
	struct acre_launch l;
	rc = claim_parked(s, &cfg, &l);
	if (rc < 0) {
		struct acre_launch_park park = prelaunch_park_for(sv, &s->rec.spec, s->cgroup);
		rc = acre_launch_start(&park, &cfg, &l, err);
	}
	close_stdio(s, stdio);
	volume_handles_close(&vols); /* acre-init has its copies */
	artifact_handles_close(&arts);
	if (rc < 0)
		return rc;
	if (cfg.hold)
		rc = network_attach(sv, &s->rec.spec, l.pid, &s->veth_ifindex, err);
	if (cfg.hold && rc == 0)
		dns_slice_launching(sv, s); /* named before its task can ask for its own name */
	if (cfg.hold && rc == 0 && acre_launch_release(&l) < 0)
		rc = acre_error_set(err, EIO, NULL, "releasing %s", name);
	struct event *status_ev = NULL, *pid_ev = NULL;
	if (rc == 0) {
		status_ev =
			event_new(sv->base, l.status_fd, EV_READ | EV_PERSIST, slice_on_status, s);
		pid_ev = event_new(sv->base, l.pidfd, EV_READ, slice_on_exit, s);
		if (!status_ev || !pid_ev)
			rc = acre_error_set(err, ENOMEM, NULL, "watching slice %s", name);
	}
	if (rc < 0) {
		/* Half launched, or a run nobody would see end: not left running. */
		if (status_ev)
			event_free(status_ev);
		if (pid_ev)
			event_free(pid_ev);
		acre_pidfd_kill_and_reap(l.pidfd);
		close(l.status_fd);
		return rc;
	}
	s->pidfd = l.pidfd;
	s->status_fd = l.status_fd;
	s->status_ev = status_ev;
	s->pid_ev = pid_ev;
	s->is_child = true;
	s->rec.pid = l.pid;
	s->rec.pid_start = acre_process_start_time(l.pid);
	s->rec.task_pid = 0;
	s->rec.killed_by_user = false;
	s->stop_reason[0] = '\0';
	s->rec.started_at = acre_now_ms();
	s->rec.finished_at = 0;
	memset(&s->rec.exit, 0, sizeof(s->rec.exit));
	s->launch_error[0] = '\0';
	event_add(s->status_ev, NULL);
	event_add(s->pid_ev, NULL);
	slice_set_state(s, ACRE_SLICE_STARTING, NULL);
	/* Written while the child builds the slice on another CPU. */
	checkpoint_write(sv, &s->rec);
	slice_publish(s);
	return 0;
}

struct slice *slice_alloc(struct supervisor *sv)
{
	struct slice *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sv = sv;
	s->pidfd = -1;
	s->status_fd = -1;
	s->stdio[0] = s->stdio[1] = s->stdio[2] = -1;
	s->backoff_ms = 100;
	s->health.ready = true; /* no readiness check is a ready one */
	return s;
}

/* Everything before the launch that can fail on the spec, with nothing created yet. */
int slice_prepare(struct slice *s, struct acre_error *err)
{
	struct supervisor *sv = s->sv;
	struct acre_slice_spec *spec = &s->rec.spec;
	int rc = check_capacity(sv, spec, err);
	if (rc == 0)
		rc = acre_user_resolve(spec->isolation.rootfs, spec->user, &s->user, err);
	if (rc == 0 && spec->isolation.seccomp == ACRE_SECCOMP_PROFILE)
		rc = acre_seccomp_compile_profile(spec->isolation.seccomp_profile,
						  &s->seccomp_profile, err);
	return rc;
}

int slice_create(struct supervisor *sv, struct acre_slice_spec *spec,
		 const struct slice_run_options *o, struct slice **out, struct acre_error *err)
{
	if (!spec->name[0]) {
		do
			acre_slice_name_generate(spec->name, sizeof(spec->name));
		while (slice_find(sv, spec->name));
	}
	const char *name = spec->name;
	if (slice_find(sv, name))
		return acre_error_set(err, EEXIST, "name",
				      "slice %s already exists (state %s); remove it first", name,
				      acre_slice_state_name(slice_find(sv, name)->rec.state));
	struct slice *s = slice_alloc(sv);
	if (!s)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	s->rec.spec = *spec;
	memset(spec, 0, sizeof(*spec)); /* the slice owns it now */
	s->rec.state = ACRE_SLICE_PENDING;
	s->rec.created_at = acre_now_ms();
	s->rec.foreground = o->foreground;
	s->rec.remove_on_exit = o->remove_on_exit;
	name = s->rec.spec.name;
	/* A new slice's node ports: a recovered one had them already. */
	int rc = egress_publish_check(sv, &s->rec.spec, err);
	if (rc == 0)
		rc = slice_prepare(s, err);
	if (rc < 0)
		goto fail;
	if ((rc = checkpoint_dir_create(sv, name, err)) < 0)
		goto fail;
	if ((rc = rwroot_prepare(sv, &s->rec.spec, err)) < 0)
		goto undo_dir;
	struct prelaunch_slot slot;
	if (prelaunch_take(sv, &s->rec.spec, &slot)) {
		s->cgroup = slot.cgroup;
		s->parked = slot.launch;
		s->has_parked = true;
	} else {
		char cgname[ACRE_NAME_MAX + 1];
		prelaunch_cgroup_name(cgname, sizeof(cgname));
		if ((rc = acre_cgroup_create(sv->cgroups, cgname, &s->cgroup, err)) < 0)
			goto undo_rwroot;
	}
	snprintf(s->rec.cgroup, sizeof(s->rec.cgroup), "%s", acre_cgroup_name(s->cgroup));
	if ((rc = acre_cgroup_set_limits(s->cgroup, &s->rec.spec.resources, err)) < 0)
		goto undo_cgroup;
	slice_account(s);
	if ((rc = network_prepare(sv, &s->rec.spec, acre_cgroup_id(s->cgroup), err)) < 0)
		goto undo_cgroup;
	if ((rc = acre_map_put(sv->slices, name, s)) < 0) {
		acre_error_set(err, ENOMEM, NULL, "out of memory");
		goto undo_cgroup;
	}
	/* From here on the fds belong to the slice, for its first run and its restarts. */
	for (int i = 0; i < 3; i++)
		s->stdio[i] = o->stdio[i];
	/* Artifacts not in the cache yet: the slice is pending until fetch.c launches it. */
	rc = fetch_artifacts(s, err);
	if (rc == 0)
		rc = slice_launch(s, err);
	if (rc < 0)
		goto undo_map;
	if (s->fetching) {
		checkpoint_write(sv, &s->rec);
		slice_publish(s);
	}
	*out = s;
	return 0;
undo_map:
	acre_map_remove(sv->slices, name);
	for (int i = 0; i < 3; i++)
		s->stdio[i] = -1; /* still the caller's */
undo_cgroup:
	network_release(sv, &s->rec.spec, false, &s->veth_ifindex);
	if (sv->bpf)
		acre_bpf_slice_remove(sv->bpf, acre_cgroup_id(s->cgroup));
	if (s->has_parked) {
		prelaunch_discard_launch(&s->parked);
		s->has_parked = false;
	}
	acre_cgroup_remove(s->cgroup, NULL);
undo_rwroot:
	if (acre_slice_spec_rw_host_root(&s->rec.spec))
		rwroot_release(sv, name);
undo_dir:
	checkpoint_dir_remove(sv, name);
fail:
	acre_error_prefix(err, "creating slice %s", name);
	*spec = s->rec.spec; /* back to the caller, who frees it */
	memset(&s->rec.spec, 0, sizeof(s->rec.spec));
	slice_free(s);
	return rc;
}

int slice_signal(struct slice *s, int sig, bool ending, struct acre_error *err)
{
	if (!slice_is_active(s))
		return acre_error_set(err, ESRCH, "name", "slice %s is not running (state %s)",
				      s->rec.spec.name, acre_slice_state_name(s->rec.state));
	/*
	 * On disk before the signal goes: a supervisor that dies before it sees
	 * the end must not take a kill for a failure (and restart it on-failure).
	 */
	if (ending && !s->rec.killed_by_user) {
		s->rec.killed_by_user = true;
		checkpoint_write(s->sv, &s->rec);
		dns_slice_ending(s->sv, s); /* out of its names before the signal */
	}
	if (pidfd_send_signal(s->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return acre_error_set(err, errno, NULL, "signalling slice %s: %s", s->rec.spec.name,
				      strerror(errno));
	acre_log(ACRE_LOG_INFO, "slice=%s event=signal signal=%s", s->rec.spec.name,
		 acre_signal_name(sig) ? acre_signal_name(sig) : "?");
	return 0;
}

static void on_kill_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct slice *s = arg;
	if (slice_is_active(s))
		slice_signal(s, SIGKILL, true, NULL);
}

static bool is_ending_signal(int sig)
{
	return sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

int slice_kill(struct slice *s, int sig, struct acre_error *err)
{
	if (s->fetching) {
		fetch_cancel(s); /* nothing runs yet, and nothing will */
		return 0;
	}
	if (!sig && slice_is_active(s)) {
		slice_stop(s); /* TERM, then KILL after the stop timeout */
		return 0;
	}
	if (!sig && slice_restart_pending(s)) {
		/* Between two runs: stopping means not starting again. */
		slice_stop(s);
		s->rec.killed_by_user = true;
		slice_set_state(s, ACRE_SLICE_KILLED,
				s->stop_reason[0] ? s->stop_reason : "killed before restart");
		checkpoint_write(s->sv, &s->rec);
		slice_publish(s);
		return 0;
	}
	/* A signal to send, or nothing running (which slice_signal reports). */
	sig = sig ? sig : SIGTERM;
	return slice_signal(s, sig, is_ending_signal(sig), err);
}

void slice_stop(struct slice *s)
{
	if (s->restart_timer)
		event_del(s->restart_timer);
	if (!slice_is_active(s))
		return;
	slice_signal(s, SIGTERM, true, NULL);
	if (!s->kill_timer)
		s->kill_timer = evtimer_new(s->sv->base, on_kill_timeout, s);
	struct timeval tv = {.tv_sec = (time_t)(s->sv->opt.stop_timeout_ms / 1000),
			     .tv_usec = (suseconds_t)(s->sv->opt.stop_timeout_ms % 1000) * 1000};
	if (s->kill_timer)
		evtimer_add(s->kill_timer, &tv);
}

int slice_remove(struct slice *s, bool force, struct acre_error *err)
{
	if (slice_is_active(s)) {
		if (!force)
			return acre_error_set(err, EBUSY, "name",
					      "slice %s is %s: kill it first, or remove it with "
					      "--force",
					      s->rec.spec.name,
					      acre_slice_state_name(s->rec.state));
		s->removing = true;
		slice_signal(s, SIGKILL, true, NULL);
		return 1; /* gone once its exit has been seen */
	}
	slice_destroy(s);
	return 0;
}

/* The slice's processes are gone; its cgroups may take a moment to notice. */
static void remove_cgroups(struct slice *s)
{
	struct acre_error err = {0};
	/* The slice's PID 1 is gone and took its namespace along: normally there is nothing to
	 * kill. */
	for (int i = 0; i < 200; i++) {
		if (acre_cgroup_remove(s->cgroup, &err) == 0)
			return;
		if (err.code != EBUSY)
			break;
		acre_cgroup_kill_all(s->cgroup);
		usleep(i ? 5000 : 500);
	}
	acre_log(ACRE_LOG_ERROR, "slice=%s event=cgroup_remove_failed error=\"%s\"",
		 s->rec.spec.name, err.message);
}

/* Out of the eBPF maps, its last counts kept for the observers of its end. */
static void forget_counters(struct slice *s)
{
	uint64_t id = acre_cgroup_id(s->cgroup);
	s->has_final_net = acre_bpf_net_read(s->sv->bpf, id, &s->final_net) == 0;
	s->has_final_runq = acre_bpf_runq_read(s->sv->bpf, id, &s->final_runq) == 0;
	acre_bpf_slice_remove(s->sv->bpf, id);
}

void slice_destroy(struct slice *s)
{
	struct supervisor *sv = s->sv;
	const char *name = s->rec.spec.name;
	if (s->restart_timer)
		event_del(s->restart_timer);
	/*
	 * Its record goes first: a crash after this point leaves cgroups, a
	 * lease and a veth that belong to no slice, which the next start
	 * removes as orphans.  A record outliving its cgroups would bring the
	 * slice back, removed or not, with nothing under it.
	 */
	checkpoint_dir_remove(sv, name);
	network_release(sv, &s->rec.spec, slice_is_active(s), &s->veth_ifindex);
	if (s->cgroup) {
		if (sv->bpf)
			forget_counters(s);
		remove_cgroups(s);
	}
	/* Its processes are gone: what it wrote over the host root goes too. */
	if (acre_slice_spec_rw_host_root(&s->rec.spec))
		rwroot_release(sv, name);
	acre_map_remove(sv->slices, name);
	slice_set_state(s, ACRE_SLICE_DESTROYED, NULL);
	/* Its record and cgroups are gone, so it is gone: tell. */
	slice_publish(s);
	slice_free(s);
}

void slice_free(struct slice *s)
{
	if (!s)
		return;
	if (s->has_parked)
		prelaunch_discard_launch(&s->parked);
	if (s->pid_ev)
		event_free(s->pid_ev);
	if (s->status_ev)
		event_free(s->status_ev);
	if (s->restart_timer)
		event_free(s->restart_timer);
	if (s->kill_timer)
		event_free(s->kill_timer);
	if (s->checkpoint_timer)
		event_free(s->checkpoint_timer);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->status_fd >= 0)
		close(s->status_fd);
	for (int i = 0; i < 3; i++)
		if (s->stdio[i] >= 0)
			close(s->stdio[i]);
	acre_seccomp_filter_free(s->seccomp_profile);
	acre_cgroup_free(s->cgroup);
	acre_slice_record_free(&s->rec);
	free(s);
}
