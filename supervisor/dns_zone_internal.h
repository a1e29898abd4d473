/*
 * Shared between the zone's records (dns_zone.c) and the answers made from
 * them (dns_answer.c).
 */
#ifndef ACRE_SUPERVISOR_DNS_ZONE_INTERNAL_H
#define ACRE_SUPERVISOR_DNS_ZONE_INTERNAL_H

#include "dns_zone.h"

#define DNS_CACHE_SLOTS	  4096
#define DNS_CACHE_KEY_MAX 264 /* transport, RD, CD, a name of up to 255 bytes, type, class */

struct dns_cache_entry;

struct dns_zone {
	struct acre_map *records; /* lower-case name -> struct dns_record */
	struct acre_map *fixed;	  /* the same, from --dns-hosts: under the records */
	uint32_t reverse_net;	  /* host order */
	unsigned reverse_prefix;
	bool reverse_on;
	uint64_t gen; /* bumped by every change: kept answers of older ones are stale */
	struct dns_cache_entry *cache;
};

/* ---- dns_cache.c: answers kept for the next identical plain query ---- */
struct dns_cache_key {
	uint8_t key[DNS_CACHE_KEY_MAX];
	size_t len;
	size_t question_end; /* the query's length: header and question */
};
/* False for a query the cache does not take (EDNS0, several records, compression). */
bool cache_key(const uint8_t *q, size_t len, bool tcp, struct dns_cache_key *k);
bool cache_get(struct dns_zone *z, const struct dns_cache_key *k, const uint8_t *q, uint8_t **out,
	       size_t *outlen);
void cache_put(struct dns_zone *z, const struct dns_cache_key *k, const uint8_t *reply, size_t len);
void cache_free(struct dns_zone *z);

/* The record of one wire-format label (any case), or NULL. */
struct dns_record *zone_lookup_label(struct dns_zone *z, const uint8_t *label, size_t len);
/* The record that names addr (network order), for its reverse name. */
const struct dns_record *zone_lookup_addr(const struct dns_zone *z, uint32_t addr);

#endif
