/*
 * `acre app list|show|versions`: the pool's apps as the controller keeps
 * them (GET /v1/apps, /v1/apps/{name}, /v1/apps/{name}/versions).  -j and
 * -p print the controller's objects as they come (cli/README.md lists
 * their keys); tables show the same: an app's state and version, its
 * instances one a row, and the deployment under way with its steps and
 * what it waits for.
 */
#include "cli.h"

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* "deploying (d-17)", "stopped (3 when started)" */
static void state_text(const json_t *app, char *buf, size_t len)
{
	const char *dep = json_string_value(json_object_get(app, "deployment"));
	json_t *stopped = json_object_get(app, "stopped_instances");
	if (dep)
		snprintf(buf, len, "%s (%s)", render_str(app, "state"), dep);
	else if (json_is_integer(stopped))
		snprintf(buf, len, "%s (%lld when started)", render_str(app, "state"),
			 (long long)json_integer_value(stopped));
	else
		snprintf(buf, len, "%s", render_str(app, "state"));
}

int app_list(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "app list takes no arguments");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_api(cli, CLI_GET, "/v1/apps", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *apps = json_object_get(res, "apps");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, apps);
		return 0;
	}
	static const char *const headers[] = {"NAME",  "VERSION", "HEALTHY", "RUNNING",
					      "STATE", "UPDATED", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *a;
	json_array_foreach (apps, i, a) {
		char version[16], healthy[48], running[16], state[96], updated[32];
		snprintf(version, sizeof(version), "%lld", num(a, "version"));
		snprintf(healthy, sizeof(healthy), "%lld/%lld", num(a, "healthy"),
			 num(a, "instances"));
		snprintf(running, sizeof(running), "%lld", num(a, "running"));
		state_text(a, state, sizeof(state));
		render_age(json_object_get(a, "updated_at"), updated, sizeof(updated));
		const char *cells[] = {
			render_str(a, "name"), version, healthy, running, state, updated};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

/* "http:8080,metrics:9100" of an instance's ports object, "-" when none. */
static void ports_text(const json_t *ports, char *buf, size_t len)
{
	size_t o = 0;
	const char *k;
	json_t *v;
	buf[0] = '\0';
	json_object_foreach ((json_t *)ports, k, v)
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s:%lld", o ? "," : "", k,
					      (long long)json_integer_value(v));
	if (!o)
		snprintf(buf, len, "-");
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_instances(const json_t *list)
{
	static const char *const headers[] = {"INDEX",	"NAME",	 "NODE",    "ADDRESS",	"PORTS",
					      "HEALTH", "STATE", "VERSION", "RESTARTS", NULL};
	struct table *t = table_new(headers);
	size_t i;
	json_t *in;
	json_array_foreach (list, i, in) {
		char index[16], ports[256], health[48], state[64], version[16], restarts[16];
		snprintf(index, sizeof(index), "%lld", num(in, "index"));
		ports_text(json_object_get(in, "ports"), ports, sizeof(ports));
		snprintf(health, sizeof(health), "%s%s", or_dash(render_str(in, "health")),
			 json_is_false(json_object_get(in, "ready")) ? ",not-ready" : "");
		snprintf(state, sizeof(state), "%s/%s", or_dash(render_str(in, "state")),
			 or_dash(render_str(in, "slice_state")));
		snprintf(version, sizeof(version), "%lld", num(in, "version"));
		snprintf(restarts, sizeof(restarts), "%lld", num(in, "restarts"));
		const char *cells[] = {index,
				       render_str(in, "name"),
				       or_dash(json_string_value(json_object_get(in, "node"))),
				       or_dash(json_string_value(json_object_get(in, "address"))),
				       ports,
				       health,
				       state,
				       version,
				       restarts};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
}

int app_show(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre app show NAME");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *app =
		cli_api_on(cli, CLI_GET, "/v1/apps/", argv[1], NULL, NULL, &err);
	if (!app)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, app);
		return 0;
	}
	char state[96], created[32], updated[32];
	state_text(app, state, sizeof(state));
	render_age(json_object_get(app, "created_at"), created, sizeof(created));
	render_age(json_object_get(app, "updated_at"), updated, sizeof(updated));
	printf("app:        %s\n", render_str(app, "name"));
	printf("state:      %s\n", state);
	printf("version:    %lld\n", num(app, "version"));
	printf("instances:  %lld wanted, %lld running, %lld healthy\n", num(app, "instances"),
	       num(app, "running"), num(app, "healthy"));
	printf("created:    %s ago, updated %s ago\n", created, updated);
	json_t *list = json_object_get(app, "instances_detail");
	if (json_array_size(list))
		print_instances(list);
	json_t *d = json_object_get(app, "deployment_detail");
	if (json_is_object(d)) {
		printf("%s deployment:\n",
		       strcmp(render_str(d, "state"), "running") ? "last" : "running");
		deployment_print(d, "  ");
	}
	return 0;
}

/* A command as one table cell: control characters as spaces, at most max bytes and "...". */
static void one_line(char *s, size_t max)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
	if (strlen(s) > max)
		snprintf(s + max - 3, 4, "...");
}

int app_versions(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_failf(cli, EINVAL, "usage: acre app versions NAME");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *res =
		cli_api_on(cli, CLI_GET, "/v1/apps/", argv[1], "/versions", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	json_t *versions = json_object_get(res, "versions");
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, versions);
		return 0;
	}
	static const char *const headers[] = {"VERSION", "INSTANCES-RUN", "CREATED",
					      "HEALTHY", "COMMAND",	  NULL};
	struct table *t = table_new(headers);
	size_t i, k;
	json_t *v, *arg;
	json_array_foreach (versions, i, v) {
		char number[16], inst[16], created[32], command[256] = "";
		size_t o = 0;
		snprintf(number, sizeof(number), "%lld", num(v, "number"));
		snprintf(inst, sizeof(inst), "%lld", num(v, "instance_version"));
		render_age(json_object_get(v, "created_at"), created, sizeof(created));
		json_t *slice = json_object_get(json_object_get(v, "spec"), "slice");
		json_array_foreach (json_object_get(slice, "command"), k, arg)
			if (o < sizeof(command))
				o += (size_t)snprintf(command + o, sizeof(command) - o, "%s%s",
						      k ? " " : "", json_string_value(arg) ?: "");
		one_line(command, 48);
		const char *cells[] = {number, inst, created,
				       json_is_true(json_object_get(v, "healthy")) ? "yes" : "no",
				       or_dash(command)};
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}
