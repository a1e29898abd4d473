/*
 * The supervisor's policy over its nftables table (netns/nft.c): when it is
 * made (with the first bridged slice, as the bridge is, or at a restart that
 * finds bridged slices), what is in it (--egress, the pool CIDR, every live
 * slice's published ports) and when it goes (a clean stop with no slice
 * left; a kill -9 leaves it, and the next start makes it again from the
 * slices it recovers, so published ports keep answering throughout).
 *
 * A published node port is also reserved: a socket bound to 0.0.0.0:PORT
 * (never listening, so it receives nothing) held as long as the slice
 * exists, so that a process of the node binding it later is told the port
 * is taken rather than being silently bypassed by the DNAT.  TCP reserves
 * with SO_REUSEADDR, so a connection of the node's lingering in TIME_WAIT on
 * that port does not count as taken.
 */
#include "egress.h"
#include "network.h"
#include "slice.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct published {
	char owner[ACRE_NAME_MAX + 1];
	struct acre_nft_publish p;
	int fd; /* the reservation, -1 if the port could not be had at a restart */
};

struct egress {
	struct acre_nft *nft;
	bool made;		 /* the table exists as this run made it */
	struct acre_cidr subnet; /* the slice subnet it was made for */
	bool have_pool;
	struct acre_cidr pool;
	ACRE_VEC(struct published) pub;
};

static struct egress *egress_get(struct supervisor *sv)
{
	if (!sv->egress) {
		sv->egress = calloc(1, sizeof(struct egress));
		if (!sv->egress)
			return NULL;
	}
	return sv->egress;
}

/* Forwarding between the bridge and the node's other links: NAT and published ports need it. */
static void forwarding_on(void)
{
	char v = '0';
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &v, 1) == 1 && v != '1') {
		if (pwrite(fd, "1", 1, 0) == 1)
			acre_log(ACRE_LOG_INFO,
				 "event=ip_forwarding_on reason=\"bridged slices reach beyond the "
				 "node\"");
		else
			acre_log(ACRE_LOG_WARN, "event=ip_forwarding_failed error=\"%s\"",
				 strerror(errno));
	}
	close(fd);
}

static int open_nft(struct supervisor *sv, struct egress *e, struct acre_error *err)
{
	if (e->nft)
		return 0;
	char table[ACRE_NFT_TABLE_MAX];
	acre_nft_table_name(sv->opt.cgroup_root, table, sizeof(table));
	return acre_nft_open(&e->nft, table, err);
}

/* The table exactly as the live slices and the options want it, in one transaction. */
static int make_table(struct supervisor *sv, struct egress *e, struct acre_error *err)
{
	if (!network_bridge_on(sv))
		return acre_error_set(err, EOPNOTSUPP, NULL, "bridge networking is off");
	const struct acre_netns_bridge *br = network_bridge(sv);
	int rc = open_nft(sv, e, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ struct acre_nft_publish *ports = calloc(e->pub.n + 1, sizeof(*ports));
	if (!ports)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < e->pub.n; i++)
		ports[i] = e->pub.v[i].p;
	struct acre_nft_table_config cfg = {.subnet = br->subnet,
					    .bridge = br->name,
					    .egress_nat = !sv->opt.egress_none,
					    .pool = e->have_pool ? &e->pool : NULL,
					    .publish = ports,
					    .npublish = e->pub.n};
	forwarding_on();
	if ((rc = acre_nft_table_ensure(e->nft, &cfg, err)) < 0)
		return rc;
	if (!e->made) {
		acre_log(ACRE_LOG_INFO, "event=nft_table_ready table=%s egress=%s published=%zu",
			 acre_nft_table(e->nft), sv->opt.egress_none ? "none" : "nat", e->pub.n);
		char chains[512];
		if (egress_forward_drops(sv, chains, sizeof(chains)) > 0)
			acre_log(
				ACRE_LOG_WARN,
				"event=forward_dropped chains=\"%s\" reason=\"a forward chain of "
				"the host's with policy drop drops routed pool traffic and slices' "
				"outside traffic: accept bridge %s in it\"",
				chains, br->name);
	}
	e->made = true;
	e->subnet = br->subnet;
	return 0;
}

int egress_forward_drops(struct supervisor *sv, char *buf, size_t len)
{
	buf[0] = '\0';
	struct egress *e = egress_get(sv);
	struct acre_error err = {0};
	if (!e || !network_bridge_on(sv) || open_nft(sv, e, &err) < 0)
		return 0;
	int n = acre_nft_forward_drops(e->nft, buf, len, &err);
	if (n < 0)
		acre_log(ACRE_LOG_DEBUG, "event=forward_check_failed error=\"%s\"", err.message);
	return n;
}

/* Made, and for the bridge's present subnet (a pool's node moves to the pool's when it joins). */
static bool table_current(struct supervisor *sv, const struct egress *e)
{
	const struct acre_netns_bridge *br = network_bridge(sv);
	return e->made && br && br->subnet.network == e->subnet.network &&
	       br->subnet.prefix == e->subnet.prefix;
}

static const char *proto_name(uint8_t proto)
{
	return acre_publish_proto_name(proto);
}

static struct published *find_port(struct egress *e, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; e && i < e->pub.n; i++)
		if (e->pub.v[i].p.proto == proto && e->pub.v[i].p.node_port == port)
			return &e->pub.v[i];
	return NULL;
}

/* A socket bound to 0.0.0.0:port, or -errno (-EADDRINUSE: something of the node has it). */
static int reserve(uint8_t proto, uint16_t port)
{
	int fd = socket(AF_INET, (proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
			0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (proto == IPPROTO_TCP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int egress_publish_check(struct supervisor *sv, const struct acre_slice_spec *spec,
			 struct acre_error *err)
{
	struct egress *e = sv->egress;
	for (size_t i = 0; i < spec->net_npublish; i++) {
		const struct acre_publish *p = &spec->net_publish[i];
		struct published *taken = find_port(e, p->proto, p->node_port);
		if (taken)
			return acre_error_set(err, EADDRINUSE, "network.publish",
					      "network.publish: node port %u/%s is published by "
					      "slice %s",
					      p->node_port, proto_name(p->proto), taken->owner);
		int fd = reserve(p->proto, p->node_port);
		if (fd < 0)
			return acre_error_set(err, -fd, "network.publish",
					      "network.publish: node port %u/%s is taken on this "
					      "node: %s",
					      p->node_port, proto_name(p->proto), strerror(-fd));
		close(fd);
	}
	return 0;
}

/* Drops owner's entries from the list (and their reservations), and from the table if made. */
static void drop_owner(struct egress *e, const char *owner)
{
	size_t k = 0;
	for (size_t i = 0; i < e->pub.n; i++) {
		struct published *q = &e->pub.v[i];
		if (strcmp(q->owner, owner) != 0) {
			e->pub.v[k++] = *q;
			continue;
		}
		struct acre_error err = {0};
		if (e->made && acre_nft_publish_remove(e->nft, &q->p, &err) < 0)
			acre_log(ACRE_LOG_WARN, "slice=%s event=unpublish_failed error=\"%s\"",
				 owner, err.message);
		if (q->fd >= 0)
			close(q->fd);
	}
	e->pub.n = k;
}

int egress_slice_add(struct supervisor *sv, const struct acre_slice_spec *spec, uint32_t addr,
		     struct acre_error *err)
{
	struct egress *e = egress_get(sv);
	if (!e)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = 0;
	if (!table_current(sv, e) && (rc = make_table(sv, e, err)) < 0)
		return acre_error_prefix(err, "setting up egress");
	for (size_t i = 0; i < spec->net_npublish && rc == 0; i++) {
		const struct acre_publish *p = &spec->net_publish[i];
		struct published q = {.p = {.proto = p->proto,
					    .node_port = p->node_port,
					    .address = addr,
					    .port = p->port},
				      .fd = -1};
		snprintf(q.owner, sizeof(q.owner), "%s", spec->name);
		if (find_port(e, p->proto, p->node_port)) {
			rc = acre_error_set(err, EADDRINUSE, "network.publish",
					    "network.publish: node port %u/%s is published already",
					    p->node_port, proto_name(p->proto));
		} else if ((q.fd = reserve(p->proto, p->node_port)) < 0) {
			rc = acre_error_set(err, -q.fd, "network.publish",
					    "network.publish: node port %u/%s is taken on this "
					    "node: %s",
					    p->node_port, proto_name(p->proto), strerror(-q.fd));
		} else if ((rc = acre_nft_publish_add(e->nft, &q.p, err)) < 0) {
			close(q.fd);
		} else if (acre_vec_push(&e->pub, q) < 0) {
			struct acre_error ignored = {0};
			acre_nft_publish_remove(e->nft, &q.p, &ignored);
			close(q.fd);
			rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
	}
	if (rc < 0) {
		drop_owner(e, spec->name); /* nothing half-published */
		return rc;
	}
	for (size_t i = 0; i < spec->net_npublish; i++)
		acre_log(ACRE_LOG_INFO,
			 "slice=%s event=port_published node_port=%u port=%u proto=%s", spec->name,
			 spec->net_publish[i].node_port, spec->net_publish[i].port,
			 proto_name(spec->net_publish[i].proto));
	return 0;
}

void egress_slice_remove(struct supervisor *sv, const struct acre_slice_spec *spec)
{
	if (sv->egress && spec->net_npublish)
		drop_owner(sv->egress, spec->name);
}

int egress_set_pool_cidr(struct supervisor *sv, const struct acre_cidr *pool)
{
	struct egress *e = egress_get(sv);
	if (!e)
		return -ENOMEM;
	e->have_pool = pool != NULL;
	if (pool)
		e->pool = *pool;
	if (!e->made)
		return 0;
	struct acre_error err = {0};
	int rc = acre_nft_pool_set(e->nft, pool, &err);
	if (rc < 0)
		acre_log(ACRE_LOG_WARN, "event=pool_cidr_failed error=\"%s\"", err.message);
	return rc;
}

int egress_sync(struct supervisor *sv, struct acre_error *err)
{
	struct egress *e = sv->egress;
	return e && e->made ? make_table(sv, e, err) : 0;
}

struct recovered {
	struct supervisor *sv;
	struct egress *e;
	size_t bridged;
};

/* A recovered slice's ports, reserved again where the node still lets us. */
static void recover_one(const char *key, void *value, void *ud)
{
	struct recovered *r = ud;
	const struct acre_slice_spec *spec = &((struct slice *)value)->rec.spec;
	uint32_t addr;
	if (spec->net_mode != ACRE_NET_BRIDGE || network_slice_address(r->sv, key, &addr) < 0)
		return;
	r->bridged++;
	for (size_t i = 0; i < spec->net_npublish; i++) {
		const struct acre_publish *p = &spec->net_publish[i];
		struct published q = {
			.p = {.proto = p->proto,
			      .node_port = p->node_port,
			      .address = addr,
			      .port = p->port},
			.fd = reserve(p->proto, p->node_port),
		};
		snprintf(q.owner, sizeof(q.owner), "%s", key);
		if (q.fd < 0)
			acre_log(
				ACRE_LOG_WARN,
				"slice=%s event=port_unreserved node_port=%u proto=%s error=\"%s\"",
				key, p->node_port, proto_name(p->proto), strerror(-q.fd));
		if (find_port(r->e, p->proto, p->node_port) || acre_vec_push(&r->e->pub, q) < 0) {
			if (q.fd >= 0)
				close(q.fd);
		}
	}
}

int egress_init(struct supervisor *sv, struct acre_error *err)
{
	if (!network_bridge_on(sv))
		return 0; /* bridge networking off: no bridged slice, nothing to translate */
	struct egress *e = egress_get(sv);
	if (!e)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	struct recovered r = {.sv = sv, .e = e};
	acre_map_foreach(sv->slices, recover_one, &r);
	/*
	 * Failing here would keep the supervisor from serving slices that run
	 * on regardless: it says why, and the next bridged slice tries again.
	 */
	struct acre_error why = {0};
	int rc = open_nft(sv, e, &why);
	if (rc == 0 && r.bridged) {
		rc = make_table(sv, e, &why);
	} else if (rc == 0 && acre_nft_table_exists(e->nft)) {
		/* Left by a run that was killed, with no bridged slice since: nothing needs it. */
		acre_log(ACRE_LOG_INFO,
			 "event=nft_table_removed table=%s reason=\"no bridged slice\"",
			 acre_nft_table(e->nft));
		rc = acre_nft_table_remove(e->nft, &why);
	}
	if (rc < 0)
		acre_log(ACRE_LOG_WARN, "event=egress_recover_failed error=\"%s\"", why.message);
	return 0;
}

void egress_free(struct supervisor *sv, bool no_slices_left)
{
	struct egress *e = sv->egress;
	if (!e)
		return;
	if (e->made && no_slices_left) {
		struct acre_error err = {0};
		if (acre_nft_table_remove(e->nft, &err) < 0)
			acre_log(ACRE_LOG_WARN, "event=nft_table_remove_failed error=\"%s\"",
				 err.message);
		else
			acre_log(ACRE_LOG_INFO, "event=nft_table_removed table=%s",
				 acre_nft_table(e->nft));
	}
	for (size_t i = 0; i < e->pub.n; i++)
		if (e->pub.v[i].fd >= 0)
			close(e->pub.v[i].fd);
	acre_vec_free(&e->pub);
	acre_nft_close(e->nft);
	free(e);
	sv->egress = NULL;
}
