/*
 * Virtual IPs: the addresses of --vip-cidr, each given to one group of
 * slices (the value of their acre.service label, when they carry
 * acre.vip.ports) for as long as the group has members.  The lowest free
 * address first; the range's first and last addresses are never given
 * (its network and broadcast addresses, for prefixes up to /30).  Pure
 * code over net_addr.c's allocator.
 */
#include "net_internal.h"

/* Numbers of the allocator are offsets into the range. */
static bool ends_reserved(const struct pool_cidr *r)
{
	return r->prefix <= 30;
}

int pool_vips_init(struct pool_vips *v, const struct pool_cidr *range, struct acre_error *err)
{
	*v = (struct pool_vips){.range = *range};
	char text[POOL_CIDR_LEN + 1];
	pool_cidr_format(range, text);
	if (range->prefix < 8)
		return acre_error_set(err, EINVAL, "--vip-cidr",
				      "--vip-cidr %s: at most 2^24 addresses (a prefix of /8 or "
				      "longer)",
				      text);
	uint64_t size = 1ULL << (32 - range->prefix);
	if (pool_ids_init(&v->ids, (uint32_t)size) < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (ends_reserved(range)) {
		pool_ids_take(&v->ids, 0);
		pool_ids_take(&v->ids, (uint32_t)size - 1);
	}
	return 0;
}

void pool_vips_free(struct pool_vips *v)
{
	pool_ids_free(&v->ids);
}

int pool_vips_take(struct pool_vips *v, uint32_t addr)
{
	if (!pool_cidr_contains(&v->range, addr))
		return -ERANGE;
	return pool_ids_take(&v->ids, addr - v->range.addr);
}

int pool_vips_alloc(struct pool_vips *v, uint32_t *addr)
{
	uint32_t i;
	int rc = pool_ids_alloc(&v->ids, &i);
	if (rc == 0)
		*addr = v->range.addr + i;
	return rc;
}

void pool_vips_release(struct pool_vips *v, uint32_t addr)
{
	uint32_t i = addr - v->range.addr;
	if (!pool_cidr_contains(&v->range, addr) ||
	    (ends_reserved(&v->range) && (i == 0 || i == v->ids.size - 1)))
		return;
	pool_ids_release(&v->ids, i);
}
