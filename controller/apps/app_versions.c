/*
 * An app's versions: every change of its spec is a new numbered version,
 * kept (the newest `history` of them) so that users can see what changed
 * and a failed rollout can go back.  Whether an update is a change at all
 * is decided on the canonical JSON (equal specs print equal), and whether
 * it replaces instances on the part of it an instance runs
 * (app_spec_json_replaces): a scale is a version, not a rollout.
 */
#include "internal.h"

static void version_free(struct app_version *v)
{
	json_decref(v->spec);
	memset(v, 0, sizeof(*v));
}

const struct app_version *app_versions_latest(const struct app_versions *h)
{
	return h->n ? &h->v[h->n - 1] : NULL;
}

const struct app_version *app_versions_find(const struct app_versions *h, uint32_t number)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].number == number)
			return &h->v[i];
	return NULL;
}

int app_versions_mark_healthy(struct app_versions *h, uint32_t number)
{
	struct app_version *v = (struct app_version *)app_versions_find(h, number);
	if (!v)
		return -ENOENT;
	v->healthy = true;
	return 0;
}

const struct app_version *app_versions_rollback_target(const struct app_versions *h,
						       uint32_t failing_instance_version)
{
	for (size_t i = h->n; i-- > 0;)
		if (h->v[i].healthy && h->v[i].instance_version != failing_instance_version)
			return &h->v[i];
	return NULL;
}

/* The instances a new spec runs: those of the newest kept version it does not change. */
static uint32_t instance_version(const struct app_versions *h, const json_t *spec, uint32_t number)
{
	for (size_t i = h->n; i-- > 0;)
		if (!app_spec_json_replaces(h->v[i].spec, spec))
			return h->v[i].instance_version;
	return number;
}

/* The newest `keep`, and the newest healthy one besides. */
static void trim(struct app_versions *h, unsigned keep)
{
	size_t healthy = h->n, out = 0;
	for (size_t i = h->n; i-- > 0 && healthy == h->n;)
		if (h->v[i].healthy)
			healthy = i;
	for (size_t i = 0; i < h->n; i++) {
		if (i + keep >= h->n || i == healthy)
			h->v[out++] = h->v[i];
		else
			version_free(&h->v[i]);
	}
	h->n = out;
}

/*
 * Appends spec (taken from *j) as version last + 1, running the instances
 * of instance_version iv (0: as instance_version() decides).
 */
static int append(struct app_versions *h, json_t **j, uint32_t iv, int64_t now, unsigned history,
		  uint32_t *number, struct acre_error *err)
{
	if (h->last == UINT32_MAX)
		return acre_error_set(err, EOVERFLOW, NULL, "no version number left");
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		struct app_version *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		h->v = v;
		h->cap = cap;
	}
	uint32_t n = h->last + 1;
	h->v[h->n] = (struct app_version){
		.number = n,
		.instance_version = iv ? iv : instance_version(h, *j, n),
		.created_at = now,
		.spec = TAKE_PTR(*j),
	};
	h->n++;
	h->last = n;
	trim(h, history ? history : 1);
	*number = n;
	return 0;
}

int app_versions_add(struct app_versions *h, const struct app_spec *spec, int64_t now,
		     uint32_t *number, struct acre_error *err)
{
	const struct app_version *latest = app_versions_latest(h);
	_cleanup_json_ json_t *j = app_spec_to_json(spec);
	if (!j)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (latest && json_equal(latest->spec, j)) {
		*number = latest->number;
		return 0;
	}
	int rc = append(h, &j, 0, now, spec->history, number, err);
	return rc < 0 ? rc : 1;
}

bool app_versions_is_latest(const struct app_versions *h, const struct app_spec *spec)
{
	const struct app_version *latest = app_versions_latest(h);
	_cleanup_json_ json_t *j = latest ? app_spec_to_json(spec) : NULL;
	return j && json_equal(latest->spec, j);
}

int app_versions_restart(struct app_versions *h, unsigned history, int64_t now, uint32_t *number,
			 struct acre_error *err)
{
	const struct app_version *latest = app_versions_latest(h);
	if (!latest)
		return acre_error_set(err, ENOENT, NULL, "no version to restart");
	json_t *j = json_incref(latest->spec);
	int rc = append(h, &j, h->last + 1, now, history, number, err);
	json_decref(j);
	return rc;
}

json_t *app_versions_to_json(const struct app_versions *h)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < h->n; i++) {
		const struct app_version *v = &h->v[i];
		json_array_append_new(a, json_pack("{s:I,s:I,s:I,s:b,s:O}", "number",
						   (json_int_t)v->number, "instance_version",
						   (json_int_t)v->instance_version, "created_at",
						   (json_int_t)v->created_at, "healthy", v->healthy,
						   "spec", v->spec));
	}
	return json_pack("{s:I,s:o}", "last", (json_int_t)h->last, "versions", a);
}

static int version_from_json(const json_t *j, size_t i, uint32_t last, struct app_version *v,
			     struct acre_error *err)
{
	json_int_t number, iv, created;
	int healthy;
	json_t *spec;
	json_error_t jerr;
	if (json_unpack_ex((json_t *)j, &jerr, JSON_STRICT, "{s:I,s:I,s:I,s:b,s:o}", "number",
			   &number, "instance_version", &iv, "created_at", &created, "healthy",
			   &healthy, "spec", &spec) < 0)
		return acre_error_set(err, EINVAL, "versions", "versions[%zu]: %s", i, jerr.text);
	if (number < 1 || number > last || iv < 1 || iv > number || !json_is_object(spec))
		return acre_error_set(err, EINVAL, "versions",
				      "versions[%zu]: numbers out of order or spec not an object",
				      i);
	*v = (struct app_version){(uint32_t)number, (uint32_t)iv, created, healthy != 0,
				  json_incref(spec)};
	return 0;
}

int app_versions_from_json(const json_t *j, struct app_versions *h, struct acre_error *err)
{
	json_int_t last = 0;
	json_t *versions = NULL;
	json_error_t jerr;
	memset(h, 0, sizeof(*h));
	if (json_unpack_ex((json_t *)j, &jerr, JSON_STRICT, "{s:I,s:o}", "last", &last, "versions",
			   &versions) < 0 ||
	    !json_is_array(versions) || last < 0 || last > UINT32_MAX)
		return acre_error_set(err, EINVAL, "versions", "app versions: %s",
				      json_is_array(versions) ? jerr.text
							      : "versions must be an array");
	size_t n = json_array_size(versions);
	if (n && !(h->v = calloc(n, sizeof(*h->v))))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	h->cap = n;
	h->last = (uint32_t)last;
	for (size_t i = 0; i < n; i++) {
		int rc = version_from_json(json_array_get(versions, i), i, h->last, &h->v[i], err);
		if (rc == 0 && i && h->v[i].number <= h->v[i - 1].number) {
			version_free(&h->v[i]);
			rc = acre_error_set(err, EINVAL, "versions",
					    "versions[%zu]: numbers out of order", i);
		}
		if (rc < 0) {
			app_versions_free(h);
			return rc;
		}
		h->n = i + 1;
	}
	return 0;
}

void app_versions_free(struct app_versions *h)
{
	for (size_t i = 0; i < h->n; i++)
		version_free(&h->v[i]);
	free(h->v);
	memset(h, 0, sizeof(*h));
}
