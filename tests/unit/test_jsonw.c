/*
 * The JSON writer: what it writes parses back (with jansson) to what was
 * meant — nesting, commas, escaped strings of every awkward kind, jansson
 * values embedded, integers at their limits, reals as jansson writes them
 * — and a string that is not UTF-8 (by acre_str_is_utf8's rules) refuses
 * the text rather than writing something invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/common.h"
#include "common/jsonw.h"

static json_t *parse(struct acre_jsonw *w)
{
	size_t len;
	_cleanup_free_ char *text = acre_jsonw_take(w, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	json_error_t jerr;
	json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("%s does not parse: %s", text, jerr.text);
	return j;
}

static void test_nesting_and_commas(void **state)
{
	(void)state;
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	acre_jsonw_object(&w);
	acre_jsonw_key(&w, "a");
	acre_jsonw_int(&w, -7);
	acre_jsonw_key(&w, "list");
	acre_jsonw_array(&w);
	acre_jsonw_bool(&w, true);
	acre_jsonw_null(&w);
	acre_jsonw_object(&w);
	acre_jsonw_end_object(&w);
	acre_jsonw_array(&w);
	acre_jsonw_end_array(&w);
	acre_jsonw_string(&w, NULL);
	acre_jsonw_end_array(&w);
	acre_jsonw_key(&w, "big");
	acre_jsonw_int(&w, INT64_MAX);
	acre_jsonw_end_object(&w);
	_cleanup_json_ json_t *got = parse(&w);
	_cleanup_json_ json_t *want = json_pack("{s:i,s:[b,n,{},[],n],s:I}", "a", -7, "list", 1,
						"big", (json_int_t)INT64_MAX);
	assert_true(json_equal(got, want));
}

static void test_strings_are_escaped(void **state)
{
	(void)state;
	const char *awkward[] = {"plain",
				 "quote \" here",
				 "back\\slash",
				 "new\nline\ttab\r",
				 "\x01\x1f control",
				 "é ü 漢字 😀",
				 "\"},\"x\":{\"",
				 ""};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(awkward); i++) {
		struct acre_jsonw w;
		acre_jsonw_init(&w);
		acre_jsonw_object(&w);
		acre_jsonw_key(&w, awkward[i]);
		acre_jsonw_string(&w, awkward[i]);
		acre_jsonw_end_object(&w);
		_cleanup_json_ json_t *got = parse(&w);
		assert_int_equal(json_object_size(got), 1);
		assert_string_equal(json_string_value(json_object_get(got, awkward[i])),
				    awkward[i]);
	}
}

static void test_jansson_values_embedded(void **state)
{
	(void)state;
	_cleanup_json_ json_t *spec = json_pack("{s:s,s:[s,s],s:{s:s}}", "name", "a\"b", "command",
						"sleep", "1", "labels", "app", "web\n");
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	acre_jsonw_array(&w);
	acre_jsonw_json(&w, spec);
	acre_jsonw_json(&w, spec);
	acre_jsonw_end_array(&w);
	acre_jsonw_newline(&w);
	_cleanup_json_ json_t *got = parse(&w);
	assert_int_equal(json_array_size(got), 2);
	assert_true(json_equal(json_array_get(got, 0), spec));
	assert_true(json_equal(json_array_get(got, 1), spec));
}

static void test_not_utf8_refuses_the_text(void **state)
{
	(void)state;
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	acre_jsonw_array(&w);
	acre_jsonw_string(&w, "fine");
	acre_jsonw_string(&w, "bad \xff byte");
	acre_jsonw_end_array(&w);
	size_t len;
	assert_null(acre_jsonw_take(&w, &len));
	/* The writer is usable again afterwards. */
	acre_jsonw_string(&w, "again");
	char *text = acre_jsonw_take(&w, &len);
	assert_string_equal(text, "\"again\"");
	free(text);
}

static void test_rewind(void **state)
{
	(void)state;
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	acre_jsonw_array(&w);
	acre_jsonw_int(&w, 1);
	struct acre_jsonw_mark m = acre_jsonw_mark(&w);
	acre_jsonw_string(&w, "dropped");
	acre_jsonw_rewind(&w, m);
	acre_jsonw_int(&w, 2);
	acre_jsonw_end_array(&w);
	size_t len;
	char *text = acre_jsonw_take(&w, &len);
	assert_string_equal(text, "[1,2]");
	free(text);
}

/* One writer for many texts, its buffer kept. */
static void test_reset_and_text(void **state)
{
	(void)state;
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	for (int i = 0; i < 3; i++) {
		acre_jsonw_reset(&w);
		acre_jsonw_object(&w);
		acre_jsonw_key(&w, "i");
		acre_jsonw_int(&w, i);
		acre_jsonw_end_object(&w);
		char want[16];
		snprintf(want, sizeof(want), "{\"i\":%d}", i);
		assert_string_equal(acre_jsonw_text(&w), want);
	}
	acre_jsonw_string(&w, "\xc3"); /* cut in the middle of a character */
	assert_null(acre_jsonw_text(&w));
	acre_jsonw_reset(&w);
	acre_jsonw_null(&w);
	assert_string_equal(acre_jsonw_text(&w), "null");
	acre_jsonw_free(&w);
}

/* The writer's one-walk check takes exactly the strings acre_str_is_utf8 takes. */
static void test_utf8_rules_as_acre_str_is_utf8(void **state)
{
	(void)state;
	static const unsigned char bytes[] = {'a',  '"',  0x01, 0x7f, 0x80, 0xbf, 0xc0,
					      0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0,
					      0xf0, 0x9f, 0xf4, 0x90, 0xf8, 0xff};
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	unsigned seed = 42;
	for (int i = 0; i < 200000; i++) {
		char s[8];
		size_t n = (size_t)(rand_r(&seed) % 7);
		for (size_t k = 0; k < n; k++)
			s[k] = (char)bytes[rand_r(&seed) % sizeof(bytes)];
		s[n] = '\0';
		acre_jsonw_reset(&w);
		acre_jsonw_string(&w, s);
		bool ok = acre_jsonw_text(&w) != NULL;
		if (ok != acre_str_is_utf8(s, n))
			fail_msg("string %d of %zu bytes: the writer %s it", i, n,
				 ok ? "took" : "refused");
		if (ok) {
			json_t *j = json_loads(acre_jsonw_text(&w), JSON_DECODE_ANY, NULL);
			assert_non_null(j);
			assert_string_equal(json_string_value(j), s);
			json_decref(j);
		}
	}
	acre_jsonw_free(&w);
}

static void test_integers_at_their_limits(void **state)
{
	(void)state;
	static const int64_t v[] = {0, 1, -1, 9, 10, -10, 1795000000123, INT64_MAX, INT64_MIN};
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char want[32];
		snprintf(want, sizeof(want), "%lld", (long long)v[i]);
		acre_jsonw_reset(&w);
		acre_jsonw_int(&w, v[i]);
		assert_string_equal(acre_jsonw_text(&w), want);
	}
	acre_jsonw_free(&w);
}

/* Reals come out as jansson writes them, so both encoders give one text. */
static void test_reals_as_jansson_writes_them(void **state)
{
	(void)state;
	/* each twice, the second from the writer's memory of the last one */
	static const double v[] = {0.1,	  0.1,	      1.0,     1.0,  1.25, 0.001, 64,
				   0,	  -0.0,	      -0.0,    0,    -2.5, 1e20,  1e-5,
				   1e300, 123456.789, 2.0 / 3, 1e17, 1e16, 1e16};
	struct acre_jsonw w;
	acre_jsonw_init(&w);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		acre_jsonw_reset(&w);
		acre_jsonw_real(&w, v[i]);
		json_t *j = json_real(v[i]);
		char *want = json_dumps(j, JSON_ENCODE_ANY);
		assert_string_equal(acre_jsonw_text(&w), want);
		free(want);
		json_decref(j);
	}
	acre_jsonw_reset(&w);
	acre_jsonw_real(&w, 1.0 / 0.0);
	assert_null(acre_jsonw_text(&w));
	acre_jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_strings_are_escaped),
		cmocka_unit_test(test_jansson_values_embedded),
		cmocka_unit_test(test_not_utf8_refuses_the_text),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_reset_and_text),
		cmocka_unit_test(test_reals_as_jansson_writes_them),
		cmocka_unit_test(test_utf8_rules_as_acre_str_is_utf8),
		cmocka_unit_test(test_integers_at_their_limits),
	};
	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
