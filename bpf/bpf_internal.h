/*
 * Shared between the files of bpf/: the handle, the eBPF objects ("parts")
 * and the pin machinery.  Not part of the module's public header; only
 * the .c files of bpf/ include it (with libbpf's own <bpf/bpf.h>, which the Makefile keeps
 * reachable by compiling bpf/ with -iquote . instead of -I.).
 */
#ifndef ACRE_BPF_INTERNAL_H
#define ACRE_BPF_INTERNAL_H

#include "bpf.h"

#include <limits.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "layout.h"

#define ACRE_BPF_FS	  "/sys/fs/bpf"
#define ACRE_BPF_PIN_ROOT ACRE_BPF_FS "/acre"

_Static_assert(ACRE_BPF_RUNQ_SLOTS == ACRE_BPF_LAYOUT_RUNQ_SLOTS, "runq slots differ");
_Static_assert(ACRE_BPF_VIP_MEMBERS_MAX == ACRE_BPF_VIP_MAX_BACKENDS, "VIP member bound differs");
_Static_assert(ACRE_BPF_VIP_SERVICES_MAX == ACRE_BPF_VIP_MAX_SERVICES, "VIP table size differs");
_Static_assert(ACRE_BPF_CLASS_MAX == ACRE_BPF_NET_CLASS_MAX, "class trie bound differs");
_Static_assert(ACRE_BPF_CLASS_COUNT == ACRE_BPF_NET_CLASSES, "net classes differ");
_Static_assert(sizeof(struct acre_bpf_net_value) <= sizeof(struct acre_bpf_runq_value),
	       "the per-CPU scratch is sized for the largest value");
_Static_assert(ACRE_ALLOW_MAX == ACRE_BPF_POLICY_MAX_RULES, "policy rule bound differs");

struct net_bpf;
struct runq_bpf;
struct connect_bpf;
struct isolate_bpf;
struct vip_bpf;

struct acre_bpf {
	char pin_dir[PATH_MAX];
	struct net_bpf *net;
	struct runq_bpf *runq;
	struct connect_bpf *connect;
	struct isolate_bpf *isolate;
	struct vip_bpf *vip; /* the node-wide VIP programs, once attached */
	/* Map fds, owned by the skeletons above (the VIP tables are the connect part's). */
	int net_fd, class_fd, runq_fd, policy_fd, isolate_fd, vips_fd, slots_fd;
	/* When each VIP service index was last freed (CLOCK_MONOTONIC ms; see vip_slots.h). */
	uint64_t vip_freed_at[ACRE_BPF_VIP_MAX_SERVICES];
	/* The pinned tc programs, ours (a kept program is not loaded by its skeleton): in, out. */
	int isolate_prog_fd[2];
	__u32 isolate_prog_id[2];
	int ncpus;
	void *percpu; /* scratch for one per-CPU value of any map: ncpus values */
};

/*
 * One eBPF object and the name its pins start with: "net" pins net_stats,
 * net_meta, net_ingress and net_ingress_link, and nothing else starts with
 * "net_" in the pin directory.
 */
struct acre_bpf_part {
	const char *name;
	struct bpf_object *obj; /* opened, not loaded */
	const void *elf;	/* the object file the skeleton embeds: its fingerprint */
	size_t elf_size;
};

/* Where a part's programs attach and its pins go; the directory is locked by the caller. */
struct acre_bpf_site {
	const char *dir;
	int dir_fd;
	int cgroup_fd;	    /* the supervisor's v2 subtree */
	uint64_t cgroup_id; /* its id, to tell our links from stale ones */
};

/* open.c: a cgroup v2 directory's fd and id, refusing anything else. */
int acre_bpf_cgroup_open(const char *path, int *fd_out, uint64_t *id, struct acre_error *err);

/* pins.c: bpffs and the pin directory. */
int acre_bpf_pins_path(const char *cgroup_root_name, char *buf, size_t len);
int acre_bpf_pins_mount(struct acre_error *err);
/* mkdir -p, open and flock the pin directory: one opener at a time. */
int acre_bpf_pins_lock(const char *dir, int *fd, struct acre_error *err);
/* Unlinks the pins whose names start with prefix ("" for all), links first. */
int acre_bpf_pins_remove(int dir_fd, const char *prefix);

/* part.c: load a part, or reuse what is pinned, and attach it exactly once. */
int acre_bpf_part_open(const struct acre_bpf_part *part, const struct acre_bpf_site *site,
		       struct acre_error *err);

/* link.c: a device as rtnetlink shows it in the caller's network namespace. */
struct acre_bpf_link {
	char name[16];
	bool bridge_port; /* its master is a bridge, whose MAC follows */
	__u8 bridge_mac[6];
};
/* 0, or a negative errno: -ENODEV when there is no such device. */
int acre_bpf_link_get(int ifindex, struct acre_bpf_link *out);

/*
 * isolate.c: takes the pinned tc programs, then walks isolate_devs: an entry
 * whose device has lost our filter (the veth is gone) is dropped, and a
 * filter running an older build gets this one.
 */
int acre_bpf_isolate_resume(struct acre_bpf *b, struct acre_error *err);

/* vip.c: closes the VIP programs' skeleton (fds only: the pins keep them attached). */
void acre_bpf_vip_close(struct acre_bpf *b);

#endif
