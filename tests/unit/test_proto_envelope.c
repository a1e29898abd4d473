/*
 * The protocol envelope: which request, reply and event lines are accepted,
 * what a peer reads back for each kind of garbage (invalid UTF-8, a key
 * given twice, wrong types: each named), and the shape of ok, error and
 * event replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

/* One parsed request; the id and op point into `request`. */
struct parsed {
	json_t *request, *id;
	const char *op;
	struct acre_error err;
	int rc;
};

static struct parsed parse(const char *line)
{
	struct parsed p = {0};
	p.rc = acre_proto_parse_request(line, strlen(line), &p.request, &p.id, &p.op, &p.err);
	return p;
}

static void parsed_free(struct parsed *p)
{
	json_decref(p->request);
}

/* The request could not be read at all: nothing to free, no id to echo. */
static void expect_unreadable_field(const char *line, const char *field, const char *why)
{
	_cleanup_(parsed_free) struct parsed p = parse(line);
	assert_int_equal(p.rc, -EPROTO);
	assert_int_equal(p.err.code, EPROTO);
	assert_string_equal(p.err.field, field);
	assert_contains(p.err.message, why);
	assert_null(p.request);
	assert_null(p.id);
	assert_null(p.op);
}

static void expect_unreadable(const char *line, const char *why)
{
	expect_unreadable_field(line, "", why);
}

static void test_valid_request_integer_id(void **state)
{
	(void)state;
	_cleanup_(parsed_free) struct parsed p = parse("{\"op\":\"ps\",\"id\":1}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.op, "ps");
	assert_true(json_is_integer(p.id));
	assert_int_equal(json_integer_value(p.id), 1);
	assert_true(json_is_object(p.request));
	assert_ptr_equal(json_object_get(p.request, "id"), p.id);
}

static void test_valid_request_string_id_and_payload(void **state)
{
	(void)state;
	_cleanup_(parsed_free) struct parsed p =
		parse(" {\"id\":\"req-9\",\"op\":\"run\",\"spec\":{\"command\":[\"true\"]}}\t");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.op, "run");
	assert_string_equal(json_string_value(p.id), "req-9");
	assert_true(json_is_object(json_object_get(p.request, "spec")));
}

static void test_valid_request_with_utf8(void **state)
{
	(void)state;
	/* é, €, and an emoji outside the BMP. */
	const char *value = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	_cleanup_free_ char *line = NULL;
	assert_true(asprintf(&line, "{\"id\":2,\"op\":\"label\",\"value\":\"%s\"}", value) > 0);
	_cleanup_(parsed_free) struct parsed p = parse(line);
	assert_int_equal(p.rc, 0);
	assert_string_equal(json_string_value(json_object_get(p.request, "value")), value);
}

static void test_invalid_json(void **state)
{
	(void)state;
	expect_unreadable("{\"op\":", "invalid JSON");
	expect_unreadable("", "invalid JSON");
	expect_unreadable("{\"op\":\"ps\",\"id\":1} trailing", "invalid JSON");
	expect_unreadable("{'op':'ps'}", "invalid JSON");
	/* An escaped NUL would cut the string short in C. */
	expect_unreadable("{\"id\":1,\"op\":\"p\\u0000s\"}", "invalid JSON");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	/* A key given twice is ambiguous: refused rather than last-one-wins, and named. */
	expect_unreadable_field("{\"id\":1,\"id\":2,\"op\":\"ps\"}", "id",
				"the key \"id\" is given twice");
	expect_unreadable_field("{\"id\":1,\"op\":\"ps\",\"op\":\"rm\"}", "op",
				"the key \"op\" is given twice");
	/* Deep inside the payload too: which "memory" would the spec mean? */
	expect_unreadable_field("{\"id\":1,\"op\":\"slice.run\",\"spec\":{\"resources\":"
				"{\"memory\":\"1G\",\"memory\":\"1T\"}}}",
				"memory", "the key \"memory\" is given twice");
	/* Named as it means, not as it was written. */
	expect_unreadable_field("{\"id\":1,\"op\":\"x\",\"caf\\u00e9\":1,\"caf\xc3\xa9\":2}",
				"caf\xc3\xa9", "the key \"caf\xc3\xa9\" is given twice");
	expect_unreadable_field("{\"a\\\"b\":1,\"a\\\"b\":1}", "a\"b", "is given twice");
	/* The same key in two objects is no duplicate. */
	_cleanup_(parsed_free) struct parsed p =
		parse("{\"id\":1,\"op\":\"x\",\"a\":{\"k\":1},\"b\":{\"k\":2}}");
	assert_int_equal(p.rc, 0);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect_unreadable("{\"op\":\"\xff\",\"id\":1}", "UTF-8");
	expect_unreadable("\xff", "UTF-8");
	/* Overlong '/', a lone surrogate, a truncated sequence, beyond U+10FFFF. */
	expect_unreadable("{\"op\":\"\xc0\xaf\",\"id\":1}", "UTF-8");
	expect_unreadable("{\"op\":\"\xed\xa0\x80\",\"id\":1}", "UTF-8");
	expect_unreadable("{\"op\":\"ps\",\"id\":\"\xe2\x82\"}", "UTF-8");
	expect_unreadable("{\"op\":\"\xf4\x90\x80\x80\",\"id\":1}", "UTF-8");
}

static void test_non_object(void **state)
{
	(void)state;
	expect_unreadable("[1,2]", "must be a JSON object");
	expect_unreadable("[]", "must be a JSON object");
	/* The JSON reader itself wants an object or array at the top. */
	expect_unreadable("\"ps\"", "invalid JSON");
	expect_unreadable("42", "invalid JSON");
	expect_unreadable("null", "invalid JSON");
}

static void test_missing_id(void **state)
{
	(void)state;
	_cleanup_(parsed_free) struct parsed p = parse("{\"op\":\"ps\"}");
	assert_int_equal(p.rc, -EPROTO);
	assert_string_equal(p.err.field, "id");
	assert_contains(p.err.message, "no \"id\"");
	assert_null(p.id);
	assert_null(p.op);
}

static void test_id_of_wrong_type(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"{\"id\":1.5,\"op\":\"ps\"}", "{\"id\":null,\"op\":\"ps\"}",
		"{\"id\":[1],\"op\":\"ps\"}", "{\"id\":true,\"op\":\"ps\"}",
		"{\"id\":{},\"op\":\"ps\"}",
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(lines); i++) {
		_cleanup_(parsed_free) struct parsed p = parse(lines[i]);
		assert_int_equal(p.rc, -EPROTO);
		assert_string_equal(p.err.field, "id");
		assert_contains(p.err.message, "integer or a string");
		assert_null(p.id);
		assert_null(p.op);
	}
}

static void test_missing_op_keeps_id(void **state)
{
	(void)state;
	_cleanup_(parsed_free) struct parsed p = parse("{\"id\":3}");
	assert_int_equal(p.rc, -EPROTO);
	assert_string_equal(p.err.field, "op");
	assert_contains(p.err.message, "no \"op\"");
	/* The id was readable, so the error reply can still be matched to the request. */
	assert_non_null(p.id);
	assert_int_equal(json_integer_value(p.id), 3);
	assert_null(p.op);
}

static void test_op_not_a_string(void **state)
{
	(void)state;
	static const char *const lines[] = {"{\"id\":3,\"op\":5}", "{\"id\":3,\"op\":null}",
					    "{\"id\":3,\"op\":[\"ps\"]}"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(lines); i++) {
		_cleanup_(parsed_free) struct parsed p = parse(lines[i]);
		assert_int_equal(p.rc, -EPROTO);
		assert_string_equal(p.err.field, "op");
		assert_contains(p.err.message, "must be a string");
		assert_int_equal(json_integer_value(p.id), 3);
		assert_null(p.op);
	}
}

/* One message of the kinds `accept` names; m.json is freed by the caller. */
static int parse_msg(const char *line, unsigned accept, struct acre_proto_msg *m,
		     struct acre_error *err)
{
	return acre_proto_parse(line, strlen(line), accept, m, err);
}

static const unsigned any = ACRE_PROTO_REQUEST | ACRE_PROTO_REPLY | ACRE_PROTO_EVENT;

static void test_parse_kinds(void **state)
{
	(void)state;
	struct acre_error err = {0};
	_cleanup_(acre_proto_msg_free) struct acre_proto_msg req = {0}, ok = {0}, failed = {0},
							     ev = {0};
	assert_int_equal(parse_msg("{\"op\":\"sync\",\"id\":4,\"slices\":[]}", any, &req, &err), 0);
	assert_int_equal(req.kind, ACRE_PROTO_REQUEST);
	assert_string_equal(req.op, "sync");
	assert_int_equal(json_integer_value(req.id), 4);

	assert_int_equal(parse_msg("{\"id\":\"a\",\"ok\":true,\"result\":{}}", any, &ok, &err), 0);
	assert_int_equal(ok.kind, ACRE_PROTO_REPLY);
	assert_true(ok.ok);
	assert_string_equal(json_string_value(ok.id), "a");
	assert_null(ok.op);

	/* The answer to a request that could not be read has a null id. */
	assert_int_equal(parse_msg("{\"id\":null,\"ok\":false,\"error\":{\"code\":\"protocol\","
				   "\"message\":\"x\"}}",
				   any, &failed, &err),
			 0);
	assert_int_equal(failed.kind, ACRE_PROTO_REPLY);
	assert_false(failed.ok);
	assert_true(json_is_null(failed.id));

	assert_int_equal(parse_msg("{\"id\":9,\"event\":\"started\",\"data\":{}}", any, &ev, &err),
			 0);
	assert_int_equal(ev.kind, ACRE_PROTO_EVENT);
	assert_string_equal(ev.event, "started");
}

/* Refused, with `field` named and `why` said; the object itself is kept for the reply. */
static void expect_refused(const char *line, unsigned accept, enum acre_proto_kind kind,
			   const char *field, const char *why)
{
	struct acre_error err = {0};
	_cleanup_(acre_proto_msg_free) struct acre_proto_msg m = {0};
	assert_int_equal(parse_msg(line, accept, &m, &err), -EPROTO);
	assert_int_equal(err.code, EPROTO);
	assert_non_null(m.json);
	assert_int_equal(m.kind, kind);
	if (strcmp(err.field, field))
		fail_msg("%s: field \"%s\", wanted \"%s\" (%s)", line, err.field, field,
			 err.message);
	assert_contains(err.message, why);
}

static void test_parse_refused(void **state)
{
	(void)state;
	expect_refused("{\"ok\":true}", any, ACRE_PROTO_REPLY, "id", "reply has no \"id\"");
	expect_refused("{\"id\":1.5,\"ok\":true}", any, ACRE_PROTO_REPLY, "id",
		       "an integer or a string or null");
	expect_refused("{\"id\":1,\"ok\":\"yes\"}", any, ACRE_PROTO_REPLY, "ok",
		       "\"ok\" must be true or false");
	expect_refused("{\"id\":1,\"ok\":1}", any, ACRE_PROTO_REPLY, "ok", "true or false");
	expect_refused("{\"id\":null,\"op\":\"ps\"}", any, ACRE_PROTO_REQUEST, "id",
		       "\"id\" must be an integer or a string");
	expect_refused("{\"id\":1,\"event\":7}", any, ACRE_PROTO_EVENT, "event",
		       "\"event\" must be a string");
	expect_refused("{\"event\":\"started\"}", any, ACRE_PROTO_EVENT, "id",
		       "event has no \"id\"");
	/* None of the keys that tell a kind: the first kind accepted, missing its key. */
	expect_refused("{\"id\":1}", any, ACRE_PROTO_REQUEST, "op", "request has no \"op\"");
	expect_refused("{\"id\":1}", ACRE_PROTO_REPLY | ACRE_PROTO_EVENT, ACRE_PROTO_REPLY, "ok",
		       "reply has no \"ok\"");
	/* A reply where only requests are read is a request without its op. */
	expect_refused("{\"id\":1,\"ok\":true}", ACRE_PROTO_REQUEST, ACRE_PROTO_REQUEST, "op",
		       "request has no \"op\"");
	/* A request where only replies and events are read. */
	expect_refused("{\"id\":1,\"op\":\"ps\"}", ACRE_PROTO_REPLY | ACRE_PROTO_EVENT,
		       ACRE_PROTO_REPLY, "ok", "reply has no \"ok\"");
}

static void test_parse_unreadable_keeps_nothing(void **state)
{
	(void)state;
	static const char *const lines[] = {"\xc3(", "{\"ok\":true,\"ok\":false,\"id\":1}", "[]",
					    "{"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(lines); i++) {
		struct acre_error err = {0};
		_cleanup_(acre_proto_msg_free) struct acre_proto_msg m = {0};
		assert_int_equal(parse_msg(lines[i], any, &m, &err), -EPROTO);
		assert_null(m.json);
		assert_null(m.id);
		assert_true(err.message[0] != '\0');
	}
}

static void test_ok_reply(void **state)
{
	(void)state;
	_cleanup_json_ json_t *id = json_integer(42);
	_cleanup_json_ json_t *reply = acre_proto_ok(id, json_pack("{s:i}", "slices", 2));
	assert_non_null(reply);
	assert_true(json_equal(json_object_get(reply, "id"), id));
	assert_true(json_is_true(json_object_get(reply, "ok")));
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(reply, "result"), "slices")), 2);
	assert_null(json_object_get(reply, "error"));
	assert_int_equal(json_object_size(reply), 3);
}

static void test_ok_reply_defaults(void **state)
{
	(void)state;
	/* No result: an empty object, so clients can always index into it. */
	_cleanup_json_ json_t *reply = acre_proto_ok(NULL, NULL);
	assert_non_null(reply);
	assert_true(json_is_null(json_object_get(reply, "id")));
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_t *result = json_object_get(reply, "result");
	assert_true(json_is_object(result));
	assert_int_equal(json_object_size(result), 0);
}

static void test_error_reply(void **state)
{
	(void)state;
	_cleanup_json_ json_t *id = json_string("req-1");
	struct acre_error err = {0};
	acre_error_set(&err, EINVAL, "resources.memory", "resources.memory 12Q: unknown unit");
	_cleanup_json_ json_t *reply = acre_proto_error(id, &err);
	assert_non_null(reply);
	assert_string_equal(json_string_value(json_object_get(reply, "id")), "req-1");
	assert_true(json_is_false(json_object_get(reply, "ok")));
	assert_null(json_object_get(reply, "result"));
	json_t *e = json_object_get(reply, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
			    "resources.memory 12Q: unknown unit");
	assert_string_equal(json_string_value(json_object_get(e, "field")), "resources.memory");
}

static void test_error_reply_without_field(void **state)
{
	(void)state;
	struct acre_error err = {0};
	acre_error_set(&err, ESRCH, NULL, "web-1 is not running");
	_cleanup_json_ json_t *reply = acre_proto_error(NULL, &err);
	assert_non_null(reply);
	assert_true(json_is_null(json_object_get(reply, "id")));
	json_t *e = json_object_get(reply, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "not_running");
	assert_null(json_object_get(e, "field"));
}

static void test_error_reply_for_unparsed_request(void **state)
{
	(void)state;
	_cleanup_(parsed_free) struct parsed p = parse("{\"id\":7,\"op\":false}");
	assert_int_equal(p.rc, -EPROTO);
	_cleanup_json_ json_t *reply = acre_proto_error(p.id, &p.err);
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(reply, &len);
	assert_non_null(line);
	assert_string_equal(line, "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"protocol\","
				  "\"message\":\"\\\"op\\\" must be a string\","
				  "\"field\":\"op\"}}\n");
}

static void test_error_reply_truncated_utf8(void **state)
{
	(void)state;
	/* A message quoting a long non-ASCII value is cut mid-character by truncation. */
	char value[601] = "a";
	for (size_t i = 1; i + 1 < sizeof(value); i += 2)
		memcpy(value + i, "\xc3\xa9", 2);
	value[sizeof(value) - 1] = '\0';
	struct acre_error err = {0};
	uint64_t v;
	assert_int_equal(acre_parse_size(value, &v, &err, "resources.memory"), -EINVAL);

	_cleanup_json_ json_t *id = json_integer(1);
	_cleanup_json_ json_t *reply = acre_proto_error(id, &err);
	assert_non_null(reply);
	const char *msg =
		json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
	assert_non_null(msg);
	assert_true(strncmp(msg, "resources.memory a\xc3\xa9", 20) == 0);
	/* 511 bytes were kept; the last one, half of a character, is replaced. */
	assert_int_equal(strlen(msg), sizeof(err.message) - 1);
	assert_int_equal(msg[strlen(msg) - 1], '?');
	size_t len;
	_cleanup_free_ char *line = acre_proto_frame_encode(reply, &len);
	assert_non_null(line);
}

static void test_error_reply_truncated_utf8_field(void **state)
{
	(void)state;
	/* An unknown key of 100 two-byte characters: the field name is cut at 63 bytes. */
	char key[201];
	for (size_t i = 0; i < 200; i += 2)
		memcpy(key + i, "\xc3\xa9", 2);
	key[200] = '\0';
	_cleanup_json_ json_t *spec = json_pack("{s:[s],s:i}", "command", "true", key, 1);
	assert_non_null(spec);
	struct acre_slice_spec s;
	struct acre_error err = {0};
	assert_int_equal(acre_slice_spec_parse(spec, &s, &err), -EINVAL);

	_cleanup_json_ json_t *reply = acre_proto_error(NULL, &err);
	assert_non_null(reply);
	json_t *e = json_object_get(reply, "error");
	assert_contains(json_string_value(json_object_get(e, "message")), "?: unknown field");
	const char *field = json_string_value(json_object_get(e, "field"));
	assert_non_null(field);
	assert_int_equal(strlen(field), 63);
	assert_memory_equal(field, key, 62);
	assert_int_equal(field[62], '?');
}

static void test_event(void **state)
{
	(void)state;
	_cleanup_json_ json_t *id = json_integer(5);
	_cleanup_json_ json_t *ev =
		acre_proto_event(id, "state", json_pack("{s:s}", "state", "running"));
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "id")), 5);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "state");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ev, "data"), "state")),
		"running");
	assert_null(json_object_get(ev, "ok"));
}

static void test_error_from_json(void **state)
{
	(void)state;
	_cleanup_json_ json_t *reply =
		json_pack("{s:i,s:b,s:{s:s,s:s,s:s}}", "id", 1, "ok", 0, "error", "code",
			  "not_found", "message", "no slice named web-1", "field", "name");
	struct acre_error err = {0};
	acre_proto_error_from_json(reply, &err);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.message, "no slice named web-1");
	assert_string_equal(err.field, "name");
}

static void test_error_from_json_malformed(void **state)
{
	(void)state;
	static const char *const replies[] = {"{}", "{\"error\":\"boom\"}", "[]",
					      "{\"error\":{\"code\":3,\"message\":null}}"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(replies); i++) {
		_cleanup_json_ json_t *reply = json_loads(replies[i], 0, NULL);
		assert_non_null(reply);
		struct acre_error err = {.field = "stale"};
		acre_proto_error_from_json(reply, &err);
		assert_int_equal(err.code, EIO);
		assert_string_equal(err.message, "malformed error reply");
		assert_string_equal(err.field, "");
	}
}

static void test_error_code_round_trip(void **state)
{
	(void)state;
	/* What the supervisor sends is what the client gets back, for every code. */
	static const int codes[] = {EINVAL,   ENOENT, EEXIST,	  EACCES, EPERM,     EBUSY, ENOSPC,
				    EMSGSIZE, EPROTO, EOPNOTSUPP, ENOMEM, ETIMEDOUT, ESRCH, EIO};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(codes); i++) {
		struct acre_error sent = {0}, got = {0};
		acre_error_set(&sent, codes[i], "f", "message %zu", i);
		_cleanup_json_ json_t *reply = acre_proto_error(NULL, &sent);
		acre_proto_error_from_json(reply, &got);
		assert_string_equal(acre_error_code_name(got.code),
				    acre_error_code_name(sent.code));
		assert_string_equal(got.message, sent.message);
		assert_string_equal(got.field, "f");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_request_integer_id),
		cmocka_unit_test(test_valid_request_string_id_and_payload),
		cmocka_unit_test(test_valid_request_with_utf8),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_non_object),
		cmocka_unit_test(test_missing_id),
		cmocka_unit_test(test_id_of_wrong_type),
		cmocka_unit_test(test_missing_op_keeps_id),
		cmocka_unit_test(test_op_not_a_string),
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_unreadable_keeps_nothing),
		cmocka_unit_test(test_ok_reply),
		cmocka_unit_test(test_ok_reply_defaults),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_error_reply_without_field),
		cmocka_unit_test(test_error_reply_for_unparsed_request),
		cmocka_unit_test(test_error_reply_truncated_utf8),
		cmocka_unit_test(test_error_reply_truncated_utf8_field),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_error_from_json),
		cmocka_unit_test(test_error_from_json_malformed),
		cmocka_unit_test(test_error_code_round_trip),
	};
	return cmocka_run_group_tests_name("proto_envelope", tests, NULL, NULL);
}
