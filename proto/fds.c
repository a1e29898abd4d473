/*
 * File descriptors passed with a message over a Unix socket (SCM_RIGHTS):
 * a foreground `acre slice run` hands the supervisor its stdio, and the
 * supervisor hands a client the end of a slice's log; acre-init receives
 * its claim the same way.  Received fds are close-on-exec from the start
 * (MSG_CMSG_CLOEXEC), only SOL_SOCKET/SCM_RIGHTS control messages are
 * taken, and fds beyond what the caller has room for are closed, never
 * leaked.  Plain libc only: acre-init, linked statically from a short list
 * of files, links this one too.
 */
#include "proto.h"

#include <sys/socket.h>

ssize_t acre_proto_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
			    int flags)
{
	if (nfds > ACRE_PROTO_FDS_MAX)
		return -EINVAL;
	union {
		char buf[CMSG_SPACE(sizeof(int) * ACRE_PROTO_FDS_MAX)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	ssize_t n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

/* Keeps what fits in fds[*nfds..max), closes the rest. */
static void take_fds(struct msghdr *mh, int *fds, size_t max, size_t *nfds)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (*nfds < max)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
}

ssize_t acre_proto_recv_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *nfds,
			    int flags)
{
	/* Room for ACRE_PROTO_FDS_MAX: any more the kernel closes itself (MSG_CTRUNC). */
	union {
		char buf[CMSG_SPACE(sizeof(int) * ACRE_PROTO_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	*nfds = 0;
	ssize_t n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	take_fds(&mh, fds, max, nfds);
	return n;
}
