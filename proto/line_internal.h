/*
 * The one rule of line framing that both line readers (frame.c over bytes
 * read from an fd, wire.c over a libevent buffer) follow: a line longer
 * than the limit is reported once and its bytes are dropped up to the next
 * newline, however they arrive, so a peer that streams garbage costs one
 * error and a bounded amount of memory, and the line after it is read as
 * usual.  Internal to proto/.
 */
#ifndef ACRE_PROTO_LINE_INTERNAL_H
#define ACRE_PROTO_LINE_INTERNAL_H

#include "proto.h"

enum line_step {
	LINE_STEP_WAIT,	    /* no whole line: drop *drop bytes (all, while discarding), then wait */
	LINE_STEP_LINE,	    /* a line of `eol` bytes: hand it out, then drop *drop bytes */
	LINE_STEP_TOO_LONG, /* an over-long line began: drop *drop bytes, report it */
	LINE_STEP_SKIP,	    /* the end of a reported line: drop *drop bytes, look again */
};

/*
 * What to do with the `have` bytes a reader holds, whose first '\n' is at
 * `eol` (-1 when there is none yet); *discarding (false on a new stream)
 * remembers a reported line whose end has not come yet.
 */
enum line_step line_step(bool *discarding, size_t max, size_t have, ssize_t eol, size_t *drop);

#endif
