/*
 * acre's bridge: the slices' veths are its ports and it holds the subnet's
 * gateway address.  It carries a mark, its IFLA_IFALIAS "acre:<cgroup-root>",
 * so acre only ever changes or removes a bridge it made: an interface of the
 * same name that is not a bridge, or a bridge without the mark, is somebody
 * else's and is refused.
 *
 * The kernel ignores IFLA_IFALIAS in RTM_NEWLINK, so the mark comes with the
 * first change after creation, in the same request that brings it up.  It is
 * given a fixed random MAC: a bridge otherwise takes the lowest MAC of its
 * ports, which changes under the slices' ARP caches as veths come and go.
 */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netlink/route/addr.h>
#include <sys/random.h>

static int random_mac(struct nl_addr **out)
{
	uint8_t mac[6];
	if (getrandom(mac, sizeof(mac), 0) != (ssize_t)sizeof(mac))
		return -errno;
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
	*out = nl_addr_build(AF_LLC, mac, sizeof(mac));
	return *out ? 0 : -ENOMEM;
}

static int create(struct acre_netns *nn, const struct acre_netns_bridge *br, struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	_cleanup_nladdr_ struct nl_addr *mac = NULL;
	if (!link || random_mac(&mac) < 0)
		return acre_error_set(err, ENOMEM, "bridge", "creating bridge %s: out of memory",
				      br->name);
	int r = rtnl_link_set_type(link, "bridge");
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, "bridge", "creating bridge %s: %s", br->name, why);
	}
	rtnl_link_set_name(link, br->name);
	rtnl_link_set_addr(link, mac);
	r = rtnl_link_add(nn->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, "bridge", "creating bridge %s: %s", br->name, why);
	}
	return 0;
}

/* Marks the bridge ours and brings it up, in one request. */
static int mark_and_up(struct acre_netns *nn, const struct acre_netns_bridge *br, int ifindex,
		       struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	if (!orig || !change)
		return acre_error_set(err, ENOMEM, "bridge", "marking bridge %s: out of memory",
				      br->name);
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_ifalias(change, br->mark);
	rtnl_link_set_flags(change, IFF_UP);
	int r = rtnl_link_change(nn->sk, orig, change, 0);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, "bridge", "marking bridge %s as %s: %s", br->name,
				      br->mark, why);
	}
	return 0;
}

/* Why an existing interface of br's name is not ours, for the refusal. */
static int refuse(struct rtnl_link *link, const struct acre_netns_bridge *br, const char *doing,
		  struct acre_error *err)
{
	const char *type = rtnl_link_get_type(link);
	const char *alias = rtnl_link_get_ifalias(link);
	if (!type || strcmp(type, "bridge"))
		return acre_error_set(
			err, EEXIST, "bridge",
			"%s bridge %s: the name is taken by a %s interface that is not "
			"acre's; choose another bridge name",
			doing, br->name, type ? type : "physical");
	return acre_error_set(
		err, EEXIST, "bridge",
		"%s bridge %s: a bridge of that name exists without acre's mark (alias "
		"\"%s\", expected \"%s\"); remove it or choose another bridge name",
		doing, br->name, alias ? alias : "", br->mark);
}

/*
 * Gives the bridge the gateway address unless it has it.  Our bridge with
 * another IPv4 address means --slice-cidr changed under live slices.
 */
static int ensure_gateway(struct acre_netns *nn, const struct acre_netns_bridge *br, int ifindex,
			  struct acre_error *err)
{
	uint32_t gw = acre_cidr_gateway(&br->subnet);
	char want[ACRE_CIDR_STRLEN + 4];
	char gws[ACRE_ADDR_STRLEN];
	acre_cidr_addr_format(gw, gws, sizeof(gws));
	snprintf(want, sizeof(want), "%s/%u", gws, br->subnet.prefix);

	_cleanup_cache_ struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(nn->sk, &cache);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, "bridge", "listing addresses of %s: %s", br->name,
				      why);
	}
	bool have = false;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET)
			continue;
		struct nl_addr *local = rtnl_addr_get_local(a);
		uint32_t be;
		memcpy(&be, nl_addr_get_binary_addr(local), sizeof(be));
		if (ntohl(be) == gw && rtnl_addr_get_prefixlen(a) == br->subnet.prefix) {
			have = true;
			continue;
		}
		char s[ACRE_ADDR_STRLEN];
		acre_cidr_addr_format(ntohl(be), s, sizeof(s));
		return acre_error_set(
			err, EEXIST, "--slice-cidr",
			"bridge %s holds %s/%d, not %s: --slice-cidr changed while it "
			"was in use; remove the bridge or keep the old subnet",
			br->name, s, rtnl_addr_get_prefixlen(a), want);
	}
	if (have)
		return 0;

	struct rtnl_addr *addr = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = nn_addr4(gw, br->subnet.prefix);
	_cleanup_nladdr_ struct nl_addr *bcast = nn_addr4(acre_cidr_broadcast(&br->subnet), 32);
	if (!addr || !local || !bcast) {
		if (addr)
			rtnl_addr_put(addr);
		return acre_error_set(err, ENOMEM, "bridge", "adding %s to %s: out of memory", want,
				      br->name);
	}
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_local(addr, local);
	rtnl_addr_set_broadcast(addr, bcast);
	r = rtnl_addr_add(nn->sk, addr, NLM_F_EXCL);
	rtnl_addr_put(addr);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, "bridge", "adding %s to %s: %s", want, br->name,
				      why);
	}
	return 0;
}

int acre_netns_bridge_ensure(struct acre_netns *nn, struct acre_netns_bridge *br,
			     struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	bool created = false;
	int r = nn_link_get(nn, br->name, &link);
	if (r == -ENODEV) {
		r = create(nn, br, err);
		if (r == -EEXIST) /* made by someone else since we looked: judge it below */
			r = 0;
		else if (r < 0)
			return r;
		else
			created = true;
		r = nn_link_get(nn, br->name, &link);
	}
	if (r < 0)
		return acre_error_set(err, r, "bridge", "looking up bridge %s: %s", br->name,
				      strerror(-r));
	int ifindex = rtnl_link_get_ifindex(link);
	if (!created && !nn_bridge_is_ours(link, br))
		return refuse(link, br, "using", err);
	if (created || !(rtnl_link_get_flags(link) & IFF_UP)) {
		r = mark_and_up(nn, br, ifindex, err);
		if (r < 0)
			goto fail;
	}
	r = ensure_gateway(nn, br, ifindex, err);
	if (r < 0)
		goto fail;
	br->ifindex = ifindex;
	return 0;
fail:
	/* Leave nothing half-made: a bridge just created goes again. */
	if (created)
		acre_netns_link_delete(nn, br->name, NULL);
	return r;
}

int acre_netns_bridge_remove(struct acre_netns *nn, const struct acre_netns_bridge *br,
			     struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = nn_link_get(nn, br->name, &link);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return acre_error_set(err, r, "bridge", "looking up bridge %s: %s", br->name,
				      strerror(-r));
	if (!nn_bridge_is_ours(link, br))
		return refuse(link, br, "removing", err);
	r = acre_netns_link_delete(nn, br->name, err);
	if (r < 0)
		return acre_error_prefix(err, "removing bridge %s", br->name);
	return 0;
}
