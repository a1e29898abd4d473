/*
 * A long-lived GET on the controller (an event stream) on the caller's
 * event loop, through libevent's evhttp client: the body is handed on as
 * it arrives, and the end says why the stream stopped.  cli_api
 * (http.c) is the one-request counterpart.
 */
#ifndef ACRE_CLI_HTTP_STREAM_H
#define ACRE_CLI_HTTP_STREAM_H

#include "cli.h"

#include <event2/buffer.h>
#include <event2/event.h>

struct cli_stream;

struct cli_stream_ops {
	/* Bytes of a 2xx body as they come: move or drain what is taken from buf. */
	void (*body)(struct evbuffer *buf, void *ud);
	/*
	 * Called once, when the stream is over: `status` is the HTTP status
	 * (0 when none came), err says why it ended (the controller's own
	 * error for a non-2xx answer).  The stream may not be freed inside.
	 */
	void (*end)(int status, const struct acre_error *err, void *ud);
};

/*
 * GET path (with its query) from cli->controller with the API token and,
 * if not NULL, a Last-Event-ID header.  A stream silent for idle_s
 * seconds ends (the server's keep-alives prove it is there).
 */
int cli_stream_open(struct cli *cli, struct event_base *base, const char *path,
		    const char *last_event_id, int idle_s, const struct cli_stream_ops *ops,
		    void *ud, struct cli_stream **out, struct acre_error *err);
/* Closes the connection; never from inside the stream's own callbacks. */
void cli_stream_free(struct cli_stream *s);

#endif
