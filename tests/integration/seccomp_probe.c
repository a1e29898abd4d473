/*
 * Compiled by test_seccomp.sh (cc -static) and run inside a slice: calls
 * each raw syscall that the default seccomp profile must refuse and prints
 * one line per call, "name=ERRNO" (EPERM, ENOSYS, ...) or "name=OK" when
 * the call succeeded.  With arguments, only the calls named.
 *
 * Every call is harmless even where it succeeds (a mount on a path that
 * does not exist, a reboot with the wrong magic, ...), and the probe
 * refuses to run unless acre-init is PID 1, i.e. inside a slice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case EINVAL:
		return "EINVAL";
	case EFAULT:
		return "EFAULT";
	case ENOENT:
		return "ENOENT";
	case EBADF:
		return "EBADF";
	case ENOEXEC:
		return "ENOEXEC";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOKEY:
		return "ENOKEY";
	case EDQUOT:
		return "EDQUOT";
	case ENOSPC:
		return "ENOSPC";
	case EBUSY:
		return "EBUSY";
	case ESTALE:
		return "ESTALE";
	default: {
		static char buf[32];
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
	}
}

static long do_mount(void)
{
	/* ENOENT where the call is allowed: nothing is mounted anywhere. */
	return syscall(SYS_mount, "none", "/acre-probe-no-such-dir", "tmpfs", 0UL, NULL);
}

static long do_ptrace(void)
{
	return syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}

static long do_bpf(void)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static long do_keyctl(void)
{
	/* KEYCTL_GET_KEYRING_ID of the session keyring, creating it. */
	return syscall(SYS_keyctl, 0, -3, 1, 0, 0);
}

static long do_add_key(void)
{
	/* A user key in the process keyring (-2). */
	return syscall(SYS_add_key, "user", "acre-test", "x", 1, -2);
}

static long do_kexec_load(void)
{
	/* Invalid flags: EINVAL where the call is allowed; nothing is loaded or unloaded. */
	return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL);
}

static long do_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0UL, "");
}

static long do_finit_module(void)
{
	return syscall(SYS_finit_module, 0, "", 0);
}

static long do_open_by_handle_at(void)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[128];
	} fh = {.bytes = 8, .type = 1};
	return syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
}

static long do_perf_event_open(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0UL);
}

static long do_userfaultfd(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC);
}

static long do_unshare_user(void)
{
	return syscall(SYS_unshare, CLONE_NEWUSER);
}

static long do_unshare_user_ns(void)
{
	return syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS);
}

static long do_unshare_ns(void)
{
	return syscall(SYS_unshare, CLONE_NEWNS);
}

static long do_unshare_net(void)
{
	return syscall(SYS_unshare, CLONE_NEWNET);
}

static long fork_result(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid < 0 ? -1 : 0;
}

static long do_clone_user(void)
{
	return fork_result(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL));
}

static long do_clone3_user(void)
{
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWUSER;
	ca.exit_signal = SIGCHLD;
	return fork_result(syscall(SYS_clone3, &ca, sizeof(ca)));
}

static long do_setns(void)
{
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long r = syscall(SYS_setns, fd, 0);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static long do_reboot(void)
{
	/* Wrong magic: even a process allowed to reboot gets EINVAL, never a reboot. */
	return syscall(SYS_reboot, 0x12345678, 0x87654321, 0x4321fedc, NULL);
}

static long do_personality(void)
{
	long r = syscall(SYS_personality, ADDR_NO_RANDOMIZE);
	if (r == -1)
		return -1;
	return (syscall(SYS_personality, 0xffffffff) & ADDR_NO_RANDOMIZE) ? 0
									  : (errno = EINVAL, -1);
}

static long do_getcwd(void)
{
	char buf[4096];
	return syscall(SYS_getcwd, buf, sizeof(buf)) < 0 ? -1 : 0;
}

static long do_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : -1;
}

static const struct {
	const char *name;
	long (*fn)(void);
} calls[] = {
	{"mount", do_mount},
	{"ptrace", do_ptrace},
	{"bpf", do_bpf},
	{"keyctl", do_keyctl},
	{"add_key", do_add_key},
	{"kexec_load", do_kexec_load},
	{"init_module", do_init_module},
	{"finit_module", do_finit_module},
	{"open_by_handle_at", do_open_by_handle_at},
	{"perf_event_open", do_perf_event_open},
	{"userfaultfd", do_userfaultfd},
	{"unshare_newuser", do_unshare_user},
	{"unshare_newns", do_unshare_ns},
	{"unshare_newnet", do_unshare_net},
	{"clone_newuser", do_clone_user},
	{"clone3_newuser", do_clone3_user},
	{"setns", do_setns},
	{"reboot", do_reboot},
	{"personality", do_personality},
	/* not in the default list: */
	{"unshare_newuser_newns", do_unshare_user_ns},
	{"getcwd", do_getcwd},
	{"getpid", do_getpid},
};

#define NCALLS	 (sizeof(calls) / sizeof(calls[0]))
#define NDEFAULT 19

static void run(size_t i)
{
	errno = 0;
	long r = calls[i].fn();
	printf("%s=%s\n", calls[i].name, r < 0 ? errname(errno) : "OK");
	fflush(stdout);
}

static int inside_a_slice(void)
{
	char buf[64] = {0};
	int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	const char *base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	return n > 0 && strcmp(base, "acre-init") == 0;
}

int main(int argc, char **argv)
{
	if (!inside_a_slice()) {
		fprintf(stderr, "probe: PID 1 is not acre-init: run me inside a slice only\n");
		return 3;
	}
	if (argc == 1) {
		for (size_t i = 0; i < NDEFAULT; i++)
			run(i);
		return 0;
	}
	for (int a = 1; a < argc; a++) {
		size_t i;
		for (i = 0; i < NCALLS && strcmp(calls[i].name, argv[a]) != 0; i++)
			;
		if (i == NCALLS) {
			fprintf(stderr, "probe: unknown call %s\n", argv[a]);
			return 2;
		}
		run(i);
	}
	return 0;
}
