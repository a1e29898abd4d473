/*
 * TLS for the node port, both ends.  The controller's: its certificate and
 * key, and with --tls-ca the CA that must have signed every supervisor's
 * certificate (mutual TLS: the node port registers no node without one).
 * The supervisor's: the controller's certificate
 * checked against --tls-ca (the system's CAs without it), and with
 * --tls-cert/--tls-key a certificate of its own.  TLS 1.2 at least; the
 * join token and each node's secret are checked inside the protocol on top
 * of it.  Errors name the flag and the file.
 */
#include "proto.h"

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int ssl_error(struct acre_error *err, const char *flag, const char *path)
{
	char buf[256] = "unknown error";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return acre_error_set(err, EINVAL, flag, "%s %s: %s", flag, path, buf);
}

/* Our certificate and its key, when there is one. */
static int use_certificate(SSL_CTX *ctx, const struct acre_proto_tls_files *f,
			   struct acre_error *err)
{
	if (!f->cert || !f->key)
		return acre_error_set(err, EINVAL, f->cert ? "--tls-key" : "--tls-cert",
				      "--tls-cert and --tls-key go together");
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1)
		return ssl_error(err, "--tls-cert", f->cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1)
		return ssl_error(err, "--tls-key", f->key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ssl_error(err, "--tls-key", "does not match --tls-cert");
	return 0;
}

static SSL_CTX *new_ctx(const SSL_METHOD *method, struct acre_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (!ctx) {
		acre_error_set(err, ENOMEM, NULL, "creating the TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

int acre_proto_tls_server_ctx(const struct acre_proto_tls_files *f, void **out,
			      struct acre_error *err)
{
	*out = NULL;
	SSL_CTX *ctx = new_ctx(TLS_server_method(), err);
	if (!ctx)
		return -ENOMEM;
	/*
	 * Supervisors hold one long connection and reconnect rarely (often to a
	 * restarted controller, whose ticket keys are new): tickets would cost
	 * every handshake and save almost none.
	 */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	int rc = use_certificate(ctx, f, err);
	if (rc == 0 && f->ca && SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1)
		rc = ssl_error(err, "--tls-ca", f->ca);
	if (rc < 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	/*
	 * Asked for and, when presented, verified: a bad certificate ends the
	 * handshake.  A host without one yet may still connect, to fetch the CA
	 * and join (tls_bootstrap.c); the node port refuses it any registration.
	 */
	if (f->ca)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	*out = ctx;
	return 0;
}

int acre_proto_tls_client_ctx(const struct acre_proto_tls_files *f, void **out,
			      struct acre_error *err)
{
	*out = NULL;
	SSL_CTX *ctx = new_ctx(TLS_client_method(), err);
	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int rc = 0;
	if (f->ca ? SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1
		  : SSL_CTX_set_default_verify_paths(ctx) != 1)
		rc = ssl_error(err, "--tls-ca", f->ca ? f->ca : "(system default)");
	else if (f->cert || f->key)
		rc = use_certificate(ctx, f, err);
	if (rc < 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

void acre_proto_tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

int acre_proto_tls_expect_peer(void *ssl, const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
	SSL_set_tlsext_host_name((SSL *)ssl, host);
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}
