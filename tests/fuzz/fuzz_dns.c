/*
 * A query to the supervisor's DNS server, whatever its bytes: the zone's
 * answer (dns_zone_answer, over UDP and TCP) never crashes or leaks, a reply
 * is a parseable DNS message with the query's id, and a UDP reply never
 * exceeds what the client can take.
 */
#include "supervisor/dns_zone.h"

#include <ldns/ldns.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_zone *zone(void)
{
	static struct dns_zone *z;
	if (z)
		return z;
	z = dns_zone_new();
	json_t *msg =
		json_loads("{\"full\": true, \"set\": ["
			   "{\"name\": \"web-1\", \"addresses\": [\"198.19.4.7\"]},"
			   "{\"name\": \"web\", \"addresses\": [\"198.19.4.7\", \"198.19.5.9\"],"
			   " \"srv\": [{\"service\": \"http\", \"proto\": \"tcp\", \"port\": 80, "
			   "\"target\": \"web-1\"}]}]}",
			   0, NULL);
	struct acre_error err = {0};
	if (!z || !msg || dns_zone_apply(z, msg, &err) < 0)
		abort();
	json_decref(msg);
	dns_zone_set_reverse(z, 0xc6130400u, 24);
	return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int tcp = 0; tcp < 2; tcp++) {
		uint8_t *out = NULL;
		size_t outlen = 0;
		enum dns_verdict v = dns_zone_answer(zone(), data, size, tcp, &out, &outlen);
		if (v != DNS_REPLY) {
			if (out)
				abort();
			continue;
		}
		ldns_pkt *r = NULL;
		if (size < 12 || outlen < 12 || memcmp(out, data, 2) != 0 || !(out[2] & 0x80))
			abort();
		if (!tcp && outlen > dns_query_udp_size(data, size))
			abort();
		if (ldns_wire2pkt(&r, out, outlen) != LDNS_STATUS_OK)
			abort();
		ldns_pkt_free(r);
		free(out);
	}
	return 0;
}
