/*
 * Process handles: ending a child of ours for good through its pidfd.
 */
#include "common/common.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

void acre_pidfd_kill_and_reap(int pidfd)
{
	if (pidfd < 0)
		return;
	int saved = errno;
	(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
	errno = saved;
}
