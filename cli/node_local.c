/*
 * `acre node local`: this node as its own supervisor sees it (the socket,
 * not the controller): whether it is in a pool, and its place in the pool's
 * network: the overlay, its slice subnet, its address and VTEP MAC, and the
 * routes to the other nodes' subnets that it installed.  -j prints the
 * supervisor's node.show result as it is.
 */
#include "cli.h"

static void print_network(const json_t *n)
{
	if (!json_is_object(n)) {
		printf("network:     none (not in a pool, or its controller gave it no subnet)\n");
		return;
	}
	printf("overlay:     %s", render_str(n, "overlay"));
	json_t *dev = json_object_get(n, "vxlan_device");
	if (dev)
		printf(" (device %s, vni %lld, port %lld, mtu %lld)", render_str(dev, "name"),
		       (long long)json_integer_value(json_object_get(n, "vni")),
		       (long long)json_integer_value(json_object_get(n, "vxlan_port")),
		       (long long)json_integer_value(json_object_get(dev, "mtu")));
	printf("\n");
	printf("subnet:      %s", render_str(n, "subnet"));
	if (json_object_get(n, "subnet_waiting"))
		printf(" (the pool's %s once no slice holds an address in it)",
		       render_str(n, "subnet_waiting"));
	printf("\n");
	printf("pool:        %s, VIPs %s\n", render_str(n, "pool_cidr"), render_str(n, "vip_cidr"));
	printf("address:     %s (VTEP MAC %s)\n", render_str(n, "address"),
	       render_str(n, "vtep_mac"));
	printf("forwarding:  %s\n",
	       json_is_true(json_object_get(n, "forwarding")) ? "on" : "not turned on yet");
	json_t *routes = json_object_get(n, "routes");
	printf("routes:      %zu (peers %lld)\n", json_array_size(routes),
	       (long long)json_integer_value(json_object_get(n, "peers")));
	size_t i;
	json_t *r;
	json_array_foreach (routes, i, r) {
		const char *dev_name = json_string_value(json_object_get(r, "dev"));
		printf("  %-18s via %s%s%s\n", render_str(r, "dst"), render_str(r, "via"),
		       dev_name ? " dev " : "", dev_name ? dev_name : "");
	}
}

int node_local(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_failf(cli, EINVAL, "node local takes no arguments");
	struct acre_error err = {0};
	_cleanup_json_ json_t *res = cli_call(cli, ACRE_OP_NODE_SHOW, NULL, &err);
	if (!res)
		return cli_fail(cli, &err);
	if (cli->output != OUTPUT_TABLE) {
		output_json(cli, res);
		return 0;
	}
	printf("hostname:    %s\n", render_str(res, "hostname"));
	printf("controller:  %s\n", render_str(res, "controller"));
	print_network(json_object_get(res, "network"));
	const char *drops = json_string_value(json_object_get(res, "forward_dropped_by"));
	if (drops)
		printf("warning:     the host's %s (policy drop) drops what this node forwards: "
		       "other nodes cannot reach its slices, nor its slices the outside; accept "
		       "acre's bridge there\n",
		       drops);
	return 0;
}
