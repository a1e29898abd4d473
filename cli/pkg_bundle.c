/*
 * acre pkg bundle NAME[@VERSION]... -o FILE: the controller writes the
 * packages (each from the repository its catalog gives it) and their URI
 * artifacts into one bundle (POST /v1/bundles), which is saved to FILE;
 * `acre pkg repo add NAME FILE` on a pool without a network takes it.
 * The file appears whole or not at all (written beside, then renamed).
 */
#include "cli.h"

#include <fcntl.h>

int pkg_bundle(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'}, {0}};
	const char *out = NULL;
	int c;
	optind = 0; /* getopt starts afresh: the global options were parsed before */
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c != 'o')
			return cli_failf(cli, EINVAL,
					 "usage: acre pkg bundle NAME[@VERSION]... -o FILE");
		out = optarg;
	}
	if (!out || optind >= argc)
		return cli_failf(cli, EINVAL, "usage: acre pkg bundle NAME[@VERSION]... -o FILE");
	if (cli_need_controller(cli))
		return 1;
	_cleanup_json_ json_t *list = json_array();
	for (int i = optind; list && i < argc; i++)
		json_array_append_new(list, json_string(argv[i]));
	_cleanup_json_ json_t *body = json_pack("{s:O}", "packages", list);
	_cleanup_free_ char *tmp = NULL;
	if (!body || asprintf(&tmp, "%s.part", out) < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_failf(cli, errno, "%s: %s", tmp, strerror(errno));
	struct acre_error err = {0};
	int rc = cli_api_to_fd(cli, CLI_POST, "/v1/bundles", body, fd, &err);
	if (rc == 0 && fsync(fd) < 0)
		rc = acre_error_set(&err, errno, NULL, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, out) < 0)
		rc = acre_error_set(&err, errno, NULL, "%s: %s", out, strerror(errno));
	if (rc < 0) {
		unlink(tmp);
		return cli_fail(cli, &err);
	}
	if (cli->output != OUTPUT_TABLE) {
		_cleanup_json_ json_t *res =
			json_pack("{s:s,s:O}", "bundle", out, "packages", list);
		output_json(cli, res);
	} else {
		printf("bundle written: %s\n", out);
	}
	return 0;
}
