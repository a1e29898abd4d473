/*
 * deny_bpf PROGRAM [ARG...]: runs PROGRAM where every bpf(2) call fails with
 * EPERM, as on a host whose policy refuses eBPF to daemons; the accounting
 * test starts a supervisor this way to see it carry on without accounting.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: deny_bpf PROGRAM [ARG...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(bpf), 0) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "deny_bpf: installing the filter failed\n");
		return 2;
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "deny_bpf: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
