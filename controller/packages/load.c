/*
 * A package version read from its directory: package.json, config.json,
 * templates/NAME.json and icon.svg, each checked, and the templates checked
 * against the schema, so that a package that loads is one whose every
 * placeholder names something.  Errors name the file, then the field.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>

#include "internal.h"

static int read_json(int dirfd, const char *name, bool required, json_t **out,
		     struct acre_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	json_error_t jerr;
	*out = NULL;
	int rc = acre_file_read(dirfd, name, &data, &len, PKG_FILE_MAX);
	if (rc == -ENOENT && !required)
		return 0;
	if (rc == -EFBIG)
		return acre_error_set(err, EFBIG, "", "%s: larger than %d bytes", name,
				      PKG_FILE_MAX);
	if (rc < 0)
		return acre_error_set(err, -rc, "", "%s: %s", name, strerror(-rc));
	*out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return acre_error_set(err, EINVAL, "", "%s: line %d: %s", name, jerr.line,
				      jerr.text);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* templates/NAME.json in name order. */
static int list_templates(int dirfd, char ***out, struct acre_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, "templates", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_strv_free_ char **names = NULL;
	struct dirent *e;
	if (fd < 0)
		return acre_error_set(err, errno, "", "templates/: %s", strerror(errno));
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d)
		return -errno;
	TAKE_FD(fd);
	names = calloc(1, sizeof(char *));
	if (!names)
		return -ENOMEM;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[300];
		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		if (acre_strv_length(names) >= PKG_TEMPLATES_MAX)
			return acre_error_set(err, E2BIG, "", "templates/: more than %d templates",
					      PKG_TEMPLATES_MAX);
		snprintf(path, sizeof(path), "templates/%s", e->d_name);
		if (acre_strv_push(&names, path) < 0)
			return -ENOMEM;
	}
	if (!names[0])
		return acre_error_set(err, ENOENT, "", "templates/: no template (*.json)");
	qsort(names, acre_strv_length(names), sizeof(char *), name_cmp);
	*out = TAKE_PTR(names);
	return 0;
}

static int load_templates(int dirfd, struct pkg *pkg, struct acre_error *err)
{
	_cleanup_strv_free_ char **names = NULL;
	int rc = list_templates(dirfd, &names, err);
	if (rc < 0)
		return rc;
	size_t n = acre_strv_length(names);
	pkg->templates = calloc(n, sizeof(*pkg->templates));
	if (!pkg->templates)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct pkg_template *t = &pkg->templates[i];
		t->file = strdup(names[i]);
		pkg->ntemplates = i + 1;
		if (!t->file)
			return -ENOMEM;
		if ((rc = read_json(dirfd, names[i], true, &t->body, err)) < 0 ||
		    (rc = pkg_template_check(t, pkg->schema, err)) < 0)
			return rc;
	}
	return 0;
}

/* An attribute onload=, onclick=, ...: whitespace, "on", letters, '=' (lower-cased text). */
static bool has_event_handler(const char *svg)
{
	for (const char *p = svg; (p = strstr(p, "on")); p += 2) {
		const char *q = p + 2;
		if (p == svg || !isspace((unsigned char)p[-1]) || !islower((unsigned char)*q))
			continue;
		while (islower((unsigned char)*q))
			q++;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '=')
			return true;
	}
	return false;
}

static int load_icon(int dirfd, struct pkg *pkg, struct acre_error *err)
{
	size_t len = 0;
	int rc = acre_file_read(dirfd, "icon.svg", &pkg->icon, &len, PKG_ICON_MAX);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return acre_error_set(err, -rc, "", "icon.svg: %s",
				      rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
	if (!strstr(pkg->icon, "<svg") || !acre_str_is_utf8(pkg->icon, len))
		return acre_error_set(err, EINVAL, "", "icon.svg: not an SVG image");
	/*
	 * The GUI shows icons from any repository: an SVG opened on its own
	 * runs its scripts in the GUI's origin, so an icon is a picture only.
	 */
	static const char *const active[] = {"<script", "javascript:", "<foreignobject",
					     "<iframe", "<!entity",    NULL};
	_cleanup_free_ char *lower = strdup(pkg->icon);
	if (!lower)
		return -ENOMEM;
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (const char *const *a = active; *a; a++)
		if (strstr(lower, *a))
			return acre_error_set(err, EINVAL, "",
					      "icon.svg: %s: not in an icon (a "
					      "picture only: no script, no "
					      "embedded document, no entity)",
					      *a);
	if (has_event_handler(lower))
		return acre_error_set(
			err, EINVAL, "",
			"icon.svg: an event handler attribute (on...=): not in an icon");
	return 0;
}

int pkg_load(const char *dir, struct pkg *pkg, struct acre_error *err)
{
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_json_ json_t *manifest = NULL;
	int rc;
	memset(pkg, 0, sizeof(*pkg));
	if (dirfd < 0)
		return acre_error_set(err, errno, "", "%s: %s", dir, strerror(errno));
	if ((rc = read_json(dirfd, "package.json", true, &manifest, err)) < 0 ||
	    (rc = pkg_manifest_parse(manifest, pkg, err)) < 0 ||
	    (rc = read_json(dirfd, "config.json", false, &pkg->schema, err)) < 0)
		goto fail;
	if (!pkg->schema &&
	    !(pkg->schema = json_pack("{s:s, s:{}}", "type", "object", "properties"))) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = pkg_schema_check(pkg->schema, err)) < 0 ||
	    (rc = load_templates(dirfd, pkg, err)) < 0 || (rc = load_icon(dirfd, pkg, err)) < 0)
		goto fail;
	return 0;
fail:
	pkg_free(pkg);
	return acre_error_prefix(err, "package %s", dir);
}

void pkg_free(struct pkg *pkg)
{
	free(pkg->description);
	free(pkg->maintainer);
	free(pkg->licence);
	free(pkg->website);
	acre_strv_free(pkg->tags);
	acre_strv_free(pkg->upgrades_from);
	free(pkg->pre_install);
	free(pkg->post_install);
	pkg_artifacts_free(pkg);
	json_decref(pkg->schema);
	for (size_t i = 0; i < pkg->ntemplates; i++) {
		free(pkg->templates[i].file);
		json_decref(pkg->templates[i].body);
	}
	free(pkg->templates);
	free(pkg->icon);
	memset(pkg, 0, sizeof(*pkg));
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *artifact_json(const struct pkg_artifact *a)
{
	if (a->kind == PKG_ARTIFACT_BINARY)
		return json_pack("{s:s, s:s}", "binary", a->binary, "deb", a->deb);
	return pkg_artifact_uri_json(a);
}

json_t *pkg_to_json(const struct pkg *pkg)
{
	json_t *arts = json_array(), *templates = json_array();
	for (size_t i = 0; i < pkg->nartifacts; i++)
		json_array_append_new(arts, artifact_json(&pkg->artifacts[i]));
	for (size_t i = 0; i < pkg->ntemplates; i++)
		json_array_append_new(templates, json_string(pkg->templates[i].file));
	return json_pack("{s:s, s:s, s:s, s:s?, s:o, s:s?, s:s?, s:s?, s:o, s:{s:s?, s:s?}, s:o, "
			 "s:O, s:o, s:b}",
			 "name", pkg->name, "version", pkg->version, "description",
			 pkg->description, "maintainer", pkg->maintainer, "tags",
			 strv_json(pkg->tags), "licence", pkg->licence, "website", pkg->website,
			 "min_acre_version",
			 pkg->min_acre_version[0] ? pkg->min_acre_version : NULL, "upgrades_from",
			 strv_json(pkg->upgrades_from), "notes", "pre_install", pkg->pre_install,
			 "post_install", pkg->post_install, "artifacts", arts, "config",
			 pkg->schema, "templates", templates, "icon", pkg->icon != NULL);
}
