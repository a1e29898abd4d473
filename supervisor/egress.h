/*
 * What leaves the node and what comes in (egress.c, over netns/'s nftables
 * table): masquerade of bridged slices on their way out (--egress nat), or
 * no way out but to the node and the pool (--egress none); the pool CIDR
 * exempt from both; published ports (network.publish), reserved on the
 * node and DNATed to their slice.
 */
#ifndef ACRE_SUPERVISOR_EGRESS_H
#define ACRE_SUPERVISOR_EGRESS_H

#include "supervisor.h"
#include "netns/netns.h"

/*
 * After recovery: with bridged slices left by an earlier run, their table
 * is made again exactly as they need it (ports, pool CIDR); a table with no
 * bridged slice left is removed.  A failure is logged, not fatal: the
 * slices run on, and the next bridged slice tries again.
 */
int egress_init(struct supervisor *sv, struct acre_error *err);
/* At a clean stop with no slice left, the table goes; otherwise it stays for the slices. */
void egress_free(struct supervisor *sv, bool no_slices_left);

/* Before anything of the slice is made: its node ports are free (-EADDRINUSE names the taker). */
int egress_publish_check(struct supervisor *sv, const struct acre_slice_spec *spec,
			 struct acre_error *err);
/* A bridged slice with address addr: the table exists, its ports are reserved and published. */
int egress_slice_add(struct supervisor *sv, const struct acre_slice_spec *spec, uint32_t addr,
		     struct acre_error *err);
/* Its ports unpublished and freed; what it did not have is fine. */
void egress_slice_remove(struct supervisor *sv, const struct acre_slice_spec *spec);

/*
 * The pool's CIDR (from the controller's reply), exempt from masquerade and
 * from --egress none: a slice reaching one on another node keeps its source
 * address.  NULL: no pool.  Applied at once if the table exists, else kept
 * for when it is made.
 */
int egress_set_pool_cidr(struct supervisor *sv, const struct acre_cidr *pool);
/* Makes the table again from what is current (after the bridge's subnet changed). */
int egress_sync(struct supervisor *sv, struct acre_error *err);
/*
 * The host's forward-hook chains with policy drop (not acre's), "family table
 * chain, ..." in buf, and their count: they drop routed pool traffic and the
 * slices' outside traffic.  0 when bridge networking is off.
 */
int egress_forward_drops(struct supervisor *sv, char *buf, size_t len);

#endif
