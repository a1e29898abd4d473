/*
 * The handle: opening the four eBPF parts (net, runq, connect, isolate) at
 * the supervisor's cgroup v2 subtree with their pins, closing it (the pins keep
 * counting), and removing the pins for good.  What is reused and what is
 * replaced across restarts is part.c's business; this file checks the
 * ground first (BTF, a cgroup v2 directory, bpffs) so that a node that
 * cannot run eBPF gets one clear sentence instead of a libbpf trace.
 */
#include "bpf_internal.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "net.skel.h"
#include "runq.skel.h"
#include "connect.skel.h"
#include "isolate.skel.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* libbpf's own messages go to the debug log; what the user needs comes back in err. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	acre_log(ACRE_LOG_DEBUG, "event=libbpf message=\"%s\"", line);
	return 0;
}

/* The subtree's directory fd and cgroup id, refusing anything but a cgroup v2 directory. */
int acre_bpf_cgroup_open(const char *path, int *fd_out, uint64_t *id, struct acre_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "opening cgroup %s: %s", path,
				      strerror(errno));
	struct statfs sfs;
	struct stat st;
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		return acre_error_set(err, errno, NULL, "examining cgroup %s: %s", path,
				      strerror(errno));
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return acre_error_set(err, EINVAL, NULL,
				      "%s is not in the cgroup v2 tree: eBPF attaches there only",
				      path);
	/* On cgroup2 the directory's inode number is the cgroup id eBPF reports. */
	*id = st.st_ino;
	*fd_out = TAKE_FD(fd);
	return 0;
}

static int check_btf(struct acre_error *err)
{
	if (access(VMLINUX_BTF, R_OK) == 0)
		return 0;
	int e = errno;
	return acre_error_set(err, e == ENOENT ? EOPNOTSUPP : e, NULL,
			      "this kernel has no BTF (%s: %s): acre's CO-RE eBPF programs need a "
			      "kernel built with CONFIG_DEBUG_INFO_BTF",
			      VMLINUX_BTF, strerror(e));
}

static int open_skeletons(struct acre_bpf *b, struct acre_error *err)
{
	b->net = net_bpf__open();
	if (b->net)
		b->runq = runq_bpf__open();
	if (b->runq)
		b->connect = connect_bpf__open();
	if (b->connect)
		b->isolate = isolate_bpf__open();
	if (!b->isolate)
		return acre_error_set(err, errno, NULL, "opening the eBPF objects: %s",
				      strerror(errno));
	return 0;
}

static int open_parts(struct acre_bpf *b, const struct acre_bpf_site *site, struct acre_error *err)
{
	struct acre_bpf_part parts[] = {
		{.name = "net", .obj = b->net->obj},
		{.name = "runq", .obj = b->runq->obj},
		{.name = "connect", .obj = b->connect->obj},
		{.name = "isolate", .obj = b->isolate->obj},
	};
	parts[0].elf = net_bpf__elf_bytes(&parts[0].elf_size);
	parts[1].elf = runq_bpf__elf_bytes(&parts[1].elf_size);
	parts[2].elf = connect_bpf__elf_bytes(&parts[2].elf_size);
	parts[3].elf = isolate_bpf__elf_bytes(&parts[3].elf_size);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(parts); i++) {
		int rc = acre_bpf_part_open(&parts[i], site, err);
		if (rc < 0)
			return rc;
	}
	b->net_fd = bpf_map__fd(b->net->maps.net_stats);
	b->class_fd = bpf_map__fd(b->net->maps.net_class);
	b->runq_fd = bpf_map__fd(b->runq->maps.runq_stats);
	b->policy_fd = bpf_map__fd(b->connect->maps.connect_policy);
	b->isolate_fd = bpf_map__fd(b->isolate->maps.isolate_devs);
	b->vips_fd = bpf_map__fd(b->connect->maps.connect_vips);
	b->slots_fd = bpf_map__fd(b->connect->maps.connect_slots);
	return acre_bpf_isolate_resume(b, err);
}

static int open_handle(struct acre_bpf *b, const char *v2_path, struct acre_error *err)
{
	int rc = check_btf(err);
	if (rc < 0)
		return rc;
	struct acre_bpf_site site = {.dir = b->pin_dir};
	_cleanup_close_ int cgroup_fd = -1;
	if ((rc = acre_bpf_cgroup_open(v2_path, &cgroup_fd, &site.cgroup_id, err)) < 0)
		return rc;
	site.cgroup_fd = cgroup_fd;
	if ((rc = acre_bpf_pins_mount(err)) < 0)
		return rc;
	/* Held until every part is settled: a second opener waits, then finds our pins. */
	_cleanup_close_ int dir_fd = -1;
	if ((rc = acre_bpf_pins_lock(b->pin_dir, &dir_fd, err)) < 0)
		return rc;
	site.dir_fd = dir_fd;
	if ((rc = open_skeletons(b, err)) < 0)
		return rc;
	if ((rc = open_parts(b, &site, err)) < 0)
		return rc;
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return acre_error_set(err, b->ncpus, NULL, "counting the possible CPUs: %s",
				      strerror(-b->ncpus));
	b->percpu = calloc((size_t)b->ncpus, sizeof(struct acre_bpf_runq_value));
	if (!b->percpu)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

int acre_bpf_open(const char *cgroup_root_name, const char *v2_subtree_path, struct acre_bpf **out,
		  struct acre_error *err)
{
	if (!cgroup_root_name || !v2_subtree_path || !out)
		return acre_error_set(err, EINVAL, NULL, "acre_bpf_open: missing argument");
	struct acre_bpf *b = calloc(1, sizeof(*b));
	if (!b)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	b->net_fd = b->class_fd = b->runq_fd = b->policy_fd = b->isolate_fd = b->vips_fd =
		b->slots_fd = -1;
	b->isolate_prog_fd[0] = b->isolate_prog_fd[1] = -1;
	int rc = acre_bpf_pins_path(cgroup_root_name, b->pin_dir, sizeof(b->pin_dir));
	if (rc < 0) {
		acre_error_set(err, rc, NULL, "cgroup root %s cannot name a pin directory: %s",
			       cgroup_root_name, strerror(-rc));
		goto fail;
	}
	libbpf_set_print(libbpf_print);
	rc = open_handle(b, v2_subtree_path, err);
	if (rc == -EPERM || rc == -EACCES)
		acre_error_prefix(err, "no permission to use eBPF (it needs root)");
	if (rc < 0)
		goto fail;
	*out = b;
	return 0;
fail:
	acre_bpf_close(b);
	return rc;
}

void acre_bpf_close(struct acre_bpf *b)
{
	if (!b)
		return;
	/* Closes fds only: links and maps live on in their pins, tc filters on their devices. */
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(b->isolate_prog_fd); i++)
		if (b->isolate_prog_fd[i] >= 0)
			close(b->isolate_prog_fd[i]);
	acre_bpf_vip_close(b);
	isolate_bpf__destroy(b->isolate);
	connect_bpf__destroy(b->connect);
	runq_bpf__destroy(b->runq);
	net_bpf__destroy(b->net);
	free(b->percpu);
	free(b);
}

const char *acre_bpf_pin_dir(const struct acre_bpf *b)
{
	return b->pin_dir;
}

/* rmdir the pin directory and its parents up to /sys/fs/bpf/acre while they are empty. */
static void remove_dirs(char *dir)
{
	size_t root_len = strlen(ACRE_BPF_PIN_ROOT);
	while (strlen(dir) >= root_len && rmdir(dir) == 0) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = 0;
	}
}

int acre_bpf_remove_pins(const char *cgroup_root_name)
{
	char dir[PATH_MAX];
	int rc = acre_bpf_pins_path(cgroup_root_name, dir, sizeof(dir));
	if (rc < 0)
		return rc;
	struct statfs sfs;
	if (statfs(ACRE_BPF_FS, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC)
		return 0; /* no bpffs, no pins */
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_EX) < 0)
		return -errno;
	rc = acre_bpf_pins_remove(fd, "");
	if (rc < 0)
		return rc;
	remove_dirs(dir);
	return 0;
}
