/*
 * Where a virtual IP's members go in connect_slots (layout.h): pure arithmetic, kept apart
 * from the map calls so a unit test can check it.  Service i owns slots
 * [i * 2 * MAX_BACKENDS, (i + 1) * 2 * MAX_BACKENDS), two halves used in turn.
 */
#ifndef ACRE_BPF_VIP_SLOTS_H
#define ACRE_BPF_VIP_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

/* Service indexes freed less than this long ago are not given out: readers may be in them. */
#define ACRE_BPF_VIP_QUARANTINE_MS 1000

/* The first slot of service index's half (0 or 1). */
uint32_t acre_bpf_vip_half_base(uint32_t index, unsigned half);
/*
 * The base for the next set of a service whose members start at current: the other half.
 * -EINVAL if current is no half's base of index.
 */
int64_t acre_bpf_vip_next_base(uint32_t index, uint32_t current);
/*
 * A service index for a new VIP among nslots: the lowest one neither used nor freed within
 * the quarantine (freed_at_ms 0: never used); failing that, the one freed longest ago.
 * -ENOSPC when all are used.
 */
int acre_bpf_vip_pick_index(const bool *used, const uint64_t *freed_at_ms, uint32_t nslots,
			    uint64_t now_ms);

#endif
