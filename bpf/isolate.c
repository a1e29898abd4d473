/*
 * Isolated slices on the bridge (see isolate.bpf.c for what is dropped and
 * why).  acre_bpf_isolate writes the device's entry in isolate_devs first,
 * then puts a clsact qdisc on the host-side veth and the two programs on it
 * as direct-action cls_bpf filters, replacing ours if they are there: the
 * filter never runs on the device before its entry exists, and a second
 * call changes nothing.  The filters are not pinned and need no pin: the
 * device holds them, and they hold the program, which holds the map, so
 * they keep isolating while no supervisor runs, and go with the veth.
 *
 * What outlives its device is the map entry, when a slice's network
 * namespace took the veth away before anyone called
 * acre_bpf_isolate_remove.  acre_bpf_isolate_resume, on every open, drops
 * entries whose device no longer carries a filter of ours, and moves the
 * filters still running an older build's program to this build's; a full
 * map is swept the same way before acre_bpf_isolate gives up.
 */
#include "bpf_internal.h"

#include <arpa/inet.h>

/* Our filter on each clsact hook: priority 1 runs before any other filter there. */
#define ISOLATE_HANDLE	 0xac1
#define ISOLATE_PRIORITY 1

/* In isolate_prog_fd order: frames from the slice, frames to it. */
static const enum bpf_tc_attach_point points[2] = {BPF_TC_INGRESS, BPF_TC_EGRESS};
static const char *const prog_names[2] = {"isolate_ingress", "isolate_egress"};

static int check_subnet(const char *name, uint32_t gateway, uint32_t network, uint8_t prefix_len,
			__u32 *mask, struct acre_error *err)
{
	if (prefix_len < 1 || prefix_len > 32)
		return acre_error_set(err, EINVAL, NULL, "isolating %s: prefix length %u", name,
				      prefix_len);
	*mask = htonl(prefix_len == 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix_len));
	if ((network & ~*mask) || (gateway & *mask) != network)
		return acre_error_set(err, EINVAL, NULL,
				      "isolating %s: the gateway or the network lies outside /%u",
				      name, prefix_len);
	return 0;
}

/*
 * What LIBBPF_OPTS does, spelt out (cppcheck cannot expand it): libbpf
 * refuses options whose padding is not zero.
 */
static void tc_hook_init(struct bpf_tc_hook *hook, int ifindex, enum bpf_tc_attach_point point)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = point;
}

/* Names our filter: handle and priority. */
static void tc_opts_init(struct bpf_tc_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->handle = ISOLATE_HANDLE;
	opts->priority = ISOLATE_PRIORITY;
}

static int attach(const struct acre_bpf *b, int ifindex, const char *name, struct acre_error *err)
{
	struct bpf_tc_hook hook;
	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	int rc = bpf_tc_hook_create(&hook);
	if (rc < 0 && rc != -EEXIST)
		return acre_error_set(err, rc, NULL, "isolating %s: adding the clsact qdisc: %s",
				      name, strerror(-rc));
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(points); i++) {
		hook.attach_point = points[i];
		struct bpf_tc_opts opts;
		tc_opts_init(&opts);
		opts.prog_fd = b->isolate_prog_fd[i];
		opts.flags = BPF_TC_F_REPLACE;
		rc = bpf_tc_attach(&hook, &opts);
		if (rc < 0)
			return acre_error_set(err, rc, NULL, "isolating %s: attaching %s: %s", name,
					      prog_names[i], strerror(-rc));
	}
	return 0;
}

static void detach(int ifindex)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(points); i++) {
		struct bpf_tc_hook hook;
		struct bpf_tc_opts opts;
		tc_hook_init(&hook, ifindex, points[i]);
		tc_opts_init(&opts);
		bpf_tc_detach(&hook, &opts);
	}
}

/* The id of the program our filter on ifindex's hook runs; 0 if there is none. */
static __u32 filter_prog(int ifindex, enum bpf_tc_attach_point point)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	tc_hook_init(&hook, ifindex, point);
	tc_opts_init(&opts);
	return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
}

/* Does program prog_id read the map map_id, i.e. is it one of ours, of whichever build? */
static bool reads_map(__u32 prog_id, __u32 map_id)
{
	_cleanup_close_ int fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	__u32 ids[8] = {0};
	struct bpf_prog_info info = {.nr_map_ids = ACRE_ARRAY_SIZE(ids),
				     .map_ids = (__u64)(uintptr_t)ids};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < ACRE_ARRAY_SIZE(ids); i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

static __u32 id_of_map(int fd)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

struct sweep {
	size_t devices, dropped, moved;
};

/* One entry: kept, dropped (its device carries no filter of ours) or moved to this build. */
static void sweep_one(const struct acre_bpf *b, __u32 ifindex, __u32 our_map, struct sweep *s)
{
	bool ours = false, current = true;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(points); i++) {
		__u32 id = filter_prog((int)ifindex, points[i]);
		bool mine = id && (id == b->isolate_prog_id[i] || reads_map(id, our_map));
		ours |= mine;
		current &= id == b->isolate_prog_id[i];
	}
	if (!ours) {
		/* The veth is gone, or its ifindex now names a device that is not ours. */
		bpf_map_delete_elem(b->isolate_fd, &ifindex);
		s->dropped++;
	} else if (!current && attach(b, (int)ifindex, "", NULL) == 0) {
		s->moved++;
	}
}

static int sweep(const struct acre_bpf *b, struct sweep *s)
{
	*s = (struct sweep){0};
	/* Keys first: deleting while walking would restart the walk. */
	_cleanup_free_ __u32 *keys = calloc(ACRE_BPF_MAX_SLICES, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	__u32 key, *prev = NULL;
	while (s->devices < ACRE_BPF_MAX_SLICES &&
	       bpf_map_get_next_key(b->isolate_fd, prev, &key) == 0) {
		keys[s->devices++] = key;
		prev = &keys[s->devices - 1];
	}
	__u32 our_map = id_of_map(b->isolate_fd);
	for (size_t i = 0; i < s->devices; i++)
		sweep_one(b, keys[i], our_map, s);
	return 0;
}

static int open_programs(struct acre_bpf *b, struct acre_error *err)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(prog_names); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", b->pin_dir, prog_names[i]);
		b->isolate_prog_fd[i] = bpf_obj_get(path);
		if (b->isolate_prog_fd[i] < 0)
			return acre_error_set(err, errno, NULL, "opening %s: %s", path,
					      strerror(errno));
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int rc = bpf_obj_get_info_by_fd(b->isolate_prog_fd[i], &info, &len);
		if (rc < 0)
			return acre_error_set(err, rc, NULL, "examining %s: %s", path,
					      strerror(-rc));
		b->isolate_prog_id[i] = info.id;
	}
	return 0;
}

int acre_bpf_isolate_resume(struct acre_bpf *b, struct acre_error *err)
{
	int rc = open_programs(b, err);
	if (rc < 0)
		return rc;
	struct sweep s;
	rc = sweep(b, &s);
	if (rc < 0)
		return acre_error_set(err, rc, NULL, "sweeping isolate_devs: %s", strerror(-rc));
	if (s.devices)
		acre_log(ACRE_LOG_INFO,
			 "event=bpf_isolate_resumed dir=%s devices=%zu dropped=%zu moved=%zu",
			 b->pin_dir, s.devices, s.dropped, s.moved);
	return 0;
}

/* Writes the entry; a full map is swept of departed devices once. */
static int put_entry(struct acre_bpf *b, __u32 key, const struct acre_bpf_isolate_value *v)
{
	int rc = bpf_map_update_elem(b->isolate_fd, &key, v, BPF_ANY);
	if (rc == -E2BIG) {
		struct sweep s;
		if (sweep(b, &s) == 0 && s.dropped)
			rc = bpf_map_update_elem(b->isolate_fd, &key, v, BPF_ANY);
	}
	return rc == -E2BIG ? -ENOSPC : rc;
}

/*
 * The device, which must be a bridge port, and the bridge's MAC: the gateway's link
 * address, the only one an isolated slice may talk to.  netns/ gives its bridge a fixed
 * MAC, so it does not change under the entry as ports come and go.
 */
static int port_of_bridge(int ifindex, struct acre_bpf_link *link, struct acre_error *err)
{
	if (ifindex <= 0)
		return acre_error_set(err, EINVAL, NULL, "isolating a slice: device index %d",
				      ifindex);
	int rc = acre_bpf_link_get(ifindex, link);
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "isolating a slice: device %d: %s", ifindex,
				      rc == -ENODEV ? "no such device" : strerror(-rc));
	if (!link->bridge_port)
		return acre_error_set(err, EINVAL, NULL, "isolating %s: it is not a bridge port",
				      link->name);
	return 0;
}

int acre_bpf_isolate(struct acre_bpf *b, int ifindex, uint32_t gateway, uint32_t network,
		     uint8_t prefix_len, struct acre_error *err)
{
	struct acre_bpf_link link;
	int rc = port_of_bridge(ifindex, &link, err);
	if (rc < 0)
		return rc;
	const char *name = link.name;
	struct acre_bpf_isolate_value v = {
		.gateway = gateway, .network = network, .prefix_len = prefix_len};
	memcpy(v.bridge_mac, link.bridge_mac, sizeof(v.bridge_mac));
	rc = check_subnet(name, gateway, network, prefix_len, &v.mask, err);
	if (rc < 0)
		return rc;
	__u32 key = (__u32)ifindex;
	struct acre_bpf_isolate_value old;
	bool had = bpf_map_lookup_elem(b->isolate_fd, &key, &old) == 0;
	rc = put_entry(b, key, &v);
	if (rc < 0)
		return acre_error_set(err, rc, NULL, "isolating %s: %s", name,
				      rc == -ENOSPC ? "the node isolates too many devices"
						    : strerror(-rc));
	rc = attach(b, ifindex, name, err);
	if (rc < 0 && !had) {
		detach(ifindex);
		bpf_map_delete_elem(b->isolate_fd, &key);
	}
	return rc;
}

int acre_bpf_isolate_remove(struct acre_bpf *b, int ifindex)
{
	if (ifindex <= 0)
		return -EINVAL;
	__u32 key = (__u32)ifindex;
	int rc = bpf_map_delete_elem(b->isolate_fd, &key);
	return rc == -ENOENT ? 0 : rc;
}
