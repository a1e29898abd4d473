/*
 * Reading a slice's usage back from its cgroups: CPU time and throttling,
 * memory now and at peak, OOM kills, pids.  v1 and v2 name and scale these
 * differently; callers get one struct in nanoseconds and bytes.
 */
#include "cgroup_internal.h"

#include <fcntl.h>
#include <inttypes.h>

static ssize_t read_file(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl,
			 const char *file, char *buf, size_t len)
{
	int hi = cg->sys->hier_of[ctl];
	if (hi < 0)
		return -ENOENT;
	char rel[ACRE_NAME_MAX + 64];
	snprintf(rel, sizeof(rel), "%s/%s", cg->name, file);
	int fd = openat(cg->sys->h[hi].root_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return n;
}

/* A single number, or "max" (v2's unlimited) as ACRE_STAT_NONE. */
static uint64_t read_u64(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl,
			 const char *file)
{
	char buf[64];
	if (read_file(cg, ctl, file, buf, sizeof(buf)) <= 0 || strncmp(buf, "max", 3) == 0)
		return ACRE_STAT_NONE;
	return strtoull(buf, NULL, 10);
}

/* The value of `key` in the text of a flat-keyed file such as cpu.stat or memory.events. */
static uint64_t find_key(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return strtoull(line + klen + 1, NULL, 10);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return ACRE_STAT_NONE;
}

static uint64_t read_key(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl,
			 const char *file, const char *key)
{
	char buf[2048];
	if (read_file(cg, ctl, file, buf, sizeof(buf)) <= 0)
		return ACRE_STAT_NONE;
	return find_key(buf, key);
}

static bool is_v2(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl)
{
	return cg->sys->h[cg->sys->hier_of[ctl]].v2;
}

static uint64_t zero_if_none(uint64_t v)
{
	return v == ACRE_STAT_NONE ? 0 : v;
}

uint64_t acre_cgroup_oom_kills(const struct acre_cgroup *cg)
{
	if (is_v2(cg, ACRE_CG_MEMORY))
		return zero_if_none(read_key(cg, ACRE_CG_MEMORY, "memory.events", "oom_kill"));
	return zero_if_none(read_key(cg, ACRE_CG_MEMORY, "memory.oom_control", "oom_kill"));
}

int acre_cgroup_read_stats(const struct acre_cgroup *cg, struct acre_cgroup_stats *st)
{
	/* v1 reports "no limit" as the largest page-aligned signed value. */
	const uint64_t v1_unlimited = 0x7FFFFFFFFFFFF000ULL;
	char cpu_stat[2048];
	bool v2_cpu = is_v2(cg, ACRE_CG_CPU);
	if (read_file(cg, ACRE_CG_CPU, "cpu.stat", cpu_stat, sizeof(cpu_stat)) <= 0)
		cpu_stat[0] = '\0';
	st->cpu_nr_throttled = zero_if_none(find_key(cpu_stat, "nr_throttled"));
	if (v2_cpu) {
		st->cpu_usage_ns = zero_if_none(find_key(cpu_stat, "usage_usec")) * 1000;
		st->cpu_throttled_ns = zero_if_none(find_key(cpu_stat, "throttled_usec")) * 1000;
	} else {
		st->cpu_usage_ns = zero_if_none(read_u64(cg, ACRE_CG_CPUACCT, "cpuacct.usage"));
		st->cpu_throttled_ns = zero_if_none(find_key(cpu_stat, "throttled_time"));
	}
	if (is_v2(cg, ACRE_CG_MEMORY)) {
		st->memory_current = zero_if_none(read_u64(cg, ACRE_CG_MEMORY, "memory.current"));
		st->memory_peak = read_u64(cg, ACRE_CG_MEMORY, "memory.peak");
		st->memory_limit = read_u64(cg, ACRE_CG_MEMORY, "memory.max");
	} else {
		st->memory_current =
			zero_if_none(read_u64(cg, ACRE_CG_MEMORY, "memory.usage_in_bytes"));
		st->memory_peak = read_u64(cg, ACRE_CG_MEMORY, "memory.max_usage_in_bytes");
		st->memory_limit = read_u64(cg, ACRE_CG_MEMORY, "memory.limit_in_bytes");
		if (st->memory_limit >= v1_unlimited)
			st->memory_limit = ACRE_STAT_NONE;
	}
	st->oom_kills = acre_cgroup_oom_kills(cg);
	st->pids_current = zero_if_none(read_u64(cg, ACRE_CG_PIDS, "pids.current"));
	st->pids_limit = read_u64(cg, ACRE_CG_PIDS, "pids.max");
	return 0;
}
