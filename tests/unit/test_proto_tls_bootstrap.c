/*
 * Joining a pool (proto/tls_bootstrap.c) with a CA made here: the CA's
 * hash is the SHA-256 of its public key and the same from the file and
 * from the loaded CA; a node's request signed by the CA gives a client
 * certificate for the node's key, CN = the id the controller names,
 * clientAuth, never past the CA; garbage, a request signed with another
 * key, a weak key, a key that is not the CA's and a certificate that is
 * not a CA's are refused naming what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct fixture {
	char dir[64], ca[96], ca_key[96], other_key[96], leaf[96];
	struct acre_proto_ca *loaded;
};

static void write_pem_key(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

/* A certificate for k signed by signer (self-signed when signer is k), CA or not. */
static X509 *make_cert(EVP_PKEY *k, EVP_PKEY *signer, X509 *issuer, const char *cn, bool ca)
{
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400); /* 30 days: shorter than a year */
	X509_set_pubkey(x, k);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
						ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
	return x;
}

static void write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/acre-unit-join.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->ca, sizeof(fx->ca), "%s/ca.crt", fx->dir);
	snprintf(fx->ca_key, sizeof(fx->ca_key), "%s/ca.key", fx->dir);
	snprintf(fx->other_key, sizeof(fx->other_key), "%s/other.key", fx->dir);
	snprintf(fx->leaf, sizeof(fx->leaf), "%s/leaf.crt", fx->dir);
	EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	X509 *ca = make_cert(k, k, NULL, "unit CA", true);
	X509 *leaf = make_cert(other, k, ca, "not a CA", false);
	write_pem_key(fx->ca_key, k);
	write_pem_key(fx->other_key, other);
	write_cert(fx->ca, ca);
	write_cert(fx->leaf, leaf);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	struct acre_error err = {0};
	if (acre_proto_ca_load(fx->ca, fx->ca_key, &fx->loaded, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	acre_proto_ca_free(fx->loaded);
	const char *names[] = {fx->ca, fx->ca_key, fx->other_key, fx->leaf};
	for (size_t i = 0; i < 4; i++)
		unlink(names[i]);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void test_hash(void **state)
{
	struct fixture *fx = *state;
	struct acre_error err = {0};
	char *pem = NULL;
	size_t len;
	assert_int_equal(acre_file_read(AT_FDCWD, fx->ca, &pem, &len, 1 << 20), 0);
	char hash[ACRE_PROTO_CA_HASH_LEN + 1];
	assert_int_equal(acre_proto_ca_hash(pem, hash, &err), 0);
	assert_true(acre_proto_ca_hash_valid(hash));
	assert_string_equal(hash, acre_proto_ca_hash_of(fx->loaded));
	assert_string_equal(pem, acre_proto_ca_pem(fx->loaded));
	free(pem);

	/* The hash is the SHA-256 of the DER SubjectPublicKeyInfo, as kubeadm's. */
	BIO *b = BIO_new_mem_buf(acre_proto_ca_pem(fx->loaded), -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	assert_true(n > 0);
	EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	char want[ACRE_PROTO_CA_HASH_LEN + 1] = "sha256:";
	acre_hex_encode(md, mdlen, want + 7);
	assert_string_equal(hash, want);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);

	assert_false(acre_proto_ca_hash_valid("sha256:abc"));
	assert_false(acre_proto_ca_hash_valid(
		"sha1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
	assert_false(acre_proto_ca_hash_valid(
		"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_int_equal(acre_proto_ca_hash("not pem", hash, &err), -EINVAL);
	assert_string_equal(err.field, "ca");
}

static void test_sign(void **state)
{
	struct fixture *fx = *state;
	struct acre_error err = {0};
	char *key = NULL, *csr = NULL, *cert = NULL;
	assert_int_equal(acre_proto_csr_new("asked-name", &key, &csr, &err), 0);
	assert_int_equal(acre_proto_ca_sign(fx->loaded, csr, "node-1", 365, &cert, &err), 0);

	BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1),
	    *ab = BIO_new_mem_buf(acre_proto_ca_pem(fx->loaded), -1);
	X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL),
	     *ca = PEM_read_bio_X509(ab, NULL, NULL, NULL);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	assert_non_null(x);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
	char cn[64];
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "node-1"); /* the controller's name, not the request's */
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_int_equal(X509_check_ca(x), 0);
	/* A year asked, but the CA ends in 30 days: the certificate ends with it. */
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca)) <= 0);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	BIO_free(ab);
	free(key);
	free(csr);
	free(cert);
}

/* A request for one key signed with another (or a weak key), as PEM. */
static char *odd_request(EVP_PKEY *pub, EVP_PKEY *signer)
{
	X509_REQ *r = X509_REQ_new();
	X509_REQ_set_pubkey(r, pub);
	X509_REQ_sign(r, signer, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509_REQ(b, r);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)n);
	BIO_free(b);
	X509_REQ_free(r);
	return s;
}

static void test_bad_requests(void **state)
{
	struct fixture *fx = *state;
	struct acre_error err = {0};
	char *cert = NULL;
	assert_int_equal(acre_proto_ca_sign(fx->loaded, "garbage", "n", 365, &cert, &err), -EINVAL);
	assert_string_equal(err.field, "csr");
	assert_non_null(strstr(err.message, "not a PEM certificate request"));

	EVP_PKEY *a = EVP_EC_gen("P-256"), *b = EVP_EC_gen("P-256");
	char *forged = odd_request(a, b);
	assert_int_equal(acre_proto_ca_sign(fx->loaded, forged, "n", 365, &cert, &err), -EINVAL);
	assert_non_null(strstr(err.message, "signature does not verify"));

	EVP_PKEY *weak = EVP_RSA_gen(1024);
	char *small = odd_request(weak, weak);
	assert_int_equal(acre_proto_ca_sign(fx->loaded, small, "n", 365, &cert, &err), -EINVAL);
	assert_non_null(strstr(err.message, "its key must be"));
	assert_null(cert);

	char *key = NULL, *csr = NULL;
	assert_int_equal(acre_proto_csr_new("n", &key, &csr, &err), 0);
	assert_int_equal(acre_proto_ca_sign(fx->loaded, csr, "n", 0, &cert, &err), -EINVAL);
	free(key);
	free(csr);
	free(forged);
	free(small);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(weak);
}

static void test_bad_ca(void **state)
{
	struct fixture *fx = *state;
	struct acre_error err = {0};
	struct acre_proto_ca *ca = NULL;
	assert_true(acre_proto_ca_load(fx->ca, fx->other_key, &ca, &err) < 0);
	assert_string_equal(err.field, "--tls-ca-key");
	assert_non_null(strstr(err.message, "not the key of --tls-ca"));
	assert_true(acre_proto_ca_load(fx->leaf, fx->other_key, &ca, &err) < 0);
	assert_non_null(strstr(err.message, "not a CA's certificate"));
	assert_int_equal(acre_proto_ca_load(fx->ca, "/nonexistent/ca.key", &ca, &err), -ENOENT);
	assert_string_equal(err.field, "--tls-ca-key");
	assert_null(ca);
	char *pem = NULL;
	size_t len;
	assert_int_equal(acre_file_read(AT_FDCWD, fx->leaf, &pem, &len, 1 << 20), 0);
	char hash[ACRE_PROTO_CA_HASH_LEN + 1];
	assert_int_equal(acre_proto_ca_hash(pem, hash, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not a CA's"));
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_bad_ca),
	};
	return cmocka_run_group_tests_name("proto_tls_bootstrap", tests, setup, teardown);
}
