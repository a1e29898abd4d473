/*
 * What the files of pool/ share about the pool's network (net.c,
 * net_push.c, net_view.c): its state in the pool, and the hooks the
 * slice and node files call as things change.  The pure pieces are in
 * net_internal.h.
 */
#ifndef ACRE_CONTROLLER_POOL_NET_H
#define ACRE_CONTROLLER_POOL_NET_H

#include "controller/pool/internal.h"
#include "controller/pool/net_internal.h"

struct net_config {
	struct pool_cidr pool, vip;
	unsigned bits;
	enum pool_overlay overlay;
};

/* The slices that carry acre.service=NAME: GROUP.acre, and its VIP. */
struct net_group {
	char name[ACRE_NAME_MAX + 1]; /* as its members spell it */
	char key[ACRE_NAME_MAX + 1];  /* in lower case: the map's key */
	uint32_t members;	      /* slices of the pool that carry the label */
	uint32_t vip_members;	      /* of which carry acre.vip.ports */
	uint32_t vip;		      /* 0: none */
};

struct pool_net {
	struct net_config cfg;
	struct pool_subnets subnets;
	struct pool_vips vips;
	struct acre_map *groups; /* lower-case name -> struct net_group */
	struct acre_map *named;	 /* lower-case name -> slice that has an address */
	struct acre_map *upper;	 /* lower-case name -> slice whose name has capitals */
	/* What the pass changed, by key: node ids, lower-case names, group keys. */
	struct acre_map *dirty_peers, *dirty_names, *dirty_vips;
	bool full_owed; /* a node registered: someone gets the full tables */
};

const char *pool_overlay_name(enum pool_overlay o);
int pool_net_init(struct pool *p, struct acre_error *err);
void pool_net_free(struct pool *p);

/* Slices: created (labels attached), loaded, changed state or desire, given an address, gone. */
void pool_net_slice_created(struct pool *p, struct pool_slice *sl);
void pool_net_slice_loaded(struct pool *p, struct pool_slice *sl, const char *address,
			   const char *vip);
void pool_net_slice_changed(struct pool *p, struct pool_slice *sl);
void pool_net_slice_address(struct pool *p, struct pool_slice *sl, const char *address);
void pool_net_slice_deleted(struct pool *p, struct pool_slice *sl);
/* Names in .acre before a slice exists: -EINVAL (not a label), -EEXIST (taken). */
int pool_net_check_create(struct pool *p, const char *name, const struct acre_slice_spec *spec,
			  struct acre_error *err);
struct pool_slice *pool_net_slice_find_nocase(struct pool *p, const char *name);
struct net_group *pool_net_group_of(struct pool *p, const struct pool_slice *sl);
/* Whether its name is in net.names: running, an address, not being stopped by the pool. */
bool pool_net_slice_named(const struct pool_slice *sl);

/* Nodes: checked before anything changes, then registered; loaded; state changed; gone. */
int pool_net_check_registration(struct pool *p, const struct pool_node *n,
				const struct pool_registration *r, struct acre_error *err);
int pool_net_node_registered(struct pool *p, struct pool_node *n,
			     const struct pool_registration *r);
void pool_net_node_loaded(struct pool *p, struct pool_node *n);
void pool_net_mark_peer(struct pool *p, const struct pool_node *n);
void pool_net_node_removed(struct pool *p, struct pool_node *n);
void pool_net_node_disconnected(struct pool_node *n);
/* Whether it is in net.peers: on the pool's network, not down, with an address and subnet. */
bool pool_net_node_peer(const struct pool_node *n);

/* net_push.c: the records as nodes get them. */
json_t *pool_net_peers_of(struct pool *p, const struct pool_node *self);
json_t *pool_net_names_all(struct pool *p);
json_t *pool_net_vips_all(struct pool *p);

#endif
