/*
 * `acre why [slice|app] NAME`: why a slice of the pool does not run where
 * it could, or an app's pending instances — every node's reasons, grouped
 * and counted, and the smallest changes that would let it run (GET
 * /v1/why/slice/NAME, /v1/why/app/NAME; controller/pool/why.c).  Without
 * a kind, NAME is a slice's, or an app's when no slice has that name.
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

static void print_head(const json_t *j)
{
	if (!strcmp(render_str(j, "kind"), "app")) {
		long long pending = (long long)json_integer_value(json_object_get(j, "pending"));
		printf("app %s: %lld instance%s pending", render_str(j, "name"), pending,
		       pending == 1 ? "" : "s");
	} else {
		const char *node = json_string_value(json_object_get(j, "node"));
		printf("slice %s: %s%s%s", render_str(j, "name"), render_str(j, "state"),
		       node ? " on " : "", node ? node : "");
	}
	const char *why = json_string_value(json_object_get(j, "why"));
	printf("%s%s\n", why ? " — " : "", why ? why : "");
}

/* GET /v1/why/KIND/NAME; without a kind, a slice's or else an app's. */
static json_t *ask(struct cli *cli, const char *kind, const char *name, struct acre_error *err)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "/v1/why/%s/", kind ? kind : "slice");
	json_t *j = cli_api_on(cli, CLI_GET, prefix, name, NULL, NULL, err);
	if (j || kind || err->code != ENOENT)
		return j;
	/* The slice's answer stands when there is no app either, or no apps at all. */
	struct acre_error app_err = {0};
	j = cli_api_on(cli, CLI_GET, "/v1/why/app/", name, NULL, NULL, &app_err);
	if (!j && app_err.code == ENOENT && strcmp(app_err.field, "kind") != 0)
		snprintf(err->message + strlen(err->message),
			 sizeof(err->message) - strlen(err->message), " (and no app of that name)");
	else if (!j && app_err.code != ENOENT)
		*err = app_err;
	return j;
}

int do_why(struct cli *cli, int argc, char **argv)
{
	bool help = argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
	const char *kind = argc == 3 ? argv[1] : NULL;
	if (help || argc < 2 || argc > 3 ||
	    (kind && strcmp(kind, "slice") && strcmp(kind, "app"))) {
		fputs("usage: acre --controller URL why [slice | app] NAME\n",
		      help ? stdout : stderr);
		return help ? 0 : 1;
	}
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *j = ask(cli, kind, argv[argc - 1], &err);
	if (!j)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, j);
		return 0;
	}
	print_head(j);
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
