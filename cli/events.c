/*
 * `acre events`: follows the pool's event stream (GET /v1/events,
 * Server-Sent Events) from the controller, one line per event — time,
 * seq, type, event, the object's name and state — or the event's JSON
 * object per line with -j.  When the stream breaks it reconnects after a
 * short back-off and resumes after the last event it printed
 * (Last-Event-ID), so nothing is printed twice or skipped; what the
 * controller no longer keeps is reported as a `lagged` line.  --once
 * prints the stored events asked for and exits.  SIGINT, SIGTERM, SIGHUP
 * and a closed stdout end it with status 0.
 */
#include "http_stream.h"

#include <event2/http.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>

#define IDLE_TIMEOUT_S 45 /* three of the controller's keep-alives */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 8000
#define LINE_MAX_BYTES (16u << 20)
#define USAGE	       "usage: acre events [--since N] [--type T]... [--label K=V]... [--once]"

struct follow {
	struct cli *cli;
	struct event_base *base;
	struct cli_stream *stream;
	struct event *retry;
	struct event *signals[3];
	char path[4096];
	bool once;
	bool connected; /* a 2xx came once: later failures are retried */
	bool stop;
	int status; /* the exit status once stopped */
	uint64_t backoff_ms;
	long long last_id; /* -1 until an event with an id came */
	/* the SSE event being read */
	struct evbuffer *pending; /* text not yet a whole line */
	struct evbuffer *data;
	char id[32], event[64];
};

static void stop(struct follow *f, int status)
{
	f->stop = true;
	f->status = status;
	event_base_loopbreak(f->base);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void format_time(long long ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char day[32] = "?";
	if (localtime_r(&t, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lld", day, ms % 1000);
}

/* The object's name: slices and apps have one, nodes an id. */
static const char *object_name(const json_t *obj)
{
	static const char *const keys[] = {"name", "id", "hostname"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(keys); i++)
		if (*str(obj, keys[i]))
			return str(obj, keys[i]);
	return "-";
}

static void print_event(struct follow *f, const json_t *j)
{
	if (f->cli->output != OUTPUT_TABLE) {
		output_json(f->cli, j);
		return;
	}
	char when[48];
	const char *type = str(j, "type");
	const json_t *obj = json_object_get(j, type);
	format_time((long long)json_integer_value(json_object_get(j, "time")), when, sizeof(when));
	const char *state = str(obj, "state");
	printf("%s  %8lld  %-8s %-12s %s%s%s\n", when,
	       (long long)json_integer_value(json_object_get(j, "seq")), type, str(j, "event"),
	       object_name(obj), *state ? "  " : "", state);
}

static void print_lagged(struct follow *f, const json_t *j)
{
	if (f->cli->output != OUTPUT_TABLE) {
		output_json(f->cli, j);
		return;
	}
	char when[48];
	format_time(acre_now_ms(), when, sizeof(when));
	long long first = (long long)json_integer_value(json_object_get(j, "first"));
	long long last = (long long)json_integer_value(json_object_get(j, "last"));
	printf("%s  %8lld  %-8s %-12s events %lld..%lld were dropped before they could be read\n",
	       when, last, "lagged", "-", first, last);
}

/* A whole SSE event: id, event, data. */
static void dispatch(struct follow *f)
{
	size_t len = evbuffer_get_length(f->data);
	const char *text = len ? (const char *)evbuffer_pullup(f->data, -1) : "";
	if (f->id[0])
		f->last_id = strtoll(f->id, NULL, 10);
	_cleanup_json_ json_t *j = len ? json_loadb(text, len, 0, NULL) : NULL;
	if (!strcmp(f->event, "live")) {
		if (f->once)
			stop(f, 0);
	} else if (!j) {
		if (len)
			fprintf(stderr, "acre: an event that is not JSON (%s)\n", f->event);
	} else if (!strcmp(f->event, "lagged")) {
		print_lagged(f, j);
	} else {
		print_event(f, j);
	}
	f->backoff_ms = BACKOFF_MIN_MS; /* it works: the next break is retried soon */
	if (fflush(stdout) != 0 || ferror(stdout))
		stop(f, 0); /* the reader went away (| head): that is the end */
}

/* One line of the stream (https://html.spec.whatwg.org/#event-stream-interpretation). */
static void sse_line(struct follow *f, const char *line, size_t n)
{
	if (n == 0) {
		if (f->event[0] || evbuffer_get_length(f->data))
			dispatch(f);
		f->id[0] = f->event[0] = '\0';
		evbuffer_drain(f->data, evbuffer_get_length(f->data));
		return;
	}
	if (line[0] == ':')
		return; /* a comment: the controller's keep-alive */
	const char *colon = memchr(line, ':', n);
	size_t klen = colon ? (size_t)(colon - line) : n;
	const char *v = colon ? colon + 1 : line + n;
	if (*v == ' ')
		v++;
	size_t vlen = (size_t)(line + n - v);
	if (klen == 2 && !strncmp(line, "id", 2)) {
		snprintf(f->id, sizeof(f->id), "%.*s", (int)vlen, v);
	} else if (klen == 5 && !strncmp(line, "event", 5)) {
		snprintf(f->event, sizeof(f->event), "%.*s", (int)vlen, v);
	} else if (klen == 4 && !strncmp(line, "data", 4)) {
		if (evbuffer_get_length(f->data))
			evbuffer_add(f->data, "\n", 1);
		evbuffer_add(f->data, v, vlen);
	}
}

static void on_body(struct evbuffer *buf, void *ud)
{
	struct follow *f = ud;
	f->connected = true;
	evbuffer_add_buffer(f->pending, buf);
	char *line;
	size_t n;
	while (!f->stop && (line = evbuffer_readln(f->pending, &n, EVBUFFER_EOL_CRLF))) {
		sse_line(f, line, n);
		free(line);
	}
	if (evbuffer_get_length(f->pending) > LINE_MAX_BYTES) {
		fprintf(stderr, "acre: the event stream sent a line longer than 16M\n");
		stop(f, 1);
	}
}

static void on_end(int status, const struct acre_error *err, void *ud)
{
	struct follow *f = ud;
	if (f->stop)
		return;
	bool answered = status >= 200 && status <= 299;
	if ((status && !answered) || (!f->connected && !answered)) {
		stop(f, cli_fail(f->cli, err)); /* refused, or the controller is not there at all */
		return;
	}
	f->connected = true;
	if (f->once) {
		fprintf(stderr, "acre: %s before the stored events were all sent\n", err->message);
		stop(f, 1);
		return;
	}
	fprintf(stderr, "acre: %s; reconnecting in %.1fs\n", err->message,
		(double)f->backoff_ms / 1000);
	struct timeval tv = {(time_t)(f->backoff_ms / 1000),
			     (suseconds_t)(f->backoff_ms % 1000) * 1000};
	event_add(f->retry, &tv);
	f->backoff_ms = f->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : f->backoff_ms * 2;
}

static const struct cli_stream_ops stream_ops = {on_body, on_end};

static int connect_stream(struct follow *f, struct acre_error *err)
{
	cli_stream_free(f->stream);
	f->stream = NULL;
	/* A half-read event of the broken stream comes again, whole. */
	evbuffer_drain(f->pending, evbuffer_get_length(f->pending));
	evbuffer_drain(f->data, evbuffer_get_length(f->data));
	f->id[0] = f->event[0] = '\0';
	char last[32];
	if (f->last_id >= 0)
		snprintf(last, sizeof(last), "%lld", f->last_id);
	return cli_stream_open(f->cli, f->base, f->path, f->last_id >= 0 ? last : NULL,
			       IDLE_TIMEOUT_S, &stream_ops, f, &f->stream, err);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct follow *f = arg;
	struct acre_error err = {0};
	if (connect_stream(f, &err) < 0)
		stop(f, cli_fail(f->cli, &err));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	stop(arg, 0);
}

static int add_param(const struct cli *cli, char *path, size_t len, const char *key,
		     const char *value)
{
	_cleanup_free_ char *enc = evhttp_encode_uri(value);
	size_t n = strlen(path);
	int w = enc ? snprintf(path + n, len - n, "%c%s=%s", strchr(path, '?') ? '&' : '?', key,
			       enc)
		    : -1;
	if (w < 0 || (size_t)w >= len - n)
		return cli_failf(cli, EINVAL, "events: too many or too long filters");
	return 0;
}

/* The options into f->path: /v1/events?since=N&type=T&label=K%3DV... */
static int parse_args(struct follow *f, int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'},
		{"type", required_argument, NULL, 't'},
		{"label", required_argument, NULL, 'l'},
		{"once", no_argument, NULL, 'o'},
		{"no-follow", no_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	snprintf(f->path, sizeof(f->path), "/v1/events");
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 's':
			errno = 0;
			if (!*optarg || *optarg == '-' || strtoll(optarg, &end, 10) < 0 || *end ||
			    errno)
				return cli_failf(
					f->cli, EINVAL,
					"--since %s: expected an event's seq (0: all kept)",
					optarg);
			if (add_param(f->cli, f->path, sizeof(f->path), "since", optarg))
				return 1;
			break;
		case 't':
			if (add_param(f->cli, f->path, sizeof(f->path), "type", optarg))
				return 1;
			break;
		case 'l':
			if (!strchr(optarg, '=') || *optarg == '=')
				return cli_failf(f->cli, EINVAL, "--label %s: expected KEY=VALUE",
						 optarg);
			if (add_param(f->cli, f->path, sizeof(f->path), "label", optarg))
				return 1;
			break;
		case 'o':
			f->once = true;
			break;
		case 'h':
			puts(USAGE);
			return -1;
		default:
			return cli_failf(f->cli, EINVAL, USAGE);
		}
	}
	if (optind < argc)
		return cli_failf(f->cli, EINVAL, USAGE);
	return 0;
}

static int follow(struct follow *f)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct acre_error err = {0};
	f->base = event_base_new();
	f->pending = evbuffer_new();
	f->data = evbuffer_new();
	if (!f->base || !f->pending || !f->data ||
	    !(f->retry = event_new(f->base, -1, 0, on_retry, f)))
		return cli_failf(f->cli, ENOMEM, "out of memory");
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(sigs); i++)
		if (!(f->signals[i] = evsignal_new(f->base, sigs[i], on_signal, f)) ||
		    event_add(f->signals[i], NULL) < 0)
			return cli_failf(f->cli, ENOMEM, "out of memory");
	if (connect_stream(f, &err) < 0)
		return cli_fail(f->cli, &err);
	event_base_dispatch(f->base);
	return f->status;
}

int do_events(struct cli *cli, int argc, char **argv)
{
	struct follow f = {.cli = cli, .last_id = -1, .backoff_ms = BACKOFF_MIN_MS};
	int rc = parse_args(&f, argc, argv);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (cli_need_controller(cli))
		return 1;
	rc = follow(&f);
	cli_stream_free(f.stream);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(f.signals); i++)
		if (f.signals[i])
			event_free(f.signals[i]);
	if (f.retry)
		event_free(f.retry);
	if (f.pending)
		evbuffer_free(f.pending);
	if (f.data)
		evbuffer_free(f.data);
	if (f.base)
		event_base_free(f.base);
	return rc;
}
