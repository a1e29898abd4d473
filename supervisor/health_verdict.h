/*
 * What a slice's checks add up to (health_verdict.c), apart from running
 * them: pure code, unit-tested (tests/unit/test_health_verdict.c).
 *
 *  - health: starting until every health check has passed once; unhealthy
 *    once any has failed `failures` times in a row; healthy again at its
 *    next pass.  Failures within `grace` of the start of the slice's run do
 *    not count until the check has first passed (a server still starting).
 *  - ready: every readiness check has passed, and none has failed
 *    `failures` times in a row since; true when there is none.
 */
#ifndef ACRE_SUPERVISOR_HEALTH_VERDICT_H
#define ACRE_SUPERVISOR_HEALTH_VERDICT_H

#include "common/common.h"

/* One check's standing in the present run of its slice. */
struct health_standing {
	const struct acre_check *check;
	bool readiness;
	unsigned failures; /* counted, in a row */
	bool passed_once;
};

/* One run's result, age_ms after the slice's run began. */
void health_standing_record(struct health_standing *st, bool passed, uint64_t age_ms);
/* The slice's verdict; failures: the most in a row of any check. */
void health_verdict(const struct health_standing *st, size_t n, enum acre_health *health,
		    bool *ready, unsigned *failures);

#endif
