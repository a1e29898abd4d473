/*
 * The slice commands that act: kill (a signal, or TERM then KILL), rm, and
 * logs (the supervisor passes the log file's fd; the CLI copies it out, and
 * with --follow keeps reading until the slice ends).  Options may come
 * before or after the slice's name.
 */
#include "cli.h"

#include <getopt.h>
#include <poll.h>

int slice_kill(struct cli *cli, int argc, char **argv)
{
	struct slice_kill_args ka;
	int status = slice_kill_args(argc, argv, &ka);
	if (status)
		return status;
	struct acre_error err = {0};
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", ka.name);
	if (ka.has_signal)
		json_object_set_new(args, "signal", json_integer(ka.signo));
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_SLICE_KILL, args, &err);
	if (!res)
		return cli_fail(&err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	return 0;
}

int slice_rm(struct cli *cli, int argc, char **argv)
{
	bool force;
	int status = slice_rm_args(argc, argv, &force);
	if (status)
		return status;
	for (int i = optind; i < argc; i++) {
		struct acre_error err = {0};
		_cleanup_json_ json_t *args =
			json_pack("{s:s,s:b}", "name", argv[i], "force", force);
		_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_SLICE_RM, args, &err);
		if (!res) {
			status = cli_fail(&err);
			continue;
		}
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, res);
	}
	return status;
}

static int copy_out(int fd)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

int slice_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'}, {0}};
	bool follow = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_failf("usage: acre slice logs NAME [--follow]");
		follow = true;
	}
	if (optind + 1 != argc)
		return cli_failf("usage: acre slice logs NAME [--follow]");
	struct acre_error err = {0};
	struct client cl;
	if (cli_connect(cli, &cl, &err) < 0)
		return cli_fail(&err);
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", argv[optind]);
	_cleanup_json_ json_t *res = client_call(&cl, ACRE_OP_SLICE_LOGS, args, &err);
	if (!res || cl.received_fd < 0) {
		client_close(&cl);
		return res ? cli_failf("the supervisor sent no log") : cli_fail(&err);
	}
	int fd = cl.received_fd;
	int rc = copy_out(fd);
	if (follow && rc == 0) {
		/* Until the slice ends: read what it appends, then what is left. */
		json_int_t id = client_send(&cl, ACRE_OP_SLICE_WAIT, args, NULL, 0, &err);
		for (bool done = id < 0; !done && rc == 0;) {
			json_t *msg = NULL;
			if (client_read(&cl, 200, &msg, &err) < 0 || msg)
				done = true;
			json_decref(msg);
			rc = copy_out(fd);
		}
	}
	client_close(&cl);
	return rc < 0 ? cli_failf("writing the log: %s", strerror(-rc)) : 0;
}
