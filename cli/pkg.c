/*
 * `acre pkg`: the packages the pool's controller knows and what is
 * installed from them.  This file holds the table of commands and the
 * verbs that only read or manage repositories (GET /v1/packages,
 * /v1/packages/{name}, /v1/installs, /v1/repos); the changes (install,
 * upgrade, rollback, uninstall) and their following are pkg_install.c's.
 * -j and -p print the controller's objects as they come.
 */
#include "cli.h"

#include <limits.h>
#include <sys/stat.h>

static json_t *strings(const json_t *arr, char *buf, size_t len)
{
	size_t i, at = 0;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach (arr, i, v)
		if (at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "",
					       json_string_value(v));
	return NULL;
}

static int pkg_search(struct cli *cli, int argc, char **argv)
{
	if (argc > 2)
		return cli_failf(cli, EINVAL, "usage: acre pkg search [QUERY]");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api_on(
		cli, CLI_GET, "/v1/packages?q=", argc > 1 ? argv[1] : "", NULL, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *pkgs = json_object_get(res, "packages");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, pkgs);
		return 0;
	}
	static const char *const headers[] = {"NAME", "LATEST",	     "VERSIONS",
					      "TAGS", "DESCRIPTION", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *p;
	json_array_foreach (pkgs, i, p) {
		char versions[256], tags[256];
		strings(json_object_get(p, "versions"), versions, sizeof(versions));
		strings(json_object_get(p, "tags"), tags, sizeof(tags));
		const char *cells[] = {render_str(p, "name"), render_str(p, "latest"), versions,
				       tags, render_str(p, "description")};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int pkg_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", no_argument, NULL, 'c'}, {"version", required_argument, NULL, 'V'}, {0}};
	const char *version = NULL;
	bool config = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			config = true;
		else if (c == 'V')
			version = optarg;
		else
			return cli_failf(cli, EINVAL,
					 "usage: acre pkg show NAME [--config] [--version V]");
	}
	if (argc - optind != 1)
		return cli_failf(cli, EINVAL, "usage: acre pkg show NAME [--config] [--version V]");
	if (cli_need_controller(cli))
		return 1;
	char suffix[128] = "";
	if (version) {
		_cleanup_free_ char *v = cli_uri_escape(version);
		snprintf(suffix, sizeof(suffix), "?version=%s", v ? v : "");
	}
	struct acre_error err = {0};
	_cleanup_json_ json_t *res =
		cli_api_on(cli, CLI_GET, "/v1/packages/", argv[optind], suffix, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *pkg = json_object_get(res, "package");
	if (config) {
		/* The defaults as an options file to edit: `acre pkg install --options FILE`. */
		cli->output = cli->output == OUTPUT_JSON ? OUTPUT_JSON : OUTPUT_PRETTY;
		output_json(cli, json_object_get(res, "defaults"));
		return 0;
	}
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	char versions[256], tags[256];
	strings(json_object_get(res, "versions"), versions, sizeof(versions));
	strings(json_object_get(pkg, "tags"), tags, sizeof(tags));
	printf("name:         %s\nversion:      %s  (all: %s)\ndescription:  %s\ntags:         "
	       "%s\nwebsite:      %s\n",
	       render_str(pkg, "name"), render_str(pkg, "version"), versions,
	       render_str(pkg, "description"), tags, render_str(pkg, "website"));
	printf("options (acre pkg show %s --config):\n", render_str(pkg, "name"));
	char *text = json_dumps(json_object_get(res, "defaults"), JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", text ? text : "{}");
	free(text);
	return 0;
}

static int pkg_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "pkg list takes no arguments");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, "/v1/installs", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *list = json_object_get(res, "installs");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, list);
		return 0;
	}
	static const char *const headers[] = {"NAME", "PACKAGE", "VERSION", "REVISION", "STATE",
					      "APPS", "UPDATED", "REASON",  NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *in;
	json_array_foreach (list, i, in) {
		char rev[16], apps[256], updated[32], state[96];
		snprintf(rev, sizeof(rev), "%lld",
			 (long long)json_integer_value(json_object_get(in, "revision")));
		strings(json_object_get(in, "apps"), apps, sizeof(apps));
		render_age(json_object_get(in, "updated_at"), updated, sizeof(updated));
		json_t *op = json_object_get(in, "operation");
		json_t *last = json_object_get(in, "last_operation");
		const char *result = render_str(last, "result");
		if (json_is_object(op))
			snprintf(state, sizeof(state), "%s (%s)", render_str(in, "state"),
				 render_str(op, "id"));
		else if (*result && strcmp(result, "succeeded")) /* how the last one ended */
			snprintf(state, sizeof(state), "%s (%s %s)", render_str(in, "state"),
				 render_str(last, "kind"),
				 !strcmp(result, "rolled_back") ? "rolled back" : result);
		else
			snprintf(state, sizeof(state), "%s", render_str(in, "state"));
		const char *reason = render_str(in, "reason");
		const char *cells[] = {render_str(in, "name"),
				       render_str(in, "package"),
				       render_str(in, "version"),
				       rev,
				       state,
				       *apps ? apps : "-",
				       updated,
				       *reason ? reason : "-"};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

/* What `repo add` was given: a URL is an index, a directory a repository, a file a bundle. */
static json_t *repo_source(struct cli *cli, const char *name, const char *where)
{
	struct stat st;
	char abs[PATH_MAX];
	if (strstr(where, "://"))
		return json_pack("{s:s,s:s}", "name", name, "url", where);
	/* A path on the controller's host: absolute, as the controller does not share our cwd. */
	if (!realpath(where, abs) || stat(abs, &st) < 0) {
		cli_failf(cli, errno, "%s: %s", where, strerror(errno));
		return NULL;
	}
	return json_pack("{s:s,s:s}", "name", name, S_ISDIR(st.st_mode) ? "dir" : "bundle", abs);
}

static int repo_add(struct cli *cli, int argc, char **argv)
{
	if (argc != 3)
		return cli_failf(cli, EINVAL, "usage: acre pkg repo add NAME DIR|URL|BUNDLE");
	struct acre_error err = {0};
	_cleanup_json_ json_t *body = repo_source(cli, argv[1], argv[2]);
	if (!body)
		return 1;
	_cleanup_json_ json_t *res = cli_api(cli, CLI_POST, "/v1/repos", body, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	else
		printf("repository %s added: %s\n", argv[1], argv[2]);
	return 0;
}

static int repo_refresh(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre pkg repo refresh NAME");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res =
		cli_api_on(cli, CLI_POST, "/v1/repos/", argv[1], "/refresh", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	else
		printf("repository %s refreshed\n", argv[1]);
	return 0;
}

static int repo_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "pkg repo list takes no arguments");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, "/v1/repos", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *repos = json_object_get(res, "repos");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, repos);
		return 0;
	}
	static const char *const headers[] = {"NAME", "KIND", "WHERE", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *r;
	json_array_foreach (repos, i, r) {
		const char *cells[] = {render_str(r, "name"), render_str(r, "kind"),
				       render_str(r, "source")};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int repo_rm(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre pkg repo remove NAME");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res =
		cli_api_on(cli, CLI_DELETE, "/v1/repos/", argv[1], NULL, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE)
		output_json(cli, res);
	else
		printf("repository %s removed\n", argv[1]);
	return 0;
}

static const struct command repo_commands[] = {
	{"add", repo_add,
	 "NAME DIR|URL|BUNDLE  (a repository directory: NAME/VERSION/package.json; an index's "
	 "http(s):// or file:// URL; a bundle file from `acre pkg bundle`)"},
	{"list", repo_list, ""},
	{"refresh", repo_refresh, "NAME  (an index fetched again)"},
	{"remove", repo_rm, "NAME"},
	{"rm", repo_rm, "NAME"},
	{NULL, NULL, NULL},
};

static int pkg_repo(struct cli *cli, int argc, char **argv)
{
	if (cli_need_controller(cli))
		return 1;
	return dispatch_object(cli, argc, argv, "pkg repo", repo_commands);
}

static const struct command pkg_commands[] = {
	{"search", pkg_search, "[QUERY]"},
	{"show", pkg_show, "NAME [--config] [--version V]"},
	{"list", pkg_list, "(the installs)"},
	{"install", pkg_install,
	 "PACKAGE [--version V] [--name N] [--options FILE] [--set K=V]... [--dry-run] "
	 "[--detach]"},
	{"upgrade", pkg_upgrade,
	 "NAME [--version V] [--options FILE] [--set K=V]... [--dry-run] "
	 "[--detach]"},
	{"rollback", pkg_rollback, "NAME [REVISION] [--detach]"},
	{"uninstall", pkg_uninstall, "NAME [--keep-volumes] [--detach]"},
	{"repo", pkg_repo, "add NAME DIR|URL|BUNDLE | list | refresh NAME | remove NAME"},
	{"bundle", pkg_bundle, "NAME[@VERSION]... -o FILE"},
	{NULL, NULL, NULL},
};

int do_pkg(struct cli *cli, int argc, char **argv)
{
	return dispatch_object(cli, argc, argv, "pkg", pkg_commands);
}
