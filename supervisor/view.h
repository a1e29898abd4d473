/*
 * Slices as the protocols show them (view.c), and their usage as `slice
 * stat` text (view_stats.c, written straight into the reply).
 */
#ifndef ACRE_SUPERVISOR_VIEW_H
#define ACRE_SUPERVISOR_VIEW_H

#include "slice.h"

json_t *view_slice_summary(const struct slice *s);
/* {"status", "ready", "failures", "reason", "changed_at"}; NULL for a slice without checks. */
json_t *view_health(const struct slice *s);
json_t *view_slice_detail(const struct slice *s);
/* How a slice ended, or null while it has not. */
json_t *view_exit(const struct acre_exit *e);
/* The outcome a client waiting on the slice gets (a foreground run exits with it). */
json_t *view_slice_result(const struct slice *s);
/* One slice's usage as JSON text; detail adds the run-queue histogram. */
void view_stats_append(struct slice *s, bool detail, bool first, struct evbuffer *b);

#endif
