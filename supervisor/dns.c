/*
 * The supervisor's DNS, set up and fed: the zone and the forwarder at start,
 * the server once the slice subnet is known, net.names applied as they
 * come (at once: a name is visible as soon as the message is read), and
 * the resolv.conf files slices find on /etc/resolv.conf:
 *
 *  - bridged slices: the server on the gateway, `search acre` so that a
 *    bare NAME finds NAME.acre, and a one-second timeout with two attempts
 *    so that a lost datagram costs a second, not the C library's five;
 *  - `--net none` slices: 127.0.0.1, in a network namespace of their own
 *    where nothing listens, so a lookup gets ECONNREFUSED (the kernel's
 *    port unreachable on lo) and fails in microseconds instead of waiting
 *    out a timeout against a resolver it cannot reach;
 *  - host-network slices keep the host's file.
 */
#include "dns_internal.h"
#include "netns/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

static int write_file(struct supervisor *sv, const char *name, const char *text, char *path,
		      size_t pathlen)
{
	if (mkdirat(sv->state_fd, "dns", 0755) < 0 && errno != EEXIST)
		return -errno;
	_cleanup_close_ int dir = openat(sv->state_fd, "dns", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	struct acre_error err = {0};
	int rc = acre_file_write_atomic(dir, name, text, strlen(text), &err);
	if (rc == 0 && fchmodat(dir, name, 0644, 0) < 0)
		rc = -errno;
	if (rc == 0)
		snprintf(path, pathlen, "%s/dns/%s", sv->opt.state_dir, name);
	return rc;
}

/* Bridged slices' file: the gateway (once known; bridged slices wait for it anyway). */
static void write_resolv_bridge(struct dns *d)
{
	char gw[INET_ADDRSTRLEN], text[512];
	struct in_addr a = {.s_addr = htonl(d->gateway)};
	inet_ntop(AF_INET, &a, gw, sizeof(gw));
	snprintf(text, sizeof(text),
		 "# acre: the node's DNS (names of the pool in .%s, others forwarded)\n"
		 "nameserver %s\nsearch %s\noptions timeout:1 attempts:2\n",
		 ACRE_DNS_ZONE, gw, ACRE_DNS_ZONE);
	int rc = write_file(d->sv, "resolv.conf.bridge", text, d->resolv_bridge,
			    sizeof(d->resolv_bridge));
	if (rc < 0) {
		d->resolv_bridge[0] = '\0';
		acre_log(ACRE_LOG_WARN, "event=dns_resolv_conf_failed error=\"%s\"", strerror(-rc));
	}
}

/* --net none slices' file: whether or not bridge networking is on. */
static void write_resolv_none(struct dns *d)
{
	static const char text[] =
		"# acre: a slice without a network; lookups fail at once (nothing listens\n"
		"# on port 53 in its own network namespace)\n"
		"nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
	int rc =
		write_file(d->sv, "resolv.conf.none", text, d->resolv_none, sizeof(d->resolv_none));
	if (rc < 0) {
		d->resolv_none[0] = '\0';
		acre_log(ACRE_LOG_WARN, "event=dns_resolv_conf_failed error=\"%s\"", strerror(-rc));
	}
}

/* --dns-hosts: names of what runs outside acre (a database machine, a NAS) for the slices. */
static int load_hosts(struct dns *d, const char *path, struct acre_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len, loaded, skipped;
	int rc = acre_file_read(AT_FDCWD, path, &text, &len, 64 << 20);
	if (rc == 0)
		rc = dns_zone_load_hosts(d->zone, text, &loaded, &skipped);
	if (rc < 0)
		return acre_error_set(err, -rc, "--dns-hosts", "--dns-hosts %s: %s", path,
				      strerror(-rc));
	acre_log(ACRE_LOG_INFO, "event=dns_hosts file=%s names=%zu skipped=%zu", path, loaded,
		 skipped);
	return 0;
}

int dns_init(struct supervisor *sv, struct acre_error *err)
{
	struct dns *d = calloc(1, sizeof(*d));
	if (!d)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	d->sv = sv;
	sv->dns = d;
	d->zone = dns_zone_new();
	if (!d->zone)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	const char *resolv = sv->opt.resolv_conf ? sv->opt.resolv_conf : "/etc/resolv.conf";
	int rc = dns_forward_new(sv->base, resolv, &d->fwd, err);
	if (rc < 0)
		return rc;
	if (dns_forward_servers(d->fwd) == 0)
		acre_log(ACRE_LOG_WARN,
			 "event=dns_no_resolvers file=%s "
			 "reason=\"names outside .acre will fail (SERVFAIL)\"",
			 resolv);
	write_resolv_none(d);
	if (sv->opt.dns_hosts && (rc = load_hosts(d, sv->opt.dns_hosts, err)) < 0)
		return rc;
	/* In a pool, the controller names every slice of the pool; alone, the node names its own.
	 */
	d->local_names = !sv->opt.link.controller;
	if (d->local_names)
		dns_local_start(d);
	return 0;
}

void dns_free(struct supervisor *sv)
{
	struct dns *d = sv->dns;
	if (!d)
		return;
	dns_local_stop(d);
	if (d->retry_ev)
		event_free(d->retry_ev);
	dns_server_free(d->server);
	dns_forward_free(d->fwd);
	dns_zone_free(d->zone);
	free(d);
	sv->dns = NULL;
}

static void on_retry(evutil_socket_t fd, short what, void *arg);

/*
 * The sockets on the gateway.  The port can be busy for a moment: a launch
 * child of a supervisor killed with -9 holds its sockets until it execs or
 * exits.  So a failure is tried again every second, and logged once.
 */
static void start_server(struct dns *d)
{
	struct acre_error err = {0};
	char cidr[ACRE_CIDR_STRLEN], gw[ACRE_ADDR_STRLEN];
	struct acre_cidr subnet = {.network = d->subnet_net, .prefix = (uint8_t)d->subnet_prefix};
	acre_cidr_format(&subnet, cidr, sizeof(cidr));
	acre_cidr_addr_format(d->gateway, gw, sizeof(gw));
	if (dns_server_start(d, &d->server, &err) < 0) {
		if (!d->retry_logged)
			acre_log(ACRE_LOG_WARN, "event=dns_off error=\"%s\" retry=1s", err.message);
		d->retry_logged = true;
		struct timeval tv = {1, 0};
		if (!d->retry_ev)
			d->retry_ev = evtimer_new(d->sv->base, on_retry, d);
		if (d->retry_ev)
			evtimer_add(d->retry_ev, &tv);
		return;
	}
	acre_log(ACRE_LOG_INFO, "event=dns_serving address=%s port=53 clients=%s local_names=%s",
		 gw, cidr, d->local_names ? "yes" : "no");
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns *d = arg;
	if (!d->server && !d->sv->stopping)
		start_server(d);
}

void dns_network_ready(struct supervisor *sv, const struct acre_cidr *subnet)
{
	struct dns *d = sv->dns;
	if (!d)
		return;
	dns_server_free(d->server);
	d->server = NULL;
	d->subnet_net = subnet->network;
	d->subnet_prefix = subnet->prefix;
	d->gateway = acre_cidr_gateway(subnet);
	dns_zone_set_reverse(d->zone, subnet->network, subnet->prefix);
	write_resolv_bridge(d);
	d->retry_logged = false;
	if (d->retry_ev)
		event_del(d->retry_ev);
	start_server(d);
}

int dns_names_apply(struct supervisor *sv, json_t *msg, struct acre_error *err)
{
	struct dns *d = sv->dns;
	if (!d)
		return acre_error_set(err, EOPNOTSUPP, NULL, "net.names: DNS is off on this node");
	int rc = dns_zone_apply(d->zone, msg, err);
	if (rc == 0)
		acre_log(ACRE_LOG_DEBUG, "event=dns_names_applied names=%zu",
			 dns_zone_size(d->zone));
	return rc;
}

const char *dns_resolv_conf_for(struct supervisor *sv, const struct acre_slice_spec *spec)
{
	struct dns *d = sv->dns;
	if (!d || !(spec->isolation.namespaces & ACRE_NS_MOUNT))
		return NULL;
	switch (spec->net_mode) {
	case ACRE_NET_BRIDGE:
		return d->resolv_bridge[0] ? d->resolv_bridge : NULL;
	case ACRE_NET_NONE:
		/* Without a network namespace of its own the slice is on the host's network. */
		return (spec->isolation.namespaces & ACRE_NS_NET) && d->resolv_none[0]
			       ? d->resolv_none
			       : NULL;
	default:
		return NULL;
	}
}
