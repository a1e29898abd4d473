/*
 * The slice spec as clients send it: any bytes, parsed as JSON and then as
 * a spec.  A spec that parses must turn back into JSON that parses again
 * to the same JSON (the controller stores and forwards that canonical form).
 */
#include "common/common.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	_cleanup_json_ json_t *j =
		json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return 0;
	struct acre_slice_spec spec = {0};
	struct acre_error err = {0};
	if (acre_slice_spec_parse(j, &spec, &err) < 0) {
		/* Every refusal says what and why. */
		if (!err.message[0])
			abort();
		acre_slice_spec_free(&spec);
		return 0;
	}
	_cleanup_json_ json_t *once = acre_slice_spec_to_json(&spec);
	acre_slice_spec_free(&spec);
	if (!once)
		abort();
	struct acre_slice_spec again = {0};
	if (acre_slice_spec_parse(once, &again, &err) < 0)
		abort();
	_cleanup_json_ json_t *twice = acre_slice_spec_to_json(&again);
	acre_slice_spec_free(&again);
	if (!twice || !json_equal(once, twice))
		abort();
	return 0;
}
