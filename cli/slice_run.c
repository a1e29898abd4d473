/*
 * `acre slice run`: the flags become a spec (run_flags.c), then the backend
 * runs it.  Detached, the new slice's name is printed (-j: the slice
 * object); a slice the pool cannot place yet says why on stderr.  In the
 * foreground, the backend hands the client's stdio to the task and the
 * client exits with the task's status (through the pool, on its log).
 */
#include "cli.h"

static int print_started(struct cli *cli, const json_t *slice)
{
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, slice);
		return 0;
	}
	printf("%s\n", render_str(slice, "name"));
	if (!strcmp(render_str(slice, "state"), "pending"))
		fprintf(stderr, "acre: slice %s is pending: %s\n", render_str(slice, "name"),
			render_str(slice, "reason"));
	return 0;
}

int slice_cmd_run(struct cli *cli, int argc, char **argv)
{
	const struct slice_backend *be = cli->slices;
	struct acre_error err = {0};
	struct run_request req;
	if (run_flags_parse(argc, argv, &req, &err) < 0)
		return cli_fail(cli, &err);
	/* The backends borrow the request; it is freed here. */
	_cleanup_json_ json_t *spec = req.spec;
	_cleanup_json_ json_t *placement = req.placement;
	if (!req.detach && be->run_attached)
		return be->run_attached(cli, &req);
	_cleanup_json_ json_t *slice = NULL;
	if (be->run(cli, &req, &slice, &err) < 0) {
		run_flags_reword(&err);
		return cli_fail(cli, &err);
	}
	return print_started(cli, slice);
}
