/*
 * Answers from the `.acre` zone, read and written with ldns: A records of
 * NAME.acre and GROUP.acre (a group's members rotated from one answer to the
 * next, so that clients taking the first spread over all), SRV records of
 * _service._proto.GROUP.acre, PTR records of the slice subnet's addresses,
 * and the proper negative answers: NXDOMAIN for a name the zone lacks,
 * NOERROR with no answer for a type a name lacks (both with the zone's SOA,
 * whose minimum is the negative TTL), NOTIMP for an opcode other than
 * QUERY, FORMERR for a query that does not parse.  A name of one label
 * other than the zone's ("www.", what a resolver library tries after the
 * search list) gets NXDOMAIN at once, not a trip to the resolvers outside
 * (no host has such a name, RFC 7085); the NS, SOA and DNSSEC types of a
 * top-level domain are still forwarded.  A reply never exceeds
 * what the client takes (512 bytes, or its EDNS0 size up to DNS_UDP_MAX):
 * past that it goes back empty with TC set, and the client asks over TCP.
 */
#include "dns_zone_internal.h"
#include "proto/proto.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <ldns/ldns.h>

/* Where the query's name falls. */
enum qkind {
	Q_OUTSIDE, /* not ours: forwarded */
	Q_APEX,	   /* acre. */
	Q_NAME,	   /* NAME.acre. */
	Q_SRV,	   /* _service._proto.NAME.acre. */
	Q_REVERSE, /* d.c.b.a.in-addr.arpa. of the slice subnet */
	Q_UNKNOWN, /* under acre. but no such name */
	Q_DOTLESS, /* one label, not acre: no host on the internet has such a name */
};

struct qname {
	enum qkind kind;
	const uint8_t *label[8]; /* the first labels, wire format (length byte first) */
	size_t nlabels;
	uint32_t addr; /* Q_REVERSE: network order */
	bool rotated;  /* the answer rotates: not kept */
};

static bool label_is(const uint8_t *l, const char *s)
{
	size_t n = strlen(s);
	return l[0] == n && strncasecmp((const char *)l + 1, s, n) == 0;
}

/* One label of a reverse name: a decimal octet without leading zeros. */
static bool octet(const uint8_t *l, uint32_t *out)
{
	if (l[0] == 0 || l[0] > 3 || (l[0] > 1 && l[1] == '0'))
		return false;
	uint32_t v = 0;
	for (size_t i = 1; i <= l[0]; i++) {
		if (!isdigit(l[i]))
			return false;
		v = v * 10 + (uint32_t)(l[i] - '0');
	}
	*out = v;
	return v <= 255;
}

/*
 * d.c.b.a.in-addr.arpa: ours when the zone names the address (a slice of
 * any node of the pool) or it lies in this node's subnet (NXDOMAIN then).
 */
static void classify_reverse(const struct dns_zone *z, struct qname *q)
{
	if (q->nlabels != 6 || !label_is(q->label[4], "in-addr") || !label_is(q->label[5], "arpa"))
		return;
	uint32_t a = 0, o;
	for (int i = 3; i >= 0; i--) {
		if (!octet(q->label[i], &o))
			return;
		a = a << 8 | o;
	}
	uint32_t mask = z->reverse_prefix ? ~0u << (32 - z->reverse_prefix) : 0;
	if ((!z->reverse_on || (a & mask) != (z->reverse_net & mask)) &&
	    !zone_lookup_addr(z, htonl(a)))
		return;
	q->kind = Q_REVERSE;
	q->addr = htonl(a);
}

/* The labels of a wire-format name (as ldns holds it: validated, at most 255 bytes). */
static void classify(const struct dns_zone *z, const ldns_rdf *name, struct qname *q)
{
	const uint8_t *p = ldns_rdf_data(name), *end = p + ldns_rdf_size(name);
	size_t n = 0;
	const uint8_t *last = NULL;
	for (; p < end && *p; p += *p + 1, n++) {
		if (n < ACRE_ARRAY_SIZE(q->label))
			q->label[n] = p;
		last = p;
	}
	q->nlabels = n;
	q->kind = Q_OUTSIDE;
	if (n == 0)
		return;
	if (n <= ACRE_ARRAY_SIZE(q->label))
		classify_reverse(z, q);
	if (q->kind == Q_REVERSE || !label_is(last, ACRE_DNS_ZONE))
		return;
	if (n == 1)
		q->kind = Q_APEX;
	else if (n == 2)
		q->kind = Q_NAME;
	else if (n == 4 && q->label[0][0] > 1 && q->label[0][1] == '_' && q->label[1][0] > 1 &&
		 q->label[1][1] == '_')
		q->kind = Q_SRV;
	else
		q->kind = Q_UNKNOWN;
}

static ldns_rr *rr_new(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	if (!rr)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

static ldns_rdf *zone_name(const char *label)
{
	char buf[DNS_LABEL_MAX * 2 + 16];
	snprintf(buf, sizeof(buf), "%s%s%s.", label ? label : "", label ? "." : "", ACRE_DNS_ZONE);
	return ldns_dname_new_frm_str(buf);
}

/* The zone's SOA: in the authority section of negative answers, its minimum their TTL. */
static ldns_rr *soa(void)
{
	ldns_rdf *apex = zone_name(NULL);
	ldns_rr *rr = apex ? rr_new(apex, LDNS_RR_TYPE_SOA, DNS_ZONE_TTL) : NULL;
	if (apex)
		ldns_rdf_deep_free(apex);
	if (!rr)
		return NULL;
	ldns_rr_push_rdf(rr, zone_name("ns"));
	ldns_rr_push_rdf(rr, zone_name("hostmaster"));
	const uint32_t times[] = {1 /* serial */, 60, 10, 600, DNS_ZONE_TTL /* minimum */};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(times); i++)
		ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, times[i]));
	return rr;
}

static void push_a(ldns_pkt *r, const ldns_rdf *owner, struct dns_record *rec, struct qname *q)
{
	size_t n = rec->naddrs;
	q->rotated = n > 1;
	/* Each answer starts one further: clients that take the first spread over the members. */
	size_t start = n ? rec->rotate++ % n : 0;
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_A, DNS_ZONE_TTL);
		if (!rr)
			return;
		uint32_t a = rec->addrs[(start + i) % n];
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof(a), &a));
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	}
}

static bool label_eq(const uint8_t *wire, const char *s)
{
	size_t n = strlen(s);
	return wire[0] == n + 1 && strncasecmp((const char *)wire + 2, s, n) == 0;
}

/* The SRV entries of _service._proto.NAME; false when the name has none. */
static bool push_srv(ldns_pkt *r, const ldns_rdf *owner, const struct dns_record *rec,
		     const struct qname *q, bool want)
{
	bool any = false;
	for (size_t i = 0; i < rec->nsrv; i++) {
		const struct dns_srv *s = &rec->srv[i];
		if (!label_eq(q->label[0], s->service) || !label_eq(q->label[1], s->proto))
			continue;
		any = true;
		ldns_rr *rr = want ? rr_new(owner, LDNS_RR_TYPE_SRV, DNS_ZONE_TTL) : NULL;
		if (!rr)
			continue;
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));  /* priority */
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 10)); /* weight */
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, s->port));
		ldns_rr_push_rdf(rr, zone_name(s->target));
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	}
	return any;
}

static void push_ptr(ldns_pkt *r, const ldns_rdf *owner, const struct dns_record *rec)
{
	ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_PTR, DNS_ZONE_TTL);
	if (!rr)
		return;
	ldns_rr_push_rdf(rr, zone_name(rec->name));
	ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
}

/* The answer section, and the rcode: NXDOMAIN for a name the zone lacks. */
static ldns_pkt_rcode fill(struct dns_zone *z, ldns_pkt *r, struct qname *q, const ldns_rdf *owner,
			   ldns_rr_type type)
{
	bool a = type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_ANY;
	struct dns_record *rec;
	const struct dns_record *named;
	switch (q->kind) {
	case Q_APEX:
		if (type == LDNS_RR_TYPE_SOA || type == LDNS_RR_TYPE_ANY) {
			ldns_rr *s = soa();
			if (s)
				ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, s);
		}
		return LDNS_RCODE_NOERROR;
	case Q_NAME:
		rec = zone_lookup_label(z, q->label[0] + 1, q->label[0][0]);
		if (!rec)
			return LDNS_RCODE_NXDOMAIN;
		if (a)
			push_a(r, owner, rec, q);
		return LDNS_RCODE_NOERROR;
	case Q_SRV:
		rec = zone_lookup_label(z, q->label[2] + 1, q->label[2][0]);
		if (!rec || !push_srv(r, owner, rec, q,
				      type == LDNS_RR_TYPE_SRV || type == LDNS_RR_TYPE_ANY))
			return LDNS_RCODE_NXDOMAIN;
		return LDNS_RCODE_NOERROR;
	case Q_REVERSE:
		named = zone_lookup_addr(z, q->addr);
		if (!named)
			return LDNS_RCODE_NXDOMAIN;
		if (type == LDNS_RR_TYPE_PTR || type == LDNS_RR_TYPE_ANY)
			push_ptr(r, owner, named);
		return LDNS_RCODE_NOERROR;
	default:
		return LDNS_RCODE_NXDOMAIN;
	}
}

/* The reply's header and question, from the query's. */
static ldns_pkt *reply_for(const ldns_pkt *q, ldns_pkt_rcode rcode)
{
	ldns_pkt *r = ldns_pkt_new();
	if (!r)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_cd(r, ldns_pkt_cd(q));
	ldns_pkt_set_ra(r, true); /* names outside the zone are resolved for the client */
	ldns_pkt_set_rcode(r, rcode);
	ldns_rr_list *qs = ldns_pkt_question(q);
	for (size_t i = 0; qs && i < ldns_rr_list_rr_count(qs) && i < 1; i++)
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
	/* EDNS0 answered with EDNS0 (RFC 6891 7); a version we do not speak gets BADVERS. */
	if (ldns_pkt_edns(q)) {
		ldns_pkt_set_edns_udp_size(r, DNS_UDP_MAX);
		if (ldns_pkt_edns_version(q) > 0) {
			ldns_pkt_set_edns_extended_rcode(r, 1); /* BADVERS = 16 = 1 << 4 | 0 */
			ldns_pkt_set_rcode(r, LDNS_RCODE_NOERROR);
		}
	}
	return r;
}

static size_t udp_size_of(const ldns_pkt *q)
{
	if (!ldns_pkt_edns(q))
		return DNS_UDP_PLAIN;
	size_t n = ldns_pkt_edns_udp_size(q);
	return n < DNS_UDP_PLAIN ? DNS_UDP_PLAIN : n > DNS_UDP_MAX ? DNS_UDP_MAX : n;
}

static enum dns_verdict to_wire(ldns_pkt *r, uint8_t **out, size_t *outlen)
{
	if (ldns_pkt2wire(out, r, outlen) != LDNS_STATUS_OK) {
		*out = NULL;
		return DNS_SILENT;
	}
	return DNS_REPLY;
}

/* A reply too large for UDP: its header and question alone, TC set. */
static enum dns_verdict truncated(const ldns_pkt *q, ldns_pkt_rcode rcode, uint8_t **out,
				  size_t *outlen)
{
	ldns_pkt *r = reply_for(q, rcode);
	if (!r)
		return DNS_SILENT;
	ldns_pkt_set_aa(r, true);
	ldns_pkt_set_tc(r, true);
	enum dns_verdict v = to_wire(r, out, outlen);
	ldns_pkt_free(r);
	return v;
}

/* FORMERR for what does not parse but has a query's header, else silence. */
static enum dns_verdict formerr(const uint8_t *q, size_t len, uint8_t **out, size_t *outlen)
{
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(q))
		return DNS_SILENT; /* a reply, or not even a header: answering could start a loop */
	ldns_pkt *r = ldns_pkt_new();
	if (!r)
		return DNS_SILENT;
	ldns_pkt_set_id(r, LDNS_ID_WIRE(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, (ldns_pkt_opcode)LDNS_OPCODE_WIRE(q));
	ldns_pkt_set_rcode(r, LDNS_RCODE_FORMERR);
	enum dns_verdict v = to_wire(r, out, outlen);
	ldns_pkt_free(r);
	return v;
}

static void pkt_freep(ldns_pkt **p)
{
	if (*p)
		ldns_pkt_free(*p);
}

enum dns_verdict dns_zone_answer(struct dns_zone *z, const uint8_t *wire, size_t len, bool tcp,
				 uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	_cleanup_(pkt_freep) ldns_pkt *q = NULL;
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(wire))
		return DNS_SILENT;
	struct dns_cache_key key;
	bool keyed = cache_key(wire, len, tcp, &key);
	if (keyed && cache_get(z, &key, wire, out, outlen))
		return DNS_REPLY;
	if (len > DNS_MESSAGE_MAX || ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK)
		return formerr(wire, len, out, outlen);
	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY) {
		_cleanup_(pkt_freep) ldns_pkt *r = reply_for(q, LDNS_RCODE_NOTIMPL);
		return r ? to_wire(r, out, outlen) : DNS_SILENT;
	}
	/* One question, and nothing in the answer section, or it is not a query (RFC 9619). */
	if (ldns_pkt_qdcount(q) != 1 || ldns_pkt_ancount(q) != 0)
		return formerr(wire, len, out, outlen);
	ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	const ldns_rdf *owner = ldns_rr_owner(question);
	ldns_rr_type type = ldns_rr_get_type(question);
	struct qname qn = {0};
	classify(z, owner, &qn);
	if (qn.kind == Q_OUTSIDE && qn.nlabels == 1 && type != LDNS_RR_TYPE_NS &&
	    type != LDNS_RR_TYPE_SOA && type != LDNS_RR_TYPE_DS && type != LDNS_RR_TYPE_DNSKEY)
		qn.kind = Q_DOTLESS;
	if (qn.kind == Q_OUTSIDE)
		return DNS_FORWARD;
	if (ldns_pkt_edns(q) && ldns_pkt_edns_version(q) > 0) {
		_cleanup_(pkt_freep) ldns_pkt *r = reply_for(q, LDNS_RCODE_NOERROR); /* BADVERS */
		return r ? to_wire(r, out, outlen) : DNS_SILENT;
	}
	if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN &&
	    ldns_rr_get_class(question) != LDNS_RR_CLASS_ANY) {
		_cleanup_(pkt_freep) ldns_pkt *r = reply_for(q, LDNS_RCODE_REFUSED);
		return r ? to_wire(r, out, outlen) : DNS_SILENT;
	}
	if (type == LDNS_RR_TYPE_AXFR || type == LDNS_RR_TYPE_IXFR) {
		_cleanup_(pkt_freep) ldns_pkt *r = reply_for(q, LDNS_RCODE_REFUSED);
		return r ? to_wire(r, out, outlen) : DNS_SILENT;
	}
	_cleanup_(pkt_freep) ldns_pkt *r = reply_for(q, LDNS_RCODE_NOERROR);
	if (!r)
		return DNS_SILENT;
	ldns_pkt_set_aa(r, qn.kind != Q_DOTLESS);
	ldns_pkt_rcode rcode = fill(z, r, &qn, owner, type);
	ldns_pkt_set_rcode(r, rcode);
	if (qn.kind != Q_DOTLESS && (rcode == LDNS_RCODE_NXDOMAIN || ldns_pkt_ancount(r) == 0)) {
		ldns_rr *s = soa();
		if (s)
			ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, s);
	}
	enum dns_verdict v = to_wire(r, out, outlen);
	if (v == DNS_REPLY && !tcp && *outlen > udp_size_of(q)) {
		free(*out);
		*out = NULL;
		v = truncated(q, rcode, out, outlen);
	}
	if (v == DNS_REPLY && keyed && !qn.rotated)
		cache_put(z, &key, *out, *outlen);
	return v;
}

enum dns_verdict dns_reply_error(const uint8_t *wire, size_t len, int rcode, uint8_t **out,
				 size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	_cleanup_(pkt_freep) ldns_pkt *q = NULL;
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(wire))
		return DNS_SILENT;
	if (ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK)
		return formerr(wire, len, out, outlen);
	_cleanup_(pkt_freep) ldns_pkt *r = reply_for(q, (ldns_pkt_rcode)rcode);
	return r ? to_wire(r, out, outlen) : DNS_SILENT;
}

size_t dns_query_udp_size(const uint8_t *wire, size_t len)
{
	_cleanup_(pkt_freep) ldns_pkt *q = NULL;
	if (ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK)
		return DNS_UDP_PLAIN;
	return udp_size_of(q);
}
