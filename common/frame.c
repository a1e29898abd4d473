/*
 * NDJSON framing: one JSON object per line, at most ACRE_FRAME_MAX bytes a
 * line.  The reader never holds more than one maximal line, so a client that
 * streams garbage without newlines costs a bounded amount of memory.
 */
#include "common.h"

void acre_frame_init(struct acre_frame_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void acre_frame_free(struct acre_frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int reserve(struct acre_frame_reader *r, size_t extra)
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

int acre_frame_feed(struct acre_frame_reader *r, const void *data, size_t n)
{
	const char *p = data;
	if (r->discarding) {
		/* Drop the rest of an over-long line; resume after its newline. */
		const char *nl = memchr(p, '\n', n);
		if (!nl)
			return 0;
		r->discarding = false;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	if (n == 0)
		return 0;
	if (reserve(r, n) < 0)
		return -ENOMEM;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

static void consume(struct acre_frame_reader *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
	r->scanned = 0;
}

enum acre_frame_result acre_frame_next(struct acre_frame_reader *r, char **line, size_t *len)
{
	/* The previous line handed out is still at the front: drop it now. */
	if (r->handed) {
		consume(r, r->handed);
		r->handed = 0;
	}
	char *nl = r->len > r->scanned ? memchr(r->buf + r->scanned, '\n', r->len - r->scanned)
				       : NULL;
	if (!nl) {
		r->scanned = r->len;
		if (r->len > r->max) {
			/* No newline within the limit: report once, then discard up to it. */
			r->len = 0;
			r->scanned = 0;
			r->discarding = true;
			return ACRE_FRAME_TOO_LONG;
		}
		return ACRE_FRAME_NONE;
	}
	size_t n = (size_t)(nl - r->buf);
	if (n > r->max) {
		consume(r, n + 1);
		return ACRE_FRAME_TOO_LONG;
	}
	*nl = '\0';
	r->handed = n + 1;
	if (n && r->buf[n - 1] == '\r')
		r->buf[--n] = '\0';
	*line = r->buf;
	*len = n;
	return ACRE_FRAME_LINE;
}

char *acre_frame_encode(const json_t *msg, size_t *len)
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
