/*
 * bpftool-style dispatch: a table of commands per object, matched exactly
 * or by a unique prefix ("acre sl st" is "acre slice stat").
 */
#include "cli.h"

const struct command *dispatch_find(const struct command *table, const char *word,
				    const char *what)
{
	const struct command *found = NULL;
	size_t n = strlen(word), matches = 0;
	for (const struct command *c = table; c->name; c++) {
		if (strcmp(c->name, word) == 0)
			return c;
		if (n && strncmp(c->name, word, n) == 0) {
			found = c;
			matches++;
		}
	}
	if (matches == 1)
		return found;
	if (matches > 1) {
		fprintf(stderr, "acre: %s %s is ambiguous:", what, word);
		for (const struct command *c = table; c->name; c++)
			if (strncmp(c->name, word, n) == 0)
				fprintf(stderr, " %s", c->name);
		fputc('\n', stderr);
	} else {
		fprintf(stderr, "acre: unknown %s %s (one of:", what, word);
		for (const struct command *c = table; c->name; c++)
			fprintf(stderr, " %s", c->name);
		fputs(")\n", stderr);
	}
	return NULL;
}

void dispatch_usage(const struct command *table, const char *object, FILE *out)
{
	for (const struct command *c = table; c->name; c++)
		fprintf(out, "  acre %s %s %s\n", object, c->name, c->usage ? c->usage : "");
}
