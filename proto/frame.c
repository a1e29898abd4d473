/*
 * The line reader for a plain fd (the CLI's connection, the supervisor's
 * socket): the caller reads bytes however it must (recvmsg, to take passed
 * fds too) and feeds them in; whole lines come out, one JSON object each,
 * at most `max` bytes a line (line.c says what happens to a longer one).
 * Fed after every read, it holds at most one maximal line and one read.
 * And the other way: one message as one line.
 */
#include "line_internal.h"

void acre_proto_frame_init(struct acre_proto_frame *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void acre_proto_frame_free(struct acre_proto_frame *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int reserve(struct acre_proto_frame *r, size_t extra)
{
	if (r->len + extra + 1 <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 4096;
	while (cap < r->len + extra + 1)
		cap *= 2;
	char *b = realloc(r->buf, cap);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->cap = cap;
	return 0;
}

int acre_proto_frame_feed(struct acre_proto_frame *r, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (reserve(r, n) < 0)
		return -ENOMEM;
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

static void consume(struct acre_proto_frame *r, size_t n)
{
	if (n == 0)
		return;
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
	r->scanned = 0;
}

enum acre_proto_line acre_proto_frame_next(struct acre_proto_frame *r, char **line, size_t *len)
{
	/* The previous line handed out is still at the front: drop it now. */
	consume(r, r->handed);
	r->handed = 0;
	for (;;) {
		char *nl = r->len > r->scanned
				   ? memchr(r->buf + r->scanned, '\n', r->len - r->scanned)
				   : NULL;
		if (!nl)
			r->scanned = r->len;
		size_t drop;
		ssize_t eol = nl ? nl - r->buf : -1;
		switch (line_step(&r->discarding, r->max, r->len, eol, &drop)) {
		case LINE_STEP_WAIT:
			consume(r, drop);
			return ACRE_PROTO_LINE_WAIT;
		case LINE_STEP_TOO_LONG:
			consume(r, drop);
			return ACRE_PROTO_LINE_TOO_LONG;
		case LINE_STEP_SKIP:
			consume(r, drop);
			continue;
		case LINE_STEP_LINE:
			break;
		}
		size_t n = (size_t)eol;
		*nl = '\0';
		r->handed = drop;
		if (n && r->buf[n - 1] == '\r')
			r->buf[--n] = '\0';
		*line = r->buf;
		*len = n;
		return ACRE_PROTO_LINE;
	}
}

char *acre_proto_frame_encode(const json_t *msg, size_t *len)
{
	/* Six significant digits are plenty for a percentage and keep big replies small. */
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = realloc(s, n + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}
