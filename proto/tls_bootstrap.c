/*
 * Joining a pool, as `kubeadm join` does: the pool's CA is named by the
 * SHA-256 of its SubjectPublicKeyInfo ("sha256:HEX", what kubeadm's
 * --discovery-token-ca-cert-hash holds), so a new host can fetch the CA
 * over an unverified connection and trust it only if the hash matches.
 * The node makes its own key (EC P-256) and a certificate request; the
 * controller, holding the CA's key, signs a client certificate for it
 * (CN = the node's id, clientAuth, a bounded validity).  OpenSSL's C API
 * throughout; every input from the other side is checked and a bad one
 * named in the error.
 */
#include "proto.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct acre_proto_ca {
	X509 *cert;
	EVP_PKEY *key;
	char *pem;
	char hash[ACRE_PROTO_CA_HASH_LEN + 1];
};

static int ssl_fail(struct acre_error *err, int code, const char *field, const char *what)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return acre_error_set(err, code, field, "%s%s%s", what, e ? ": " : "", buf);
}

/* What a memory BIO holds, as a C string (NULL when out of memory). */
static char *bio_text(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	return s;
}

static X509 *cert_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return x;
}

static int spki_hash(X509 *x, char out[ACRE_PROTO_CA_HASH_LEN + 1])
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1 &&
		 mdlen == 32;
	OPENSSL_free(der);
	if (!ok)
		return -EIO;
	memcpy(out, "sha256:", 7);
	acre_hex_encode(md, mdlen, out + 7);
	return 0;
}

int acre_proto_ca_hash(const char *pem, char out[ACRE_PROTO_CA_HASH_LEN + 1],
		       struct acre_error *err)
{
	X509 *x = cert_from_pem(pem);
	if (!x)
		return ssl_fail(err, EINVAL, "ca", "ca: not a PEM certificate");
	int rc = X509_check_ca(x) >= 1 ? spki_hash(x, out) : -EINVAL;
	X509_free(x);
	if (rc == -EINVAL)
		return acre_error_set(err, EINVAL, "ca", "ca: the certificate is not a CA's");
	if (rc < 0)
		return acre_error_set(err, EIO, "ca", "ca: hashing its public key failed");
	return 0;
}

bool acre_proto_ca_hash_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != ACRE_PROTO_CA_HASH_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!strchr("0123456789abcdef", *p))
			return false;
	return true;
}

int acre_proto_csr_new(const char *cn, char **key_pem, char **csr_pem, struct acre_error *err)
{
	*key_pem = *csr_pem = NULL;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *r = X509_REQ_new();
	BIO *kb = BIO_new(BIO_s_mem()), *rb = BIO_new(BIO_s_mem());
	X509_NAME *name = r ? X509_REQ_get_subject_name(r) : NULL;
	int rc = 0;
	if (!k || !r || !kb || !rb || !name || X509_REQ_set_version(r, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_REQ_set_pubkey(r, k) != 1 || X509_REQ_sign(r, k, EVP_sha256()) <= 0 ||
	    PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509_REQ(rb, r) != 1)
		rc = ssl_fail(err, EIO, NULL, "making this node's key and certificate request");
	else if (!(*key_pem = bio_text(kb)) || !(*csr_pem = bio_text(rb)))
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc < 0) {
		free(*key_pem);
		free(*csr_pem);
		*key_pem = *csr_pem = NULL;
	}
	BIO_free(kb);
	BIO_free(rb);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	return rc;
}

void acre_proto_ca_free(struct acre_proto_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->pem);
	free(ca);
}

static int read_file_text(const char *path, char **out)
{
	return acre_file_read(AT_FDCWD, path, out, &(size_t){0}, 1 << 20);
}

int acre_proto_ca_load(const char *cert_path, const char *key_path, struct acre_proto_ca **out,
		       struct acre_error *err)
{
	*out = NULL;
	struct acre_proto_ca *ca = calloc(1, sizeof(*ca));
	if (!ca)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = read_file_text(cert_path, &ca->pem);
	if (rc < 0) {
		acre_proto_ca_free(ca);
		return acre_error_set(err, -rc, "--tls-ca", "--tls-ca %s: %s", cert_path,
				      strerror(-rc));
	}
	_cleanup_free_ char *key = NULL;
	rc = read_file_text(key_path, &key);
	if (rc < 0) {
		acre_proto_ca_free(ca);
		return acre_error_set(err, -rc, "--tls-ca-key", "--tls-ca-key %s: %s", key_path,
				      strerror(-rc));
	}
	BIO *b = BIO_new_mem_buf(key, -1);
	ca->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	OPENSSL_cleanse(key, strlen(key));
	ca->cert = cert_from_pem(ca->pem);
	if (!ca->cert)
		rc = ssl_fail(err, EINVAL, "--tls-ca", "--tls-ca: not a PEM certificate");
	else if (!ca->key)
		rc = ssl_fail(err, EINVAL, "--tls-ca-key", "--tls-ca-key: not a PEM private key");
	else if (X509_check_ca(ca->cert) < 1)
		rc = acre_error_set(err, EINVAL, "--tls-ca", "--tls-ca %s: not a CA's certificate",
				    cert_path);
	else if (X509_check_private_key(ca->cert, ca->key) != 1)
		rc = ssl_fail(err, EINVAL, "--tls-ca-key", "--tls-ca-key: not the key of --tls-ca");
	else if (spki_hash(ca->cert, ca->hash) < 0)
		rc = acre_error_set(err, EIO, "--tls-ca",
				    "--tls-ca: hashing its public key failed");
	if (rc < 0) {
		acre_proto_ca_free(ca);
		return rc;
	}
	*out = ca;
	return 0;
}

const char *acre_proto_ca_pem(const struct acre_proto_ca *ca)
{
	return ca->pem;
}

const char *acre_proto_ca_hash_of(const struct acre_proto_ca *ca)
{
	return ca->hash;
}

/* The request's key: one a client certificate may carry (EC of 256 bits up, RSA of 2048 up). */
static int check_request(X509_REQ *req, struct acre_error *err)
{
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	if (!pub)
		return ssl_fail(err, EINVAL, "csr", "csr: it carries no public key");
	int type = EVP_PKEY_get_base_id(pub), bits = EVP_PKEY_get_bits(pub);
	bool strong = (type == EVP_PKEY_EC && bits >= 256) ||
		      (type == EVP_PKEY_RSA && bits >= 2048) || type == EVP_PKEY_ED25519;
	if (!strong)
		return acre_error_set(err, EINVAL, "csr",
				      "csr: its key must be EC (P-256 or larger), RSA (2048 bits "
				      "or more) or Ed25519");
	if (X509_REQ_verify(req, pub) != 1)
		return ssl_fail(err, EINVAL, "csr",
				"csr: its signature does not verify (not made with its key)");
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok ? 0 : -EIO;
}

static int random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	/* 127 random bits: positive, unique without a ledger of issued serials. */
	int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -EIO;
}

/* The certificate's fields: subject CN, issuer, validity (never past the CA's), extensions. */
static int fill_cert(const struct acre_proto_ca *ca, X509 *x, X509_REQ *req, const char *cn,
		     int days)
{
	X509_NAME *name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 || random_serial(x) < 0 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    X509_set_pubkey(x, X509_REQ_get0_pubkey(req)) != 1)
		return -EIO;
	/* A few minutes back: a node whose clock is a little behind accepts it at once. */
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL))
		return -EIO;
	if (ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca->cert)) > 0 &&
	    X509_set1_notAfter(x, X509_get0_notAfter(ca->cert)) != 1)
		return -EIO;
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
	if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
	    add_ext(x, &v3, NID_ext_key_usage, "clientAuth") < 0 ||
	    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0)
		return -EIO;
	/* Which key signed it, when the CA says its own (a CA without one works without). */
	if (add_ext(x, &v3, NID_authority_key_identifier, "keyid") < 0)
		ERR_clear_error();
	int type = EVP_PKEY_get_base_id(ca->key);
	const EVP_MD *md = type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448 ? NULL : EVP_sha256();
	return X509_sign(x, ca->key, md) > 0 ? 0 : -EIO;
}

int acre_proto_ca_sign(const struct acre_proto_ca *ca, const char *csr_pem, const char *cn,
		       int days, char **cert_pem, struct acre_error *err)
{
	*cert_pem = NULL;
	if (days < 1 || days > 3650)
		return acre_error_set(err, EINVAL, "days", "days: 1 to 3650");
	BIO *b = BIO_new_mem_buf(csr_pem, -1);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!req)
		return ssl_fail(err, EINVAL, "csr", "csr: not a PEM certificate request");
	int rc = check_request(req, err);
	X509 *x = rc == 0 ? X509_new() : NULL;
	if (rc == 0 && (!x || fill_cert(ca, x, req, cn, days) < 0))
		rc = ssl_fail(err, EIO, NULL, "signing the node's certificate");
	BIO *out = rc == 0 ? BIO_new(BIO_s_mem()) : NULL;
	if (rc == 0 && (!out || PEM_write_bio_X509(out, x) != 1 || !(*cert_pem = bio_text(out))))
		rc = acre_error_set(err, ENOMEM, NULL, "writing the node's certificate");
	BIO_free(out);
	X509_free(x);
	X509_REQ_free(req);
	return rc;
}
