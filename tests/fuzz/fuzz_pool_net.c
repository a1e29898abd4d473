/*
 * What the controller says about the pool's network, as a node reads it:
 * any JSON gives either a net.peers table and a `network` member whose
 * every field is in range, or an error that names the field, and nothing
 * kept of a refused message.
 */
#include "supervisor/pool_net.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_peers(const json_t *j)
{
	struct pool_peers_msg m;
	struct acre_error err = {0};
	int rc = pool_peers_msg_parse(j, &m, &err);
	if (rc < 0) {
		if (!err.message[0] || m.set.n || m.gone)
			abort();
		return;
	}
	for (size_t i = 0; i < m.set.n; i++) {
		const struct pool_peer *p = &m.set.v[i];
		if (!p->node[0] || !p->address || p->subnet.prefix > 32 ||
		    (p->subnet.network & ~acre_cidr_mask(p->subnet.prefix)))
			abort();
		if (p->has_mac && (p->vtep_mac[0] & 1))
			abort();
	}
	pool_peers_msg_free(&m);
}

static void check_network(const json_t *j)
{
	struct pool_net_config c, back;
	struct acre_error err = {0};
	if (pool_net_config_parse(j, &c, &err) < 0) {
		if (!err.message[0])
			abort();
		return;
	}
	if (!c.vni || c.vni > 16777215 || !c.vxlan_port || !c.address ||
	    !acre_cidr_contains(&c.pool_cidr, c.subnet.network))
		abort();
	/* What a node keeps on disk reads back the same. */
	json_t *kept = pool_net_config_json(&c);
	if (!kept || pool_net_config_parse(kept, &back, &err) < 0 ||
	    !pool_net_config_equal(&c, &back))
		abort();
	json_decref(kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	check_peers(j);
	check_network(j);
	json_decref(j);
	return 0;
}
