/*
 * The connect policy of `--allow CIDR[:PORT]`, written into the LPM trie
 * that connect.bpf.c reads.  The trie answers with the longest matching
 * prefix only, so rules that nest (10.0.0.0/8:80 and 10.1.0.0/16:443) are
 * merged here: each prefix's entry carries the ports of every rule that
 * contains it, and the slice's catch-all entry (no address bits) carries
 * those of a ::/0 rule, if any, else none, which denies.
 */
#include "bpf_internal.h"

#include <arpa/inet.h>
#include <sys/socket.h>

/* ---- the trie -------------------------------------------------------------- */

/* A rule as the trie sees it: an IPv6 prefix, IPv4 mapped into ::ffff:0:0/96. */
struct prefix {
	uint8_t addr[16];
	unsigned len;
};

static int to_prefix(const struct acre_allow *a, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (a->family == AF_INET) {
		if (a->prefix_len > 32)
			return -EINVAL;
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(&p->addr[12], a->addr, 4);
		p->len = 96 + a->prefix_len;
	} else if (a->family == AF_INET6) {
		if (a->prefix_len > 128)
			return -EINVAL;
		memcpy(p->addr, a->addr, 16);
		p->len = a->prefix_len;
	} else {
		return -EAFNOSUPPORT;
	}
	/* Clear the host bits so equal prefixes compare equal. */
	for (unsigned bit = p->len; bit < 128; bit++)
		p->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	return 0;
}

/* Does outer contain inner (outer is at most as long and agrees on its bits)? */
static bool contains(const struct prefix *outer, const struct prefix *inner)
{
	if (outer->len > inner->len)
		return false;
	for (unsigned bit = 0; bit < outer->len; bit++) {
		uint8_t m = 0x80 >> (bit % 8);
		if ((outer->addr[bit / 8] & m) != (inner->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static struct acre_bpf_policy_key make_key(uint64_t id, const struct prefix *p)
{
	struct acre_bpf_policy_key k = {
		.prefixlen = 64 + p->len,
		.cgroup_id_hi = (__u32)(id >> 32),
		.cgroup_id_lo = (__u32)id,
	};
	memcpy(k.addr, p->addr, 16);
	return k;
}

static bool key_of(const struct acre_bpf_policy_key *k, uint64_t id)
{
	return k->cgroup_id_hi == (__u32)(id >> 32) && k->cgroup_id_lo == (__u32)id;
}

/* The ports allowed at prefix p: those of every rule that contains it. */
static int merge_ports(const struct prefix *p, const struct prefix *rules,
		       const struct acre_allow *allow, size_t n, struct acre_bpf_policy_value *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		if (!contains(&rules[i], p))
			continue;
		if (!allow[i].port) {
			v->any_port = 1;
			continue;
		}
		bool seen = false;
		for (unsigned j = 0; j < v->nports; j++)
			seen |= v->ports[j] == allow[i].port;
		if (seen)
			continue;
		if (v->nports == ACRE_BPF_POLICY_MAX_PORTS)
			return -E2BIG;
		v->ports[v->nports++] = allow[i].port;
	}
	return 0;
}

/* Every key of the slice now in the trie; the caller frees *keys. */
static int slice_keys(struct acre_bpf *b, uint64_t id, struct acre_bpf_policy_key **keys, size_t *n)
{
	ACRE_VEC(struct acre_bpf_policy_key) found = {0};
	struct acre_bpf_policy_key k, next;
	const void *prev = NULL;
	int rc;
	while ((rc = bpf_map_get_next_key(b->policy_fd, prev, &next)) == 0) {
		k = next;
		prev = &k;
		if (key_of(&k, id) && acre_vec_push(&found, k) < 0) {
			acre_vec_free(&found);
			return -ENOMEM;
		}
	}
	if (rc != -ENOENT) {
		acre_vec_free(&found);
		return rc;
	}
	*keys = found.v;
	*n = found.n;
	return 0;
}

static bool key_in(const struct acre_bpf_policy_key *k, const struct acre_bpf_policy_key *set,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(k, &set[i], sizeof(*k)) == 0)
			return true;
	return false;
}

/* The distinct prefixes of the rules, plus the catch-all (length 0) that marks a policy. */
static size_t distinct_prefixes(const struct prefix *rules, size_t n, struct prefix *out)
{
	size_t m = 0;
	out[m++] = (struct prefix){.len = 0};
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < m && !dup; j++)
			dup = out[j].len == rules[i].len && !memcmp(out[j].addr, rules[i].addr, 16);
		if (!dup)
			out[m++] = rules[i];
	}
	return m;
}

int acre_bpf_policy_set(struct acre_bpf *b, uint64_t cgroup_id, const struct acre_allow *rules,
			size_t n)
{
	if (n > ACRE_BPF_POLICY_MAX_RULES)
		return -E2BIG;
	if (n && !rules)
		return -EINVAL;
	struct prefix pre[ACRE_BPF_POLICY_MAX_RULES], uniq[ACRE_BPF_POLICY_MAX_RULES + 1];
	for (size_t i = 0; i < n; i++) {
		int rc = to_prefix(&rules[i], &pre[i]);
		if (rc < 0)
			return rc;
	}
	size_t m = distinct_prefixes(pre, n, uniq);
	struct acre_bpf_policy_key keys[ACRE_BPF_POLICY_MAX_RULES + 1];
	struct acre_bpf_policy_value vals[ACRE_BPF_POLICY_MAX_RULES + 1];
	for (size_t i = 0; i < m; i++) {
		int rc = merge_ports(&uniq[i], pre, rules, n, &vals[i]);
		if (rc < 0)
			return rc;
		keys[i] = make_key(cgroup_id, &uniq[i]);
	}
	_cleanup_free_ struct acre_bpf_policy_key *old = NULL;
	size_t nold;
	int rc = slice_keys(b, cgroup_id, &old, &nold);
	if (rc < 0)
		return rc;
	/* New entries first, then the old ones go: never a moment without a policy. */
	for (size_t i = 0; i < m; i++)
		if ((rc = bpf_map_update_elem(b->policy_fd, &keys[i], &vals[i], BPF_ANY)) < 0)
			return rc == -E2BIG ? -ENOSPC : rc;
	for (size_t i = 0; i < nold; i++)
		if (!key_in(&old[i], keys, m))
			bpf_map_delete_elem(b->policy_fd, &old[i]);
	return 0;
}

int acre_bpf_policy_clear(struct acre_bpf *b, uint64_t cgroup_id)
{
	_cleanup_free_ struct acre_bpf_policy_key *old = NULL;
	size_t nold;
	int rc = slice_keys(b, cgroup_id, &old, &nold);
	if (rc < 0)
		return rc;
	/*
	 * The catch-all first: from then on the slice counts as having no
	 * policy, so the rules' removal never refuses what they allowed.
	 */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < nold; i++)
			if ((old[i].prefixlen == 64) == (pass == 0))
				bpf_map_delete_elem(b->policy_fd, &old[i]);
	return 0;
}
