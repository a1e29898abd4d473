/*
 * A process started inside a running slice, the way its task was: the
 * namespaces of the slice's acre-init (one setns(2) on its pidfd enters them
 * all at once, and the mount namespace brings the slice's root with it),
 * its cgroups (CLONE_INTO_CGROUP, then the v1 hierarchies), and for a
 * command the task's identity, capabilities, no_new_privs and seccomp
 * filter.  What health checks run.
 *
 * Two processes: setns(CLONE_NEWPID) places only the caller's children in
 * the slice's pid namespace, so the first process forks the one that runs
 * the work, and watches it: past the timeout it SIGKILLs the worker's
 * whole process group (a shell's children too) and exits 124, as
 * timeout(1) does.  The worker also dies with its watcher
 * (PR_SET_PDEATHSIG), should the supervisor kill the watcher first.
 */
#include "isolation/isolation.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define JOIN_TIMEOUT_EXIT 124
#define JOIN_FAILED_EXIT  125

static int ns_flags(unsigned ns)
{
	int f = 0;
	f |= ns & ACRE_NS_PID ? CLONE_NEWPID : 0;
	f |= ns & ACRE_NS_MOUNT ? CLONE_NEWNS : 0;
	f |= ns & ACRE_NS_UTS ? CLONE_NEWUTS : 0;
	f |= ns & ACRE_NS_IPC ? CLONE_NEWIPC : 0;
	f |= ns & ACRE_NS_NET ? CLONE_NEWNET : 0;
	f |= ns & ACRE_NS_CGROUP ? CLONE_NEWCGROUP : 0;
	return f;
}

static void reset_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
}

/* Why the join failed, on the output, which the caller reports as the check's. */
static _Noreturn void fail(const char *what)
{
	dprintf(STDERR_FILENO, "%s: %s\n", what, strerror(errno));
	_exit(JOIN_FAILED_EXIT);
}

/* The task's privileges: bounding set, identity, capability sets, no_new_privs, seccomp. */
static int drop_privileges(const struct acre_join *j)
{
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(j->capabilities & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return -errno;
	if (j->user) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    setgroups(j->user->ngroups, j->user->groups) < 0 ||
		    setresgid(j->user->gid, j->user->gid, j->user->gid) < 0 ||
		    setresuid(j->user->uid, j->user->uid, j->user->uid) < 0)
			return -errno;
	}
	cap_t caps = cap_init();
	if (!caps)
		return -ENOMEM;
	int rc = 0;
	for (cap_value_t c = 0; c < 64 && rc == 0; c++) {
		if (!(j->capabilities & (1ULL << c)))
			continue;
		if (cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_SET) < 0)
			rc = -errno;
	}
	if (rc == 0 && cap_set_proc(caps) < 0)
		rc = -errno;
	cap_free(caps);
	for (cap_value_t c = 0; rc == 0 && c < 64; c++)
		if ((j->capabilities & (1ULL << c)) && cap_set_ambient(c, CAP_SET) < 0)
			rc = -errno;
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	if (rc == 0 && j->seccomp) {
		size_t len;
		const void *insns = acre_seccomp_program(j->seccomp, &len);
		struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)),
					  .filter = (struct sock_filter *)insns};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			rc = -errno;
	}
	return rc;
}

static _Noreturn void worker(const struct acre_join *j, int (*fn)(void *), void *ud)
{
	/* The watcher is outside the slice's pid namespace: its pid here reads 0. */
	pid_t parent = getppid();
	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(JOIN_FAILED_EXIT);
	if (chdir("/") < 0)
		fail("entering the slice's root");
	int rc = drop_privileges(j);
	if (rc < 0) {
		errno = -rc;
		fail("taking the slice's identity");
	}
	_exit(fn(ud) & 0xff);
}

/* Waits for the worker, up to the timeout; exits as it did. */
static _Noreturn void watch(pid_t pid, uint64_t timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	uint64_t deadline = acre_monotonic_ns() + timeout_ms * 1000000ULL;
	while (pfd >= 0) {
		uint64_t now = acre_monotonic_ns();
		if (now >= deadline)
			break;
		int n = poll(&p, 1, (int)((deadline - now) / 1000000ULL) + 1);
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR)
			break;
	}
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid)
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	_exit(JOIN_TIMEOUT_EXIT);
}

static _Noreturn void child(const struct acre_join *j, int (*fn)(void *), void *ud)
{
	reset_signals();
	if (j->cgroup && acre_cgroup_enter_v1(j->cgroup) < 0)
		fail("joining the slice's v1 cgroups");
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(j->out_fd, STDOUT_FILENO) < 0 ||
	    dup2(j->out_fd, STDERR_FILENO) < 0)
		_exit(JOIN_FAILED_EXIT);
	int flags = ns_flags(j->namespaces);
	if (flags && setns(j->pidfd, flags) < 0)
		fail("entering the slice's namespaces");
	if (close_range(3, ~0U, 0) < 0)
		fail("closing descriptors");
	pid_t pid = fork();
	if (pid < 0)
		fail("forking in the slice");
	if (pid == 0)
		worker(j, fn, ud);
	watch(pid, j->timeout_ms);
}

int acre_join_spawn(const struct acre_join *j, int (*fn)(void *ud), void *ud, pid_t *pid,
		    int *pidfd, struct acre_error *err)
{
	int cgfd = j->cgroup ? acre_cgroup_v2_fd(j->cgroup) : -1;
	int fd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&fd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)(cgfd >= 0 ? cgfd : 0),
	};
	pid_t p = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (p == 0)
		child(j, fn, ud);
	int e = errno;
	if (cgfd >= 0)
		close(cgfd);
	if (p < 0)
		return acre_error_set(err, e, NULL, "starting a process in the slice: %s",
				      strerror(e));
	*pid = p;
	*pidfd = fd;
	return 0;
}
