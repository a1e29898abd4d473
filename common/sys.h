/*
 * Clocks, randomness, directory listings and process handles.
 */
#ifndef ACRE_COMMON_SYS_H
#define ACRE_COMMON_SYS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

int64_t acre_now_ms(void);	  /* CLOCK_REALTIME */
uint64_t acre_monotonic_ns(void); /* CLOCK_MONOTONIC */

/* len bytes from getrandom(2); -EIO when the kernel has none to give. */
int acre_random_bytes(void *buf, size_t len);
/* Lower-case hex of len bytes into out, which holds 2 * len + 1. */
void acre_hex_encode(const void *raw, size_t len, char *out);

/* ---- directories ---------------------------------------------------------- */

/*
 * Calls fn for each entry of the directory `name` under `at` (AT_FDCWD for
 * a path), "." and ".." left out; stops at the first negative return of fn
 * and returns it.  -errno if the directory cannot be opened.
 */
int acre_dir_foreach(int at, const char *name,
		     int (*fn)(int dfd, const char *entry, unsigned char type, void *ud), void *ud);

/* ---- processes ------------------------------------------------------------- */

/*
 * SIGKILL through the pidfd (it pins the process, so a recycled pid is never
 * hit), wait for the end of our child, and close the pidfd.  For a child of
 * ours that must not outlive a failed step.  Does nothing for pidfd < 0.
 */
void acre_pidfd_kill_and_reap(int pidfd);

#endif
