/*
 * Dependencies between apps, checked over the whole set (one app's spec
 * cannot tell whether the app it names exists): every name known, no
 * cycle, which would leave every app of it waiting for the others, and no
 * app named as another's instance, since "web-1" is the DNS name of
 * instance 1 of "web".  The same walk gives the order to start apps in
 * (each after those it depends on) and, reversed, to stop them.
 */
#include "internal.h"

#include <ctype.h>

enum { WHITE, GREY, BLACK };

struct walk {
	const struct app_spec *const *apps;
	size_t n;
	size_t *by_name; /* positions sorted by name */
	unsigned char *color;
	size_t *stack, depth; /* the path being walked, for a cycle's message */
	size_t *order, norder;
	struct acre_error *err;
};

static int by_name(const void *a, const void *b, void *ud)
{
	const struct app_spec *const *apps = ud;
	return strcmp(apps[*(const size_t *)a]->name, apps[*(const size_t *)b]->name);
}

static int find(const struct walk *w, const char *name, size_t len)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = w->apps[w->by_name[mid]]->name;
		int c = strncmp(m, name, len);
		if (c == 0 && m[len])
			c = 1;
		if (c == 0)
			return (int)w->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* "web-1" beside an app "web" would take the name of its instance 1. */
static int check_names(const struct walk *w)
{
	for (size_t i = 1; i < w->n; i++) {
		const char *a = w->apps[w->by_name[i - 1]]->name, *b = w->apps[w->by_name[i]]->name;
		if (!strcmp(a, b))
			return acre_error_set(w->err, EEXIST, "name", "app %s: the name is taken",
					      b);
	}
	for (size_t i = 0; i < w->n; i++) {
		const char *name = w->apps[i]->name, *dash = strrchr(name, '-');
		bool digits = dash && dash[1];
		for (const char *p = dash ? dash + 1 : ""; *p && digits; p++)
			digits = isdigit((unsigned char)*p);
		int owner = digits ? find(w, name, (size_t)(dash - name)) : -1;
		if (owner >= 0)
			return acre_error_set(w->err, EEXIST, "name",
					      "app %s: the name of an instance of app %s", name,
					      w->apps[owner]->name);
	}
	return 0;
}

static int cycle_error(const struct walk *w, size_t from)
{
	char path[512];
	size_t o = 0, start = 0;
	while (w->stack[start] != from)
		start++;
	for (size_t i = start; i < w->depth && o < sizeof(path); i++)
		o += (size_t)snprintf(path + o, sizeof(path) - o, "%s -> ",
				      w->apps[w->stack[i]]->name);
	if (o < sizeof(path))
		snprintf(path + o, sizeof(path) - o, "%s", w->apps[from]->name);
	return acre_error_set(w->err, EINVAL, "dependencies", "app %s: dependencies: a cycle: %s",
			      w->apps[from]->name, path);
}

static int visit(struct walk *w, size_t i)
{
	if (w->color[i] == BLACK)
		return 0;
	if (w->color[i] == GREY)
		return cycle_error(w, i);
	w->color[i] = GREY;
	w->stack[w->depth++] = i;
	char *const *deps = w->apps[i]->dependencies;
	for (size_t d = 0; deps && deps[d]; d++) {
		int dep = find(w, deps[d], strlen(deps[d]));
		if (dep < 0)
			return acre_error_set(w->err, ENOENT, "dependencies",
					      "app %s: dependencies[%zu]: no app named %s",
					      w->apps[i]->name, d, deps[d]);
		int rc = visit(w, (size_t)dep);
		if (rc < 0)
			return rc;
	}
	w->depth--;
	w->color[i] = BLACK;
	if (w->order)
		w->order[w->norder++] = i;
	return 0;
}

int app_deps_check(const struct app_spec *const *apps, size_t n, size_t *order,
		   struct acre_error *err)
{
	struct walk w = {.apps = apps, .n = n, .order = order, .err = err};
	_cleanup_free_ size_t *sorted = calloc(n + 1, sizeof(size_t));
	_cleanup_free_ size_t *stack = calloc(n + 1, sizeof(size_t));
	_cleanup_free_ unsigned char *color = calloc(n + 1, 1);
	if (!sorted || !stack || !color)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	w.by_name = sorted;
	w.stack = stack;
	w.color = color;
	for (size_t i = 0; i < n; i++)
		sorted[i] = i;
	qsort_r(sorted, n, sizeof(size_t), by_name, (void *)apps);
	int rc = check_names(&w);
	/* In name order, so that the order and the error found are the same for any input order. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = visit(&w, sorted[i]);
	return rc;
}
