/*
 * A slice's log through the pool: GET /v1/slices/NAME/logs from the
 * controller, which relays it from the slice's node; the body is copied
 * to stdout as it comes, byte for byte what the node's own `slice logs`
 * prints.  Used by `acre slice logs [-f]` and by a foreground run, which
 * follows the log until the slice ends.  A stream that breaks off (the
 * node or the controller went) is an error, never the log's end.
 */
#include "cli.h"
#include "http_stream.h"

#include <event2/buffer.h>

/* Following, a quiet slice sends nothing for as long as it likes. */
#define FOLLOW_IDLE_S (365 * 24 * 3600)

static void on_body(struct evbuffer *buf, void *ud)
{
	struct pool_log *pl = ud;
	while (evbuffer_get_length(buf) > 0) {
		int n = evbuffer_write(buf, STDOUT_FILENO);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			acre_error_set(&pl->err, errno ? errno : EIO, NULL, "writing the log: %s",
				       strerror(errno ? errno : EIO));
			evbuffer_drain(buf, evbuffer_get_length(buf));
			pl->done = true;
			event_base_loopbreak(pl->base);
			return;
		}
	}
}

static void on_end(int status, const struct acre_error *err, void *ud)
{
	struct pool_log *pl = ud;
	if (pl->done)
		return;
	pl->done = true;
	pl->status = status;
	if (status >= 200 && status <= 299 && err->code == 0) {
		pl->complete = true;
	} else if (status >= 200 && status <= 299) {
		acre_error_set(&pl->err, ECONNRESET, NULL,
			       "the log of slice %s broke off: its node or the controller went "
			       "away (%s)",
			       pl->name, err->message);
	} else {
		pl->err = *err;
	}
	event_base_loopbreak(pl->base);
}

static const struct cli_stream_ops ops = {on_body, on_end};

int pool_log_open(struct cli *cli, struct event_base *base, const char *name, bool follow,
		  struct pool_log *pl, struct acre_error *err)
{
	*pl = (struct pool_log){.base = base};
	snprintf(pl->name, sizeof(pl->name), "%s", name);
	_cleanup_free_ char *escaped = cli_uri_escape(name);
	_cleanup_free_ char *path = NULL;
	if (!escaped ||
	    asprintf(&path, "/v1/slices/%s/logs%s", escaped, follow ? "?follow=1" : "") < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int idle_s = follow ? FOLLOW_IDLE_S : (int)((cli->timeout_ms + 999) / 1000);
	return cli_stream_open(cli, base, path, NULL, idle_s > 0 ? idle_s : FOLLOW_IDLE_S, &ops, pl,
			       &pl->stream, err);
}

void pool_log_close(struct pool_log *pl)
{
	cli_stream_free(pl->stream);
	pl->stream = NULL;
}

int slice_pool_logs(struct cli *cli, const char *name, bool follow, struct acre_error *err)
{
	struct event_base *base = event_base_new();
	if (!base)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	struct pool_log pl;
	int rc = pool_log_open(cli, base, name, follow, &pl, err);
	if (rc == 0) {
		event_base_dispatch(base);
		if (!pl.complete) {
			*err = pl.err;
			rc = -(err->code ? err->code : EIO);
		}
	}
	pool_log_close(&pl);
	event_base_free(base);
	return rc;
}
