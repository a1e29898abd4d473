/*
 * The pool's networking, inside pool/: the pure pieces (addresses and
 * prefixes, the allocators of node subnets and virtual IPs, DNS labels,
 * the acre.vip.ports label) that the unit tests drive directly, and what
 * the pool's own files call as slices and nodes change (net.c).  Nothing
 * outside pool/ includes this but the unit tests.
 *
 * Addresses are IPv4 in host byte order: the pool, the node subnets and
 * the VIP range are IPv4 prefixes (a node's own address may be anything,
 * but only an IPv4 one can be routed to by host-gw or reached by VXLAN).
 */
#ifndef ACRE_CONTROLLER_POOL_NET_INTERNAL_H
#define ACRE_CONTROLLER_POOL_NET_INTERNAL_H

#include "common/common.h"
#include "proto/proto.h"

/* "255.255.255.255/32" */
#define POOL_CIDR_LEN 19
#define POOL_ADDR_LEN 16

/* ---- net_addr.c: addresses, prefixes, an allocator of indexes ---------------------------- */

struct pool_cidr {
	uint32_t addr; /* host order, host bits zero */
	unsigned prefix;
};

int pool_ipv4_parse(const char *s, uint32_t *out);
void pool_ipv4_format(uint32_t a, char buf[POOL_ADDR_LEN]);
/* "A.B.C.D/N" with no host bit set; -EINVAL otherwise. */
int pool_cidr_parse(const char *s, struct pool_cidr *out);
void pool_cidr_format(const struct pool_cidr *c, char buf[POOL_CIDR_LEN + 1]);
bool pool_cidr_contains(const struct pool_cidr *c, uint32_t a);
bool pool_cidr_overlap(const struct pool_cidr *a, const struct pool_cidr *b);

/* Numbers 0..size-1, each given out once: the lowest free first. */
struct pool_ids {
	uint64_t *bits;
	uint32_t size, used;
	uint32_t low; /* no free number below this */
};
int pool_ids_init(struct pool_ids *ids, uint32_t size);
void pool_ids_free(struct pool_ids *ids);
bool pool_ids_used(const struct pool_ids *ids, uint32_t i);
/* -ERANGE out of range, -EEXIST given out already. */
int pool_ids_take(struct pool_ids *ids, uint32_t i);
/* The lowest free number; -ENOSPC when none is. */
int pool_ids_alloc(struct pool_ids *ids, uint32_t *out);
void pool_ids_release(struct pool_ids *ids, uint32_t i);

/* The subnets of nodes: --pool-cidr cut in prefixes of --node-subnet-bits. */
struct pool_subnets {
	struct pool_cidr pool;
	unsigned bits;
	struct pool_ids ids;
};
/* Largest pool the allocator accepts: 2^24 subnets (2 MiB of bitmap). */
#define POOL_SUBNETS_MAX (1u << 24)
/* Bits: above the pool's prefix, at most 30 (a gateway and at least one slice). */
int pool_subnets_init(struct pool_subnets *s, const struct pool_cidr *pool, unsigned bits,
		      struct acre_error *err);
void pool_subnets_free(struct pool_subnets *s);
/* The subnet's number, or -ERANGE when it is not one of the pool's subnets. */
int pool_subnets_index(const struct pool_subnets *s, const struct pool_cidr *subnet);
void pool_subnets_at(const struct pool_subnets *s, uint32_t i, struct pool_cidr *out);
int pool_subnets_take(struct pool_subnets *s, const struct pool_cidr *subnet);
int pool_subnets_alloc(struct pool_subnets *s, struct pool_cidr *out);
void pool_subnets_release(struct pool_subnets *s, const struct pool_cidr *subnet);

/* ---- net_vips.c: virtual IPs ------------------------------------------------------------- */

/* --vip-cidr's addresses but its first and last (network and broadcast, for prefixes to /30). */
struct pool_vips {
	struct pool_cidr range;
	struct pool_ids ids;
};
int pool_vips_init(struct pool_vips *v, const struct pool_cidr *range, struct acre_error *err);
void pool_vips_free(struct pool_vips *v);
int pool_vips_take(struct pool_vips *v, uint32_t addr);
int pool_vips_alloc(struct pool_vips *v, uint32_t *addr);
void pool_vips_release(struct pool_vips *v, uint32_t addr);

/* ---- net_names.c: names in .acre, the acre.vip.ports label ------------------------------- */

/* RFC 1123: 1 to 63 letters, digits and '-', neither first nor last a '-'. */
bool pool_dns_label_valid(const char *s);
/* The label in lower case, into buf (ACRE_NAME_MAX + 1); false when it is too long. */
bool pool_dns_lower(const char *s, char *buf, size_t len);

#define POOL_VIP_PORTS_MAX 16

/*
 * What one record of net.names or net.vips holds at most, so that a node
 * can take it whole (a group larger than that resolves to, and balances
 * over, its first members in creation order that run).
 */
#define POOL_NAME_ADDRESSES_MAX 1024
#define POOL_NAME_SRV_MAX	256
#define POOL_VIP_RECORD_PORTS	32
#define POOL_VIP_BACKENDS_MAX	64
struct pool_vip_port {
	char service[16]; /* the SRV service: NAME of NAME:PORT/PROTO, else the port's digits */
	uint16_t port;
	bool udp;
};
/*
 * "80/tcp,53/udp" or "http:80/tcp": at most POOL_VIP_PORTS_MAX ports,
 * each once; the field named is the label.
 */
int pool_vip_ports_parse(const char *s, struct pool_vip_port *out, size_t *n,
			 struct acre_error *err);

#endif
