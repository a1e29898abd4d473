/*
 * `acre volume list|rm`: the persistent volumes of the node whose
 * supervisor answers on --socket (supervisor/volume.c).  A volume is made
 * by the first slice that names it (--volume NAME:SIZE:PATH) and stays
 * until removed here.
 */
#include "cli.h"

static int volume_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "volume list takes no arguments");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_VOLUME_LIST, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *vols = json_object_get(res, "volumes");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, vols);
		return 0;
	}
	static const char *const headers[] = {"NAME",	 "SIZE",   "USED", "ON-DISK",
					      "MOUNTED", "SLICES", NULL};
	struct table *t = table_new(headers);
	size_t i, k;
	json_t *v, *s;
	json_array_foreach (vols, i, v) {
		char size[32], used[32] = "-", disk[32], slices[512] = "";
		acre_format_size((uint64_t)json_integer_value(json_object_get(v, "size")), size,
				 sizeof(size));
		if (json_object_get(v, "used"))
			acre_format_size((uint64_t)json_integer_value(json_object_get(v, "used")),
					 used, sizeof(used));
		acre_format_size((uint64_t)json_integer_value(json_object_get(v, "on_disk")), disk,
				 sizeof(disk));
		size_t used_len = 0;
		json_array_foreach (json_object_get(v, "slices"), k, s)
			if (used_len < sizeof(slices))
				used_len += (size_t)snprintf(slices + used_len,
							     sizeof(slices) - used_len, "%s%s",
							     k ? "," : "", json_string_value(s));
		const char *cells[] = {render_str(v, "name"),
				       size,
				       used,
				       disk,
				       json_is_true(json_object_get(v, "mounted")) ? "yes" : "no",
				       slices[0] ? slices : "-"};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int volume_rm(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre volume rm NAME");
	struct acre_error err = {0};
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", argv[1]);
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_VOLUME_RM, args, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	else
		printf("%s removed\n", argv[1]);
	return 0;
}

static const struct command volume_commands[] = {
	{"list", volume_list, ""},
	{"rm", volume_rm, "NAME"},
	{NULL, NULL, NULL},
};

int do_volume(struct cli *cli, int argc, char **argv)
{
	return dispatch_object(cli, argc, argv, "volume", volume_commands);
}
