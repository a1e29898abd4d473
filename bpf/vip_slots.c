/*
 * The slot arithmetic of virtual IPs (vip_slots.h): which half a service writes next, and which
 * service index a new VIP gets, so that no reader of a freed range sees it refilled.
 */
#include "bpf/vip_slots.h"
#include <linux/types.h>
#include "bpf/layout.h"

#include <errno.h>

uint32_t acre_bpf_vip_half_base(uint32_t index, unsigned half)
{
	return index * 2 * ACRE_BPF_VIP_MAX_BACKENDS + (half ? ACRE_BPF_VIP_MAX_BACKENDS : 0);
}

int64_t acre_bpf_vip_next_base(uint32_t index, uint32_t current)
{
	if (index >= ACRE_BPF_VIP_MAX_SERVICES)
		return -EINVAL;
	if (current == acre_bpf_vip_half_base(index, 0))
		return acre_bpf_vip_half_base(index, 1);
	if (current == acre_bpf_vip_half_base(index, 1))
		return acre_bpf_vip_half_base(index, 0);
	return -EINVAL;
}

int acre_bpf_vip_pick_index(const bool *used, const uint64_t *freed_at_ms, uint32_t nslots,
			    uint64_t now_ms)
{
	int oldest = -1;
	for (uint32_t i = 0; i < nslots; i++) {
		if (used[i])
			continue;
		uint64_t f = freed_at_ms[i];
		if (f == 0 || now_ms >= f + ACRE_BPF_VIP_QUARANTINE_MS)
			return (int)i;
		if (oldest < 0 || f < freed_at_ms[oldest])
			oldest = (int)i;
	}
	return oldest >= 0 ? oldest : -ENOSPC;
}
