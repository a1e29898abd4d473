/*
 * One run of a check, in a child of its own (acre_join_spawn), so that the
 * event loop never waits on a slice: a command runs inside the slice as its
 * task does (namespaces, cgroups, user, capabilities, seccomp filter); a
 * TCP connect and an HTTP GET are made from the slice's network namespace,
 * to the slice's bridge address when it has one (what its peers reach)
 * and to 127.0.0.1 otherwise.  The child exits 0 when the check passes and
 * says why it did not on its output, which the caller reads.
 */
#include "health.h"
#include "network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

extern char **environ;

#define HTTP_REPLY_MAX 1024

struct target {
	struct sockaddr_in addr;
	const char *path; /* http */
	char host[INET_ADDRSTRLEN + 8];
};

struct command {
	char **argv, **envp;
};

static int run_command(void *ud)
{
	const struct command *c = ud;
	environ = c->envp; /* execvp searches the slice's PATH */
	execvp(c->argv[0], c->argv);
	dprintf(STDERR_FILENO, "executing %s: %s\n", c->argv[0], strerror(errno));
	return 127;
}

static int connect_target(const struct target *t)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&t->addr, sizeof(t->addr)) < 0) {
		dprintf(STDOUT_FILENO, "connecting to %s: %s\n", t->host, strerror(errno));
		return -1;
	}
	return fd;
}

static int run_tcp(void *ud)
{
	return connect_target(ud) < 0 ? 1 : 0;
}

/* "HTTP/1.x NNN ...": 2xx and 3xx pass. */
static int run_http(void *ud)
{
	const struct target *t = ud;
	int fd = connect_target(t);
	if (fd < 0)
		return 1;
	char req[1400];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: acre-health\r\n"
			 "Connection: close\r\n\r\n",
			 t->path, t->host);
	if (write(fd, req, (size_t)n) != n) {
		dprintf(STDOUT_FILENO, "sending the request to %s: %s\n", t->host, strerror(errno));
		return 1;
	}
	char buf[HTTP_REPLY_MAX + 1] = "";
	size_t len = 0;
	while (len < HTTP_REPLY_MAX && !memchr(buf, '\n', len)) {
		ssize_t r = read(fd, buf + len, HTTP_REPLY_MAX - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	unsigned code = 0;
	if (sscanf(buf, "HTTP/%*u.%*u %3u", &code) != 1) {
		dprintf(STDOUT_FILENO, "GET %s: no HTTP status line from %s\n", t->path, t->host);
		return 1;
	}
	dprintf(STDOUT_FILENO, "GET %s: HTTP %u\n", t->path, code);
	return code >= 200 && code < 400 ? 0 : 1;
}

static void target_of(struct slice *s, const struct acre_check *c, struct target *t)
{
	uint32_t addr = INADDR_LOOPBACK;
	if (s->rec.spec.net_mode == ACRE_NET_BRIDGE &&
	    network_slice_address(s->sv, s->rec.spec.name, &addr) < 0)
		addr = INADDR_LOOPBACK;
	*t = (struct target){.addr = {.sin_family = AF_INET,
				      .sin_port = htons(c->port),
				      .sin_addr.s_addr = htonl(addr)},
			     .path = c->path};
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &t->addr.sin_addr, a, sizeof(a));
	snprintf(t->host, sizeof(t->host), "%s:%u", a, c->port);
}

int health_run_start(struct slice *s, const struct acre_check *c, struct health_child *out,
		     struct acre_error *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return acre_error_set(err, errno, NULL, "a pipe for the check's output: %s",
				      strerror(errno));
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	const struct acre_slice_spec *spec = &s->rec.spec;
	struct acre_join j = {.pidfd = s->pidfd,
			      .namespaces = spec->isolation.namespaces & ACRE_NS_NET,
			      .out_fd = pipefd[1],
			      .timeout_ms = c->timeout_ms};
	struct target t;
	struct command cmd = {0};
	int rc;
	if (c->kind == ACRE_CHECK_COMMAND) {
		j.namespaces = spec->isolation.namespaces;
		j.cgroup = s->cgroup;
		j.user = &s->user;
		j.capabilities = spec->isolation.capabilities;
		j.seccomp = slice_seccomp_filter(s);
		cmd = (struct command){.argv = c->command, .envp = slice_env(spec, &s->user)};
		rc = cmd.envp ? acre_join_spawn(&j, run_command, &cmd, &out->pid, &out->pidfd, err)
			      : acre_error_set(err, ENOMEM, NULL, "out of memory");
		acre_strv_free(cmd.envp);
	} else {
		target_of(s, c, &t);
		rc = acre_join_spawn(&j, c->kind == ACRE_CHECK_TCP ? run_tcp : run_http, &t,
				     &out->pid, &out->pidfd, err);
	}
	close(pipefd[1]);
	if (rc < 0) {
		close(pipefd[0]);
		return rc;
	}
	out->out_fd = pipefd[0];
	return 0;
}

/* The first line of what it said, without control characters. */
static void first_line(char *buf)
{
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < ' ' || *p == '"' || *p == '\\')
			*p = ' ';
}

bool health_run_finish(const struct acre_check *c, struct health_child *ch, char *reason,
		       size_t len)
{
	siginfo_t si = {0};
	int status = -1;
	if (waitid(P_PIDFD, (id_t)ch->pidfd, &si, WEXITED) == 0)
		status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	char out[256] = "";
	ssize_t n = read(ch->out_fd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	first_line(out);
	close(ch->out_fd);
	close(ch->pidfd);
	*ch = (struct health_child){.pidfd = -1, .out_fd = -1};
	if (status == HEALTH_TIMEOUT_EXIT)
		snprintf(reason, len, "timed out after %ums", c->timeout_ms);
	else if (out[0])
		snprintf(reason, len, "%s%s", status == 0 ? "" : status < 0 ? "lost: " : "", out);
	else if (status == 0)
		snprintf(reason, len, "passed");
	else
		snprintf(reason, len, "exit %d", status);
	return status == 0;
}

void health_run_kill(struct health_child *ch)
{
	if (ch->pidfd < 0)
		return;
	syscall(SYS_pidfd_send_signal, ch->pidfd, SIGKILL, NULL, 0);
}
