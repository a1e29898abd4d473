/*
 * The supervisor's Unix socket: accepting authorised peers, reading
 * newline-delimited JSON with the fds clients attach (SCM_RIGHTS, which is
 * why this reads with recvmsg rather than through a bufferevent), and
 * writing replies without ever blocking the loop.  A slow or hostile client
 * costs at most one maximal line of memory and never delays the others.
 */
#include "server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAX_PENDING_FDS 8
#define MAX_OUTPUT	(64u << 20) /* a client that stops reading is dropped past this */

struct conn {
	struct supervisor *sv;
	int fd;
	struct event *rd_ev, *wr_ev;
	struct acre_proto_frame in;
	struct evbuffer *out;
	int fds[MAX_PENDING_FDS];
	int nfds;
	pid_t peer_pid;
	uid_t peer_uid;
	struct waiter *waiters;
	ACRE_LIST_FIELDS(struct conn, conns);
};

static void conn_close(struct conn *c)
{
	struct supervisor *sv = c->sv;
	sv->handler->closed(sv, c);
	ACRE_LIST_REMOVE(conns, sv->conns, c);
	if (c->rd_ev)
		event_free(c->rd_ev);
	if (c->wr_ev)
		event_free(c->wr_ev);
	if (c->out)
		evbuffer_free(c->out);
	acre_proto_frame_free(&c->in);
	for (int i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	close(c->fd);
	free(c);
}

static void flush_output(struct conn *c)
{
	while (evbuffer_get_length(c->out) > 0) {
		int n = evbuffer_write(c->out, c->fd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return; /* the read side notices the broken peer and closes */
		}
	}
	if (evbuffer_get_length(c->out) > 0)
		event_add(c->wr_ev, NULL);
	else
		event_del(c->wr_ev);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_output(arg);
}

void conn_send(struct conn *c, const json_t *msg)
{
	if (!c)
		return;
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(msg, &len);
	if (!line)
		return;
	if (evbuffer_get_length(c->out) + len > MAX_OUTPUT) {
		acre_log(ACRE_LOG_WARN, "event=client_dropped pid=%d reason=\"not reading\"",
			 (int)c->peer_pid);
		shutdown(c->fd, SHUT_RDWR); /* the read event fires and closes it */
		return;
	}
	evbuffer_add(c->out, line, len);
	flush_output(c);
}

void conn_send_buffer(struct conn *c, struct evbuffer *line)
{
	if (evbuffer_get_length(c->out) + evbuffer_get_length(line) > MAX_OUTPUT) {
		shutdown(c->fd, SHUT_RDWR);
		return;
	}
	evbuffer_add_buffer(c->out, line);
	flush_output(c);
}

int conn_send_fd(struct conn *c, const json_t *msg, int fd)
{
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(msg, &len);
	if (!line)
		return -ENOMEM;
	/* Earlier output first, so the fd travels with this very message. */
	evutil_make_socket_nonblocking(c->fd);
	while (evbuffer_get_length(c->out) > 0 && evbuffer_write(c->out, c->fd) > 0)
		;
	if (evbuffer_get_length(c->out) > 0) {
		evbuffer_add(c->out, line, len);
		flush_output(c);
		return -EAGAIN;
	}
	ssize_t n = acre_proto_send_fds(c->fd, line, len, &fd, 1, 0);
	if (n < 0)
		return (int)n;
	if ((size_t)n < len) {
		evbuffer_add(c->out, line + n, len - (size_t)n);
		flush_output(c);
	}
	return 0;
}

void conn_reply_ok(struct conn *c, json_t *id, json_t *result)
{
	json_t *msg = acre_proto_ok(id, result);
	conn_send(c, msg);
	json_decref(msg);
}

void conn_reply_error(struct conn *c, json_t *id, const struct acre_error *err)
{
	json_t *msg = acre_proto_error(id, err);
	conn_send(c, msg);
	json_decref(msg);
}

int conn_take_fd(struct conn *c)
{
	if (c->nfds == 0)
		return -1;
	int fd = c->fds[0];
	memmove(c->fds, c->fds + 1, (size_t)(c->nfds - 1) * sizeof(int));
	c->nfds--;
	return fd;
}

struct waiter **conn_waiters(struct conn *c)
{
	return &c->waiters;
}

static void handle_line(struct conn *c, const char *line, size_t len)
{
	struct acre_error err = {0};
	json_t *req, *id;
	const char *op;
	if (len == 0)
		return; /* blank lines are keep-alives */
	if (acre_proto_parse_request(line, len, &req, &id, &op, &err) < 0) {
		conn_reply_error(c, id, &err);
		json_decref(req);
		return;
	}
	c->sv->handler->request(c->sv, c, op, req, id);
	json_decref(req);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct conn *c = arg;
	char buf[65536];
	/* Passed fds wait in c->fds for the request that takes them; extra ones are closed. */
	size_t got;
	ssize_t n = acre_proto_recv_fds(fd, buf, sizeof(buf), c->fds + c->nfds,
					(size_t)(MAX_PENDING_FDS - c->nfds), &got, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EINTR)
		return;
	c->nfds += (int)got;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (acre_proto_frame_feed(&c->in, buf, (size_t)n) < 0) {
		conn_close(c);
		return;
	}
	char *line;
	size_t len;
	enum acre_proto_line r;
	while ((r = acre_proto_frame_next(&c->in, &line, &len)) != ACRE_PROTO_LINE_WAIT) {
		if (r == ACRE_PROTO_LINE_TOO_LONG) {
			struct acre_error err;
			acre_error_set(&err, EMSGSIZE, NULL, "request line longer than %d bytes",
				       ACRE_PROTO_LINE_MAX);
			conn_reply_error(c, NULL, &err);
			continue;
		}
		handle_line(c, line, len);
	}
}

/*
 * A refused peer gets its error line, then the connection stays open for
 * reading (and discarding) until the peer closes it, or for two seconds:
 * closing at once would make the peer's first write fail with EPIPE before
 * it ever reads why.
 */
struct refused {
	int fd;
	struct event *ev;
};

static void on_refused(evutil_socket_t fd, short what, void *arg)
{
	struct refused *r = arg;
	char buf[4096];
	if ((what & EV_READ) && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		return;
	event_free(r->ev);
	close(r->fd);
	free(r);
}

static void refuse(struct supervisor *sv, int fd, const struct acre_error *err)
{
	json_t *msg = acre_proto_error(NULL, err);
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(msg, &len);
	json_decref(msg);
	if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		acre_log(ACRE_LOG_DEBUG, "event=refuse_send_failed error=\"%s\"", strerror(errno));
	shutdown(fd, SHUT_WR);
	struct refused *r = calloc(1, sizeof(*r));
	struct timeval tv = {2, 0};
	if (r)
		r->ev = event_new(sv->base, fd, EV_READ | EV_PERSIST, on_refused, r);
	if (!r || !r->ev || event_add(r->ev, &tv) < 0) {
		free(r);
		close(fd);
		return;
	}
	r->fd = fd;
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	struct supervisor *sv = arg;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct acre_error err = {0};
	pid_t pid;
	uid_t uid;
	if (peer_authorize(sv, fd, &pid, &uid, &err) < 0) {
		acre_log(ACRE_LOG_WARN, "event=client_refused pid=%d uid=%d reason=\"%s\"",
			 (int)pid, (int)uid, err.message);
		refuse(sv, fd, &err);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->sv = sv;
	c->fd = fd;
	c->peer_pid = pid;
	c->peer_uid = uid;
	acre_proto_frame_init(&c->in, ACRE_PROTO_LINE_MAX);
	c->out = evbuffer_new();
	c->rd_ev = event_new(sv->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wr_ev = event_new(sv->base, fd, EV_WRITE, on_writable, c);
	ACRE_LIST_PREPEND(conns, sv->conns, c);
	if (!c->out || !c->rd_ev || !c->wr_ev) {
		conn_close(c);
		return;
	}
	event_add(c->rd_ev, NULL);
}

/*
 * Whether a supervisor answers on the socket connected as fd.  A connect
 * alone is not proof: the listening socket of a supervisor killed with -9
 * is still held, for an instant, by a launch child that has not yet exec'd
 * acre-init (it shares our fds until then), and the kernel then queues
 * connections nobody will ever accept.  A live supervisor answers a ping.
 */
static bool answers(int fd)
{
	static const char ping[] = "{\"op\":\"" ACRE_OP_PING "\",\"id\":1}\n";
	if (send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(ping) - 1))
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	return poll(&p, 1, 1000) == 1 && read(fd, &c, 1) == 1;
}

/* A socket file left by a dead supervisor is replaced; a live one is not. */
static int claim_path(const char *path, struct acre_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return acre_error_set(err, EEXIST, "--socket",
				      "--socket %s: exists and is not a socket", path);
	_cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    answers(probe))
		return acre_error_set(err, EADDRINUSE, "--socket",
				      "--socket %s: another supervisor is serving it", path);
	unlink(path);
	return 0;
}

int server_listen(struct supervisor *sv, const struct server_handler *h, struct acre_error *err)
{
	const char *path = sv->opt.socket_path;
	sv->handler = h;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return acre_error_set(err, ENAMETOOLONG, "--socket", "--socket %s: path too long",
				      path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	snprintf(sv->socket_dir, sizeof(sv->socket_dir), "%s", path);
	char *slash = strrchr(sv->socket_dir, '/');
	if (slash && slash != sv->socket_dir)
		*slash = '\0';
	int rc = acre_mkdir_p(sv->socket_dir, 0755);
	if (rc < 0)
		return acre_error_set(err, -rc, "--socket", "creating %s: %s", sv->socket_dir,
				      strerror(-rc));
	if ((rc = claim_path(path, err)) < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "creating socket: %s", strerror(errno));
	/* Not reachable by anyone until its mode and group are right. */
	mode_t old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0 || listen(fd, 512) < 0) {
		rc = acre_error_set(err, errno, "--socket", "listening on %s: %s", path,
				    strerror(errno));
		close(fd);
		return rc;
	}
	if (sv->have_group && (chown(path, 0, sv->group_gid) < 0 || chmod(path, 0660) < 0))
		acre_log(ACRE_LOG_WARN, "event=socket_group_failed path=%s error=\"%s\"", path,
			 strerror(errno));
	sv->listen_fd = fd;
	sv->listen_ev = event_new(sv->base, fd, EV_READ | EV_PERSIST, on_accept, sv);
	if (!sv->listen_ev || event_add(sv->listen_ev, NULL) < 0)
		return acre_error_set(err, ENOMEM, NULL, "watching the socket");
	return 0;
}

void server_close(struct supervisor *sv)
{
	if (sv->listen_ev)
		event_free(sv->listen_ev);
	sv->listen_ev = NULL;
	if (sv->listen_fd >= 0) {
		close(sv->listen_fd);
		unlink(sv->opt.socket_path);
		sv->listen_fd = -1;
	}
	while (sv->conns) {
		flush_output(sv->conns);
		conn_close(sv->conns);
	}
}
