/*
 * Seccomp filters for slices, built with libseccomp once and reused: the
 * supervisor compiles the default profile at start and keeps the BPF
 * program; a launch only hands it to the kernel.  Refused calls answer
 * EPERM, so programs see a permission error rather than a missing kernel
 * feature.  The one exception is clone3, whose flags live in memory a filter
 * cannot read: it answers ENOSYS so that the C library falls back to clone,
 * whose flags the filter does check.
 */
#include "isolation.h"
#include "seccomp_internal.h"

#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

/*
 * Everything Docker's default profile refuses to a container without
 * capabilities, plus io_uring (which bypasses this filter for the calls it
 * submits) and the new mount API.  Names unknown to an architecture are
 * skipped there.
 */
static const char *const default_denied[] = {
	"acct",
	"add_key",
	"bpf",
	"clock_adjtime",
	"clock_settime",
	"create_module",
	"delete_module",
	"fanotify_init",
	"finit_module",
	"fsconfig",
	"fsmount",
	"fsopen",
	"fspick",
	"get_kernel_syms",
	"get_mempolicy",
	"init_module",
	"io_uring_enter",
	"io_uring_register",
	"io_uring_setup",
	"ioperm",
	"iopl",
	"kcmp",
	"kexec_file_load",
	"kexec_load",
	"keyctl",
	"lookup_dcookie",
	"mbind",
	"migrate_pages",
	"mount",
	"mount_setattr",
	"move_mount",
	"move_pages",
	"name_to_handle_at",
	"nfsservctl",
	"open_by_handle_at",
	"open_tree",
	"perf_event_open",
	"pidfd_getfd",
	"pivot_root",
	"process_madvise",
	"process_vm_readv",
	"process_vm_writev",
	"ptrace",
	"query_module",
	"quotactl",
	"quotactl_fd",
	"reboot",
	"request_key",
	"set_mempolicy",
	"set_mempolicy_home_node",
	"setdomainname",
	"sethostname",
	"setns",
	"settimeofday",
	"stime",
	"swapoff",
	"swapon",
	"_sysctl",
	"sysfs",
	"syslog",
	"umount",
	"umount2",
	"uselib",
	"userfaultfd",
	"ustat",
	"vhangup",
	"vm86",
	"vm86old",
};

/* Namespace flags, refused to clone and unshare whatever else the call asks. */
static const uint64_t namespace_flags[] = {
	CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID,	CLONE_NEWNET,
#ifdef CLONE_NEWTIME
	CLONE_NEWTIME,
#endif
};

/* personality(2) flags that switch off the task's own exploit mitigations. */
static const uint64_t personality_flags[] = {
	0x0040000 /* ADDR_NO_RANDOMIZE */, 0x0080000 /* FDPIC_FUNCPTRS */,
	0x0100000 /* MMAP_PAGE_ZERO */,	   0x0200000 /* ADDR_COMPAT_LAYOUT */,
	0x0400000 /* READ_IMPLIES_EXEC */, 0x0800000 /* ADDR_LIMIT_32BIT */,
	0x8000000 /* ADDR_LIMIT_3GB */,
};

static int deny_masked(scmp_filter_ctx ctx, const char *name, unsigned arg, uint64_t bit)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	struct scmp_arg_cmp cmp = {
		.arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = bit, .datum_b = bit};
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
}

static int add_default_rules(scmp_filter_ctx ctx)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ACRE_ARRAY_SIZE(default_denied); i++) {
		int nr = seccomp_syscall_resolve_name(default_denied[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	for (size_t i = 0; rc == 0 && i < ACRE_ARRAY_SIZE(namespace_flags); i++) {
		rc = deny_masked(ctx, "unshare", 0, namespace_flags[i]);
		/* clone's low byte is the exit signal, so CLONE_NEWTIME cannot be asked there. */
		if (rc == 0 && namespace_flags[i] > 0xff)
			rc = deny_masked(ctx, "clone", 0, namespace_flags[i]);
	}
	for (size_t i = 0; rc == 0 && i < ACRE_ARRAY_SIZE(personality_flags); i++)
		rc = deny_masked(ctx, "personality", 0, personality_flags[i]);
	if (rc == 0) {
		int nr = seccomp_syscall_resolve_name("clone3");
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	}
	/*
	 * TIOCSTI pushes bytes into a terminal's input: a foreground slice holds
	 * the admin's terminal, so it could type commands into the admin's shell.
	 */
	if (rc == 0) {
		struct scmp_arg_cmp cmp = {.arg = 1,
					   .op = SCMP_CMP_MASKED_EQ,
					   .datum_a = 0xffffffffu,
					   .datum_b = TIOCSTI};
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &cmp);
	}
	return rc;
}

/* The native architecture plus the 32-bit ABIs an x86-64 kernel also accepts. */
int seccomp_add_arches(scmp_filter_ctx ctx)
{
	uint32_t native = seccomp_arch_native();
	if (native == SCMP_ARCH_X86_64) {
		int rc = seccomp_arch_add(ctx, SCMP_ARCH_X86);
		if (rc == 0 || rc == -EEXIST)
			rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
		return rc == -EEXIST ? 0 : rc;
	}
	return 0;
}

int seccomp_filter_export(scmp_filter_ctx ctx, struct acre_seccomp_filter **out,
			  struct acre_error *err)
{
	_cleanup_close_ int fd = memfd_create("acre-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "exporting seccomp filter: %s",
				      strerror(errno));
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "exporting seccomp filter: %s",
				      strerror(-rc));
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0)
		return acre_error_set(err, EINVAL, NULL, "exporting seccomp filter: bad size");
	struct acre_seccomp_filter *f = calloc(1, sizeof(*f));
	if (f)
		f->insns = malloc((size_t)size);
	if (!f || !f->insns) {
		free(f);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	if (pread(fd, f->insns, (size_t)size, 0) != size) {
		acre_seccomp_filter_free(f);
		return acre_error_set(err, EIO, NULL, "reading back seccomp filter");
	}
	f->len = (unsigned short)((size_t)size / sizeof(struct sock_filter));
	*out = f;
	return 0;
}

int acre_seccomp_compile_default(struct acre_seccomp_filter **out, struct acre_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return acre_error_set(err, ENOMEM, NULL, "creating seccomp filter");
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_add_arches(ctx);
	if (rc == 0)
		rc = add_default_rules(ctx);
	if (rc < 0) {
		seccomp_release(ctx);
		return acre_error_set(err, -rc, NULL, "building the default seccomp filter: %s",
				      strerror(-rc));
	}
	rc = seccomp_filter_export(ctx, out, err);
	seccomp_release(ctx);
	return rc;
}

void acre_seccomp_filter_free(struct acre_seccomp_filter *f)
{
	if (!f)
		return;
	free(f->insns);
	free(f);
}

const void *acre_seccomp_program(const struct acre_seccomp_filter *f, size_t *len)
{
	*len = (size_t)f->len * sizeof(struct sock_filter);
	return f->insns;
}
