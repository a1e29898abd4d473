/*
 * Answers kept for the next identical question.  Reading a query into
 * ldns's objects and writing the answer back costs a few microseconds; most
 * queries ask again what was just asked (the same names, over and over),
 * and the answer of a plain query (no EDNS0) depends only on its question,
 * its RD and CD bits and the transport.  So the answer is kept, keyed by
 * those, and a later query gets a copy with its own id and its own
 * question bytes (the case it used: 0x20 randomisation).  Any change of the
 * zone bumps its generation and so drops every answer at once.  Group
 * answers rotate and are never kept.  A direct-mapped table: a collision
 * only replaces an entry.
 */
#include "dns_zone_internal.h"

#include <ctype.h>
#include <ldns/ldns.h>

struct dns_cache_entry {
	uint8_t key[DNS_CACHE_KEY_MAX];
	size_t keylen;
	uint64_t gen;
	uint8_t *reply;
	size_t len;
};

/* FNV-1a */
static size_t slot_of(const uint8_t *key, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % DNS_CACHE_SLOTS;
}

bool cache_key(const uint8_t *q, size_t len, bool tcp, struct dns_cache_key *k)
{
	/* A plain query: one question, nothing else (EDNS0 takes the full path). */
	static const uint8_t counts[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	if (len < LDNS_HEADER_SIZE + 5 || (q[2] & 0xf8) != 0 || memcmp(q + 4, counts, 8) != 0)
		return false;
	ldns_rdf *name = NULL;
	size_t pos = LDNS_HEADER_SIZE;
	if (ldns_wire2dname(&name, q, len, &pos) != LDNS_STATUS_OK)
		return false;
	size_t nlen = ldns_rdf_size(name);
	bool ok =
		pos + 4 == len && pos == LDNS_HEADER_SIZE + nlen && 3 + nlen + 4 <= sizeof(k->key);
	if (ok) {
		const uint8_t *d = ldns_rdf_data(name);
		k->key[0] = tcp;
		k->key[1] = q[2] & 0x01; /* RD */
		k->key[2] = q[3] & 0x10; /* CD */
		for (size_t i = 0; i < nlen; i++)
			k->key[3 + i] = (uint8_t)tolower(d[i]);
		memcpy(k->key + 3 + nlen, q + pos, 4); /* type, class */
		k->len = 3 + nlen + 4;
		k->question_end = len;
	}
	ldns_rdf_deep_free(name);
	return ok;
}

bool cache_get(struct dns_zone *z, const struct dns_cache_key *k, const uint8_t *q, uint8_t **out,
	       size_t *outlen)
{
	const struct dns_cache_entry *e = z->cache ? &z->cache[slot_of(k->key, k->len)] : NULL;
	if (!e || !e->reply || e->gen != z->gen || e->keylen != k->len ||
	    memcmp(e->key, k->key, k->len) != 0)
		return false;
	uint8_t *r = malloc(e->len);
	if (!r)
		return false;
	memcpy(r, e->reply, e->len);
	memcpy(r, q, 2);				   /* the id */
	memcpy(r + LDNS_HEADER_SIZE, q + LDNS_HEADER_SIZE, /* the question, as asked */
	       k->question_end - LDNS_HEADER_SIZE);
	*out = r;
	*outlen = e->len;
	return true;
}

void cache_put(struct dns_zone *z, const struct dns_cache_key *k, const uint8_t *reply, size_t len)
{
	if (!z->cache)
		z->cache = calloc(DNS_CACHE_SLOTS, sizeof(*z->cache));
	if (!z->cache || len < k->question_end)
		return;
	struct dns_cache_entry *e = &z->cache[slot_of(k->key, k->len)];
	uint8_t *copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, reply, len);
	free(e->reply);
	memcpy(e->key, k->key, k->len);
	e->keylen = k->len;
	e->gen = z->gen;
	e->reply = copy;
	e->len = len;
}

void cache_free(struct dns_zone *z)
{
	for (size_t i = 0; z->cache && i < DNS_CACHE_SLOTS; i++)
		free(z->cache[i].reply);
	free(z->cache);
	z->cache = NULL;
}
