/*
 * Names outside `.acre`, forwarded to the host's resolvers (the nameserver
 * lines of /etc/resolv.conf, or of --resolv-conf).  The file is read at
 * start and again when it has changed (looked at, at most once a second,
 * when a query comes): DHCP, a VPN or resolvconf rewrite it under a
 * long-running supervisor.  Queries
 * leave from the supervisor's own network namespace, so a resolver on the
 * host's loopback (127.0.0.53, a local dnsmasq) works as well as a remote
 * one.  The answer goes back as the resolver gave it, TTLs untouched, with
 * only the id put back.
 *
 * Each attempt has a socket of its own, connected to the resolver (so only
 * its replies arrive, from a port the kernel picks at random), and a random
 * id; a reply must also repeat the question.  That is what makes a spoofed
 * answer a guess of 32 bits (RFC 5452).  An attempt that gets no answer in
 * ATTEMPT_MS goes to the next resolver, and after GIVE_UP_MS the client gets
 * SERVFAIL: a lookup that cannot succeed fails fast rather than hold an
 * application for the resolver library's whole timeout.  A client that
 * asked over TCP and whose answer came back truncated over UDP gets it
 * again over TCP from the same resolver (a UDP client gets the truncated
 * answer and asks us over TCP in turn).  At most FWD_MAX
 * queries are outstanding, at most FWD_PER_CLIENT of one client (so that a
 * slice asking for names no resolver answers cannot fill the table for
 * the others); past that a query fails at once.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define FWD_SERVERS_MAX 3 /* as the C library's MAXNS */
#define FWD_MAX		512
#define FWD_PER_CLIENT	64
#define ATTEMPT_MS	700
#define GIVE_UP_MS	2000
#define RECHECK_MS	1000 /* the resolv.conf file looked at no more often */

struct fwd_query {
	struct dns_forward *fw;
	bool used;
	int fd;
	struct event *read_ev, *timer;
	bool tcp;		 /* the client asked over TCP */
	struct bufferevent *bev; /* the attempt over TCP, after a truncated answer */
	uint8_t *query;		 /* as the client sent it */
	size_t len;
	uint16_t id; /* ours, in the copy sent */
	unsigned server, attempts;
	uint64_t started_ns;
	dns_forward_done done;
	void *ud;
	uint64_t tag;
	uint32_t client; /* its address */
};

struct dns_servers {
	struct sockaddr_storage servers[FWD_SERVERS_MAX];
	socklen_t server_len[FWD_SERVERS_MAX];
	size_t nservers;
};

struct dns_forward {
	struct event_base *base;
	struct dns_servers rs; /* the resolvers, as the file last said */
	char path[4096];
	struct stat seen; /* the file as it was read: its inode, size and time */
	bool seen_exists;
	uint64_t checked_ns;
	size_t outstanding;
	struct fwd_query table[FWD_MAX];
};

static int add_server(struct dns_servers *rs, const char *addr)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&rs->servers[rs->nservers];
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&rs->servers[rs->nservers];
	if (rs->nservers >= FWD_SERVERS_MAX)
		return 0;
	memset(&rs->servers[rs->nservers], 0, sizeof(rs->servers[0]));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(53);
		rs->server_len[rs->nservers++] = sizeof(*in);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(53);
		rs->server_len[rs->nservers++] = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* The nameserver lines of path into rs; a missing file is no resolver, no error. */
static int read_resolv_conf(struct dns_servers *rs, const char *path, struct stat *st, bool *exists,
			    struct acre_error *err)
{
	*rs = (struct dns_servers){0};
	*exists = false;
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* no resolvers: names outside the zone fail at once */
		return acre_error_set(err, errno, "--resolv-conf", "--resolv-conf %s: %s", path,
				      strerror(errno));
	}
	*exists = fstat(fileno(f), st) == 0;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char key[32], value[256];
		if (sscanf(line, " %31s %255s", key, value) != 2 || strcmp(key, "nameserver") != 0)
			continue;
		char *pct = strchr(value, '%'); /* a scope id: the address alone */
		if (pct)
			*pct = '\0';
		if (add_server(rs, value) < 0)
			acre_log(ACRE_LOG_WARN, "event=dns_resolver_skipped file=%s nameserver=%s",
				 path, value);
	}
	return 0;
}

/* "a,b,c": the resolvers, for the log. */
static void servers_format(const struct dns_servers *rs, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < rs->nservers && used < size; i++) {
		char a[INET6_ADDRSTRLEN] = "";
		const struct sockaddr_storage *ss = &rs->servers[i];
		inet_ntop(ss->ss_family,
			  ss->ss_family == AF_INET
				  ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
				  : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr,
			  a, sizeof(a));
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "," : "", a);
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * The file again, when it changed since it was read.  Queries in flight keep their
 * place: an attempt's resolver index is taken modulo the new count.
 */
static void refresh(struct dns_forward *fw)
{
	uint64_t now = acre_monotonic_ns();
	if (now - fw->checked_ns < RECHECK_MS * 1000000ULL)
		return;
	fw->checked_ns = now;
	struct stat st;
	bool exists = stat(fw->path, &st) == 0;
	if (exists == fw->seen_exists && (!exists || same_file(&st, &fw->seen)))
		return;
	struct dns_servers rs;
	struct acre_error err = {0};
	if (read_resolv_conf(&rs, fw->path, &st, &exists, &err) < 0) {
		acre_log(ACRE_LOG_WARN, "event=dns_resolv_conf_unreadable file=%s error=\"%s\"",
			 fw->path, err.message);
		return; /* the resolvers it had are still the best guess */
	}
	fw->rs = rs;
	fw->seen = st;
	fw->seen_exists = exists;
	char list[3 * INET6_ADDRSTRLEN + 3];
	servers_format(&fw->rs, list, sizeof(list));
	acre_log(ACRE_LOG_INFO, "event=dns_resolvers_changed file=%s nameservers=%s", fw->path,
		 list[0] ? list : "none");
}

int dns_forward_new(struct event_base *base, const char *resolv_conf, struct dns_forward **out,
		    struct acre_error *err)
{
	struct dns_forward *fw = calloc(1, sizeof(*fw));
	if (!fw)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	fw->base = base;
	for (size_t i = 0; i < FWD_MAX; i++) {
		fw->table[i].fw = fw;
		fw->table[i].fd = -1;
	}
	snprintf(fw->path, sizeof(fw->path), "%s", resolv_conf);
	int rc = read_resolv_conf(&fw->rs, resolv_conf, &fw->seen, &fw->seen_exists, err);
	if (rc < 0) {
		free(fw);
		return rc;
	}
	fw->checked_ns = acre_monotonic_ns();
	for (size_t i = 0; i < fw->rs.nservers; i++) {
		char a[3 * INET6_ADDRSTRLEN + 3];
		struct dns_servers one = {.nservers = 1};
		one.servers[0] = fw->rs.servers[i];
		servers_format(&one, a, sizeof(a));
		acre_log(ACRE_LOG_INFO, "event=dns_resolver file=%s nameserver=%s", resolv_conf, a);
	}
	*out = fw;
	return 0;
}

size_t dns_forward_servers(const struct dns_forward *fw)
{
	return fw ? fw->rs.nservers : 0;
}

static void close_attempt(struct fwd_query *f)
{
	if (f->read_ev) {
		event_free(f->read_ev);
		f->read_ev = NULL;
	}
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->bev) {
		bufferevent_free(f->bev);
		f->bev = NULL;
	}
}

static void release(struct fwd_query *f)
{
	close_attempt(f);
	if (f->timer) {
		event_free(f->timer);
		f->timer = NULL;
	}
	free(f->query);
	f->query = NULL;
	f->used = false;
	f->fw->outstanding--;
}

/* Ends a query: done told (the reply, or NULL for SERVFAIL), the slot freed. */
static void finish(struct fwd_query *f, uint8_t *reply, size_t len)
{
	dns_forward_done done = f->done;
	void *ud = f->ud;
	uint64_t tag = f->tag;
	uint8_t *query = f->query;
	size_t qlen = f->len;
	f->query = NULL;
	release(f);
	done(ud, tag, reply, len, query, qlen);
	free(query);
}

/* The reply answers our question: same id, a reply, the same question. */
static bool matches(const struct fwd_query *f, const uint8_t *r, size_t len)
{
	if (len < LDNS_HEADER_SIZE || !LDNS_QR_WIRE(r) || LDNS_ID_WIRE(r) != f->id)
		return false;
	ldns_pkt *q = NULL, *p = NULL;
	bool ok = ldns_wire2pkt(&q, f->query, f->len) == LDNS_STATUS_OK &&
		  ldns_wire2pkt(&p, r, len) == LDNS_STATUS_OK && ldns_pkt_qdcount(p) == 1;
	if (ok) {
		ldns_rr *a = ldns_rr_list_rr(ldns_pkt_question(q), 0),
			*b = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		ok = a && b && ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0 &&
		     ldns_rr_get_type(a) == ldns_rr_get_type(b) &&
		     ldns_rr_get_class(a) == ldns_rr_get_class(b);
	}
	if (q)
		ldns_pkt_free(q);
	if (p)
		ldns_pkt_free(p);
	return ok;
}

static int send_attempt(struct fwd_query *f);

/* A copy of the query with a fresh random id, which f->id remembers. */
static uint8_t *with_new_id(struct fwd_query *f)
{
	uint16_t id;
	if (acre_random_bytes(&id, sizeof(id)) < 0)
		return NULL;
	uint8_t *copy = malloc(f->len);
	if (!copy)
		return NULL;
	memcpy(copy, f->query, f->len);
	f->id = id;
	uint16_t wire = htons(id);
	memcpy(copy, &wire, sizeof(wire));
	return copy;
}

static void on_tcp_read(struct bufferevent *bev, void *arg)
{
	struct fwd_query *f = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[2];
	if (evbuffer_copyout(in, hdr, 2) < 2)
		return;
	size_t n = (size_t)hdr[0] << 8 | hdr[1];
	if (evbuffer_get_length(in) < 2 + n)
		return;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		finish(f, NULL, 0);
		return;
	}
	evbuffer_drain(in, 2);
	evbuffer_remove(in, buf, n);
	if (!matches(f, buf, n)) {
		free(buf);
		finish(f, NULL, 0);
		return;
	}
	buf[0] = f->query[0];
	buf[1] = f->query[1];
	finish(f, buf, n);
	free(buf);
}

static void on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (!(what & BEV_EVENT_CONNECTED))
		finish(arg, NULL, 0); /* refused, reset or closed before the answer */
}

/* The same question over TCP to the resolver that answered it truncated. */
static int send_tcp(struct fwd_query *f)
{
	struct dns_forward *fw = f->fw;
	close_attempt(f);
	if (f->server >= fw->rs.nservers) /* the file lost it meanwhile */
		return -ENOENT;
	_cleanup_free_ uint8_t *copy = with_new_id(f);
	f->bev = copy ? bufferevent_socket_new(fw->base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!f->bev)
		return -ENOMEM;
	bufferevent_setcb(f->bev, on_tcp_read, NULL, on_tcp_event, f);
	bufferevent_setwatermark(f->bev, EV_READ, 0, DNS_MESSAGE_MAX + 2);
	uint8_t hdr[2] = {(uint8_t)(f->len >> 8), (uint8_t)f->len};
	if (bufferevent_enable(f->bev, EV_READ | EV_WRITE) < 0 ||
	    bufferevent_write(f->bev, hdr, 2) < 0 || bufferevent_write(f->bev, copy, f->len) < 0)
		return -ENOMEM;
	const struct sockaddr_storage *to = &fw->rs.servers[f->server];
	if (bufferevent_socket_connect(f->bev, (const struct sockaddr *)to,
				       (int)fw->rs.server_len[f->server]) < 0)
		return -ECONNREFUSED;
	return 0;
}

static void next_attempt(struct fwd_query *f)
{
	close_attempt(f);
	uint64_t elapsed_ms = (acre_monotonic_ns() - f->started_ns) / 1000000;
	size_t n = f->fw->rs.nservers; /* none left, when the file lost them meanwhile */
	if (n)
		f->server = (f->server + 1) % (unsigned)n;
	if (!n || elapsed_ms + 50 >= GIVE_UP_MS || send_attempt(f) < 0)
		finish(f, NULL, 0);
}

static void on_reply(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fwd_query *f = arg;
	uint8_t buf[DNS_MESSAGE_MAX];
	for (int i = 0; i < 8; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			/* ECONNREFUSED: nothing listens there; the next one, now. */
			next_attempt(f);
			return;
		}
		if (!matches(f, buf, (size_t)n))
			continue; /* a stray or spoofed datagram: keep waiting */
		if (f->tcp && (buf[2] & 0x02) /* TC */) {
			if (send_tcp(f) < 0)
				finish(f, NULL, 0);
			return;
		}
		buf[0] = f->query[0]; /* the client's id back */
		buf[1] = f->query[1];
		finish(f, buf, (size_t)n);
		return;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fwd_query *f = arg;
	if (f->bev || (acre_monotonic_ns() - f->started_ns) / 1000000 >= GIVE_UP_MS)
		finish(f, NULL, 0);
	else
		next_attempt(f);
}

static int send_attempt(struct fwd_query *f)
{
	struct dns_forward *fw = f->fw;
	if (f->server >= fw->rs.nservers) /* the file lost it meanwhile */
		return -ENOENT;
	const struct sockaddr_storage *to = &fw->rs.servers[f->server];
	f->attempts++;
	f->fd = socket(to->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return -errno;
	if (connect(f->fd, (const struct sockaddr *)to, fw->rs.server_len[f->server]) < 0)
		return -errno;
	uint8_t *copy = with_new_id(f);
	if (!copy)
		return -ENOMEM;
	ssize_t n = send(f->fd, copy, f->len, MSG_DONTWAIT);
	free(copy);
	if (n != (ssize_t)f->len)
		return -errno;
	f->read_ev = event_new(fw->base, f->fd, EV_READ | EV_PERSIST, on_reply, f);
	if (!f->read_ev || event_add(f->read_ev, NULL) < 0)
		return -ENOMEM;
	/* The last attempt ends when the query's time is up, not later. */
	uint64_t left_ms = GIVE_UP_MS - (acre_monotonic_ns() - f->started_ns) / 1000000;
	uint64_t ms = left_ms < ATTEMPT_MS ? left_ms : ATTEMPT_MS;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return evtimer_add(f->timer, &tv) < 0 ? -ENOMEM : 0;
}

int dns_forward_query(struct dns_forward *fw, const uint8_t *q, size_t len, bool tcp,
		      uint32_t client, dns_forward_done done, void *ud, uint64_t tag)
{
	if (fw)
		refresh(fw);
	if (!fw || fw->rs.nservers == 0)
		return -ENOENT;
	if (len < LDNS_HEADER_SIZE || len > DNS_MESSAGE_MAX)
		return -EINVAL;
	if (fw->outstanding >= FWD_MAX)
		return -EBUSY;
	struct fwd_query *f = NULL;
	unsigned mine = 0;
	for (size_t i = 0; i < FWD_MAX; i++) {
		if (!fw->table[i].used)
			f = f ? f : &fw->table[i];
		else if (fw->table[i].client == client)
			mine++;
	}
	if (!f || mine >= FWD_PER_CLIENT)
		return -EBUSY;
	*f = (struct fwd_query){.fw = fw,
				.used = true,
				.fd = -1,
				.len = len,
				.done = done,
				.ud = ud,
				.tag = tag,
				.tcp = tcp,
				.client = client,
				.started_ns = acre_monotonic_ns()};
	fw->outstanding++;
	f->query = malloc(len);
	f->timer = evtimer_new(fw->base, on_timeout, f);
	if (!f->query || !f->timer) {
		release(f);
		return -ENOMEM;
	}
	memcpy(f->query, q, len);
	/* Spread the load: the first resolver first, the others on its failures. */
	int rc = send_attempt(f);
	while (rc < 0 && f->attempts < fw->rs.nservers) {
		close_attempt(f);
		f->server = (f->server + 1) % (unsigned)fw->rs.nservers;
		rc = send_attempt(f);
	}
	if (rc < 0)
		release(f);
	return rc;
}

void dns_forward_cancel(struct dns_forward *fw, void *ud)
{
	for (size_t i = 0; fw && i < FWD_MAX; i++)
		if (fw->table[i].used && fw->table[i].ud == ud)
			release(&fw->table[i]);
}

void dns_forward_free(struct dns_forward *fw)
{
	if (!fw)
		return;
	for (size_t i = 0; i < FWD_MAX; i++)
		if (fw->table[i].used)
			release(&fw->table[i]);
	free(fw);
}
