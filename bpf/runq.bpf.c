/*
 * CPU wait per slice: how long a slice's threads sat runnable on a run queue
 * before they got a CPU (run-queue latency, the noisy-neighbour signal that
 * cgroup files do not give).  The scheduler's BTF tracepoints mark both ends:
 * a task becomes runnable on sched_wakeup / sched_wakeup_new, or on
 * sched_switch when it is switched out while still runnable (preempted); it
 * stops waiting when sched_switch switches it in.  This is the method of the
 * kernel's tools/bpf/runqslower and libbpf-tools' runqlat.
 *
 * Only tasks whose v2 cgroup is a slice (has an entry in runq_stats) are
 * timestamped, in task-local storage, which the kernel frees with the task.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "bpf/layout.h"

/* The kernel lets only GPL-compatible programs call GPL-only helpers; all of acre's say GPL. */
char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACRE_BPF_MAX_SLICES);
	__type(key, __u64);
	__type(value, struct acre_bpf_runq_value);
} runq_stats SEC(".maps");

/* When the task became runnable (ns, CLOCK_MONOTONIC), 0 while it runs or sleeps. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} runq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct acre_bpf_meta);
} runq_meta SEC(".maps");

/* task_struct::state was renamed __state in 5.14. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/* The id of the task's cgroup in the v2 (default) hierarchy: what the supervisor keys on. */
static __always_inline __u64 task_cgroup_id(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

static __always_inline void enqueued(struct task_struct *t)
{
	if (BPF_CORE_READ(t, pid) == 0) /* the idle task */
		return;
	__u64 id = task_cgroup_id(t);
	if (!bpf_map_lookup_elem(&runq_stats, &id))
		return;
	__u64 *ts = bpf_task_storage_get(&runq_start, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	/*
	 * A later wakeup overwrites: a task can be woken while still queued
	 * (preempted between set_current_state() and schedule()), and taking
	 * the last mark errs towards less latency, never towards counting
	 * sleep as waiting.
	 */
	if (ts)
		*ts = bpf_ktime_get_ns();
}

static __always_inline __u32 log2_slot(__u64 us)
{
	__u32 slot = 0;
	/* Binary search over the bits; bounded, as the verifier wants. */
#pragma unroll
	for (int shift = 32; shift > 0; shift >>= 1) {
		if (us >= (1ULL << shift)) {
			us >>= shift;
			slot += shift;
		}
	}
	return slot < ACRE_BPF_LAYOUT_RUNQ_SLOTS ? slot : ACRE_BPF_LAYOUT_RUNQ_SLOTS - 1;
}

static __always_inline void running(struct task_struct *t)
{
	/* Cheap for the many tasks that have no storage: no lookup, no allocation. */
	__u64 *ts = bpf_task_storage_get(&runq_start, t, 0, 0);
	if (!ts || !*ts)
		return;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	*ts = 0;
	__u64 id = task_cgroup_id(t);
	struct acre_bpf_runq_value *v = bpf_map_lookup_elem(&runq_stats, &id);
	if (!v)
		return;
	/*
	 * Plain increments: sched_switch runs with the run queue locked and
	 * interrupts off, so nothing else on this CPU touches this copy.
	 */
	v->total_ns += delta;
	v->count++;
	v->slots[log2_slot(delta / 1000)]++;
}

/* cppcheck sees no libbpf headers (they are system headers to it): SEC is unknown. */
// cppcheck-suppress unknownMacro
SEC("tp_btf/sched_wakeup")
int BPF_PROG(runq_wakeup, struct task_struct *p)
{
	enqueued(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(runq_wakeup_new, struct task_struct *p)
{
	enqueued(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(runq_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/*
	 * prev stays on the run queue if it was preempted, or if it was still
	 * TASK_RUNNING (it yielded, or a pending signal kept it from blocking).
	 * A preempted task may show a sleeping state it set just before
	 * schedule(); it is queued all the same, hence preempt first.
	 */
	if (preempt || task_state(prev) == TASK_RUNNING)
		enqueued(prev);
	running(next);
	return 0;
}
