/*
 * pkg_render REPO PACKAGE INSTALL [OPTIONS-JSON]: the apps an install of
 * PACKAGE expands to, as a JSON array in start order, each spec as
 * POST /v1/apps takes it; errors on stderr, exit 1.  test_pkg_library.sh
 * starts the shipped packages on a pool with it, through the apps API,
 * before installs do that themselves.
 */
#include "controller/packages/packages.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: pkg_render REPO PACKAGE INSTALL [OPTIONS-JSON]\n");
		return 1;
	}
	struct pkg p;
	struct acre_error err = {0};
	if (pkg_repo_dir_load(argv[1], argv[2], NULL, &p, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	json_error_t jerr;
	json_t *given = argc == 5 ? json_loads(argv[4], 0, &jerr) : NULL, *full = NULL;
	if (argc == 5 && !given) {
		fprintf(stderr, "options: %s\n", jerr.text);
		return 1;
	}
	if (pkg_options_check(p.schema, given, &full, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	struct pkg_context ctx = {
		.install = argv[3], .package = p.name, .version = p.version, .options = full};
	struct pkg_expansion x;
	if (pkg_expand(&p, &ctx, &x, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	json_dumpf(x.apps, stdout, JSON_COMPACT);
	printf("\n");
	pkg_expansion_free(&x);
	json_decref(full);
	json_decref(given);
	pkg_free(&p);
	return 0;
}
