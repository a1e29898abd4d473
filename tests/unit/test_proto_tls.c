/*
 * TLS set-up for both ends of the node port, with a CA, a controller
 * certificate and a node certificate made for the test: a handshake
 * between the two contexts succeeds when the certificates are right and
 * fails when they are not (an unknown CA, mutual TLS with a node
 * certificate of another CA; one without a certificate gets in, to join,
 * and the node port refuses its registration), and every bad file is refused with an error naming
 * the flag and the path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"
#include "tmpdir.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

struct files {
	struct tmp *t;
	char ca[128], ctl_cert[128], ctl_key[128], node_cert[128], node_key[128];
	char other_ca[128], missing[128], rogue_cert[128], rogue_key[128];
};

static void write_pem_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

static void write_pem_cert(const char *path, X509 *cert)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert), 1);
	fclose(f);
}

/* A certificate for `cn` with `key`, signed by issuer/issuer_key (itself when NULL). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
	static long serial = 1;
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
						  ca ? "critical,CA:TRUE" : "CA:FALSE");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static int setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));
	if (!f || tmp_setup((void **)&f->t, "tls") < 0)
		return -1;
	const char *d = f->t->path;
	snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", d);
	snprintf(f->other_ca, sizeof(f->other_ca), "%s/other-ca.crt", d);
	snprintf(f->ctl_cert, sizeof(f->ctl_cert), "%s/ctl.crt", d);
	snprintf(f->ctl_key, sizeof(f->ctl_key), "%s/ctl.key", d);
	snprintf(f->node_cert, sizeof(f->node_cert), "%s/node.crt", d);
	snprintf(f->node_key, sizeof(f->node_key), "%s/node.key", d);
	snprintf(f->missing, sizeof(f->missing), "%s/no-such-file.pem", d);
	snprintf(f->rogue_cert, sizeof(f->rogue_cert), "%s/rogue.crt", d);
	snprintf(f->rogue_key, sizeof(f->rogue_key), "%s/rogue.key", d);

	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
	EVP_PKEY *ctl_key = EVP_EC_gen("P-256"), *node_key = EVP_EC_gen("P-256");
	if (!ca_key || !other_key || !ctl_key || !node_key)
		return -1;
	X509 *ca = make_cert("acre test CA", ca_key, NULL, NULL, true);
	X509 *other = make_cert("another CA", other_key, NULL, NULL, true);
	X509 *ctl = make_cert("controller", ctl_key, ca, ca_key, false);
	X509 *node = make_cert("node", node_key, ca, ca_key, false);
	X509 *rogue = make_cert("rogue", node_key, other, other_key, false);
	write_pem_cert(f->rogue_cert, rogue);
	write_pem_key(f->rogue_key, node_key);
	X509_free(rogue);
	write_pem_cert(f->ca, ca);
	write_pem_cert(f->other_ca, other);
	write_pem_cert(f->ctl_cert, ctl);
	write_pem_key(f->ctl_key, ctl_key);
	write_pem_cert(f->node_cert, node);
	write_pem_key(f->node_key, node_key);
	X509_free(ca);
	X509_free(other);
	X509_free(ctl);
	X509_free(node);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(ctl_key);
	EVP_PKEY_free(node_key);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct files *f = *state;
	void *t = f->t;
	int rc = tmp_teardown(&t);
	free(f);
	return rc;
}

/* Runs both sides of a handshake over a socketpair, in turn; true when both finish. */
static bool handshake(void *server_ctx, void *client_ctx)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	SSL *s = SSL_new(server_ctx), *c = SSL_new(client_ctx);
	assert_non_null(s);
	assert_non_null(c);
	SSL_set_fd(s, sv[0]);
	SSL_set_fd(c, sv[1]);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	bool s_done = false, c_done = false, failed = false;
	for (int round = 0; round < 100 && !failed && !(s_done && c_done); round++) {
		SSL *both[2] = {c, s};
		bool *done[2] = {&c_done, &s_done};
		for (int i = 0; i < 2; i++) {
			if (*done[i])
				continue;
			int r = SSL_do_handshake(both[i]);
			if (r == 1) {
				*done[i] = true;
				continue;
			}
			int e = SSL_get_error(both[i], r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				failed = true;
		}
	}
	/* TLS 1.3: the server learns of a refused certificate on its first read. */
	if (!failed && s_done && c_done) {
		char byte;
		assert_int_equal(SSL_write(c, "x", 1), 1);
		failed = SSL_read(s, &byte, 1) != 1;
	}
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
	ERR_clear_error();
	return !failed && s_done && c_done;
}

static void test_handshake(void **state)
{
	struct files *f = *state;
	struct acre_error err = {0};
	void *server, *mutual, *client, *node, *stranger, *rogue;
	const struct acre_proto_tls_files sf = {f->ctl_cert, f->ctl_key, NULL};
	const struct acre_proto_tls_files mf = {f->ctl_cert, f->ctl_key, f->ca};
	const struct acre_proto_tls_files cf = {NULL, NULL, f->ca};
	const struct acre_proto_tls_files nf = {f->node_cert, f->node_key, f->ca};
	const struct acre_proto_tls_files xf = {NULL, NULL, f->other_ca};
	const struct acre_proto_tls_files rf = {f->rogue_cert, f->rogue_key, f->ca};
	assert_int_equal(acre_proto_tls_server_ctx(&sf, &server, &err), 0);
	assert_int_equal(acre_proto_tls_server_ctx(&mf, &mutual, &err), 0);
	assert_int_equal(acre_proto_tls_client_ctx(&cf, &client, &err), 0);
	assert_int_equal(acre_proto_tls_client_ctx(&nf, &node, &err), 0);
	assert_int_equal(acre_proto_tls_client_ctx(&xf, &stranger, &err), 0);
	assert_int_equal(acre_proto_tls_client_ctx(&rf, &rogue, &err), 0);

	assert_true(handshake(server, client));
	assert_true(handshake(server, node));
	/* The controller's certificate is checked: a client trusting another CA refuses it. */
	assert_false(handshake(server, stranger));
	/*
	 * Mutual TLS: a certificate is asked for and must be the CA's; a host
	 * without one yet gets in to join, and may not register (nodeport).
	 */
	assert_true(handshake(mutual, node));
	assert_false(handshake(mutual, rogue));
	assert_true(handshake(mutual, client));

	acre_proto_tls_ctx_free(server);
	acre_proto_tls_ctx_free(mutual);
	acre_proto_tls_ctx_free(client);
	acre_proto_tls_ctx_free(node);
	acre_proto_tls_ctx_free(stranger);
	acre_proto_tls_ctx_free(rogue);
	acre_proto_tls_ctx_free(NULL);
}

static void expect_refused(int rc, const struct acre_error *err, const char *flag, const char *what)
{
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err->field, flag);
	assert_contains(err->message, flag);
	assert_contains(err->message, what);
}

static void test_bad_files(void **state)
{
	struct files *f = *state;
	struct acre_error err = {0};
	void *ctx = (void *)1;
	struct acre_proto_tls_files bad = {f->missing, f->ctl_key, NULL};
	expect_refused(acre_proto_tls_server_ctx(&bad, &ctx, &err), &err, "--tls-cert", f->missing);
	assert_null(ctx);
	bad = (struct acre_proto_tls_files){f->ctl_cert, f->missing, NULL};
	expect_refused(acre_proto_tls_server_ctx(&bad, &ctx, &err), &err, "--tls-key", f->missing);
	/* Another certificate's key. */
	bad = (struct acre_proto_tls_files){f->ctl_cert, f->node_key, NULL};
	expect_refused(acre_proto_tls_server_ctx(&bad, &ctx, &err), &err, "--tls-key", f->node_key);
	bad = (struct acre_proto_tls_files){f->ctl_cert, f->ctl_key, f->missing};
	expect_refused(acre_proto_tls_server_ctx(&bad, &ctx, &err), &err, "--tls-ca", f->missing);
	/* A key is no certificate. */
	bad = (struct acre_proto_tls_files){f->ctl_key, f->ctl_key, NULL};
	expect_refused(acre_proto_tls_server_ctx(&bad, &ctx, &err), &err, "--tls-cert", f->ctl_key);

	bad = (struct acre_proto_tls_files){NULL, NULL, f->missing};
	expect_refused(acre_proto_tls_client_ctx(&bad, &ctx, &err), &err, "--tls-ca", f->missing);
	assert_null(ctx);
	bad = (struct acre_proto_tls_files){f->node_cert, NULL, f->ca};
	expect_refused(acre_proto_tls_client_ctx(&bad, &ctx, &err), &err, "--tls-key",
		       "go together");
	bad = (struct acre_proto_tls_files){f->node_cert, f->ctl_key, f->ca};
	expect_refused(acre_proto_tls_client_ctx(&bad, &ctx, &err), &err, "--tls-key", f->ctl_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests_name("proto_tls", tests, setup, teardown);
}
