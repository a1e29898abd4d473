/*
 * The pool's network: prefixes and the allocators of node subnets and
 * VIPs, DNS labels and acre.vip.ports, the controller's options, a node's
 * subnet (stable for its id, kept in the store across a restart, refused
 * when the node's address is inside the pool), names checked at creation,
 * and the net.* messages a pass sends: the full tables after a
 * registration, then only the changes, with a stopped member gone first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonw.h"
#include "controller/pool/net.h"
#include "controller/store/store.h"
#include "tmpdir.h"

/* ---- pure pieces ------------------------------------------------------------------------- */

static void test_cidr(void **state)
{
	(void)state;
	struct pool_cidr c, d;
	char buf[POOL_CIDR_LEN + 1];
	assert_int_equal(pool_cidr_parse("10.64.0.0/10", &c), 0);
	assert_int_equal(c.prefix, 10);
	pool_cidr_format(&c, buf);
	assert_string_equal(buf, "10.64.0.0/10");
	assert_true(pool_cidr_contains(&c, 0x0a7fffff));  /* 10.127.255.255 */
	assert_false(pool_cidr_contains(&c, 0x0a800000)); /* 10.128.0.0 */
	assert_int_equal(pool_cidr_parse("10.63.0.0/16", &d), 0);
	assert_false(pool_cidr_overlap(&c, &d));
	assert_int_equal(pool_cidr_parse("10.0.0.0/8", &d), 0);
	assert_true(pool_cidr_overlap(&c, &d));
	assert_true(pool_cidr_overlap(&d, &c));
	static const char *const bad[] = {
		"10.64.0.1/10", "10.64.0.0", "10.64.0.0/33", "10.64.0.0/",  "10.64.0.0/x",
		"300.1.1.1/8",	"",	     "/8",	     "10.0.0.0/-1", "10.0.0.0/8 "};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++)
		assert_int_equal(pool_cidr_parse(bad[i], &c), -EINVAL);
}

static void test_subnets(void **state)
{
	(void)state;
	struct pool_cidr pool, s;
	struct pool_subnets sub;
	struct acre_error err = {0};
	char buf[POOL_CIDR_LEN + 1];
	assert_int_equal(pool_cidr_parse("198.19.0.0/22", &pool), 0);
	assert_int_equal(pool_subnets_init(&sub, &pool, 24, &err), 0);
	assert_int_equal(sub.ids.size, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pool_subnets_alloc(&sub, &s), 0);
		pool_cidr_format(&s, buf);
		char want[32];
		snprintf(want, sizeof(want), "198.19.%d.0/24", i);
		assert_string_equal(buf, want);
	}
	assert_int_equal(pool_subnets_alloc(&sub, &s), -ENOSPC);
	/* A freed subnet is the next one given; one taken twice is refused. */
	assert_int_equal(pool_cidr_parse("198.19.2.0/24", &s), 0);
	pool_subnets_release(&sub, &s);
	assert_int_equal(pool_subnets_take(&sub, &s), 0);
	assert_int_equal(pool_subnets_take(&sub, &s), -EEXIST);
	assert_int_equal(pool_cidr_parse("198.19.8.0/24", &s), 0);
	assert_int_equal(pool_subnets_take(&sub, &s), -ERANGE);
	assert_int_equal(pool_cidr_parse("198.19.0.0/25", &s), 0);
	assert_int_equal(pool_subnets_take(&sub, &s), -ERANGE);
	pool_subnets_free(&sub);

	/* The whole default pool: 16,384 subnets of /24, given lowest first. */
	assert_int_equal(pool_cidr_parse(POOL_NET_POOL_CIDR, &pool), 0);
	assert_int_equal(pool_subnets_init(&sub, &pool, 24, &err), 0);
	assert_int_equal(sub.ids.size, 16384);
	for (int i = 0; i < 16384; i++)
		assert_int_equal(pool_subnets_alloc(&sub, &s), 0);
	pool_cidr_format(&s, buf);
	assert_string_equal(buf, "10.127.255.0/24");
	assert_int_equal(pool_subnets_alloc(&sub, &s), -ENOSPC);
	pool_subnets_free(&sub);

	assert_true(pool_subnets_init(&sub, &pool, 31, &err) < 0);
	assert_string_equal(err.field, "--node-subnet-bits");
	assert_true(pool_subnets_init(&sub, &pool, 8, &err) < 0);
	assert_string_equal(err.field, "--pool-cidr");
	assert_non_null(strstr(err.message, "too small"));
	assert_int_equal(pool_cidr_parse("0.0.0.0/0", &pool), 0);
	assert_true(pool_subnets_init(&sub, &pool, 30, &err) < 0);
}

static void test_vips(void **state)
{
	(void)state;
	struct pool_cidr r;
	struct pool_vips v;
	struct acre_error err = {0};
	uint32_t a, b, c;
	assert_int_equal(pool_cidr_parse("198.19.128.0/30", &r), 0);
	assert_int_equal(pool_vips_init(&v, &r, &err), 0);
	/* .0 and .3 are the range's network and broadcast addresses. */
	assert_int_equal(pool_vips_alloc(&v, &a), 0);
	assert_int_equal(a, 0xc6138001);
	assert_int_equal(pool_vips_alloc(&v, &b), 0);
	assert_int_equal(b, 0xc6138002);
	assert_int_equal(pool_vips_alloc(&v, &c), -ENOSPC);
	pool_vips_release(&v, a);
	pool_vips_release(&v, 0xc6138003); /* never given: nothing happens */
	assert_int_equal(pool_vips_alloc(&v, &c), 0);
	assert_int_equal(c, a);
	assert_int_equal(pool_vips_take(&v, 0xc6138002), -EEXIST);
	assert_int_equal(pool_vips_take(&v, 0xc6138100), -ERANGE);
	pool_vips_free(&v);
}

static void test_labels_and_ports(void **state)
{
	(void)state;
	assert_true(pool_dns_label_valid("web-1"));
	assert_true(pool_dns_label_valid("Web1"));
	assert_true(pool_dns_label_valid("1web"));
	char long63[64], long64[65];
	memset(long63, 'a', 63);
	long63[63] = '\0';
	memset(long64, 'a', 64);
	long64[64] = '\0';
	assert_true(pool_dns_label_valid(long63));
	assert_false(pool_dns_label_valid(long64));
	static const char *const bad[] = {"", "-web", "web-", "web_1", "web.1", "wéb", "a b"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++)
		assert_false(pool_dns_label_valid(bad[i]));

	struct pool_vip_port v[POOL_VIP_PORTS_MAX];
	size_t n;
	struct acre_error err = {0};
	assert_int_equal(pool_vip_ports_parse("80/tcp,53/udp,http:8080/tcp", v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].port, 80);
	assert_false(v[0].udp);
	assert_string_equal(v[0].service, "80");
	assert_true(v[1].udp);
	assert_string_equal(v[2].service, "http");
	assert_int_equal(v[2].port, 8080);
	static const char *const badports[] = {"",	    "80",	 "80/sctp", "0/tcp",
					       "65536/tcp", "80/tcp,",	 ",80/tcp", "80/tcp,80/tcp",
					       "x:80/tcp,", "-x:80/tcp", "8o/tcp",  "+80/tcp"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(badports); i++) {
		memset(&err, 0, sizeof(err));
		if (pool_vip_ports_parse(badports[i], v, &n, &err) == 0)
			fail_msg("\"%s\" was taken", badports[i]);
		assert_string_equal(err.field, "spec.labels.acre.vip.ports");
	}
}

static void test_options(void **state)
{
	(void)state;
	struct acre_error err = {0};
	struct pool_net_options o = {0};
	assert_int_equal(pool_net_options_check(&o, &err), 0);
	o = (struct pool_net_options){
		.pool_cidr = "198.19.0.0/17", .vip_cidr = "198.19.128.0/20", .overlay = "vxlan"};
	assert_int_equal(pool_net_options_check(&o, &err), 0);
	o.vip_cidr = "198.19.64.0/20";
	assert_true(pool_net_options_check(&o, &err) < 0);
	assert_string_equal(err.field, "--vip-cidr");
	assert_non_null(strstr(err.message, "overlaps"));
	o.vip_cidr = "198.19.128.0/20";
	o.overlay = "flannel";
	assert_true(pool_net_options_check(&o, &err) < 0);
	assert_string_equal(err.field, "--overlay");
	o.overlay = NULL;
	o.pool_cidr = "198.19.0.0/25";
	assert_true(pool_net_options_check(&o, &err) < 0);
	assert_string_equal(err.field, "--pool-cidr");
	o.pool_cidr = "198.19.0.1/17";
	assert_true(pool_net_options_check(&o, &err) < 0);
	assert_string_equal(err.field, "--pool-cidr");
	o.pool_cidr = "198.19.0.0/17";
	o.node_subnet_bits = 31;
	assert_true(pool_net_options_check(&o, &err) < 0);
	assert_string_equal(err.field, "--node-subnet-bits");
}

/* ---- a pool ---------------------------------------------------------------------------------- */

struct sent {
	char node[ACRE_NAME_MAX + 1];
	char op[16];
	json_t *msg;
};

struct fixture {
	struct tmp *t;
	struct store *st;
	struct pool *p;
	struct sent sent[64];
	size_t nsent;
};

static const struct pool_options opts = {
	.node_timeout_ms = 5000,
	.lost_after_ms = 30000,
	.net = {.pool_cidr = "198.19.0.0/17", .vip_cidr = "198.19.128.0/20"},
};

static void open_pool(struct fixture *f, bool with_store)
{
	struct acre_error err = {0};
	if (with_store && store_open(f->t->path, &f->st, &err) < 0)
		fail_msg("store_open: %s", err.message);
	if (pool_open(f->st, &opts, &f->p, &err) < 0)
		fail_msg("pool_open: %s", err.message);
}

static void close_pool(struct fixture *f)
{
	pool_close(f->p);
	store_close(f->st);
	f->p = NULL;
	f->st = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	void *t = NULL;
	assert_int_equal(tmp_setup(&t, "pool-net"), 0);
	f->t = t;
	*state = f;
	return 0;
}

static void forget_sent(struct fixture *f)
{
	for (size_t i = 0; i < f->nsent; i++)
		json_decref(f->sent[i].msg);
	f->nsent = 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	forget_sent(f);
	close_pool(f);
	void *t = f->t;
	tmp_teardown(&t);
	free(f);
	return 0;
}

static int conns[8]; /* stand for connections: the pool only compares them */

static struct pool_node *join(struct fixture *f, const char *id, const char *address, bool network,
			      int *rc)
{
	_cleanup_json_ json_t *attrs = json_object();
	struct pool_registration r = {.id = id,
				      .secret_hash = "00",
				      .hostname = id,
				      .version = "",
				      .address = address,
				      .cpus = 8000,
				      .memory = 1ULL << 34,
				      .net = 1000000000,
				      .network = network,
				      .net_address = address,
				      .vtep_mac = network ? "02:00:00:00:00:01" : NULL,
				      .attributes = attrs};
	struct pool_node *n = NULL;
	struct acre_error err = {0};
	*rc = pool_node_register(f->p, &r, &conns[id[1] - '0'], &n, &err);
	if (*rc == 0)
		pool_node_sync(f->p, n, NULL, 0, NULL);
	return n;
}

static struct pool_node *joined(struct fixture *f, const char *id, const char *address,
				bool network)
{
	int rc;
	struct pool_node *n = join(f, id, address, network, &rc);
	assert_int_equal(rc, 0);
	return n;
}

static void record_send(void *ud, struct pool_node *n, const char *op, const char *body, size_t len)
{
	struct fixture *f = ud;
	assert_true(f->nsent < ACRE_ARRAY_SIZE(f->sent));
	assert_int_equal(body[len - 1], '\n');
	char *text;
	assert_true(asprintf(&text, "{%.*s", (int)len, body) > 0);
	json_error_t jerr;
	json_t *msg = json_loads(text, 0, &jerr);
	if (!msg)
		fail_msg("not JSON: %s (%s)", text, jerr.text);
	free(text);
	struct sent *s = &f->sent[f->nsent++];
	snprintf(s->node, sizeof(s->node), "%s", n->id);
	snprintf(s->op, sizeof(s->op), "%s", op);
	s->msg = msg;
}

static void pass(struct fixture *f)
{
	forget_sent(f);
	pool_commit(f->p);
	pool_net_flush(f->p, record_send, f);
}

static json_t *sent_to(struct fixture *f, const char *node, const char *op)
{
	for (size_t i = 0; i < f->nsent; i++)
		if (!strcmp(f->sent[i].node, node) && !strcmp(f->sent[i].op, op))
			return f->sent[i].msg;
	return NULL;
}

static void test_subnet_stable_across_restart(void **state)
{
	struct fixture *f = *state;
	open_pool(f, true);
	struct pool_node *a = joined(f, "n1", "198.18.5.11", true);
	struct pool_node *b = joined(f, "n2", "198.18.5.12", false);
	assert_string_equal(a->subnet, "198.19.0.0/24");
	assert_string_equal(b->subnet, "198.19.1.0/24");
	/* Registering again keeps it. */
	a = joined(f, "n1", "198.18.5.11", true);
	assert_string_equal(a->subnet, "198.19.0.0/24");
	pass(f);
	close_pool(f);

	/* A restart: the same subnets for the same ids, and a new node gets a free one. */
	open_pool(f, true);
	a = pool_node_find(f->p, "n1");
	assert_non_null(a);
	assert_string_equal(a->subnet, "198.19.0.0/24");
	assert_true(a->network);
	assert_string_equal(a->vtep_mac, "02:00:00:00:00:01");
	assert_int_equal(a->sn.cap_net, 1000000000);
	struct pool_node *c = joined(f, "n3", "198.18.5.13", true);
	assert_string_equal(c->subnet, "198.19.2.0/24");
	b = joined(f, "n2", "198.18.5.12", true);
	assert_string_equal(b->subnet, "198.19.1.0/24");
	_cleanup_json_ json_t *net = pool_node_network_json(f->p, b);
	assert_string_equal(json_string_value(json_object_get(net, "subnet")), "198.19.1.0/24");
	assert_string_equal(json_string_value(json_object_get(net, "pool_cidr")), "198.19.0.0/17");
	assert_string_equal(json_string_value(json_object_get(net, "vip_cidr")), "198.19.128.0/20");
	assert_string_equal(json_string_value(json_object_get(net, "overlay")), "host-gw");
	assert_int_equal(json_integer_value(json_object_get(net, "vni")), 7470);
	assert_string_equal(json_string_value(json_object_get(net, "address")), "198.18.5.12");
}

static void test_address_inside_pool_refused(void **state)
{
	struct fixture *f = *state;
	open_pool(f, false);
	int rc;
	assert_null(join(f, "n1", "198.19.3.4", true, &rc));
	assert_int_equal(rc, -EINVAL);
	assert_null(join(f, "n1", "198.19.130.1", true, &rc));
	assert_int_equal(rc, -EINVAL);
	/* Nothing was made: the next good one gets the first subnet. */
	assert_null(pool_node_find(f->p, "n1"));
	struct pool_node *n = joined(f, "n1", "198.18.0.1", true);
	assert_string_equal(n->subnet, "198.19.0.0/24");
}

static json_t *spec(const char *name, const char *mode, const char *service, const char *ports)
{
	json_t *s = json_pack("{s:s,s:[s],s:{s:s}}", "name", name, "command", "/bin/true",
			      "network", "mode", mode);
	json_t *labels = json_object();
	if (service)
		json_object_set_new(labels, ACRE_LABEL_SERVICE, json_string(service));
	if (ports)
		json_object_set_new(labels, ACRE_LABEL_VIP_PORTS, json_string(ports));
	json_object_set_new(s, "labels", labels);
	return s;
}

static int create(struct fixture *f, const char *name, const char *mode, const char *service,
		  const char *ports, struct acre_error *err)
{
	_cleanup_json_ json_t *s = spec(name, mode, service, ports);
	struct pool_slice *sl;
	memset(err, 0, sizeof(*err));
	return pool_slice_create(f->p, s, NULL, &sl, err);
}

static void test_names_checked(void **state)
{
	struct fixture *f = *state;
	open_pool(f, false);
	joined(f, "n1", "198.18.0.1", true);
	struct acre_error err;
	assert_int_equal(create(f, "web_1", "bridge", NULL, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "name");
	/* Off the pool's network too: every slice of the pool is in .acre. */
	assert_int_equal(create(f, "batch.1", "none", NULL, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(create(f, "web-1", "bridge", "web_x", NULL, &err), -EINVAL);
	assert_string_equal(err.field, "spec.labels.acre.service");
	assert_int_equal(create(f, "web-1", "bridge", "web", "80", &err), -EINVAL);
	assert_string_equal(err.field, "spec.labels.acre.vip.ports");
	assert_int_equal(create(f, "web-1", "bridge", NULL, "80/tcp", &err), -EINVAL);
	assert_string_equal(err.field, "spec.labels.acre.vip.ports");
	assert_int_equal(create(f, "web-1", "bridge", "web", "80/tcp", &err), 0);
	/* One namespace, without case. */
	assert_int_equal(create(f, "WEB", "bridge", NULL, NULL, &err), -EEXIST);
	assert_string_equal(err.field, "name");
	assert_int_equal(create(f, "Web-1", "bridge", NULL, NULL, &err), -EEXIST);
	assert_string_equal(err.field, "name");
	assert_int_equal(create(f, "db-1", "bridge", "WEB-1", NULL, &err), -EEXIST);
	assert_string_equal(err.field, "spec.labels.acre.service");
	assert_int_equal(create(f, "db-1", "bridge", "db-1", NULL, &err), -EEXIST);
	assert_int_equal(create(f, "db-1", "bridge", "Web", NULL, &err), -EEXIST);
	assert_int_equal(create(f, "web-2", "bridge", "web", "80/tcp", &err), 0);
	assert_int_equal(create(f, "Api", "bridge", NULL, NULL, &err), 0);
	assert_int_equal(create(f, "api", "bridge", NULL, NULL, &err), -EEXIST);
	assert_int_equal(create(f, "db-1", "bridge", "api", NULL, &err), -EEXIST);
	/* Both members have the group's one VIP. */
	struct pool_slice *w1 = pool_slice_find(f->p, "web-1"),
			  *w2 = pool_slice_find(f->p, "web-2");
	assert_int_equal(w1->vip, 0xc6138001);
	assert_int_equal(w2->vip, w1->vip);
}

/* The node's update of a slice: running at an address, or ended. */
static void report(struct fixture *f, struct pool_node *n, const char *name,
		   enum acre_slice_state st, const char *address)
{
	static int64_t seq;
	struct pool_report r = {
		.seq = ++seq, .slice = name, .reason = "", .state = st, .address = address};
	pool_node_update(f->p, n, &r, 1);
}

static bool has_string(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

static json_t *record_named(const json_t *set, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (set, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", name))
			return v;
	return NULL;
}

static void test_push(void **state)
{
	struct fixture *f = *state;
	open_pool(f, false);
	struct pool_node *a = joined(f, "n1", "198.18.0.1", true);
	pass(f);
	/* The first node: the full tables, no peer but itself (never listed). */
	json_t *peers = sent_to(f, "n1", ACRE_OP_NET_PEERS);
	assert_non_null(peers);
	assert_true(json_is_true(json_object_get(peers, "full")));
	assert_int_equal(json_array_size(json_object_get(peers, "set")), 0);
	assert_non_null(sent_to(f, "n1", ACRE_OP_NET_NAMES));
	assert_non_null(sent_to(f, "n1", ACRE_OP_NET_VIPS));
	assert_int_equal(f->nsent, 3);

	struct pool_node *b = joined(f, "n2", "198.18.0.2", true);
	pass(f);
	peers = sent_to(f, "n2", ACRE_OP_NET_PEERS);
	assert_true(json_is_true(json_object_get(peers, "full")));
	json_t *set = json_object_get(peers, "set");
	assert_int_equal(json_array_size(set), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(set, 0), "subnet")),
			    "198.19.0.0/24");
	peers = sent_to(f, "n1", ACRE_OP_NET_PEERS);
	assert_false(json_is_true(json_object_get(peers, "full")));
	set = json_object_get(peers, "set");
	assert_int_equal(json_array_size(set), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(set, 0), "address")),
			    "198.18.0.2");
	assert_null(sent_to(f, "n1", ACRE_OP_NET_NAMES)); /* nothing changed there */

	/* Two members of a group with a VIP, each running on a node. */
	struct acre_error err;
	assert_int_equal(create(f, "web-1", "bridge", "web", "80/tcp", &err), 0);
	assert_int_equal(create(f, "web-2", "bridge", "web", "80/tcp", &err), 0);
	struct pool_slice *w1 = pool_slice_find(f->p, "web-1"),
			  *w2 = pool_slice_find(f->p, "web-2");
	assert_non_null(w1->node);
	assert_non_null(w2->node);
	report(f, w1->node, "web-1", ACRE_SLICE_RUNNING, "198.19.0.7");
	report(f, w2->node, "web-2", ACRE_SLICE_RUNNING, "198.19.1.9");
	assert_string_equal(w1->address, "198.19.0.7");
	pass(f);
	json_t *names = sent_to(f, "n2", ACRE_OP_NET_NAMES);
	assert_non_null(names);
	json_t *web = record_named(json_object_get(names, "set"), "web");
	assert_non_null(web);
	assert_int_equal(json_array_size(json_object_get(web, "addresses")), 2);
	assert_int_equal(json_array_size(json_object_get(web, "srv")), 2);
	assert_non_null(record_named(json_object_get(names, "set"), "web-1"));
	json_t *vips = sent_to(f, "n1", ACRE_OP_NET_VIPS);
	json_t *vip = record_named(json_object_get(vips, "set"), "web");
	assert_string_equal(json_string_value(json_object_get(vip, "vip")), "198.19.128.1");
	json_t *port = json_array_get(json_object_get(vip, "ports"), 0);
	assert_int_equal(json_integer_value(json_object_get(port, "port")), 80);
	assert_int_equal(json_array_size(json_object_get(port, "backends")), 2);
	assert_int_equal(f->nsent, 4); /* names and vips to each node, one message each */
	/* The API and the event log show a member's address and VIP in one shape. */
	_cleanup_json_ json_t *shown = pool_slice_json(w1);
	assert_string_equal(json_string_value(json_object_get(shown, "address")), "198.19.0.7");
	json_t *v0 = json_array_get(json_object_get(shown, "vips"), 0);
	assert_string_equal(json_string_value(json_object_get(v0, "vip")), "198.19.128.1");
	assert_string_equal(json_string_value(json_object_get(v0, "group")), "web");
	assert_string_equal(json_string_value(json_object_get(v0, "ports")), "80/tcp");
	_cleanup_free_ char *want = json_dumps(shown, JSON_COMPACT);
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	pool_slice_write(&w, w1);
	assert_string_equal(acre_jsonw_text(&w), want);
	acre_jsonw_free(&w);

	/* Killed by the pool: it leaves names and VIPs in this very pass. */
	assert_int_equal(pool_slice_kill(f->p, w1, 0, &err), 1);
	pass(f);
	names = sent_to(f, "n1", ACRE_OP_NET_NAMES);
	assert_true(has_string(json_object_get(names, "gone"), "web-1"));
	web = record_named(json_object_get(names, "set"), "web");
	assert_int_equal(json_array_size(json_object_get(web, "addresses")), 1);
	vips = sent_to(f, "n1", ACRE_OP_NET_VIPS);
	port = json_array_get(
		json_object_get(record_named(json_object_get(vips, "set"), "web"), "ports"), 0);
	assert_int_equal(json_array_size(json_object_get(port, "backends")), 1);
	/* It ends: its address goes with it. */
	report(f, w1->node, "web-1", ACRE_SLICE_KILLED, NULL);
	assert_null(w1->address);

	/* A node goes down: gone from the others' peers, its slices' names with it. */
	struct pool_node *down = w2->node;
	(void)a;
	(void)b;
	pass(f);
	pool_node_disconnected(f->p, down, down->conn);
	down->state_since_ns = down->last_seen_ns = 0;
	pool_node_tick(f->p); /* unreachable */
	down->state_since_ns = 0;
	pool_node_tick(f->p); /* down */
	assert_int_equal(down->state, POOL_NODE_DOWN);
	joined(f, "n3", "198.18.0.3", false); /* off the network: told nothing */
	pass(f);
	assert_null(sent_to(f, "n3", ACRE_OP_NET_PEERS));
	const char *other = strcmp(down->id, "n1") ? "n1" : "n2";
	peers = sent_to(f, other, ACRE_OP_NET_PEERS);
	assert_non_null(peers);
	assert_true(has_string(json_object_get(peers, "gone"), down->id));
	names = sent_to(f, other, ACRE_OP_NET_NAMES);
	assert_true(has_string(json_object_get(names, "gone"), "web-2"));
	assert_true(has_string(json_object_get(names, "gone"), "web"));
	_cleanup_json_ json_t *view = pool_network_json(f->p);
	assert_int_equal(json_array_size(json_object_get(view, "nodes")), 3);
	_cleanup_json_ json_t *nv = pool_node_net_view(f->p, pool_node_find(f->p, other));
	assert_int_equal(json_array_size(json_object_get(nv, "routes")), 0);
	assert_int_equal(json_array_size(json_object_get(view, "names")), 0);
}

/* A member failing its checks leaves names and VIPs in the pass that hears of it, and returns. */
static void test_health(void **state)
{
	struct fixture *f = *state;
	open_pool(f, false);
	joined(f, "n1", "198.18.0.1", true);
	struct acre_error err;
	assert_int_equal(create(f, "web-1", "bridge", "web", "80/tcp", &err), 0);
	assert_int_equal(create(f, "web-2", "bridge", "web", "80/tcp", &err), 0);
	struct pool_slice *w1 = pool_slice_find(f->p, "web-1");
	/* Running, but its checks have no verdict yet: the update says so, and it is not named. */
	report(f, w1->node, "web-2", ACRE_SLICE_RUNNING, "198.19.0.9");
	struct pool_report r = {.seq = 1000000, /* after every report() of this run */
				.slice = "web-1",
				.reason = "",
				.state = ACRE_SLICE_RUNNING,
				.address = "198.19.0.7",
				.checked = true,
				.health = ACRE_HEALTH_STARTING};
	pool_node_update(f->p, w1->node, &r, 1);
	pass(f);
	json_t *names = sent_to(f, "n1", ACRE_OP_NET_NAMES);
	json_t *web = record_named(json_object_get(names, "set"), "web");
	assert_int_equal(json_array_size(json_object_get(web, "addresses")), 1);
	assert_null(record_named(json_object_get(names, "set"), "web-1"));
	assert_false(pool_slice_serving(w1));

	/* Healthy and ready: in. */
	assert_int_equal(pool_node_health(f->p, w1->node, "web-1", ACRE_HEALTH_HEALTHY, true, 5),
			 0);
	pass(f);
	names = sent_to(f, "n1", ACRE_OP_NET_NAMES);
	web = record_named(json_object_get(names, "set"), "web");
	assert_int_equal(json_array_size(json_object_get(web, "addresses")), 2);
	assert_non_null(record_named(json_object_get(names, "set"), "web-1"));
	json_t *vips = sent_to(f, "n1", ACRE_OP_NET_VIPS);
	json_t *port = json_array_get(
		json_object_get(record_named(json_object_get(vips, "set"), "web"), "ports"), 0);
	assert_int_equal(json_array_size(json_object_get(port, "backends")), 2);
	_cleanup_json_ json_t *shown = pool_slice_json(w1);
	json_t *h = json_object_get(shown, "health");
	assert_string_equal(json_string_value(json_object_get(h, "status")), "healthy");
	assert_true(json_is_true(json_object_get(h, "ready")));
	assert_int_equal(json_integer_value(json_object_get(h, "changed_at")), 5);

	/* Unhealthy: out of both in this pass; not ready does the same. */
	assert_int_equal(pool_node_health(f->p, w1->node, "web-1", ACRE_HEALTH_UNHEALTHY, true, 6),
			 0);
	pass(f);
	names = sent_to(f, "n1", ACRE_OP_NET_NAMES);
	assert_true(has_string(json_object_get(names, "gone"), "web-1"));
	web = record_named(json_object_get(names, "set"), "web");
	assert_int_equal(json_array_size(json_object_get(web, "addresses")), 1);
	vips = sent_to(f, "n1", ACRE_OP_NET_VIPS);
	port = json_array_get(
		json_object_get(record_named(json_object_get(vips, "set"), "web"), "ports"), 0);
	assert_int_equal(json_array_size(json_object_get(port, "backends")), 1);
	assert_int_equal(pool_node_health(f->p, w1->node, "web-1", ACRE_HEALTH_HEALTHY, false, 7),
			 0);
	assert_false(pool_slice_serving(w1));
	/* Another node cannot speak for it; an unknown slice is no error to the pool. */
	struct pool_node *other = joined(f, "n2", "198.18.0.2", true);
	assert_int_equal(pool_node_health(f->p, other, "web-1", ACRE_HEALTH_HEALTHY, true, 8),
			 -ENOENT);
	assert_int_equal(pool_node_health(f->p, other, "nope", ACRE_HEALTH_HEALTHY, true, 8),
			 -ENOENT);
	assert_false(pool_slice_serving(w1));
}

static void test_net_rate_placed(void **state)
{
	struct fixture *f = *state;
	open_pool(f, false);
	joined(f, "n1", "198.18.0.1", true); /* 1 Gbit/s */
	struct acre_error err = {0};
	struct pool_slice *sl;
	_cleanup_json_ json_t *big =
		json_pack("{s:s,s:[s],s:{s:s},s:{s:s}}", "name", "big", "command", "/bin/true",
			  "network", "mode", "bridge", "resources", "net_rate", "2gbit");
	assert_int_equal(pool_slice_create(f->p, big, NULL, &sl, &err), -E2BIG);
	assert_string_equal(err.field, "resources.net_rate");
	_cleanup_json_ json_t *a =
		json_pack("{s:s,s:[s],s:{s:s},s:{s:s}}", "name", "a", "command", "/bin/true",
			  "network", "mode", "bridge", "resources", "net_rate", "600mbit");
	_cleanup_json_ json_t *b =
		json_pack("{s:s,s:[s],s:{s:s},s:{s:s}}", "name", "b", "command", "/bin/true",
			  "network", "mode", "bridge", "resources", "net_rate", "600mbit");
	assert_int_equal(pool_slice_create(f->p, a, NULL, &sl, &err), 0);
	assert_non_null(sl->node);
	assert_int_equal(sl->node->reserved_net, 600000000);
	_cleanup_json_ json_t *shown = pool_slice_json(sl);
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(shown, "resources"), "net_rate")),
			 600000000);
	_cleanup_free_ char *want = json_dumps(shown, JSON_COMPACT);
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	pool_slice_write(&w, sl);
	assert_string_equal(acre_jsonw_text(&w), want);
	acre_jsonw_free(&w);
	assert_int_equal(pool_slice_create(f->p, b, NULL, &sl, &err), 0);
	assert_null(sl->node); /* no room left: it waits */
	assert_int_equal(sl->state, ACRE_SLICE_PENDING);
	_cleanup_json_ json_t *sum = pool_summary_json(f->p);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sum, "used"), "net")),
			 600000000);
}

static void test_node_removed(void **state)
{
	struct fixture *f = *state;
	open_pool(f, true);
	struct pool_node *a = joined(f, "n1", "198.18.0.1", true);
	struct pool_node *b = joined(f, "n2", "198.18.0.2", true);
	assert_string_equal(b->subnet, "198.19.1.0/24");
	pass(f);
	struct acre_error err = {0};
	assert_int_equal(pool_node_remove(f->p, b, false, &err), -EBUSY); /* connected */
	pool_node_disconnected(f->p, b, b->conn);
	assert_int_equal(pool_node_remove(f->p, b, false, &err), -EBUSY); /* not down */
	assert_non_null(strstr(err.message, "force"));
	assert_int_equal(pool_node_remove(f->p, b, true, &err), 0);
	assert_null(pool_node_find(f->p, "n2"));
	pass(f);
	json_t *peers = sent_to(f, "n1", ACRE_OP_NET_PEERS);
	assert_non_null(peers);
	assert_true(has_string(json_object_get(peers, "gone"), "n2"));
	(void)a;
	/* Its subnet is free again: the next node gets it. */
	struct pool_node *c = joined(f, "n3", "198.18.0.3", true);
	assert_string_equal(c->subnet, "198.19.1.0/24");
	pass(f);
	close_pool(f);
	open_pool(f, true);
	assert_null(pool_node_find(f->p, "n2"));
	assert_string_equal(pool_node_find(f->p, "n3")->subnet, "198.19.1.0/24");
}

/* A table past the protocol's line: several messages, the first full, none over 512 KiB. */
static void test_big_tables(void **state)
{
	struct fixture *f = *state;
	open_pool(f, false);
	struct pool_node *a = joined(f, "n1", "198.18.0.1", true);
	pass(f);
	enum { COUNT = 12000 };
	struct acre_error err;
	for (int i = 0; i < COUNT; i++) {
		char name[32], address[32];
		snprintf(name, sizeof(name), "slice-with-a-long-name-%05d", i);
		snprintf(address, sizeof(address), "198.19.%d.%d", i / 250, i % 250 + 2);
		assert_int_equal(create(f, name, "bridge", NULL, NULL, &err), 0);
		report(f, a, name, ACRE_SLICE_RUNNING, address);
	}
	pass(f);
	size_t parts = 0, names = 0;
	for (size_t i = 0; i < f->nsent; i++) {
		if (strcmp(f->sent[i].op, ACRE_OP_NET_NAMES))
			continue;
		assert_false(json_is_true(json_object_get(f->sent[i].msg, "full")));
		names += json_array_size(json_object_get(f->sent[i].msg, "set"));
		parts++;
	}
	assert_true(parts >= 2);
	assert_int_equal(names, COUNT);
	joined(f, "n2", "198.18.0.2", true);
	pass(f);
	parts = names = 0;
	for (size_t i = 0; i < f->nsent; i++) {
		if (strcmp(f->sent[i].node, "n2") || strcmp(f->sent[i].op, ACRE_OP_NET_NAMES))
			continue;
		assert_int_equal(json_is_true(json_object_get(f->sent[i].msg, "full")), parts == 0);
		_cleanup_free_ char *text = json_dumps(f->sent[i].msg, JSON_COMPACT);
		assert_true(strlen(text) < (512u << 10) + 64);
		names += json_array_size(json_object_get(f->sent[i].msg, "set"));
		parts++;
	}
	assert_true(parts >= 2);
	assert_int_equal(names, COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_vips),
		cmocka_unit_test(test_labels_and_ports),
		cmocka_unit_test(test_options),
		cmocka_unit_test_setup_teardown(test_subnet_stable_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_inside_pool_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_net_rate_placed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_tables, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
