/*
 * A project's published checksum file, read for the sum of one file.
 * Projects publish it in one of four shapes, all of which are seen:
 *
 *   HEX  NAME   or   HEX *NAME    sha256sum/sha512sum (SHA256SUMS, Spark 3's .sha512)
 *   SHA512 (NAME) = HEX           BSD and `openssl dgst` (Hadoop's .sha512)
 *   NAME: HEX HEX ...             `gpg --print-md` (Spark 2's .sha512): upper-case
 *                                 groups of eight, wrapped onto indented lines
 *   HEX                           the sum alone (Kubernetes' .sha256)
 *
 * Names are compared by their last part ("./dist/a.tgz" is "a.tgz").  A
 * line that names the file with a sum that is not of the expected length
 * is an error, not passed over: a SHA-256 file given where a SHA-512 was
 * meant must not read as "not listed".
 */
#include "common.h"

#include <ctype.h>

/* The last part of a path or URL, without a query: its start and length. */
static size_t base_name(const char *s, size_t len, const char **start)
{
	size_t b = len;
	while (b > 0 && s[b - 1] != '/')
		b--;
	*start = s + b;
	size_t n = len - b;
	for (size_t i = 0; i < n; i++)
		if ((*start)[i] == '?' || (*start)[i] == '#')
			return i;
	return n;
}

static bool same_name(const char *name, size_t len, const char *want)
{
	const char *b;
	size_t n = base_name(name, len, &b);
	return n > 0 && n == strlen(want) && !memcmp(b, want, n);
}

/* The hex digits of s, blanks between groups dropped, into out; its count, or SIZE_MAX. */
static size_t gather_hex(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r')
			continue;
		if (!isxdigit((unsigned char)*s) || n + 1 >= cap)
			return SIZE_MAX;
		out[n++] = (char)tolower((unsigned char)*s);
	}
	out[n] = '\0';
	return n;
}

struct wanted {
	const char *name;
	size_t hex_len;
	const char *algo; /* "SHA-256": for the messages */
	char *out;
	unsigned line;
};

static int take(struct wanted *w, const char *hex, struct acre_error *err)
{
	char got[160];
	size_t n = gather_hex(hex, got, sizeof(got));
	if (n != w->hex_len)
		return acre_error_set(
			err, EBADMSG, "checksum",
			"the checksum file's line %u for %s: not a %s (%zu hex digits)", w->line,
			w->name, w->algo, w->hex_len);
	memcpy(w->out, got, n + 1);
	return 1;
}

/* "SHA512 (NAME) = HEX": 1 taken, 0 another file's or another shape, -errno. */
static int bsd_line(struct wanted *w, const char *line, struct acre_error *err)
{
	const char *open = strstr(line, " (");
	const char *close = open ? strstr(open, ") = ") : NULL;
	if (!open || !close)
		return 0;
	for (const char *p = line; p < open; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	if (!same_name(open + 2, (size_t)(close - open - 2), w->name))
		return 0;
	return take(w, close + 4, err);
}

/* "NAME: HEX HEX ...": as above. */
static int gpg_line(struct wanted *w, const char *line, struct acre_error *err)
{
	const char *colon = strstr(line, ": ");
	if (!colon || strcspn(line, " \t") < (size_t)(colon - line))
		return 0;
	if (!same_name(line, (size_t)(colon - line), w->name))
		return 0;
	return take(w, colon + 2, err);
}

/* "HEX  NAME", "HEX *NAME": as above. */
static int coreutils_line(struct wanted *w, const char *line, struct acre_error *err)
{
	size_t n = strspn(line, "0123456789abcdefABCDEF");
	if (n == 0 || (line[n] != ' ' && line[n] != '\t'))
		return 0;
	const char *name = line + n;
	name += strspn(name, " \t");
	if (*name == '*')
		name++;
	if (!same_name(name, strlen(name), w->name))
		return 0;
	char hex[160];
	if (n >= sizeof(hex))
		return take(w, "?", err);
	memcpy(hex, line, n);
	hex[n] = '\0';
	return take(w, hex, err);
}

/* One logical line (continuations joined), blanks trimmed at both ends. */
static int one_line(struct wanted *w, const char *line, struct acre_error *err)
{
	int rc = bsd_line(w, line, err);
	if (rc == 0)
		rc = gpg_line(w, line, err);
	if (rc == 0)
		rc = coreutils_line(w, line, err);
	return rc;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/*
 * Splits text into logical lines in place: a line that begins with a blank
 * continues the one before (gpg's wrapping).  Returns how many, in lines[].
 */
static size_t split(char *text, char **lines, size_t cap)
{
	size_t n = 0;
	for (char *p = text; *p;) {
		char *end = strchr(p, '\n');
		if (end)
			*end = '\0';
		if ((*p == ' ' || *p == '\t') && n > 0) {
			/* Joined: the continuation moves up against its line, after one blank. */
			char *prev = lines[n - 1];
			trim(prev);
			size_t had = strlen(prev);
			prev[had] = ' ';
			memmove(prev + had + 1, p, strlen(p) + 1);
		} else if (n < cap) {
			lines[n++] = p;
		}
		if (!end)
			break;
		p = end + 1;
	}
	for (size_t i = 0; i < n; i++)
		trim(lines[i]);
	return n;
}

int acre_checksum_file_find(const char *text, const char *name, size_t hex_len, char *out,
			    struct acre_error *err)
{
	struct wanted w = {.name = name,
			   .hex_len = hex_len,
			   .algo = hex_len == 128 ? "SHA-512" : "SHA-256",
			   .out = out};
	if (!*name)
		return acre_error_set(err, EINVAL, "checksum", "no file name to look up");
	_cleanup_free_ char *copy = strdup(text);
	size_t cap = strlen(text) / 2 + 2;
	_cleanup_free_ char **lines = calloc(cap, sizeof(*lines));
	if (!copy || !lines)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t n = split(copy, lines, cap), nonempty = 0;
	const char *only = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *line = lines[i] + strspn(lines[i], " \t");
		if (!*line)
			continue;
		nonempty++;
		only = line;
		w.line = (unsigned)(i + 1);
		int rc = one_line(&w, line, err);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	/* A file of the sum alone names no file: it is the sum of the one it sits beside. */
	if (nonempty == 1 && strspn(only, "0123456789abcdefABCDEF") == strlen(only)) {
		w.line = 1;
		return take(&w, only, err) < 0 ? -EBADMSG : 0;
	}
	return acre_error_set(err, ENOENT, "checksum", "the checksum file lists no %s for %s",
			      w.algo, name);
}
