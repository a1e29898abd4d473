/*
 * common/'s toolkit: the growable array keeps every item across growth and
 * refuses an impossible size; the intrusive list and queue link, unlink
 * from any position and keep FIFO order; a directory listing visits every
 * entry once and passes an error of the visitor back; kill-and-reap ends a
 * child and leaves no zombie.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void test_vec_push_keeps_items(void **state)
{
	(void)state;
	ACRE_VEC(int) v = {0};
	for (int i = 0; i < 1000; i++)
		assert_int_equal(acre_vec_push(&v, i * 3), 0);
	assert_int_equal(v.n, 1000);
	assert_true(v.cap >= 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v.v[i], i * 3);
	acre_vec_free(&v);
	assert_null(v.v);
	assert_int_equal(v.n, 0);
}

static void test_vec_refuses_overflow(void **state)
{
	(void)state;
	ACRE_VEC(uint64_t) v = {0};
	assert_int_equal(acre_vec_push(&v, 7), 0);
	assert_int_equal(acre_vec_reserve(&v, SIZE_MAX / 4), -ENOMEM);
	/* Unchanged by the refusal. */
	assert_int_equal(v.n, 1);
	assert_int_equal(v.v[0], 7);
	acre_vec_free(&v);
}

struct item {
	int id;
	ACRE_LIST_FIELDS(struct item, all);
	ACRE_LIST_FIELDS(struct item, q);
};

static void list_expect(struct item *head, const int *ids, size_t n)
{
	struct item *i;
	size_t k = 0;
	ACRE_LIST_FOREACH (all, i, head) {
		assert_true(k < n);
		assert_int_equal(i->id, ids[k++]);
	}
	assert_int_equal(k, n);
}

static void test_list_prepend_remove(void **state)
{
	(void)state;
	struct item it[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
	struct item *head = NULL;
	for (int i = 0; i < 4; i++)
		ACRE_LIST_PREPEND(all, head, &it[i]);
	list_expect(head, (int[]){3, 2, 1, 0}, 4);
	ACRE_LIST_REMOVE(all, head, &it[1]); /* middle */
	list_expect(head, (int[]){3, 2, 0}, 3);
	ACRE_LIST_REMOVE(all, head, &it[3]); /* head */
	list_expect(head, (int[]){2, 0}, 2);
	ACRE_LIST_REMOVE(all, head, &it[0]); /* last */
	list_expect(head, (int[]){2}, 1);
	struct item *i, *n;
	ACRE_LIST_FOREACH_SAFE (all, i, n, head)
		ACRE_LIST_REMOVE(all, head, i);
	assert_null(head);
}

static void test_queue_fifo(void **state)
{
	(void)state;
	struct item it[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
	struct item *head = NULL, *tail = NULL;
	for (int i = 0; i < 3; i++)
		ACRE_QUEUE_APPEND(q, head, tail, &it[i]);
	assert_ptr_equal(head, &it[0]);
	assert_ptr_equal(tail, &it[2]);
	ACRE_QUEUE_REMOVE(q, head, tail, &it[2]);
	assert_ptr_equal(tail, &it[1]);
	ACRE_QUEUE_APPEND(q, head, tail, &it[2]);
	ACRE_QUEUE_REMOVE(q, head, tail, &it[0]);
	assert_ptr_equal(head, &it[1]);
	assert_ptr_equal(head->q_next, &it[2]);
	ACRE_QUEUE_REMOVE(q, head, tail, &it[1]);
	ACRE_QUEUE_REMOVE(q, head, tail, &it[2]);
	assert_null(head);
	assert_null(tail);
}

static int count_entry(int dfd, const char *entry, unsigned char type, void *ud)
{
	(void)dfd;
	(void)type;
	int *seen = ud;
	assert_true(entry[0] == 'f');
	(*seen)++;
	return 0;
}

static int stop_at_second(int dfd, const char *entry, unsigned char type, void *ud)
{
	(void)dfd;
	(void)entry;
	(void)type;
	int *seen = ud;
	return ++*seen == 2 ? -EIO : 0;
}

static void test_dir_foreach(void **state)
{
	(void)state;
	char dir[] = "/tmp/acre-unit-dir.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof(name), "f%d", i);
		int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	int seen = 0;
	assert_int_equal(acre_dir_foreach(AT_FDCWD, dir, count_entry, &seen), 0);
	assert_int_equal(seen, 5);
	seen = 0;
	assert_int_equal(acre_dir_foreach(dfd, ".", stop_at_second, &seen), -EIO);
	assert_int_equal(seen, 2);
	assert_int_equal(acre_dir_foreach(dfd, "missing", count_entry, &seen), -ENOENT);
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof(name), "f%d", i);
		unlinkat(dfd, name, 0);
	}
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
}

static void test_pidfd_kill_and_reap(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	acre_pidfd_kill_and_reap(pidfd);
	/* Reaped: no child left to wait for. */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	acre_pidfd_kill_and_reap(-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vec_push_keeps_items),
		cmocka_unit_test(test_vec_refuses_overflow),
		cmocka_unit_test(test_list_prepend_remove),
		cmocka_unit_test(test_queue_fifo),
		cmocka_unit_test(test_dir_foreach),
		cmocka_unit_test(test_pidfd_kill_and_reap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
