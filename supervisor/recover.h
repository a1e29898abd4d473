/*
 * Start-up after a crash or an upgrade (recover.c): re-adopting the slices
 * checkpointed in the state directory, and sweeping the cgroups of none.
 */
#ifndef ACRE_SUPERVISOR_RECOVER_H
#define ACRE_SUPERVISOR_RECOVER_H

#include "supervisor.h"

int recover_slices(struct supervisor *sv);
/* Kills and removes (from a timer) the cgroups under our subtree that belong to no slice. */
void recover_sweep_cgroups(struct supervisor *sv);
void recover_sweep_free(struct supervisor *sv);

#endif
