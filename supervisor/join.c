/*
 * `acre-supervisor join`: this host joins a pool, as `kubeadm join` does,
 * with what `acre node join-command` printed — the controller's node
 * port, the join token and the hash of the pool's CA.
 *
 *   1. fetch the CA (op "ca") over TLS that verifies nothing yet, and keep
 *      it only if the SHA-256 of its public key is --ca-hash;
 *   2. connect again, now verifying the controller's certificate with that
 *      CA (and its name or address), make a key and a certificate request
 *      for the node's id, and send them with the join token (op "join");
 *   3. write the key (0600), the certificate, the CA and the token under
 *      STATE_DIR/pki, and STATE_DIR/join.conf (JOIN_OPTS, the options that
 *      use them), which acre-supervisor.service reads.
 *
 * Nothing is written before the controller has signed: a wrong token, a
 * hash that does not match, an unreachable controller leave the host as
 * it was.  Plain blocking sockets with a deadline: it runs once, by hand.
 */
#include "supervisor.h"
#include "controller_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#define JOIN_TIMEOUT_S 10
#define REPLY_MAX      (1 << 20)

static const char join_usage[] =
	"usage: acre-supervisor join --controller HOST:PORT --token T --ca-hash sha256:HEX\n"
	"  --controller HOST:PORT  the pool's node port\n"
	"  --token T | --token-file F   the pool's join token\n"
	"  --ca-hash sha256:HEX    the hash of the pool's CA (its public key), as\n"
	"                          `acre node join-command` prints it\n"
	"  --state-dir DIR         the supervisor's (default /var/lib/acre): the node's\n"
	"                          identity, DIR/pki (key, certificate, CA, token) and\n"
	"                          DIR/join.conf (JOIN_OPTS, read by acre-supervisor.service)\n";

struct join {
	const char *controller, *token, *ca_hash, *state_dir;
	char host[256], port[16];
	char node_id[ACRE_NAME_MAX + 1], secret[65];
	bool new_identity;
	char *ca_pem, *key_pem, *csr_pem, *cert_pem;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "acre-supervisor join: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

static const char *ssl_reason(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();
	snprintf(buf, sizeof(buf), "%s", e ? ERR_reason_error_string(e) : "connection closed");
	ERR_clear_error();
	return buf;
}

/* HOST:PORT or [V6]:PORT. */
static int split_address(struct join *j)
{
	const char *a = j->controller, *colon = strrchr(a, ':');
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) >= sizeof(j->port))
		return fail("--controller %s: HOST:PORT", a);
	size_t n = (size_t)(colon - a);
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']')
		a++, n -= 2;
	if (n == 0 || n >= sizeof(j->host))
		return fail("--controller %s: HOST:PORT", j->controller);
	memcpy(j->host, a, n);
	j->host[n] = '\0';
	snprintf(j->port, sizeof(j->port), "%s", colon + 1);
	return 0;
}

static int dial(const struct join *j)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(j->host, j->port, &hints, &res);
	if (rc != 0)
		return fail("resolving %s: %s", j->host, gai_strerror(rc));
	int fd = -1, saved = 0;
	struct timeval tv = {.tv_sec = JOIN_TIMEOUT_S};
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fail("connecting to %s: %s", j->controller, strerror(saved ? saved : EIO));
	return fd;
}

/* The request out, the reply line back; its result object in *out. */
static int talk(const struct join *j, SSL *ssl, const json_t *req, json_t **out)
{
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(req, &len);
	if (!line || SSL_write(ssl, line, (int)len) != (int)len)
		return fail("sending to %s: %s", j->controller, ssl_reason());
	_cleanup_free_ char *buf = malloc(REPLY_MAX + 1);
	if (!buf)
		return fail("out of memory");
	size_t n = 0;
	while (n < REPLY_MAX && !memchr(buf, '\n', n)) {
		int r = SSL_read(ssl, buf + n, (int)(REPLY_MAX - n));
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	char *nl = memchr(buf, '\n', n);
	if (!nl)
		return fail("no answer from %s (%s)", j->controller,
			    errno == EAGAIN ? "timed out" : ssl_reason());
	_cleanup_json_ json_t *msg = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
	if (!msg || !json_is_object(msg))
		return fail("%s answered no JSON object: not an acre controller?", j->controller);
	if (!json_is_true(json_object_get(msg, "ok"))) {
		struct acre_error err = {0};
		acre_proto_error_from_json(msg, &err);
		return fail("the controller refused: %s", err.message);
	}
	json_t *result = json_object_get(msg, "result");
	if (!json_is_object(result))
		return fail("%s answered no result", j->controller);
	*out = json_incref(result);
	return 0;
}

/*
 * One request, one reply, on a connection of its own; ctx verifies the
 * controller or not (the first step).
 */
static int exchange(const struct join *j, SSL_CTX *ctx, const json_t *req, json_t **out)
{
	*out = NULL;
	int fd = dial(j);
	if (fd < 0)
		return -1;
	SSL *ssl = SSL_new(ctx);
	int rc;
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || acre_proto_tls_expect_peer(ssl, j->host) < 0) {
		rc = fail("setting up TLS: %s", ssl_reason());
	} else if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK)
			rc = fail("the controller at %s is not the pool's: its certificate: %s",
				  j->controller, X509_verify_cert_error_string(v));
		else
			rc = fail("TLS with %s: %s", j->controller, ssl_reason());
	} else {
		rc = talk(j, ssl, req, out);
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(fd);
	return rc;
}

static SSL_CTX *new_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx)
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

/* Step 1: the CA, from a connection nothing is trusted on yet, kept only if its hash matches. */
static int fetch_ca(struct join *j)
{
	SSL_CTX *ctx = new_ctx();
	if (!ctx)
		return fail("creating the TLS context: %s", ssl_reason());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	_cleanup_json_ json_t *req = json_pack("{s:s,s:i}", "op", ACRE_OP_CA, "id", 1);
	_cleanup_json_ json_t *res = NULL;
	int rc = exchange(j, ctx, req, &res);
	SSL_CTX_free(ctx);
	if (rc < 0)
		return rc;
	const char *pem = json_string_value(json_object_get(res, "ca"));
	char hash[ACRE_PROTO_CA_HASH_LEN + 1];
	struct acre_error err = {0};
	if (!pem || acre_proto_ca_hash(pem, hash, &err) < 0)
		return fail("the CA %s sent: %s", j->controller, pem ? err.message : "missing");
	if (CRYPTO_memcmp(hash, j->ca_hash, sizeof(hash) - 1) != 0)
		return fail("the CA of %s is %s, not --ca-hash %s: a wrong hash, or not the "
			    "pool's controller; nothing was written",
			    j->controller, hash, j->ca_hash);
	j->ca_pem = strdup(pem);
	return j->ca_pem ? 0 : fail("out of memory");
}

/* Our certificate: it parses, names our id and carries our key. */
static int check_cert(const struct join *j)
{
	BIO *cb = BIO_new_mem_buf(j->cert_pem, -1), *kb = BIO_new_mem_buf(j->key_pem, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	bool ok = x && k && X509_check_private_key(x, k) == 1;
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return ok ? 0 : fail("the controller's certificate for this node is not for its key");
}

/* Step 2: a key, a request, the token; the controller verified with the CA of step 1. */
static int request_cert(struct join *j)
{
	struct acre_error err = {0};
	if (acre_proto_csr_new(j->node_id, &j->key_pem, &j->csr_pem, &err) < 0)
		return fail("%s", err.message);
	SSL_CTX *ctx = new_ctx();
	X509_STORE *store = ctx ? SSL_CTX_get_cert_store(ctx) : NULL;
	BIO *b = BIO_new_mem_buf(j->ca_pem, -1);
	X509 *ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	int rc = store && ca && X509_STORE_add_cert(store, ca) == 1
			 ? 0
			 : fail("trusting the pool's CA: %s", ssl_reason());
	X509_free(ca);
	_cleanup_json_ json_t *res = NULL;
	if (rc == 0) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		_cleanup_json_ json_t *req = json_pack(
			"{s:s,s:i,s:s,s:{s:s,s:s},s:s}", "op", ACRE_OP_JOIN, "id", 1, "token",
			j->token, "node", "id", j->node_id, "secret", j->secret, "csr", j->csr_pem);
		rc = req ? exchange(j, ctx, req, &res) : fail("out of memory");
	}
	SSL_CTX_free(ctx);
	if (rc < 0)
		return rc;
	const char *cert = json_string_value(json_object_get(res, "cert"));
	if (!cert)
		return fail("the controller answered no certificate");
	j->cert_pem = strdup(cert);
	return j->cert_pem ? check_cert(j) : fail("out of memory");
}

static int write_file(int dir, const char *name, const char *text, const char *shown)
{
	struct acre_error err = {0};
	if (acre_file_write_atomic(dir, name, text, strlen(text), &err) < 0)
		return fail("%s: %s", shown, err.message);
	return 0;
}

/* Step 3: the files, the options that use them last (the unit reads them). */
static int write_all(const struct join *j, int state_fd, char *opts, size_t len)
{
	if (mkdirat(state_fd, "pki", 0700) < 0 && errno != EEXIST)
		return fail("creating %s/pki: %s", j->state_dir, strerror(errno));
	_cleanup_close_ int pki = openat(state_fd, "pki", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pki < 0 || fchmod(pki, 0700) < 0)
		return fail("opening %s/pki: %s", j->state_dir, strerror(errno));
	char token[4200];
	snprintf(token, sizeof(token), "%s\n", j->token);
	struct acre_error err = {0};
	if (write_file(pki, "node.key", j->key_pem, "pki/node.key") < 0 ||
	    write_file(pki, "node.crt", j->cert_pem, "pki/node.crt") < 0 ||
	    write_file(pki, "ca.crt", j->ca_pem, "pki/ca.crt") < 0 ||
	    write_file(pki, "join-token", token, "pki/join-token") < 0)
		return -1;
	if (j->new_identity && node_identity_write(state_fd, j->node_id, j->secret, &err) < 0)
		return fail("%s", err.message);
	const char *d = j->state_dir;
	snprintf(opts, len,
		 "--controller %s --join-token-file %s/pki/join-token --tls-ca %s/pki/ca.crt "
		 "--tls-cert %s/pki/node.crt --tls-key %s/pki/node.key",
		 j->controller, d, d, d, d);
	char conf[2048];
	snprintf(conf, sizeof(conf),
		 "# Written by `acre-supervisor join`: this node's pool.  acre-supervisor.service\n"
		 "# reads it after /etc/acre/supervisor.conf; join again to renew or to move.\n"
		 "JOIN_OPTS=\"%s\"\n",
		 opts);
	return write_file(state_fd, "join.conf", conf, "join.conf");
}

static int parse(int argc, char **argv, struct join *j)
{
	static const struct option longopts[] = {
		{"controller", required_argument, NULL, 'c'},
		{"token", required_argument, NULL, 't'},
		{"token-file", required_argument, NULL, 'T'},
		{"ca-hash", required_argument, NULL, 'H'},
		{"state-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static char *token_buf;
	size_t len;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			j->controller = optarg;
			break;
		case 't':
			j->token = optarg;
			break;
		case 'T':
			free(token_buf);
			rc = acre_file_read(AT_FDCWD, optarg, &token_buf, &len, 4096);
			if (rc < 0)
				return fail("--token-file %s: %s", optarg, strerror(-rc));
			while (len && strchr("\r\n ", token_buf[len - 1]))
				token_buf[--len] = '\0';
			j->token = token_buf;
			break;
		case 'H':
			j->ca_hash = optarg;
			break;
		case 'd':
			j->state_dir = optarg;
			break;
		case 'h':
			fputs(join_usage, stdout);
			exit(0);
		default:
			fputs(join_usage, stderr);
			return -1;
		}
	}
	if (optind < argc)
		return fail("unexpected argument %s\n%s", argv[optind], join_usage);
	if (!j->controller || !j->token || !j->ca_hash)
		return fail(
			"--controller, --token (or --token-file) and --ca-hash are required\n%s",
			join_usage);
	if (!*j->token || strlen(j->token) > 4096 || strpbrk(j->token, " \t\r\n"))
		return fail("--token: one word of at most 4096 characters");
	if (!acre_proto_ca_hash_valid(j->ca_hash))
		return fail("--ca-hash %s: sha256: and 64 lowercase hex digits", j->ca_hash);
	return split_address(j);
}

/* The node's id and secret: the state directory's, or new ones written with the rest. */
static int identity(struct join *j, int state_fd)
{
	struct acre_error err = {0};
	int rc = node_identity_read(state_fd, j->node_id, j->secret, &err);
	if (rc == -ENOENT) {
		j->new_identity = true;
		return node_identity_new(j->node_id, j->secret) < 0
			       ? fail("choosing a node id: no randomness")
			       : 0;
	}
	return rc < 0 ? fail("%s", err.message) : 0;
}

int supervisor_join_main(int argc, char **argv)
{
	struct join j = {.state_dir = "/var/lib/acre"};
	if (parse(argc, argv, &j) < 0)
		return 2;
	/* A state directory that does not exist yet is made only once there is something to keep.
	 */
	_cleanup_close_ int state_fd = open(j.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (state_fd < 0 && errno != ENOENT) {
		fail("--state-dir %s: %s", j.state_dir, strerror(errno));
		return 1;
	}
	char opts[2048];
	int rc = state_fd >= 0 ? identity(&j, state_fd) : 0;
	if (state_fd < 0 && node_identity_new(j.node_id, j.secret) < 0)
		rc = fail("choosing a node id: no randomness");
	j.new_identity = j.new_identity || state_fd < 0;
	if (rc == 0)
		rc = fetch_ca(&j);
	if (rc == 0)
		rc = request_cert(&j);
	if (rc == 0 && state_fd < 0) {
		int e = acre_mkdir_p(j.state_dir, 0700);
		state_fd = e < 0 ? -1 : open(j.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (state_fd < 0)
			rc = fail("creating --state-dir %s: %s", j.state_dir,
				  strerror(e < 0 ? -e : errno));
	}
	if (rc == 0)
		rc = write_all(&j, state_fd, opts, sizeof(opts));
	if (j.key_pem)
		OPENSSL_cleanse(j.key_pem, strlen(j.key_pem));
	free(j.key_pem);
	free(j.csr_pem);
	free(j.cert_pem);
	free(j.ca_pem);
	if (rc < 0)
		return 1;
	printf("joined the pool of %s as node %s: its certificate, key and the pool's CA are in "
	       "%s/pki\n"
	       "%s/join.conf holds the options that use them (JOIN_OPTS):\n  %s\n"
	       "on a systemd host: systemctl restart acre-supervisor\n",
	       j.controller, j.node_id, j.state_dir, j.state_dir, opts);
	return 0;
}
