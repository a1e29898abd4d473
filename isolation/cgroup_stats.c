/*
 * Reading a slice's usage back from its cgroups: CPU time and throttling,
 * memory now, at peak and by kind, OOM kills, pids.  v1 and v2 name and scale these
 * differently; callers get one struct in nanoseconds and bytes.  `acre slice
 * stat` reads every slice at once, so the files stay open and each read is
 * a single pread(2) at offset 0, which makes kernfs generate them afresh.
 */
#include "cgroup_internal.h"

#include <fcntl.h>

static const struct {
	enum acre_cgroup_controller ctl;
	const char *v1, *v2;
} stat_files[CG_STAT_COUNT] = {
	[CG_STAT_CPU] = {ACRE_CG_CPU, "cpu.stat", "cpu.stat"},
	[CG_STAT_CPUACCT] = {ACRE_CG_CPUACCT, "cpuacct.usage", NULL},
	[CG_STAT_MEM_CURRENT] = {ACRE_CG_MEMORY, "memory.usage_in_bytes", "memory.current"},
	[CG_STAT_MEM_PEAK] = {ACRE_CG_MEMORY, "memory.max_usage_in_bytes", "memory.peak"},
	[CG_STAT_MEM_EVENTS] = {ACRE_CG_MEMORY, "memory.oom_control", "memory.events"},
	[CG_STAT_PIDS] = {ACRE_CG_PIDS, "pids.current", "pids.current"},
	[CG_STAT_MEM_STAT] = {ACRE_CG_MEMORY, "memory.stat", "memory.stat"},
	[CG_STAT_MEM_KMEM] = {ACRE_CG_MEMORY, "memory.kmem.usage_in_bytes", NULL},
};

static bool is_v2(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl)
{
	return cg->sys->h[cg->sys->hier_of[ctl]].v2;
}

static ssize_t read_stat(struct acre_cgroup *cg, enum cg_stat_file f, char *buf, size_t len)
{
	enum acre_cgroup_controller ctl = stat_files[f].ctl;
	int hi = cg->sys->hier_of[ctl];
	const char *file = is_v2(cg, ctl) ? stat_files[f].v2 : stat_files[f].v1;
	if (hi < 0 || !file)
		return -ENOENT;
	if (cg->stat_fd[f] < 0) {
		char rel[ACRE_NAME_MAX + 64];
		snprintf(rel, sizeof(rel), "%s/%s", cg->name, file);
		cg->stat_fd[f] = openat(cg->sys->h[hi].root_fd, rel, O_RDONLY | O_CLOEXEC);
		if (cg->stat_fd[f] < 0)
			return -errno;
	}
	ssize_t n = pread(cg->stat_fd[f], buf, len - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* A single number, or "max" (v2's unlimited) as ACRE_STAT_NONE. */
static uint64_t stat_u64(struct acre_cgroup *cg, enum cg_stat_file f)
{
	char buf[64];
	if (read_stat(cg, f, buf, sizeof(buf)) <= 0 || strncmp(buf, "max", 3) == 0)
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

static uint64_t zero_if_none(uint64_t v)
{
	return v == ACRE_STAT_NONE ? 0 : v;
}

uint64_t acre_cgroup_oom_kills(struct acre_cgroup *cg)
{
	char buf[1024];
	if (read_stat(cg, CG_STAT_MEM_EVENTS, buf, sizeof(buf)) <= 0)
		return 0;
	return zero_if_none(find_key(buf, "oom_kill"));
}

int acre_cgroup_read_stats(struct acre_cgroup *cg, struct acre_cgroup_stats *st)
{
	char cpu[2048];
	if (read_stat(cg, CG_STAT_CPU, cpu, sizeof(cpu)) <= 0)
		cpu[0] = '\0';
	st->cpu_nr_throttled = zero_if_none(find_key(cpu, "nr_throttled"));
	if (is_v2(cg, ACRE_CG_CPU)) {
		st->cpu_usage_ns = zero_if_none(find_key(cpu, "usage_usec")) * 1000;
		st->cpu_throttled_ns = zero_if_none(find_key(cpu, "throttled_usec")) * 1000;
	} else {
		st->cpu_usage_ns = zero_if_none(stat_u64(cg, CG_STAT_CPUACCT));
		st->cpu_throttled_ns = zero_if_none(find_key(cpu, "throttled_time"));
	}
	st->memory_current = zero_if_none(stat_u64(cg, CG_STAT_MEM_CURRENT));
	st->memory_peak = stat_u64(cg, CG_STAT_MEM_PEAK);
	st->oom_kills = acre_cgroup_oom_kills(cg);
	st->pids_current = zero_if_none(stat_u64(cg, CG_STAT_PIDS));
	return 0;
}

int acre_cgroup_read_memory_kinds(struct acre_cgroup *cg, struct acre_cgroup_memory_kinds *mk)
{
	char text[8192];
	*mk = (struct acre_cgroup_memory_kinds){ACRE_STAT_NONE, ACRE_STAT_NONE, ACRE_STAT_NONE,
						ACRE_STAT_NONE};
	ssize_t n = read_stat(cg, CG_STAT_MEM_STAT, text, sizeof(text));
	if (n < 0)
		return (int)n;
	if (is_v2(cg, ACRE_CG_MEMORY)) {
		mk->anon = find_key(text, "anon");
		mk->file = find_key(text, "file");
		mk->kernel = find_key(text, "kernel");
		mk->slab = find_key(text, "slab");
	} else {
		/* The total_ lines count the cgroup's descendants too, as the v2 file does. */
		mk->anon = find_key(text, "total_rss");
		mk->file = find_key(text, "total_cache");
		mk->kernel = stat_u64(cg, CG_STAT_MEM_KMEM);
	}
	return 0;
}
