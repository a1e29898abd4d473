/*
 * The launch path: one clone3() puts the slice's first process into its new
 * namespaces and its v2 cgroup at once; the child then joins the v1
 * hierarchies, builds its root, drops to the slice's user and capabilities,
 * closes every stray fd, loads the precompiled seccomp filter and execs
 * acre-init from its read-only fd.  Any failure on the way is sent to the
 * supervisor over a SOCK_SEQPACKET pair as "E <errno> <message>"; acre-init
 * later sends "S <pid>" once the task itself has been exec'd.
 */
#include "isolation.h"
#include "launch_internal.h"
#include "netns/netns.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The fds acre-init finds: stdio, then the status channel and the exit record. */
enum { INIT_STATUS_FD = 3, INIT_EXIT_FD = 4 };

static unsigned long clone_flags(unsigned ns)
{
	unsigned long f = 0;
	if (ns & ACRE_NS_PID)
		f |= CLONE_NEWPID;
	if (ns & ACRE_NS_MOUNT)
		f |= CLONE_NEWNS;
	if (ns & ACRE_NS_UTS)
		f |= CLONE_NEWUTS;
	if (ns & ACRE_NS_IPC)
		f |= CLONE_NEWIPC;
	if (ns & ACRE_NS_NET)
		f |= CLONE_NEWNET;
	/* CLONE_NEWCGROUP comes later, once the child sits in all its cgroups. */
	return f;
}

static void send_error(int chan, const struct acre_error *err)
{
	char msg[600];
	int n = snprintf(msg, sizeof(msg), "E %d %s", err->code, err->message);
	ssize_t w = send(chan, msg, (size_t)n, MSG_NOSIGNAL);
	(void)w;
}

/* Supervisor signal dispositions must not leak into the slice: SIG_IGN survives exec. */
static void reset_signals(void)
{
	sigset_t all;
	sigemptyset(&all);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Moves fds to their final numbers without clobbering one another. */
static int place_fds(const int *src, const int *dst, size_t n)
{
	int tmp[8];
	for (size_t i = 0; i < n; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64);
		if (tmp[i] < 0)
			return -errno;
	}
	for (size_t i = 0; i < n; i++) {
		if (dup2(tmp[i], dst[i]) < 0) /* dup2 clears close-on-exec on the target */
			return -errno;
		close(tmp[i]);
	}
	return 0;
}

static int step(int rc, struct acre_error *err, const char *what)
{
	if (rc < 0 && err->code == 0)
		acre_error_set(err, -rc, NULL, "%s: %s", what, strerror(-rc));
	return rc;
}

static int child_setup(const struct acre_launch_config *cfg, int *chan, struct acre_error *err)
{
	const struct acre_slice_spec *spec = cfg->spec;
	unsigned ns = spec->isolation.namespaces;
	int rc = step(acre_cgroup_enter_v1(cfg->cgroup), err, "joining the slice's v1 cgroups");
	if (rc == 0 && (ns & ACRE_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		rc = step(-errno, err, "creating the cgroup namespace");
	if (rc == 0 && (ns & ACRE_NS_UTS) && sethostname(spec->name, strlen(spec->name)) < 0)
		rc = step(-errno, err, "setting the hostname");
	if (rc == 0 && (ns & ACRE_NS_NET))
		rc = step(acre_netns_loopback_up(), err, "bringing up lo");
	if (rc == 0) {
		struct mount_plan plan = {.rootfs = spec->isolation.rootfs,
					  .readonly = spec->isolation.readonly_root,
					  .cgroups = cfg->cgroups,
					  .hide_paths = cfg->hide_paths};
		rc = mount_setup(&plan, err);
	}
	uint64_t keep = spec->isolation.capabilities;
	if (rc == 0)
		rc = step(caps_drop_bounding(keep), err, "dropping the capability bounding set");
	if (rc == 0)
		rc = step(caps_switch_user(cfg->user), err, "switching to the slice's user");
	if (rc == 0)
		rc = step(caps_apply(keep), err, "setting capabilities");
	if (rc == 0 && chdir(spec->cwd) < 0)
		rc = acre_error_set(err, errno, "cwd", "cwd %s: %s", spec->cwd, strerror(errno));
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = step(-errno, err, "setting no_new_privs");
	if (rc < 0)
		return rc;
	int src[5] = {cfg->stdio[0], cfg->stdio[1], cfg->stdio[2], *chan, cfg->exit_fd};
	int dst[5] = {0, 1, 2, INIT_STATUS_FD, INIT_EXIT_FD};
	if ((rc = step(place_fds(src, dst, 5), err, "arranging file descriptors")) < 0)
		return rc;
	*chan = INIT_STATUS_FD;
	/* Whatever else the supervisor had open goes away at exec. */
	if (close_range(INIT_EXIT_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return step(-errno, err, "closing inherited file descriptors");
	if (cfg->hold) {
		char go;
		if (recv(INIT_STATUS_FD, &go, 1, 0) != 1 || go != 'G')
			return acre_error_set(err, ECANCELED, NULL, "launch cancelled");
	}
	umask(022);
	if (cfg->seccomp && (rc = acre_seccomp_load(cfg->seccomp)) < 0)
		return step(rc, err, "loading the seccomp filter");
	return 0;
}

static _Noreturn void child_main(const struct acre_launch_config *cfg, int chan)
{
	struct acre_error err = {0};
	reset_signals();
	umask(0); /* device nodes get exactly the modes asked for */
	if (child_setup(cfg, &chan, &err) == 0) {
		size_t n = acre_strv_length(cfg->spec->command);
		char **argv = calloc(n + 3, sizeof(char *));
		if (argv) {
			argv[0] = "acre-init";
			argv[1] = "--";
			memcpy(argv + 2, cfg->spec->command, n * sizeof(char *));
			syscall(SYS_execveat, cfg->init_exe_fd, "", argv, cfg->envp, AT_EMPTY_PATH);
		}
		int e = argv ? errno : ENOMEM;
		acre_error_set(&err, e, NULL, "executing acre-init: %s", strerror(e));
	}
	send_error(chan, &err);
	_exit(127);
}

int acre_launch_start(const struct acre_launch_config *cfg, struct acre_launch *out,
		      struct acre_error *err)
{
	if (!(cfg->spec->isolation.namespaces & ACRE_NS_MOUNT))
		return acre_error_set(err, EINVAL, "isolation.namespaces",
				      "a slice needs a mount namespace");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return acre_error_set(err, errno, NULL, "creating the launch channel: %s",
				      strerror(errno));
	int cgfd = acre_cgroup_v2_fd(cfg->cgroup);
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | clone_flags(cfg->spec->isolation.namespaces) |
			 (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)(cgfd >= 0 ? cgfd : 0),
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		close(sv[0]);
		child_main(cfg, sv[1]);
	}
	int e = errno;
	if (cgfd >= 0)
		close(cgfd);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return acre_error_set(err, e, NULL, "creating the slice's first process: %s",
				      strerror(e));
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*out = (struct acre_launch){.pid = pid, .pidfd = pidfd, .status_fd = sv[0]};
	return 0;
}

int acre_launch_release(const struct acre_launch *l)
{
	return send(l->status_fd, "G", 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

enum acre_launch_event acre_launch_read_event(int status_fd, pid_t *task_pid,
					      struct acre_error *err)
{
	char msg[700];
	ssize_t n = recv(status_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? ACRE_LAUNCH_AGAIN : ACRE_LAUNCH_CLOSED;
	if (n == 0)
		return ACRE_LAUNCH_CLOSED;
	msg[n] = '\0';
	if (msg[0] == 'S' && msg[1] == ' ') {
		*task_pid = (pid_t)strtol(msg + 2, NULL, 10);
		return ACRE_LAUNCH_STARTED;
	}
	int code = EIO;
	const char *text = msg;
	if (msg[0] == 'E' && msg[1] == ' ') {
		char *end;
		code = (int)strtol(msg + 2, &end, 10);
		text = *end == ' ' ? end + 1 : end;
	}
	acre_error_set(err, code, NULL, "%s", text);
	return ACRE_LAUNCH_FAILED;
}

uint64_t acre_process_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold anything, spaces and ')' included: start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Field 22 (starttime) is the 20th field after the name. */
	for (int field = 0; field < 20 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}
