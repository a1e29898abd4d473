/*
 * Slice networking, the supervisor's policy over netns/ and bpf/: which
 * subnet and bridge (--slice-cidr, --bridge), when the bridge is made (at
 * the first bridged slice) and removed (at a clean stop with no slice left),
 * leases that live as long as the slice does (across its restarts), the
 * veth set up while acre-init holds the task back, port isolation and the
 * outbound --allow policy, and the cleanup of what slices that ended while
 * the supervisor was down left behind.
 *
 * An ended slice's address is given again only once its veth is gone.  The
 * kernel removes the pair with the slice's network namespace, on its own
 * time (tens of milliseconds, seconds on a busy machine), and until then
 * that namespace still holds the address, with the same MAC (netns/veth.c):
 * a new slice given the address at once saw its peers' connections reset by
 * the dying one.  So the lease drains: it is released when the kernel has
 * removed the veth, looked for every DRAIN_POLL_MS, or after DRAIN_MAX_MS,
 * when the supervisor deletes the pair itself (something, an `ip netns`
 * mount say, keeps the namespace).
 */
#include "network.h"
#include "dns.h"
#include "pool_net.h"
#include "netns/netns.h"

#include <inttypes.h>
#include <net/if.h>

#include "egress.h"

#define DRAIN_POLL_MS 20
#define DRAIN_MAX_MS  5000

/* A lease held until the host veth of its ended slice is gone. */
struct drain {
	char owner[ACRE_NAME_MAX + 1];
	char ifname[ACRE_NETNS_IFNAMSIZ];
	unsigned ifindex;
	uint64_t since_ns;
};

struct network {
	struct acre_netns *nn;
	struct acre_netns_bridge br;
	struct acre_ipam *ipam;
	bool bridge_ready;
	char off[300]; /* why --net bridge is unavailable, or empty */
	struct drain *drain;
	size_t ndrain;
	struct event *drain_ev;
};

int network_init(struct supervisor *sv, struct acre_error *err)
{
	struct network *n = calloc(1, sizeof(*n));
	if (!n)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	sv->net = n;
	struct acre_cidr subnet;
	/* A node of a pool uses the subnet the pool gave it, from before the controller answers. */
	const struct acre_cidr *pool = pool_net_subnet(sv);
	int rc = pool ? (subnet = *pool, 0)
		      : acre_cidr_parse(sv->opt.slice_cidr, &subnet, err, "--slice-cidr");
	if (rc == 0)
		rc = acre_cidr_check_subnet(&subnet, err,
					    pool ? "the pool's subnet" : "--slice-cidr");
	if (rc == 0)
		rc = acre_netns_bridge_init(&n->br, sv->opt.bridge, sv->opt.cgroup_root, &subnet,
					    err);
	if (rc == 0)
		rc = acre_netns_open(&n->nn, err);
	if (rc == 0)
		rc = acre_netns_cidr_check_host(n->nn, &subnet, &n->br, err);
	if (rc == 0) {
		char state[4096];
		snprintf(state, sizeof(state), "%s", sv->opt.state_dir);
		rc = acre_ipam_open(&n->ipam, state, &subnet, err);
	}
	if (rc == 0)
		dns_network_ready(sv, &subnet);
	if (rc == 0)
		return 0;
	/* A choice the admin made is refused outright; the default only costs bridge mode. */
	if (sv->opt.net_given)
		return rc;
	snprintf(n->off, sizeof(n->off), "%s", err->message);
	acre_log(ACRE_LOG_WARN, "event=bridge_networking_off reason=\"%s\"", n->off);
	memset(err, 0, sizeof(*err));
	return 0;
}

void network_free(struct supervisor *sv, bool no_slices_left)
{
	struct network *n = sv->net;
	if (!n)
		return;
	/*
	 * Ours to remove at a clean stop with no slice left, whichever run made
	 * it: a restart after a crash finds one it did not make.  With the
	 * leases open, the slices were recovered (recover_slices runs right
	 * after network_init).  A device of that name that is not ours stays,
	 * and was named at launch already.
	 */
	if (no_slices_left && n->ipam) {
		struct acre_error err = {0};
		int rc = acre_netns_bridge_remove(n->nn, &n->br, &err);
		if (rc < 0 && (rc != -EEXIST || n->bridge_ready))
			acre_log(ACRE_LOG_WARN, "event=bridge_remove_failed error=\"%s\"",
				 err.message);
	}
	if (n->drain_ev)
		event_free(n->drain_ev);
	free(n->drain); /* their leases stay on disk: the next start drops them (network_recover) */
	acre_ipam_close(n->ipam);
	acre_netns_close(n->nn);
	free(n);
	sv->net = NULL;
}

/* ---- draining leases ---------------------------------------------------------------------- */

static void lease_release(struct supervisor *sv, const char *owner)
{
	struct network *n = sv->net;
	struct acre_error err = {0};
	if (acre_ipam_release(n->ipam, owner, &err) < 0)
		acre_log(ACRE_LOG_WARN, "slice=%s event=network_release_failed error=\"%s\"", owner,
			 err.message);
	if (acre_ipam_count(n->ipam) == 0)
		pool_net_lease_released(sv);
}

static void drain_drop(struct network *n, size_t i)
{
	n->drain[i] = n->drain[--n->ndrain];
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct supervisor *sv = arg;
	struct network *n = sv->net;
	uint64_t now = acre_monotonic_ns();
	for (size_t i = 0; i < n->ndrain;) {
		struct drain *d = &n->drain[i];
		char name[IF_NAMESIZE];
		bool gone = !if_indextoname(d->ifindex, name) || strcmp(name, d->ifname) != 0;
		if (!gone && now - d->since_ns < DRAIN_MAX_MS * 1000000ULL) {
			i++;
			continue;
		}
		if (!gone) {
			struct acre_error err = {0};
			if (acre_netns_link_delete(n->nn, d->ifname, &err) < 0)
				acre_log(ACRE_LOG_WARN,
					 "slice=%s event=veth_delete_failed error=\"%s\"", d->owner,
					 err.message);
		}
		acre_log(ACRE_LOG_DEBUG,
			 "slice=%s event=lease_drained veth=%s waited_ms=%" PRIu64 " deleted=%s",
			 d->owner, d->ifname, (now - d->since_ns) / 1000000,
			 gone ? "kernel" : "supervisor");
		lease_release(sv, d->owner);
		drain_drop(n, i);
	}
	if (n->ndrain) {
		struct timeval tv = {0, DRAIN_POLL_MS * 1000};
		evtimer_add(n->drain_ev, &tv);
	}
}

/* 0: the lease drains; -1: it cannot (out of memory), and the caller releases it now. */
static int drain_add(struct supervisor *sv, const char *owner, const char *ifname, unsigned ifindex)
{
	struct network *n = sv->net;
	if (!n->drain_ev && !(n->drain_ev = evtimer_new(sv->base, on_drain, sv)))
		return -1;
	struct drain *grown = realloc(n->drain, (n->ndrain + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	n->drain = grown;
	struct drain *d = &n->drain[n->ndrain++];
	*d = (struct drain){.ifindex = ifindex, .since_ns = acre_monotonic_ns()};
	snprintf(d->owner, sizeof(d->owner), "%s", owner);
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	if (!evtimer_pending(n->drain_ev, NULL)) {
		struct timeval tv = {0, DRAIN_POLL_MS * 1000};
		evtimer_add(n->drain_ev, &tv);
	}
	return 0;
}

/* A new slice of the same name takes the lease over; its set-up replaces the old pair. */
static void drain_cancel(struct network *n, const char *owner)
{
	for (size_t i = 0; i < n->ndrain; i++)
		if (strcmp(n->drain[i].owner, owner) == 0) {
			drain_drop(n, i);
			return;
		}
}

/* The outbound policy, in place before the task can run. */
static int set_policy(struct supervisor *sv, const struct acre_slice_spec *spec, uint64_t cgroup_id,
		      struct acre_error *err)
{
	char **allow = spec->net_allow;
	if (!allow)
		return 0;
	if (!sv->bpf)
		return acre_error_set(err, EOPNOTSUPP, "network.allow",
				      "network.allow: needs eBPF, which is off on this node: %s",
				      sv->accounting_off);
	struct acre_allow rules[ACRE_ALLOW_MAX];
	size_t n = 0;
	for (; n < ACRE_ARRAY_SIZE(rules) && allow[n]; n++)
		if (acre_allow_parse(allow[n], &rules[n], err) < 0)
			return acre_error_prefix(err, "network.allow");
	int rc = acre_bpf_policy_set(sv->bpf, cgroup_id, rules, n);
	if (rc < 0)
		return acre_error_set(err, -rc, "network.allow", "setting the connect policy: %s",
				      strerror(-rc));
	return 0;
}

/*
 * Made, or found and checked, once per run, by whichever comes first: a new
 * bridged slice, or the restart of one that an earlier run left.
 */
static int ensure_bridge(struct network *n, struct acre_error *err)
{
	if (n->off[0])
		return acre_error_set(err, EOPNOTSUPP, "network.mode",
				      "network.mode bridge: unavailable on this node: %s", n->off);
	if (!n->bridge_ready) {
		int rc = acre_netns_bridge_ensure(n->nn, &n->br, err);
		if (rc < 0)
			return acre_error_prefix(err, "--bridge");
		n->bridge_ready = true;
	}
	return 0;
}

int network_prepare(struct supervisor *sv, const struct acre_slice_spec *spec, uint64_t cgroup_id,
		    struct acre_error *err)
{
	struct network *n = sv->net;
	int rc = set_policy(sv, spec, cgroup_id, err);
	if (rc < 0 || spec->net_mode != ACRE_NET_BRIDGE)
		return rc;
	if (n->off[0])
		return acre_error_set(err, EOPNOTSUPP, "network.mode",
				      "network.mode bridge: unavailable on this node: %s", n->off);
	if (spec->net_isolated && !sv->bpf)
		return acre_error_set(err, EOPNOTSUPP, "network.isolated",
				      "network.isolated: needs eBPF, which is off on this node: %s",
				      sv->accounting_off);
	if (spec->resources.net_rate &&
	    (rc = acre_netns_rate_check(spec->resources.net_rate, err, "resources.net_rate")) < 0)
		return rc;
	if ((rc = ensure_bridge(n, err)) < 0)
		return rc;
	uint32_t addr;
	drain_cancel(n, spec->name);
	if ((rc = acre_ipam_allocate(n->ipam, spec->name, &addr, err)) < 0)
		return rc;
	/* The lease is the caller's to release on failure (network_release). */
	return egress_slice_add(sv, spec, addr, err);
}

int network_attach(struct supervisor *sv, const struct acre_slice_spec *spec, pid_t pid,
		   int *veth_ifindex, struct acre_error *err)
{
	struct network *n = sv->net;
	uint32_t addr;
	int rc = ensure_bridge(n, err);
	if (rc < 0)
		return acre_error_prefix(err, "setting up the network of %s", spec->name);
	if (acre_ipam_lookup(n->ipam, spec->name, &addr) < 0)
		return acre_error_set(err, ENOENT, NULL, "slice %s has no address lease",
				      spec->name);
	struct acre_netns_slice ns = {.owner = spec->name,
				      .netns_fd = -1,
				      .pid = pid,
				      .address = addr,
				      .rate = spec->resources.net_rate,
				      .isolated = spec->net_isolated};
	rc = acre_netns_slice_setup(n->nn, &n->br, &ns, err);
	if (rc == 0 && spec->net_isolated) {
		char ifname[ACRE_NETNS_IFNAMSIZ];
		acre_netns_veth_name(&n->br, spec->name, ifname);
		const struct acre_cidr *sub = &n->br.subnet;
		/* Kept: when the slice ends, its namespace takes the veth and the name with it. */
		*veth_ifindex = (int)if_nametoindex(ifname);
		rc = !sv->bpf ? acre_error_set(err, EOPNOTSUPP, "network.isolated",
					       "network.isolated: needs eBPF, which is off: %s",
					       sv->accounting_off)
			      : acre_bpf_isolate(sv->bpf, *veth_ifindex,
						 htonl(acre_cidr_gateway(sub)), htonl(sub->network),
						 sub->prefix, err);
	}
	if (rc < 0)
		return acre_error_prefix(err, "setting up the network of %s", spec->name);
	return 0;
}

void network_release(struct supervisor *sv, const struct acre_slice_spec *spec, bool live,
		     int *veth_ifindex)
{
	struct network *n = sv->net;
	if (!n || !n->ipam || spec->net_mode != ACRE_NET_BRIDGE)
		return;
	struct acre_error err = {0};
	egress_slice_remove(sv, spec);
	if (sv->bpf && *veth_ifindex > 0)
		acre_bpf_isolate_remove(sv->bpf, *veth_ifindex);
	*veth_ifindex = 0;
	/*
	 * An ended slice's veth pair goes with its network namespace, which the
	 * kernel tears down on its own time: deleting it here would cost tens of
	 * milliseconds of the supervisor's.  Only a still live one is deleted;
	 * an ended one's lease drains until the kernel has removed it.
	 */
	if (live) {
		if (acre_netns_slice_teardown(n->nn, &n->br, spec->name, &err) < 0)
			acre_log(ACRE_LOG_WARN,
				 "slice=%s event=network_release_failed error=\"%s\"", spec->name,
				 err.message);
	} else {
		char ifname[ACRE_NETNS_IFNAMSIZ];
		acre_netns_veth_name(&n->br, spec->name, ifname);
		unsigned ifindex = if_nametoindex(ifname);
		if (ifindex && drain_add(sv, spec->name, ifname, ifindex) == 0)
			return;
	}
	lease_release(sv, spec->name);
}

static void collect_name(const char *key, void *value, void *ud)
{
	(void)value;
	acre_strv_push(ud, key);
}

void network_recover(struct supervisor *sv)
{
	struct network *n = sv->net;
	if (!n || !n->ipam)
		return;
	_cleanup_strv_free_ char **live = calloc(1, sizeof(char *));
	if (!live)
		return;
	acre_map_foreach(sv->slices, collect_name, &live);
	size_t count = acre_strv_length(live), dropped = 0, removed = 0;
	struct acre_error err = {0};
	if (acre_ipam_reconcile(n->ipam, (const char *const *)live, count, &dropped, &err) < 0 ||
	    acre_netns_cleanup(n->nn, &n->br, (const char *const *)live, count, &removed, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=network_recover_failed error=\"%s\"", err.message);
	if (dropped || removed)
		acre_log(ACRE_LOG_INFO,
			 "event=network_recovered leases_dropped=%zu veths_removed=%zu", dropped,
			 removed);
}

json_t *network_view(struct supervisor *sv, const struct acre_slice_spec *spec)
{
	struct network *n = sv->net;
	json_t *j = json_pack("{s:s}", "mode", acre_net_mode_name(spec->net_mode));
	uint32_t addr;
	if (spec->net_mode == ACRE_NET_BRIDGE && n && n->ipam &&
	    acre_ipam_lookup(n->ipam, spec->name, &addr) == 0) {
		char a[ACRE_ADDR_STRLEN], gw[ACRE_ADDR_STRLEN], ifname[ACRE_NETNS_IFNAMSIZ];
		acre_cidr_addr_format(addr, a, sizeof(a));
		acre_cidr_addr_format(acre_cidr_gateway(&n->br.subnet), gw, sizeof(gw));
		acre_netns_veth_name(&n->br, spec->name, ifname);
		json_object_set_new(j, "address", json_sprintf("%s/%u", a, n->br.subnet.prefix));
		json_object_set_new(j, "gateway", json_string(gw));
		json_object_set_new(j, "bridge", json_string(n->br.name));
		json_object_set_new(j, "veth", json_string(ifname));
	}
	if (spec->resources.net_rate)
		json_object_set_new(j, "rate_bits_per_s",
				    json_integer((json_int_t)spec->resources.net_rate));
	json_object_set_new(j, "isolated", json_boolean(spec->net_isolated));
	json_t *allow = json_null(); /* null: anywhere */
	if (spec->net_allow) {
		allow = json_array();
		for (size_t i = 0; spec->net_allow[i]; i++)
			json_array_append_new(allow, json_string(spec->net_allow[i]));
	}
	json_object_set_new(j, "allow", allow);
	if (spec->net_npublish)
		json_object_set_new(j, "publish", acre_publish_to_json(spec));
	return j;
}

bool network_bridge_on(struct supervisor *sv)
{
	return sv->net && sv->net->ipam && !sv->net->off[0];
}

const struct acre_netns_bridge *network_bridge(struct supervisor *sv)
{
	return sv->net ? &sv->net->br : NULL;
}

int network_slice_address(struct supervisor *sv, const char *name, uint32_t *addr)
{
	struct network *n = sv->net;
	return n && n->ipam ? acre_ipam_lookup(n->ipam, name, addr) : -ENOENT;
}

size_t network_leases(struct supervisor *sv)
{
	return sv->net && sv->net->ipam ? acre_ipam_count(sv->net->ipam) : 0;
}

int network_use_subnet(struct supervisor *sv, const struct acre_cidr *subnet,
		       struct acre_error *err)
{
	struct network *n = sv->net;
	if (!network_bridge_on(sv))
		return acre_error_set(err, EOPNOTSUPP, NULL, "bridge networking is off: %s",
				      n ? n->off : "");
	if (n->br.subnet.network == subnet->network && n->br.subnet.prefix == subnet->prefix)
		return 0;
	if (acre_ipam_count(n->ipam) > 0)
		return acre_error_set(err, EBUSY, NULL, "%zu bridged slices hold leases in it",
				      acre_ipam_count(n->ipam));
	struct acre_netns_bridge br;
	struct acre_ipam *ipam = NULL;
	int rc = acre_netns_bridge_init(&br, n->br.name, sv->opt.cgroup_root, subnet, err);
	if (rc == 0)
		rc = acre_netns_cidr_check_host(n->nn, subnet, &n->br, err);
	if (rc == 0)
		rc = acre_ipam_open(&ipam, sv->opt.state_dir, subnet, err);
	if (rc < 0)
		return rc;
	/* No slice uses the bridge (if any): it goes, and comes back with the new gateway when
	 * needed. */
	if ((rc = acre_netns_bridge_remove(n->nn, &n->br, err)) < 0) {
		acre_ipam_close(ipam);
		return rc;
	}
	acre_ipam_close(n->ipam);
	n->ipam = ipam;
	n->br = br;
	n->bridge_ready = false;
	dns_network_ready(sv, subnet); /* the DNS server moves to the new gateway */
	return 0;
}
