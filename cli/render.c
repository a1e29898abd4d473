/*
 * Values as the CLI's tables show them, in one place for every command:
 * strings that may be missing, CPUs, sizes, ages, rates and latencies, "-"
 * for what is not set and "n/a" for what a node cannot measure (never a
 * zero that would look measured); and the error object -j prints.  Pure:
 * JSON in, text out, so the unit tests read it without a daemon.
 */
#include "cli.h"

const char *render_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void render_cpus(const json_t *v, char *buf, size_t len)
{
	if (json_is_number(v))
		snprintf(buf, len, "%g", json_number_value(v));
	else
		snprintf(buf, len, "-");
}

void render_int(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "-");
}

void render_bytes(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		acre_format_size((uint64_t)json_integer_value(v), buf, len);
	else
		snprintf(buf, len, "-");
}

void render_age(const json_t *ms, char *buf, size_t len)
{
	json_int_t since = json_integer_value(ms);
	if (since <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	int64_t d = acre_now_ms() - since;
	acre_format_duration(d > 0 ? (uint64_t)d : 0, buf, len);
}

void render_rate(const json_t *bytes_per_s, char *buf, size_t len)
{
	if (!json_is_integer(bytes_per_s) || json_integer_value(bytes_per_s) < 0) {
		snprintf(buf, len, "n/a");
		return;
	}
	acre_format_rate((uint64_t)json_integer_value(bytes_per_s) * 8, buf, len);
}

void render_latency(const json_t *ns, char *buf, size_t len)
{
	if (!json_is_integer(ns)) {
		snprintf(buf, len, "n/a");
		return;
	}
	double us = (double)json_integer_value(ns) / 1000.0;
	if (us < 1000)
		snprintf(buf, len, "%.0fus", us);
	else
		snprintf(buf, len, "%.1fms", us / 1000);
}

void render_pairs(const json_t *o, char *buf, size_t len)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	buf[0] = '\0';
	json_object_foreach ((json_t *)o, k, v) {
		if (n >= len - 1)
			break;
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? "," : "", k,
				      json_is_string(v) ? json_string_value(v) : "?");
	}
	if (!n)
		snprintf(buf, len, "-");
}

/* The envelope's error object (the same code names and UTF-8 care), without the envelope. */
json_t *render_error(const struct acre_error *err)
{
	_cleanup_json_ json_t *reply = acre_proto_error(NULL, err);
	json_t *e = json_object_get(reply, "error");
	return e ? json_pack("{s:O}", "error", e) : NULL;
}
