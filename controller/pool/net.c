/*
 * The pool's network, as slices and nodes change: the options (checked
 * once, before anything starts), each node's subnet (given at its first
 * registration, kept with the node, freed only with it), the groups of
 * slices named by acre.service and their virtual IPs, the names checked
 * when a slice is created, and what changed in a pass — peers, names,
 * VIPs — noted by key so that pool_net_flush (net_push.c) can tell nodes
 * once the pass is committed.
 *
 * A name's or VIP's record is always made from the present state
 * (net_push.c): a pass notes only which keys it touched, and each is
 * sent as set (it has a record now) or gone (it has none).
 */
#include "internal.h"
#include "net.h"

static int dirty_mark; /* the value of every entry of the dirty maps */

static const char *const overlay_names[] = {"host-gw", "vxlan"};

const char *pool_overlay_name(enum pool_overlay o)
{
	return (size_t)o < ACRE_ARRAY_SIZE(overlay_names) ? overlay_names[o] : "?";
}

static int config_parse(const struct pool_net_options *o, struct net_config *c,
			struct acre_error *err)
{
	const char *pool = o->pool_cidr ? o->pool_cidr : POOL_NET_POOL_CIDR;
	const char *vip = o->vip_cidr ? o->vip_cidr : POOL_NET_VIP_CIDR;
	const char *overlay = o->overlay ? o->overlay : overlay_names[POOL_OVERLAY_HOST_GW];
	*c = (struct net_config){.bits = o->node_subnet_bits ? o->node_subnet_bits
							     : POOL_NET_SUBNET_BITS};
	if (pool_cidr_parse(pool, &c->pool) < 0)
		return acre_error_set(
			err, EINVAL, "--pool-cidr",
			"--pool-cidr %.64s: an IPv4 prefix A.B.C.D/N with no host bit "
			"set",
			pool);
	if (pool_cidr_parse(vip, &c->vip) < 0)
		return acre_error_set(err, EINVAL, "--vip-cidr",
				      "--vip-cidr %.64s: an IPv4 prefix A.B.C.D/N with no host bit "
				      "set",
				      vip);
	if (pool_cidr_overlap(&c->pool, &c->vip))
		return acre_error_set(
			err, EINVAL, "--vip-cidr",
			"--vip-cidr %s overlaps --pool-cidr %s: virtual IPs and slices' "
			"addresses must not meet",
			vip, pool);
	size_t i;
	for (i = 0; i < ACRE_ARRAY_SIZE(overlay_names); i++)
		if (!strcmp(overlay, overlay_names[i]))
			break;
	if (i == ACRE_ARRAY_SIZE(overlay_names))
		return acre_error_set(err, EINVAL, "--overlay",
				      "--overlay %.64s: unknown, host-gw or vxlan", overlay);
	c->overlay = (enum pool_overlay)i;
	return 0;
}

int pool_net_options_check(const struct pool_net_options *o, struct acre_error *err)
{
	struct net_config c;
	struct pool_subnets s;
	struct pool_vips v;
	int rc = config_parse(o, &c, err);
	if (rc == 0 && (rc = pool_subnets_init(&s, &c.pool, c.bits, err)) == 0)
		pool_subnets_free(&s);
	if (rc == 0 && (rc = pool_vips_init(&v, &c.vip, err)) == 0)
		pool_vips_free(&v);
	return rc;
}

int pool_net_init(struct pool *p, struct acre_error *err)
{
	struct pool_net *net = calloc(1, sizeof(*net));
	if (!net)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	p->net = net;
	int rc = config_parse(&p->opt.net, &net->cfg, err);
	if (rc == 0)
		rc = pool_subnets_init(&net->subnets, &net->cfg.pool, net->cfg.bits, err);
	if (rc == 0)
		rc = pool_vips_init(&net->vips, &net->cfg.vip, err);
	if (rc < 0)
		return rc;
	if (!(net->groups = acre_map_new()) || !(net->named = acre_map_new()) ||
	    !(net->upper = acre_map_new()) || !(net->dirty_peers = acre_map_new()) ||
	    !(net->dirty_names = acre_map_new()) || !(net->dirty_vips = acre_map_new()))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

static void free_group(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	free(value);
}

void pool_net_free(struct pool *p)
{
	struct pool_net *net = p->net;
	if (!net)
		return;
	pool_subnets_free(&net->subnets);
	pool_vips_free(&net->vips);
	if (net->groups) {
		acre_map_foreach(net->groups, free_group, NULL);
		acre_map_free(net->groups);
	}
	acre_map_free(net->named);
	acre_map_free(net->upper);
	acre_map_free(net->dirty_peers);
	acre_map_free(net->dirty_names);
	acre_map_free(net->dirty_vips);
	free(net);
	p->net = NULL;
}

/* ---- what changed -------------------------------------------------------------------------- */

static void mark(struct acre_map *m, const char *key)
{
	if (acre_map_put(m, key, &dirty_mark) < 0)
		acre_log(ACRE_LOG_ERROR, "key=%s event=net_change_lost error=\"out of memory\"",
			 key);
}

void pool_net_mark_peer(struct pool *p, const struct pool_node *n)
{
	if (n->network)
		mark(p->net->dirty_peers, n->id);
}

static void mark_name(struct pool *p, const char *name)
{
	char lower[ACRE_NAME_MAX + 1];
	if (pool_dns_lower(name, lower, sizeof(lower)))
		mark(p->net->dirty_names, lower);
}

static void mark_group(struct pool *p, const struct net_group *g)
{
	mark(p->net->dirty_names, g->key);
	if (g->vip)
		mark(p->net->dirty_vips, g->key);
}

/* ---- groups -------------------------------------------------------------------------------- */

struct net_group *pool_net_group_of(struct pool *p, const struct pool_slice *sl)
{
	const char *service = pool_slice_label(sl, ACRE_LABEL_SERVICE);
	char lower[ACRE_NAME_MAX + 1];
	if (!service || !pool_dns_lower(service, lower, sizeof(lower)))
		return NULL;
	return acre_map_get(p->net->groups, lower);
}

static struct net_group *group_get(struct pool *p, const char *service)
{
	char lower[ACRE_NAME_MAX + 1];
	if (!pool_dns_lower(service, lower, sizeof(lower)))
		return NULL;
	struct net_group *g = acre_map_get(p->net->groups, lower);
	if (g)
		return g;
	if (!(g = calloc(1, sizeof(*g))))
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", service);
	memcpy(g->key, lower, sizeof(g->key));
	if (acre_map_put(p->net->groups, g->key, g) < 0) {
		free(g);
		return NULL;
	}
	return g;
}

/* A member carrying acre.vip.ports: the group's VIP, the stored one when there is one. */
static void group_vip(struct pool *p, struct net_group *g, struct pool_slice *sl, uint32_t stored)
{
	struct pool_net *net = p->net;
	g->vip_members++;
	if (!g->vip && stored && pool_vips_take(&net->vips, stored) == 0)
		g->vip = stored;
	if (!g->vip && pool_vips_alloc(&net->vips, &g->vip) < 0) {
		g->vip = 0;
		acre_log(ACRE_LOG_WARN, "group=%s event=vip_failed error=\"--vip-cidr is full\"",
			 g->name);
	}
	if (stored && g->vip != stored) {
		char a[POOL_ADDR_LEN];
		pool_ipv4_format(g->vip, a);
		acre_log(ACRE_LOG_WARN, "group=%s slice=%s event=vip_moved vip=%s", g->name,
			 sl->name, a);
	}
	sl->vip = g->vip;
}

static bool has_capitals(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static void joined(struct pool *p, struct pool_slice *sl, uint32_t stored_vip)
{
	char lower[ACRE_NAME_MAX + 1];
	if (has_capitals(sl->name) && pool_dns_lower(sl->name, lower, sizeof(lower)))
		acre_map_put(p->net->upper, lower, sl);
	const char *service = pool_slice_label(sl, ACRE_LABEL_SERVICE);
	struct net_group *g = service ? group_get(p, service) : NULL;
	if (!g)
		return;
	g->members++;
	if (pool_slice_label(sl, ACRE_LABEL_VIP_PORTS))
		group_vip(p, g, sl, stored_vip);
	mark_group(p, g);
}

void pool_net_slice_created(struct pool *p, struct pool_slice *sl)
{
	joined(p, sl, 0);
}

static void set_address(struct pool *p, struct pool_slice *sl, const char *address)
{
	char lower[ACRE_NAME_MAX + 1];
	bool ok = pool_dns_lower(sl->name, lower, sizeof(lower));
	if (!address) {
		if (ok && acre_map_get(p->net->named, lower) == sl)
			acre_map_remove(p->net->named, lower);
		free(sl->address);
		sl->address = NULL;
		return;
	}
	char *a = strdup(address);
	if (!a)
		return;
	free(sl->address);
	sl->address = a;
	if (ok)
		acre_map_put(p->net->named, lower, sl);
}

void pool_net_slice_loaded(struct pool *p, struct pool_slice *sl, const char *address,
			   const char *vip)
{
	uint32_t stored = 0;
	if (vip && pool_ipv4_parse(vip, &stored) < 0)
		stored = 0;
	joined(p, sl, stored);
	if (address && *address && pool_slice_is_active(sl))
		set_address(p, sl, address);
}

/* Its name, and its group's records, are to be sent again. */
static void touched(struct pool *p, const struct pool_slice *sl, bool named)
{
	if (named)
		mark_name(p, sl->name);
	struct net_group *g = pool_net_group_of(p, sl);
	if (g)
		mark_group(p, g);
}

void pool_net_slice_changed(struct pool *p, struct pool_slice *sl)
{
	bool had = sl->address != NULL;
	if (had && !pool_slice_is_active(sl))
		set_address(p, sl, NULL); /* it ended: its address may go to the next slice */
	touched(p, sl, had);
}

void pool_net_slice_address(struct pool *p, struct pool_slice *sl, const char *address)
{
	if (!address || (sl->address && !strcmp(sl->address, address)))
		return;
	set_address(p, sl, address);
	touched(p, sl, true);
}

void pool_net_slice_deleted(struct pool *p, struct pool_slice *sl)
{
	struct pool_net *net = p->net;
	bool had = sl->address != NULL;
	set_address(p, sl, NULL);
	char lower[ACRE_NAME_MAX + 1];
	if (pool_dns_lower(sl->name, lower, sizeof(lower)) && acre_map_get(net->upper, lower) == sl)
		acre_map_remove(net->upper, lower);
	if (had)
		mark_name(p, sl->name);
	struct net_group *g = pool_net_group_of(p, sl);
	if (!g)
		return;
	mark_group(p, g);
	if (pool_slice_label(sl, ACRE_LABEL_VIP_PORTS) && g->vip_members)
		g->vip_members--;
	if (--g->members > 0)
		return;
	/* The group is gone, and its VIP with it: the next group may have it. */
	if (g->vip)
		pool_vips_release(&net->vips, g->vip);
	acre_map_remove(net->groups, g->key);
	free(g);
}

/* ---- names at creation -------------------------------------------------------------------- */

/* The slice of this name whatever its case; NULL when none. */
struct pool_slice *pool_net_slice_find_nocase(struct pool *p, const char *name)
{
	char lower[ACRE_NAME_MAX + 1];
	if (!pool_dns_lower(name, lower, sizeof(lower)))
		return NULL;
	struct pool_slice *sl = pool_slice_find(p, lower);
	return sl ? sl : acre_map_get(p->net->upper, lower);
}

#define SERVICE_FIELD "spec.labels." ACRE_LABEL_SERVICE
#define PORTS_FIELD   "spec.labels." ACRE_LABEL_VIP_PORTS

static int check_service(struct pool *p, const char *name, const char *service,
			 struct acre_error *err)
{
	if (!pool_dns_label_valid(service))
		return acre_error_set(err, EINVAL, SERVICE_FIELD,
				      SERVICE_FIELD " \"%.64s\": not a DNS label (1 to 63 letters, "
						    "digits or '-', no '-' first or last)",
				      service);
	if (!strcasecmp(service, name))
		return acre_error_set(err, EEXIST, SERVICE_FIELD,
				      SERVICE_FIELD " %s: the slice's own name; %s.acre cannot be "
						    "both",
				      service, service);
	struct pool_slice *other = pool_net_slice_find_nocase(p, service);
	if (other)
		return acre_error_set(err, EEXIST, SERVICE_FIELD,
				      SERVICE_FIELD " %s: %s.acre is taken by the slice %s",
				      service, service, other->name);
	char lower[ACRE_NAME_MAX + 1];
	struct net_group *g = pool_dns_lower(service, lower, sizeof(lower))
				      ? acre_map_get(p->net->groups, lower)
				      : NULL;
	if (g && strcmp(g->name, service))
		return acre_error_set(err, EEXIST, SERVICE_FIELD,
				      SERVICE_FIELD
				      " %s: the group is spelt %s (names in .acre are "
				      "compared without case)",
				      service, g->name);
	return 0;
}

int pool_net_check_create(struct pool *p, const char *name, const struct acre_slice_spec *spec,
			  struct acre_error *err)
{
	const char *service = json_string_value(json_object_get(spec->labels, ACRE_LABEL_SERVICE));
	const char *ports = json_string_value(json_object_get(spec->labels, ACRE_LABEL_VIP_PORTS));
	/* Every slice of the pool is NAME.acre once it has an address: one rule for all. */
	if (!pool_dns_label_valid(name))
		return acre_error_set(
			err, EINVAL, "name",
			"name %s: not a DNS label, as a slice of the pool is in .acre "
			"(1 to 63 letters, digits or '-', no '-' first or last)",
			name);
	char lower[ACRE_NAME_MAX + 1];
	if (pool_dns_lower(name, lower, sizeof(lower))) {
		const struct net_group *g = acre_map_get(p->net->groups, lower);
		if (g)
			return acre_error_set(err, EEXIST, "name",
					      "name %s: %s.acre is taken by the group %s "
					      "(label " ACRE_LABEL_SERVICE ")",
					      name, name, g->name);
		const struct pool_slice *other = pool_net_slice_find_nocase(p, name);
		if (other)
			return acre_error_set(err, EEXIST, "name",
					      "name %s: %s.acre is taken by the slice %s (names in "
					      ".acre are compared without case)",
					      name, name, other->name);
	}
	if (service) {
		int rc = check_service(p, name, service, err);
		if (rc < 0)
			return rc;
	}
	if (ports) {
		struct pool_vip_port v[POOL_VIP_PORTS_MAX];
		size_t n;
		if (!service)
			return acre_error_set(err, EINVAL, PORTS_FIELD,
					      PORTS_FIELD ": needs the label " ACRE_LABEL_SERVICE
							  " (the group the VIP is for)");
		return pool_vip_ports_parse(ports, v, &n, err);
	}
	return 0;
}

/* ---- nodes --------------------------------------------------------------------------------- */

int pool_net_check_registration(struct pool *p, const struct pool_node *n,
				const struct pool_registration *r, struct acre_error *err)
{
	struct pool_net *net = p->net;
	uint32_t a;
	if (r->net_address && pool_ipv4_parse(r->net_address, &a) == 0) {
		char range[POOL_CIDR_LEN + 1];
		const char *what = NULL;
		if (pool_cidr_contains(&net->cfg.pool, a)) {
			pool_cidr_format(&net->cfg.pool, range);
			what = "--pool-cidr";
		} else if (pool_cidr_contains(&net->cfg.vip, a)) {
			pool_cidr_format(&net->cfg.vip, range);
			what = "--vip-cidr";
		}
		if (what)
			return acre_error_set(
				err, EINVAL, "node.network.address",
				"node address %s is inside the pool's %s %s: its slices' "
				"routes would go through itself",
				r->net_address, what, range);
	}
	if ((!n || !n->subnet[0]) && net->subnets.ids.used >= net->subnets.ids.size) {
		char range[POOL_CIDR_LEN + 1];
		pool_cidr_format(&net->cfg.pool, range);
		return acre_error_set(
			err, ENOSPC, "node",
			"no subnet left for node %s: --pool-cidr %s holds %u of /%u, all "
			"given",
			r->id, range, net->subnets.ids.size, net->cfg.bits);
	}
	return 0;
}

/* A node's stored subnet back in the allocator; given anew when it no longer fits the options. */
void pool_net_node_loaded(struct pool *p, struct pool_node *n)
{
	struct pool_cidr c;
	if (!n->subnet[0])
		return;
	if (pool_cidr_parse(n->subnet, &c) == 0 && pool_subnets_take(&p->net->subnets, &c) == 0)
		return;
	acre_log(ACRE_LOG_WARN,
		 "node=%s event=subnet_dropped subnet=%s reason=\"not a free subnet of --pool-cidr "
		 "/--node-subnet-bits\"",
		 n->id, n->subnet);
	n->subnet[0] = '\0';
	pool_node_touch(p, n);
}

int pool_net_node_registered(struct pool *p, struct pool_node *n, const struct pool_registration *r)
{
	if (!n->subnet[0]) {
		struct pool_cidr c;
		if (pool_subnets_alloc(&p->net->subnets, &c) < 0)
			return -ENOSPC;
		pool_cidr_format(&c, n->subnet);
		acre_log(ACRE_LOG_INFO, "node=%s event=subnet_given subnet=%s", n->id, n->subnet);
	}
	snprintf(n->net_address, sizeof(n->net_address), "%s",
		 r->net_address ? r->net_address : "");
	snprintf(n->vtep_mac, sizeof(n->vtep_mac), "%s", r->vtep_mac ? r->vtep_mac : "");
	bool was = n->network;
	n->network = r->network;
	n->net_full = r->network;
	n->net_live = false;
	p->net->full_owed |= r->network;
	if (n->sn.cap_net != r->net) {
		n->sn.cap_net = r->net;
		p->retry_pending = true;
	}
	/* Its peers learn its (perhaps new) address; one that left the pool's network leaves. */
	if (was || n->network)
		mark(p->net->dirty_peers, n->id);
	return 0;
}

void pool_net_node_removed(struct pool *p, struct pool_node *n)
{
	struct pool_cidr c;
	if (n->subnet[0] && pool_cidr_parse(n->subnet, &c) == 0)
		pool_subnets_release(&p->net->subnets, &c);
	if (n->network)
		mark(p->net->dirty_peers, n->id);
}

void pool_net_node_disconnected(struct pool_node *n)
{
	n->net_live = false;
	n->net_full = false;
}
