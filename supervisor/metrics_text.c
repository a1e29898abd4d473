/*
 * Prometheus text format 0.0.4, as
 * https://prometheus.io/docs/instrumenting/exposition_formats/ describes it:
 * a label value escapes backslash, double quote and line feed; HELP text
 * escapes backslash and line feed; values are Go floats ("+Inf", "NaN").
 * Whatever a slice's owner put in its labels reaches a label value, so
 * every value goes through the escaping here and cannot end a line or a
 * label early.
 */
#include "metrics_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies s, escaping backslash and line feed, and double quote when quote is set. */
static void escaped(struct evbuffer *b, const char *s, bool quote)
{
	const char *run = s;
	for (; *s; s++) {
		const char *rep = NULL;
		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (*s == '"' && quote)
			rep = "\\\"";
		if (!rep)
			continue;
		evbuffer_add(b, run, (size_t)(s - run));
		evbuffer_add(b, rep, 2);
		run = s + 1;
	}
	evbuffer_add(b, run, (size_t)(s - run));
}

void metrics_family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s ", name);
	escaped(b, help, false);
	evbuffer_add_printf(b, "\n# TYPE %s %s\n", name, type);
}

void metrics_label_value(struct evbuffer *b, const char *value)
{
	evbuffer_add(b, "\"", 1);
	escaped(b, value ? value : "", true);
	evbuffer_add(b, "\"", 1);
}

/* name{a="x",b="y" — left open when more labels follow (a histogram's le). */
static void series(struct evbuffer *b, const char *name, const char *suffix,
		   const struct metrics_label *labels, size_t n, bool more)
{
	evbuffer_add_printf(b, "%s%s", name, suffix);
	if (!n && !more)
		return;
	evbuffer_add(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		evbuffer_add_printf(b, "%s%s=", i ? "," : "", labels[i].name);
		metrics_label_value(b, labels[i].value);
	}
	if (more && n)
		evbuffer_add(b, ",", 1);
	else if (!more)
		evbuffer_add(b, "}", 1);
}

/* The shortest text that reads back as v: 2e-06 rather than 1.9999999999999999e-06. */
static const char *number(char buf[32], double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int prec = 15; prec < 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return buf;
	}
	snprintf(buf, 32, "%.17g", v);
	return buf;
}

static void value(struct evbuffer *b, double v)
{
	char buf[32];
	evbuffer_add_printf(b, " %s\n", number(buf, v));
}

void metrics_sample(struct evbuffer *b, const char *name, const struct metrics_label *labels,
		    size_t n, double v)
{
	series(b, name, "", labels, n, false);
	value(b, v);
}

void metrics_sample_u64(struct evbuffer *b, const char *name, const struct metrics_label *labels,
			size_t n, uint64_t v)
{
	series(b, name, "", labels, n, false);
	evbuffer_add_printf(b, " %" PRIu64 "\n", v);
}

void metrics_histogram(struct evbuffer *b, const char *name, const struct metrics_label *labels,
		       size_t n, const struct metrics_histogram *h)
{
	uint64_t cum = 0;
	char buf[32];
	for (size_t i = 0; i <= h->nbounds; i++) {
		cum += h->counts[i];
		series(b, name, "_bucket", labels, n, true);
		if (i < h->nbounds)
			evbuffer_add_printf(b, "le=\"%s\"} %" PRIu64 "\n",
					    number(buf, h->bounds[i]), cum);
		else
			evbuffer_add_printf(b, "le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	series(b, name, "_sum", labels, n, false);
	value(b, h->sum);
	series(b, name, "_count", labels, n, false);
	evbuffer_add_printf(b, " %" PRIu64 "\n", cum);
}
