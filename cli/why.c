/*
 * `acre why NAME`: why a slice of the pool does not run where it could —
 * every node's reasons, grouped and counted, and the smallest changes
 * that would let it run (GET /v1/why/slice/NAME; controller/pool/why.c).
 * Needs --controller.
 */
#include "cli.h"

static void print_reasons(const json_t *j)
{
	size_t i, k;
	json_t *r, *ex;
	json_array_foreach (json_object_get(j, "reasons"), i, r) {
		json_int_t n = json_integer_value(json_object_get(r, "nodes"));
		printf("  %lld node%s: %s\n", (long long)n, n == 1 ? "" : "s",
		       render_str(r, "reason"));
		json_t *examples = json_object_get(r, "examples");
		json_array_foreach (examples, k, ex)
			printf("      %-20s %s\n", render_str(ex, "node"),
			       render_str(ex, "detail"));
		if ((json_int_t)json_array_size(examples) < n)
			printf("      ... and %lld more\n",
			       (long long)(n - (json_int_t)json_array_size(examples)));
	}
}

int do_why(struct cli *cli, int argc, char **argv)
{
	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs("usage: acre --controller URL why NAME   (a slice of the pool)\n",
		      argc == 2 ? stdout : stderr);
		return argc == 2 ? 0 : 1;
	}
	if (cli_need_controller(cli))
		return 1;
	_cleanup_free_ char *escaped = cli_uri_escape(argv[1]);
	_cleanup_free_ char *path = NULL;
	if (!escaped || asprintf(&path, "/v1/why/slice/%s", escaped) < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	struct acre_error err = {0};
	_cleanup_json_ json_t *j = cli_api(cli, CLI_GET, path, NULL, &err);
	if (!j)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, j);
		return 0;
	}
	const char *node = json_string_value(json_object_get(j, "node"));
	printf("slice %s: %s%s%s", render_str(j, "name"), render_str(j, "state"),
	       node ? " on " : "", node ? node : "");
	const char *why = json_string_value(json_object_get(j, "why"));
	printf("%s%s\n", why ? " — " : "", why ? why : "");
	printf("nodes:   %lld in the pool, %lld would take it now, %lld could by capacity\n",
	       (long long)json_integer_value(json_object_get(j, "nodes")),
	       (long long)json_integer_value(json_object_get(j, "fit")),
	       (long long)json_integer_value(json_object_get(j, "could_ever")));
	if (json_array_size(json_object_get(j, "reasons"))) {
		printf("why not:\n");
		print_reasons(j);
	}
	size_t i;
	json_t *s;
	json_t *sug = json_object_get(j, "suggestions");
	if (json_array_size(sug))
		printf("to let it run:\n");
	json_array_foreach (sug, i, s)
		printf("  - %s\n", json_string_value(s));
	return 0;
}
