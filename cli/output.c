/*
 * What the CLI prints: JSON as the supervisor sent it (-j compact, -p
 * pretty), aligned tables otherwise, and errors as one line on stderr.
 */
#include "cli.h"

struct table {
	size_t ncols, nrows, cap;
	char **cells; /* row-major, nrows * ncols, row 0 is the header */
};

void output_json(const struct cli *cli, const json_t *j)
{
	size_t flags = cli->output == OUTPUT_PRETTY ? JSON_INDENT(2) | JSON_SORT_KEYS : JSON_COMPACT;
	json_dumpf(j, stdout, flags);
	fputc('\n', stdout);
}

struct table *table_new(const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	while (headers[t->ncols])
		t->ncols++;
	table_add(t, headers);
	return t;
}

void table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (!grown)
			return;
		t->cells = grown;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void table_print(struct table *t, FILE *out)
{
	size_t *width = calloc(t->ncols, sizeof(size_t));
	if (!width)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t w = s ? strlen(s) : 0;
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c + 1 < t->ncols; c++)
			fprintf(out, "%-*s  ", (int)width[c], t->cells[r * t->ncols + c]);
		fprintf(out, "%s\n", t->cells[r * t->ncols + t->ncols - 1]);
	}
	free(width);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int cli_fail(const struct acre_error *err)
{
	fprintf(stderr, "acre: %s\n", err->message);
	return 1;
}

int cli_failf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("acre: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

void fmt_age(int64_t since_ms, char *buf, size_t len)
{
	if (since_ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	int64_t d = acre_now_ms() - since_ms;
	acre_format_duration(d > 0 ? (uint64_t)d : 0, buf, len);
}

void fmt_bytes_or_dash(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		acre_format_size((uint64_t)json_integer_value(v), buf, len);
	else
		snprintf(buf, len, "-");
}
