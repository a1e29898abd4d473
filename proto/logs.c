/*
 * A slice's log over the node port: its bytes travel in logs.data as
 * base64, since a log holds whatever the task wrote (not always UTF-8,
 * which a JSON string must be).  OpenSSL's block coder does the work; the
 * checks around it make a decoder that takes only canonical padded text,
 * so a malformed message is refused rather than half-read.
 */
#include "proto.h"

#include <openssl/evp.h>

char *acre_proto_base64_encode(const void *data, size_t len, size_t *out_len)
{
	if (len > INT_MAX / 2)
		return NULL;
	size_t n = 4 * ((len + 2) / 3);
	char *text = malloc(n + 1);
	if (!text)
		return NULL;
	int w = EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	if (w < 0 || (size_t)w != n) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	if (out_len)
		*out_len = n;
	return text;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int acre_proto_base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (len % 4 || len > INT_MAX / 2)
		return -EINVAL;
	size_t pad = 0;
	if (len && text[len - 1] == '=')
		pad = len >= 2 && text[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char(text[i]))
			return -EINVAL;
	unsigned char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	int n = len ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len) : 0;
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes: they are not data. */
	*out = buf;
	*out_len = (size_t)n - pad;
	return 0;
}
