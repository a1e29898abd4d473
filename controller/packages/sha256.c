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

/* The file name of a URL or path: what follows its last '/', without a query. */
static size_t base_name(const char *s, const char **start)
{
	const char *slash = strrchr(s, '/');
	*start = slash ? slash + 1 : s;
	return strcspn(*start, "?#");
}

int pkg_sha256_from_text(const char *text, const char *file, char hex[65], struct acre_error *err)
{
	const char *want;
	size_t want_len = base_name(file, &want), found = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char copy[1024], *name;
		if (len < sizeof(copy)) {
			memcpy(copy, line, len);
			copy[len] = '\0';
			/* "HEX  NAME", "HEX *NAME" (binary mode), or HEX alone. */
			name = copy + strspn(copy, "0123456789abcdefABCDEF");
			if (name - copy == 64 && (*name == '\0' || *name == ' ' || *name == '\t')) {
				name += strspn(name, " \t*");
				name[strcspn(name, "\r")] = '\0';
				const char *b;
				size_t blen = base_name(name, &b);
				if (!*name || (blen == want_len && !strncmp(b, want, blen))) {
					memcpy(hex, copy, 64);
					hex[64] = '\0';
					found++;
					if (*name)
						break;
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	if (!found)
		return acre_error_set(err, ENOENT, "sha256_from",
				      "the checksum file lists no SHA-256 for %.*s", (int)want_len,
				      want);
	for (size_t i = 0; i < 64; i++)
		hex[i] = (char)tolower((unsigned char)hex[i]);
	return 0;
}
