/*
 * fd passing over a Unix socket, as a foreground `slice run` hands the
 * supervisor its stdio and acre-init receives its claim: the fds arrive
 * with their message, close-on-exec, the same open files as were sent;
 * those beyond the receiver's room are closed, not leaked; a message
 * without fds reads as one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int open_fds(void)
{
	int n = 0;
	_cleanup_dir_ DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	return n - 1; /* the directory's own */
}

/* The same open file: same device and inode, and a seek on one moves the other. */
static void assert_same_file(int a, int b)
{
	struct stat sa, sb;
	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_int_equal(sa.st_dev, sb.st_dev);
	assert_int_equal(sa.st_ino, sb.st_ino);
}

static void assert_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	assert_true(flags >= 0);
	assert_true(flags & FD_CLOEXEC);
}

static void test_fds_travel_with_their_message(void **state)
{
	(void)state;
	int sv[2], p[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	int sent[3] = {p[0], p[1], sv[0]};
	assert_int_equal(acre_proto_send_fds(sv[0], "hello\n", 6, sent, 3, 0), 6);

	char buf[64];
	int got[4] = {-1, -1, -1, -1};
	size_t n;
	assert_int_equal(acre_proto_recv_fds(sv[1], buf, sizeof(buf), got, 4, &n, 0), 6);
	assert_memory_equal(buf, "hello\n", 6);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_true(got[i] != sent[i]);
		assert_same_file(got[i], sent[i]);
		assert_cloexec(got[i]);
	}
	/* The pipe's write end came across: what goes in one end comes out of the other. */
	assert_int_equal(write(got[1], "x", 1), 1);
	assert_int_equal(read(p[0], buf, 1), 1);
	assert_int_equal(buf[0], 'x');
	for (size_t i = 0; i < n; i++)
		close(got[i]);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_no_fds(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(acre_proto_send_fds(sv[0], "{}\n", 3, NULL, 0, 0), 3);
	char buf[8];
	int fd = -1;
	size_t n = 99;
	assert_int_equal(acre_proto_recv_fds(sv[1], buf, sizeof(buf), &fd, 1, &n, 0), 3);
	assert_int_equal(n, 0);
	assert_int_equal(fd, -1);
	/* Nothing waiting: a non-blocking read says so as -EAGAIN. */
	assert_int_equal(acre_proto_recv_fds(sv[1], buf, sizeof(buf), &fd, 1, &n, MSG_DONTWAIT),
			 -EAGAIN);
	/* The end of the stream reads as 0. */
	close(sv[0]);
	assert_int_equal(acre_proto_recv_fds(sv[1], buf, sizeof(buf), &fd, 1, &n, 0), 0);
	close(sv[1]);
}

static void test_extra_fds_are_closed(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int before = open_fds();
	int sent[ACRE_PROTO_FDS_MAX];
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(sent); i++)
		sent[i] = sv[0];
	assert_int_equal(acre_proto_send_fds(sv[0], "a", 1, sent, ACRE_ARRAY_SIZE(sent), 0), 1);
	assert_int_equal(acre_proto_send_fds(sv[0], "b", 1, sent, 2, 0), 1);
	char buf[1];
	int got[2];
	size_t n;
	/* Room for two of eight: two kept, six closed at once. */
	assert_int_equal(acre_proto_recv_fds(sv[1], buf, 1, got, 2, &n, 0), 1);
	assert_int_equal(n, 2);
	assert_int_equal(open_fds(), before + 2);
	close(got[0]);
	close(got[1]);
	/* No room at all: every fd of the message is closed. */
	assert_int_equal(acre_proto_recv_fds(sv[1], buf, 1, got, 0, &n, 0), 1);
	assert_int_equal(n, 0);
	assert_int_equal(open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

static void test_limits_and_errors(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int many[ACRE_PROTO_FDS_MAX + 1] = {0};
	assert_int_equal(acre_proto_send_fds(sv[0], "x", 1, many, ACRE_ARRAY_SIZE(many), 0),
			 -EINVAL);
	int bad = 1000000;
	assert_int_equal(acre_proto_send_fds(sv[0], "x", 1, &bad, 1, 0), -EBADF);
	/* A peer gone: EPIPE, and no SIGPIPE to end the process. */
	close(sv[1]);
	assert_int_equal(acre_proto_send_fds(sv[0], "x", 1, NULL, 0, 0), -EPIPE);
	close(sv[0]);
	char buf[1];
	size_t n;
	assert_int_equal(acre_proto_recv_fds(-1, buf, 1, NULL, 0, &n, 0), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fds_travel_with_their_message),
		cmocka_unit_test(test_no_fds),
		cmocka_unit_test(test_extra_fds_are_closed),
		cmocka_unit_test(test_limits_and_errors),
	};
	return cmocka_run_group_tests_name("proto_fds", tests, NULL, NULL);
}
