/*
 * `acre node artifacts [--prune]`: the cache of artifacts of the node whose
 * supervisor answers on --socket (supervisor/artifact_cache.c), one row an
 * entry: its checksum, size, when it was fetched and last mounted, and the
 * slices that name it.  --prune removes the entries no slice names.
 */
#include "cli.h"

static int print_pruned(struct cli *cli, json_t *res)
{
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(res, "removed"), i, v)
		printf("%s removed\n", json_string_value(v));
	printf("%zu removed\n", json_array_size(json_object_get(res, "removed")));
	return 0;
}

static void join_names(const json_t *names, char *buf, size_t len)
{
	size_t used = 0, k;
	json_t *s;
	buf[0] = '\0';
	json_array_foreach (names, k, s)
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? "," : "",
						 json_string_value(s));
}

int node_artifacts(struct cli *cli, int argc, char **argv)
{
	bool prune = argc == 2 && !strcmp(argv[1], "--prune");
	if (argc > 2 || (argc == 2 && !prune))
		return cli_failf(cli, EINVAL, "usage: acre node artifacts [--prune]");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res =
		cli_call(cli, prune ? ACRE_OP_ARTIFACT_PRUNE : ACRE_OP_ARTIFACT_LIST, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (prune)
		return print_pruned(cli, res);
	json_t *list = json_object_get(res, "artifacts");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, list);
		return 0;
	}
	static const char *const headers[] = {"SHA256", "SIZE", "FETCHED", "LAST-USED",
					      "SLICES", "URI",	NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *a;
	json_array_foreach (list, i, a) {
		char sum[16], size[32], fetched[32], used[32], slices[512];
		snprintf(sum, sizeof(sum), "%.12s", render_str(a, "sha256"));
		render_bytes(json_object_get(a, "size"), size, sizeof(size));
		render_age(json_object_get(a, "fetched_at"), fetched, sizeof(fetched));
		render_age(json_object_get(a, "last_used"), used, sizeof(used));
		join_names(json_object_get(a, "slices"), slices, sizeof(slices));
		const char *cells[] = {
			sum, size, fetched, used, slices[0] ? slices : "-", render_str(a, "uri")};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}
