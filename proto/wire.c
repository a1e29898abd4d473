/*
 * The protocol's lines over a libevent connection, for both ends of the
 * node port (the controller's connections and the supervisor's link): the
 * next line of at most ACRE_PROTO_LINE_MAX bytes, read in place in the
 * connection's buffer (line.c says what happens to a longer one), and what
 * went wrong when a connection fails.
 */
#include "line_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>

enum acre_proto_line acre_proto_line_next(struct evbuffer *in, bool *discarding, char **line,
					  size_t *len)
{
	for (;;) {
		size_t eol_len, drop;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		ssize_t eol = p.pos < 0 ? -1 : (ssize_t)p.pos;
		switch (line_step(discarding, ACRE_PROTO_LINE_MAX, evbuffer_get_length(in), eol,
				  &drop)) {
		case LINE_STEP_WAIT:
			evbuffer_drain(in, drop);
			return ACRE_PROTO_LINE_WAIT;
		case LINE_STEP_TOO_LONG:
			evbuffer_drain(in, drop);
			return ACRE_PROTO_LINE_TOO_LONG;
		case LINE_STEP_SKIP:
			evbuffer_drain(in, drop);
			continue;
		case LINE_STEP_LINE:
			break;
		}
		/* Left in place for the caller, who drains it once it has handled it. */
		char *s = (char *)evbuffer_pullup(in, eol + 1);
		if (!s)
			return ACRE_PROTO_LINE_WAIT;
		s[eol] = '\0'; /* the '\n' */
		*line = s;
		*len = (size_t)eol;
		return ACRE_PROTO_LINE;
	}
}

void acre_proto_wire_error(struct bufferevent *bev, char *why, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(bev);
	if (e)
		ERR_error_string_n(e, why, len);
	else
		snprintf(why, len, "%s", strerror(EVUTIL_SOCKET_ERROR()));
}
