/*
 * The envelope every acre socket speaks: requests with "op" and "id",
 * replies with the same "id" and either a result or an error that names the
 * field at fault.  Parsing is strict so that garbage gets an answer, never a
 * crash: invalid UTF-8, non-objects, a missing op and wrong types are all
 * reported with their reason.
 */
#include "common.h"

json_t *acre_proto_ok(json_t *id, json_t *result)
{
	return json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "result",
			 result ? result : json_object());
}

/*
 * Error text quotes what the client sent, and the fixed-size buffers of
 * struct acre_error can cut a character in two.  jansson refuses such a
 * string, which would leave the client without a reply: replace each byte
 * that does not start a complete UTF-8 sequence with '?'.
 */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return NULL;
	size_t n = strlen(copy);
	for (size_t i = 0; i < n;) {
		size_t k = 1;
		while (k <= 4 && i + k <= n && !acre_str_is_utf8(copy + i, k))
			k++;
		if (k <= 4 && i + k <= n)
			i += k;
		else
			copy[i++] = '?';
	}
	return json_string(copy);
}

json_t *acre_proto_error(json_t *id, const struct acre_error *err)
{
	json_t *e = json_pack("{s:s,s:o}", "code", acre_error_code_name(err->code), "message",
			      json_text(err->message));
	if (e && err->field[0])
		json_object_set_new(e, "field", json_text(err->field));
	return json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 0, "error", e);
}

json_t *acre_proto_event(json_t *id, const char *event, json_t *data)
{
	return json_pack("{s:O?,s:s,s:o}", "id", id, "event", event,
			 "data", data ? data : json_object());
}

int acre_proto_parse_request(const char *line, size_t len, json_t **request, json_t **id,
			     const char **op, struct acre_error *err)
{
	*request = NULL;
	*id = NULL;
	*op = NULL;
	if (!acre_str_is_utf8(line, len))
		return acre_error_set(err, EPROTO, NULL, "request is not valid UTF-8");
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return acre_error_set(err, EPROTO, NULL, "invalid JSON at column %d: %s",
				      jerr.column, jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return acre_error_set(err, EPROTO, NULL, "a request must be a JSON object");
	}
	json_t *jid = json_object_get(req, "id");
	if (jid && (json_is_integer(jid) || json_is_string(jid)))
		*id = jid;
	*request = req;
	if (!jid)
		return acre_error_set(err, EPROTO, "id", "request has no \"id\"");
	if (!*id)
		return acre_error_set(err, EPROTO, "id", "\"id\" must be an integer or a string");
	json_t *jop = json_object_get(req, "op");
	if (!jop)
		return acre_error_set(err, EPROTO, "op", "request has no \"op\"");
	if (!json_is_string(jop))
		return acre_error_set(err, EPROTO, "op", "\"op\" must be a string");
	*op = json_string_value(jop);
	return 0;
}

void acre_proto_error_from_json(const json_t *reply, struct acre_error *err)
{
	const char *message = "malformed error reply", *field = NULL, *code = NULL;
	json_t *e = json_object_get(reply, "error");
	if (json_is_object(e)) {
		json_t *m = json_object_get(e, "message");
		if (json_is_string(m))
			message = json_string_value(m);
		json_t *f = json_object_get(e, "field");
		if (json_is_string(f))
			field = json_string_value(f);
		json_t *c = json_object_get(e, "code");
		if (json_is_string(c))
			code = json_string_value(c);
	}
	/* Every errno acre_error_code_name() names, so each code maps back to what was sent. */
	static const int known[] = {EINVAL,   ENOENT, EEXIST,	  EACCES, EBUSY,     ENOSPC,
				    EMSGSIZE, EPROTO, EOPNOTSUPP, ENOMEM, ETIMEDOUT, ESRCH};
	int errnum = EIO;
	for (size_t i = 0; code && i < ACRE_ARRAY_SIZE(known); i++) {
		if (strcmp(code, acre_error_code_name(known[i])) == 0) {
			errnum = known[i];
			break;
		}
	}
	acre_error_set(err, errnum, field, "%s", message);
}
