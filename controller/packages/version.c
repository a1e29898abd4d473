/*
 * Package versions: dotted numbers with an optional "-suffix", compared
 * as semver compares them (a suffix is a pre-release, before the version
 * without one), and the check that an install may move from one version
 * to another in place (upgrades_from).
 */
#include <ctype.h>

#include "internal.h"

#define VERSION_PARTS_MAX 8

bool pkg_version_valid(const char *v)
{
	size_t len = v ? strlen(v) : 0;
	unsigned parts = 0;
	const char *p = v;
	if (len == 0 || len > PKG_VERSION_MAX)
		return false;
	for (;;) {
		if (!isdigit((unsigned char)*p) || ++parts > VERSION_PARTS_MAX)
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p != '.')
			break;
		p++;
	}
	if (!*p)
		return true;
	if (*p != '-' || !p[1])
		return false;
	for (p++; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			return false;
	return true;
}

/* Compares two digit runs as numbers of any length (leading zeros ignored). */
static int compare_digits(const char *a, size_t la, const char *b, size_t lb)
{
	while (la > 1 && *a == '0')
		a++, la--;
	while (lb > 1 && *b == '0')
		b++, lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	int c = memcmp(a, b, la);
	return c < 0 ? -1 : c > 0;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* Semver's rule for pre-release identifiers: numbers below words, then part by part. */
static int compare_suffix(const char *a, const char *b)
{
	while (*a && *b) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		bool na = all_digits(a, la), nb = all_digits(b, lb);
		int c;
		if (na && nb)
			c = compare_digits(a, la, b, lb);
		else if (na != nb)
			c = na ? -1 : 1;
		else {
			c = strncmp(a, b, la < lb ? la : lb);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
	}
	return *a ? 1 : *b ? -1 : 0;
}

int pkg_version_compare(const char *a, const char *b)
{
	while (isdigit((unsigned char)*a) || isdigit((unsigned char)*b)) {
		size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
		int c = compare_digits(la ? a : "0", la ? la : 1, lb ? b : "0", lb ? lb : 1);
		if (c)
			return c;
		a += la;
		b += lb;
		a += *a == '.';
		b += *b == '.';
	}
	if (*a == '-' && *b == '-')
		return compare_suffix(a + 1, b + 1);
	return *a == '-' ? -1 : *b == '-' ? 1 : 0;
}

/* "a, b, c", or "no version" for an empty list. */
static void join_versions(char **v, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (; *v && used < len; v++)
		used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *v);
	if (!buf[0])
		snprintf(buf, len, "no version");
}

int pkg_upgrade_check(const struct pkg *to, const char *from, struct acre_error *err)
{
	if (!pkg_version_valid(from))
		return acre_error_set(err, EINVAL, "version", "%s: not a version", from);
	int c = pkg_version_compare(to->version, from);
	if (c == 0)
		return 0;
	if (c < 0)
		return acre_error_set(err, EPERM, "version",
				      "%s %s is older than the installed %s: a downgrade is a "
				      "rollback (acre pkg rollback)",
				      to->name, to->version, from);
	for (char **u = to->upgrades_from; *u; u++)
		if (pkg_version_compare(*u, from) == 0)
			return 0;
	char list[256];
	join_versions(to->upgrades_from, list, sizeof(list));
	return acre_error_set(err, EPERM, "version",
			      "%s %s cannot upgrade %s in place: its upgrades_from lists %s",
			      to->name, to->version, from, list);
}
