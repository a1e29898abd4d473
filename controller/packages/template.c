/*
 * {{...}} substitution over a JSON tree.  No logic, on purpose: a
 * template is JSON with holes, so what it expands to is plain to read and
 * the same inputs give the same output.  A string that is one placeholder
 * and nothing else takes the value's own JSON type ("{{options.count}}"
 * becomes 3, not "3"); inside longer text, or written
 * "{{options.port | text}}" (the strings a command line is made of), a
 * placeholder is put in as text.  The same walk checks a package's
 * templates against its schema when it is loaded (ctx NULL, schema
 * given).
 */
#include <ctype.h>

#include "internal.h"

struct walk {
	const struct pkg_context *ctx; /* rendering; NULL when checking */
	const json_t *schema;	       /* checking */
	const char *file;
	struct acre_error *err;
};

static int fail(struct walk *w, const char *path, int code, const char *fmt, const char *a)
{
	char what[300];
	snprintf(what, sizeof(what), fmt, a);
	return acre_error_set(w->err, code, path, "%s: %s: %s", w->file, *path ? path : "(top)",
			      what);
}

/* The value a placeholder names (a new reference); NULL with err filled when none. */
static json_t *resolve(struct walk *w, const char *name, const char *path, bool in_text)
{
	const struct pkg_context *c = w->ctx;
	if (!strcmp(name, "install.name"))
		return json_string(c ? c->install : "install");
	if (!strcmp(name, "package.name"))
		return json_string(c ? c->package : "package");
	if (!strcmp(name, "package.version"))
		return json_string(c ? c->version : "1.0");
	if (strncmp(name, "options.", 8)) {
		fail(w, path, EINVAL, "unknown placeholder {{%s}}", name);
		return NULL;
	}
	if (!c) {
		const json_t *s = pkg_schema_find(w->schema, name);
		const char *t = json_string_value(json_object_get(s, "type"));
		if (!s) {
			fail(w, path, EINVAL, "unknown placeholder {{%s}}: no such option", name);
			return NULL;
		}
		if (json_is_true(json_object_get(s, "secret"))) {
			fail(w, path, EPERM,
			     "{{%s}} is a secret: it reaches the task as a file in /run/secrets, "
			     "never through a template (which apps show)",
			     name);
			return NULL;
		}
		if (in_text && (!strcmp(t, "object") || !strcmp(t, "array"))) {
			fail(w, path, EINVAL,
			     "{{%s}} is an object or array: it cannot be put inside text", name);
			return NULL;
		}
		return json_string("");
	}
	const json_t *v = pkg_options_get(c->options, name + 8);
	if (!v) {
		fail(w, path, EINVAL,
		     "unknown placeholder {{%s}}: no such option, or it has no value", name);
		return NULL;
	}
	return json_deep_copy(v);
}

/*
 * "{{ name }}" or "{{ name | text }}" at s: the name into buf, *text set for
 * the second; the length consumed, 0 when unclosed or malformed.
 */
static size_t placeholder_at(const char *s, char *buf, size_t len, bool *text)
{
	const char *p = s + 2, *start, *end;
	*text = false;
	while (*p == ' ')
		p++;
	start = p;
	while (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')
		p++;
	end = p;
	while (*p == ' ')
		p++;
	if (*p == '|') {
		for (p++; *p == ' '; p++)
			;
		if (strncmp(p, "text", 4))
			return 0;
		for (p += 4, *text = true; *p == ' '; p++)
			;
	}
	if (end == start || p[0] != '}' || p[1] != '}' || (size_t)(end - start) >= len)
		return 0;
	memcpy(buf, start, end - start);
	buf[end - start] = '\0';
	return (size_t)(p + 2 - s);
}

static int append_text(char **out, size_t *used, const char *s, size_t n)
{
	char *grown = realloc(*out, *used + n + 1);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + *used, s, n);
	*used += n;
	grown[*used] = '\0';
	*out = grown;
	return 0;
}

static int value_as_text(struct walk *w, const json_t *v, const char *name, const char *path,
			 char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		return fail(w, path, EINVAL,
			    "{{%s}} is an object or array: it cannot be put "
			    "inside text",
			    name);
	return 0;
}

/* A string: one placeholder whole (typed), or text with placeholders in it. */
static int render_string(struct walk *w, const char *s, const char *path, json_t **out)
{
	char name[128];
	bool as_text = false;
	size_t n = strncmp(s, "{{", 2) ? 0 : placeholder_at(s, name, sizeof(name), &as_text);
	if (n && n == strlen(s) && !as_text)
		return (*out = resolve(w, name, path, false)) ? 0 : -w->err->code;
	_cleanup_free_ char *text = strdup("");
	size_t used = 0;
	if (!text)
		return -ENOMEM;
	while (*s) {
		const char *open = strstr(s, "{{");
		if (!open)
			return append_text(&text, &used, s, strlen(s)) < 0
				       ? -ENOMEM
				       : ((*out = json_string(text)) ? 0 : -ENOMEM);
		if (append_text(&text, &used, s, open - s) < 0)
			return -ENOMEM;
		if (!(n = placeholder_at(open, name, sizeof(name), &as_text)))
			return fail(w, path, EINVAL, "\"{{\" opens no placeholder in \"%s\"", s);
		_cleanup_json_ json_t *v = resolve(w, name, path, true);
		char buf[512];
		if (!v || value_as_text(w, v, name, path, buf, sizeof(buf)) < 0)
			return -w->err->code;
		if (append_text(&text, &used, buf, strlen(buf)) < 0)
			return -ENOMEM;
		s = open + n;
	}
	*out = json_string(text);
	return *out ? 0 : -ENOMEM;
}

static int render(struct walk *w, const json_t *v, const char *path, json_t **out);

static int render_object(struct walk *w, const json_t *v, const char *path, json_t **out)
{
	_cleanup_json_ json_t *o = json_object();
	const char *key;
	json_t *x;
	if (!o)
		return -ENOMEM;
	json_object_foreach ((json_t *)v, key, x) {
		char sub[512];
		_cleanup_json_ json_t *k = NULL, *val = NULL;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		int rc = render_string(w, key, sub, &k);
		if (rc == 0 && !json_is_string(k))
			rc = fail(w, sub, EINVAL, "a key must be text, and {{%s}} is not", key);
		if (rc == 0)
			rc = render(w, x, sub, &val);
		if (rc < 0)
			return rc;
		if (json_object_get(o, json_string_value(k)))
			return fail(w, sub, EEXIST, "the key \"%s\" twice", json_string_value(k));
		if (json_object_set(o, json_string_value(k), val) < 0)
			return -ENOMEM;
	}
	*out = TAKE_PTR(o);
	return 0;
}

static int render(struct walk *w, const json_t *v, const char *path, json_t **out)
{
	if (json_is_string(v))
		return render_string(w, json_string_value(v), path, out);
	if (json_is_object(v))
		return render_object(w, v, path, out);
	if (json_is_array(v)) {
		_cleanup_json_ json_t *a = json_array();
		size_t i;
		json_t *x;
		if (!a)
			return -ENOMEM;
		json_array_foreach (v, i, x) {
			char sub[512];
			json_t *item = NULL;
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			int rc = render(w, x, sub, &item);
			if (rc < 0)
				return rc;
			if (json_array_append_new(a, item) < 0)
				return -ENOMEM;
		}
		*out = TAKE_PTR(a);
		return 0;
	}
	*out = json_deep_copy(v);
	return *out ? 0 : -ENOMEM;
}

int pkg_template_render(const json_t *value, const struct pkg_context *ctx, const char *file,
			json_t **out, struct acre_error *err)
{
	struct walk w = {.ctx = ctx, .file = file, .err = err};
	*out = NULL;
	return render(&w, value, "", out);
}

static int check_when(const struct pkg_template *t, const json_t *schema, struct acre_error *err)
{
	const json_t *when = json_object_get(t->body, "when"), *v;
	const char *key;
	if (!when)
		return 0;
	if (!json_is_object(when) || json_object_size(when) == 0)
		return acre_error_set(err, EINVAL, "when",
				      "%s: when: must be an object of options and their values",
				      t->file);
	json_object_foreach ((json_t *)when, key, v) {
		const json_t *s = strncmp(key, "options.", 8) ? NULL : pkg_schema_find(schema, key);
		_cleanup_json_ json_t *copy = NULL;
		if (!s)
			return acre_error_set(err, EINVAL, "when",
					      "%s: when.%s: not an option of the package's schema "
					      "(options.NAME)",
					      t->file, key);
		if (pkg_value_check(s, v, key, &copy, err) < 0)
			return acre_error_prefix(err, "%s: when", t->file);
	}
	return 0;
}

int pkg_template_check(const struct pkg_template *t, const json_t *schema, struct acre_error *err)
{
	static const char *const keys[] = {"when", "app", "volume", NULL};
	struct walk w = {.schema = schema, .file = t->file, .err = err};
	_cleanup_json_ json_t *out = NULL;
	int rc;
	if (!json_is_object(t->body))
		return acre_error_set(err, EINVAL, "", "%s: must be a JSON object", t->file);
	if ((rc = pkg_check_keys(t->body, t->file, "", keys, err)) < 0)
		return rc;
	if (!json_object_get(t->body, "app") == !json_object_get(t->body, "volume"))
		return acre_error_set(err, EINVAL, "", "%s: must have one of app and volume",
				      t->file);
	if ((rc = check_when(t, schema, err)) < 0)
		return rc;
	const char *kind = json_object_get(t->body, "app") ? "app" : "volume";
	return render(&w, json_object_get(t->body, kind), kind, &out);
}
