/*
 * The first message on every connection: register.  The join token, the
 * node's identity (its id, and a secret only it knows, kept as a hash),
 * its capacity and attributes are checked before anything changes; a
 * refused registration gets the reason and the connection is closed.
 */
#include "internal.h"
#include "proto/proto.h"

#include <arpa/inet.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#define MAX_ATTRIBUTES 64

static bool token_ok(const char *given, const char *want)
{
	size_t a = strlen(given), b = strlen(want);
	return a == b && CRYPTO_memcmp(given, want, a) == 0;
}

int nodeport_secret_hash(const char *secret, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -EIO;
	acre_hex_encode(md, len, out);
	return 0;
}

bool nodeport_secret_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 32 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static int check_attributes(json_t *attrs, struct acre_error *err)
{
	if (!json_is_object(attrs) || json_object_size(attrs) > MAX_ATTRIBUTES)
		return acre_error_set(err, EINVAL, "node.attributes",
				      "node.attributes: must be an object of at most %d strings",
				      MAX_ATTRIBUTES);
	const char *k;
	json_t *v;
	json_object_foreach (attrs, k, v) {
		if (!acre_proto_attr_key_valid(k) || strncmp(k, "node.", 5) == 0 ||
		    strncmp(k, "bin:", 4) == 0)
			return acre_error_set(err, EINVAL, "node.attributes",
					      "node.attributes: invalid name \"%.64s\" (node.* and "
					      "bin:* are reserved)",
					      k);
		if (!json_is_string(v) || !acre_proto_attr_value_valid(json_string_value(v)))
			return acre_error_set(err, EINVAL, "node.attributes",
					      "node.attributes.%s: must be 1 to %d printable "
					      "characters",
					      k, ACRE_ATTR_VALUE_MAX);
	}
	return 0;
}

struct registration {
	const char *token, *id, *secret, *hostname, *version;
	double cpus;
	json_int_t memory, protocol, net;
	json_int_t disk, disk_free;	       /* bytes where its volumes go; 0: not said */
	uint16_t port_first, port_last;	       /* --port-range; 0: not said (the default) */
	json_int_t protocol_min, protocol_max; /* the range the node speaks */
	json_t *attributes;
	bool network;			    /* a network member came */
	const char *net_address, *vtep_mac; /* its members, NULL when absent */
};

/* A string member: required or not; errors name the field. */
static int get_string(json_t *obj, const char *key, const char *field, bool required,
		      const char **out, struct acre_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return acre_error_set(err, EINVAL, field, "%s: %s a string", field,
				      required ? "required," : "must be");
	*out = json_string_value(v);
	return 0;
}

static int parse_capacity(json_t *cap, struct registration *r, struct acre_error *err)
{
	if (!json_is_object(cap))
		return acre_error_set(err, EINVAL, "node.capacity",
				      "node.capacity: required, {\"cpus\": N, \"memory\": BYTES}");
	json_t *cpus = json_object_get(cap, "cpus"), *mem = json_object_get(cap, "memory");
	if (!json_is_number(cpus))
		return acre_error_set(err, EINVAL, "node.capacity.cpus",
				      "node.capacity.cpus: required, a number");
	if (!json_is_integer(mem))
		return acre_error_set(err, EINVAL, "node.capacity.memory",
				      "node.capacity.memory: required, an integer (bytes)");
	r->cpus = json_number_value(cpus);
	r->memory = json_integer_value(mem);
	json_t *net = json_object_get(cap, "net");
	if (net && !json_is_null(net) && (!json_is_integer(net) || json_integer_value(net) < 0))
		return acre_error_set(err, EINVAL, "node.capacity.net",
				      "node.capacity.net: an integer, bit/s (0: not known)");
	r->net = json_is_integer(net) ? json_integer_value(net) : 0;
	json_t *disk = json_object_get(cap, "disk");
	if (disk && !json_is_null(disk) && (!json_is_integer(disk) || json_integer_value(disk) < 0))
		return acre_error_set(err, EINVAL, "node.capacity.disk",
				      "node.capacity.disk: an integer, bytes (0: not known)");
	r->disk = json_is_integer(disk) ? json_integer_value(disk) : 0;
	return 0;
}

/* "port_range": [FIRST, LAST], its --port-range, optional (older nodes say nothing). */
static int parse_port_range(json_t *v, struct registration *r, struct acre_error *err)
{
	if (!v || json_is_null(v))
		return 0;
	json_int_t a = json_integer_value(json_array_get(v, 0)),
		   b = json_integer_value(json_array_get(v, 1));
	if (!json_is_array(v) || json_array_size(v) != 2 ||
	    !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)) ||
	    a < 1 || b > 65535 || a > b)
		return acre_error_set(err, EINVAL, "node.port_range",
				      "node.port_range: [FIRST, LAST], ports of 1 to 65535, FIRST "
				      "not above LAST");
	r->port_first = (uint16_t)a;
	r->port_last = (uint16_t)b;
	return 0;
}

/* "disk_free": bytes free where its volumes go, optional (older nodes say nothing). */
static int parse_disk_free(json_t *v, const char *field, json_int_t *out, struct acre_error *err)
{
	if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
		return acre_error_set(err, EINVAL, field, "%s: an integer, bytes (0: not known)",
				      field);
	*out = json_is_integer(v) ? json_integer_value(v) : 0;
	return 0;
}

static bool mac_valid(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

/* {"address"?: "198.18.5.12", "vtep_mac"?: "02:..."}: the node joins the pool's network. */
static int parse_network(json_t *net, struct registration *r, struct acre_error *err)
{
	if (!net)
		return 0;
	if (!json_is_object(net))
		return acre_error_set(err, EINVAL, "node.network",
				      "node.network: an object {\"address\", \"vtep_mac\"}");
	const char *k;
	json_t *v;
	json_object_foreach (net, k, v)
		if (strcmp(k, "address") && strcmp(k, "vtep_mac"))
			return acre_error_set(err, EINVAL, "node.network",
					      "node.network.%.32s: unknown field", k);
	int rc = get_string(net, "address", "node.network.address", false, &r->net_address, err);
	if (rc == 0)
		rc = get_string(net, "vtep_mac", "node.network.vtep_mac", false, &r->vtep_mac, err);
	if (rc < 0)
		return rc;
	unsigned char buf[sizeof(struct in6_addr)];
	if (r->net_address && inet_pton(AF_INET, r->net_address, buf) != 1)
		return acre_error_set(err, EINVAL, "node.network.address",
				      "node.network.address %.64s: an IPv4 address",
				      r->net_address);
	if (r->vtep_mac && !mac_valid(r->vtep_mac))
		return acre_error_set(
			err, EINVAL, "node.network.vtep_mac",
			"node.network.vtep_mac %.32s: a MAC address xx:xx:xx:xx:xx:xx",
			r->vtep_mac);
	r->network = true;
	return 0;
}

static int parse_register(json_t *req, struct registration *r, struct acre_error *err)
{
	*r = (struct registration){.hostname = "", .version = "", .protocol = 1};
	json_t *node = json_object_get(req, "node"), *proto = json_object_get(req, "protocol");
	json_t *proto_min = json_object_get(req, "protocol_min");
	int rc = get_string(req, "token", "token", true, &r->token, err);
	if (rc == 0 && proto && !json_is_integer(proto))
		rc = acre_error_set(err, EINVAL, "protocol", "protocol: must be an integer");
	if (rc == 0 && proto_min && !json_is_integer(proto_min))
		rc = acre_error_set(err, EINVAL, "protocol_min",
				    "protocol_min: must be an integer");
	if (rc == 0 && !json_is_object(node))
		rc = acre_error_set(err, EINVAL, "node", "node: required, an object");
	if (rc == 0)
		rc = get_string(node, "id", "node.id", true, &r->id, err);
	if (rc == 0)
		rc = get_string(node, "secret", "node.secret", true, &r->secret, err);
	if (rc == 0)
		rc = get_string(node, "hostname", "node.hostname", false, &r->hostname, err);
	if (rc == 0)
		rc = get_string(node, "version", "node.version", false, &r->version, err);
	if (rc == 0)
		rc = parse_capacity(json_object_get(node, "capacity"), r, err);
	if (rc == 0)
		rc = parse_disk_free(json_object_get(node, "disk_free"), "node.disk_free",
				     &r->disk_free, err);
	if (rc == 0)
		rc = parse_port_range(json_object_get(node, "port_range"), r, err);
	if (rc == 0)
		rc = parse_network(json_object_get(node, "network"), r, err);
	if (rc < 0)
		return rc;
	/* A node that says one version speaks that one alone (the first nodes said only it). */
	json_int_t max = proto ? json_integer_value(proto) : 1;
	json_int_t min = proto_min ? json_integer_value(proto_min) : max;
	r->attributes = json_object_get(node, "attributes");
	int chosen = acre_proto_negotiate(min, max, err);
	if (chosen < 0)
		return chosen;
	r->protocol = chosen;
	r->protocol_min = min;
	r->protocol_max = max;
	if (!acre_slice_name_valid(r->id))
		return acre_error_set(err, EINVAL, "node.id",
				      "node.id: 1 to %d letters, digits, '-', '_' or '.'",
				      ACRE_NAME_MAX);
	if (!nodeport_secret_valid(r->secret))
		return acre_error_set(err, EINVAL, "node.secret",
				      "node.secret: 32 to 128 lowercase hex digits");
	if (strlen(r->hostname) > 255)
		return acre_error_set(err, EINVAL, "node.hostname", "node.hostname: too long");
	if (!(r->cpus > 0 && r->cpus <= 65536))
		return acre_error_set(err, EINVAL, "node.capacity.cpus",
				      "node.capacity.cpus: must be above 0 and at most 65536");
	if (r->memory <= 0)
		return acre_error_set(err, EINVAL, "node.capacity.memory",
				      "node.capacity.memory: must be a positive number of bytes");
	return r->attributes ? check_attributes(r->attributes, err) : 0;
}

/*
 * With --tls-ca the handshake asks for a certificate and verifies one that
 * comes, but lets a host without one in to join; registering takes one.
 */
static bool has_client_cert(struct node_conn *conn)
{
	if (!conn->np->opt.client_certs)
		return true;
	SSL *ssl = bufferevent_openssl_get_ssl(conn->bev);
	return ssl && SSL_get0_peer_certificate(ssl) && SSL_get_verify_result(ssl) == X509_V_OK;
}

void nodeport_register(struct node_conn *conn, json_t *req, json_t *id)
{
	struct nodeport *np = conn->np;
	struct acre_error err = {0};
	struct registration r;
	char hash[65];
	if (conn->node) {
		acre_error_set(&err, EINVAL, "op", "already registered as %s", conn->node->id);
		nodeport_reply_error(conn, id, &err);
		return;
	}
	if (!has_client_cert(conn)) {
		np->stats->refusals++;
		acre_error_set(
			&err, EACCES, "tls",
			"this controller registers nodes with a client certificate signed by "
			"its CA (--tls-ca) only: join first (acre-supervisor join, as `acre "
			"node join-command` prints) or give --tls-cert and --tls-key");
		nodeport_reply_error(conn, id, &err);
		return;
	}
	if (parse_register(req, &r, &err) < 0 || nodeport_secret_hash(r.secret, hash) < 0) {
		np->stats->refusals++;
		nodeport_reply_error(conn, id, &err);
		return;
	}
	if (!token_ok(r.token, np->opt.join_token)) {
		np->stats->refusals++;
		acre_error_set(&err, EACCES, "token", "wrong join token");
		nodeport_reply_error(conn, id, &err);
		return;
	}
	struct pool_node *n = pool_node_find(np->pool, r.id);
	if (n && !pool_node_secret_matches(n, hash)) {
		np->stats->refusals++;
		acre_error_set(&err, EACCES, "node.id",
			       "node id %s belongs to another node (its secret differs: a copied "
			       "state directory?)",
			       r.id);
		nodeport_reply_error(conn, id, &err);
		return;
	}
	if (n && n->conn && n->conn != conn) {
		char why[128];
		snprintf(why, sizeof(why), "replaced by a new connection from %s", conn->peer);
		nodeport_conn_close(n->conn, why);
	}
	_cleanup_json_ json_t *empty = json_object();
	/* The connection's source address, without its port: where peers reach it by default. */
	char source[sizeof(conn->peer)];
	snprintf(source, sizeof(source), "%s", conn->peer);
	char *colon = strrchr(source, ':');
	if (colon)
		*colon = '\0';
	struct pool_registration reg = {
		.id = r.id,
		.secret_hash = hash,
		.hostname = r.hostname,
		.version = r.version,
		.address = conn->peer,
		.cpus = (uint32_t)(r.cpus * 1000 + 0.5),
		.memory = (uint64_t)r.memory,
		.net = (uint64_t)r.net,
		.disk = (uint64_t)r.disk,
		.disk_free = (uint64_t)r.disk_free,
		.port_first = r.port_first,
		.port_last = r.port_last,
		.network = r.network,
		.net_address = r.net_address ? r.net_address : source,
		.vtep_mac = r.vtep_mac,
		.attributes = r.attributes ? r.attributes : empty,
	};
	if (pool_node_register(np->pool, &reg, conn, &n, &err) < 0) {
		np->stats->refusals++;
		nodeport_reply_error(conn, id, &err);
		return;
	}
	conn->node = n;
	acre_log(ACRE_LOG_INFO,
		 "node=%s event=protocol_negotiated node_speaks=%lld-%lld protocol=%lld", n->id,
		 (long long)r.protocol_min, (long long)r.protocol_max, (long long)r.protocol);
	json_t *result = json_pack(
		"{s:s,s:I,s:I,s:I,s:i}", "node_id", n->id, "acked", (json_int_t)n->last_seq,
		"heartbeat_ms", (json_int_t)np->opt.heartbeat_ms, "disconnect_grace_ms",
		(json_int_t)pool_disconnect_grace_ms(np->pool), "protocol", (int)r.protocol);
	/* The pool's network for a node that joins it; the tables follow the reply. */
	if (result && r.network)
		json_object_set_new(result, "network", pool_node_network_json(np->pool, n));
	nodeport_defer_reply(np, conn, acre_proto_ok(id, result));
}
