/*
 * After a restart: the veths of slices that ended while the supervisor was
 * down.  A veth is acre's when it is a port of acre's (marked) bridge and
 * has the shape of acre_netns_veth_name; it is stale when no live owner's
 * name is its name.  Ports somebody else attached to the bridge by hand
 * are left alone.  When a slice's namespace died with its processes, the
 * kernel already destroyed eth0 and with it the host end, so what is found
 * here is mostly the pair of a slice whose namespace is still pinned.
 */
#include "nl_internal.h"

static void map_freep(struct acre_map **m)
{
	acre_map_free(*m);
}

int acre_netns_cleanup(struct acre_netns *nn, const struct acre_netns_bridge *br,
		       const char *const *live, size_t n, size_t *removed, struct acre_error *err)
{
	if (removed)
		*removed = 0;
	_cleanup_(map_freep) struct acre_map *keep = acre_map_new();
	if (!keep)
		return acre_error_set(err, ENOMEM, NULL, "cleaning up veths: out of memory");
	for (size_t i = 0; i < n; i++) {
		char name[ACRE_NETNS_IFNAMSIZ];
		if (!live[i])
			continue;
		acre_netns_veth_name(br, live[i], name);
		if (acre_map_put(keep, name, keep) < 0)
			return acre_error_set(err, ENOMEM, NULL,
					      "cleaning up veths: out of memory");
	}
	_cleanup_cache_ struct nl_cache *links = NULL;
	int r = rtnl_link_alloc_cache(nn->sk, AF_UNSPEC, &links);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL, "cleaning up veths: listing interfaces: %s",
				      why);
	}
	struct rtnl_link *bridge = rtnl_link_get_by_name(links, br->name);
	if (!bridge)
		return 0; /* no bridge, no ports */
	bool ours = nn_bridge_is_ours(bridge, br);
	int br_index = rtnl_link_get_ifindex(bridge);
	rtnl_link_put(bridge);
	if (!ours)
		return acre_error_set(
			err, EEXIST, "bridge",
			"cleaning up veths: bridge %s is not acre's (mark %s missing)", br->name,
			br->mark);
	size_t count = 0;
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		const char *type = rtnl_link_get_type(l);
		if (rtnl_link_get_master(l) != br_index || !type || strcmp(type, "veth") || !name ||
		    !acre_netns_veth_name_is_ours(name) || acre_map_get(keep, name))
			continue;
		r = acre_netns_link_delete(nn, name, err);
		if (r < 0)
			return acre_error_prefix(err, "cleaning up veths on %s", br->name);
		acre_log(ACRE_LOG_INFO, "event=stale_veth_removed veth=%s bridge=%s", name,
			 br->name);
		count++;
	}
	if (removed)
		*removed = count;
	return 0;
}
