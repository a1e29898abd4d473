/*
 * `acre deployment list|show|cancel`: every change of an app is a
 * deployment (GET /v1/deployments[?app=NAME][&active=1],
 * /v1/deployments/{id}, DELETE to cancel), kept by the controller, the
 * last 100 an app.  -j and -p print the controller's deployment objects
 * (cli/README.md lists their keys); `deployment show` prints its steps
 * and what it waits for, as `app show` does for an app's.
 */
#include "cli.h"

#include <getopt.h>

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* "start web-3 (v2), stop web-0 (v1) and 14 more" */
static void print_actions(const json_t *step)
{
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(step, "actions"), i, a)
		printf("%s%s %s (v%lld)", i ? ", " : "", render_str(a, "action"),
		       render_str(a, "instance"), num(a, "version"));
	if (num(step, "more"))
		printf(" and %lld more", num(step, "more"));
}

/* A running deployment's plan: the step under way, and those ahead. */
static void print_plan(const json_t *plan, const char *indent)
{
	if (!json_is_object(plan))
		return;
	printf("%s  plan (ends %s%s%s):\n", indent, render_str(plan, "ends"),
	       json_object_get(plan, "ends_because") ? ": " : "",
	       json_object_get(plan, "ends_because") ? render_str(plan, "ends_because") : "");
	size_t i;
	json_t *step;
	json_array_foreach (json_object_get(plan, "steps"), i, step) {
		printf("%s    %lld. %-11s ", indent, num(step, "step"), render_str(step, "state"));
		print_actions(step);
		if (json_object_get(step, "waiting_for"))
			printf(" — %s", render_str(step, "waiting_for"));
		printf("\n");
	}
	if (json_is_true(json_object_get(plan, "truncated")))
		printf("%s    ... more steps\n", indent);
}

void deployment_print(const json_t *d, const char *indent)
{
	char title[256], started[32], ended[32];
	deployment_title(d, title, sizeof(title));
	render_age(json_object_get(d, "started_at"), started, sizeof(started));
	printf("%sdeployment %s: %s\n", indent, render_str(d, "id"), title);
	printf("%s  state:    %s%s%s\n", indent, render_str(d, "state"),
	       *render_str(d, "reason") ? ": " : "", render_str(d, "reason"));
	printf("%s  progress: %lld/%lld at target, %lld available\n", indent, num(d, "at_target"),
	       num(d, "wanted"), num(d, "available"));
	if (json_is_integer(json_object_get(d, "ended_at"))) {
		render_age(json_object_get(d, "ended_at"), ended, sizeof(ended));
		printf("%s  started:  %s ago, ended %s ago\n", indent, started, ended);
	} else {
		printf("%s  started:  %s ago\n", indent, started);
	}
	const char *w = render_str(d, "waiting_for");
	if (*w) /* the controller's own words: "waiting for instance 2 ..." */
		printf("%s  %s%s\n", indent, strncmp(w, "waiting", 7) ? "waiting for " : "", w);
	size_t i;
	json_t *s;
	json_array_foreach (json_object_get(d, "steps"), i, s) {
		printf("%s  ", indent);
		deployment_print_step(d, s);
	}
	print_plan(json_object_get(d, "plan"), indent);
}

static int dep_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"app", required_argument, NULL, 'a'},
		{"active", no_argument, NULL, 'A'},
		{0},
	};
	const char *app = NULL;
	bool active = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			app = optarg;
		else if (c == 'A')
			active = true;
		else
			return cli_failf(cli, EINVAL,
					 "%s: unknown option or missing value (usage: acre "
					 "deployment list [--app NAME] [--active])",
					 argv[optind - 1]);
	}
	if (optind < argc)
		return cli_failf(cli, EINVAL,
				 "usage: acre deployment list [--app NAME] [--active]");
	if (cli_need_controller(cli))
		return 1;
	_cleanup_free_ char *escaped = app ? cli_uri_escape(app) : NULL;
	_cleanup_free_ char *path = NULL;
	if ((app && !escaped) ||
	    asprintf(&path, "/v1/deployments%s%s%s%s", app ? "?app=" : "", app ? escaped : "",
		     active ? (app ? "&" : "?") : "", active ? "active=1" : "") < 0)
		return cli_failf(cli, ENOMEM, "out of memory");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, path, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *list = json_object_get(res, "deployments");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, list);
		return 0;
	}
	static const char *const headers[] = {"ID",	  "APP",     "KIND",   "VERSION", "STATE",
					      "PROGRESS", "STARTED", "REASON", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *d;
	json_array_foreach (list, i, d) {
		char version[48], progress[48], started[32];
		json_t *from = json_object_get(d, "from_version");
		if (json_is_integer(from) && json_integer_value(from) != num(d, "to_version"))
			snprintf(version, sizeof(version), "%lld->%lld",
				 (long long)json_integer_value(from), num(d, "to_version"));
		else
			snprintf(version, sizeof(version), "%lld", num(d, "to_version"));
		snprintf(progress, sizeof(progress), "%lld/%lld", num(d, "at_target"),
			 num(d, "wanted"));
		render_age(json_object_get(d, "started_at"), started, sizeof(started));
		const char *reason = render_str(d, "reason");
		const char *cells[] = {render_str(d, "id"),
				       render_str(d, "app"),
				       render_str(d, "kind"),
				       version,
				       render_str(d, "state"),
				       progress,
				       started,
				       *reason ? reason : "-"};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int dep_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre deployment show ID");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *d =
		cli_api_on(cli, CLI_GET, "/v1/deployments/", argv[1], NULL, NULL, &err);
	if (!d)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, d);
	else
		deployment_print(d, "");
	return 0;
}

/* Cancelled, the app goes back to the version before; --force leaves it where it is. */
static int dep_cancel(struct cli *cli, int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[2], "--force");
	if (argc == 3 && !strcmp(argv[1], "--force")) {
		force = true;
		argv[1] = argv[2];
	}
	if (argc != 2 && !force)
		return cli_failf(cli, EINVAL, "usage: acre deployment cancel ID [--force]");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *d = cli_api_on(cli, CLI_DELETE, "/v1/deployments/", argv[1],
					      force ? "?force=1" : NULL, NULL, &err);
	if (!d)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, d);
	else
		printf("deployment %s %s: %s%s\n", render_str(d, "id"), render_str(d, "state"),
		       render_str(d, "app"),
		       force ? " stays as it is now" : " goes back to the version before");
	return 0;
}

static const struct command deployment_commands[] = {
	{"list", dep_list, "[--app NAME] [--active]"},
	{"show", dep_show, "ID"},
	{"cancel", dep_cancel, "ID [--force]"},
	{NULL, NULL, NULL},
};

int do_deployment(struct cli *cli, int argc, char **argv)
{
	return dispatch_object(cli, argc, argv, "deployment", deployment_commands);
}
