/*
 * TLS for the node port: the controller's certificate and key, and with
 * --tls-ca the CA that must have signed every supervisor's certificate
 * (mutual TLS).  TLS 1.2 at least; the join token and each node's secret
 * are checked inside the protocol on top of it.
 */
#include "ctl.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

static int ssl_error(struct acre_error *err, const char *what, const char *path)
{
	char buf[256] = "unknown error";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return acre_error_set(err, EINVAL, NULL, "%s %s: %s", what, path, buf);
}

int tls_server_ctx(const struct ctl_options *o, void **out, struct acre_error *err)
{
	*out = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return acre_error_set(err, ENOMEM, NULL, "creating the TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * Supervisors hold one long connection and reconnect rarely (often to a
	 * restarted controller, whose ticket keys are new): tickets would cost
	 * every handshake and save almost none.
	 */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	int rc = 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1)
		rc = ssl_error(err, "--tls-cert", o->tls_cert);
	else if (SSL_CTX_use_PrivateKey_file(ctx, o->tls_key, SSL_FILETYPE_PEM) != 1)
		rc = ssl_error(err, "--tls-key", o->tls_key);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		rc = ssl_error(err, "--tls-key", "does not match --tls-cert");
	else if (o->tls_ca && SSL_CTX_load_verify_locations(ctx, o->tls_ca, NULL) != 1)
		rc = ssl_error(err, "--tls-ca", o->tls_ca);
	if (rc < 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	if (o->tls_ca)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	*out = ctx;
	return 0;
}

void tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}
