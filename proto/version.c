/*
 * Which version of the node protocol a supervisor and a controller speak.
 * Each side speaks a range of versions, from the oldest it still
 * understands to its own; a registration says the node's range
 * ("protocol_min", "protocol"), and the controller answers with the
 * highest version both speak, or refuses with both ranges named.  So a
 * node and a controller a release apart keep working while a pool is
 * upgraded one machine at a time, and a gap too wide is said at once
 * rather than found as a misunderstood message later.
 */
#include "proto.h"

int acre_proto_negotiate(int64_t node_min, int64_t node_max, struct acre_error *err)
{
	if (node_min < 1 || node_max < node_min)
		return acre_error_set(err, EINVAL, "protocol",
				      "protocol: a range from protocol_min %lld to protocol %lld "
				      "is none",
				      (long long)node_min, (long long)node_max);
	int64_t chosen = node_max < ACRE_PROTOCOL_MAX ? node_max : ACRE_PROTOCOL_MAX;
	int64_t floor = node_min > ACRE_PROTOCOL_MIN ? node_min : ACRE_PROTOCOL_MIN;
	if (chosen < floor)
		return acre_error_set(
			err, EOPNOTSUPP, "protocol",
			"protocol: this node speaks %lld to %lld, this side %d to %d: "
			"upgrade the %s",
			(long long)node_min, (long long)node_max, ACRE_PROTOCOL_MIN,
			ACRE_PROTOCOL_MAX, node_max < ACRE_PROTOCOL_MIN ? "node" : "controller");
	return (int)chosen;
}
