/*
 * package.json: what a package says of itself — name, version, the words
 * shown to users, the acre it needs, the versions it upgrades in place,
 * its notes and its artifacts.  Unknown fields are refused, so a typo is
 * an error and not a silently ignored setting.
 */
#include <ctype.h>

#include "internal.h"

#define WHERE "package.json"

bool pkg_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > PKG_NAME_MAX || name[0] == '-' || name[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '-')
			return false;
	return true;
}

static int read_version(const json_t *j, const char *key, bool required, char *out,
			struct acre_error *err)
{
	_cleanup_free_ char *v = NULL;
	int rc = pkg_read_string(j, key, required, WHERE, &v, err);
	if (rc < 0 || !v)
		return rc;
	if (!pkg_version_valid(v))
		return acre_error_set(err, EINVAL, key,
				      WHERE ": %s: \"%s\" is not a version (dotted numbers and an "
					    "optional -suffix, as 1.2.3 or 1.0-rc.1)",
				      key, v);
	snprintf(out, PKG_VERSION_MAX + 1, "%s", v);
	return 0;
}

static int read_notes(const json_t *j, struct pkg *pkg, struct acre_error *err)
{
	static const char *const keys[] = {"pre_install", "post_install", NULL};
	const json_t *notes = json_object_get(j, "notes");
	if (!notes)
		return 0;
	if (!json_is_object(notes))
		return acre_error_set(err, EINVAL, "notes", WHERE ": notes: must be an object");
	int rc = pkg_check_keys(notes, WHERE, "notes.", keys, err);
	if (rc == 0)
		rc = pkg_read_string(notes, "pre_install", false, WHERE ": notes",
				     &pkg->pre_install, err);
	if (rc == 0)
		rc = pkg_read_string(notes, "post_install", false, WHERE ": notes",
				     &pkg->post_install, err);
	return rc;
}

static int read_upgrades_from(const json_t *j, struct pkg *pkg, struct acre_error *err)
{
	int rc = pkg_read_strv(j, "upgrades_from", WHERE, &pkg->upgrades_from, err);
	for (size_t i = 0; rc == 0 && pkg->upgrades_from[i]; i++) {
		const char *v = pkg->upgrades_from[i];
		if (!pkg_version_valid(v))
			return acre_error_set(err, EINVAL, "upgrades_from",
					      WHERE ": upgrades_from[%zu]: \"%s\" is not a version",
					      i, v);
		if (pkg_version_compare(v, pkg->version) >= 0)
			return acre_error_set(err, EINVAL, "upgrades_from",
					      WHERE ": upgrades_from[%zu]: %s is not older than "
						    "the package's version %s",
					      i, v, pkg->version);
	}
	return rc;
}

int pkg_manifest_parse(const json_t *j, struct pkg *pkg, struct acre_error *err)
{
	static const char *const keys[] = {
		"name",		 "version", "description", "maintainer",
		"tags",		 "licence", "website",	   "min_acre_version",
		"upgrades_from", "notes",   "artifacts",   NULL,
	};
	_cleanup_free_ char *name = NULL;
	int rc;
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "", WHERE ": must be a JSON object");
	if ((rc = pkg_check_keys(j, WHERE, "", keys, err)) < 0 ||
	    (rc = pkg_read_string(j, "name", true, WHERE, &name, err)) < 0)
		return rc;
	if (!pkg_name_valid(name))
		return acre_error_set(err, EINVAL, "name",
				      WHERE ": name: \"%s\" must be 1 to %d lower-case letters, "
					    "digits and '-', not first or last",
				      name, PKG_NAME_MAX);
	snprintf(pkg->name, sizeof(pkg->name), "%s", name);
	if ((rc = read_version(j, "version", true, pkg->version, err)) < 0 ||
	    (rc = read_version(j, "min_acre_version", false, pkg->min_acre_version, err)) < 0 ||
	    (rc = pkg_read_string(j, "description", true, WHERE, &pkg->description, err)) < 0 ||
	    (rc = pkg_read_string(j, "maintainer", false, WHERE, &pkg->maintainer, err)) < 0 ||
	    (rc = pkg_read_string(j, "licence", false, WHERE, &pkg->licence, err)) < 0 ||
	    (rc = pkg_read_string(j, "website", false, WHERE, &pkg->website, err)) < 0 ||
	    (rc = pkg_read_strv(j, "tags", WHERE, &pkg->tags, err)) < 0 ||
	    (rc = read_upgrades_from(j, pkg, err)) < 0 || (rc = read_notes(j, pkg, err)) < 0)
		return rc;
	if (pkg->website && strncmp(pkg->website, "https://", 8) &&
	    strncmp(pkg->website, "http://", 7))
		return acre_error_set(err, EINVAL, "website",
				      WHERE ": website: \"%s\" must be an http(s):// URL",
				      pkg->website);
	return pkg_artifacts_parse(json_object_get(j, "artifacts"), pkg, err);
}

int pkg_check_acre_version(const struct pkg *pkg, const char *acre_version, struct acre_error *err)
{
	if (!pkg->min_acre_version[0] ||
	    pkg_version_compare(acre_version, pkg->min_acre_version) >= 0)
		return 0;
	return acre_error_set(err, EPROTO, "min_acre_version",
			      "%s %s needs acre %s or newer; this is acre %s", pkg->name,
			      pkg->version, pkg->min_acre_version, acre_version);
}
