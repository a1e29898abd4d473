/*
 * The supervisor's half of a launch.  One clone3() puts the slice's first
 * process into its new namespaces and its v2 cgroup at once; that child
 * joins the v1 hierarchies, keeps nothing of the supervisor's but the
 * launch channel, and execs acre-init from its read-only fd.  acre-init
 * waits for the claim (claim_encode.c) and does the rest.  Failures on the
 * way come back over the channel as "E <errno> <message>"; acre-init sends
 * "S <pid>" once the task itself has been exec'd.
 */
#include "launch_internal.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>

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
	/* CLONE_NEWCGROUP comes later, once the process sits in all its cgroups. */
	return f;
}

static void send_error(int chan, int code, const char *what)
{
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "E %d %s: %s", code, what, strerror(code));
	ssize_t w = send(chan, msg, (size_t)n, MSG_NOSIGNAL);
	(void)w;
}

/* Supervisor signal dispositions must not leak into the slice: SIG_IGN survives exec. */
static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The child, between clone and exec: nothing of the supervisor's may stay
 * open (a client's pipe held here would never see its end of file), only
 * the channel, as fd 3, and acre-init's fd for the exec itself.  The
 * supervisor's end of the channel goes first: held here, it would keep a
 * parked child waiting for "A" from a supervisor killed meanwhile forever,
 * holding every fd of the dead supervisor (the state directory's lock too).
 */
static _Noreturn void child(const struct acre_launch_park *p, int chan, int parent_end)
{
	close(parent_end);
	reset_signals();
	char go;
	if (p->hold_attach && (recv(chan, &go, 1, 0) != 1 || go != 'A'))
		_exit(0);
	int rc = acre_cgroup_enter_v1(p->cgroup);
	if (rc < 0) {
		send_error(chan, -rc, "joining the slice's v1 cgroups");
		_exit(125);
	}
	int init_fd = fcntl(p->init_exe_fd, F_DUPFD_CLOEXEC, INIT_EXIT_FD + 1);
	/* dup2 onto itself would keep close-on-exec: clear it explicitly. */
	if (init_fd < 0 || dup2(chan, INIT_CHANNEL_FD) < 0 ||
	    fcntl(INIT_CHANNEL_FD, F_SETFD, 0) < 0 || close_range(0, INIT_CHANNEL_FD - 1, 0) < 0 ||
	    close_range(INIT_CHANNEL_FD + 1, (unsigned)init_fd - 1, 0) < 0 ||
	    close_range((unsigned)init_fd + 1, ~0U, 0) < 0) {
		send_error(chan, errno, "arranging file descriptors");
		_exit(125);
	}
	char *argv[] = {"acre-init", NULL}, *envp[] = {NULL};
	syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
	send_error(INIT_CHANNEL_FD, errno, "executing acre-init");
	_exit(125);
}

int acre_launch_park(const struct acre_launch_park *p, struct acre_launch *out,
		     struct acre_error *err)
{
	if (!(p->namespaces & ACRE_NS_MOUNT))
		return acre_error_set(err, EINVAL, "isolation.namespaces",
				      "a slice needs a mount namespace");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return acre_error_set(err, errno, NULL, "creating the launch channel: %s",
				      strerror(errno));
	int cgfd = acre_cgroup_v2_fd(p->cgroup);
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | clone_flags(p->namespaces) |
			 (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)(cgfd >= 0 ? cgfd : 0),
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		child(p, sv[1], sv[0]);
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

int acre_launch_park_attach(const struct acre_launch *parked)
{
	return send(parked->status_fd, "A", 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int acre_launch_claim(const struct acre_launch_park *p, const struct acre_launch *parked,
		      const struct acre_launch_config *cfg, struct acre_error *err)
{
	if (cfg->spec->isolation.namespaces != p->namespaces)
		return acre_error_set(err, EINVAL, NULL, "the slot has other namespaces");
	return launch_message_send(parked->status_fd, p, cfg, err);
}

int acre_launch_start(const struct acre_launch_park *p, const struct acre_launch_config *cfg,
		      struct acre_launch *out, struct acre_error *err)
{
	struct acre_launch_park direct = *p;
	direct.namespaces = cfg->spec->isolation.namespaces;
	direct.hold_attach = false;
	int rc = acre_launch_park(&direct, out, err);
	if (rc < 0)
		return rc;
	/* The message waits in the channel while the child joins its cgroups and execs. */
	rc = acre_launch_claim(&direct, out, cfg, err);
	if (rc < 0) {
		kill(out->pid, SIGKILL);
		close(out->pidfd);
		close(out->status_fd);
	}
	return rc;
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
