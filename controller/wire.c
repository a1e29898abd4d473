/*
 * The protocol's lines over a libevent connection, for both of its ends
 * (the controller's node port and the supervisor's link): the next line of
 * at most ACRE_FRAME_MAX bytes, with a longer one skipped whole while it
 * arrives, and what went wrong when a connection fails.
 */
#include "controller.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <string.h>

enum acre_wire_line acre_controller_wire_next(struct evbuffer *in, bool *discarding, char **line,
					      size_t *len)
{
	size_t eol;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		size_t have = evbuffer_get_length(in);
		if (have <= ACRE_FRAME_MAX)
			return ACRE_WIRE_WAIT;
		/* Too long already, its end not here yet: drop what came, and the rest as it comes. */
		evbuffer_drain(in, have);
		if (*discarding)
			return ACRE_WIRE_WAIT;
		*discarding = true;
		return ACRE_WIRE_TOO_LONG;
	}
	size_t n = (size_t)p.pos;
	if (*discarding || n > ACRE_FRAME_MAX) {
		bool reported = *discarding;
		*discarding = false;
		evbuffer_drain(in, n + 1);
		return reported ? ACRE_WIRE_SKIPPED : ACRE_WIRE_TOO_LONG;
	}
	char *s = (char *)evbuffer_pullup(in, (ssize_t)n + 1);
	if (!s)
		return ACRE_WIRE_WAIT;
	s[n] = '\0'; /* the '\n' */
	*line = s;
	*len = n;
	return ACRE_WIRE_LINE;
}

void acre_controller_wire_error(struct bufferevent *bev, char *why, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(bev);
	if (e)
		ERR_error_string_n(e, why, len);
	else
		snprintf(why, len, "%s", strerror(EVUTIL_SOCKET_ERROR()));
}
