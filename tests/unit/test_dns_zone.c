/*
 * The supervisor's `.acre` zone: net.names messages applied (full, set,
 * gone; a bad one changes nothing), and the answers a client gets, built
 * by the server's code and read back with ldns as a resolver would: A of a
 * name and of a group (rotated), SRV, PTR of the slice subnet, NXDOMAIN,
 * an empty NOERROR for another type, NOTIMP, FORMERR, silence for replies,
 * EDNS0 sizes and TC over UDP, and names outside the zone left to forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include "supervisor/dns_zone.h"

static struct dns_zone *zone_with(const char *json)
{
	struct dns_zone *z = dns_zone_new();
	assert_non_null(z);
	json_error_t jerr;
	json_t *msg = json_loads(json, 0, &jerr);
	assert_non_null(msg);
	struct acre_error err = {0};
	int rc = dns_zone_apply(z, msg, &err);
	if (rc < 0)
		fail_msg("apply: %s", err.message);
	json_decref(msg);
	return z;
}

static int apply(struct dns_zone *z, const char *json, struct acre_error *err)
{
	json_t *msg = json_loads(json, 0, NULL);
	assert_non_null(msg);
	int rc = dns_zone_apply(z, msg, err);
	json_decref(msg);
	return rc;
}

static const char *names_msg =
	"{\"full\": true, \"set\": ["
	"{\"name\": \"web-1\", \"addresses\": [\"198.19.4.7\"]},"
	"{\"name\": \"Web-2\", \"addresses\": [\"198.19.5.9\"]},"
	"{\"name\": \"web\", \"addresses\": [\"198.19.4.7\", \"198.19.5.9\", \"198.19.6.2\"],"
	" \"srv\": [{\"service\": \"http\", \"proto\": \"tcp\", \"port\": 8080, \"target\": "
	"\"web-1\"},"
	"          {\"service\": \"http\", \"proto\": \"tcp\", \"port\": 8080, \"target\": "
	"\"web-2\"}]}],"
	"\"gone\": []}";

/* A query as a stub resolver sends it; edns 0 for none. */
static uint8_t *query(const char *name, ldns_rr_type type, uint16_t edns, size_t *len)
{
	ldns_rdf *dn = ldns_dname_new_frm_str(name);
	assert_non_null(dn);
	ldns_pkt *q = ldns_pkt_query_new(dn, type, LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(q);
	ldns_pkt_set_id(q, 4242);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, edns);
	uint8_t *wire;
	assert_int_equal(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return wire;
}

/* The reply to one query, parsed; NULL when the verdict is not a reply. */
static ldns_pkt *ask(struct dns_zone *z, const char *name, ldns_rr_type type, uint16_t edns,
		     bool tcp, enum dns_verdict *verdict, size_t *wire_len)
{
	size_t len, outlen;
	uint8_t *q = query(name, type, edns, &len), *out;
	enum dns_verdict v = dns_zone_answer(z, q, len, tcp, &out, &outlen);
	free(q);
	if (verdict)
		*verdict = v;
	if (wire_len)
		*wire_len = outlen;
	if (v != DNS_REPLY)
		return NULL;
	ldns_pkt *r;
	assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
	free(out);
	assert_int_equal(ldns_pkt_id(r), 4242);
	assert_true(ldns_pkt_qr(r));
	return r;
}

static char *first_a(const ldns_pkt *r)
{
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	assert_non_null(rr);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	return ldns_rdf2str(ldns_rr_rdf(rr, 0));
}

static void test_name_and_case(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	assert_int_equal(dns_zone_size(z), 3);
	assert_non_null(dns_zone_get(z, "WEB-2"));
	const char *asks[] = {"web-1.acre.", "WEB-1.ACRE.", "web-1.acre"};
	for (size_t i = 0; i < 3; i++) {
		ldns_pkt *r = ask(z, asks[i], LDNS_RR_TYPE_A, 0, false, NULL, NULL);
		assert_non_null(r);
		assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
		assert_true(ldns_pkt_aa(r));
		assert_int_equal(ldns_pkt_ancount(r), 1);
		char *a = first_a(r);
		assert_string_equal(a, "198.19.4.7");
		free(a);
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
		assert_int_equal(ldns_rr_ttl(rr), DNS_ZONE_TTL);
		ldns_pkt_free(r);
	}
	dns_zone_free(z);
}

static void test_group_rotates(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	char *firsts[3];
	for (int i = 0; i < 3; i++) {
		ldns_pkt *r = ask(z, "web.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
		assert_int_equal(ldns_pkt_ancount(r), 3);
		firsts[i] = first_a(r);
		ldns_pkt_free(r);
	}
	/* Three answers, three different members first: every member is someone's first. */
	assert_string_not_equal(firsts[0], firsts[1]);
	assert_string_not_equal(firsts[1], firsts[2]);
	assert_string_not_equal(firsts[0], firsts[2]);
	for (int i = 0; i < 3; i++)
		free(firsts[i]);
	dns_zone_free(z);
}

static void test_srv(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	ldns_pkt *r = ask(z, "_http._tcp.web.acre.", LDNS_RR_TYPE_SRV, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 2);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SRV);
	assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(rr, 2)), 8080);
	char *target = ldns_rdf2str(ldns_rr_rdf(rr, 3));
	assert_string_equal(target, "web-1.acre.");
	free(target);
	ldns_pkt_free(r);
	/* A service the group does not have, or a name without any. */
	r = ask(z, "_http._udp.web.acre.", LDNS_RR_TYPE_SRV, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	r = ask(z, "_http._tcp.web-1.acre.", LDNS_RR_TYPE_SRV, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	/* The SRV name exists: another type there is an empty NOERROR. */
	r = ask(z, "_http._tcp.web.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	dns_zone_free(z);
}

static void test_negative(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	ldns_pkt *r = ask(z, "nope.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(r));
	/* The SOA tells caches how long the "no": the zone's TTL. */
	assert_int_equal(ldns_pkt_nscount(r), 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(r), 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), DNS_ZONE_TTL);
	ldns_pkt_free(r);
	r = ask(z, "a.b.web-1.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	/* A known name, another type: NOERROR and no answer. */
	r = ask(z, "web-1.acre.", LDNS_RR_TYPE_AAAA, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(ldns_pkt_nscount(r), 1);
	ldns_pkt_free(r);
	r = ask(z, "acre.", LDNS_RR_TYPE_SOA, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
	r = ask(z, "acre.", LDNS_RR_TYPE_AXFR, 0, true, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);
	dns_zone_free(z);
}

static void test_outside_forwarded(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	enum dns_verdict v;
	assert_null(ask(z, "example.org.", LDNS_RR_TYPE_A, 0, false, &v, NULL));
	assert_int_equal(v, DNS_FORWARD);
	assert_null(ask(z, "acre.example.org.", LDNS_RR_TYPE_A, 0, false, &v, NULL));
	assert_int_equal(v, DNS_FORWARD);
	/* One label: NXDOMAIN here, at once; a TLD's delegation still goes out. */
	ldns_pkt *r = ask(z, "www.", LDNS_RR_TYPE_A, 0, false, &v, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	assert_false(ldns_pkt_aa(r));
	ldns_pkt_free(r);
	assert_null(ask(z, "org.", LDNS_RR_TYPE_NS, 0, false, &v, NULL));
	assert_int_equal(v, DNS_FORWARD);
	assert_null(ask(z, "8.4.19.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, false, &v, NULL));
	assert_int_equal(v, DNS_FORWARD); /* no reverse range set yet, and not a name's */
	dns_zone_free(z);
}

static void test_reverse(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	dns_zone_set_reverse(z, 0xc6130400u, 24); /* 198.19.4.0/24 */
	ldns_pkt *r = ask(z, "7.4.19.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	/* The slice's own name, not the group's that holds it too. */
	char *ptr = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0));
	assert_string_equal(ptr, "web-1.acre.");
	free(ptr);
	ldns_pkt_free(r);
	r = ask(z, "99.4.19.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	/* Another node's slice that the pool named: its name. */
	r = ask(z, "9.5.19.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, false, NULL, NULL);
	ptr = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0));
	assert_string_equal(ptr, "web-2.acre.");
	free(ptr);
	ldns_pkt_free(r);
	enum dns_verdict v;
	assert_null(ask(z, "10.5.19.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, false, &v, NULL));
	assert_int_equal(v, DNS_FORWARD); /* another node's address, no name: not ours to say */
	assert_null(ask(z, "07.4.19.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, false, &v, NULL));
	assert_int_equal(v, DNS_FORWARD);
	dns_zone_free(z);
}

static void test_updates(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	struct acre_error err = {0};
	assert_int_equal(apply(z,
			       "{\"set\": [{\"name\": \"db\", \"addresses\": [\"198.19.4.8\"]},"
			       "{\"name\": \"WEB-1\", \"addresses\": [\"198.19.4.77\"]}],"
			       "\"gone\": [\"web-2\"]}",
			       &err),
			 0);
	assert_int_equal(dns_zone_size(z), 3);
	assert_null(dns_zone_get(z, "web-2"));
	assert_int_equal(dns_zone_get(z, "web-1")->addrs[0], inet_addr("198.19.4.77"));
	assert_non_null(dns_zone_get(z, "db"));
	enum dns_verdict v;
	ldns_pkt *r = ask(z, "web-2.acre.", LDNS_RR_TYPE_A, 0, false, &v, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	/* full replaces everything. */
	assert_int_equal(apply(z, "{\"full\": true, \"set\": [], \"gone\": []}", &err), 0);
	assert_int_equal(dns_zone_size(z), 0);
	dns_zone_free(z);
}

static void test_bad_messages(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *field, *says;
	} bad[] = {
		{"{\"set\": [{\"name\": \"-x\", \"addresses\": []}]}", "set[0]", "not a DNS label"},
		{"{\"set\": [{\"name\": \"a_b\", \"addresses\": []}]}", "set[0]",
		 "not a DNS label"},
		{"{\"set\": [{\"name\": \"ok\", \"addresses\": [\"1.2.3\"]}]}", "set[0].addresses",
		 "not an IPv4 address"},
		{"{\"set\": [{\"name\": \"ok\", \"addresses\": [7]}]}", "set[0].addresses",
		 "not an IPv4 address"},
		{"{\"set\": [{\"name\": \"ok\"}]}", "set[0]", "addresses"},
		{"{\"set\": [{\"name\": \"ok\", \"addresses\": [], \"srv\": [{\"service\": "
		 "\"http\","
		 "\"proto\": \"sctp\", \"port\": 1, \"target\": \"a\"}]}]}",
		 "set[0].srv", "tcp or udp"},
		{"{\"set\": [{\"name\": \"ok\", \"addresses\": [], \"srv\": [{\"service\": "
		 "\"http\","
		 "\"proto\": \"tcp\", \"port\": 0, \"target\": \"a\"}]}]}",
		 "set[0].srv", "1 to 65535"},
		{"{\"set\": {}}", "set", "must be an array"},
		{"{\"gone\": [\"ok\", 3]}", "gone", "gone[1]"},
	};
	struct dns_zone *z = zone_with(names_msg);
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		struct acre_error err = {0};
		/* A good entry first: a refused message must change nothing at all. */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", bad[i].msg);
		assert_int_equal(apply(z, msg, &err), -EINVAL);
		assert_string_equal(err.field, bad[i].field);
		if (!strstr(err.message, bad[i].says))
			fail_msg("%s: expected '%s' in: %s", bad[i].msg, bad[i].says, err.message);
	}
	struct acre_error err = {0};
	assert_int_equal(apply(z,
			       "{\"full\": true, \"set\": [{\"name\": \"x\", \"addresses\": []},"
			       "{\"name\": \"-\", \"addresses\": []}]}",
			       &err),
			 -EINVAL);
	assert_int_equal(dns_zone_size(z), 3);
	assert_non_null(dns_zone_get(z, "web-1"));
	dns_zone_free(z);
}

static void test_malformed_queries(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	uint8_t *out;
	size_t outlen, len;
	/* Too short for a header: silence. */
	uint8_t tiny[5] = {1, 2, 3, 4, 5};
	assert_int_equal(dns_zone_answer(z, tiny, sizeof(tiny), false, &out, &outlen), DNS_SILENT);
	/* A header that promises a question it does not carry: FORMERR with its id. */
	uint8_t hdr[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_int_equal(dns_zone_answer(z, hdr, sizeof(hdr), false, &out, &outlen), DNS_REPLY);
	ldns_pkt *r;
	assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), 0x1234);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
	ldns_pkt_free(r);
	free(out);
	/* Two questions: FORMERR. */
	uint8_t *q = query("web-1.acre.", LDNS_RR_TYPE_A, 0, &len);
	q[5] = 2;
	assert_int_equal(dns_zone_answer(z, q, len, false, &out, &outlen), DNS_REPLY);
	assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_FORMERR);
	ldns_pkt_free(r);
	free(out);
	/* A reply (QR set) is never answered: two servers must not bounce errors forever. */
	q[5] = 1;
	q[2] |= 0x80;
	assert_int_equal(dns_zone_answer(z, q, len, false, &out, &outlen), DNS_SILENT);
	/* Another opcode (NOTIFY = 4): NOTIMP. */
	q[2] = (uint8_t)((q[2] & ~0x80 & ~0x78) | 4 << 3);
	assert_int_equal(dns_zone_answer(z, q, len, false, &out, &outlen), DNS_REPLY);
	assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(r);
	free(out);
	/* Random bytes after a valid header: never a crash. */
	uint8_t junk[300];
	for (unsigned seed = 1; seed < 2000; seed++) {
		srand(seed);
		size_t n = 12 + (size_t)rand() % (sizeof(junk) - 12);
		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rand();
		junk[2] &= 0x7f;
		if (dns_zone_answer(z, junk, n, false, &out, &outlen) == DNS_REPLY)
			free(out);
	}
	free(q);
	dns_zone_free(z);
}

static void test_sizes(void **state)
{
	(void)state;
	/* A group of 60 members: 60 A records, about 1,000 bytes. */
	char *msg = malloc(8192);
	size_t n = (size_t)sprintf(
		msg, "{\"full\": true, \"set\": [{\"name\": \"big\", \"addresses\": [");
	for (int i = 0; i < 60; i++)
		n += (size_t)sprintf(msg + n, "%s\"198.19.%d.%d\"", i ? "," : "", i / 200, i + 1);
	sprintf(msg + n, "]}]}");
	struct dns_zone *z = zone_with(msg);
	free(msg);
	size_t wire;
	ldns_pkt *r = ask(z, "big.acre.", LDNS_RR_TYPE_A, 0, false, NULL, &wire);
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_true(wire <= DNS_UDP_PLAIN);
	ldns_pkt_free(r);
	/* With EDNS0 4096 the answer fits the server's own 1232: whole, and EDNS0 answered. */
	r = ask(z, "big.acre.", LDNS_RR_TYPE_A, 4096, false, NULL, &wire);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 60);
	assert_true(ldns_pkt_edns(r));
	assert_int_equal(ldns_pkt_edns_udp_size(r), DNS_UDP_MAX);
	assert_true(wire <= DNS_UDP_MAX);
	ldns_pkt_free(r);
	/* Over TCP: whole. */
	r = ask(z, "big.acre.", LDNS_RR_TYPE_A, 0, true, NULL, NULL);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 60);
	ldns_pkt_free(r);
	/* An EDNS version we do not speak: BADVERS. */
	size_t len, outlen;
	uint8_t *q = query("big.acre.", LDNS_RR_TYPE_A, 1232, &len), *out;
	q[len - 11 + 6] = 1; /* the OPT RR's version: its TTL's second byte */
	assert_int_equal(dns_zone_answer(z, q, len, false, &out, &outlen), DNS_REPLY);
	assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_edns_extended_rcode(r), 1);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	free(out);
	free(q);
	dns_zone_free(z);
}

static void test_kept_answers(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	/* The same question twice, the second in another case: its own id and case come back. */
	for (int i = 0; i < 2; i++) {
		size_t len, outlen;
		uint8_t *q = query(i ? "WeB-1.aCrE." : "web-1.acre.", LDNS_RR_TYPE_A, 0, &len),
			*out;
		q[0] = (uint8_t)(0x10 + i);
		assert_int_equal(dns_zone_answer(z, q, len, false, &out, &outlen), DNS_REPLY);
		ldns_pkt *r;
		assert_int_equal(ldns_wire2pkt(&r, out, outlen), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_id(r) >> 8, 0x10 + i);
		char *qn = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
		assert_string_equal(qn, i ? "WeB-1.aCrE." : "web-1.acre.");
		free(qn);
		char *a = first_a(r);
		assert_string_equal(a, "198.19.4.7");
		free(a);
		ldns_pkt_free(r);
		free(out);
		free(q);
	}
	/* A change of the zone: the next answer is the new one. */
	struct acre_error err = {0};
	assert_int_equal(apply(z,
			       "{\"set\": [{\"name\": \"web-1\", \"addresses\": "
			       "[\"198.19.4.99\"]}]}",
			       &err),
			 0);
	ldns_pkt *r = ask(z, "web-1.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	char *a = first_a(r);
	assert_string_equal(a, "198.19.4.99");
	free(a);
	ldns_pkt_free(r);
	assert_int_equal(apply(z, "{\"gone\": [\"web-1\"]}", &err), 0);
	r = ask(z, "web-1.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	dns_zone_free(z);
}

static void test_hosts_file(void **state)
{
	(void)state;
	struct dns_zone *z = zone_with(names_msg);
	char text[] = "# fixed names\n"
		      "198.18.9.10 nas NAS-2.acre  # two names\n"
		      "198.18.9.11 nas\n"
		      "198.18.9.12 web-1\n"
		      "198.18.9.13 db.example.org\n"
		      "2001:db8::1 v6\n"
		      "198.18.9.14 bad_name\n";
	size_t loaded, skipped;
	assert_int_equal(dns_zone_load_hosts(z, text, &loaded, &skipped), 0);
	assert_int_equal(loaded, 4);
	assert_int_equal(skipped, 3);
	assert_int_equal(dns_zone_get(z, "nas")->naddrs, 2);
	assert_non_null(dns_zone_get(z, "nas-2"));
	ldns_pkt *r = ask(z, "nas-2.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	char *a = first_a(r);
	assert_string_equal(a, "198.18.9.10");
	free(a);
	ldns_pkt_free(r);
	/* A name of both: the pool's record wins; a full message leaves the fixed names alone. */
	r = ask(z, "web-1.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	a = first_a(r);
	assert_string_equal(a, "198.19.4.7");
	free(a);
	ldns_pkt_free(r);
	struct acre_error err = {0};
	assert_int_equal(apply(z, "{\"full\": true, \"set\": []}", &err), 0);
	assert_null(dns_zone_get(z, "web"));
	r = ask(z, "web-1.acre.", LDNS_RR_TYPE_A, 0, false, NULL, NULL);
	a = first_a(r);
	assert_string_equal(a, "198.18.9.12");
	free(a);
	ldns_pkt_free(r);
	dns_zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_and_case),
		cmocka_unit_test(test_group_rotates),
		cmocka_unit_test(test_srv),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_outside_forwarded),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_updates),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_malformed_queries),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_hosts_file),
		cmocka_unit_test(test_kept_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
