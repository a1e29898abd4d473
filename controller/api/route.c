/*
 * The route table's matcher: a request's method and path against patterns
 * like /v1/slices/{id}/kill, segment by segment.  A segment {name} takes
 * any one non-empty segment of the path (as sent: not decoded, at most
 * API_PARAM_MAX bytes) as the parameter `name`; any other segment must be
 * equal.  A path that no pattern has is 404; a path that patterns have,
 * but not for this method, is 405, with the methods that would do.
 */
#include "internal.h"

static const struct {
	int method;
	const char *name;
} methods[] = {
	{EVHTTP_REQ_GET, "GET"},	 {EVHTTP_REQ_POST, "POST"},	{EVHTTP_REQ_PUT, "PUT"},
	{EVHTTP_REQ_PATCH, "PATCH"},	 {EVHTTP_REQ_DELETE, "DELETE"}, {EVHTTP_REQ_HEAD, "HEAD"},
	{EVHTTP_REQ_OPTIONS, "OPTIONS"},
};

const char *api_method_name(int method)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(methods); i++)
		if (methods[i].method == method)
			return methods[i].name;
	return "other";
}

const char *api_param(const struct api_params *p, const char *name)
{
	for (unsigned i = 0; i < p->n; i++)
		if (strlen(name) == p->p[i].name_len &&
		    !memcmp(p->p[i].name, name, p->p[i].name_len))
			return p->p[i].value;
	return NULL;
}

/* Whether path has the pattern's shape; its parameters in *p. */
static bool matches(const char *pattern, const char *path, struct api_params *p)
{
	p->n = 0;
	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return false;
		pattern++;
		path++;
		size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
		if (plen > 2 && pattern[0] == '{' && pattern[plen - 1] == '}') {
			if (slen == 0 || slen > API_PARAM_MAX || p->n == API_PARAMS_MAX)
				return false;
			p->p[p->n].name = pattern + 1;
			p->p[p->n].name_len = plen - 2;
			memcpy(p->p[p->n].value, path, slen);
			p->p[p->n].value[slen] = '\0';
			p->n++;
		} else if (plen != slen || memcmp(pattern, path, plen)) {
			return false;
		}
		pattern += plen;
		path += slen;
	}
	return !*pattern && !*path;
}

int api_route_match(const struct api_route *table, size_t n, int method, const char *path,
		    const struct api_route **out, struct api_params *params, char *allow,
		    size_t allow_len)
{
	struct api_params p;
	int seen = 0; /* the methods the path has */
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!matches(table[i].pattern, path, &p))
			continue;
		if (table[i].method == method) {
			*out = &table[i];
			*params = p;
			return 0;
		}
		seen |= table[i].method;
	}
	if (!seen)
		return -ENOENT;
	size_t used = 0;
	allow[0] = '\0';
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(methods); i++)
		if (seen & methods[i].method)
			used += (size_t)snprintf(allow + used,
						 used < allow_len ? allow_len - used : 0, "%s%s",
						 used ? ", " : "", methods[i].name);
	return -EOPNOTSUPP;
}
