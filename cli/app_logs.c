/*
 * `acre app logs [-f] [--tail N] APP [--instance N]`: the log of instance
 * N's slice (APP-N), or of every instance, each line prefixed by the
 * instance's name, through GET /v1/slices/{name}/logs (text/plain,
 * streamed; ?follow=1 keeps it open while the slice runs, ?tail=N starts
 * N lines from the end).  Without -f the instances' logs come one after
 * the other; with -f all at once, line by line, until every stream ends
 * or SIGINT, SIGTERM or SIGHUP (status 0).
 */
#include "http_stream.h"

#include <event2/http.h>
#include <getopt.h>
#include <signal.h>

#define FOLLOW_IDLE_S (24 * 3600) /* a quiet slice is not a broken stream */

struct log_stream {
	struct logs *logs;
	struct cli_stream *stream;
	struct evbuffer *pending; /* a line not ended yet */
	char name[ACRE_APP_NAME_MAX + 16];
	bool ended;
};

struct logs {
	struct cli *cli;
	struct event_base *base;
	const char *app, *tail;
	bool follow, prefix;
	long instance; /* -1: all */
	ACRE_VEC(struct log_stream *) streams;
	size_t running;
	int status;
};

static void print_line(struct log_stream *s, const char *line, size_t n)
{
	if (s->logs->prefix)
		printf("%s | ", s->name);
	fwrite(line, 1, n, stdout);
	fputc('\n', stdout);
}

static void on_body(struct evbuffer *buf, void *ud)
{
	struct log_stream *s = ud;
	evbuffer_add_buffer(s->pending, buf);
	char *line;
	size_t n;
	while ((line = evbuffer_readln(s->pending, &n, EVBUFFER_EOL_LF))) {
		print_line(s, line, n);
		free(line);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		event_base_loopbreak(s->logs->base); /* the reader went away (| head) */
}

static void on_end(int status, const struct acre_error *err, void *ud)
{
	struct log_stream *s = ud;
	size_t n = evbuffer_get_length(s->pending);
	if (n)
		print_line(s, (const char *)evbuffer_pullup(s->pending, -1), n);
	evbuffer_drain(s->pending, n);
	fflush(stdout);
	if (status < 200 || status > 299) {
		struct acre_error e = *err;
		acre_error_prefix(&e, "logs of %s", s->name);
		s->logs->status = cli_fail(s->logs->cli, &e);
	}
	s->ended = true;
	if (--s->logs->running == 0)
		event_base_loopbreak(s->logs->base);
}

static const struct cli_stream_ops ops = {on_body, on_end};

static int open_one(struct logs *l, struct log_stream *s, struct acre_error *err)
{
	_cleanup_free_ char *escaped = cli_uri_escape(s->name);
	_cleanup_free_ char *path = NULL;
	if (!escaped ||
	    asprintf(&path, "/v1/slices/%s/logs%s%s%s", escaped, l->follow ? "?follow=1" : "",
		     l->tail ? (l->follow ? "&tail=" : "?tail=") : "", l->tail ? l->tail : "") < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int idle = l->follow ? FOLLOW_IDLE_S : (int)((l->cli->timeout_ms + 999) / 1000);
	l->running++;
	return cli_stream_open(l->cli, l->base, path, NULL, idle ? idle : FOLLOW_IDLE_S, &ops, s,
			       &s->stream, err);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* The instances' names: APP-N, or every instance the app has, in index order. */
static int add_streams(struct logs *l, struct acre_error *err)
{
	_cleanup_json_ json_t *app = NULL;
	json_t *list = NULL;
	size_t n = 1;
	if (l->instance < 0) {
		app = cli_api_on(l->cli, CLI_GET, "/v1/apps/", l->app, NULL, NULL, err);
		if (!app)
			return -EIO;
		list = json_object_get(app, "instances_detail");
		if (!(n = json_array_size(list)))
			return acre_error_set(err, ENOENT, NULL, "app %s has no instances", l->app);
	}
	for (size_t i = 0; i < n; i++) {
		struct log_stream *s = calloc(1, sizeof(*s));
		if (s && !(s->pending = evbuffer_new()))
			free(TAKE_PTR(s));
		if (!s || acre_vec_push(&l->streams, s) < 0) {
			if (s)
				evbuffer_free(s->pending);
			free(s);
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
		s->logs = l;
		if (list)
			snprintf(s->name, sizeof(s->name), "%s",
				 render_str(json_array_get(list, i), "name"));
		else
			snprintf(s->name, sizeof(s->name), "%s-%ld", l->app, l->instance);
	}
	return 0;
}

/* With -f every stream at once; without, one after the other, so that each comes whole. */
static int run_streams(struct logs *l, struct acre_error *err)
{
	for (size_t i = 0; i < l->streams.n; i++) {
		int rc = open_one(l, l->streams.v[i], err);
		if (rc < 0)
			return rc;
		if (!l->follow || i + 1 == l->streams.n) {
			event_base_dispatch(l->base);
			if (event_base_got_break(l->base) && l->running)
				return 0; /* a signal, or stdout closed */
		}
	}
	return 0;
}

static int parse(struct logs *l, int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"tail", required_argument, NULL, 't'},
		{"instance", required_argument, NULL, 'i'},
		{0},
	};
	const char *usage = "usage: acre app logs [-f] [--tail N] APP [--instance N]";
	int c;
	char *end;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c == 'f') {
			l->follow = true;
		} else if (c == 't') {
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0)
				return cli_failf(l->cli, EINVAL, "--tail %s: a number of lines",
						 optarg);
			l->tail = optarg;
		} else if (c == 'i') {
			l->instance = strtol(optarg, &end, 10);
			if (!*optarg || *end || l->instance < 0 || l->instance >= 1000000)
				return cli_failf(l->cli, EINVAL,
						 "--instance %s: an instance's index (0, 1, ...)",
						 optarg);
		} else {
			return cli_failf(l->cli, EINVAL, "%s: unknown option (%s)",
					 argv[optind - 1], usage);
		}
	}
	if (argc - optind != 1)
		return cli_failf(l->cli, EINVAL, "%s", usage);
	l->app = argv[optind];
	if (!acre_app_name_valid(l->app))
		return cli_failf(l->cli, EINVAL, "app logs %s: not an app's name", l->app);
	l->prefix = l->instance < 0;
	return cli_need_controller(l->cli);
}

int app_logs(struct cli *cli, int argc, char **argv)
{
	struct logs l = {.cli = cli, .instance = -1};
	struct acre_error err = {0};
	struct event *sigs[3] = {0};
	static const int signos[] = {SIGINT, SIGTERM, SIGHUP};
	int rc = parse(&l, argc, argv);
	if (rc)
		return rc;
	if (!(l.base = event_base_new()))
		return cli_failf(cli, ENOMEM, "out of memory");
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(signos); i++)
		if ((sigs[i] = evsignal_new(l.base, signos[i], on_signal, l.base)))
			event_add(sigs[i], NULL);
	if (add_streams(&l, &err) < 0 || run_streams(&l, &err) < 0)
		rc = cli_fail(cli, &err);
	else
		rc = l.status;
	for (size_t i = 0; i < l.streams.n; i++) {
		cli_stream_free(l.streams.v[i]->stream);
		evbuffer_free(l.streams.v[i]->pending);
		free(l.streams.v[i]);
	}
	acre_vec_free(&l.streams);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(sigs); i++)
		if (sigs[i])
			event_free(sigs[i]);
	event_base_free(l.base);
	return rc;
}
