/*
 * Shared between the zone's records (dns_zone.c) and the answers made from
 * them (dns_answer.c).
 */
#ifndef ACRE_SUPERVISOR_DNS_ZONE_INTERNAL_H
#define ACRE_SUPERVISOR_DNS_ZONE_INTERNAL_H

#include "dns_zone.h"

struct dns_zone {
	struct acre_map *records; /* lower-case name -> struct dns_record */
	struct acre_map *fixed;	  /* the same, from --dns-hosts: under the records */
	uint32_t reverse_net;	  /* host order */
	unsigned reverse_prefix;
	bool reverse_on;
};

/* The record of one wire-format label (any case), or NULL. */
struct dns_record *zone_lookup_label(struct dns_zone *z, const uint8_t *label, size_t len);
/* The record that names addr (network order), for its reverse name. */
const struct dns_record *zone_lookup_addr(const struct dns_zone *z, uint32_t addr);

#endif
