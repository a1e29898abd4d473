/*
 * Following a deployment to its end: GET /v1/deployments/{id} every 250 ms,
 * one line per new step with its counts (at the target version of those
 * wanted, available), and a last line that says how it ended.  A
 * deployment that fails, rolls back, is cancelled or pauses makes the
 * command fail with the reason on stderr (under -j, the final deployment
 * in the printed object says it).  SIGINT, SIGTERM or SIGHUP stops the
 * following, not the deployment, and says so.  Polling rather than the
 * event stream keeps it to one request at a time, and a controller that
 * restarts meanwhile is asked again (for up to 15 s) rather than given up.
 */
#include "cli.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

#define POLL_MS 250

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const int follow_sigs[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved[3];

void cli_follow_signals(bool on)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns at once */
	sigemptyset(&sa.sa_mask);
	if (on)
		interrupted = 0;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(follow_sigs); i++)
		sigaction(follow_sigs[i], on ? &sa : &saved[i], on ? &saved[i] : NULL);
}

bool cli_interrupted(void)
{
	return interrupted != 0;
}

void cli_pause_ms(int ms)
{
	if (!interrupted)
		poll(NULL, 0, ms);
}

void cli_clock(const json_t *ms, char *buf, size_t len)
{
	json_int_t v = json_integer_value(ms);
	time_t t = (time_t)(v / 1000);
	struct tm tm;
	if (v <= 0 || !localtime_r(&t, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "--:--:--");
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

void deployment_print_step(const json_t *d, const json_t *step)
{
	char when[16];
	cli_clock(json_object_get(step, "at"), when, sizeof(when));
	printf("%s  %lld/%lld at target, %lld available  %s\n", when, num(step, "at_target"),
	       num(d, "wanted"), num(step, "available"), render_str(step, "text"));
}

/* The steps not printed yet: after the seen-th, or after the last time seen if they were
 * trimmed meanwhile. */
static void print_new_steps(const json_t *d, size_t *seen, json_int_t *last_at)
{
	json_t *steps = json_object_get(d, "steps");
	size_t i = *seen;
	if (json_array_size(steps) < *seen)
		for (i = 0; i < json_array_size(steps) &&
			    json_integer_value(json_object_get(json_array_get(steps, i), "at")) <=
				    *last_at;
		     i++)
			;
	for (; i < json_array_size(steps); i++) {
		json_t *s = json_array_get(steps, i);
		deployment_print_step(d, s);
		*last_at = json_integer_value(json_object_get(s, "at"));
	}
	*seen = json_array_size(steps);
	fflush(stdout);
}

static void print_waiting(const json_t *d, char *last, size_t len)
{
	const char *w = render_str(d, "waiting_for");
	if (!*w || !strcmp(w, last))
		return;
	printf("          %s%s\n", strncmp(w, "waiting", 7) ? "waiting for " : "", w);
	snprintf(last, len, "%s", w);
	fflush(stdout);
}

void deployment_title(const json_t *d, char *buf, size_t len)
{
	json_t *from = json_object_get(d, "from_version");
	if (json_is_integer(from) && json_integer_value(from) != num(d, "to_version"))
		snprintf(buf, len, "%s %s, version %lld -> %lld", render_str(d, "kind"),
			 render_str(d, "app"), (long long)json_integer_value(from),
			 num(d, "to_version"));
	else
		snprintf(buf, len, "%s %s, version %lld", render_str(d, "kind"),
			 render_str(d, "app"), num(d, "to_version"));
}

/* After a rollback by itself, the app's running deployment is the one taking it back. */
static void say_rollback(struct cli *cli, const json_t *d)
{
	struct acre_error err = {0};
	_cleanup_json_ json_t *app =
		cli_api_on(cli, CLI_GET, "/v1/apps/", render_str(d, "app"), NULL, NULL, &err);
	const char *next = json_string_value(json_object_get(app, "deployment"));
	if (next && strcmp(next, render_str(d, "id")))
		fprintf(stderr,
			"acre: %s goes back under deployment %s (acre deployment show %s)\n",
			render_str(d, "app"), next, next);
}

/* 0 when it succeeded; else the reason on stderr (table output) and 1. */
static int ending(struct cli *cli, const json_t *d)
{
	const char *state = render_str(d, "state"), *id = render_str(d, "id");
	const char *reason = render_str(d, "reason");
	bool ok = !strcmp(state, "succeeded");
	if (cli->output != OUTPUT_TABLE)
		return ok ? 0 : 1;
	if (ok && !strcmp(render_str(d, "kind"), "remove")) {
		printf("deployment %s succeeded: %s removed\n", id, render_str(d, "app"));
		return 0;
	}
	if (ok) {
		json_int_t ms = json_integer_value(json_object_get(d, "ended_at")) -
				json_integer_value(json_object_get(d, "started_at"));
		char took[32] = "";
		if (ms > 0 && ms < 60000) /* a deployment of a second is not "0s" */
			snprintf(took, sizeof(took), "%.1fs", (double)ms / 1000.0);
		else if (ms > 0)
			acre_format_duration((uint64_t)ms, took, sizeof(took));
		printf("deployment %s succeeded: %s at version %lld, %lld/%lld available%s%s%s\n",
		       id, render_str(d, "app"), num(d, "to_version"), num(d, "available"),
		       num(d, "wanted"), *took ? " (" : "", took, *took ? ")" : "");
		return 0;
	}
	fprintf(stderr, "acre: deployment %s %s%s%s\n", id,
		!strcmp(state, "rolled_back") ? "rolled back" : state, *reason ? ": " : "", reason);
	if (!strcmp(state, "rolled_back"))
		say_rollback(cli, d);
	else if (!strcmp(state, "paused"))
		fprintf(stderr,
			"acre: it waits half-way for inspection: acre app show %s; then acre app "
			"rollback %s, or acre deployment cancel %s\n",
			render_str(d, "app"), render_str(d, "app"), id);
	return 1;
}

/*
 * A removal's deployment goes with its app: once both are gone (404), the
 * removal is over, which is its success.
 */
static bool removed(struct cli *cli, const json_t *d)
{
	struct acre_error err = {0};
	if (strcmp(render_str(d, "kind"), "remove") != 0)
		return false;
	_cleanup_json_ json_t *app =
		cli_api_on(cli, CLI_GET, "/v1/apps/", render_str(d, "app"), NULL, NULL, &err);
	return !app && err.code == ENOENT;
}

int deployment_follow(struct cli *cli, const json_t *start, json_t **final)
{
	_cleanup_json_ json_t *d = json_deep_copy(start);
	size_t seen = 0;
	json_int_t last_at = 0;
	char waiting[512] = "", title[256];
	const char *id = render_str(start, "id");
	int rc = 0, failures = 0;
	*final = NULL;
	if (!d)
		return cli_failf(cli, ENOMEM, "out of memory");
	if (cli->output == OUTPUT_TABLE) {
		deployment_title(d, title, sizeof(title));
		printf("deployment %s: %s\n", id, title);
	}
	cli_follow_signals(true);
	for (;;) {
		if (cli->output == OUTPUT_TABLE) {
			print_new_steps(d, &seen, &last_at);
			print_waiting(d, waiting, sizeof(waiting));
		}
		if (strcmp(render_str(d, "state"), "running") != 0)
			break;
		cli_pause_ms(POLL_MS);
		if (interrupted)
			break;
		struct acre_error err = {0};
		json_t *next = cli_api_on(cli, CLI_GET, "/v1/deployments/", id, NULL, NULL, &err);
		if (!next && cli_unreachable(&err) && ++failures < CLI_UNREACHABLE_POLLS)
			continue;
		if (!next && err.code == ENOENT && removed(cli, d)) {
			json_object_set_new(d, "state", json_string("succeeded"));
			json_object_set_new(d, "waiting_for", json_string(""));
			break;
		}
		if (!next) {
			acre_error_prefix(&err, "following deployment %s (it goes on)", id);
			rc = cli_fail(cli, &err);
			break;
		}
		failures = 0;
		json_decref(d);
		d = next;
	}
	cli_follow_signals(false);
	if (rc)
		return rc;
	if (interrupted && !strcmp(render_str(d, "state"), "running")) {
		if (cli->output == OUTPUT_TABLE)
			fprintf(stderr,
				"acre: stopped following deployment %s; it goes on (acre "
				"deployment "
				"show %s)\n",
				id, id);
		*final = TAKE_PTR(d);
		return 130;
	}
	rc = ending(cli, d);
	*final = TAKE_PTR(d);
	return rc;
}
