/*
 * The envelope every acre socket speaks: requests with "op" and "id",
 * replies with the same "id" and either a result or an error that names the
 * field at fault, and events of a long request.  One parser for every
 * reader, the CLI's, the supervisor's and the controller's, and a strict
 * one, so that garbage gets an answer, never a crash or a guess: invalid
 * UTF-8, a key given twice (which value would win?), non-objects, a
 * missing op and wrong types are all refused with their reason.
 */
#include "proto.h"

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
	return json_pack("{s:O?,s:s,s:o}", "id", id, "event", event, "data",
			 data ? data : json_object());
}

/*
 * jansson says "duplicate object key near '"KEY"'" with the key as it was
 * written (escapes and all): name the key itself when it can be read back.
 */
static int duplicate_key(const json_error_t *jerr, struct acre_error *err)
{
	const char *near = strstr(jerr->text, "near '");
	const char *end = near ? strrchr(jerr->text, '\'') : NULL;
	_cleanup_json_ json_t *key = NULL;
	if (near && end > near + 6)
		key = json_loadb(near + 6, (size_t)(end - near - 6), JSON_DECODE_ANY, NULL);
	if (!json_is_string(key))
		return acre_error_set(err, EPROTO, NULL, "invalid JSON at column %d: %s",
				      jerr->column, jerr->text);
	return acre_error_set(err, EPROTO, json_string_value(key),
			      "invalid JSON at column %d: the key \"%.64s\" is given twice",
			      jerr->column, json_string_value(key));
}

static int read_object(const char *line, size_t len, json_t **out, struct acre_error *err)
{
	if (!acre_str_is_utf8(line, len))
		return acre_error_set(err, EPROTO, NULL, "message is not valid UTF-8");
	json_error_t jerr;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j && json_error_code(&jerr) == json_error_duplicate_key)
		return duplicate_key(&jerr, err);
	if (!j)
		return acre_error_set(err, EPROTO, NULL, "invalid JSON at column %d: %s",
				      jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return acre_error_set(err, EPROTO, NULL, "a message must be a JSON object");
	}
	*out = j;
	return 0;
}

/* The key a kind is known by; a message of none of them is the first kind accepted. */
static enum acre_proto_kind kind_of(const json_t *j, unsigned accept)
{
	if ((accept & ACRE_PROTO_REQUEST) && json_object_get(j, "op"))
		return ACRE_PROTO_REQUEST;
	if ((accept & ACRE_PROTO_REPLY) && json_object_get(j, "ok"))
		return ACRE_PROTO_REPLY;
	if ((accept & ACRE_PROTO_EVENT) && json_object_get(j, "event"))
		return ACRE_PROTO_EVENT;
	if (accept & ACRE_PROTO_REQUEST)
		return ACRE_PROTO_REQUEST;
	return accept & ACRE_PROTO_REPLY ? ACRE_PROTO_REPLY : ACRE_PROTO_EVENT;
}

static const char *kind_name(enum acre_proto_kind k)
{
	return k == ACRE_PROTO_REQUEST ? "request" : k == ACRE_PROTO_REPLY ? "reply" : "event";
}

/* "id": an integer or a string; a reply to a request that could not be read has null. */
static int check_id(struct acre_proto_msg *m, struct acre_error *err)
{
	json_t *id = json_object_get(m->json, "id");
	bool null_ok = m->kind == ACRE_PROTO_REPLY;
	if (json_is_integer(id) || json_is_string(id) || (null_ok && json_is_null(id)))
		m->id = id;
	if (!id)
		return acre_error_set(err, EPROTO, "id", "%s has no \"id\"", kind_name(m->kind));
	if (!m->id)
		return acre_error_set(err, EPROTO, "id", "\"id\" must be an integer or a string%s",
				      null_ok ? " or null" : "");
	return 0;
}

/* A string member that the kind requires: "op" of a request, "event" of an event. */
static int check_name(const json_t *j, const char *key, const char *kind, const char **out,
		      struct acre_error *err)
{
	json_t *v = json_object_get(j, key);
	if (!v)
		return acre_error_set(err, EPROTO, key, "%s has no \"%s\"", kind, key);
	if (!json_is_string(v))
		return acre_error_set(err, EPROTO, key, "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int check_reply(struct acre_proto_msg *m, struct acre_error *err)
{
	json_t *ok = json_object_get(m->json, "ok");
	if (!ok)
		return acre_error_set(err, EPROTO, "ok", "reply has no \"ok\"");
	if (!json_is_boolean(ok))
		return acre_error_set(err, EPROTO, "ok", "\"ok\" must be true or false");
	m->ok = json_is_true(ok);
	return 0;
}

int acre_proto_parse(const char *line, size_t len, unsigned accept, struct acre_proto_msg *m,
		     struct acre_error *err)
{
	memset(m, 0, sizeof(*m));
	int rc = read_object(line, len, &m->json, err);
	if (rc < 0)
		return rc;
	m->kind = kind_of(m->json, accept);
	if ((rc = check_id(m, err)) < 0)
		return rc;
	switch (m->kind) {
	case ACRE_PROTO_REQUEST:
		return check_name(m->json, "op", "request", &m->op, err);
	case ACRE_PROTO_EVENT:
		return check_name(m->json, "event", "event", &m->event, err);
	case ACRE_PROTO_REPLY:
		return check_reply(m, err);
	}
	return 0;
}

void acre_proto_msg_free(struct acre_proto_msg *m)
{
	json_decref(m->json);
	memset(m, 0, sizeof(*m));
}

int acre_proto_parse_request(const char *line, size_t len, json_t **request, json_t **id,
			     const char **op, struct acre_error *err)
{
	struct acre_proto_msg m;
	int rc = acre_proto_parse(line, len, ACRE_PROTO_REQUEST, &m, err);
	*request = m.json;
	*id = m.id;
	*op = m.op;
	return rc;
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
				    EMSGSIZE, EPROTO, EOPNOTSUPP, ENOMEM, ETIMEDOUT, ESRCH,
				    ENOTCONN, E2BIG,  EALREADY,	  EAGAIN};
	int errnum = EIO;
	for (size_t i = 0; code && i < ACRE_ARRAY_SIZE(known); i++) {
		if (strcmp(code, acre_error_code_name(known[i])) == 0) {
			errnum = known[i];
			break;
		}
	}
	acre_error_set(err, errnum, field, "%s", message);
}
