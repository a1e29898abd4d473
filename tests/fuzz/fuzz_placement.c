/*
 * Placement expressions as clients send them: any JSON gives a placement or
 * an error that names the field, and a placement written back to JSON reads
 * to the same placement.
 */
#include "proto/proto.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	_cleanup_json_ json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!j)
		return 0;
	struct acre_placement p, again;
	struct acre_error err = {0};
	if (acre_proto_placement_from_json(j, &p, &err) < 0) {
		if (!err.message[0])
			abort();
		return 0;
	}
	_cleanup_json_ json_t *out = acre_proto_placement_to_json(&p);
	if (!out || acre_proto_placement_from_json(out, &again, &err) < 0)
		abort();
	_cleanup_json_ json_t *out2 = acre_proto_placement_to_json(&again);
	if (!out2 || !json_equal(out, out2))
		abort();
	return 0;
}
