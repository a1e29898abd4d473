/*
 * A host joining the pool, before it registers (as `kubeadm join` does):
 * "ca" hands out the pool's CA, which the host trusts only if it matches
 * the hash it was given (`acre node join-command`); "join" checks the join
 * token and the node's identity and answers a client certificate for the
 * node's key, signed by the CA (--tls-ca-key), CN = the node's id.  The
 * host then registers with that certificate (mutual TLS).  Neither op
 * changes the pool; a bad request is refused and the connection ends.
 */
#include "internal.h"
#include "proto/proto.h"

#include <openssl/crypto.h>

/* A PEM request is about a kilobyte; anything far larger is not one. */
#define CSR_MAX 16384
/* A node's certificate lasts a year unless the controller says otherwise; a rejoin renews it. */
#define CERT_DAYS_DEFAULT 365

static bool no_ca(struct node_conn *conn, json_t *id)
{
	if (conn->np->opt.ca)
		return false;
	struct acre_error err = {0};
	acre_error_set(&err, EOPNOTSUPP, "op",
		       "this controller signs no node certificates (it runs without "
		       "--tls-ca-key): join with a certificate made for the node instead");
	nodeport_reply_error(conn, id, &err);
	return true;
}

void nodeport_ca(struct node_conn *conn, json_t *req, json_t *id)
{
	(void)req;
	if (no_ca(conn, id))
		return;
	_cleanup_json_ json_t *reply =
		acre_proto_ok(id, json_pack("{s:s}", "ca", acre_proto_ca_pem(conn->np->opt.ca)));
	nodeport_conn_send_json(conn, reply);
}

struct join_request {
	const char *token, *node_id, *secret, *csr;
};

static int parse_join(json_t *req, struct join_request *j, struct acre_error *err)
{
	json_error_t jerr;
	if (json_unpack_ex(req, &jerr, 0, "{s:s,s:{s:s,s:s},s:s}", "token", &j->token, "node", "id",
			   &j->node_id, "secret", &j->secret, "csr", &j->csr) < 0)
		return acre_error_set(err, EINVAL, "join",
				      "join: {\"token\", \"node\": {\"id\", \"secret\"}, \"csr\"} "
				      "required: %s",
				      jerr.text);
	if (!acre_slice_name_valid(j->node_id))
		return acre_error_set(err, EINVAL, "node.id",
				      "node.id: 1 to %d letters, digits, '-', '_' or '.'",
				      ACRE_NAME_MAX);
	if (!nodeport_secret_valid(j->secret))
		return acre_error_set(err, EINVAL, "node.secret",
				      "node.secret: 32 to 128 lowercase hex digits");
	if (strlen(j->csr) > CSR_MAX)
		return acre_error_set(err, EINVAL, "csr", "csr: longer than %d bytes", CSR_MAX);
	return 0;
}

/* The id is free, or already this node's (the same secret): a rejoin renews its certificate. */
static int check_identity(struct nodeport *np, const struct join_request *j, struct acre_error *err)
{
	char hash[65];
	if (nodeport_secret_hash(j->secret, hash) < 0)
		return acre_error_set(err, EIO, NULL, "hashing the node's secret");
	struct pool_node *n = pool_node_find(np->pool, j->node_id);
	if (n && !pool_node_secret_matches(n, hash))
		return acre_error_set(err, EACCES, "node.id",
				      "node id %s belongs to another node (its secret differs: a "
				      "copied state directory?)",
				      j->node_id);
	return 0;
}

void nodeport_join(struct node_conn *conn, json_t *req, json_t *id)
{
	struct nodeport *np = conn->np;
	struct acre_error err = {0};
	struct join_request j;
	if (no_ca(conn, id))
		return;
	int rc = parse_join(req, &j, &err);
	if (rc == 0) {
		size_t a = strlen(j.token), b = strlen(np->opt.join_token);
		if (a != b || CRYPTO_memcmp(j.token, np->opt.join_token, a) != 0)
			rc = acre_error_set(&err, EACCES, "token", "wrong join token");
	}
	if (rc == 0)
		rc = check_identity(np, &j, &err);
	_cleanup_free_ char *cert = NULL;
	int days = np->opt.cert_days > 0 ? np->opt.cert_days : CERT_DAYS_DEFAULT;
	if (rc == 0)
		rc = acre_proto_ca_sign(np->opt.ca, j.csr, j.node_id, days, &cert, &err);
	if (rc < 0) {
		np->stats->refusals++;
		nodeport_reply_error(conn, id, &err);
		return;
	}
	acre_log(ACRE_LOG_INFO, "node=%s event=node_joined peer=%s cert_days=%d", j.node_id,
		 conn->peer, days);
	_cleanup_json_ json_t *reply =
		acre_proto_ok(id, json_pack("{s:s,s:s,s:s}", "node_id", j.node_id, "cert", cert,
					    "ca", acre_proto_ca_pem(np->opt.ca)));
	nodeport_conn_send_json(conn, reply);
}
