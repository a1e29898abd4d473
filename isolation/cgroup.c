/*
 * One slice's cgroups: created under the supervisor's subtree in every
 * hierarchy that holds a controller acre uses, limited from the spec, and
 * removed with the slice.  Files are reached with openat() from the
 * subtree's directory fds, so no path outside the subtree is ever built.
 */
#include "cgroup_internal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

/* Writes a value to <slice>/<file> in the hierarchy of `ctl`. */
static int write_file(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl,
		      const char *file, const char *value, struct acre_error *err)
{
	const struct cg_hierarchy *h = &cg->sys->h[cg->sys->hier_of[ctl]];
	char rel[ACRE_NAME_MAX + 64];
	snprintf(rel, sizeof(rel), "%s/%s", cg->name, file);
	_cleanup_close_ int fd = openat(h->root_fd, rel, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		return acre_error_set(err, errno, NULL, "writing %s to %s/%s/%s: %s", value,
				      h->mount, cg->sys->root, rel, strerror(errno));
	return 0;
}

static bool has_file(const struct acre_cgroup *cg, enum acre_cgroup_controller ctl,
		     const char *file)
{
	const struct cg_hierarchy *h = &cg->sys->h[cg->sys->hier_of[ctl]];
	char rel[ACRE_NAME_MAX + 64];
	snprintf(rel, sizeof(rel), "%s/%s", cg->name, file);
	return faccessat(h->root_fd, rel, F_OK, 0) == 0;
}

static int read_id(struct acre_cgroup *cg)
{
	int hi = cg->sys->hier_of[ACRE_CG_UNIFIED];
	if (hi < 0)
		return 0;
	struct stat st;
	if (fstatat(cg->sys->h[hi].root_fd, cg->name, &st, 0) < 0)
		return -errno;
	/* On cgroup2 the directory's inode number is the cgroup id eBPF sees. */
	cg->id = st.st_ino;
	return 0;
}

static struct acre_cgroup *cgroup_new(struct acre_cgroup_system *sys, const char *name)
{
	struct acre_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return NULL;
	cg->sys = sys;
	snprintf(cg->name, sizeof(cg->name), "%s", name);
	for (int i = 0; i < CG_STAT_COUNT; i++)
		cg->stat_fd[i] = -1;
	return cg;
}

int acre_cgroup_create(struct acre_cgroup_system *sys, const char *name, struct acre_cgroup **out,
		       struct acre_error *err)
{
	if (!acre_slice_name_valid(name))
		return acre_error_set(err, EINVAL, "name", "invalid cgroup name %s", name);
	struct acre_cgroup *cg = cgroup_new(sys, name);
	if (!cg)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	size_t made = 0;
	for (; made < sys->nh; made++) {
		struct cg_hierarchy *h = &sys->h[made];
		if (h->root_fd < 0)
			continue;
		if (mkdirat(h->root_fd, name, 0755) < 0) {
			int e = errno;
			acre_error_set(err, e, NULL, "creating cgroup %s/%s/%s: %s", h->mount,
				       sys->root, name, strerror(e));
			goto undo;
		}
	}
	if (read_id(cg) < 0) {
		acre_error_set(err, errno, NULL, "reading the id of cgroup %s: %s", name,
			       strerror(errno));
		goto undo;
	}
	*out = cg;
	return 0;
undo:
	/* Only the directories this call made; they are empty. */
	while (made-- > 0)
		if (sys->h[made].root_fd >= 0)
			unlinkat(sys->h[made].root_fd, name, AT_REMOVEDIR);
	free(cg);
	return -err->code;
}

int acre_cgroup_open(struct acre_cgroup_system *sys, const char *name, struct acre_cgroup **out,
		     struct acre_error *err)
{
	struct acre_cgroup *cg = cgroup_new(sys, name);
	if (!cg)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	read_id(cg);
	*out = cg;
	return 0;
}

int acre_cgroup_open_subtree(struct acre_cgroup_system *sys, struct acre_cgroup **out,
			     struct acre_error *err)
{
	/* Paths are the name under each hierarchy's subtree fd: "." is the subtree. */
	return acre_cgroup_open(sys, ".", out, err);
}

void acre_cgroup_free(struct acre_cgroup *cg)
{
	if (!cg)
		return;
	for (int i = 0; i < CG_STAT_COUNT; i++)
		if (cg->stat_fd[i] >= 0)
			close(cg->stat_fd[i]);
	free(cg);
}

const char *acre_cgroup_name(const struct acre_cgroup *cg)
{
	return cg->name;
}

uint64_t acre_cgroup_id(const struct acre_cgroup *cg)
{
	return cg->id;
}

int acre_cgroup_v2_fd(const struct acre_cgroup *cg)
{
	int hi = cg->sys->hier_of[ACRE_CG_UNIFIED];
	if (hi < 0)
		return -1;
	return openat(cg->sys->h[hi].root_fd, cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int set_cpu(struct acre_cgroup *cg, uint32_t milli, struct acre_error *err)
{
	char v[64];
	const uint64_t period = 100000;
	uint64_t quota = (uint64_t)milli * period / 1000;
	if (quota < 1000)
		quota = 1000; /* the kernel's minimum quota is 1 ms */
	if (cg->sys->h[cg->sys->hier_of[ACRE_CG_CPU]].v2) {
		snprintf(v, sizeof(v), "%llu %llu", (unsigned long long)quota,
			 (unsigned long long)period);
		int rc = write_file(cg, ACRE_CG_CPU, "cpu.max", v, err);
		if (rc < 0)
			return rc;
		/* Weight follows the share: one CPU is the default weight of 100. */
		uint32_t weight = milli / 10;
		snprintf(v, sizeof(v), "%u", weight < 1 ? 1 : weight > 10000 ? 10000 : weight);
		return write_file(cg, ACRE_CG_CPU, "cpu.weight", v, err);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)period);
	int rc = write_file(cg, ACRE_CG_CPU, "cpu.cfs_period_us", v, err);
	if (rc < 0)
		return rc;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)quota);
	if ((rc = write_file(cg, ACRE_CG_CPU, "cpu.cfs_quota_us", v, err)) < 0)
		return rc;
	uint64_t shares = (uint64_t)milli * 1024 / 1000;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(shares < 2 ? 2 : shares));
	return write_file(cg, ACRE_CG_CPU, "cpu.shares", v, err);
}

static int set_memory(struct acre_cgroup *cg, uint64_t bytes, struct acre_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%llu", (unsigned long long)bytes);
	if (cg->sys->h[cg->sys->hier_of[ACRE_CG_MEMORY]].v2) {
		int rc = write_file(cg, ACRE_CG_MEMORY, "memory.max", v, err);
		/* No swap beyond the limit; the file exists only with swap accounting. */
		if (rc == 0 && has_file(cg, ACRE_CG_MEMORY, "memory.swap.max"))
			rc = write_file(cg, ACRE_CG_MEMORY, "memory.swap.max", "0", err);
		return rc;
	}
	int rc = write_file(cg, ACRE_CG_MEMORY, "memory.limit_in_bytes", v, err);
	if (rc < 0)
		return rc;
	/* memory+swap equal to memory means no swap; without swap accounting, don't swap. */
	if (has_file(cg, ACRE_CG_MEMORY, "memory.memsw.limit_in_bytes"))
		return write_file(cg, ACRE_CG_MEMORY, "memory.memsw.limit_in_bytes", v, err);
	return write_file(cg, ACRE_CG_MEMORY, "memory.swappiness", "0", err);
}

int acre_cgroup_set_limits(struct acre_cgroup *cg, const struct acre_slice_resources *res,
			   struct acre_error *err)
{
	int rc = 0;
	if (res->cpus_milli)
		rc = set_cpu(cg, res->cpus_milli, err);
	if (rc == 0 && res->memory)
		rc = set_memory(cg, res->memory, err);
	if (rc == 0 && res->pids) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)res->pids);
		rc = write_file(cg, ACRE_CG_PIDS, "pids.max", v, err);
	}
	return rc;
}

int acre_cgroup_enter_v1(const struct acre_cgroup *cg)
{
	const struct acre_cgroup_system *sys = cg->sys;
	for (size_t i = 0; i < sys->nh; i++) {
		const struct cg_hierarchy *h = &sys->h[i];
		if (h->v2 || h->root_fd < 0)
			continue;
		char rel[ACRE_NAME_MAX + 32];
		snprintf(rel, sizeof(rel), "%s/cgroup.procs", cg->name);
		int fd = openat(h->root_fd, rel, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* "0" is the writer itself. */
		ssize_t n = write(fd, "0", 1);
		int e = errno;
		close(fd);
		if (n < 0)
			return -e;
	}
	return 0;
}

/* Calls fn(pid) for every pid listed in the slice's cgroup.procs of hierarchy h. */
static int for_each_pid(const struct acre_cgroup *cg, const struct cg_hierarchy *h,
			void (*fn)(pid_t, void *), void *ud)
{
	char rel[ACRE_NAME_MAX + 32];
	snprintf(rel, sizeof(rel), "%s/cgroup.procs", cg->name);
	int fd = openat(h->root_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (fn)
			fn((pid_t)pid, ud);
		n++;
	}
	fclose(f);
	return n;
}

static void kill_pid(pid_t pid, void *ud)
{
	int *count = ud;
	/* A pidfd pins the process, so the signal cannot hit a recycled pid. */
	int pfd = pidfd_open(pid, 0);
	if (pfd >= 0) {
		if (pidfd_send_signal(pfd, SIGKILL, NULL, 0) == 0)
			(*count)++;
		close(pfd);
	}
}

int acre_cgroup_kill_all(struct acre_cgroup *cg)
{
	int count = 0;
	for (size_t i = 0; i < cg->sys->nh; i++) {
		const struct cg_hierarchy *h = &cg->sys->h[i];
		if (h->root_fd < 0)
			continue;
		if (h->v2) {
			char rel[ACRE_NAME_MAX + 32];
			snprintf(rel, sizeof(rel), "%s/cgroup.kill", cg->name);
			int fd = openat(h->root_fd, rel, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				bool ok = write(fd, "1", 1) == 1;
				close(fd);
				if (ok) {
					count += for_each_pid(cg, h, NULL, NULL);
					continue;
				}
			}
		}
		for_each_pid(cg, h, kill_pid, &count);
	}
	return count;
}

bool acre_cgroup_is_empty(struct acre_cgroup *cg)
{
	for (size_t i = 0; i < cg->sys->nh; i++) {
		const struct cg_hierarchy *h = &cg->sys->h[i];
		if (h->root_fd >= 0 && for_each_pid(cg, h, NULL, NULL) > 0)
			return false;
	}
	return true;
}

int acre_cgroup_remove(struct acre_cgroup *cg, struct acre_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < cg->sys->nh; i++) {
		const struct cg_hierarchy *h = &cg->sys->h[i];
		if (h->root_fd < 0)
			continue;
		if (unlinkat(h->root_fd, cg->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			rc = acre_error_set(err, errno, NULL, "removing cgroup %s/%s/%s: %s",
					    h->mount, cg->sys->root, cg->name, strerror(errno));
		}
	}
	return rc;
}
