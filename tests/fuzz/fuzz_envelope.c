/*
 * The envelope every daemon reads off a line: any bytes give either a
 * message of an accepted kind with its keys of the right types, or -EPROTO
 * with a message that says why.
 */
#include "proto/proto.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte chooses the kinds the reader accepts. */
	unsigned accept = 1 + data[0] % 7;
	struct acre_proto_msg m = {0};
	struct acre_error err = {0};
	int rc = acre_proto_parse((const char *)data + 1, size - 1, accept, &m, &err);
	if (rc < 0) {
		if (rc != -EPROTO || !err.message[0])
			abort();
	} else {
		if (!m.json || !json_is_object(m.json) || !(m.kind & accept))
			abort();
		if (m.kind == ACRE_PROTO_REQUEST && !m.op)
			abort();
		if (m.id && !json_is_integer(m.id) && !json_is_string(m.id) && !json_is_null(m.id))
			abort();
		/* What was read can be answered. */
		json_t *reply = acre_proto_error(m.id, &(struct acre_error){.code = EINVAL});
		size_t len;
		char *line = reply ? acre_proto_frame_encode(reply, &len) : NULL;
		if (!line)
			abort();
		free(line);
		json_decref(reply);
	}
	acre_proto_msg_free(&m);
	return 0;
}
