/*
 * `acre pkg install|upgrade|rollback|uninstall`: a change to an install
 * (POST /v1/installs, PUT|DELETE /v1/installs/{name}, POST
 * /v1/installs/{name}/rollback), then its operation followed to the end:
 * GET /v1/installs/{name} and each of its apps' deployments every 250 ms,
 * a line per deployment step and per new thing waited for, and a last
 * line that says how it ended.  It exits 1 when the operation failed or
 * rolled back (the reason on stderr).  --dry-run prints the plan or the
 * diff and exits 0 when nothing would change, 2 when something would.
 */
#include "cli.h"

#define POLL_MS 250

struct change_args {
	const char *version, *name, *options_file;
	json_t *set; /* ["K=V", ...] */
	bool dry_run, detach, keep_volumes;
};

static void print_lines(const char *key, const json_t *j, const char *title)
{
	(void)key;
	printf("%s\n", title);
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", text ? text : "");
	free(text);
}

/* The steps of one deployment not printed yet (seen: how many were). */
static void deployment_steps(struct cli *cli, const char *id, json_t *seen)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *d =
		cli_api_on(cli, CLI_GET, "/v1/deployments/", id, NULL, NULL, &err);
	json_t *steps = json_object_get(d, "steps");
	size_t from = (size_t)json_integer_value(json_object_get(seen, id));
	for (size_t i = from; i < json_array_size(steps); i++)
		deployment_print_step(d, json_array_get(steps, i));
	if (d)
		json_object_set_new(seen, id, json_integer((json_int_t)json_array_size(steps)));
}

/*
 * The steps the deployments followed took after the last poll: the
 * operation ended with them (a deployment's last step, "healthy and
 * ready", is what ends it).
 */
static void last_steps(struct cli *cli, json_t *seen)
{
	const char *id;
	json_t *n;
	/* deployment_steps sets the key it is on: a value replaced, the keys unchanged. */
	json_object_foreach (seen, id, n)
		deployment_steps(cli, id, seen);
}

/* 0 when the operation succeeded (an uninstall: the install is gone), else 1; 130 stopped. */
static int follow(struct cli *cli, const char *name, const char *op_id)
{
	_cleanup_json_ json_t *seen = json_object();
	char waiting[512] = "";
	int failures = 0, rc = 130;
	if (cli->output == OUTPUT_TABLE)
		printf("install %s: operation %s\n", name, op_id);
	cli_follow_signals(true);
	while (!cli_interrupted()) {
		struct acre_error err = {0};
		_cleanup_json_ json_t *in =
			cli_api_on(cli, CLI_GET, "/v1/installs/", name, NULL, NULL, &err);
		if (!in && err.code == ENOENT) {
			if (cli->output == OUTPUT_TABLE)
				printf("install %s: uninstalled, nothing left\n", name);
			rc = 0;
			break;
		}
		if (!in && cli_unreachable(&err) && ++failures < CLI_UNREACHABLE_POLLS) {
			cli_pause_ms(POLL_MS);
			continue;
		}
		if (!in) {
			rc = cli_fail(cli, &err);
			break;
		}
		failures = 0;
		json_t *op = json_object_get(in, "operation");
		if (cli->output == OUTPUT_TABLE && json_is_object(op)) {
			const char *app;
			json_t *id;
			json_object_foreach (json_object_get(op, "deployments"), app, id)
				deployment_steps(cli, json_string_value(id), seen);
			const char *w = render_str(op, "waiting_for");
			if (*w && strcmp(w, waiting)) {
				printf("          waiting for %s\n", w);
				snprintf(waiting, sizeof(waiting), "%s", w);
			}
			fflush(stdout);
		}
		if (json_is_object(op) && !strcmp(render_str(op, "id"), op_id)) {
			cli_pause_ms(POLL_MS);
			continue;
		}
		json_t *last = json_object_get(in, "last_operation");
		if (cli->output == OUTPUT_TABLE)
			last_steps(cli, seen);
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, in);
		if (json_is_object(op)) {
			/* Another operation took over (an uninstall): ours ended unfinished. */
			fprintf(stderr, "acre: install %s: operation %s was replaced by %s (%s)\n",
				name, op_id, render_str(op, "id"), render_str(op, "kind"));
			rc = 1;
		} else if (!strcmp(render_str(last, "result"), "succeeded")) {
			if (cli->output == OUTPUT_TABLE)
				printf("install %s: %s %s at revision %lld, %s\n", name,
				       render_str(in, "package"), render_str(in, "version"),
				       (long long)json_integer_value(
					       json_object_get(in, "revision")),
				       render_str(in, "state"));
			rc = 0;
		} else {
			fprintf(stderr, "acre: install %s: %s %s: %s\n", name,
				render_str(last, "kind"),
				!strcmp(render_str(last, "result"), "rolled_back") ? "rolled back"
										   : "failed",
				render_str(last, "reason"));
			rc = 1;
		}
		break;
	}
	cli_follow_signals(false);
	if (rc == 130)
		fprintf(stderr, "acre: stopped following; install %s goes on (acre pkg list)\n",
			name);
	return rc;
}

/* A change's reply: followed unless detached. */
static int report(struct cli *cli, const json_t *reply, const char *name, bool detach)
{
	json_t *in = json_object_get(reply, "install");
	const char *op = render_str(json_object_get(in, "operation"), "id");
	if (detach || !*op) {
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, reply);
		else if (*op)
			printf("install %s: operation %s (%s) started\n", name, op,
			       render_str(in, "state"));
		else
			printf("install %s: nothing to change\n", name);
		return 0;
	}
	return follow(cli, name, op);
}

static int parse_change(struct cli *cli, int argc, char **argv, const char *usage,
			struct change_args *a)
{
	static const struct option opts[] = {
		{"version", required_argument, NULL, 'V'}, {"name", required_argument, NULL, 'n'},
		{"options", required_argument, NULL, 'o'}, {"set", required_argument, NULL, 's'},
		{"dry-run", no_argument, NULL, 'D'},	   {"detach", no_argument, NULL, 'd'},
		{"keep-volumes", no_argument, NULL, 'k'},  {0}};
	memset(a, 0, sizeof(*a));
	a->set = json_array();
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "d", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			a->version = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'o':
			a->options_file = optarg;
			break;
		case 's':
			if (!strchr(optarg, '='))
				return cli_failf(cli, EINVAL, "--set %s: give K=VALUE", optarg);
			json_array_append_new(a->set, json_string(optarg));
			break;
		case 'D':
			a->dry_run = true;
			break;
		case 'd':
			a->detach = true;
			break;
		case 'k':
			a->keep_volumes = true;
			break;
		default:
			return cli_failf(cli, EINVAL, "usage: %s", usage);
		}
	}
	return cli_need_controller(cli);
}

/* The body of an install or an upgrade: version, options (from --options), set. */
static json_t *change_body(struct cli *cli, const struct change_args *a, int *rc)
{
	json_t *body = json_object();
	struct acre_error err = {0};
	*rc = 0;
	if (a->version)
		json_object_set_new(body, "version", json_string(a->version));
	if (json_array_size(a->set))
		json_object_set(body, "set", a->set);
	if (a->options_file) {
		json_error_t je;
		json_t *o = json_load_file(a->options_file, 0, &je);
		if (!json_is_object(o)) {
			json_decref(o);
			json_decref(body);
			acre_error_set(&err, EINVAL, "--options", "--options %s: %s",
				       a->options_file, o ? "not a JSON object" : je.text);
			*rc = cli_fail(cli, &err);
			return NULL;
		}
		json_object_set_new(body, "options", o);
	}
	return body;
}

int pkg_install(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "acre pkg install PACKAGE [--version V] [--name N] "
				    "[--options FILE] [--set K=V]... [--dry-run] [--detach]";
	struct change_args a;
	int rc = parse_change(cli, argc, argv, usage, &a);
	_cleanup_json_ json_t *set = a.set;
	if (rc)
		return rc;
	if (argc - optind != 1 || a.keep_volumes)
		return cli_failf(cli, EINVAL, "usage: %s", usage);
	_cleanup_json_ json_t *body = change_body(cli, &a, &rc);
	if (!body)
		return rc;
	const char *name = a.name ? a.name : argv[optind];
	json_object_set_new(body, "package", json_string(argv[optind]));
	if (a.name)
		json_object_set_new(body, "name", json_string(a.name));
	struct acre_error err = {0};
	_cleanup_json_ json_t *reply = cli_api(
		cli, CLI_POST, a.dry_run ? "/v1/installs?dry_run=1" : "/v1/installs", body, &err);
	if (!reply)
		return cli_fail(cli, &err);
	if (a.dry_run) {
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, reply);
		else
			print_lines("plan", json_object_get(reply, "plan"),
				    "would install (the plan):");
		return 2;
	}
	return report(cli, reply, name, a.detach);
}

int pkg_upgrade(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "acre pkg upgrade NAME [--version V] [--options FILE] "
				    "[--set K=V]... [--dry-run] [--detach]";
	struct change_args a;
	int rc = parse_change(cli, argc, argv, usage, &a);
	_cleanup_json_ json_t *set = a.set;
	if (rc)
		return rc;
	if (argc - optind != 1 || a.keep_volumes || a.name)
		return cli_failf(cli, EINVAL, "usage: %s", usage);
	_cleanup_json_ json_t *body = change_body(cli, &a, &rc);
	if (!body)
		return rc;
	struct acre_error err = {0};
	_cleanup_json_ json_t *reply = cli_api_on(cli, CLI_PUT, "/v1/installs/", argv[optind],
						  a.dry_run ? "?dry_run=1" : NULL, body, &err);
	if (!reply)
		return cli_fail(cli, &err);
	if (a.dry_run) {
		bool changes = json_is_true(json_object_get(reply, "changes"));
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, reply);
		else if (!changes)
			printf("install %s: nothing would change\n", argv[optind]);
		else
			print_lines("diff", json_object_get(reply, "diff"),
				    "would change (against what runs):");
		return changes ? 2 : 0;
	}
	return report(cli, reply, argv[optind], a.detach);
}

int pkg_rollback(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "acre pkg rollback NAME [REVISION] [--detach]";
	struct change_args a;
	int rc = parse_change(cli, argc, argv, usage, &a);
	_cleanup_json_ json_t *set = a.set;
	if (rc)
		return rc;
	int n = argc - optind;
	if (n < 1 || n > 2 || a.version || a.name || a.options_file || json_array_size(set) ||
	    a.dry_run || a.keep_volumes)
		return cli_failf(cli, EINVAL, "usage: %s", usage);
	_cleanup_json_ json_t *body = json_object();
	if (n == 2) {
		char *end;
		long rev = strtol(argv[optind + 1], &end, 10);
		if (*end || rev < 1)
			return cli_failf(cli, EINVAL,
					 "REVISION %s: a revision number (acre pkg "
					 "list -p shows them)",
					 argv[optind + 1]);
		json_object_set_new(body, "revision", json_integer(rev));
	}
	struct acre_error err = {0};
	_cleanup_json_ json_t *reply =
		cli_api_on(cli, CLI_POST, "/v1/installs/", argv[optind], "/rollback", body, &err);
	if (!reply)
		return cli_fail(cli, &err);
	return report(cli, reply, argv[optind], a.detach);
}

int pkg_uninstall(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "acre pkg uninstall NAME [--keep-volumes] [--detach]";
	struct change_args a;
	int rc = parse_change(cli, argc, argv, usage, &a);
	_cleanup_json_ json_t *set = a.set;
	if (rc)
		return rc;
	if (argc - optind != 1 || a.version || a.name || a.options_file || json_array_size(set) ||
	    a.dry_run)
		return cli_failf(cli, EINVAL, "usage: %s", usage);
	struct acre_error err = {0};
	_cleanup_json_ json_t *reply =
		cli_api_on(cli, CLI_DELETE, "/v1/installs/", argv[optind],
			   a.keep_volumes ? "?keep_volumes=1" : NULL, NULL, &err);
	if (!reply)
		return cli_fail(cli, &err);
	return report(cli, reply, argv[optind], a.detach);
}
