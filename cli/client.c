/*
 * The CLI's side of the supervisor protocol: a blocking connection that
 * sends one request per line (with fds attached when a foreground run
 * hands over its stdio) and reads replies, events and passed fds back.
 */
#include "cli.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

int client_connect(struct client *c, const char *path, struct acre_error *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->received_fd = -1;
	c->next_id = 1;
	c->reply_timeout_ms = -1;
	c->path = path;
	acre_frame_init(&c->in, ACRE_FRAME_MAX);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return acre_error_set(err, ENAMETOOLONG, "--socket", "--socket %s: path too long",
				      path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		client_close(c);
		return acre_error_set(err, e, NULL,
				      "connecting to the supervisor at %s: %s%s", path, strerror(e),
				      e == ENOENT || e == ECONNREFUSED
					      ? " (is acre-supervisor running?)"
					      : "");
	}
	return 0;
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->received_fd >= 0)
		close(c->received_fd);
	c->fd = -1;
	c->received_fd = -1;
	acre_frame_free(&c->in);
}

json_int_t client_send(struct client *c, const char *op, json_t *args, const int *fds, int nfds,
		       struct acre_error *err)
{
	json_int_t id = c->next_id++;
	_cleanup_json_ json_t *msg = args ? json_deep_copy(args) : json_object();
	json_object_set_new(msg, "op", json_string(op));
	json_object_set_new(msg, "id", json_integer(id));
	size_t len;
	_cleanup_free_ char *line = acre_frame_encode(msg, &len);
	if (!line)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	char cbuf[CMSG_SPACE(sizeof(int) * 3)] = {0};
	struct iovec iov = {.iov_base = line, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	size_t off = 0;
	while (off < len) {
		iov.iov_base = line + off;
		iov.iov_len = len - off;
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return acre_error_set(err, errno, NULL, "sending to the supervisor: %s",
					      strerror(errno));
		}
		off += (size_t)n;
		mh.msg_control = NULL; /* the fds went with the first bytes */
		mh.msg_controllen = 0;
	}
	return id;
}

static int fill(struct client *c, int timeout_ms, struct acre_error *err)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : acre_error_set(err, errno, NULL, "poll: %s",
							   strerror(errno));
	if (r == 0)
		return 0;
	char buf[65536];
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EINTR ? 0 : acre_error_set(err, errno, NULL,
							   "reading from the supervisor: %s",
							   strerror(errno));
	if (n == 0)
		return acre_error_set(err, ECONNRESET, NULL,
				      "the supervisor closed the connection");
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int *fds = (int *)CMSG_DATA(cm);
		size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			if (c->received_fd < 0)
				c->received_fd = fds[i];
			else
				close(fds[i]);
		}
	}
	if (acre_frame_feed(&c->in, buf, (size_t)n) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 1;
}

int client_read(struct client *c, int timeout_ms, json_t **msg, struct acre_error *err)
{
	*msg = NULL;
	for (;;) {
		char *line;
		size_t len;
		enum acre_frame_result r = acre_frame_next(&c->in, &line, &len);
		if (r == ACRE_FRAME_TOO_LONG)
			return acre_error_set(err, EMSGSIZE, NULL, "reply too long");
		if (r == ACRE_FRAME_LINE) {
			if (len == 0)
				continue;
			json_error_t jerr;
			*msg = json_loadb(line, len, 0, &jerr);
			if (!json_is_object(*msg)) {
				json_decref(*msg);
				*msg = NULL;
				return acre_error_set(err, EPROTO, NULL,
						      "malformed reply from the supervisor");
			}
			return 1;
		}
		int rc = fill(c, timeout_ms, err);
		if (rc <= 0)
			return rc;
	}
}

json_t *client_call(struct client *c, const char *op, json_t *args, struct acre_error *err)
{
	json_int_t id = client_send(c, op, args, NULL, 0, err);
	if (id < 0)
		return NULL;
	uint64_t deadline = c->reply_timeout_ms < 0
				    ? 0
				    : acre_monotonic_ns() + (uint64_t)c->reply_timeout_ms * 1000000ULL;
	for (;;) {
		json_t *msg;
		int wait_ms = -1;
		if (c->reply_timeout_ms >= 0) {
			uint64_t now = acre_monotonic_ns();
			if (now >= deadline) {
				/* A hung daemon must not hang every script that asks it something. */
				acre_error_set(err, ETIMEDOUT, NULL,
					       "no reply from the supervisor at %s within %d.%03ds "
					       "(--timeout): is it hung?",
					       c->path, c->reply_timeout_ms / 1000,
					       c->reply_timeout_ms % 1000);
				return NULL;
			}
			wait_ms = (int)((deadline - now + 999999) / 1000000);
		}
		if (client_read(c, wait_ms, &msg, err) < 0)
			return NULL;
		if (!msg)
			continue;
		json_t *mid = json_object_get(msg, "id");
		if (json_object_get(msg, "event") || (mid && !json_is_null(mid) &&
						      json_integer_value(mid) != id)) {
			json_decref(msg);
			continue;
		}
		if (json_is_true(json_object_get(msg, "ok"))) {
			json_t *res = json_incref(json_object_get(msg, "result"));
			json_decref(msg);
			return res;
		}
		acre_proto_error_from_json(msg, err);
		json_decref(msg);
		return NULL;
	}
}

int cli_connect(struct cli *cli, struct client *c, struct acre_error *err)
{
	if (client_connect(c, cli->socket_path, err) < 0)
		return -1;
	c->reply_timeout_ms = cli->timeout_ms ? (int)cli->timeout_ms : -1;
	return 0;
}

json_t *cli_call(struct cli *cli, const char *op, json_t *args, struct acre_error *err)
{
	struct client c;
	if (cli_connect(cli, &c, err) < 0)
		return NULL;
	json_t *res = client_call(&c, op, args, err);
	client_close(&c);
	return res;
}
