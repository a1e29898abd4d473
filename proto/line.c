/*
 * Line framing's one rule (line_internal.h): at most `max` bytes a line,
 * and a longer one reported once, then skipped to its newline.  Both line
 * readers ask this function what to do, so the two cannot drift apart.
 */
#include "line_internal.h"

enum line_step line_step(bool *discarding, size_t max, size_t have, ssize_t eol, size_t *drop)
{
	if (eol < 0) {
		if (!*discarding && have <= max) {
			*drop = 0; /* may still become a line */
			return LINE_STEP_WAIT;
		}
		/* Too long already, its end not here yet: drop it, and the rest as it comes. */
		*drop = have;
		if (*discarding)
			return LINE_STEP_WAIT;
		*discarding = true;
		return LINE_STEP_TOO_LONG;
	}
	*drop = (size_t)eol + 1;
	if (*discarding) {
		*discarding = false;
		return LINE_STEP_SKIP;
	}
	return (size_t)eol > max ? LINE_STEP_TOO_LONG : LINE_STEP_LINE;
}
