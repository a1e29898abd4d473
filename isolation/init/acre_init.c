/*
 * acre-init: PID 1 of every slice.  The supervisor starts it in the slice's
 * new namespaces and cgroups, where it waits on fd 3 for the claim (the
 * spec and the slice's fds).  It then builds the slice (setup.c), starts
 * the task as its child (it never execs the task in its own place, so the
 * slice always has an init that reaps orphans), reports "S <pid>" on fd 3,
 * forwards the signals it receives to the task, and when the task ends
 * writes how it ended to the exit record (fd 4), where a supervisor
 * restarted in the meantime can still read it.
 *
 * Linked statically: it runs inside any rootfs, with or without a libc.
 */
#include "isolation/launch_internal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Signals that mean "the slice, do something": passed on to the task. */
static const int forwarded[] = {SIGHUP,	 SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
				SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGPWR,  SIGURG};

static void status_send(const char *msg)
{
	ssize_t w = send(INIT_CHANNEL_FD, msg, strlen(msg), MSG_NOSIGNAL);
	(void)w;
}

/* JSON string escaping for the one free-text field we write. */
static void json_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < len; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20) {
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

/*
 * No fsync: the record must outlive the supervisor, not the machine; after
 * a host crash no slice survives to be reported on.
 */
static void record(int fd, const char *json)
{
	if (fd < 0)
		return;
	/* Nowhere to complain to but the task's own stderr: the supervisor then reports "lost". */
	size_t n = strlen(json);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, json, n, 0) != (ssize_t)n)
		(void)!ftruncate(fd, 0);
	close(fd);
}

static _Noreturn void launch_failed(int exit_fd, const struct acre_error *err, int code)
{
	char status[700], esc[1300], json[1500];
	snprintf(status, sizeof(status), "E %d %s", err->code, err->message);
	status_send(status);
	json_escape(err->message, esc, sizeof(esc));
	snprintf(json, sizeof(json), "{\"launch_failed\":\"%s\",\"exit_code_hint\":%d}\n", esc,
		 code);
	record(exit_fd, json);
	_exit(code);
}

/*
 * The task is started with vfork: no page tables to copy and no
 * copy-on-write faults on the launch path.  The child shares our memory
 * until it execs, which is how it hands back an exec error.
 */
static volatile int exec_errno;

static _Noreturn void run_task(char **argv, char **envp, char **script_argv, const sigset_t *orig)
{
	sigprocmask(SIG_SETMASK, orig, NULL);
	/* Its own session and process group: signals to the group stay in the slice. */
	setsid();
	/* acre-init's fds (channel, exit record) are not the task's business. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* Looked up in the task's PATH: acre-init's own environment has none. */
	int rc = exec_task(argv, envp, script_argv);
	exec_errno = -rc;
	_exit(rc == -ENOENT ? 127 : 126);
}

/* Starts the task; returns its pid once it has been exec'd. */
static pid_t start_task(struct launch_message *m, const sigset_t *orig)
{
	struct acre_error err = {0};
	char **script_argv = exec_script_argv(m->argv);
	if (!script_argv) {
		acre_error_set(&err, ENOMEM, NULL, "starting the task: %s", strerror(ENOMEM));
		launch_failed(m->exit_fd, &err, 126);
	}
	exec_errno = 0;
	pid_t task = vfork();
	if (task < 0) {
		acre_error_set(&err, errno, NULL, "starting the task: %s", strerror(errno));
		launch_failed(m->exit_fd, &err, 126);
	}
	if (task == 0)
		run_task(m->argv, m->envp, script_argv, orig);
	free(script_argv);
	if (exec_errno) {
		int e = exec_errno;
		waitpid(task, NULL, 0);
		acre_error_set(&err, e, NULL, "exec %s: %s", m->argv[0], strerror(e));
		launch_failed(m->exit_fd, &err, e == ENOENT ? 127 : 126);
	}
	return task;
}

static _Noreturn void supervise(pid_t task, int exit_fd, const sigset_t *all)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			for (size_t i = 0; i < ACRE_ARRAY_SIZE(forwarded); i++)
				if (forwarded[i] == sig)
					kill(task, sig);
			continue;
		}
		/* Reap everything: orphans re-parented to us included. */
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != task)
				continue;
			char json[64];
			int code;
			if (WIFSIGNALED(status)) {
				snprintf(json, sizeof(json), "{\"signal\":%d}\n", WTERMSIG(status));
				code = 128 + WTERMSIG(status);
			} else {
				snprintf(json, sizeof(json), "{\"exit_code\":%d}\n",
					 WEXITSTATUS(status));
				code = WEXITSTATUS(status);
			}
			record(exit_fd, json);
			/* Our exit ends the pid namespace: the kernel kills what is left. */
			_exit(code);
		}
	}
}

int main(void)
{
	/* A task sharing our uid must not read our fds through /proc/1/fd. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigset_t all, orig;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &orig);
	struct launch_message m;
	struct acre_error err = {0};
	if (launch_message_receive(INIT_CHANNEL_FD, &m, &err) < 0) {
		if (err.code == ECANCELED)
			_exit(0); /* a prelaunched slot the supervisor no longer needs */
		launch_failed(-1, &err, 125);
	}
	if (slice_setup(&m, INIT_CHANNEL_FD, &err) < 0)
		launch_failed(m.exit_fd, &err, 125);
	pid_t task = start_task(&m, &orig);
	char started[32];
	snprintf(started, sizeof(started), "S %d", (int)task);
	status_send(started);
	close(INIT_CHANNEL_FD);
	supervise(task, m.exit_fd, &all);
}
