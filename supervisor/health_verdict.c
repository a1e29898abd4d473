/*
 * The verdict of a slice's checks from each check's standing (rules in
 * health_verdict.h), as Docker's and Kubernetes' probes give theirs.
 */
#include "health_verdict.h"

void health_standing_record(struct health_standing *st, bool passed, uint64_t age_ms)
{
	if (passed) {
		st->failures = 0;
		st->passed_once = true;
	} else if (st->passed_once || age_ms >= st->check->grace_ms) {
		st->failures++;
	}
}

void health_verdict(const struct health_standing *st, size_t n, enum acre_health *health,
		    bool *ready, unsigned *failures)
{
	bool all_passed = true, failed = false, any = false;
	*ready = true;
	*failures = 0;
	for (size_t i = 0; i < n; i++) {
		const struct health_standing *s = &st[i];
		bool down = s->failures >= s->check->failures;
		if (s->failures > *failures)
			*failures = s->failures;
		if (s->readiness) {
			*ready = *ready && s->passed_once && !down;
			continue;
		}
		any = true;
		all_passed = all_passed && s->passed_once;
		failed = failed || down;
	}
	*health = !any	       ? ACRE_HEALTH_NONE
		  : failed     ? ACRE_HEALTH_UNHEALTHY
		  : all_passed ? ACRE_HEALTH_HEALTHY
			       : ACRE_HEALTH_STARTING;
}
