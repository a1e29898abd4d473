/*
 * The DNS server's sockets: UDP and TCP on the bridge's gateway address,
 * port 53, in the supervisor's event loop.  Bound with IP_FREEBIND, so the
 * server is in place before the bridge (made at the first bridged slice)
 * brings the address up.
 *
 * Only the node's slices (its subnet) and the node itself (any of its own
 * addresses: its processes asking the gateway come from one, or from
 * whatever address NAT gave them on lo; the kernel drops a packet from
 * outside that claims one as its source) may ask: the port is not an open
 * resolver.  Anyone else gets REFUSED over UDP (a
 * reply no larger than the query: nothing to amplify) and a closed
 * connection over TCP.  What a client sends is bounded: a datagram larger
 * than DNS_UDP_RECV is dropped, a TCP message larger than TCP_QUERY_MAX
 * closes its connection, a connection idle for TCP_IDLE_S is closed, at most
 * TCP_CONNS are open (a new one takes the place of the one idle longest, so
 * that clients that connect and say nothing cannot keep others out), each
 * with at most
 * TCP_PENDING queries forwarded and TCP_OUT_MAX bytes of replies unread.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>
#include <sys/socket.h>

#define UDP_BATCH     32
#define UDP_ROUNDS    8 /* batches per wake-up: TCP clients and slices get their turn */
#define DNS_UDP_RECV  4096
#define TCP_CONNS     256
#define TCP_QUERY_MAX 4096
#define TCP_IDLE_S    10
#define TCP_PENDING   16
#define TCP_OUT_MAX   (256 * 1024)

struct tcp_conn;

struct dns_server {
	struct dns *d;
	int udp_fd;
	struct event *udp_ev;
	struct evconnlistener *tcp;
	struct tcp_conn *conns;
	size_t nconns;
	/* The last address is_local looked at: a client asks many times in a row. */
	uint32_t local_addr;
	bool local_verdict;
	uint64_t local_until_ns;
	uint8_t bufs[UDP_BATCH][DNS_UDP_RECV];
};

struct tcp_conn {
	struct dns_server *s;
	struct bufferevent *bev;
	unsigned pending;   /* forwarded, not answered yet */
	uint64_t active_ns; /* its last query */
	uint32_t client;    /* its address */
	ACRE_LIST_FIELDS(struct tcp_conn, conns);
};

/* One of this node's addresses: only those can be bound.  Kept for a second. */
static bool is_local(struct dns_server *s, const struct sockaddr_in *sa)
{
	uint64_t now = acre_monotonic_ns();
	if (sa->sin_addr.s_addr == s->local_addr && now < s->local_until_ns)
		return s->local_verdict;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = sa->sin_addr};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	s->local_addr = sa->sin_addr.s_addr;
	s->local_verdict = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	s->local_until_ns = now + 1000000000ull;
	return s->local_verdict;
}

static bool allowed(struct dns_server *s, const struct sockaddr *sa)
{
	const struct dns *d = s->d;
	if (sa->sa_family != AF_INET)
		return false;
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	uint32_t a = ntohl(in->sin_addr.s_addr);
	uint32_t mask = d->subnet_prefix ? ~0u << (32 - d->subnet_prefix) : 0;
	return (a >> 24) == 127 || (a & mask) == (d->subnet_net & mask) || is_local(s, in);
}

/* ---- UDP ---- */

static void udp_send(struct dns_server *s, const struct sockaddr_in *to, const uint8_t *msg,
		     size_t len)
{
	if (sendto(s->udp_fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to)) < 0)
		acre_log(ACRE_LOG_DEBUG, "event=dns_send_failed error=\"%s\"", strerror(errno));
}

static uint64_t addr_tag(const struct sockaddr_in *a)
{
	return (uint64_t)ntohl(a->sin_addr.s_addr) << 16 | ntohs(a->sin_port);
}

static void udp_forwarded(void *ud, uint64_t tag, const uint8_t *reply, size_t len,
			  const uint8_t *query, size_t qlen)
{
	struct dns_server *s = ud;
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl((uint32_t)(tag >> 16)),
				 .sin_port = htons((uint16_t)tag)};
	if (reply) {
		udp_send(s, &to, reply, len);
		return;
	}
	uint8_t *out;
	size_t outlen;
	if (dns_reply_error(query, qlen, LDNS_RCODE_SERVFAIL, &out, &outlen) == DNS_REPLY) {
		udp_send(s, &to, out, outlen);
		free(out);
	}
}

/* One datagram: *out is the reply to send now, if any. */
static void udp_query(struct dns_server *s, const uint8_t *q, size_t len,
		      const struct sockaddr_in *from, uint8_t **out, size_t *outlen)
{
	struct dns *d = s->d;
	*out = NULL;
	if (!allowed(s, (const struct sockaddr *)from)) {
		dns_reply_error(q, len, LDNS_RCODE_REFUSED, out, outlen);
		return;
	}
	if (dns_zone_answer(d->zone, q, len, false, out, outlen) != DNS_FORWARD)
		return;
	if (dns_forward_query(d->fwd, q, len, false, from->sin_addr.s_addr, udp_forwarded, s,
			      addr_tag(from)) < 0)
		dns_reply_error(q, len, LDNS_RCODE_SERVFAIL, out, outlen);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct dns_server *s = arg;
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec iov[UDP_BATCH], oiov[UDP_BATCH];
	struct sockaddr_in from[UDP_BATCH];
	uint8_t *replies[UDP_BATCH];
	for (int round = 0; round < UDP_ROUNDS; round++) {
		for (size_t i = 0; i < UDP_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = s->bufs[i], .iov_len = DNS_UDP_RECV};
			in[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
							     .msg_namelen = sizeof(from[i]),
							     .msg_iov = &iov[i],
							     .msg_iovlen = 1}};
		}
		int n = recvmmsg(fd, in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		unsigned nout = 0;
		for (int i = 0; i < n; i++) {
			size_t outlen = 0;
			replies[i] = NULL;
			/* Larger than any query needs to be: dropped, as a firewall would. */
			if ((in[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    in[i].msg_hdr.msg_namelen != sizeof(from[i]))
				continue;
			udp_query(s, s->bufs[i], in[i].msg_len, &from[i], &replies[i], &outlen);
			if (!replies[i])
				continue;
			oiov[nout] = (struct iovec){.iov_base = replies[i], .iov_len = outlen};
			out[nout] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
								 .msg_namelen = sizeof(from[i]),
								 .msg_iov = &oiov[nout],
								 .msg_iovlen = 1}};
			nout++;
		}
		/* A full socket buffer drops replies, as UDP may: the client asks again. */
		for (unsigned sent = 0; sent < nout;) {
			int m = sendmmsg(fd, out + sent, nout - sent, MSG_DONTWAIT);
			if (m <= 0)
				break;
			sent += (unsigned)m;
		}
		for (int i = 0; i < n; i++)
			free(replies[i]);
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- TCP ---- */

static void conn_free(struct tcp_conn *c)
{
	struct dns_server *s = c->s;
	dns_forward_cancel(s->d->fwd, c);
	ACRE_LIST_REMOVE(conns, s->conns, c);
	s->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	struct evbuffer *o = bufferevent_get_output(c->bev);
	uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	evbuffer_add(o, hdr, 2);
	evbuffer_add(o, msg, len);
}

static void tcp_process(struct tcp_conn *c);

static void tcp_forwarded(void *ud, uint64_t tag, const uint8_t *reply, size_t len,
			  const uint8_t *query, size_t qlen)
{
	(void)tag;
	struct tcp_conn *c = ud;
	c->pending--;
	if (reply) {
		tcp_send(c, reply, len);
	} else {
		uint8_t *out;
		size_t outlen;
		if (dns_reply_error(query, qlen, LDNS_RCODE_SERVFAIL, &out, &outlen) == DNS_REPLY) {
			tcp_send(c, out, outlen);
			free(out);
		}
	}
	tcp_process(c); /* what waited for a free place */
}

/* One query of a connection; false when the connection must close. */
static bool tcp_query(struct tcp_conn *c, const uint8_t *q, size_t len)
{
	struct dns *d = c->s->d;
	uint8_t *out = NULL;
	size_t outlen = 0;
	enum dns_verdict v = dns_zone_answer(d->zone, q, len, true, &out, &outlen);
	if (v == DNS_FORWARD) {
		if (dns_forward_query(d->fwd, q, len, true, c->client, tcp_forwarded, c, 0) == 0) {
			c->pending++;
			return true;
		}
		v = dns_reply_error(q, len, LDNS_RCODE_SERVFAIL, &out, &outlen);
	}
	if (v == DNS_REPLY) {
		tcp_send(c, out, outlen);
		free(out);
		return true;
	}
	return false; /* not a query: nothing more of this client makes sense */
}

static void tcp_process(struct tcp_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t buf[TCP_QUERY_MAX];
	while (c->pending < TCP_PENDING && evbuffer_get_length(in) >= 2) {
		uint8_t hdr[2];
		evbuffer_copyout(in, hdr, 2);
		size_t len = (size_t)hdr[0] << 8 | hdr[1];
		if (len < LDNS_HEADER_SIZE || len > TCP_QUERY_MAX) {
			conn_free(c);
			return;
		}
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, buf, len);
		if (!tcp_query(c, buf, len)) {
			conn_free(c);
			return;
		}
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > TCP_OUT_MAX)
		conn_free(c); /* asks and never reads */
}

static void on_tcp_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct tcp_conn *c = arg;
	c->active_ns = acre_monotonic_ns();
	tcp_process(c);
}

/* Room for one more: the connection idle longest goes. */
static void evict_idlest(struct dns_server *s)
{
	struct tcp_conn *c, *idlest = NULL;
	ACRE_LIST_FOREACH (conns, c, s->conns)
		if (c->pending == 0 && (!idlest || c->active_ns < idlest->active_ns))
			idlest = c;
	if (idlest)
		conn_free(idlest);
}

static void on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what; /* EOF, an error or the idle timeout: the connection ends */
	conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)l;
	(void)salen;
	struct dns_server *s = arg;
	if (!allowed(s, sa)) {
		close(fd);
		return;
	}
	if (s->nconns >= TCP_CONNS)
		evict_idlest(s);
	if (s->nconns >= TCP_CONNS) {
		close(fd); /* every one is waiting on a resolver: this one waits for none */
		return;
	}
	struct tcp_conn *c = calloc(1, sizeof(*c));
	struct event_base *base = evconnlistener_get_base(s->tcp);
	if (c)
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		free(c);
		close(fd);
		return;
	}
	c->s = s;
	c->active_ns = acre_monotonic_ns();
	c->client = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	ACRE_LIST_PREPEND(conns, s->conns, c);
	s->nconns++;
	struct timeval idle = {TCP_IDLE_S, 0};
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	/* At most one largest query and its length waiting: reading stops past that. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 4 * (TCP_QUERY_MAX + 2));
	bufferevent_setcb(c->bev, on_tcp_read, NULL, on_tcp_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- sockets ---- */

static int bound_socket(const struct dns *d, int type, struct acre_error *err)
{
	const char *what = type == SOCK_DGRAM ? "UDP" : "TCP";
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = htonl(d->gateway)};
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "DNS %s socket: %s", what, strerror(errno));
	/* The gateway address may not be up yet: the bridge comes with the first slice. */
	if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		char addr[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a.sin_addr, addr, sizeof(addr));
		return acre_error_set(err, e, NULL, "DNS on %s:53/%s: %s", addr,
				      type == SOCK_DGRAM ? "udp" : "tcp", strerror(e));
	}
	return fd;
}

int dns_server_start(struct dns *d, struct dns_server **out, struct acre_error *err)
{
	struct dns_server *s = calloc(1, sizeof(*s));
	if (!s)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	s->d = d;
	s->udp_fd = bound_socket(d, SOCK_DGRAM, err);
	int tcp_fd = s->udp_fd < 0 ? -1 : bound_socket(d, SOCK_STREAM, err);
	if (tcp_fd < 0) {
		dns_server_free(s);
		return -err->code;
	}
	struct event_base *base = d->sv->base;
	s->udp_ev = event_new(base, s->udp_fd, EV_READ | EV_PERSIST, on_udp, s);
	s->tcp = evconnlistener_new(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, 64, tcp_fd);
	if (!s->tcp)
		close(tcp_fd);
	if (!s->udp_ev || !s->tcp || event_add(s->udp_ev, NULL) < 0) {
		dns_server_free(s);
		return acre_error_set(err, ENOMEM, NULL, "DNS: setting up the sockets");
	}
	*out = s;
	return 0;
}

void dns_server_free(struct dns_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	if (s->tcp)
		evconnlistener_free(s->tcp);
	if (s->udp_ev)
		event_free(s->udp_ev);
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	free(s);
}
