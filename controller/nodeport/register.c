/*
 * The first message on every connection: register.  The join token, the
 * node's identity (its id, and a secret only it knows, kept as a hash),
 * its capacity and attributes are checked before anything changes; a
 * refused registration gets the reason and the connection is closed.
 */
#include "internal.h"
#include "proto/proto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define MAX_ATTRIBUTES 64

static bool token_ok(const char *given, const char *want)
{
	size_t a = strlen(given), b = strlen(want);
	return a == b && CRYPTO_memcmp(given, want, a) == 0;
}

static int hash_secret(const char *secret, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -EIO;
	acre_hex_encode(md, len, out);
	return 0;
}

static bool secret_valid(const char *s)
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
		if (!acre_proto_attr_key_valid(k) || strncmp(k, "node.", 5) == 0)
			return acre_error_set(err, EINVAL, "node.attributes",
					      "node.attributes: invalid name \"%.64s\" (node.* is "
					      "reserved)",
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
	json_int_t memory, protocol;
	json_t *attributes;
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
	return 0;
}

static int parse_register(json_t *req, struct registration *r, struct acre_error *err)
{
	*r = (struct registration){.hostname = "", .version = "", .protocol = 1};
	json_t *node = json_object_get(req, "node"), *proto = json_object_get(req, "protocol");
	int rc = get_string(req, "token", "token", true, &r->token, err);
	if (rc == 0 && proto && !json_is_integer(proto))
		rc = acre_error_set(err, EINVAL, "protocol", "protocol: must be an integer");
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
	if (rc < 0)
		return rc;
	r->protocol = proto ? json_integer_value(proto) : ACRE_CONTROLLER_PROTOCOL;
	r->attributes = json_object_get(node, "attributes");
	if (r->protocol != ACRE_CONTROLLER_PROTOCOL)
		return acre_error_set(err, EOPNOTSUPP, "protocol",
				      "protocol %lld: this controller speaks %d",
				      (long long)r->protocol, ACRE_CONTROLLER_PROTOCOL);
	if (!acre_slice_name_valid(r->id))
		return acre_error_set(err, EINVAL, "node.id",
				      "node.id: 1 to %d letters, digits, '-', '_' or '.'",
				      ACRE_NAME_MAX);
	if (!secret_valid(r->secret))
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
	if (parse_register(req, &r, &err) < 0 || hash_secret(r.secret, hash) < 0) {
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
	struct pool_registration reg = {
		.id = r.id,
		.secret_hash = hash,
		.hostname = r.hostname,
		.version = r.version,
		.address = conn->peer,
		.cpus = (uint32_t)(r.cpus * 1000 + 0.5),
		.memory = (uint64_t)r.memory,
		.attributes = r.attributes ? r.attributes : empty,
	};
	if (pool_node_register(np->pool, &reg, conn, &n, &err) < 0) {
		nodeport_reply_error(conn, id, &err);
		return;
	}
	conn->node = n;
	nodeport_defer_reply(
		np, conn,
		acre_proto_ok(id, json_pack("{s:s,s:I,s:I,s:i}", "node_id", n->id, "acked",
					    (json_int_t)n->last_seq, "heartbeat_ms",
					    (json_int_t)np->opt.heartbeat_ms, "protocol",
					    ACRE_CONTROLLER_PROTOCOL)));
}
