/*
 * common: what every acre binary shares — cleanup macros, errors, logging,
 * unit parsing, NDJSON framing, the protocol envelope, the slice spec and
 * the slice record kept in state files, files, clocks, a hash map, growable
 * arrays and intrusive lists.  Pure code: nothing here touches the kernel
 * beyond plain file I/O and process handles, so all of it is unit-tested
 * without root.  This is the module's one public header; each topic has a
 * header of its own below, for a reader who wants only that.
 */
#ifndef ACRE_COMMON_H
#define ACRE_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#define ACRE_VERSION "0.1.0"

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/units.h"
#include "common/spec.h"
#include "common/file.h"
#include "common/sys.h"
#include "common/map.h"
#include "common/vec.h"
#include "common/list.h"

/* ---- NDJSON framing ----------------------------------------------------- */

#define ACRE_FRAME_MAX (1024 * 1024)

/*
 * Splits a byte stream into lines of at most `max` bytes.  A longer line is
 * reported once as ACRE_FRAME_TOO_LONG and its remaining bytes are dropped
 * up to the next newline, so one bad line never takes the stream down.
 */
struct acre_frame_reader {
	char *buf;
	size_t len, cap, max;
	size_t scanned; /* bytes of buf already searched for '\n' */
	size_t handed;	/* bytes of the line last returned, dropped on the next call */
	bool discarding;
};

enum acre_frame_result { ACRE_FRAME_NONE, ACRE_FRAME_LINE, ACRE_FRAME_TOO_LONG };

void acre_frame_init(struct acre_frame_reader *r, size_t max);
void acre_frame_free(struct acre_frame_reader *r);
int acre_frame_feed(struct acre_frame_reader *r, const void *data, size_t n);
/* Returns the next complete line (without '\n', NUL-terminated, valid until the next call). */
enum acre_frame_result acre_frame_next(struct acre_frame_reader *r, char **line, size_t *len);
/* Serialise one message as a line; caller frees.  Returns NULL on ENOMEM. */
char *acre_frame_encode(const json_t *msg, size_t *len);

/* ---- protocol envelope -------------------------------------------------- */

/*
 * Requests: {"op": "...", "id": <int|string>, ...}.  Replies echo "id" and
 * carry "ok": true with "result", or "ok": false with
 * "error": {"code", "message", "field"?}.  Events of a long request carry
 * "id" and "event" and are followed by the final reply.
 */
json_t *acre_proto_ok(json_t *id, json_t *result);
json_t *acre_proto_error(json_t *id, const struct acre_error *err);
json_t *acre_proto_event(json_t *id, const char *event, json_t *data);
/* Parses one request line; on failure fills err and (if it could be read) *id. */
int acre_proto_parse_request(const char *line, size_t len, json_t **request, json_t **id,
			     const char **op, struct acre_error *err);
/* Turns an error reply back into struct acre_error on the client side. */
void acre_proto_error_from_json(const json_t *reply, struct acre_error *err);

#endif
