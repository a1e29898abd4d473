/*
 * Compiled by test_socket_auth.sh (cc -static) to run inside a slice whose
 * root has no libraries: connects to a Unix socket, sends one line, prints
 * the first line of the reply.  Exit status 0 with a reply, 2 when connect
 * fails (the error is printed), 3 when the peer closes without a line.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: uds_request PATH LINE\n");
		return 1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		printf("connect: %s\n", strerror(errno));
		return 2;
	}
	dprintf(fd, "%s\n", argv[2]);
	char buf[4096];
	size_t len = 0;
	while (len < sizeof(buf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			break;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	if (len == 0) {
		printf("closed without a reply\n");
		return 3;
	}
	fputs(buf, stdout);
	return 0;
}
