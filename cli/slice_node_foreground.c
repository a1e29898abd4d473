/*
 * A foreground `acre slice run` on a node: the client hands its own
 * stdin/stdout/stderr to the task with the request (so output streams
 * live, straight from the task), forwards Ctrl-C to it, ends the slice when
 * the client itself is told to go (SIGTERM, SIGHUP), and exits with the
 * task's status: 128+N for signal N, 137 with a line naming the memory
 * limit when the OOM killer ended it.  If the supervisor restarts
 * meanwhile (an upgrade, a crash), the client reconnects and keeps
 * waiting, for as long as --timeout lets a request wait for its daemon
 * (default 60 s; 0: as long as it takes).  Through the pool, where the
 * slice runs on a machine the client is not on, slice_pool_foreground.c
 * follows its log instead.
 */
#include "cli.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

struct fg_run {
	struct cli *cli;
	struct client c;
	char name[ACRE_NAME_MAX + 1];
	json_int_t run_id;
	int interrupts;
	int sigfd;
};

int slice_foreground_finish(struct cli *cli, json_t *res)
{
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	json_t *exit = json_object_get(res, "exit");
	const char *name = json_string_value(json_object_get(res, "name"));
	if (!json_is_object(exit)) {
		fprintf(stderr, "acre: slice %s: %s\n", name,
			json_string_value(json_object_get(res, "reason")));
		return 125;
	}
	int status = (int)json_integer_value(json_object_get(exit, "status"));
	json_t *failed = json_object_get(exit, "launch_failed");
	if (json_is_string(failed)) {
		fprintf(stderr, "acre: slice %s failed to launch: %s\n", name,
			json_string_value(failed));
	} else if (json_is_true(json_object_get(exit, "oom"))) {
		char limit[32] = "its limit";
		json_t *l = json_object_get(res, "memory_limit");
		if (json_is_integer(l))
			acre_format_size((uint64_t)json_integer_value(l), limit, sizeof(limit));
		fprintf(stderr,
			"acre: slice %s was killed by the kernel's OOM killer: it reached its "
			"memory limit of %s (--memory)\n",
			name, limit);
	}
	return status;
}

static void forward(struct fg_run *r, int sig)
{
	struct acre_error err = {0};
	if (!r->name[0])
		return;
	json_t *args = json_pack("{s:s}", "name", r->name);
	if (sig == SIGINT && ++r->interrupts < 3) {
		json_object_set_new(args, "signal", json_string("INT"));
	} else if (sig == SIGINT) {
		/* A third Ctrl-C: the task is not listening, end it now. */
		json_object_set_new(args, "signal", json_string("KILL"));
		fprintf(stderr, "acre: killing slice %s\n", r->name);
	}
	/* SIGTERM and SIGHUP to the client end the slice: TERM, then KILL after a while. */
	client_send(&r->c, ACRE_OP_SLICE_KILL, args, NULL, 0, &err);
	json_decref(args);
}

static int reconnect(struct fg_run *r, struct acre_error *err)
{
	client_close(&r->c);
	fprintf(stderr, "acre: lost the supervisor; slice %s keeps running, reconnecting\n",
		r->name);
	uint64_t timeout_ms = r->cli->timeout_ms;
	uint64_t deadline = acre_monotonic_ns() + timeout_ms * 1000000ULL;
	while (timeout_ms == 0 || acre_monotonic_ns() < deadline) {
		struct acre_error e = {0};
		if (client_connect(&r->c, r->cli->socket_path, &e) == 0) {
			json_t *args = json_pack("{s:s}", "name", r->name);
			r->run_id = client_send(&r->c, ACRE_OP_SLICE_WAIT, args, NULL, 0, &e);
			json_decref(args);
			if (r->run_id >= 0)
				return 0;
			/*
			 * Connected, then dropped: the old supervisor's listening socket,
			 * still held for an instant by one of its launch children after
			 * its crash, took the connection and went.  Not the new one yet.
			 */
			client_close(&r->c);
		}
		usleep(200000);
	}
	return acre_error_set(err, ECONNREFUSED, NULL,
			      "the supervisor did not come back within --timeout %llus; slice %s "
			      "may still run",
			      (unsigned long long)(timeout_ms / 1000), r->name);
}

/* One message from the supervisor: 1 when it was the final reply. */
static int on_message(struct fg_run *r, json_t *msg, int *status, struct acre_error *err)
{
	json_t *id = json_object_get(msg, "id");
	if (json_is_null(id) && json_is_false(json_object_get(msg, "ok"))) {
		/* Not an answer to anything we sent: the supervisor refused us. */
		acre_proto_error_from_json(msg, err);
		*status = 1;
		return 1;
	}
	if (!json_is_integer(id) || json_integer_value(id) != r->run_id)
		return 0; /* replies to our kill requests */
	const char *event = json_string_value(json_object_get(msg, "event"));
	if (event) {
		json_t *data = json_object_get(msg, "data");
		if (!strcmp(event, "started") && json_is_string(json_object_get(data, "name")))
			snprintf(r->name, sizeof(r->name), "%s",
				 json_string_value(json_object_get(data, "name")));
		return 0;
	}
	if (!json_is_true(json_object_get(msg, "ok"))) {
		acre_proto_error_from_json(msg, err);
		*status = 1;
		return 1;
	}
	*status = slice_foreground_finish(r->cli, json_object_get(msg, "result"));
	return 1;
}

static int wait_foreground(struct fg_run *r)
{
	struct acre_error err = {0};
	int status = 1;
	for (;;) {
		json_t *msg = NULL;
		if (client_read(&r->c, 0, &msg, &err) < 0) {
			if (reconnect(r, &err) < 0)
				return cli_fail(r->cli, &err);
			memset(&err, 0, sizeof(err)); /* the lost connection is behind us */
			continue;
		}
		if (msg) {
			int done = on_message(r, msg, &status, &err);
			json_decref(msg);
			if (done && err.message[0])
				run_flags_reword(&err);
			if (done)
				return err.message[0] ? cli_fail(r->cli, &err) : status;
			continue;
		}
		struct pollfd p[2] = {{.fd = r->c.fd, .events = POLLIN},
				      {.fd = r->sigfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return cli_failf(r->cli, errno, "poll: %s", strerror(errno));
		struct signalfd_siginfo si;
		if ((p[1].revents & POLLIN) &&
		    read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			forward(r, (int)si.ssi_signo);
	}
}

int slice_node_run_attached(struct cli *cli, const struct run_request *req)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *args =
		json_pack("{s:o,s:b,s:b,s:b}", "spec", json_deep_copy(req->spec), "detach", 0,
			  "remove", req->remove, "stdio", 1);
	if (!args)
		return cli_failf(cli, ENOMEM, "out of memory");
	struct fg_run r = {.cli = cli, .sigfd = -1};
	/* Named here, so that a Ctrl-C before the supervisor answers can still be passed on. */
	json_t *name = json_object_get(req->spec, "name");
	if (json_is_string(name))
		snprintf(r.name, sizeof(r.name), "%s", json_string_value(name));
	else
		acre_slice_name_generate(r.name, sizeof(r.name));
	json_object_set_new(json_object_get(args, "spec"), "name", json_string(r.name));
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	r.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (r.sigfd < 0)
		return cli_failf(cli, errno, "signalfd: %s", strerror(errno));
	if (client_connect(&r.c, cli->socket_path, &err) < 0) {
		close(r.sigfd);
		return cli_fail(cli, &err);
	}
	static const int stdio[3] = {0, 1, 2};
	int status;
	r.run_id = client_send(&r.c, ACRE_OP_SLICE_RUN, args, stdio, 3, &err);
	if (r.run_id < 0)
		status = cli_fail(cli, &err);
	else
		status = wait_foreground(&r);
	client_close(&r.c);
	close(r.sigfd);
	return status;
}
