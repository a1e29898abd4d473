/*
 * Addresses of the pool's network: IPv4 addresses and prefixes as users
 * write them, a bitmap allocator of numbers (lowest free first, so a pool
 * fills from its start and a freed number is the next one given), and the
 * node subnets cut from --pool-cidr with it.  Pure code: the unit test
 * test_pool_net drives it.
 */
#include "net_internal.h"

#include <arpa/inet.h>

int pool_ipv4_parse(const char *s, uint32_t *out)
{
	struct in_addr in;
	if (!s || inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*out = ntohl(in.s_addr);
	return 0;
}

void pool_ipv4_format(uint32_t a, char buf[POOL_ADDR_LEN])
{
	struct in_addr in = {.s_addr = htonl(a)};
	if (!inet_ntop(AF_INET, &in, buf, POOL_ADDR_LEN))
		buf[0] = '\0';
}

static uint32_t mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

int pool_cidr_parse(const char *s, struct pool_cidr *out)
{
	char addr[POOL_ADDR_LEN];
	const char *slash = s ? strchr(s, '/') : NULL;
	if (!slash || (size_t)(slash - s) >= sizeof(addr) || !slash[1] || strlen(slash + 1) > 2)
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	char *end;
	unsigned long prefix = strtoul(slash + 1, &end, 10);
	uint32_t a;
	if (*end || slash[1] < '0' || slash[1] > '9' || prefix > 32 ||
	    pool_ipv4_parse(addr, &a) < 0)
		return -EINVAL;
	if (a & ~mask_of((unsigned)prefix))
		return -EINVAL; /* host bits set: say which network is meant */
	out->addr = a;
	out->prefix = (unsigned)prefix;
	return 0;
}

void pool_cidr_format(const struct pool_cidr *c, char buf[POOL_CIDR_LEN + 1])
{
	char a[POOL_ADDR_LEN];
	pool_ipv4_format(c->addr, a);
	snprintf(buf, POOL_CIDR_LEN + 1, "%s/%u", a, c->prefix);
}

bool pool_cidr_contains(const struct pool_cidr *c, uint32_t a)
{
	return (a & mask_of(c->prefix)) == c->addr;
}

bool pool_cidr_overlap(const struct pool_cidr *a, const struct pool_cidr *b)
{
	unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
	return (a->addr & mask_of(p)) == (b->addr & mask_of(p));
}

/* ---- numbers ------------------------------------------------------------------------------ */

int pool_ids_init(struct pool_ids *ids, uint32_t size)
{
	*ids = (struct pool_ids){.size = size};
	ids->bits = calloc(((size_t)size + 63) / 64 + 1, sizeof(uint64_t));
	return ids->bits ? 0 : -ENOMEM;
}

void pool_ids_free(struct pool_ids *ids)
{
	free(ids->bits);
	*ids = (struct pool_ids){0};
}

bool pool_ids_used(const struct pool_ids *ids, uint32_t i)
{
	return i < ids->size && (ids->bits[i / 64] >> (i % 64) & 1);
}

int pool_ids_take(struct pool_ids *ids, uint32_t i)
{
	if (i >= ids->size)
		return -ERANGE;
	if (pool_ids_used(ids, i))
		return -EEXIST;
	ids->bits[i / 64] |= 1ULL << (i % 64);
	ids->used++;
	return 0;
}

int pool_ids_alloc(struct pool_ids *ids, uint32_t *out)
{
	if (ids->used >= ids->size)
		return -ENOSPC;
	/* A word at a time: the first with a zero bit holds the lowest free number. */
	for (uint32_t w = ids->low / 64; (uint64_t)w * 64 < ids->size; w++) {
		uint64_t word = ids->bits[w];
		if (word == ~0ULL)
			continue;
		uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(~word);
		if (i >= ids->size)
			break;
		ids->low = i + 1;
		pool_ids_take(ids, i);
		*out = i;
		return 0;
	}
	return -ENOSPC;
}

void pool_ids_release(struct pool_ids *ids, uint32_t i)
{
	if (!pool_ids_used(ids, i))
		return;
	ids->bits[i / 64] &= ~(1ULL << (i % 64));
	ids->used--;
	if (i < ids->low)
		ids->low = i;
}

/* ---- node subnets -------------------------------------------------------------------------- */

int pool_subnets_init(struct pool_subnets *s, const struct pool_cidr *pool, unsigned bits,
		      struct acre_error *err)
{
	char text[POOL_CIDR_LEN + 1];
	pool_cidr_format(pool, text);
	*s = (struct pool_subnets){.pool = *pool, .bits = bits};
	if (bits > 30)
		return acre_error_set(
			err, EINVAL, "--node-subnet-bits",
			"--node-subnet-bits %u: at most 30 (a node's subnet holds its "
			"gateway and at least one slice)",
			bits);
	if (bits < pool->prefix)
		return acre_error_set(err, EINVAL, "--pool-cidr",
				      "--pool-cidr %s is too small for one /%u node subnet: give a "
				      "shorter prefix or more --node-subnet-bits",
				      text, bits);
	if (bits - pool->prefix > 24)
		return acre_error_set(err, EINVAL, "--node-subnet-bits",
				      "--pool-cidr %s cut in /%u makes more than %u node subnets",
				      text, bits, POOL_SUBNETS_MAX);
	if (pool_ids_init(&s->ids, 1u << (bits - pool->prefix)) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

void pool_subnets_free(struct pool_subnets *s)
{
	pool_ids_free(&s->ids);
}

int pool_subnets_index(const struct pool_subnets *s, const struct pool_cidr *subnet)
{
	if (subnet->prefix != s->bits || !pool_cidr_contains(&s->pool, subnet->addr))
		return -ERANGE;
	return (int)((subnet->addr - s->pool.addr) >> (32 - s->bits));
}

void pool_subnets_at(const struct pool_subnets *s, uint32_t i, struct pool_cidr *out)
{
	out->addr = s->pool.addr + (i << (32 - s->bits));
	out->prefix = s->bits;
}

int pool_subnets_take(struct pool_subnets *s, const struct pool_cidr *subnet)
{
	int i = pool_subnets_index(s, subnet);
	return i < 0 ? i : pool_ids_take(&s->ids, (uint32_t)i);
}

int pool_subnets_alloc(struct pool_subnets *s, struct pool_cidr *out)
{
	uint32_t i;
	int rc = pool_ids_alloc(&s->ids, &i);
	if (rc == 0)
		pool_subnets_at(s, i, out);
	return rc;
}

void pool_subnets_release(struct pool_subnets *s, const struct pool_cidr *subnet)
{
	int i = pool_subnets_index(s, subnet);
	if (i >= 0)
		pool_ids_release(&s->ids, (uint32_t)i);
}
