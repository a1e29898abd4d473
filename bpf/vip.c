/*
 * Virtual IPs from user space: attaching the node-wide programs (vip.bpf.c) and writing the
 * table the programs read (connect_vips, connect_slots; layout.h).  The table is the only
 * state: a service's slot range and current half are read back from its connect_vips entry, so
 * a supervisor restarted after kill -9 carries on from the pins with nothing of its own saved.
 *
 * A change of members never shows half-done: the new set goes into the half of the service's
 * range that no connect_vips element points at, and only then is the element replaced, in one
 * update.  The half written next is the one the element pointed at before that update; a
 * program that had looked the old element up is long done by the next change (readers take
 * microseconds; changes come from the controller's passes).
 */
#include "bpf_internal.h"
#include "vip_slots.h"

#include <netinet/in.h>

#include "vip.skel.h"

static struct acre_bpf_vip_key to_key(const struct acre_bpf_vip *vip)
{
	return (struct acre_bpf_vip_key){.addr = vip->addr, .port = vip->port, .proto = vip->proto};
}

static uint64_t now_ms(void)
{
	return acre_monotonic_ns() / 1000000;
}

/* ---- the node-wide programs ---------------------------------------------------------- */

void acre_bpf_vip_close(struct acre_bpf *b)
{
	vip_bpf__destroy(b->vip);
	b->vip = NULL;
}

bool acre_bpf_vip_pinned(const struct acre_bpf *b)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/vip_meta", b->pin_dir);
	return access(path, F_OK) == 0;
}

int acre_bpf_vip_attach(struct acre_bpf *b, const char *cgroup_path, struct acre_error *err)
{
	if (b->vip)
		return 0;
	struct acre_bpf_site site = {.dir = b->pin_dir};
	_cleanup_close_ int cgroup_fd = -1, dir_fd = -1;
	int rc = acre_bpf_cgroup_open(cgroup_path, &cgroup_fd, &site.cgroup_id, err);
	if (rc < 0)
		return rc;
	site.cgroup_fd = cgroup_fd;
	/* The same lock as acre_bpf_open's: one opener of the pin directory at a time. */
	if ((rc = acre_bpf_pins_lock(b->pin_dir, &dir_fd, err)) < 0)
		return rc;
	site.dir_fd = dir_fd;
	struct vip_bpf *skel = vip_bpf__open();
	if (!skel)
		return acre_error_set(err, errno, NULL, "opening the VIP eBPF object: %s",
				      strerror(errno));
	struct acre_bpf_part part = {.name = "vip", .obj = skel->obj};
	part.elf = vip_bpf__elf_bytes(&part.elf_size);
	rc = acre_bpf_part_open(&part, &site, err);
	if (rc < 0) {
		vip_bpf__destroy(skel);
		return rc;
	}
	b->vip = skel;
	acre_log(ACRE_LOG_INFO, "event=vip_programs_attached cgroup=%s pins=%s", cgroup_path,
		 b->pin_dir);
	return 0;
}

int acre_bpf_vip_detach(struct acre_bpf *b)
{
	acre_bpf_vip_close(b);
	_cleanup_close_ int dir_fd = -1;
	struct acre_error err = {0};
	int rc = acre_bpf_pins_lock(b->pin_dir, &dir_fd, &err);
	if (rc < 0)
		return rc;
	/* Links first (acre_bpf_pins_remove's order): the programs stop before the rest goes. */
	return acre_bpf_pins_remove(dir_fd, "vip_");
}

/* ---- the table ------------------------------------------------------------------------ */

static int check_vip(const struct acre_bpf_vip *vip)
{
	if (!vip->addr || !vip->port || (vip->proto != IPPROTO_TCP && vip->proto != IPPROTO_UDP))
		return -EINVAL;
	return 0;
}

/* Does the service already have exactly these members, in this order? */
static bool same_members(struct acre_bpf *b, const struct acre_bpf_vip_value *cur,
			 const struct acre_bpf_vip_member *m, size_t n)
{
	if (cur->count != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		__u32 slot = cur->base + (__u32)i;
		struct acre_bpf_vip_backend be;
		if (bpf_map_lookup_elem(b->slots_fd, &slot, &be) < 0 || be.addr != m[i].addr ||
		    be.port != m[i].port)
			return false;
	}
	return true;
}

/* The service indexes in use now, from the table itself. */
static int used_indexes(struct acre_bpf *b, bool *used)
{
	struct acre_bpf_vip_key k, next;
	const void *prev = NULL;
	int rc;
	memset(used, 0, ACRE_BPF_VIP_MAX_SERVICES * sizeof(*used));
	while ((rc = bpf_map_get_next_key(b->vips_fd, prev, &next)) == 0) {
		k = next;
		prev = &k;
		struct acre_bpf_vip_value v;
		if (bpf_map_lookup_elem(b->vips_fd, &k, &v) == 0 &&
		    v.index < ACRE_BPF_VIP_MAX_SERVICES)
			used[v.index] = true;
	}
	return rc == -ENOENT ? 0 : rc;
}

/* Where a new set goes: *index and *base, and the version it publishes. */
static int place(struct acre_bpf *b, const struct acre_bpf_vip_key *key,
		 struct acre_bpf_vip_value *next)
{
	struct acre_bpf_vip_value cur;
	if (bpf_map_lookup_elem(b->vips_fd, key, &cur) == 0) {
		int64_t base = acre_bpf_vip_next_base(cur.index, cur.base);
		if (base >= 0) {
			*next = (struct acre_bpf_vip_value){.index = cur.index,
							    .base = (__u32)base,
							    .version = cur.version + 1};
			return 0;
		}
		/* An entry no build of ours wrote: it is replaced like a new one. */
	}
	bool used[ACRE_BPF_VIP_MAX_SERVICES];
	int rc = used_indexes(b, used);
	if (rc < 0)
		return rc;
	int index =
		acre_bpf_vip_pick_index(used, b->vip_freed_at, ACRE_BPF_VIP_MAX_SERVICES, now_ms());
	if (index < 0)
		return index;
	/*
	 * A version no earlier service at this address had: a UDP socket's pick of that one
	 * (connect_sticky) must not pass for a pick of this one.
	 */
	*next = (struct acre_bpf_vip_value){.index = (__u32)index,
					    .base = acre_bpf_vip_half_base((__u32)index, 0),
					    .version = (__u32)(acre_monotonic_ns() >> 10)};
	return 0;
}

int acre_bpf_vip_set(struct acre_bpf *b, const struct acre_bpf_vip *vip,
		     const struct acre_bpf_vip_member *members, size_t n)
{
	if (check_vip(vip) < 0 || (n && !members))
		return -EINVAL;
	if (n > ACRE_BPF_VIP_MEMBERS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (!members[i].addr || !members[i].port)
			return -EINVAL;
	struct acre_bpf_vip_key key = to_key(vip);
	struct acre_bpf_vip_value cur, next;
	if (bpf_map_lookup_elem(b->vips_fd, &key, &cur) == 0 && same_members(b, &cur, members, n))
		return 1;
	int rc = place(b, &key, &next);
	if (rc < 0)
		return rc;
	/* The members into the half nobody reads, then the switch in one element update. */
	for (size_t i = 0; i < n; i++) {
		__u32 slot = next.base + (__u32)i;
		struct acre_bpf_vip_backend be = {.addr = members[i].addr, .port = members[i].port};
		if ((rc = bpf_map_update_elem(b->slots_fd, &slot, &be, BPF_ANY)) < 0)
			return rc;
	}
	next.count = (__u32)n;
	rc = bpf_map_update_elem(b->vips_fd, &key, &next, BPF_ANY);
	return rc == -E2BIG ? -ENOSPC : rc;
}

int acre_bpf_vip_delete(struct acre_bpf *b, const struct acre_bpf_vip *vip)
{
	struct acre_bpf_vip_key key = to_key(vip);
	struct acre_bpf_vip_value cur;
	if (bpf_map_lookup_elem(b->vips_fd, &key, &cur) < 0)
		return 0;
	int rc = bpf_map_delete_elem(b->vips_fd, &key);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	if (cur.index < ACRE_BPF_VIP_MAX_SERVICES)
		b->vip_freed_at[cur.index] = now_ms();
	return 0;
}

int acre_bpf_vip_foreach(struct acre_bpf *b, acre_bpf_vip_fn fn, void *ud)
{
	struct acre_bpf_vip_key k, next;
	const void *prev = NULL;
	int rc;
	while ((rc = bpf_map_get_next_key(b->vips_fd, prev, &next)) == 0) {
		k = next;
		prev = &k;
		struct acre_bpf_vip_value v;
		if (bpf_map_lookup_elem(b->vips_fd, &k, &v) < 0)
			continue; /* deleted meanwhile */
		struct acre_bpf_vip_member m[ACRE_BPF_VIP_MEMBERS_MAX];
		size_t n = 0;
		for (__u32 i = 0; i < v.count && i < ACRE_BPF_VIP_MEMBERS_MAX; i++) {
			__u32 slot = v.base + i;
			struct acre_bpf_vip_backend be;
			if (bpf_map_lookup_elem(b->slots_fd, &slot, &be) == 0)
				m[n++] = (struct acre_bpf_vip_member){.addr = be.addr,
								      .port = be.port};
		}
		struct acre_bpf_vip vip = {.addr = k.addr, .port = k.port, .proto = k.proto};
		fn(&vip, m, n, ud);
	}
	return rc == -ENOENT ? 0 : rc;
}
