/*
 * What is decided before the kernel is asked: the bridge's name and mark,
 * the name of a slice's host veth, and the rates tbf can enforce.  Pure, so
 * the supervisor can refuse bad input before it creates anything, and so it
 * is unit-tested.
 */
#include "netns.h"

#include <ctype.h>
#include <inttypes.h>

/* As the kernel's dev_valid_name(): 1 to 15 bytes, not "." or "..", no '/', ':' or space. */
static bool ifname_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= ACRE_NETNS_IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return false;
	return true;
}

int acre_netns_bridge_init(struct acre_netns_bridge *br, const char *name, const char *cgroup_root,
			   const struct acre_cidr *subnet, struct acre_error *err)
{
	memset(br, 0, sizeof(*br));
	if (!name)
		name = ACRE_NETNS_BRIDGE_DEFAULT;
	if (!ifname_valid(name))
		return acre_error_set(err, EINVAL, "bridge",
				      "bridge name \"%s\": must be 1 to 15 bytes without '/', ':' "
				      "or spaces",
				      name);
	if (!cgroup_root || !*cgroup_root)
		return acre_error_set(err, EINVAL, "bridge", "bridge %s: an empty cgroup root",
				      name);
	int r = acre_cidr_check_subnet(subnet, err, "--slice-cidr");
	if (r < 0)
		return r;
	snprintf(br->name, sizeof(br->name), "%s", name);
	if (snprintf(br->mark, sizeof(br->mark), ACRE_NETNS_MARK_PREFIX "%s", cgroup_root) >=
	    (int)sizeof(br->mark))
		return acre_error_set(err, ENAMETOOLONG, "bridge",
				      "bridge %s: cgroup root \"%s\" is too long for its mark",
				      name, cgroup_root);
	br->subnet = *subnet;
	return 0;
}

/* FNV-1a, 64 bits: stable across runs and builds, which the cleanup after a restart needs. */
static uint64_t fnv1a64(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void acre_netns_veth_name(const struct acre_netns_bridge *br, const char *owner,
			  char buf[ACRE_NETNS_IFNAMSIZ])
{
	uint64_t h = fnv1a64(0xcbf29ce484222325ULL, br->mark);
	h = fnv1a64(h, "\n"); /* no mark/owner pair runs into another */
	h = fnv1a64(h, owner);
	/* 48 bits of hash: two slices of one node colliding is out of reach in practice. */
	snprintf(buf, ACRE_NETNS_IFNAMSIZ, "ac%012" PRIx64, h >> 16);
}

bool acre_netns_veth_name_is_ours(const char *name)
{
	if (strncmp(name, "ac", 2) || strlen(name) != 14)
		return false;
	for (const char *p = name + 2; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

int acre_netns_rate_check(uint64_t bps, struct acre_error *err, const char *field)
{
	if (!field)
		field = "--net-rate";
	char s[32];
	acre_format_rate(bps, s, sizeof(s));
	if (bps < ACRE_NETNS_RATE_MIN)
		return acre_error_set(err, ERANGE, field,
				      "%s %s: below the least tbf enforces (8kbit)", field, s);
	if (bps > ACRE_NETNS_RATE_MAX)
		return acre_error_set(err, ERANGE, field,
				      "%s %s: above the most tbf enforces here "
				      "(17gbit)",
				      field, s);
	return 0;
}
