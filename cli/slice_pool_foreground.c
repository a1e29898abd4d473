/*
 * A foreground `acre slice run` through the pool.  The slice runs
 * detached on whichever node the pool picks, writing its output to its
 * log there; the client follows that log through the controller (GET
 * /v1/slices/NAME/logs?follow=1) until the slice ends, then reads how it
 * ended from the pool and exits with the task's status, as on a node
 * (128+N for signal N, 137 and a line naming the memory limit after the
 * OOM killer).  Ctrl-C is passed on as a kill with SIGINT (a third one
 * kills), SIGTERM and SIGHUP end the slice; with --rm the slice is removed
 * from the pool once it has ended.  Output is relayed, stdin is not: the
 * task's stdin is /dev/null, and its stdout and stderr arrive merged on
 * stdout, in the order the node wrote them to the log.
 */
#include "cli.h"

#include <event2/event.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#define POLL_MS 200

struct pool_fg {
	struct cli *cli;
	char name[ACRE_NAME_MAX + 1];
	int sigfd;
	int interrupts;
	bool announced_pending;
};

static bool ended(const char *state)
{
	return !strcmp(state, "exited") || !strcmp(state, "failed") || !strcmp(state, "killed") ||
	       !strcmp(state, "lost");
}

static void forward(struct pool_fg *f, int sig)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = NULL;
	int signo = 0; /* SIGTERM, SIGHUP: the default ending, TERM then KILL */
	if (sig == SIGINT && ++f->interrupts < 3) {
		signo = SIGINT;
	} else if (sig == SIGINT) {
		signo = SIGKILL; /* a third Ctrl-C: the task is not listening */
		fprintf(stderr, "acre: killing slice %s\n", f->name);
	}
	if (f->cli->slices->kill(f->cli, f->name, signo, &res, &err) < 0)
		fprintf(stderr, "acre: passing the signal to slice %s: %s\n", f->name, err.message);
}

static void take_signals(struct pool_fg *f)
{
	struct signalfd_siginfo si;
	while (read(f->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		forward(f, (int)si.ssi_signo);
}

/* Waits POLL_MS, passing on any signal that comes meanwhile. */
static void pause_a_moment(struct pool_fg *f)
{
	struct pollfd p = {.fd = f->sigfd, .events = POLLIN};
	if (poll(&p, 1, POLL_MS) > 0)
		take_signals(f);
}

static int show(struct pool_fg *f, json_t **slice, struct acre_error *err)
{
	return f->cli->slices->show(f->cli, f->name, slice, err);
}

/* Until the slice is on a node (its log is there) or has ended without one. */
static int wait_placed(struct pool_fg *f, json_t **slice, struct acre_error *err)
{
	for (;;) {
		_cleanup_json_ json_t *s = NULL;
		if (show(f, &s, err) < 0)
			return -1;
		const char *state = render_str(s, "state");
		if (json_is_string(json_object_get(s, "node")) || ended(state)) {
			*slice = TAKE_PTR(s);
			return 0;
		}
		if (!f->announced_pending && !strcmp(state, "pending") &&
		    f->cli->output == OUTPUT_TABLE) {
			fprintf(stderr, "acre: slice %s is pending: %s\n", f->name,
				render_str(s, "reason"));
			f->announced_pending = true;
		}
		pause_a_moment(f);
	}
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	take_signals(arg);
}

/* The log, followed to its end; false when it broke off before. */
static bool follow_log(struct pool_fg *f, struct acre_error *err)
{
	struct event_base *base = event_base_new();
	struct event *sig =
		base ? event_new(base, f->sigfd, EV_READ | EV_PERSIST, on_signal, f) : NULL;
	struct pool_log pl = {0};
	bool whole = false;
	if (!sig || event_add(sig, NULL) < 0) {
		acre_error_set(err, ENOMEM, NULL, "out of memory");
	} else if (pool_log_open(f->cli, base, f->name, true, &pl, err) == 0) {
		event_base_dispatch(base);
		whole = pl.complete;
		if (!whole)
			*err = pl.err;
	}
	pool_log_close(&pl);
	if (sig)
		event_free(sig);
	if (base)
		event_base_free(base);
	return whole;
}

/* How it ended, as the pool has it: the node's report follows its log's end closely. */
static int wait_ended(struct pool_fg *f, json_t **slice, struct acre_error *err)
{
	for (;;) {
		_cleanup_json_ json_t *s = NULL;
		if (show(f, &s, err) < 0)
			return -1;
		if (ended(render_str(s, "state"))) {
			*slice = TAKE_PTR(s);
			return 0;
		}
		pause_a_moment(f);
	}
}

/* --rm: removed from the pool, and gone from it before the client exits. */
static bool remove_slice(struct pool_fg *f)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = NULL;
	if (f->cli->slices->rm(f->cli, f->name, false, &res, &err) < 0) {
		fprintf(stderr, "acre: removing slice %s: %s\n", f->name, err.message);
		return false;
	}
	uint64_t deadline = acre_monotonic_ns() + 30ULL * 1000000000ULL;
	while (acre_monotonic_ns() < deadline) {
		_cleanup_json_ json_t *s = NULL;
		memset(&err, 0, sizeof(err));
		if (show(f, &s, &err) < 0)
			return err.code == ENOENT;
		pause_a_moment(f);
	}
	fprintf(stderr, "acre: slice %s is still being removed from its node\n", f->name);
	return false;
}

/* The node's own foreground answer, from the pool's slice object. */
static json_t *result_of(const json_t *s, bool removed)
{
	json_t *res =
		json_pack("{s:s,s:s,s:s,s:O,s:b}", "name", render_str(s, "name"), "state",
			  render_str(s, "state"), "reason", render_str(s, "reason"), "exit",
			  json_object_get(s, "exit") ? json_object_get(s, "exit") : json_null(),
			  "removed", removed);
	json_t *memory = json_object_get(json_object_get(s, "resources"), "memory");
	if (res && json_is_integer(memory))
		json_object_set(res, "memory_limit", memory);
	return res;
}

static int run(struct pool_fg *f, const struct run_request *req)
{
	struct cli *cli = f->cli;
	struct acre_error err = {0};
	_cleanup_json_ json_t *created = NULL, *placed = NULL, *last = NULL;
	if (cli->slices->run(cli, req, &created, &err) < 0) {
		run_flags_reword(&err);
		return cli_fail(cli, &err);
	}
	if (wait_placed(f, &placed, &err) < 0)
		return cli_fail(cli, &err);
	if (!ended(render_str(placed, "state")) && !follow_log(f, &err)) {
		/* The slice may still run: its end is still worth waiting for. */
		fprintf(stderr, "acre: %s; waiting for slice %s to end\n", err.message, f->name);
		memset(&err, 0, sizeof(err));
	}
	if (wait_ended(f, &last, &err) < 0)
		return cli_fail(cli, &err);
	bool removed = req->remove && remove_slice(f);
	_cleanup_json_ json_t *res = result_of(last, removed);
	if (!res)
		return cli_failf(cli, ENOMEM, "out of memory");
	return slice_foreground_finish(cli, res);
}

int slice_pool_run_attached(struct cli *cli, const struct run_request *req)
{
	struct pool_fg f = {.cli = cli, .sigfd = -1};
	/* Named here, so that a Ctrl-C at any moment can name it to the pool. */
	json_t *name = json_object_get(req->spec, "name");
	if (json_is_string(name))
		snprintf(f.name, sizeof(f.name), "%s", json_string_value(name));
	else
		acre_slice_name_generate(f.name, sizeof(f.name));
	json_object_set_new(req->spec, "name", json_string(f.name));
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	f.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (f.sigfd < 0)
		return cli_failf(cli, errno, "signalfd: %s", strerror(errno));
	int status = run(&f, req);
	close(f.sigfd);
	return status;
}
