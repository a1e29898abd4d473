/*
 * Address leases for the slice subnet.  The leases live in memory as an
 * array sorted by address and on disk as one small JSON file,
 *
 *   {"subnet": "198.18.0.0/15",
 *    "leases": [{"owner": "web-1", "address": "198.18.0.2"}, ...]}
 *
 * replaced atomically after every change and before the change is reported:
 * an address the caller was given is on disk, so a crash and a restart
 * never hand it out again.  A temporary left by a crash in the middle of a
 * write is an unfinished change and is removed; the lease file itself is
 * always whole.  Pure: plain file I/O, no kernel.
 */
#include "netns.h"

#include <fcntl.h>

struct lease {
	uint32_t addr;
	char owner[ACRE_NAME_MAX + 1];
};

struct acre_ipam {
	struct acre_cidr subnet;
	char dir[4096];
	int dirfd;
	struct lease *leases; /* sorted by addr */
	size_t n, cap;
	struct acre_map *by_owner; /* owner -> (void *)(uintptr_t)addr */
};

/* The lease file can hold a /8 worth of leases; more than that is not a lease file. */
#define LEASE_FILE_MAX (1024 * 1024 * 1024)

static bool owner_valid(const char *owner)
{
	size_t n = owner ? strlen(owner) : 0;
	if (n == 0 || n > ACRE_NAME_MAX)
		return false;
	for (const char *p = owner; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static uint32_t first_host(const struct acre_cidr *c)
{
	return acre_cidr_gateway(c) + 1;
}

static uint32_t last_host(const struct acre_cidr *c)
{
	return acre_cidr_broadcast(c) - 1;
}

static bool leasable(const struct acre_cidr *c, uint32_t a)
{
	return acre_cidr_contains(c, a) && a >= first_host(c) && a <= last_host(c);
}

/* The index of the lease of addr, or where it would go. */
static size_t position(const struct acre_ipam *ipam, uint32_t addr)
{
	size_t lo = 0, hi = ipam->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ipam->leases[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static ssize_t find_owner(const struct acre_ipam *ipam, const char *owner)
{
	/* Every leased address is above the gateway, so a lease is never (void *)0. */
	uint32_t addr = (uint32_t)(uintptr_t)acre_map_get(ipam->by_owner, owner);
	if (!addr)
		return -1;
	return (ssize_t)position(ipam, addr);
}

static int reserve(struct acre_ipam *ipam, size_t want)
{
	struct lease *l = acre_vec_grow(ipam->leases, &ipam->cap, want, sizeof(*l));
	if (!l)
		return -ENOMEM;
	ipam->leases = l;
	return 0;
}

static int insert_at(struct acre_ipam *ipam, size_t i, uint32_t addr, const char *owner)
{
	if (reserve(ipam, ipam->n + 1) < 0 ||
	    acre_map_put(ipam->by_owner, owner, (void *)(uintptr_t)addr) < 0)
		return -ENOMEM;
	memmove(&ipam->leases[i + 1], &ipam->leases[i], (ipam->n - i) * sizeof(*ipam->leases));
	ipam->leases[i].addr = addr;
	snprintf(ipam->leases[i].owner, sizeof(ipam->leases[i].owner), "%s", owner);
	ipam->n++;
	return 0;
}

static void remove_at(struct acre_ipam *ipam, size_t i)
{
	acre_map_remove(ipam->by_owner, ipam->leases[i].owner);
	memmove(&ipam->leases[i], &ipam->leases[i + 1], (ipam->n - i - 1) * sizeof(*ipam->leases));
	ipam->n--;
}

/* ---- the file ------------------------------------------------------------- */

static json_t *to_json(const struct acre_ipam *ipam)
{
	char subnet[ACRE_CIDR_STRLEN];
	acre_cidr_format(&ipam->subnet, subnet, sizeof(subnet));
	json_t *leases = json_array();
	if (!leases)
		return NULL;
	for (size_t i = 0; i < ipam->n; i++) {
		char a[ACRE_ADDR_STRLEN];
		acre_cidr_addr_format(ipam->leases[i].addr, a, sizeof(a));
		json_t *l = json_pack("{s:s, s:s}", "owner", ipam->leases[i].owner, "address", a);
		if (!l || json_array_append_new(leases, l) < 0) {
			json_decref(leases);
			return NULL;
		}
	}
	return json_pack("{s:i, s:s, s:o}", "version", 1, "subnet", subnet, "leases", leases);
}

static int save(struct acre_ipam *ipam, struct acre_error *err)
{
	_cleanup_json_ json_t *doc = to_json(ipam);
	_cleanup_free_ char *text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	if (!text)
		return acre_error_set(err, ENOMEM, NULL, "saving leases: out of memory");
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for the NUL, which the file does not need */
	int r = acre_file_write_atomic(ipam->dirfd, ACRE_IPAM_FILE, text, len + 1, err);
	text[len] = '\0';
	if (r < 0)
		return acre_error_prefix(err, "saving leases in %s", ipam->dir);
	return 0;
}

static int load_lease(struct acre_ipam *ipam, const json_t *l, size_t idx, const char *path,
		      struct acre_error *err)
{
	const char *owner, *addr_s;
	json_error_t je;
	uint32_t addr;
	if (json_unpack_ex((json_t *)l, &je, JSON_STRICT, "{s:s, s:s}", "owner", &owner, "address",
			   &addr_s) < 0)
		return acre_error_set(err, EINVAL, NULL, "%s: lease %zu: %s", path, idx, je.text);
	if (!owner_valid(owner))
		return acre_error_set(err, EINVAL, NULL, "%s: lease %zu: invalid owner", path, idx);
	if (acre_cidr_addr_parse(addr_s, &addr) < 0 || !leasable(&ipam->subnet, addr))
		return acre_error_set(err, EINVAL, NULL,
				      "%s: lease %zu: %s is not a host address of the subnet", path,
				      idx, addr_s);
	if (find_owner(ipam, owner) >= 0)
		return acre_error_set(err, EINVAL, NULL, "%s: %s holds two leases", path, owner);
	size_t i = position(ipam, addr);
	if (i < ipam->n && ipam->leases[i].addr == addr)
		return acre_error_set(err, EINVAL, NULL, "%s: %s is leased to both %s and %s", path,
				      addr_s, ipam->leases[i].owner, owner);
	if (insert_at(ipam, i, addr, owner) < 0)
		return acre_error_set(err, ENOMEM, NULL, "%s: out of memory", path);
	return 0;
}

static int load(struct acre_ipam *ipam, const char *text, size_t len, struct acre_error *err)
{
	char path[sizeof(ipam->dir) + sizeof(ACRE_IPAM_FILE) + 1];
	snprintf(path, sizeof(path), "%s/%s", ipam->dir, ACRE_IPAM_FILE);
	json_error_t je;
	_cleanup_json_ json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return acre_error_set(err, EINVAL, NULL, "%s: line %d: %s", path, je.line, je.text);
	const char *subnet_s;
	json_t *leases;
	int version;
	if (json_unpack_ex(doc, &je, JSON_STRICT, "{s:i, s:s, s:o}", "version", &version, "subnet",
			   &subnet_s, "leases", &leases) < 0)
		return acre_error_set(err, EINVAL, NULL, "%s: %s", path, je.text);
	if (version != 1 || !json_is_array(leases))
		return acre_error_set(err, EINVAL, NULL, "%s: not a version 1 lease file", path);
	struct acre_cidr subnet;
	if (acre_cidr_parse(subnet_s, &subnet, err, "subnet") < 0)
		return acre_error_prefix(err, "%s", path);
	if (subnet.network != ipam->subnet.network || subnet.prefix != ipam->subnet.prefix) {
		if (json_array_size(leases) == 0)
			return 0; /* nothing leased: the new subnet simply takes over */
		char want[ACRE_CIDR_STRLEN];
		acre_cidr_format(&ipam->subnet, want, sizeof(want));
		return acre_error_set(err, EBUSY, "--slice-cidr",
				      "%s holds %zu leases in %s, not %s: remove those slices or "
				      "keep the old --slice-cidr",
				      path, json_array_size(leases), subnet_s, want);
	}
	size_t i;
	json_t *l;
	json_array_foreach (leases, i, l) {
		int r = load_lease(ipam, l, i, path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int acre_ipam_open(struct acre_ipam **out, const char *state_dir, const struct acre_cidr *subnet,
		   struct acre_error *err)
{
	int r = acre_cidr_check_subnet(subnet, err, "--slice-cidr");
	if (r < 0)
		return r;
	struct acre_ipam *ipam = calloc(1, sizeof(*ipam));
	if (!ipam)
		return acre_error_set(err, ENOMEM, NULL, "opening leases: out of memory");
	ipam->subnet = *subnet;
	ipam->dirfd = -1;
	ipam->by_owner = acre_map_new();
	if (!ipam->by_owner) {
		acre_ipam_close(ipam);
		return acre_error_set(err, ENOMEM, NULL, "opening leases: out of memory");
	}
	snprintf(ipam->dir, sizeof(ipam->dir), "%s", state_dir);
	ipam->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ipam->dirfd < 0) {
		r = acre_error_set(err, errno, NULL, "opening state directory %s: %s", state_dir,
				   strerror(errno));
		acre_ipam_close(ipam);
		return r;
	}
	/* A temporary is a write that never reached its rename: the lease file is still whole. */
	if (unlinkat(ipam->dirfd, "." ACRE_IPAM_FILE ".tmp", 0) < 0 && errno != ENOENT) {
		r = acre_error_set(err, errno, NULL, "removing %s/." ACRE_IPAM_FILE ".tmp: %s",
				   state_dir, strerror(errno));
		acre_ipam_close(ipam);
		return r;
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	r = acre_file_read(ipam->dirfd, ACRE_IPAM_FILE, &text, &len, LEASE_FILE_MAX);
	if (r == -ENOENT)
		r = 0;
	else if (r < 0)
		r = acre_error_set(err, -r, NULL, "reading %s/%s: %s", state_dir, ACRE_IPAM_FILE,
				   strerror(-r));
	else
		r = load(ipam, text, len, err);
	if (r < 0) {
		acre_ipam_close(ipam);
		return r;
	}
	*out = ipam;
	return 0;
}

void acre_ipam_close(struct acre_ipam *ipam)
{
	if (!ipam)
		return;
	if (ipam->dirfd >= 0)
		close(ipam->dirfd);
	acre_map_free(ipam->by_owner);
	free(ipam->leases);
	free(ipam);
}

/* ---- leases --------------------------------------------------------------- */

int acre_ipam_allocate(struct acre_ipam *ipam, const char *owner, uint32_t *addr,
		       struct acre_error *err)
{
	if (!owner_valid(owner))
		return acre_error_set(
			err, EINVAL, NULL,
			"allocating an address: invalid owner (1 to %d printable bytes)",
			ACRE_NAME_MAX);
	ssize_t have = find_owner(ipam, owner);
	if (have >= 0) {
		*addr = ipam->leases[have].addr;
		return 0;
	}
	/* The leases are sorted: the first gap in the run from first_host is the lowest free. */
	uint32_t want = first_host(&ipam->subnet);
	size_t i = 0;
	for (; i < ipam->n && ipam->leases[i].addr == want; i++)
		want++;
	if (want > last_host(&ipam->subnet)) {
		char s[ACRE_CIDR_STRLEN];
		acre_cidr_format(&ipam->subnet, s, sizeof(s));
		return acre_error_set(
			err, ENOSPC, "--slice-cidr",
			"allocating an address for %s: subnet %s is exhausted (all %zu "
			"slice addresses are leased)",
			owner, s, ipam->n);
	}
	if (insert_at(ipam, i, want, owner) < 0)
		return acre_error_set(err, ENOMEM, NULL,
				      "allocating an address for %s: out of memory", owner);
	int r = save(ipam, err);
	if (r < 0) {
		remove_at(ipam, i);
		return acre_error_prefix(err, "allocating an address for %s", owner);
	}
	*addr = want;
	return 0;
}

int acre_ipam_release(struct acre_ipam *ipam, const char *owner, struct acre_error *err)
{
	ssize_t i = owner ? find_owner(ipam, owner) : -1;
	if (i < 0)
		return 0;
	struct lease gone = ipam->leases[i];
	remove_at(ipam, (size_t)i);
	int r = save(ipam, err);
	if (r < 0) {
		/* Only ENOMEM fails here, and the file still holds the lease: a reopen has it. */
		(void)insert_at(ipam, (size_t)i, gone.addr, gone.owner);
		return acre_error_prefix(err, "releasing the address of %s", owner);
	}
	return 0;
}

int acre_ipam_lookup(const struct acre_ipam *ipam, const char *owner, uint32_t *addr)
{
	ssize_t i = owner ? find_owner(ipam, owner) : -1;
	if (i < 0)
		return -ENOENT;
	*addr = ipam->leases[i].addr;
	return 0;
}

static void map_freep(struct acre_map **m)
{
	acre_map_free(*m);
}

int acre_ipam_reconcile(struct acre_ipam *ipam, const char *const *live, size_t n, size_t *dropped,
			struct acre_error *err)
{
	_cleanup_(map_freep) struct acre_map *alive = acre_map_new();
	if (!alive)
		return acre_error_set(err, ENOMEM, NULL, "reconciling leases: out of memory");
	for (size_t i = 0; i < n; i++)
		if (live[i] && acre_map_put(alive, live[i], alive) < 0)
			return acre_error_set(err, ENOMEM, NULL,
					      "reconciling leases: out of memory");
	_cleanup_free_ struct lease *before = malloc((ipam->n ? ipam->n : 1) * sizeof(*before));
	if (!before)
		return acre_error_set(err, ENOMEM, NULL, "reconciling leases: out of memory");
	memcpy(before, ipam->leases, ipam->n * sizeof(*before));
	size_t n_before = ipam->n, kept = 0;
	for (size_t i = 0; i < n_before; i++) {
		if (acre_map_get(alive, before[i].owner))
			ipam->leases[kept++] = before[i];
		else
			acre_map_remove(ipam->by_owner, before[i].owner);
	}
	ipam->n = kept;
	if (dropped)
		*dropped = n_before - kept;
	if (kept == n_before)
		return 0;
	int r = save(ipam, err);
	if (r < 0) {
		memcpy(ipam->leases, before, n_before * sizeof(*before));
		ipam->n = n_before;
		for (size_t i = 0; i < n_before; i++)
			(void)acre_map_put(ipam->by_owner, before[i].owner,
					   (void *)(uintptr_t)before[i].addr);
		if (dropped)
			*dropped = 0;
		return acre_error_prefix(err, "reconciling leases");
	}
	return 0;
}

size_t acre_ipam_count(const struct acre_ipam *ipam)
{
	return ipam->n;
}

uint64_t acre_ipam_capacity(const struct acre_ipam *ipam)
{
	return (uint64_t)last_host(&ipam->subnet) - first_host(&ipam->subnet) + 1;
}

int acre_ipam_lease_at(const struct acre_ipam *ipam, size_t i, const char **owner, uint32_t *addr)
{
	if (i >= ipam->n)
		return -ENOENT;
	if (owner)
		*owner = ipam->leases[i].owner;
	if (addr)
		*addr = ipam->leases[i].addr;
	return 0;
}

const struct acre_cidr *acre_ipam_subnet(const struct acre_ipam *ipam)
{
	return &ipam->subnet;
}
