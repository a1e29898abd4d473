/* Shared by the seccomp files of isolation/: the compiled program and its builders. */
#ifndef ACRE_SECCOMP_INTERNAL_H
#define ACRE_SECCOMP_INTERNAL_H

#include "isolation.h"
#include <linux/filter.h>
#include <seccomp.h>

struct acre_seccomp_filter {
	struct sock_filter *insns;
	unsigned short len;
};

int seccomp_add_arches(scmp_filter_ctx ctx);
int seccomp_filter_export(scmp_filter_ctx ctx, struct acre_seccomp_filter **out,
			  struct acre_error *err);

#endif
