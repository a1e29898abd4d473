/*
 * Bytes by destination class (net_class.c): keeps the eBPF class trie that
 * the accounting programs consult per packet current, so `slice stat`
 * splits each slice's traffic into node (this node's slices), pool (other
 * nodes' slices and the nodes themselves) and outside.
 */
#ifndef ACRE_SUPERVISOR_NET_CLASS_H
#define ACRE_SUPERVISOR_NET_CLASS_H

#include "supervisor.h"
#include "netns/netns.h"

/*
 * Replaces the trie: node_subnet (this node's slices) is node; pool_cidr
 * and each of node_addrs[0..n) (peer nodes, host order) are pool; the
 * narrower prefix wins, so this node's subnet inside the pool CIDR stays
 * node.  Any of them may be NULL or empty.  Without eBPF, nothing to do.
 */
int net_class_set(struct supervisor *sv, const struct acre_cidr *node_subnet,
		  const struct acre_cidr *pool_cidr, const uint32_t *node_addrs, size_t n);
/* At start, on a node outside a pool: its own subnet is node, everything else outside. */
void net_class_init(struct supervisor *sv);

#endif
