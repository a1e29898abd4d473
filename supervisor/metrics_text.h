/*
 * Prometheus text exposition format 0.0.4 (metrics_text.c): families with
 * their HELP and TYPE lines, samples with labels escaped as the format
 * asks, and histograms from per-bucket counts.  Pure: it writes into an
 * evbuffer and touches nothing else, so tests/unit/test_metrics_text.c
 * runs it without a supervisor.
 */
#ifndef ACRE_SUPERVISOR_METRICS_TEXT_H
#define ACRE_SUPERVISOR_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <event2/buffer.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, ours */
	const char *value; /* any UTF-8; NULL is written as "" */
};

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void metrics_family(struct evbuffer *b, const char *name, const char *type, const char *help);
/* A label value between quotes: backslash, double quote and newline escaped. */
void metrics_label_value(struct evbuffer *b, const char *value);
/* name{labels} value, one line; n may be 0. */
void metrics_sample(struct evbuffer *b, const char *name, const struct metrics_label *labels,
		    size_t n, double value);
/* The same with an integer, printed exactly (a double would round above 2^53). */
void metrics_sample_u64(struct evbuffer *b, const char *name, const struct metrics_label *labels,
			size_t n, uint64_t value);

/*
 * A histogram's series: name_bucket{labels,le="bound"} for each of the
 * nbounds ascending upper bounds and le="+Inf", then name_sum and
 * name_count.  counts[i] (i < nbounds) counts observations at most
 * bounds[i] and above the bound before; counts[nbounds] those above the
 * last bound.  The buckets are written cumulative, and the count is their
 * total, so the +Inf bucket and _count always agree.
 */
struct metrics_histogram {
	const double *bounds;
	const uint64_t *counts; /* nbounds + 1 of them */
	size_t nbounds;
	double sum;
};
void metrics_histogram(struct evbuffer *b, const char *name, const struct metrics_label *labels,
		       size_t n, const struct metrics_histogram *h);

#endif
