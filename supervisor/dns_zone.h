/*
 * The `.acre` zone held in memory (dns_zone.c) and the answers built from it
 * with ldns (dns_answer.c): pure code, no socket and no event loop, so that
 * every answer can be tested without root (tests/unit/test_dns_zone.c).
 *
 * The zone is fed by net.names messages (the controller's, or the node's own
 * when it runs alone): a record per name, NAME.acre or GROUP.acre, with its
 * IPv4 addresses and the group's SRV entries.  Names are DNS labels and are
 * compared without case (kept lower case).
 */
#ifndef ACRE_SUPERVISOR_DNS_ZONE_H
#define ACRE_SUPERVISOR_DNS_ZONE_H

#include "common/common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One second: names change as slices start and end, and a name must stop
 * resolving within a second of its slice's end.  A caching resolver in a
 * slice (nscd, systemd-resolved, a JVM's cache) keeps an answer for its TTL,
 * so no TTL may outlive the promise; the negative TTL (the SOA's minimum) is
 * the same, so a name looked up just before its slice starts is found a
 * second later.  The server answers from memory: short TTLs cost nothing.
 */
#define DNS_ZONE_TTL 1

#define DNS_LABEL_MAX	63
#define DNS_SERVICE_MAX 15 /* RFC 6335: service names are 1 to 15 characters */
#define DNS_ADDRS_MAX	1024
#define DNS_SRV_MAX	256
#define DNS_UDP_PLAIN	512  /* without EDNS0 (RFC 1035) */
#define DNS_UDP_MAX	1232 /* what we offer and accept over UDP (DNS flag day 2020) */
#define DNS_MESSAGE_MAX 65535

struct dns_srv {
	char service[DNS_SERVICE_MAX + 1]; /* "http", without the underscore */
	char proto[4];			   /* "tcp" or "udp" */
	uint16_t port;
	char target[DNS_LABEL_MAX + 1]; /* a name of the zone: TARGET.acre */
};

struct dns_record {
	char name[DNS_LABEL_MAX + 1]; /* lower case */
	uint32_t *addrs;	      /* network order */
	size_t naddrs;
	struct dns_srv *srv;
	size_t nsrv;
	unsigned rotate; /* where the next answer starts in addrs */
};

struct dns_zone;

struct dns_zone *dns_zone_new(void);
void dns_zone_free(struct dns_zone *z);
size_t dns_zone_size(const struct dns_zone *z);
const struct dns_record *dns_zone_get(const struct dns_zone *z, const char *name);

/*
 * A net.names message: {"full": bool, "set": [{"name", "addresses", "srv"?}],
 * "gone": [NAME]}.  Everything is checked before anything changes: a bad
 * entry refuses the whole message with an error naming the field
 * ("set[2].addresses[0]").  full replaces the zone, set upserts, gone removes.
 */
int dns_zone_apply(struct dns_zone *z, const json_t *msg, struct acre_error *err);

/*
 * Fixed names from a hosts(5) file's text (modified in place): "ADDRESS
 * NAME..." lines whose names are bare labels or NAME.acre, served as
 * NAME.acre under whatever net.names says (a name of both is the message's).
 * Names of other domains and IPv6 lines are counted in *skipped.
 */
int dns_zone_load_hosts(struct dns_zone *z, char *text, size_t *loaded, size_t *skipped);

/* True for a valid DNS label (letters, digits, '-' inside, 1 to 63 characters). */
bool dns_label_valid(const char *s);

/*
 * The addresses whose reverse names (d.c.b.a.in-addr.arpa) the zone answers
 * itself: the node's slice subnet.  A reverse lookup of a slice's address
 * (what a server does for each client it logs) is answered at once — the
 * slice's name, or NXDOMAIN — and never waits on a resolver outside.
 */
void dns_zone_set_reverse(struct dns_zone *z, uint32_t network, unsigned prefix);

enum dns_verdict {
	DNS_SILENT,  /* no answer at all (not a query, or too short to answer) */
	DNS_REPLY,   /* *out holds the reply */
	DNS_FORWARD, /* a name outside the zone: the resolvers outside answer it */
};

/*
 * The reply to one query (wire format, len bytes): tcp says which transport
 * (a UDP reply that does not fit the client's size comes back truncated,
 * TC set, for the client to ask again over TCP).  *out is malloc'ed.
 */
enum dns_verdict dns_zone_answer(struct dns_zone *z, const uint8_t *q, size_t len, bool tcp,
				 uint8_t **out, size_t *outlen);

/* An error reply (LDNS_RCODE_SERVFAIL, REFUSED, ...) to a query: DNS_SILENT if none can be made. */
enum dns_verdict dns_reply_error(const uint8_t *q, size_t len, int rcode, uint8_t **out,
				 size_t *outlen);

/* The largest reply the client of this query takes over UDP (512 without EDNS0). */
size_t dns_query_udp_size(const uint8_t *q, size_t len);

#endif
