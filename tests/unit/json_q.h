/*
 * JSON written with ' for " in the tests' C strings (no test JSON needs an
 * apostrophe): json_q("{'a': 1}").  Shared by the unit tests of the spec.
 */
#ifndef ACRE_TEST_JSON_Q_H
#define ACRE_TEST_JSON_Q_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static inline json_t *json_q(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t jerr;
	json_t *j = json_loads(s, JSON_ALLOW_NUL, &jerr);
	if (!j)
		fail_msg("test JSON %s: %s", s, jerr.text);
	free(s);
	return j;
}

#endif
