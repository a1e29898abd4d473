/*
 * The class trie from what the supervisor knows of its networks: its own
 * slice subnet, and once it is part of a pool, the pool CIDR and its peers'
 * addresses (pool_net.c calls net_class_set whenever those change).  The
 * trie lives in the pinned maps: across a restart of a pool's node the last
 * one keeps classing until the pool's reply comes again.
 */
#include "net_class.h"
#include "network.h"

int net_class_set(struct supervisor *sv, const struct acre_cidr *node_subnet,
		  const struct acre_cidr *pool_cidr, const uint32_t *node_addrs, size_t n)
{
	if (!sv->bpf)
		return 0;
	if (n > ACRE_BPF_CLASS_MAX - 2)
		return -E2BIG;
	_cleanup_free_ struct acre_bpf_class_prefix *p = calloc(n + 2, sizeof(*p));
	if (!p)
		return -ENOMEM;
	size_t k = 0;
	if (node_subnet)
		p[k++] = (struct acre_bpf_class_prefix){node_subnet->network, node_subnet->prefix,
							ACRE_BPF_CLASS_NODE};
	if (pool_cidr)
		p[k++] = (struct acre_bpf_class_prefix){pool_cidr->network, pool_cidr->prefix,
							ACRE_BPF_CLASS_POOL};
	for (size_t i = 0; i < n; i++)
		p[k++] = (struct acre_bpf_class_prefix){node_addrs[i], 32, ACRE_BPF_CLASS_POOL};
	int rc = acre_bpf_net_class_set(sv->bpf, p, k);
	if (rc < 0)
		acre_log(ACRE_LOG_WARN, "event=net_class_failed error=\"%s\"", strerror(-rc));
	else
		acre_log(ACRE_LOG_DEBUG, "event=net_class_set prefixes=%zu", k);
	return rc;
}

void net_class_init(struct supervisor *sv)
{
	/* A pool's node waits for the pool's view rather than forget it for a moment. */
	if (network_bridge_on(sv) && !sv->opt.link.controller)
		net_class_set(sv, &network_bridge(sv)->subnet, NULL, NULL, 0);
}
