/*
 * The claim acre-init decodes (NUL-separated KEY=VALUE entries from the
 * supervisor): whatever the bytes, decoding fails with a message or yields
 * a message whose argv and environment are NULL-terminated.
 */
#include "isolation/launch_internal.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= LAUNCH_MESSAGE_MAX)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct launch_message m;
	memset(&m, 0, sizeof(m));
	struct acre_error err = {0};
	if (launch_message_decode(buf, size, &m, &err) < 0) {
		if (!err.message[0])
			abort();
	} else {
		size_t n = 0;
		while (m.argv[n])
			n++;
		if (n == 0 || !m.envp || !m.envp[0] || !m.cwd || !m.mounts.rootfs)
			abort();
	}
	free(m.argv);
	free(m.envp);
	free(buf);
	return 0;
}
