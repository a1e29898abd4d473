/*
 * The plan of an expansion: what an install would run — each app's
 * instances, placement, ports, volumes, artifacts and dependencies, the
 * start order, the install's volumes and the host binaries its nodes
 * need — as JSON for the API and as lines for the terminal.  `acre pkg install` shows it before
 * anything starts, and
 * `--dry-run` stops there.
 */
#include "internal.h"

static json_t *app_plan(const json_t *spec, size_t start)
{
	static const char *const keys[] = {"name",    "instances", "placement", "ports",
					   "publish", "vip",	   "volumes",	"dependencies",
					   "ordered", NULL};
	json_t *p = json_object();
	for (const char *const *k = keys; p && *k; k++)
		json_object_set(p, *k, json_object_get(spec, *k));
	json_t *arts = json_object_get(json_object_get(spec, "slice"), "artifacts");
	if (p && json_array_size(arts))
		json_object_set(p, "artifacts", arts);
	if (p)
		json_object_set_new(p, "start", json_integer((json_int_t)start));
	return p;
}

json_t *pkg_plan(const struct pkg_expansion *x)
{
	_cleanup_json_ json_t *plan = json_pack("{s:[], s:O, s:[], s:{}}", "apps", "volumes",
						x->volumes, "order", "spec");
	const json_t *spec;
	size_t i;
	if (!plan)
		return NULL;
	json_array_foreach (x->apps, i, spec) {
		const char *name = json_string_value(json_object_get(spec, "name"));
		if (json_array_append_new(json_object_get(plan, "apps"), app_plan(spec, i)) < 0 ||
		    json_array_append_new(json_object_get(plan, "order"), json_string(name)) < 0 ||
		    json_object_set(json_object_get(plan, "spec"), name, (json_t *)spec) < 0)
			return NULL;
	}
	if (x->binaries && json_object_set(plan, "binaries", x->binaries) < 0)
		return NULL;
	return TAKE_PTR(plan);
}

/* Appends ", "-separated strings of array a to buf. */
static void join(const json_t *a, char *buf, size_t len)
{
	const json_t *v;
	size_t i, used = strlen(buf);
	json_array_foreach (a, i, v)
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 json_string_value(v));
}

/* "unique node, spread zone, strategy binpack, constraints zone!=c": what is set. */
static void placement_text(const json_t *p, char *buf, size_t len)
{
	const char *key;
	const json_t *v;
	size_t used = 0;
	buf[0] = '\0';
	json_object_foreach ((json_t *)p, key, v) {
		char one[256] = "";
		if (json_is_string(v) && *json_string_value(v))
			snprintf(one, sizeof(one), "%s", json_string_value(v));
		else if (json_is_array(v) && json_array_size(v))
			join(v, one, sizeof(one));
		if (*one && used < len)
			used += snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", key,
					 one);
	}
}

static int volumes_text(const json_t *vols, char *buf, size_t len)
{
	const json_t *v;
	size_t i, used = 0;
	buf[0] = '\0';
	json_array_foreach (vols, i, v) {
		char size[32];
		acre_format_size((uint64_t)json_integer_value(json_object_get(v, "size")), size,
				 sizeof(size));
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%s %s at %s", i ? ", " : "",
					 json_string_value(json_object_get(v, "name")), size,
					 json_string_value(json_object_get(v, "path")));
	}
	return 0;
}

static int app_lines(const json_t *a, char ***lines)
{
	char place[512], ports[512] = "", deps[512] = "", vols[512], line[2048];
	long long n = json_integer_value(json_object_get(a, "instances"));
	placement_text(json_object_get(a, "placement"), place, sizeof(place));
	join(json_object_get(a, "ports"), ports, sizeof(ports));
	join(json_object_get(a, "dependencies"), deps, sizeof(deps));
	volumes_text(json_object_get(a, "volumes"), vols, sizeof(vols));
	snprintf(line, sizeof(line), "app %s: %lld instance%s%s%s%s",
		 json_string_value(json_object_get(a, "name")), n, n == 1 ? "" : "s",
		 json_is_true(json_object_get(a, "ordered")) ? ", ordered" : "", *place ? ", " : "",
		 place);
	if (acre_strv_push(lines, line) < 0)
		return -ENOMEM;
	if (*ports) {
		char pub[512] = "";
		join(json_object_get(a, "publish"), pub, sizeof(pub));
		snprintf(line, sizeof(line), "  ports %s%s%s%s", ports, *pub ? "; published " : "",
			 pub, json_is_true(json_object_get(a, "vip")) ? "; a VIP" : "");
		if (acre_strv_push(lines, line) < 0)
			return -ENOMEM;
	}
	if (*vols) {
		snprintf(line, sizeof(line), "  volumes (one per instance) %s", vols);
		if (acre_strv_push(lines, line) < 0)
			return -ENOMEM;
	}
	if (*deps) {
		snprintf(line, sizeof(line), "  starts after %s", deps);
		if (acre_strv_push(lines, line) < 0)
			return -ENOMEM;
	}
	const json_t *art;
	size_t i;
	json_array_foreach (json_object_get(a, "artifacts"), i, art) {
		snprintf(line, sizeof(line), "  artifact %s at %s",
			 json_string_value(json_object_get(art, "uri")),
			 json_string_value(json_object_get(art, "path")));
		if (acre_strv_push(lines, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* "needs /usr/bin/redis-server (Debian package redis-server), on 2 of 3 nodes". */
static int binary_line(const json_t *b, char ***lines)
{
	char line[512], where[128] = "";
	const json_t *nodes = json_object_get(b, "nodes");
	const char *deb = json_string_value(json_object_get(b, "deb"));
	if (json_is_integer(nodes) && json_integer_value(nodes) == 0)
		snprintf(where, sizeof(where), ", on no node of the pool: apt-get install %s there",
			 deb);
	else if (json_is_integer(nodes))
		snprintf(where, sizeof(where), ", on %lld of %lld nodes",
			 (long long)json_integer_value(nodes),
			 (long long)json_integer_value(json_object_get(b, "of")));
	snprintf(line, sizeof(line), "needs %s (Debian package %s)%s",
		 json_string_value(json_object_get(b, "binary")), deb, where);
	return acre_strv_push(lines, line);
}

char **pkg_plan_lines(const json_t *plan)
{
	_cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
	const json_t *a;
	char line[1024] = "start order: ";
	size_t i;
	if (!lines)
		return NULL;
	json_array_foreach (json_object_get(plan, "apps"), i, a)
		if (app_lines(a, &lines) < 0)
			return NULL;
	json_array_foreach (json_object_get(plan, "binaries"), i, a)
		if (binary_line(a, &lines) < 0)
			return NULL;
	json_array_foreach (json_object_get(plan, "volumes"), i, a) {
		char size[32], one[256];
		acre_format_size((uint64_t)json_integer_value(json_object_get(a, "size")), size,
				 sizeof(size));
		snprintf(one, sizeof(one), "volume %s: %s",
			 json_string_value(json_object_get(a, "name")), size);
		if (acre_strv_push(&lines, one) < 0)
			return NULL;
	}
	if (json_array_size(json_object_get(plan, "order"))) {
		join(json_object_get(plan, "order"), line, sizeof(line));
		if (acre_strv_push(&lines, line) < 0)
			return NULL;
	}
	return TAKE_PTR(lines);
}
