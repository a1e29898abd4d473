/*
 * The restart back-off: a failed instance waits initial × factor^n before
 * it starts again (1 s × 1.15^n by default, the curve Marathon made
 * familiar), at most max (1 h), so a crash loop costs the node little and
 * a fixed dependency is picked up within the hour.  n counts failures
 * since the instance was last healthy for reset_after (10 min): a task
 * that ran well for a while and then fails starts again at once.
 */
#include "internal.h"

uint64_t app_backoff_delay_ms(const struct app_backoff *b, unsigned n)
{
	double d = (double)b->initial_ms, f = b->factor_milli / 1000.0;
	/* Stops at the cap: n may be any count, and the factor may be 1. */
	for (unsigned i = 0; i < n && d < (double)b->max_ms && f > 1; i++)
		d *= f;
	if (d >= (double)b->max_ms)
		return b->max_ms;
	return (uint64_t)(d + 0.5);
}

void app_restarts_healthy(struct app_restarts *r, int64_t now_ms)
{
	if (r->healthy)
		return;
	r->healthy = true;
	r->healthy_since_ms = now_ms;
}

uint64_t app_restarts_failed(const struct app_backoff *b, struct app_restarts *r, int64_t now_ms)
{
	if (r->healthy && now_ms - r->healthy_since_ms >= (int64_t)b->reset_after_ms)
		r->n = 0;
	uint64_t delay = app_backoff_delay_ms(b, r->n);
	if (r->n < UINT32_MAX)
		r->n++;
	r->healthy = false;
	r->not_before_ms = now_ms + (int64_t)delay;
	return delay;
}
