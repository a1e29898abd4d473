/*
 * How an app is rolled out, kept and restarted: min_healthy (100% by
 * default), max_surge (1), max_unavailable (1, for drains), history (10
 * versions), the restart back-off (1 s × 1.15, at most 1 h, reset after
 * 10 min healthy) and on_partition (wait for apps with volumes, whose data
 * lives on the node; replace for the others).  A rolling update that could
 * never move — every instance must stay healthy and none may be added — is
 * refused here, before it is tried.
 */
#include "internal.h"

#define MAX_BACKOFF_MS	   (24ULL * 3600 * 1000)
#define MAX_RESET_AFTER_MS (7ULL * 24 * 3600 * 1000)
#define MAX_FACTOR_MILLI   10000

unsigned app_amount_resolve(const struct app_amount *a, unsigned instances, bool round_up,
			    bool clamp)
{
	uint64_t v = a->value;
	if (a->percent)
		v = ((uint64_t)instances * a->value + (round_up ? 99 : 0)) / 100;
	if (clamp && v > instances)
		v = instances;
	return (unsigned)v;
}

/* A count (2) or a percentage ("25%"). */
static int parse_amount(const json_t *v, const char *field, struct app_amount dflt,
			struct app_amount *out, struct acre_error *err)
{
	*out = dflt;
	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= APP_INSTANCES_MAX) {
		*out = (struct app_amount){.value = (uint32_t)json_integer_value(v)};
		return 0;
	}
	const char *s = acre_json_c_string(v);
	size_t n = s ? strlen(s) : 0;
	unsigned long pct = 0;
	bool digits = n >= 2 && n <= 4 && s[n - 1] == '%';
	for (size_t i = 0; digits && i + 1 < n; i++) {
		digits = s[i] >= '0' && s[i] <= '9';
		pct = pct * 10 + (unsigned long)(s[i] - '0');
	}
	if (!digits || pct > 100)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be a count of instances (0 to %d) or a percentage "
				      "of them (\"0%%\" to \"100%%\")",
				      field, APP_INSTANCES_MAX);
	*out = (struct app_amount){.value = (uint32_t)pct, .percent = true};
	return 0;
}

static int parse_history(const json_t *v, struct app_spec *spec, struct acre_error *err)
{
	spec->history = 10;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > APP_HISTORY_MAX)
		return acre_error_set(err, EINVAL, "history",
				      "history: must be an integer from 1 to %d (versions kept)",
				      APP_HISTORY_MAX);
	spec->history = (unsigned)json_integer_value(v);
	return 0;
}

/* 1.15 -> 1150: thousandths, so that equal specs compare equal whatever the float. */
static int parse_factor(const json_t *v, struct app_backoff *b, struct acre_error *err)
{
	double d = json_number_value(v), milli = d * 1000;
	long r = (long)(milli + 0.5);
	double off = milli - (double)r;
	if (!json_is_number(v) || d < 1 || d > MAX_FACTOR_MILLI / 1000.0 || off > 1e-6 ||
	    off < -1e-6)
		return acre_error_set(err, EINVAL, "backoff.factor",
				      "backoff.factor: must be a number from 1 to %d with at most "
				      "three decimals",
				      MAX_FACTOR_MILLI / 1000);
	b->factor_milli = (uint32_t)r;
	return 0;
}

static int parse_backoff(const json_t *j, struct app_backoff *b, struct acre_error *err)
{
	static const char *const keys[] = {"initial", "factor", "max", "reset_after", NULL};
	*b = (struct app_backoff){APP_BACKOFF_INITIAL_MS, APP_BACKOFF_FACTOR_MILLI,
				  APP_BACKOFF_MAX_MS, APP_BACKOFF_RESET_AFTER_MS};
	json_t *v;
	int rc;
	if (!j)
		return 0;
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "backoff",
				      "backoff: must be an object {\"initial\", \"factor\", "
				      "\"max\", \"reset_after\"}");
	if ((rc = acre_json_check_keys(j, "backoff.", keys, err)) < 0)
		return rc;
	if ((v = json_object_get(j, "initial")) &&
	    (rc = app_duration_parse(v, "backoff.initial", MAX_BACKOFF_MS, &b->initial_ms, err)) <
		    0)
		return rc;
	if (b->initial_ms == 0)
		return acre_error_set(err, EINVAL, "backoff.initial",
				      "backoff.initial: must be above 0");
	if ((v = json_object_get(j, "factor")) && (rc = parse_factor(v, b, err)) < 0)
		return rc;
	if ((v = json_object_get(j, "max")) &&
	    (rc = app_duration_parse(v, "backoff.max", MAX_BACKOFF_MS, &b->max_ms, err)) < 0)
		return rc;
	if (b->max_ms < b->initial_ms)
		return acre_error_set(err, EINVAL, "backoff.max",
				      "backoff.max: must be at least backoff.initial");
	if ((v = json_object_get(j, "reset_after")) &&
	    (rc = app_duration_parse(v, "backoff.reset_after", MAX_RESET_AFTER_MS,
				     &b->reset_after_ms, err)) < 0)
		return rc;
	return 0;
}

static int parse_on_partition(const json_t *v, struct app_spec *spec, struct acre_error *err)
{
	/* An instance with a volume cannot be replaced elsewhere without its data. */
	spec->on_partition = spec->nvolumes ? APP_PARTITION_WAIT : APP_PARTITION_REPLACE;
	if (!v)
		return 0;
	const char *s = acre_json_c_string(v);
	if (s && !strcmp(s, "replace"))
		spec->on_partition = APP_PARTITION_REPLACE;
	else if (s && !strcmp(s, "wait"))
		spec->on_partition = APP_PARTITION_WAIT;
	else
		return acre_error_set(err, EINVAL, "on_partition",
				      "on_partition: must be replace or wait");
	return 0;
}

/*
 * Unordered apps replace an instance by stopping it, so a rollout needs
 * either one instance allowed down or one extra allowed up.  (Ordered
 * apps replace one at a time whatever min_healthy says: see apps.h.)
 */
static int check_progress(const struct app_spec *spec, struct acre_error *err)
{
	unsigned n = spec->instances;
	unsigned min = app_amount_resolve(&spec->min_healthy, n, true, true);
	unsigned surge = app_amount_resolve(&spec->max_surge, n, true, false);
	if (spec->ordered || n == 0 || min < n || surge > 0)
		return 0;
	return acre_error_set(err, EINVAL, "max_surge",
			      "max_surge: 0 with min_healthy %u of %u instances: a rolling update "
			      "could neither stop an instance nor start an extra one; allow a "
			      "surge or lower min_healthy",
			      min, n);
}

int app_policy_parse(const json_t *json, struct app_spec *spec, struct acre_error *err)
{
	static const struct app_amount all = {100, true}, one = {1, false};
	int rc;
	if ((rc = parse_amount(json_object_get(json, "min_healthy"), "min_healthy", all,
			       &spec->min_healthy, err)) < 0 ||
	    (rc = parse_amount(json_object_get(json, "max_surge"), "max_surge", one,
			       &spec->max_surge, err)) < 0 ||
	    (rc = parse_amount(json_object_get(json, "max_unavailable"), "max_unavailable", one,
			       &spec->max_unavailable, err)) < 0 ||
	    (rc = parse_history(json_object_get(json, "history"), spec, err)) < 0 ||
	    (rc = parse_backoff(json_object_get(json, "backoff"), &spec->backoff, err)) < 0 ||
	    (rc = parse_on_partition(json_object_get(json, "on_partition"), spec, err)) < 0)
		return rc;
	return check_progress(spec, err);
}

static json_t *amount_json(const struct app_amount *a)
{
	char buf[16];
	if (!a->percent)
		return json_integer(a->value);
	snprintf(buf, sizeof(buf), "%u%%", a->value);
	return json_string(buf);
}

void app_policy_to_json(const struct app_spec *spec, json_t *out)
{
	const struct app_backoff *b = &spec->backoff;
	char initial[32], max[32], reset[32];
	app_duration_format(b->initial_ms, initial, sizeof(initial));
	app_duration_format(b->max_ms, max, sizeof(max));
	app_duration_format(b->reset_after_ms, reset, sizeof(reset));
	json_object_set_new(out, "min_healthy", amount_json(&spec->min_healthy));
	json_object_set_new(out, "max_surge", amount_json(&spec->max_surge));
	json_object_set_new(out, "max_unavailable", amount_json(&spec->max_unavailable));
	json_object_set_new(out, "history", json_integer(spec->history));
	json_object_set_new(out, "backoff",
			    json_pack("{s:s,s:f,s:s,s:s}", "initial", initial, "factor",
				      b->factor_milli / 1000.0, "max", max, "reset_after", reset));
	json_object_set_new(out, "on_partition",
			    json_string(app_on_partition_name(spec->on_partition)));
}
