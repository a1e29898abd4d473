/*
 * The net.peers, net.names and net.vips messages (controller/README.md,
 * "Pool networking"), made after a pass is committed.  Each record is
 * made from the pool as it is now: a key the pass touched goes out as
 * `set` when it has a record and as `gone` when it has none, so changes
 * coalesce by themselves — a slice that started and stopped in one pass
 * is one `gone`.  A node that registered with a network member gets the
 * full tables once its reply is out; every other node on the pool's
 * network gets the changes, at most one message of each kind per pass.
 * The body of a change message is encoded once and sent to every node.
 */
#include "net.h"

bool pool_net_slice_named(const struct pool_slice *sl)
{
	return !sl->removed && sl->state == ACRE_SLICE_RUNNING && sl->address &&
	       sl->desired == POOL_DESIRED_RUN && pool_slice_serving(sl);
}

bool pool_net_node_peer(const struct pool_node *n)
{
	uint32_t a; /* routes and VXLAN tunnels go to IPv4 addresses */
	return n->network && n->state != POOL_NODE_DOWN && n->subnet[0] &&
	       pool_ipv4_parse(n->net_address, &a) == 0;
}

/* ---- records -------------------------------------------------------------------------------- */

static json_t *peer_record(const struct pool_node *n)
{
	json_t *j = json_pack("{s:s,s:s,s:s}", "node", n->id, "address", n->net_address, "subnet",
			      n->subnet);
	if (j && n->vtep_mac[0])
		json_object_set_new(j, "vtep_mac", json_string(n->vtep_mac));
	return j;
}

/* The members of a group, in creation order. */
static int each_member(struct pool *p, const struct net_group *g,
		       int (*fn)(struct pool_slice *sl, void *ud), void *ud)
{
	char kv[sizeof(ACRE_LABEL_SERVICE) + ACRE_NAME_MAX + 1];
	struct pool_label_filter f = {0};
	snprintf(kv, sizeof(kv), ACRE_LABEL_SERVICE "=%s", g->name);
	if (pool_label_filter_add(&f, kv, NULL) < 0)
		return -EINVAL;
	return pool_slices_labelled(p, &f, fn, ud);
}

struct group_walk {
	json_t *addresses, *srv;
	/* VIP: the ports any member lists, each with the running members that serve it. */
	struct pool_vip_port ports[POOL_VIP_RECORD_PORTS];
	json_t *backends[POOL_VIP_RECORD_PORTS];
	size_t nports;
};

static size_t member_ports(const struct pool_slice *sl, struct pool_vip_port *v)
{
	const char *text = pool_slice_label(sl, ACRE_LABEL_VIP_PORTS);
	if (!text)
		text = pool_slice_label(sl, ACRE_LABEL_PORTS);
	size_t n = 0;
	struct acre_error err;
	if (text && pool_vip_ports_parse(text, v, &n, &err) < 0)
		n = 0;
	/* The host ports picked on its node (its spec's acre.ports label has them, too). */
	const struct pool_host_ports *hp = sl->host_ports;
	for (unsigned i = 0; hp && i < hp->n && n < POOL_VIP_PORTS_MAX; i++) {
		if (!hp->p[i].port)
			continue;
		struct pool_vip_port *x = &v[n++];
		snprintf(x->service, sizeof(x->service), "%s", hp->p[i].name);
		x->port = hp->p[i].port;
		x->udp = hp->p[i].udp;
	}
	return n;
}

static int name_member(struct pool_slice *sl, void *ud)
{
	struct group_walk *w = ud;
	if (!pool_net_slice_named(sl) || json_array_size(w->addresses) >= POOL_NAME_ADDRESSES_MAX)
		return 0;
	json_array_append_new(w->addresses, json_string(sl->address));
	struct pool_vip_port v[POOL_VIP_PORTS_MAX];
	size_t n = member_ports(sl, v);
	char target[ACRE_NAME_MAX + 1];
	pool_dns_lower(sl->name, target, sizeof(target));
	for (size_t i = 0; i < n && json_array_size(w->srv) < POOL_NAME_SRV_MAX; i++)
		json_array_append_new(w->srv,
				      json_pack("{s:s,s:s,s:i,s:s}", "service", v[i].service,
						"proto", v[i].udp ? "udp" : "tcp", "port",
						(int)v[i].port, "target", target));
	return 0;
}

static json_t *group_name_record(struct pool *p, const struct net_group *g)
{
	struct group_walk w = {.addresses = json_array(), .srv = json_array()};
	each_member(p, g, name_member, &w);
	if (json_array_size(w.addresses) == 0) {
		json_decref(w.addresses);
		json_decref(w.srv);
		return NULL; /* no member runs: the name does not resolve */
	}
	json_t *j = json_pack("{s:s,s:o}", "name", g->key, "addresses", w.addresses);
	if (json_array_size(w.srv))
		json_object_set_new(j, "srv", w.srv);
	else
		json_decref(w.srv);
	return j;
}

static json_t *slice_name_record(const struct pool_slice *sl, const char *key)
{
	return json_pack("{s:s,s:[s]}", "name", key, "addresses", sl->address);
}

static json_t *name_record(struct pool *p, const char *key)
{
	const struct net_group *g = acre_map_get(p->net->groups, key);
	if (g)
		return group_name_record(p, g);
	const struct pool_slice *sl = acre_map_get(p->net->named, key);
	return sl && pool_net_slice_named(sl) ? slice_name_record(sl, key) : NULL;
}

static int vip_member(struct pool_slice *sl, void *ud)
{
	struct group_walk *w = ud;
	struct pool_vip_port v[POOL_VIP_PORTS_MAX];
	size_t n = member_ports(sl, v);
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < w->nports; k++)
			if (w->ports[k].port == v[i].port && w->ports[k].udp == v[i].udp)
				break;
		if (k == w->nports) {
			if (k == ACRE_ARRAY_SIZE(w->ports))
				continue;
			w->ports[k] = v[i];
			w->backends[k] = json_array();
			w->nports++;
		}
		if (pool_net_slice_named(sl) &&
		    json_array_size(w->backends[k]) < POOL_VIP_BACKENDS_MAX)
			json_array_append_new(w->backends[k],
					      json_pack("{s:s,s:i}", "address", sl->address, "port",
							(int)v[i].port));
	}
	return 0;
}

static json_t *vip_record(struct pool *p, const char *key)
{
	const struct net_group *g = acre_map_get(p->net->groups, key);
	if (!g || !g->vip || !g->vip_members)
		return NULL;
	struct group_walk w = {0};
	each_member(p, g, vip_member, &w);
	json_t *ports = json_array();
	for (size_t i = 0; i < w.nports; i++)
		json_array_append_new(ports,
				      json_pack("{s:i,s:s,s:o}", "port", (int)w.ports[i].port,
						"proto", w.ports[i].udp ? "udp" : "tcp", "backends",
						w.backends[i]));
	char vip[POOL_ADDR_LEN];
	pool_ipv4_format(g->vip, vip);
	return json_pack("{s:s,s:s,s:o}", "name", g->key, "vip", vip, "ports", ports);
}

/* ---- bodies -------------------------------------------------------------------------------- */

/*
 * A message's members after its op and id ("\"full\":...}\n"), in parts
 * of at most BODY_MAX bytes: a table larger than that (a pool of a million
 * named slices) goes out in several messages — the first says whether it
 * is full, the others add to it — so no line passes the protocol's 1 MiB.
 */
#define BODY_MAX (512u << 10)

struct part {
	char *text;
	size_t len, cap;
};

struct body {
	struct part *v;
	size_t n;
	bool failed;
};

static void put(struct body *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	struct part *p = &b->v[b->n - 1];
	if (p->len + n + 1 > p->cap) {
		size_t cap = (p->len + n + 1) * 2;
		char *t = realloc(p->text, cap);
		if (!t) {
			b->failed = true;
			return;
		}
		p->text = t;
		p->cap = cap;
	}
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
}

static void put_str(struct body *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A new part, its set open (or, in_gone, its set empty and its gone open). */
static void part_begin(struct body *b, bool full, bool in_gone)
{
	struct part *v = realloc(b->v, (b->n + 1) * sizeof(*v));
	if (!v) {
		b->failed = true;
		return;
	}
	b->v = v;
	b->v[b->n++] = (struct part){0};
	put_str(b, full ? "\"full\":true,\"set\":[" : "\"full\":false,\"set\":[");
	if (in_gone)
		put_str(b, "],\"gone\":[");
}

/* Each item of a (set, then gone), in as many parts as their size needs. */
static void add_items(struct body *b, json_t *a, bool in_gone)
{
	size_t i, count = 0;
	json_t *item;
	json_array_foreach (a, i, item) {
		if (b->failed)
			return;
		_cleanup_free_ char *text = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text) {
			b->failed = true;
			return;
		}
		size_t n = strlen(text);
		if (count && b->v[b->n - 1].len + n + 8 > BODY_MAX) {
			put_str(b, in_gone ? "]}\n" : "],\"gone\":[]}\n");
			part_begin(b, false, in_gone);
			count = 0;
		}
		if (count++)
			put_str(b, ",");
		put(b, text, n);
	}
}

static void body_free(struct body *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].text);
	free(b->v);
	*b = (struct body){0};
}

/* Takes set and gone. */
static void body_make(struct body *b, bool full, json_t *set, json_t *gone)
{
	*b = (struct body){0};
	part_begin(b, full, false);
	add_items(b, set, false);
	if (!b->failed)
		put_str(b, "],\"gone\":[");
	add_items(b, gone, true);
	if (!b->failed)
		put_str(b, "]}\n");
	json_decref(set);
	json_decref(gone);
	if (b->failed) {
		acre_log(ACRE_LOG_ERROR, "event=net_message_failed error=\"out of memory\"");
		body_free(b);
	}
}

typedef json_t *(*record_fn)(struct pool *p, const char *key);

struct keys_walk {
	struct pool *p;
	record_fn record;
	json_t *set, *gone;
	const char *except; /* peers: the node the message is for */
};

static void key_record(const char *key, void *value, void *ud)
{
	(void)value;
	struct keys_walk *k = ud;
	if (k->except && !strcmp(key, k->except))
		return;
	json_t *r = k->record(k->p, key);
	json_array_append_new(r ? k->set : k->gone, r ? r : json_string(key));
}

static json_t *peer_by_id(struct pool *p, const char *id)
{
	const struct pool_node *n = pool_node_find(p, id);
	return n && pool_net_node_peer(n) ? peer_record(n) : NULL;
}

/* The changes of the keys in m; false when there are none (for this node). */
static bool delta(struct pool *p, struct acre_map *m, record_fn record, const char *except,
		  struct body *b)
{
	struct keys_walk k = {p, record, json_array(), json_array(), except};
	acre_map_foreach(m, key_record, &k);
	if (!json_array_size(k.set) && !json_array_size(k.gone)) {
		json_decref(k.set);
		json_decref(k.gone);
		*b = (struct body){0};
		return false;
	}
	body_make(b, false, k.set, k.gone);
	return b->n > 0;
}

/* ---- full tables ---------------------------------------------------------------------------- */

struct full_walk {
	struct pool *p;
	const struct pool_node *self;
	json_t *set;
};

static void full_peer(const char *key, void *value, void *ud)
{
	(void)key;
	struct full_walk *f = ud;
	const struct pool_node *n = value;
	if (n != f->self && pool_net_node_peer(n))
		json_array_append_new(f->set, peer_record(n));
}

static void full_group(const char *key, void *value, void *ud)
{
	(void)value;
	struct full_walk *f = ud;
	json_t *r = name_record(f->p, key);
	if (r)
		json_array_append_new(f->set, r);
}

static void full_slice(const char *key, void *value, void *ud)
{
	struct full_walk *f = ud;
	const struct pool_slice *sl = value;
	if (pool_net_slice_named(sl) && !acre_map_get(f->p->net->groups, key))
		json_array_append_new(f->set, slice_name_record(sl, key));
}

static void full_vip(const char *key, void *value, void *ud)
{
	(void)value;
	struct full_walk *f = ud;
	json_t *r = vip_record(f->p, key);
	if (r)
		json_array_append_new(f->set, r);
}

json_t *pool_net_peers_of(struct pool *p, const struct pool_node *self)
{
	struct full_walk f = {p, self, json_array()};
	acre_map_foreach(p->nodes, full_peer, &f);
	return f.set;
}

json_t *pool_net_names_all(struct pool *p)
{
	struct full_walk f = {p, NULL, json_array()};
	acre_map_foreach(p->net->groups, full_group, &f);
	acre_map_foreach(p->net->named, full_slice, &f);
	return f.set;
}

json_t *pool_net_vips_all(struct pool *p)
{
	struct full_walk f = {p, NULL, json_array()};
	acre_map_foreach(p->net->groups, full_vip, &f);
	return f.set;
}

/* ---- the flush ------------------------------------------------------------------------------- */

typedef void (*send_fn)(void *ud, struct pool_node *n, const char *op, const char *body,
			size_t len);

struct flush {
	struct pool *p;
	send_fn send;
	void *ud;
	struct body names, vips, peers; /* the changes, the same for every node */
	bool any_peers;
	/* The full names and VIPs, made for the first node that registered this pass. */
	struct body all_names, all_vips;
	bool have_all;
};

static void send_body(struct flush *f, struct pool_node *n, const char *op, struct body *b)
{
	for (size_t i = 0; i < b->n; i++)
		f->send(f->ud, n, op, b->v[i].text, b->v[i].len);
}

static void send_full(struct flush *f, struct pool_node *n)
{
	struct body b;
	body_make(&b, true, pool_net_peers_of(f->p, n), json_array()); /* never itself */
	send_body(f, n, ACRE_OP_NET_PEERS, &b);
	body_free(&b);
	if (!f->have_all) {
		body_make(&f->all_names, true, pool_net_names_all(f->p), json_array());
		body_make(&f->all_vips, true, pool_net_vips_all(f->p), json_array());
		f->have_all = true;
	}
	send_body(f, n, ACRE_OP_NET_NAMES, &f->all_names);
	send_body(f, n, ACRE_OP_NET_VIPS, &f->all_vips);
	n->net_full = false;
	n->net_live = true;
}

static void flush_node(const char *key, void *value, void *ud)
{
	(void)key;
	struct flush *f = ud;
	struct pool_node *n = value;
	if (!n->network || !n->conn)
		return;
	if (n->net_full) {
		send_full(f, n);
		return;
	}
	if (!n->net_live)
		return;
	if (f->any_peers && acre_map_get(f->p->net->dirty_peers, n->id)) {
		/* Its own change is among them: never a peer of itself. */
		struct body own;
		if (delta(f->p, f->p->net->dirty_peers, peer_by_id, n->id, &own))
			send_body(f, n, ACRE_OP_NET_PEERS, &own);
		body_free(&own);
	} else {
		send_body(f, n, ACRE_OP_NET_PEERS, &f->peers);
	}
	send_body(f, n, ACRE_OP_NET_NAMES, &f->names);
	send_body(f, n, ACRE_OP_NET_VIPS, &f->vips);
}

static void clear(struct acre_map **m)
{
	if (!acre_map_size(*m))
		return;
	struct acre_map *fresh = acre_map_new();
	if (!fresh)
		return; /* kept: sent again next pass, which is harmless */
	acre_map_free(*m);
	*m = fresh;
}

void pool_net_flush(struct pool *p, send_fn send, void *ud)
{
	struct pool_net *net = p->net;
	struct flush f = {.p = p, .send = send, .ud = ud};
	f.any_peers = acre_map_size(net->dirty_peers) > 0;
	if (acre_map_size(net->dirty_names))
		delta(p, net->dirty_names, name_record, NULL, &f.names);
	if (acre_map_size(net->dirty_vips))
		delta(p, net->dirty_vips, vip_record, NULL, &f.vips);
	if (f.any_peers)
		delta(p, net->dirty_peers, peer_by_id, NULL, &f.peers);
	if (net->full_owed || f.names.n || f.vips.n || f.any_peers)
		acre_map_foreach(p->nodes, flush_node, &f);
	net->full_owed = false;
	body_free(&f.names);
	body_free(&f.vips);
	body_free(&f.peers);
	body_free(&f.all_names);
	body_free(&f.all_vips);
	clear(&net->dirty_peers);
	clear(&net->dirty_names);
	clear(&net->dirty_vips);
}
