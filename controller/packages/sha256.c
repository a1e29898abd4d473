/*
 * SHA-256 of a file (OpenSSL's EVP), by which a package archive from an
 * index and an artifact from its URI are verified before anything uses
 * them.
 */
#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>

#include "internal.h"

bool pkg_sha256_valid(const char *hex)
{
	if (!hex || strlen(hex) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return false;
	return true;
}

static void evp_freep(EVP_MD_CTX **c)
{
	EVP_MD_CTX_free(*c);
}

int pkg_sha256_file(const char *path, char hex[65], struct acre_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	__attribute__((cleanup(evp_freep))) EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (fd < 0)
		return acre_error_set(err, errno, "", "%s: %s", path, strerror(errno));
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		return acre_error_set(err, ENOMEM, "", "%s: cannot start SHA-256", path);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return acre_error_set(err, errno, "", "reading %s: %s", path,
					      strerror(errno));
		if (n == 0)
			break;
		if (EVP_DigestUpdate(c, buf, (size_t)n) != 1)
			return acre_error_set(err, EIO, "", "%s: SHA-256 failed", path);
	}
	if (EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen != 32)
		return acre_error_set(err, EIO, "", "%s: SHA-256 failed", path);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int pkg_sha256_verify(const char *path, const char *expected, struct acre_error *err)
{
	char hex[65];
	if (!pkg_sha256_valid(expected))
		return acre_error_set(err, EINVAL, "sha256",
				      "%s: the expected sha256 \"%s\" is not "
				      "64 hex digits",
				      path, expected);
	int rc = pkg_sha256_file(path, hex, err);
	if (rc < 0)
		return rc;
	if (strcasecmp(hex, expected))
		return acre_error_set(err, EBADMSG, "sha256",
				      "%s: checksum mismatch: sha256 %s, expected %s", path, hex,
				      expected);
	return 0;
}

/* The file is looked up by its name: what follows the last '/', without a query. */
int pkg_sha256_from_text(const char *text, const char *file, char hex[65], struct acre_error *err)
{
	const char *slash = strrchr(file, '/');
	const char *start = slash ? slash + 1 : file;
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(start, "?#"), start);
	return acre_checksum_file_find(text, name, 64, hex, err);
}
