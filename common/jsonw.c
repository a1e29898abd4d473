/*
 * The JSON writer of jsonw.h: a growing buffer and the escaping of
 * strings.  Control characters, '"' and '\' are escaped; other bytes pass
 * as they are once the string is known to be UTF-8 (JSON text is UTF-8,
 * and jansson refuses anything else: so does this).
 */
#include "common/jsonw.h"
#include "common/strv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void acre_jsonw_init(struct acre_jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void acre_jsonw_free(struct acre_jsonw *w)
{
	free(w->buf);
	acre_jsonw_init(w);
}

/* Room for extra bytes and a NUL: a bigger buffer only now and then. */
static bool grow(struct acre_jsonw *w, size_t extra)
{
	if (w->error)
		return false;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + extra + 1)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (!b) {
		w->error = ENOMEM;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

static inline bool reserve(struct acre_jsonw *w, size_t extra)
{
	if (__builtin_expect(!w->error && w->len + extra + 1 <= w->cap, 1))
		return true;
	return grow(w, extra);
}

/* The text is NUL-terminated only when it is asked for (text, take). */
static inline void put(struct acre_jsonw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void put_char(struct acre_jsonw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/* Before a value: the comma that separates it from the one before. */
static void sep(struct acre_jsonw *w)
{
	if (w->comma)
		put_char(w, ',');
	w->comma = true;
}

char *acre_jsonw_take(struct acre_jsonw *w, size_t *len)
{
	char *s = w->error ? NULL : w->buf;
	if (s) {
		s[w->len] = '\0';
		*len = w->len;
	} else {
		free(w->buf);
	}
	if (s && !w->buf)
		s = strdup(""); /* nothing written */
	acre_jsonw_init(w);
	return s;
}

const char *acre_jsonw_text(struct acre_jsonw *w)
{
	if (w->error || !reserve(w, 0))
		return NULL;
	w->buf[w->len] = '\0';
	return w->buf;
}

void acre_jsonw_reset(struct acre_jsonw *w)
{
	w->len = 0;
	w->comma = false;
	w->error = 0;
}

void acre_jsonw_object(struct acre_jsonw *w)
{
	sep(w);
	put_char(w, '{');
	w->comma = false;
}

void acre_jsonw_end_object(struct acre_jsonw *w)
{
	put_char(w, '}');
	w->comma = true;
}

void acre_jsonw_array(struct acre_jsonw *w)
{
	sep(w);
	put_char(w, '[');
	w->comma = false;
}

void acre_jsonw_end_array(struct acre_jsonw *w)
{
	put_char(w, ']');
	w->comma = true;
}

/* A string in quotes, escaped and checked in one walk: this is the writer's hot loop. */
static void quoted(struct acre_jsonw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	put_char(w, '"');
	for (;;) {
		unsigned char c = *p;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (c >= 0x80) {
			size_t n = acre_utf8_sequence_len(p, SIZE_MAX);
			if (!n) {
				if (!w->error)
					w->error = EILSEQ;
				return;
			}
			p += n;
			continue;
		}
		put(w, (const char *)run, (size_t)(p - run));
		if (c == 0)
			break;
		char esc[8];
		switch (c) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		case '\b':
			put(w, "\\b", 2);
			break;
		case '\f':
			put(w, "\\f", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		}
		run = ++p;
	}
	put_char(w, '"');
}

void acre_jsonw_key(struct acre_jsonw *w, const char *key)
{
	sep(w);
	quoted(w, key);
	put_char(w, ':');
	w->comma = false;
}

void acre_jsonw_string(struct acre_jsonw *w, const char *s)
{
	if (!s) {
		acre_jsonw_null(w);
		return;
	}
	sep(w);
	quoted(w, s);
}

void acre_jsonw_int(struct acre_jsonw *w, int64_t v)
{
	/* by hand: printf's machinery costs more than the rest of a small object */
	char num[24], *e = num + sizeof(num), *d = e;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--d = '-';
	sep(w);
	put(w, d, (size_t)(e - d));
}

void acre_jsonw_real(struct acre_jsonw *w, double v)
{
	/* printf's %g is the dearest part of a small object: the last one is kept */
	if (w->real_len && !memcmp(&v, &w->real, sizeof(v))) {
		sep(w);
		put(w, w->real_text, w->real_len);
		return;
	}
	char num[40];
	int n = isfinite(v) ? snprintf(num, sizeof(num), "%.17g", v) : -1;
	if (n < 0 || (size_t)n >= sizeof(num) - 2) {
		if (!w->error)
			w->error = EINVAL;
		return;
	}
	char *e = strchr(num, 'e');
	if (!e && !strchr(num, '.')) {
		/* read back as a real, not an integer */
		memcpy(num + n, ".0", 3);
		n += 2;
	} else if (e) {
		/* "1e+20", "1e-05" as jansson has them: "1e20", "1e-5" */
		char *from = e + 1, *to = e + 1;
		if (*from == '+')
			from++;
		else if (*from == '-')
			from = ++to;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(num);
	}
	if ((size_t)n < sizeof(w->real_text)) {
		memcpy(w->real_text, num, (size_t)n);
		w->real_len = (unsigned char)n;
		w->real = v;
	}
	sep(w);
	put(w, num, (size_t)n);
}

void acre_jsonw_bool(struct acre_jsonw *w, bool v)
{
	sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void acre_jsonw_null(struct acre_jsonw *w)
{
	sep(w);
	put(w, "null", 4);
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	struct acre_jsonw *w = data;
	put(w, buf, size);
	return w->error ? -1 : 0;
}

/* jansson's own encoder, for what the walk below does not take (a string holding a NUL). */
static void dumped(struct acre_jsonw *w, const json_t *v)
{
	if (json_dump_callback(v, dump_cb, w, JSON_COMPACT | JSON_ENCODE_ANY) < 0 && !w->error)
		w->error = ENOMEM;
}

static bool plain_string(const json_t *v)
{
	const char *s = json_string_value(v);
	return strlen(s) == json_string_length(v);
}

/*
 * A jansson value written by this writer's own walk: several times faster
 * than jansson's encoder, which hands its output over in a callback per
 * token (a million slices' specs go through here), and the same text but
 * for escapes, which both write as RFC 8259 allows.
 */
static void walk(struct acre_jsonw *w, const json_t *v, unsigned depth)
{
	const char *key;
	json_t *member;
	size_t i;
	if (depth > 2048) { /* deeper than jansson's parser makes: refused, not a stack overflow */
		if (!w->error)
			w->error = EINVAL;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		acre_jsonw_object(w);
		json_object_foreach ((json_t *)v, key, member) {
			acre_jsonw_key(w, key);
			walk(w, member, depth + 1);
		}
		acre_jsonw_end_object(w);
		break;
	case JSON_ARRAY:
		acre_jsonw_array(w);
		json_array_foreach (v, i, member)
			walk(w, member, depth + 1);
		acre_jsonw_end_array(w);
		break;
	case JSON_STRING:
		if (plain_string(v)) {
			acre_jsonw_string(w, json_string_value(v));
		} else {
			sep(w);
			dumped(w, v);
		}
		break;
	case JSON_INTEGER:
		acre_jsonw_int(w, json_integer_value(v));
		break;
	case JSON_REAL:
		acre_jsonw_real(w, json_real_value(v));
		break;
	case JSON_TRUE:
		acre_jsonw_bool(w, true);
		break;
	case JSON_FALSE:
		acre_jsonw_bool(w, false);
		break;
	case JSON_NULL:
		acre_jsonw_null(w);
		break;
	}
}

void acre_jsonw_json(struct acre_jsonw *w, const json_t *v)
{
	if (!v) {
		sep(w);
		if (!w->error)
			w->error = EINVAL;
		return;
	}
	walk(w, v, 0);
}

void acre_jsonw_raw(struct acre_jsonw *w, const char *text, size_t len)
{
	sep(w);
	put(w, text, len);
}

void acre_jsonw_newline(struct acre_jsonw *w)
{
	put_char(w, '\n');
}

struct acre_jsonw_mark acre_jsonw_mark(const struct acre_jsonw *w)
{
	return (struct acre_jsonw_mark){.len = w->len, .comma = w->comma};
}

void acre_jsonw_rewind(struct acre_jsonw *w, struct acre_jsonw_mark m)
{
	if (m.len > w->len)
		return;
	w->len = m.len;
	w->comma = m.comma;
	if (w->buf)
		w->buf[w->len] = '\0';
}
