/*
 * What the bpf tests share: CHECK, which prints a PASS or FAIL line and
 * counts it, and where the cgroup v2 tree is mounted (hybrid or pure v2).
 */
#ifndef ACRE_TESTS_BPF_CHECK_H
#define ACRE_TESTS_BPF_CHECK_H

#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/vfs.h>

#include "common/common.h"

static int checks_passed, checks_failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		bool ok_ = (cond);                                                                 \
		printf("%s ", ok_ ? "PASS" : "FAIL");                                              \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		if (ok_)                                                                           \
			checks_passed++;                                                           \
		else                                                                               \
			checks_failed++;                                                           \
	} while (0)

static inline const char *v2_mount(void)
{
	static const char *const candidates[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(candidates); i++) {
		struct statfs st;
		if (statfs(candidates[i], &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
			return candidates[i];
	}
	return NULL;
}

#endif
