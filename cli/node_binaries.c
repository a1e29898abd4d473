/*
 * `acre node binaries PATH...`: which of these host binaries the node
 * whose supervisor answers on --socket has (supervisor/binaries.c), as the
 * controller asks it to make the node's bin:PATH attributes.
 */
#include "cli.h"

int node_binaries(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_failf(cli, EINVAL, "usage: acre node binaries PATH...");
	_cleanup_json_ json_t *paths = json_array();
	for (int i = 1; paths && i < argc; i++)
		json_array_append_new(paths, json_string(argv[i]));
	_cleanup_json_ json_t *args = paths ? json_pack("{s:O}", "paths", paths) : NULL;
	if (!args)
		return cli_failf(cli, ENOMEM, "out of memory");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_BINARIES_CHECK, args, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(res, "present"), i, v)
		printf("%s\tpresent\n", json_string_value(v));
	json_array_foreach (json_object_get(res, "absent"), i, v)
		printf("%s\tabsent\n", json_string_value(v));
	return 0;
}
