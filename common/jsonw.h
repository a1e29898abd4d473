/*
 * One JSON writer for the hot paths where building a jansson tree per
 * message would cost more than the message itself (thousands of replies
 * and assignments a second): values appended to a growing buffer, every
 * string escaped as RFC 8259 asks, commas placed by the writer, and a
 * jansson value embedded as jansson encodes it.  Elsewhere, jansson.
 *
 *	struct acre_jsonw w;
 *	acre_jsonw_init(&w);
 *	acre_jsonw_object(&w);
 *	acre_jsonw_key(&w, "slice");
 *	acre_jsonw_string(&w, name);
 *	acre_jsonw_end_object(&w);
 *	char *text = acre_jsonw_take(&w, &len);   NULL: out of memory, or bad UTF-8
 */
#ifndef ACRE_COMMON_JSONW_H
#define ACRE_COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct acre_jsonw {
	char *buf;
	size_t len, cap;
	bool comma; /* a value precedes: the next one needs a comma */
	int error;  /* the first failure (ENOMEM, EILSEQ): the text is then refused */
	/* The last real written and its text: a writer used again and again sees the same few. */
	double real;
	unsigned char real_len; /* 0: none yet */
	char real_text[31];
};

void acre_jsonw_init(struct acre_jsonw *w);
void acre_jsonw_free(struct acre_jsonw *w);
/* The text, NUL-terminated (len without it), or NULL after a failure; the writer is reset. */
char *acre_jsonw_take(struct acre_jsonw *w, size_t *len);
/* The text so far, kept by the writer (NULL after a failure), for a writer used again and again. */
const char *acre_jsonw_text(struct acre_jsonw *w);
/* Empty again, its buffer kept. */
void acre_jsonw_reset(struct acre_jsonw *w);

void acre_jsonw_object(struct acre_jsonw *w);
void acre_jsonw_end_object(struct acre_jsonw *w);
void acre_jsonw_array(struct acre_jsonw *w);
void acre_jsonw_end_array(struct acre_jsonw *w);
/* A member's name, inside an object: the value follows. */
void acre_jsonw_key(struct acre_jsonw *w, const char *key);
/* A string (UTF-8, escaped); NULL writes null. */
void acre_jsonw_string(struct acre_jsonw *w, const char *s);
void acre_jsonw_int(struct acre_jsonw *w, int64_t v);
/* A real, as jansson writes one (17 significant digits, ".0" on a whole number); finite only. */
void acre_jsonw_real(struct acre_jsonw *w, double v);
void acre_jsonw_bool(struct acre_jsonw *w, bool v);
void acre_jsonw_null(struct acre_jsonw *w);
/* A jansson value (any type), as jansson writes it compactly. */
void acre_jsonw_json(struct acre_jsonw *w, const json_t *v);
/* A value already encoded (valid JSON, as this writer or jansson wrote it): copied as is. */
void acre_jsonw_raw(struct acre_jsonw *w, const char *text, size_t len);
/* Where the text is now, to go back to (a value that turned out too much for a message). */
struct acre_jsonw_mark {
	size_t len;
	bool comma;
};
struct acre_jsonw_mark acre_jsonw_mark(const struct acre_jsonw *w);
void acre_jsonw_rewind(struct acre_jsonw *w, struct acre_jsonw_mark m);
/* A newline at the end of a line (NDJSON): no comma, nothing else. */
void acre_jsonw_newline(struct acre_jsonw *w);

#endif
