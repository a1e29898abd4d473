/*
 * What reaches the package library from outside: a repository's index
 * (from any HTTP server), a user's options and --set (from any client), a
 * package's schema and templates (from any repository), a published
 * checksum file.  Any bytes, parsed as JSON and then as each of those:
 * nothing crashes or leaks, every refusal says what and why, and options
 * that pass are stable (checking them again changes nothing).
 */
#include "controller/packages/packages.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema_text[] =
	"{\"type\": \"object\", \"properties\": {"
	" \"port\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 65535, \"default\": 6379},"
	" \"name\": {\"type\": \"string\", \"pattern\": \"^[a-z]+$\", \"default\": \"x\"},"
	" \"mode\": {\"type\": \"string\", \"enum\": [\"a\", \"b\"]},"
	" \"list\": {\"type\": \"array\", \"items\": {\"type\": \"number\"}},"
	" \"pw\": {\"type\": \"string\", \"secret\": true},"
	" \"sub\": {\"type\": \"object\", \"properties\": {\"on\": {\"type\": \"boolean\","
	" \"default\": false}}}}}";

static void refused_says_why(int rc, const struct acre_error *err)
{
	if (rc < 0 && !err->message[0])
		abort();
}

static void as_options(const json_t *schema, const json_t *j)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *out = NULL, *again = NULL, *red = NULL, *sec = NULL;
	int rc = pkg_options_check(schema, j, &out, &err);
	refused_says_why(rc, &err);
	if (rc < 0)
		return;
	if (pkg_options_check(schema, out, &again, &err) < 0 || !json_equal(out, again))
		abort();
	red = pkg_options_redact(schema, out);
	sec = pkg_options_secrets(schema, out);
	struct pkg_context ctx = {.install = "fz", .package = "p", .version = "1", .options = out};
	_cleanup_json_ json_t *tpl = json_pack("{s:s, s:[s, s]}", "a", "{{options.port}}", "b",
					       "x{{options.name}}", "{{options.port | text}}");
	_cleanup_json_ json_t *r = NULL;
	if (pkg_template_render(tpl, &ctx, "t.json", &r, &err) < 0)
		abort();
}

static void as_template(const json_t *schema, const json_t *j)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *opts = NULL, *r = NULL;
	if (pkg_options_check(schema, NULL, &opts, &err) < 0)
		abort();
	struct pkg_context ctx = {.install = "fz", .package = "p", .version = "1", .options = opts};
	refused_says_why(pkg_template_render(j, &ctx, "t.json", &r, &err), &err);
	struct pkg_template t = {.file = "t.json", .body = (json_t *)j};
	refused_says_why(pkg_template_check(&t, schema, &err), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acre_error err = {0};
	_cleanup_free_ char *text = strndup((const char *)data, size);
	char hex[65];
	if (text)
		refused_says_why(pkg_sha256_from_text(text, "https://e.org/a.tgz", hex, &err),
				 &err);
	json_error_t jerr;
	_cleanup_json_ json_t *j =
		json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	_cleanup_json_ json_t *schema = json_loads(schema_text, 0, &jerr);
	if (!j || !schema)
		return 0;
	refused_says_why(pkg_index_parse(j, &err), &err);
	if (pkg_schema_check(j, &err) == 0) {
		_cleanup_json_ json_t *d = pkg_options_defaults(j), *out = NULL;
		if (!d)
			abort();
		refused_says_why(pkg_options_check(j, NULL, &out, &err), &err);
	} else if (!err.message[0]) {
		abort();
	}
	as_options(schema, j);
	as_template(schema, j);
	_cleanup_json_ json_t *set = json_object();
	const char *s = json_string_value(j);
	if (s)
		refused_says_why(pkg_options_set(schema, set, s, &err), &err);
	return 0;
}
