/*
 * What the CLI prints: JSON (-j compact, -p pretty), aligned tables
 * otherwise, and a failure as one line on stderr, or under -j/-p as an
 * error object on stdout, so that a script reads every outcome as JSON.
 */
#include "cli.h"

struct table {
	size_t ncols;
	ACRE_VEC(char *) cells; /* row-major, ncols a row, row 0 is the header */
};

void output_json(const struct cli *cli, const json_t *j)
{
	size_t flags =
		cli->output == OUTPUT_PRETTY ? JSON_INDENT(2) | JSON_SORT_KEYS : JSON_COMPACT;
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
	if (!t || acre_vec_reserve(&t->cells, t->ncols) < 0)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		t->cells.v[t->cells.n++] = strdup(cells[i] ? cells[i] : "");
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	const char *s = t->cells.v[row * t->ncols + col];
	return s ? s : "";
}

void table_print(struct table *t, FILE *out)
{
	if (!t)
		return;
	size_t nrows = t->cells.n / t->ncols;
	_cleanup_free_ size_t *width = calloc(t->ncols, sizeof(size_t));
	if (!width)
		return;
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = strlen(cell(t, r, c));
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c + 1 < t->ncols; c++)
			fprintf(out, "%-*s  ", (int)width[c], cell(t, r, c));
		fprintf(out, "%s\n", cell(t, r, t->ncols - 1));
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cells.n; i++)
		free(t->cells.v[i]);
	acre_vec_free(&t->cells);
	free(t);
}

int cli_fail(const struct cli *cli, const struct acre_error *err)
{
	if (cli->output == OUTPUT_TABLE) {
		fprintf(stderr, "acre: %s\n", err->message);
		return 1;
	}
	_cleanup_json_ json_t *j = render_error(err);
	if (j)
		output_json(cli, j);
	fflush(stdout);
	return 1;
}

int cli_failf(const struct cli *cli, int code, const char *fmt, ...)
{
	struct acre_error err = {.code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	return cli_fail(cli, &err);
}
