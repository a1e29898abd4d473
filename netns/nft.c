/*
 * acre's own nftables table, through libnftables: masquerade for the slice
 * subnet on the way out of the node, the pool CIDR exempt from it (slices on
 * other nodes see a slice's own address), DNAT for published ports from
 * outside and from the node itself, and, with egress off, a forward drop
 * for what leaves the bridge for anywhere but the pool.  No other table is
 * ever named, so nothing of the host's own ruleset changes.
 *
 * Commands go through the library's command buffer (nft_run_cmd_from_buffer
 * in its native syntax), not its JSON input: libnftables 1.0.6, Debian 12's,
 * crashes parsing the JSON of the one rule published ports need (a dnat whose
 * address and port come from a concatenated map), while its native parser
 * takes it.  Every token we put in a command is a number or an address we
 * format, or a name checked below to be a plain identifier, so there is
 * nothing to quote or escape.  Each call is one transaction: the kernel
 * applies all of it or none.
 *
 *   table ip <name> {
 *     set pool     { type ipv4_addr; flags interval; }            the pool CIDR
 *     map publish  { type inet_proto . inet_service : ipv4_addr . inet_service; }
 *     chain prerouting  nat, dstnat:  fib daddr type local  dnat via @publish
 *     chain output      nat, -100:    the same for the node's own processes,
 *                                     127.0.0.0/8 aside (it would need route_localnet)
 *     chain postrouting nat, srcnat:  from the subnet out of anything but the
 *                                     bridge, not to @pool: masquerade; from the
 *                                     subnet back onto the bridge after a dnat
 *                                     (a slice reaching a port published on its
 *                                     own node): masquerade, so the reply returns
 *                                     through the node
 *     chain forward     filter, 0:    egress none only: from the bridge out of
 *                                     anything but it, not to @pool: drop
 *   }
 */
#include "nft_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <netinet/in.h>

/* Letters, digits, '_' and '-', starting with a letter: an nft identifier with nothing to quote. */
static bool plain_identifier(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

void acre_nft_table_name(const char *cgroup_root, char *buf, size_t len)
{
	const char *root = cgroup_root && *cgroup_root ? cgroup_root : "acre";
	/* "acre" stays "acre"; any other root is prefixed so the table says whose it is. */
	int n = snprintf(buf, len, "%s%s", strncmp(root, "acre", 4) == 0 ? "" : "acre-", root);
	if (n < 0)
		return;
	for (char *p = buf; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			*p = '_';
}

int acre_nft_open(struct acre_nft **out, const char *table, struct acre_error *err)
{
	if (!plain_identifier(table, ACRE_NFT_TABLE_MAX))
		return acre_error_set(err, EINVAL, NULL,
				      "nftables table name %s: letters, digits, '_' and '-' only, "
				      "starting with a letter, at most %d bytes",
				      table, ACRE_NFT_TABLE_MAX - 1);
	struct acre_nft *n = calloc(1, sizeof(*n));
	if (!n)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->ctx) {
		free(n);
		return acre_error_set(err, ENOMEM, NULL, "creating the nftables context");
	}
	/* Both captured: nothing of the library reaches our stdout or stderr. */
	if (nft_ctx_buffer_output(n->ctx) < 0 || nft_ctx_buffer_error(n->ctx) < 0) {
		nft_ctx_free(n->ctx);
		free(n);
		return acre_error_set(err, ENOMEM, NULL, "buffering nftables' output");
	}
	snprintf(n->table, sizeof(n->table), "%s", table);
	*out = n;
	return 0;
}

void acre_nft_close(struct acre_nft *n)
{
	if (!n)
		return;
	nft_ctx_free(n->ctx);
	free(n);
}

const char *acre_nft_table(const struct acre_nft *n)
{
	return n->table;
}

/* The first line of what nft said, for a message of ours. */
static void first_line(const char *text, char *buf, size_t len)
{
	size_t i = 0;
	for (; text && text[i] && text[i] != '\n' && i + 1 < len; i++)
		buf[i] = text[i];
	buf[i] = '\0';
}

/* Runs one transaction; on failure err says what was being done and nft's own first line. */
static int run(struct acre_nft *n, const char *cmds, const char *what, struct acre_error *err)
{
	int rc = nft_run_cmd_from_buffer(n->ctx, cmds);
	const char *e = nft_ctx_get_error_buffer(n->ctx);
	nft_ctx_get_output_buffer(n->ctx); /* drained: the next call starts clean */
	if (rc == 0)
		return 0;
	char line[200];
	first_line(e, line, sizeof(line));
	/* The library says no errno; what fails here is mostly a missing privilege or module. */
	return acre_error_set(err, EIO, NULL, "%s in nftables table ip %s: %s", what, n->table,
			      line[0] ? line : "failed");
}

/* A growable command text. */
struct cmdbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void add(struct cmdbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct cmdbuf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static int run_buf(struct acre_nft *n, struct cmdbuf *b, const char *what, struct acre_error *err)
{
	int rc = b->oom ? acre_error_set(err, ENOMEM, NULL, "out of memory")
			: run(n, b->s, what, err);
	free(b->s);
	*b = (struct cmdbuf){0};
	return rc;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static void add_publish(struct cmdbuf *b, const char *table, const struct acre_nft_publish *p)
{
	char a[ACRE_ADDR_STRLEN];
	acre_cidr_addr_format(p->address, a, sizeof(a));
	add(b, "add element ip %s publish { %s . %u : %s . %u }\n", table, proto_name(p->proto),
	    p->node_port, a, p->port);
}

static void add_pool(struct cmdbuf *b, const char *table, const struct acre_cidr *pool)
{
	char c[ACRE_CIDR_STRLEN];
	acre_cidr_format(pool, c, sizeof(c));
	add(b, "add element ip %s pool { %s }\n", table, c);
}

int acre_nft_table_ensure(struct acre_nft *n, const struct acre_nft_table_config *cfg,
			  struct acre_error *err)
{
	if (!plain_identifier(cfg->bridge, ACRE_NETNS_IFNAMSIZ))
		return acre_error_set(
			err, EINVAL, NULL,
			"bridge %s: the nftables rules take a name of letters, digits, "
			"'_' and '-' only",
			cfg->bridge);
	const char *t = n->table, *br = cfg->bridge;
	char sub[ACRE_CIDR_STRLEN];
	acre_cidr_format(&cfg->subnet, sub, sizeof(sub));
	struct cmdbuf b = {0};
	/* Made, emptied and filled in one transaction: no instant without the rules. */
	add(&b, "add table ip %s\ndelete table ip %s\nadd table ip %s\n", t, t, t);
	add(&b, "add set ip %s pool { type ipv4_addr; flags interval; }\n", t);
	add(&b,
	    "add map ip %s publish { type inet_proto . inet_service : ipv4_addr . inet_service; "
	    "}\n",
	    t);
	add(&b,
	    "add chain ip %s prerouting { type nat hook prerouting priority dstnat; policy accept; "
	    "}\n"
	    "add rule ip %s prerouting fib daddr type local dnat ip to meta l4proto . th dport map "
	    "@publish\n",
	    t, t);
	add(&b,
	    "add chain ip %s output { type nat hook output priority -100; policy accept; }\n"
	    "add rule ip %s output ip daddr != 127.0.0.0/8 fib daddr type local dnat ip to meta "
	    "l4proto . th dport map @publish\n",
	    t, t);
	add(&b,
	    "add chain ip %s postrouting { type nat hook postrouting priority srcnat; policy "
	    "accept; "
	    "}\n",
	    t);
	if (cfg->egress_nat)
		add(&b,
		    "add rule ip %s postrouting ip saddr %s oifname != \"%s\" ip daddr != @pool "
		    "masquerade\n",
		    t, sub, br);
	add(&b, "add rule ip %s postrouting ip saddr %s oifname \"%s\" ct status dnat masquerade\n",
	    t, sub, br);
	if (!cfg->egress_nat)
		add(&b,
		    "add chain ip %s forward { type filter hook forward priority filter; policy "
		    "accept; }\n"
		    "add rule ip %s forward ct state established,related accept\n"
		    "add rule ip %s forward iifname \"%s\" oifname != \"%s\" ip daddr != @pool "
		    "drop\n",
		    t, t, t, br, br);
	if (cfg->pool)
		add_pool(&b, t, cfg->pool);
	for (size_t i = 0; i < cfg->npublish; i++)
		add_publish(&b, t, &cfg->publish[i]);
	return run_buf(n, &b, "setting up", err);
}

int acre_nft_pool_set(struct acre_nft *n, const struct acre_cidr *pool, struct acre_error *err)
{
	struct cmdbuf b = {0};
	add(&b, "flush set ip %s pool\n", n->table);
	if (pool)
		add_pool(&b, n->table, pool);
	return run_buf(n, &b, "setting the pool CIDR", err);
}

int acre_nft_publish_add(struct acre_nft *n, const struct acre_nft_publish *p,
			 struct acre_error *err)
{
	struct cmdbuf b = {0};
	add_publish(&b, n->table, p);
	return run_buf(n, &b, "publishing a port", err);
}

int acre_nft_publish_remove(struct acre_nft *n, const struct acre_nft_publish *p,
			    struct acre_error *err)
{
	struct cmdbuf b = {0};
	/* Added first, so that a missing element is no error: the delete always finds one. */
	add_publish(&b, n->table, p);
	add(&b, "delete element ip %s publish { %s . %u }\n", n->table, proto_name(p->proto),
	    p->node_port);
	return run_buf(n, &b, "unpublishing a port", err);
}

int acre_nft_table_remove(struct acre_nft *n, struct acre_error *err)
{
	struct cmdbuf b = {0};
	/* The add makes a missing table no error; the delete takes everything in it. */
	add(&b, "add table ip %s\ndelete table ip %s\n", n->table, n->table);
	return run_buf(n, &b, "removing the table", err);
}

int acre_nft_table_exists(struct acre_nft *n)
{
	char cmd[ACRE_NFT_TABLE_MAX + 32];
	snprintf(cmd, sizeof(cmd), "list table ip %s", n->table);
	int rc = nft_run_cmd_from_buffer(n->ctx, cmd);
	nft_ctx_get_error_buffer(n->ctx);
	nft_ctx_get_output_buffer(n->ctx);
	return rc == 0 ? 1 : 0;
}
