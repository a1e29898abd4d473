/*
 * The line reader, at both ends: the same bytes fed to the fd reader (in
 * chunks whose sizes the input chooses) and to the evbuffer reader give the
 * same lines, none longer than the limit, none holding a '\n', and a
 * too-long line is reported once.  A small limit makes long lines cheap.
 */
#include "proto/proto.h"

#include <event2/buffer.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL_MAX 64

struct seen {
	size_t lines, too_long;
	uint64_t hash;
};

static void see(struct seen *s, size_t max, bool drop_cr, enum acre_proto_line r, const char *line,
		size_t len)
{
	if (r == ACRE_PROTO_LINE_TOO_LONG) {
		s->too_long++;
		return;
	}
	if (len > max || memchr(line, '\n', len) || line[len] != '\0')
		abort();
	/* The fd reader drops a '\r' before the '\n'; the libevent one leaves it to the parser. */
	if (drop_cr && len && line[len - 1] == '\r')
		len--;
	s->lines++;
	for (size_t i = 0; i < len; i++)
		s->hash = s->hash * 1099511628211u + (unsigned char)line[i];
	s->hash = s->hash * 1099511628211u + 0x100;
}

static void frame_read_lines(const uint8_t *data, size_t size, size_t chunk, size_t max,
			     struct seen *s)
{
	struct acre_proto_frame r;
	acre_proto_frame_init(&r, max);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (acre_proto_frame_feed(&r, data + off, n) < 0)
			abort();
		char *line;
		size_t len;
		enum acre_proto_line res;
		while ((res = acre_proto_frame_next(&r, &line, &len)) != ACRE_PROTO_LINE_WAIT)
			see(s, max, false, res, line, len);
	}
	acre_proto_frame_free(&r);
}

static void evbuf_read_lines(const uint8_t *data, size_t size, size_t chunk, struct seen *s)
{
	struct evbuffer *in = evbuffer_new();
	if (!in)
		abort();
	bool discarding = false;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		evbuffer_add(in, data + off, n);
		char *line;
		size_t len;
		enum acre_proto_line res;
		while ((res = acre_proto_line_next(in, &discarding, &line, &len)) !=
		       ACRE_PROTO_LINE_WAIT) {
			see(s, ACRE_PROTO_LINE_MAX, true, res, line, len);
			if (res == ACRE_PROTO_LINE)
				evbuffer_drain(in, len + 1);
		}
	}
	evbuffer_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte chooses the size of the pieces the bytes arrive in. */
	size_t chunk = 1 + data[0] % 97;
	data++;
	size--;

	/* A small limit, so that over-long lines are cheap to reach. */
	struct seen small = {0};
	frame_read_lines(data, size, chunk, SMALL_MAX, &small);

	/* Both readers at the protocol's limit see the same lines. */
	struct seen a = {0}, b = {0};
	frame_read_lines(data, size, chunk, ACRE_PROTO_LINE_MAX, &a);
	evbuf_read_lines(data, size, chunk, &b);
	if (a.lines != b.lines || a.too_long != b.too_long || a.hash != b.hash)
		abort();
	return 0;
}
