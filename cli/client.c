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
	acre_proto_frame_init(&c->in, ACRE_PROTO_LINE_MAX);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return acre_error_set(err, ENAMETOOLONG, "--socket", "--socket %s: path too long",
				      path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;
		client_close(c);
		return acre_error_set(
			err, e, NULL, "connecting to the supervisor at %s: %s%s", path, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is acre-supervisor running?)" : "");
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
	acre_proto_frame_free(&c->in);
}

json_int_t client_send(struct client *c, const char *op, json_t *args, const int *fds, int nfds,
		       struct acre_error *err)
{
	json_int_t id = c->next_id++;
	_cleanup_json_ json_t *msg = args ? json_deep_copy(args) : json_object();
	json_object_set_new(msg, "op", json_string(op));
	json_object_set_new(msg, "id", json_integer(id));
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(msg, &len);
	if (!line)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t off = 0;
	while (off < len) {
		/* The fds go with the first bytes. */
		ssize_t n = acre_proto_send_fds(c->fd, line + off, len - off, fds,
						off ? 0 : (size_t)nfds, 0);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return acre_error_set(err, (int)-n, NULL, "sending to the supervisor: %s",
					      strerror((int)-n));
		off += (size_t)n;
	}
	return id;
}

static int fill(struct client *c, int timeout_ms, struct acre_error *err)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR
			       ? 0
			       : acre_error_set(err, errno, NULL, "poll: %s", strerror(errno));
	if (r == 0)
		return 0;
	char buf[65536];
	int fd;
	size_t nfds;
	/* One fd is kept (the end of a slice's log); any more are closed. */
	ssize_t n = acre_proto_recv_fds(c->fd, buf, sizeof(buf), &fd, c->received_fd < 0 ? 1 : 0,
					&nfds, 0);
	if (n < 0)
		return n == -EINTR ? 0
				   : acre_error_set(err, (int)-n, NULL,
						    "reading from the supervisor: %s",
						    strerror((int)-n));
	if (n == 0)
		return acre_error_set(err, ECONNRESET, NULL,
				      "the supervisor closed the connection");
	if (nfds)
		c->received_fd = fd;
	if (acre_proto_frame_feed(&c->in, buf, (size_t)n) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 1;
}

int client_read(struct client *c, int timeout_ms, json_t **msg, struct acre_error *err)
{
	*msg = NULL;
	for (;;) {
		char *line;
		size_t len;
		enum acre_proto_line r = acre_proto_frame_next(&c->in, &line, &len);
		if (r == ACRE_PROTO_LINE_TOO_LONG)
			return acre_error_set(err, EMSGSIZE, NULL, "reply too long");
		if (r == ACRE_PROTO_LINE) {
			if (len == 0)
				continue;
			_cleanup_(acre_proto_msg_free) struct acre_proto_msg m = {0};
			struct acre_error why = {0};
			if (acre_proto_parse(line, len, ACRE_PROTO_REPLY | ACRE_PROTO_EVENT, &m,
					     &why) < 0)
				return acre_error_set(err, EPROTO, NULL,
						      "malformed reply from the supervisor: %s",
						      why.message);
			*msg = TAKE_PTR(m.json);
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
	uint64_t deadline =
		c->reply_timeout_ms < 0
			? 0
			: acre_monotonic_ns() + (uint64_t)c->reply_timeout_ms * 1000000ULL;
	for (;;) {
		json_t *msg;
		int wait_ms = -1;
		if (c->reply_timeout_ms >= 0) {
			uint64_t now = acre_monotonic_ns();
			if (now >= deadline) {
				/* A hung daemon must not hang every script that asks it something.
				 */
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
		if (json_object_get(msg, "event") ||
		    (mid && !json_is_null(mid) && json_integer_value(mid) != id)) {
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
