/*
 * Two plans compared: what an upgrade (or a changed option) adds,
 * removes and changes, and for each changed app which fields and whether
 * its instances are replaced or changed in place.  `acre pkg upgrade`
 * shows it before anything changes, and `--dry-run` exits with whether
 * it is empty.
 */
#include "internal.h"

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object in name order (the strings are the object's). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
	const char **keys = calloc(json_object_size(o) + 1, sizeof(char *));
	const char *key;
	json_t *v;
	*n = 0;
	if (!keys)
		return NULL;
	json_object_foreach ((json_t *)o, key, v)
		keys[(*n)++] = key;
	qsort(keys, *n, sizeof(char *), key_cmp);
	return keys;
}

/* Top-level fields that differ; inside slice and placement, theirs ("slice.command"). */
static void changed_fields(const json_t *a, const json_t *b, const char *prefix, int depth,
			   json_t *out)
{
	_cleanup_json_ json_t *all = json_object();
	json_object_update(all, (json_t *)a);
	json_object_update(all, (json_t *)b);
	size_t n;
	_cleanup_free_ const char **keys = sorted_keys(all, &n);
	for (size_t i = 0; keys && i < n; i++) {
		const json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);
		char name[128];
		if (x && y && json_equal(x, y))
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, keys[i]);
		if (depth == 0 && x && y && json_is_object(x) && json_is_object(y) &&
		    (!strcmp(keys[i], "slice") || !strcmp(keys[i], "placement"))) {
			char sub[128];
			snprintf(sub, sizeof(sub), "%s.", name);
			changed_fields(x, y, sub, 1, out);
		} else {
			json_array_append_new(out, json_string(name));
		}
	}
}

static void diff_apps(const json_t *a, const json_t *b, json_t *diff)
{
	_cleanup_json_ json_t *all = json_object();
	json_object_update(all, (json_t *)a);
	json_object_update(all, (json_t *)b);
	size_t n;
	_cleanup_free_ const char **names = sorted_keys(all, &n);
	for (size_t i = 0; names && i < n; i++) {
		const json_t *x = json_object_get(a, names[i]), *y = json_object_get(b, names[i]);
		if (!x)
			json_array_append_new(json_object_get(diff, "added"),
					      json_string(names[i]));
		else if (!y)
			json_array_append_new(json_object_get(diff, "removed"),
					      json_string(names[i]));
		else if (!json_equal(x, y)) {
			json_t *fields = json_array();
			changed_fields(x, y, "", 0, fields);
			json_array_append_new(json_object_get(diff, "changed"),
					      json_pack("{s:s, s:o, s:b}", "name", names[i],
							"fields", fields, "replaces",
							app_spec_json_replaces(x, y)));
		}
	}
}

/* {"NAME": volume} of a plan's volumes. */
static json_t *volumes_by_name(const json_t *plan)
{
	json_t *o = json_object(), *v;
	size_t i;
	json_array_foreach (json_object_get(plan, "volumes"), i, v)
		json_object_set(o, json_string_value(json_object_get(v, "name")), v);
	return o;
}

static void diff_volumes(const json_t *a, const json_t *b, json_t *diff)
{
	_cleanup_json_ json_t *va = volumes_by_name(a), *vb = volumes_by_name(b),
			      *all = json_object();
	json_object_update(all, va);
	json_object_update(all, vb);
	size_t n;
	_cleanup_free_ const char **names = sorted_keys(all, &n);
	for (size_t i = 0; names && i < n; i++) {
		const json_t *x = json_object_get(va, names[i]), *y = json_object_get(vb, names[i]);
		const char *list = !x	? "volumes_added"
				   : !y ? "volumes_removed"
					: "volumes_changed";
		if (x && y && json_equal(x, y))
			continue;
		json_array_append_new(json_object_get(diff, list), json_string(names[i]));
	}
}

json_t *pkg_plan_diff(const json_t *a, const json_t *b)
{
	json_t *diff = json_pack("{s:[], s:[], s:[], s:[], s:[], s:[]}", "added", "removed",
				 "changed", "volumes_added", "volumes_removed", "volumes_changed");
	if (!diff)
		return NULL;
	diff_apps(json_object_get(a, "spec"), json_object_get(b, "spec"), diff);
	diff_volumes(a, b, diff);
	return diff;
}

bool pkg_diff_empty(const json_t *diff)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)diff, key, v)
		if (json_array_size(v))
			return false;
	return true;
}

static int push_each(char ***lines, const json_t *a, const char *what)
{
	const json_t *v;
	size_t i;
	json_array_foreach (a, i, v) {
		char line[256];
		snprintf(line, sizeof(line), "%s %s", what, json_string_value(v));
		if (acre_strv_push(lines, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

char **pkg_diff_lines(const json_t *diff)
{
	_cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
	const json_t *c;
	size_t i;
	if (!lines || push_each(&lines, json_object_get(diff, "added"), "+ app") < 0 ||
	    push_each(&lines, json_object_get(diff, "removed"), "- app") < 0)
		return NULL;
	json_array_foreach (json_object_get(diff, "changed"), i, c) {
		char line[1024], fields[768] = "";
		const json_t *f;
		size_t k, used = 0;
		json_array_foreach (json_object_get(c, "fields"), k, f)
			if (used < sizeof(fields))
				used += snprintf(fields + used, sizeof(fields) - used, "%s%s",
						 k ? ", " : "", json_string_value(f));
		snprintf(line, sizeof(line), "~ app %s: %s (%s)",
			 json_string_value(json_object_get(c, "name")), fields,
			 json_is_true(json_object_get(c, "replaces")) ? "instances replaced"
								      : "in place");
		if (acre_strv_push(&lines, line) < 0)
			return NULL;
	}
	if (push_each(&lines, json_object_get(diff, "volumes_added"), "+ volume") < 0 ||
	    push_each(&lines, json_object_get(diff, "volumes_removed"), "- volume") < 0 ||
	    push_each(&lines, json_object_get(diff, "volumes_changed"), "~ volume") < 0)
		return NULL;
	return TAKE_PTR(lines);
}
