/*
 * Whether the host's own firewall drops what a node forwards.  Routed pool
 * traffic (from other nodes to this node's slices) and bridged slices'
 * traffic to the outside cross the node's forward hook, and a base chain
 * there whose policy is drop -- Docker sets `ip filter FORWARD` so, ufw and
 * firewalld do the like -- drops it whatever acre's own table accepts: in
 * nftables every base chain of a hook has its say, and a drop is final.
 * acre never edits another table, so it can only find such chains and say
 * so; the admin opens the bridge in them (Docker's DOCKER-USER chain is
 * made for that).  Read through libnftables' JSON output of `list chains`
 * (its JSON output is sound; only its JSON input fails on nft.c's rules).
 */
#include "nft_internal.h"

#include <jansson.h>

/* "family table chain" of one forward-hook chain with policy drop, or NULL. */
static bool dropping_forward_chain(json_t *item, const char *own_table, char *buf, size_t len)
{
	json_t *c = json_object_get(item, "chain");
	const char *family = json_string_value(json_object_get(c, "family"));
	const char *table = json_string_value(json_object_get(c, "table"));
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *hook = json_string_value(json_object_get(c, "hook"));
	const char *policy = json_string_value(json_object_get(c, "policy"));
	if (!family || !table || !name || !hook || !policy || strcmp(hook, "forward") != 0 ||
	    strcmp(policy, "drop") != 0)
		return false;
	/* IPv4 traffic meets ip and inet chains; acre's own table never drops by policy. */
	if ((strcmp(family, "ip") != 0 && strcmp(family, "inet") != 0) ||
	    (strcmp(family, "ip") == 0 && strcmp(table, own_table) == 0))
		return false;
	snprintf(buf, len, "%s %s %s", family, table, name);
	return true;
}

int acre_nft_forward_drops(struct acre_nft *n, char *buf, size_t len, struct acre_error *err)
{
	buf[0] = '\0';
	unsigned flags = nft_ctx_output_get_flags(n->ctx);
	nft_ctx_output_set_flags(n->ctx, flags | NFT_CTX_OUTPUT_JSON);
	int rc = nft_run_cmd_from_buffer(n->ctx, "list chains");
	nft_ctx_output_set_flags(n->ctx, flags);
	const char *out = nft_ctx_get_output_buffer(n->ctx);
	const char *e = nft_ctx_get_error_buffer(n->ctx);
	if (rc != 0)
		return acre_error_set(err, EIO, NULL, "listing the host's nftables chains: %.200s",
				      e && *e ? e : "failed");
	json_error_t jerr;
	json_t *root = json_loads(out ? out : "", 0, &jerr);
	json_t *items = json_object_get(root, "nftables");
	int found = 0;
	size_t used = 0, i;
	json_t *item;
	json_array_foreach (items, i, item) {
		char one[3 * 256 + 3];
		if (!dropping_forward_chain(item, n->table, one, sizeof(one)))
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", found ? ", " : "",
						 one);
		found++;
	}
	json_decref(root);
	return found;
}
