/*
 * `acre node drain ID [--detach]`: cordons the node and moves every app
 * instance off it, never taking an app below its max_unavailable (POST
 * /v1/nodes/{id}/drain), then follows GET /v1/nodes/{id}'s "drain" object
 * every 250 ms until nothing remains, a line each time what remains or
 * what it waits for changes.  SIGINT, SIGTERM or SIGHUP stops following;
 * the drain goes on.  -j prints the node as it was at the end.
 */
#include "cli.h"

#define POLL_MS 250

static long long remaining(const json_t *node)
{
	json_t *r = json_object_get(json_object_get(node, "drain"), "remaining");
	return json_is_integer(r) ? (long long)json_integer_value(r) : 0;
}

static void print_progress(const json_t *node, long long *last, char *waiting, size_t len)
{
	const char *w = render_str(json_object_get(node, "drain"), "waiting_for");
	long long r = remaining(node);
	if (r == *last && !strcmp(w, waiting))
		return;
	char when[16];
	_cleanup_json_ json_t *now = json_integer((json_int_t)acre_now_ms());
	cli_clock(now, when, sizeof(when));
	if (*w) /* the controller's words say what remains: "2 instances to move, within ..." */
		printf("%s  %s\n", when, w);
	else
		printf("%s  %lld instance%s to move\n", when, r, r == 1 ? "" : "s");
	fflush(stdout);
	*last = r;
	snprintf(waiting, len, "%s", w);
}

static int follow(struct cli *cli, const char *id, json_t **node)
{
	long long last = -1;
	char waiting[512] = "";
	int rc = 0, failures = 0;
	cli_follow_signals(true);
	for (bool first = true;; first = false) {
		if (!first)
			cli_pause_ms(POLL_MS);
		if (cli_interrupted()) {
			if (cli->output == OUTPUT_TABLE)
				fprintf(stderr,
					"acre: stopped following the drain of %s; it goes on (acre "
					"node show %s)\n",
					id, id);
			rc = 130;
			break;
		}
		struct acre_error err = {0};
		json_t *n = cli_api_on(cli, CLI_GET, "/v1/nodes/", id, NULL, NULL, &err);
		if (!n && cli_unreachable(&err) && ++failures < CLI_UNREACHABLE_POLLS)
			continue;
		if (!n) {
			acre_error_prefix(&err, "following the drain of %s (it goes on)", id);
			rc = cli_fail(cli, &err);
			break;
		}
		failures = 0;
		json_decref(*node);
		*node = n;
		if (cli->output == OUTPUT_TABLE)
			print_progress(n, &last, waiting, sizeof(waiting));
		if (remaining(n) == 0)
			break;
	}
	cli_follow_signals(false);
	return rc;
}

int node_drain(struct cli *cli, int argc, char **argv)
{
	bool detach = false;
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--detach") || !strcmp(argv[i], "-d"))
			detach = true;
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			return cli_failf(cli, EINVAL, "usage: acre node drain ID [--detach]");
	}
	if (!id)
		return cli_failf(cli, EINVAL, "usage: acre node drain ID [--detach]");
	if (cli_need_controller(cli))
		return 1;
	struct acre_error err = {0};
	_cleanup_json_ json_t *res =
		cli_api_on(cli, CLI_POST, "/v1/nodes/", id, "/drain", NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (detach) {
		if (cli->output != OUTPUT_TABLE)
			output_json(cli, res);
		else
			printf("%s draining%s%s (acre node show %s)\n", id,
			       *render_str(res, "waiting_for") ? ": waiting for " : "",
			       render_str(res, "waiting_for"), id);
		return 0;
	}
	_cleanup_json_ json_t *node = NULL;
	int rc = follow(cli, id, &node);
	if (cli->output != OUTPUT_TABLE && node)
		output_json(cli, node);
	else if (rc == 0)
		printf("%s drained: cordoned, no app instance left on it\n", id);
	return rc;
}
