/*
 * acre-init: PID 1 of every slice.  It starts the task as its child (it
 * never execs the task in its own place, so the slice always has an init
 * that reaps orphans), forwards the signals it receives to the task, and
 * when the task ends writes how it ended to the exit record (fd 4), where
 * a supervisor restarted in the meantime can still read it.  It reports
 * "S <pid>" once the task is exec'd, or the exec error, on fd 3.
 *
 * Linked statically: it runs inside any rootfs, with or without a libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { STATUS_FD = 3, EXIT_FD = 4 };

/* Signals that mean "the slice, do something": passed on to the task. */
static const int forwarded[] = {SIGHUP,	 SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
				SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM,
				SIGPWR,	 SIGURG};

static void status_send(const char *msg)
{
	ssize_t w = send(STATUS_FD, msg, strlen(msg), MSG_NOSIGNAL);
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
static void record(const char *json)
{
	size_t n = strlen(json);
	if (ftruncate(EXIT_FD, 0) == 0 && pwrite(EXIT_FD, json, n, 0) != (ssize_t)n)
		ftruncate(EXIT_FD, 0);
	close(EXIT_FD);
}

static _Noreturn void launch_failed(const char *what, int err, int code)
{
	char msg[600], esc[1300], json[1500];
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
	char status[700];
	snprintf(status, sizeof(status), "E %d %s", err, msg);
	status_send(status);
	json_escape(msg, esc, sizeof(esc));
	snprintf(json, sizeof(json), "{\"launch_failed\":\"%s\",\"exit_code_hint\":%d}\n", esc,
		 code);
	record(json);
	_exit(code);
}

static _Noreturn void run_task(char **argv, const sigset_t *orig, int errpipe)
{
	sigprocmask(SIG_SETMASK, orig, NULL);
	/* Its own session and process group: signals to the group stay in the slice. */
	setsid();
	/* acre-init's fds (status, exit record) are not the task's business. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	execvp(argv[0], argv);
	int e = errno;
	ssize_t w = write(errpipe, &e, sizeof(e));
	(void)w;
	_exit(e == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (first >= argc) {
		fprintf(stderr, "usage: acre-init -- COMMAND [ARG...]\n");
		return 2;
	}
	/* A task sharing our uid must not read our fds through /proc/1/fd. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigset_t all, orig;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &orig);

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		launch_failed("creating the exec pipe", errno, 126);
	pid_t task = fork();
	if (task < 0)
		launch_failed("starting the task", errno, 126);
	if (task == 0) {
		close(pipefd[0]);
		run_task(argv + first, &orig, pipefd[1]);
	}
	close(pipefd[1]);
	int exec_err = 0;
	ssize_t n;
	do
		n = read(pipefd[0], &exec_err, sizeof(exec_err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(exec_err)) {
		waitpid(task, NULL, 0);
		char what[600];
		snprintf(what, sizeof(what), "exec %s", argv[first]);
		launch_failed(what, exec_err, exec_err == ENOENT ? 127 : 126);
	}
	char started[32];
	snprintf(started, sizeof(started), "S %d", (int)task);
	status_send(started);
	close(STATUS_FD);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
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
			record(json);
			/* Our exit ends the pid namespace: the kernel kills what is left. */
			_exit(code);
		}
	}
}
