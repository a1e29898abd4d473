/*
 * Random bytes from the kernel and their hex text: node secrets, node ids,
 * generated slice names and cgroup names all come from here.
 */
#include "common.h"

#include <sys/random.h>

int acre_random_bytes(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

void acre_hex_encode(const void *raw, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = raw;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}
