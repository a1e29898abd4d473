/*
 * bpftool-style dispatch: a table of commands per object, matched exactly
 * or by a unique prefix ("acre sl st" is "acre slice stat").  An unknown or
 * ambiguous word is an error like any other, so -j prints it as JSON.
 */
#include "cli.h"

/* "a b c" of the table's names, those starting with `prefix` when it is given. */
static void names_of(const struct command *table, const char *prefix, char *buf, size_t len)
{
	size_t n = 0, plen = prefix ? strlen(prefix) : 0;
	buf[0] = '\0';
	for (const struct command *c = table; c->name && n < len; c++)
		if (!prefix || strncmp(c->name, prefix, plen) == 0)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", c->name);
}

const struct command *dispatch_find(const struct command *table, const char *word, const char *what,
				    struct acre_error *err)
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
	char names[256];
	if (matches > 1) {
		names_of(table, word, names, sizeof(names));
		acre_error_set(err, EINVAL, NULL, "%s %s is ambiguous: %s", what, word, names);
	} else {
		names_of(table, NULL, names, sizeof(names));
		acre_error_set(err, EINVAL, NULL, "unknown %s %s (one of: %s)", what, word, names);
	}
	return NULL;
}

void dispatch_usage(const struct command *table, const char *object, FILE *out)
{
	for (const struct command *c = table; c->name; c++)
		fprintf(out, "  acre %s %s %s\n", object, c->name, c->usage ? c->usage : "");
}

int dispatch_object(struct cli *cli, int argc, char **argv, const char *object,
		    const struct command *table)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		FILE *out = argc < 2 ? stderr : stdout;
		fputs("usage:\n", out);
		dispatch_usage(table, object, out);
		return argc < 2 ? 1 : 0;
	}
	char what[48];
	snprintf(what, sizeof(what), "%s command", object);
	struct acre_error err = {0};
	const struct command *cmd = dispatch_find(table, argv[1], what, &err);
	if (!cmd)
		return cli_fail(cli, &err);
	return cmd->fn(cli, argc - 1, argv + 1);
}

int cli_need_controller(const struct cli *cli)
{
	if (cli->controller && *cli->controller)
		return 0;
	struct acre_error err;
	acre_error_set(&err, EINVAL, "--controller",
		       "this needs the pool's controller: --controller URL or $ACRE_CONTROLLER");
	return cli_fail(cli, &err);
}
