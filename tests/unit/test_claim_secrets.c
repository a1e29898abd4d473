/*
 * The secrets' half of the claim, acre-init's side
 * (isolation/init/claim_decode.c): over a real SOCK_SEQPACKET pair, a
 * claim that says "secrets=N" is followed by one message carrying a memfd
 * of NAME\0VALUE\0 pairs, read whole; a memfd whose pairs do not match
 * (a count off, a name with '/', one starting with '.') fails the launch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "isolation/launch_internal.h"
#include "proto/proto.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>

static const char claim[] = "rootfs=/\0cwd=/\0arg=true\0uid=65534\0gid=65533\0secrets=2";

static int receive(const void *pairs, size_t len, struct launch_message *m, struct acre_error *err)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(null >= 0);
	const int fds[LAUNCH_MESSAGE_FDS] = {null, null, null, null};
	assert_int_equal(acre_proto_send_fds(sv[0], claim, sizeof(claim), fds, 4, 0),
			 sizeof(claim));
	int mfd = memfd_create("test-secrets", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(write(mfd, pairs, len), (ssize_t)len);
	assert_int_equal(acre_proto_send_fds(sv[0], "s", 1, &mfd, 1, 0), 1);
	close(mfd);
	close(null);
	int rc = launch_message_receive(sv[1], m, err);
	close(sv[0]);
	close(sv[1]);
	for (int i = 0; i < 3; i++)
		if (m->stdio[i] > 2)
			close(m->stdio[i]);
	if (m->exit_fd > 2)
		close(m->exit_fd);
	free(m->argv);
	free(m->envp);
	return rc;
}

static void test_received_whole(void **state)
{
	(void)state;
	static const char pairs[] = "db_password\0hunter2\0api.key\0line1\nline2";
	struct launch_message m;
	struct acre_error err = {0};
	assert_int_equal(receive(pairs, sizeof(pairs), &m, &err), 0);
	assert_int_equal(m.mounts.nsecrets, 2);
	assert_int_equal(m.mounts.secrets_len, sizeof(pairs));
	assert_memory_equal(m.mounts.secrets, pairs, sizeof(pairs));
	/* The files go to the task's user. */
	assert_int_equal(m.mounts.secrets_uid, 65534);
	assert_int_equal(m.mounts.secrets_gid, 65533);
	free(m.mounts.secrets);
}

static void expect_malformed(const char *pairs, size_t len)
{
	struct launch_message m;
	struct acre_error err = {0};
	assert_true(receive(pairs, len, &m, &err) < 0);
	assert_string_equal(err.message, "malformed secrets");
	free(m.mounts.secrets);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char one[] = "a\0v";
	expect_malformed(one, sizeof(one));
	static const char three[] = "a\0v\0b\0w\0c\0x";
	expect_malformed(three, sizeof(three));
	static const char slash[] = "a\0v\0../x\0w";
	expect_malformed(slash, sizeof(slash));
	static const char dot[] = "a\0v\0.x\0w";
	expect_malformed(dot, sizeof(dot));
	static const char empty_name[] = "a\0v\0\0w";
	expect_malformed(empty_name, sizeof(empty_name));
	static const char unterminated[] = {'a', 0, 'v', 0, 'b', 0, 'w'};
	expect_malformed(unterminated, sizeof(unterminated));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_received_whole),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests_name("claim_secrets", tests, NULL, NULL);
}
