/*
 * The slice verbs that act: kill (a signal, or TERM then KILL), rm (one
 * line of -j output per name: what was done, or the error), and logs.
 * Options may come before or after the slice's name, so `acre slice kill
 * web --signal HUP` works either way.
 */
#include "cli.h"

#include <getopt.h>

static int kill_args(int argc, char **argv, const char **name, int *signo, struct acre_error *err)
{
	static const struct option opts[] = {{"signal", required_argument, NULL, 's'}, {0}};
	const char *sig = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c != 's')
			goto usage;
		sig = optarg;
	}
	if (optind + 1 != argc)
		goto usage;
	*name = argv[optind];
	*signo = 0;
	if (sig && acre_parse_signal(sig, signo, err, "--signal") < 0)
		return -EINVAL;
	return 0;
usage:
	return acre_error_set(err, EINVAL, NULL, "usage: acre slice kill NAME [--signal SIG]");
}

int slice_cmd_kill(struct cli *cli, int argc, char **argv)
{
	struct acre_error err = {0};
	const char *name = NULL;
	int signo = 0;
	_cleanup_json_ json_t *res = NULL;
	if (kill_args(argc, argv, &name, &signo, &err) < 0 ||
	    cli->slices->kill(cli, name, signo, &res, &err) < 0)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	return 0;
}

/* The names are argv[optind..argc). */
static int rm_args(int argc, char **argv, bool *force, struct acre_error *err)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
	int c;
	*force = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			break;
		*force = true;
	}
	if (c == -1 && optind < argc)
		return 0;
	return acre_error_set(err, EINVAL, NULL, "usage: acre slice rm NAME... [--force]");
}

int slice_cmd_rm(struct cli *cli, int argc, char **argv)
{
	struct acre_error err = {0};
	bool force;
	if (rm_args(argc, argv, &force, &err) < 0)
		return cli_fail(cli, &err);
	int status = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_json_ json_t *res = NULL;
		memset(&err, 0, sizeof(err));
		if (cli->slices->rm(cli, argv[i], force, &res, &err) < 0)
			status = cli_fail(cli, &err);
		else if (cli->output != OUTPUT_TABLE)
			output_json(cli, res);
	}
	return status;
}

int slice_cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'}, {0}};
	bool follow = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_failf(cli, EINVAL, "usage: acre slice logs NAME [--follow]");
		follow = true;
	}
	if (optind + 1 != argc)
		return cli_failf(cli, EINVAL, "usage: acre slice logs NAME [--follow]");
	if (!cli->slices->logs)
		return slice_unsupported(cli, "logs");
	struct acre_error err = {0};
	if (cli->slices->logs(cli, argv[optind], follow, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}
