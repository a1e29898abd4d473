/*
 * The node port: supervisors dial in over TLS (plain TCP only with
 * --insecure, and then only on loopback), and each connection carries
 * NDJSON both ways.  Lines are cut straight out of the bufferevent's input
 * (no copy unless a line spans chunks); a line over 1 MiB gets an error and
 * is skipped up to its newline, so a broken or hostile peer costs bounded
 * memory and never stalls the others.  A connection closed in the middle of
 * a pass is only marked dead; it is freed after the pass, once nothing
 * refers to it any more.
 */
#include "internal.h"
#include "proto/proto.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_OUTPUT	    (256u << 20)
#define REGISTER_TIMEOUT_NS (10ULL * 1000000000ULL)

bool nodeport_conn_alive(const struct node_conn *conn)
{
	return conn && !conn->dead && !conn->closing;
}

void nodeport_conn_close(struct node_conn *conn, const char *why)
{
	if (conn->dead)
		return;
	struct nodeport *np = conn->np;
	conn->dead = true;
	bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	struct pool_node *n = conn->node;
	acre_log(n ? ACRE_LOG_INFO : ACRE_LOG_DEBUG,
		 "node=%s event=disconnected peer=%s reason=\"%s\"", n ? n->id : "-", conn->peer,
		 why);
	nodeport_logs_conn_closed(conn);
	if (n)
		pool_node_disconnected(np->pool, n, conn);
	ACRE_LIST_REMOVE(conn, np->conns, conn);
	np->nconns--;
	/* Freed after the pass: something of this pass may still refer to it. */
	ACRE_LIST_PREPEND(conn, np->zombies, conn);
}

void nodeport_conn_free_zombies(struct nodeport *np)
{
	while (np->zombies) {
		struct node_conn *conn = np->zombies;
		ACRE_LIST_REMOVE(conn, np->zombies, conn);
		bufferevent_free(conn->bev);
		for (size_t i = 0; i < conn->rlen; i++)
			free(conn->reqs[(conn->rhead + i) % conn->rcap].items);
		free(conn->reqs);
		acre_vec_free(&conn->batch);
		free(conn);
	}
}

void nodeport_conn_send(struct node_conn *conn, const char *line, size_t len)
{
	if (!nodeport_conn_alive(conn))
		return;
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	if (evbuffer_get_length(out) + len > MAX_OUTPUT) {
		nodeport_conn_close(conn, "not reading its messages");
		return;
	}
	bufferevent_write(conn->bev, line, len);
}

void nodeport_conn_send_json(struct node_conn *conn, const json_t *msg)
{
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(msg, &len);
	if (line)
		nodeport_conn_send(conn, line, len);
}

static void on_drained(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct node_conn *conn = arg;
	conn->closing = false;
	nodeport_conn_close(conn, "refused");
}

void nodeport_conn_reply_error(struct node_conn *conn, json_t *id, const struct acre_error *err)
{
	_cleanup_json_ json_t *msg = acre_proto_error(id, err);
	if (msg)
		nodeport_conn_send_json(conn, msg);
}

/* Says why, then closes once the words are out (a refused registration). */
static void close_after_output(struct node_conn *conn)
{
	conn->closing = true;
	bufferevent_disable(conn->bev, EV_READ);
	bufferevent_setcb(conn->bev, NULL, on_drained, NULL, conn);
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		on_drained(conn->bev, conn);
}

void nodeport_conn_refuse(struct node_conn *conn, json_t *id, const struct acre_error *err)
{
	nodeport_conn_reply_error(conn, id, err);
	close_after_output(conn);
}

int nodeport_conn_request(struct node_conn *conn, struct sent_req *req, const char *line,
			  size_t len)
{
	if (!nodeport_conn_alive(conn)) {
		free(req->items);
		return -ENOTCONN;
	}
	if (conn->rlen == conn->rcap) {
		size_t cap = conn->rcap ? conn->rcap * 2 : 16;
		struct sent_req *r = malloc(cap * sizeof(*r));
		if (!r) {
			free(req->items);
			return -ENOMEM;
		}
		for (size_t i = 0; i < conn->rlen; i++)
			r[i] = conn->reqs[(conn->rhead + i) % conn->rcap];
		free(conn->reqs);
		conn->reqs = r;
		conn->rcap = cap;
		conn->rhead = 0;
	}
	conn->reqs[(conn->rhead + conn->rlen) % conn->rcap] = *req;
	conn->rlen++;
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	if (evbuffer_get_length(out) + len > MAX_OUTPUT) {
		nodeport_conn_close(conn, "not reading its messages");
		return -ENOBUFS;
	}
	bufferevent_write(conn->bev, line, len);
	return 0;
}

bool nodeport_conn_take_request(struct node_conn *conn, int64_t id, struct sent_req *out)
{
	for (size_t i = 0; i < conn->rlen; i++) {
		size_t at = (conn->rhead + i) % conn->rcap;
		if (conn->reqs[at].id != id)
			continue;
		*out = conn->reqs[at];
		/* Replies come in order: almost always the oldest. */
		for (size_t j = i; j > 0; j--)
			conn->reqs[(conn->rhead + j) % conn->rcap] =
				conn->reqs[(conn->rhead + j - 1) % conn->rcap];
		conn->rhead = (conn->rhead + 1) % conn->rcap;
		conn->rlen--;
		return true;
	}
	return false;
}

static void too_long(struct node_conn *conn)
{
	struct acre_error err;
	acre_error_set(&err, EMSGSIZE, NULL, "message line longer than %d bytes",
		       ACRE_PROTO_LINE_MAX);
	conn->np->stats->protocol_errors++;
	acre_log(ACRE_LOG_WARN, "node=%s event=protocol_error peer=%s error=\"%s\"",
		 conn->node ? conn->node->id : "-", conn->peer, err.message);
	nodeport_conn_reply_error(conn, NULL, &err);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct node_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!conn->dead && !conn->closing) {
		char *line;
		size_t len;
		switch (acre_proto_line_next(in, &conn->discarding, &line, &len)) {
		case ACRE_PROTO_LINE_WAIT:
			return;
		case ACRE_PROTO_LINE_TOO_LONG:
			too_long(conn);
			continue;
		case ACRE_PROTO_LINE:
			break;
		}
		size_t used = len + 1;
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len)
			nodeport_message(conn, line, len);
		evbuffer_drain(in, used);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct node_conn *conn = arg;
	char why[256] = "closed by the peer";
	if (what & BEV_EVENT_ERROR) {
		acre_proto_wire_error(bev, why, sizeof(why));
	} else if (what & BEV_EVENT_TIMEOUT) {
		snprintf(why, sizeof(why), "timed out");
	} else if (!(what & BEV_EVENT_EOF)) {
		return;
	}
	nodeport_conn_close(conn, why);
}

static void describe_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, "%s:%d", host, port);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)l;
	(void)salen;
	struct nodeport *np = arg;
	int one = 1;
	/* Small messages, one after another: do not hold them back for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	struct node_conn *conn = calloc(1, sizeof(*conn));
	if (!conn) {
		evutil_closesocket(fd);
		return;
	}
	conn->np = np;
	conn->opened_ns = acre_monotonic_ns();
	describe_peer(sa, conn->peer, sizeof(conn->peer));
	if (np->opt.ssl_ctx) {
		SSL *ssl = SSL_new(np->opt.ssl_ctx);
		conn->bev = ssl ? bufferevent_openssl_socket_new(np->base, fd, ssl,
								 BUFFEREVENT_SSL_ACCEPTING,
								 BEV_OPT_CLOSE_ON_FREE)
				: NULL;
		if (!conn->bev && ssl)
			SSL_free(ssl);
		if (conn->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
	} else {
		conn->bev = bufferevent_socket_new(np->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!conn->bev) {
		evutil_closesocket(fd);
		free(conn);
		return;
	}
	bufferevent_setcb(conn->bev, on_read, NULL, on_event, conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	ACRE_LIST_PREPEND(conn, np->conns, conn);
	np->nconns++;
	acre_log(ACRE_LOG_DEBUG, "event=node_connection peer=%s", conn->peer);
}

static void on_listen_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* Out of fds, most likely: the connection waits in the backlog until one frees. */
	acre_log(ACRE_LOG_WARN, "event=accept_failed error=\"%s\"",
		 strerror(EVUTIL_SOCKET_ERROR()));
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int listen_on(struct nodeport *np, struct acre_error *err)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	const char *addr = np->opt.listen;
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) < 0)
		return acre_error_set(err, EINVAL, "--node-listen",
				      "--node-listen %s: expected HOST:PORT with a numeric address",
				      addr);
	if (np->opt.insecure && !is_loopback((struct sockaddr *)&ss))
		return acre_error_set(err, EACCES, "--insecure",
				      "--insecure: plain TCP is refused on %s; only a loopback "
				      "address (127.0.0.1, ::1) may go without TLS",
				      addr);
	struct evconnlistener *l = evconnlistener_new_bind(
		np->base, on_accept, np,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 4096,
		(struct sockaddr *)&ss, sslen);
	if (!l)
		return acre_error_set(err, errno ? errno : EADDRINUSE, "--node-listen",
				      "--node-listen %s: %s", addr,
				      strerror(errno ? errno : EADDRINUSE));
	evconnlistener_set_error_cb(l, on_listen_error);
	np->listener = l;
	return 0;
}

int nodeport_start(struct event_base *base, struct pool *pool, const struct nodeport_options *o,
		   struct nodeport **out, struct acre_error *err)
{
	*out = NULL;
	struct nodeport *np = calloc(1, sizeof(*np));
	if (!np)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	np->opt = *o;
	np->base = base;
	np->pool = pool;
	np->stats = pool_stats(pool);
	int rc = listen_on(np, err);
	if (rc < 0) {
		free(np);
		return rc;
	}
	*out = np;
	return 0;
}

void nodeport_tick(struct nodeport *np)
{
	uint64_t now = acre_monotonic_ns();
	struct node_conn *conn, *next;
	ACRE_LIST_FOREACH_SAFE (conn, conn, next, np->conns) {
		if (!conn->node && !conn->closing && now - conn->opened_ns > REGISTER_TIMEOUT_NS)
			nodeport_conn_close(conn, "did not register in time");
	}
}

void nodeport_stop(struct nodeport *np)
{
	if (!np)
		return;
	if (np->listener)
		evconnlistener_free(np->listener);
	while (np->conns)
		nodeport_conn_close(np->conns, "controller stopping");
	nodeport_send_deferred(np); /* drops what was held for the connections just closed */
	nodeport_conn_free_zombies(np);
	free(np);
}
