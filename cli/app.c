/*
 * `acre app`: the pool's apps (POST/PUT /v1/apps, with --controller).  The
 * table of app verbs, and those that change an app: run and update (the
 * spec from flags, app_flags.c), scale, restart, rollback, stop, start,
 * move and rm.  Each change is a deployment, which they follow to its end
 * (app_follow.c) unless --detach; list, show and versions are in
 * app_show.c, logs in app_logs.c.
 */
#include "cli.h"

#include <getopt.h>

/* --print-spec's spec, --dry-run's reply: JSON, indented unless -j. */
static void print_indented(const struct cli *cli, const json_t *j)
{
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, j);
		return;
	}
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

int app_report(struct cli *cli, json_t *reply, bool detach)
{
	json_t *d = json_object_get(reply, "deployment");
	const char *name = render_str(json_object_get(reply, "app"), "name");
	if (!json_is_object(d)) {
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, reply);
		else
			printf("%s: no change (the spec is the app's current one)\n", name);
		return 0;
	}
	if (detach) {
		char title[256];
		if (cli->output != OUTPUT_TABLE) {
			output_json(cli, reply);
			return 0;
		}
		deployment_title(d, title, sizeof(title));
		printf("deployment %s started: %s (acre deployment show %s)\n", render_str(d, "id"),
		       title, render_str(d, "id"));
		return 0;
	}
	_cleanup_json_ json_t *final = NULL;
	int rc = deployment_follow(cli, d, &final);
	if (cli->output != OUTPUT_TABLE && final) {
		json_object_set(reply, "deployment", final);
		output_json(cli, reply);
	}
	return rc;
}

/* The spec an update starts from: -f FILE, else the app's current one. */
static int update_base(struct cli *cli, const struct app_flags *f, json_t **spec,
		       struct acre_error *err)
{
	if (f->file)
		return app_spec_load(f->file, spec, err);
	if (!f->name)
		return acre_error_set(err, EINVAL, "name",
				      "usage: acre app update NAME [OPTIONS] [-- COMMAND [ARGS]]");
	if (!cli->controller || !*cli->controller)
		return acre_error_set(err, EINVAL, "--controller",
				      "app update reads the app's spec from the pool's "
				      "controller: --controller URL (or -f SPEC)");
	_cleanup_json_ json_t *app =
		cli_api_on(cli, CLI_GET, "/v1/apps/", f->name, NULL, NULL, err);
	json_t *current = json_object_get(app, "spec");
	if (!app)
		return -EIO;
	if (!json_is_object(current))
		return acre_error_set(err, EPROTO, NULL,
				      "the controller sent app %s without a spec", f->name);
	*spec = json_deep_copy(current);
	return *spec ? 0 : acre_error_set(err, ENOMEM, NULL, "out of memory");
}

/* run and update: flags onto a spec, then POST (run) or PUT (update) it. */
static int send_spec(struct cli *cli, int argc, char **argv, bool update)
{
	const char *verb = update ? "update" : "run";
	struct app_flags f;
	struct acre_error err = {0};
	_cleanup_json_ json_t *spec = NULL, *reply = NULL;
	int rc = app_flags_parse(verb, argc, argv, &f, &err);
	if (rc == 0 && f.help) {
		app_flags_free(&f);
		app_flags_usage(verb, stdout);
		return 0;
	}
	if (rc == 0) {
		if (update)
			rc = update_base(cli, &f, &spec, &err);
		else if (f.file)
			rc = app_spec_load(f.file, &spec, &err);
		else if (!(spec = json_object()))
			rc = acre_error_set(&err, ENOMEM, NULL, "out of memory");
	}
	if (rc == 0)
		rc = app_flags_apply(&f, verb, spec, &err);
	bool print = f.print_spec, detach = f.detach, dry_run = f.dry_run, force = f.force;
	app_flags_free(&f);
	if (rc == 0 && dry_run && update)
		rc = acre_error_set(&err, EINVAL, "--dry-run",
				    "--dry-run: app run's (the controller plans a new app only)");
	if (rc < 0)
		return cli_fail(cli, &err);
	if (print) {
		print_indented(cli, spec);
		return 0;
	}
	if (cli_need_controller(cli))
		return 1;
	const char *name = json_string_value(json_object_get(spec, "name"));
	reply = update ? cli_api_on(cli, CLI_PUT, "/v1/apps/", name, force ? "?force=1" : NULL,
				    spec, &err)
		       : cli_api(cli, CLI_POST, dry_run ? "/v1/apps?dry_run=1" : "/v1/apps", spec,
				 &err);
	if (!reply)
		return cli_fail(cli, &err);
	if (dry_run) {
		print_indented(cli, reply); /* {"app", "plan"}: nothing was made */
		return 0;
	}
	return app_report(cli, reply, detach);
}

static int app_run(struct cli *cli, int argc, char **argv)
{
	return send_spec(cli, argc, argv, false);
}

static int app_update(struct cli *cli, int argc, char **argv)
{
	return send_spec(cli, argc, argv, true);
}

/* The flags of the acting verbs; each verb says which it takes. */
enum { TAKES_TO = 1, TAKES_KEEP_VOLUMES = 2 };
struct verb_args {
	const char *pos[2];
	int npos;
	const char *to;
	bool detach, keep_volumes, force;
};

static int parse_verb(struct cli *cli, int argc, char **argv, unsigned takes, int npos,
		      const char *usage, struct verb_args *a)
{
	static const struct option opts[] = {
		{"detach", no_argument, NULL, 'd'},
		{"to", required_argument, NULL, 't'},
		{"keep-volumes", no_argument, NULL, 'k'},
		{"force", no_argument, NULL, 'F'},
		{0},
	};
	memset(a, 0, sizeof(*a));
	optind = 0;
	opterr = 0;
	int c;
	/* Permuting: `app rollback web --to 3` and `app rollback --to 3 web` alike. */
	while ((c = getopt_long(argc, argv, "d", opts, NULL)) != -1) {
		if (c == 'd')
			a->detach = true;
		else if (c == 't' && (takes & TAKES_TO))
			a->to = optarg;
		else if (c == 'k' && (takes & TAKES_KEEP_VOLUMES))
			a->keep_volumes = true;
		else if (c == 'F')
			a->force = true;
		else /* a flag of another verb is named as such, not by its value */
			return cli_failf(cli, EINVAL,
					 "%s: unknown option or missing value (usage: %s)",
					 c == 't'   ? "--to"
					 : c == 'k' ? "--keep-volumes"
						    : argv[optind - 1],
					 usage);
	}
	if (argc - optind != npos)
		return cli_failf(cli, EINVAL, "usage: %s", usage);
	for (int i = 0; i < npos; i++)
		a->pos[i] = argv[optind + i];
	a->npos = npos;
	return cli_need_controller(cli);
}

/* --force: the app's running deployment is cancelled for this one, instead of refusing it. */
static int act(struct cli *cli, const struct verb_args *a, enum cli_method m, const char *suffix,
	       const json_t *body)
{
	struct acre_error err = {0};
	char query[64];
	snprintf(query, sizeof(query), "%s%s%s", suffix ? suffix : "",
		 a->force ? (suffix && strchr(suffix, '?') ? "&" : "?") : "",
		 a->force ? "force=1" : "");
	_cleanup_json_ json_t *reply =
		cli_api_on(cli, m, "/v1/apps/", a->pos[0], query, body, &err);
	if (!reply)
		return cli_fail(cli, &err);
	return app_report(cli, reply, a->detach);
}

static int app_scale(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	if (parse_verb(cli, argc, argv, 0, 2, "acre app scale NAME N [--force] [--detach]", &a))
		return 1;
	char *end;
	errno = 0;
	long n = strtol(a.pos[1], &end, 10);
	if (!*a.pos[1] || *end || errno || n < 0 || n > 1000000)
		return cli_failf(cli, EINVAL, "app scale %s %s: N is an integer from 0 to 1000000",
				 a.pos[0], a.pos[1]);
	_cleanup_json_ json_t *body = json_pack("{s:I}", "instances", (json_int_t)n);
	return act(cli, &a, CLI_POST, "/scale", body);
}

static int app_restart(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	if (parse_verb(cli, argc, argv, 0, 1, "acre app restart NAME [--force] [--detach]", &a))
		return 1;
	return act(cli, &a, CLI_POST, "/restart", NULL);
}

static int app_rollback(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	if (parse_verb(cli, argc, argv, TAKES_TO, 1,
		       "acre app rollback NAME [--to VERSION] [--force] [--detach]", &a))
		return 1;
	_cleanup_json_ json_t *body = json_object();
	if (a.to) {
		char *end;
		errno = 0;
		long v = strtol(a.to, &end, 10);
		if (!*a.to || *end || errno || v < 1)
			return cli_failf(cli, EINVAL,
					 "--to %s: a version number (acre app versions %s)", a.to,
					 a.pos[0]);
		json_object_set_new(body, "version", json_integer(v));
	}
	return act(cli, &a, CLI_POST, "/rollback", body);
}

static int app_stop(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	if (parse_verb(cli, argc, argv, 0, 1, "acre app stop NAME [--force] [--detach]", &a))
		return 1;
	return act(cli, &a, CLI_POST, "/stop", NULL);
}

static int app_start(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	if (parse_verb(cli, argc, argv, 0, 1, "acre app start NAME [--force] [--detach]", &a))
		return 1;
	return act(cli, &a, CLI_POST, "/start", NULL);
}

static int app_move(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	struct acre_error err = {0};
	char app[ACRE_APP_NAME_MAX + 1];
	unsigned index;
	if (parse_verb(cli, argc, argv, TAKES_TO, 1,
		       "acre app move APP-N --to NODE [--force] [--detach]", &a))
		return 1;
	if (!a.to)
		return cli_failf(cli, EINVAL, "app move %s: --to NODE is required", a.pos[0]);
	if (cli_app_instance_parse(a.pos[0], app, sizeof(app), &index, &err) < 0)
		return cli_fail(cli, &err);
	_cleanup_json_ json_t *body = json_pack("{s:i,s:s}", "instance", (int)index, "to", a.to);
	struct verb_args on_app = a;
	on_app.pos[0] = app;
	return act(cli, &on_app, CLI_POST, "/move", body);
}

static int app_rm(struct cli *cli, int argc, char **argv)
{
	struct verb_args a;
	if (parse_verb(cli, argc, argv, TAKES_KEEP_VOLUMES, 1,
		       "acre app rm NAME [--keep-volumes] [--force] [--detach]", &a))
		return 1;
	return act(cli, &a, CLI_DELETE, a.keep_volumes ? "?keep_volumes=1" : NULL, NULL);
}

static const struct command app_commands[] = {
	{"run", app_run,
	 "NAME [OPTIONS] -- COMMAND [ARGS]  (or -f SPEC; OPTIONS: acre app run --help)"},
	{"list", app_list, ""},
	{"show", app_show, "NAME"},
	{"update", app_update, "NAME [OPTIONS] [-- COMMAND [ARGS]]  (or -f SPEC)"},
	{"scale", app_scale, "NAME N"},
	{"restart", app_restart, "NAME"},
	{"rollback", app_rollback, "NAME [--to VERSION]"},
	{"stop", app_stop, "NAME"},
	{"start", app_start, "NAME"},
	{"move", app_move, "APP-N --to NODE"},
	{"rm", app_rm, "NAME [--keep-volumes]  (each change: [--force] [--detach])"},
	{"versions", app_versions, "NAME"},
	{"logs", app_logs, "[-f] [--tail N] APP [--instance N]"},
	{NULL, NULL, NULL},
};

int do_app(struct cli *cli, int argc, char **argv)
{
	return dispatch_object(cli, argc, argv, "app", app_commands);
}
