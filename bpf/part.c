/*
 * Loading one eBPF object ("part") so that a supervisor restart never loses
 * a count and never counts twice.  What an earlier run pinned is reused when
 * it can be, and replaced when it cannot:
 *
 * - maps are reused when the part's meta map says they have this build's
 *   layout and each pinned map has the same type, sizes and flags;
 *   otherwise every pin of the part is removed and the part starts afresh
 *   (the only case in which counters restart from zero);
 * - a pinned link is kept as it is when it runs this very build (same
 *   fingerprint of the object file) at the right place; its program is then
 *   not even loaded;
 * - a link at the right place running another build has its program swapped
 *   atomically (BPF_LINK_UPDATE) where the kernel allows it (cgroup links);
 *   tracing links cannot be updated, so the new one is attached first and
 *   the old one released after: for an instant both run, which the runq
 *   programs tolerate (the second finds the timestamp already consumed);
 * - anything else is attached anew, and its pin replaced by rename(2), which
 *   drops the old link in the same step.
 *
 * Exactly one link per program is pinned, so exactly one is attached.
 *
 * tc programs (isolate) are the exception: they attach per device, later,
 * through netlink filters that are no links and hold the program themselves.
 * Here they are only loaded and pinned, and a pinned program of this very
 * build is kept without loading; isolate.c moves the filters over.
 */
#include "bpf_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

/* FNV-1a: a change to any program or map definition changes the object file. */
static uint64_t fingerprint(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void pin_path(const struct acre_bpf_site *site, const char *name, const char *suffix,
		     char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s", site->dir, name, suffix);
}

static int meta_read(const struct acre_bpf_part *part, const struct acre_bpf_site *site,
		     struct acre_bpf_meta *meta)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s_meta", site->dir, part->name);
	_cleanup_close_ int fd = bpf_obj_get(path);
	if (fd < 0)
		return fd;
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (rc < 0)
		return rc;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(*meta))
		return -EINVAL;
	__u32 key = 0;
	return bpf_map_lookup_elem(fd, &key, meta);
}

static int meta_write(const struct acre_bpf_part *part, uint64_t fp)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_meta", part->name);
	struct bpf_map *m = bpf_object__find_map_by_name(part->obj, name);
	if (!m)
		return -ENOENT;
	struct acre_bpf_meta meta = {.layout = ACRE_BPF_LAYOUT_VERSION, .fingerprint = fp};
	__u32 key = 0;
	return bpf_map_update_elem(bpf_map__fd(m), &key, &meta, BPF_ANY);
}

/* The pinned map can stand in for m: libbpf would refuse it at load otherwise. */
static bool map_compatible(const struct acre_bpf_site *site, const struct bpf_map *m)
{
	char path[PATH_MAX];
	pin_path(site, bpf_map__name(m), "", path, sizeof(path));
	_cleanup_close_ int fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	return info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	       info.value_size == bpf_map__value_size(m) &&
	       info.max_entries == bpf_map__max_entries(m) &&
	       info.map_flags == bpf_map__map_flags(m);
}

static bool maps_reusable(const struct acre_bpf_part *part, const struct acre_bpf_site *site,
			  const struct acre_bpf_meta *meta)
{
	if (meta->layout != ACRE_BPF_LAYOUT_VERSION)
		return false;
	struct bpf_map *m;
	for (m = bpf_object__next_map(part->obj, NULL); m; m = bpf_object__next_map(part->obj, m))
		if (!map_compatible(site, m))
			return false;
	return true;
}

/* cls_bpf programs: pinned, never linked here (see the top of this file). */
static bool is_tc_prog(const struct bpf_program *prog)
{
	return bpf_program__type(prog) == BPF_PROG_TYPE_SCHED_CLS;
}

static bool is_cgroup_prog(const struct bpf_program *prog)
{
	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		return true;
	default:
		return false;
	}
}

/*
 * Is the pinned link prog's, at the right place?  On success returns the fd
 * of the program it runs (for re-pinning), else -1.
 */
static int link_matches(int link_fd, const struct bpf_program *prog,
			const struct acre_bpf_site *site)
{
	char tp_name[128] = "";
	struct bpf_link_info info = {0};
	if (!is_cgroup_prog(prog)) {
		info.raw_tracepoint.tp_name = (__u64)(uintptr_t)tp_name;
		info.raw_tracepoint.tp_name_len = sizeof(tp_name);
	}
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len) < 0)
		return -1;
	if (is_cgroup_prog(prog)) {
		/* A link whose cgroup was removed reports no cgroup: it counts nothing. */
		if (info.type != BPF_LINK_TYPE_CGROUP || info.cgroup.cgroup_id != site->cgroup_id ||
		    info.cgroup.attach_type != bpf_program__expected_attach_type(prog))
			return -1;
	} else {
		/* tp_btf programs are attached through raw tracepoint links: "tp_btf/<name>". */
		const char *sec = strchr(bpf_program__section_name(prog), '/');
		if (info.type != BPF_LINK_TYPE_RAW_TRACEPOINT || !sec || strcmp(tp_name, sec + 1))
			return -1;
	}
	int prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (prog_fd < 0)
		return -1;
	struct bpf_prog_info pinfo = {0};
	len = sizeof(pinfo);
	if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len) < 0 ||
	    strncmp(pinfo.name, bpf_program__name(prog), sizeof(pinfo.name) - 1) != 0) {
		close(prog_fd);
		return -1;
	}
	return prog_fd;
}

/* Pins fd as name, replacing what was there in one step (the old object loses its pin). */
static int pin_replace(const struct acre_bpf_site *site, int fd, const char *name)
{
	char tmp[PATH_MAX];
	pin_path(site, name, "_replacing", tmp, sizeof(tmp));
	unlink(tmp);
	int rc = bpf_obj_pin(fd, tmp);
	if (rc < 0)
		return rc;
	char final[PATH_MAX];
	pin_path(site, name, "", final, sizeof(final));
	if (rename(tmp, final) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

static int pin_if_missing(const struct acre_bpf_site *site, int fd, const char *name)
{
	if (faccessat(site->dir_fd, name, F_OK, 0) == 0)
		return 0;
	char path[PATH_MAX];
	pin_path(site, name, "", path, sizeof(path));
	return bpf_obj_pin(fd, path);
}

static int attach_new(struct bpf_program *prog, const struct acre_bpf_site *site,
		      const char *link_name)
{
	struct bpf_link *link = is_cgroup_prog(prog)
					? bpf_program__attach_cgroup(prog, site->cgroup_fd)
					: bpf_program__attach(prog);
	if (!link)
		return -errno;
	int rc = pin_replace(site, bpf_link__fd(link), link_name);
	/* Only closes our fd: the pin keeps the link, or, if pinning failed, it goes. */
	bpf_link__destroy(link);
	return rc;
}

/*
 * Brings one program's pin and link up to date after the object was loaded;
 * *how says what it did, for the log.
 */
static int settle_program(struct bpf_program *prog, const struct acre_bpf_site *site,
			  int old_link_fd, bool old_link_in_place, const char **how,
			  struct acre_error *err)
{
	const char *name = bpf_program__name(prog);
	char link_name[128];
	snprintf(link_name, sizeof(link_name), "%s_link", name);
	int rc = pin_replace(site, bpf_program__fd(prog), name);
	if (rc < 0)
		return acre_error_set(err, rc, NULL, "pinning program %s in %s: %s", name,
				      site->dir, strerror(-rc));
	if (is_tc_prog(prog)) {
		*how = "loaded";
		return 0;
	}
	if (old_link_in_place && is_cgroup_prog(prog)) {
		rc = bpf_link_update(old_link_fd, bpf_program__fd(prog), NULL);
		if (rc == 0) {
			*how = "updated";
			return 0;
		}
		acre_log(ACRE_LOG_WARN, "event=bpf_link_update_failed prog=%s error=\"%s\"", name,
			 strerror(-rc));
	}
	rc = attach_new(prog, site, link_name);
	if (rc < 0)
		return acre_error_set(err, rc, NULL, "attaching program %s: %s", name,
				      strerror(-rc));
	*how = old_link_in_place ? "replaced" : "attached";
	return 0;
}

static bool part_knows(const struct acre_bpf_part *part, const char *pin)
{
	struct bpf_map *m;
	for (m = bpf_object__next_map(part->obj, NULL); m; m = bpf_object__next_map(part->obj, m))
		if (strcmp(pin, bpf_map__name(m)) == 0)
			return true;
	struct bpf_program *p;
	for (p = bpf_object__next_program(part->obj, NULL); p;
	     p = bpf_object__next_program(part->obj, p)) {
		char link_name[128];
		snprintf(link_name, sizeof(link_name), "%s_link", bpf_program__name(p));
		if (strcmp(pin, bpf_program__name(p)) == 0 || strcmp(pin, link_name) == 0)
			return true;
	}
	return false;
}

struct strays {
	const struct acre_bpf_part *part;
	const struct acre_bpf_site *site;
	char prefix[64];
};

static int remove_stray(int dfd, const char *entry, unsigned char type, void *ud)
{
	struct strays *s = ud;
	if (type == DT_DIR || strncmp(entry, s->prefix, strlen(s->prefix)) != 0 ||
	    part_knows(s->part, entry))
		return 0;
	acre_log(ACRE_LOG_INFO, "event=bpf_stray_pin_removed dir=%s pin=%s", s->site->dir, entry);
	unlinkat(dfd, entry, 0);
	return 0;
}

/* Pins left by an interrupted run or an older build that this build would not name. */
static void remove_strays(const struct acre_bpf_part *part, const struct acre_bpf_site *site)
{
	struct strays s = {.part = part, .site = site};
	snprintf(s.prefix, sizeof(s.prefix), "%s_", part->name);
	(void)acre_dir_foreach(site->dir_fd, ".", remove_stray, &s);
}

#define PART_MAX_PROGS 8

struct prog_state {
	struct bpf_program *prog;
	int link_fd;   /* the pinned link, -1 if none */
	int linked_fd; /* the program that link runs, -1 unless it is ours and in place */
	bool keep;     /* same build, in place: leave it alone, do not even load it */
};

static int set_pin_paths(const struct acre_bpf_part *part, const struct acre_bpf_site *site)
{
	struct bpf_map *m;
	for (m = bpf_object__next_map(part->obj, NULL); m; m = bpf_object__next_map(part->obj, m)) {
		char path[PATH_MAX];
		pin_path(site, bpf_map__name(m), "", path, sizeof(path));
		/* libbpf reuses the pin if present, else creates the map and pins it at load. */
		int rc = bpf_map__set_pin_path(m, path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The fd of prog's pinned program if it is one of that type and name, else -1. */
static int pinned_program(const struct bpf_program *prog, const struct acre_bpf_site *site)
{
	char path[PATH_MAX];
	pin_path(site, bpf_program__name(prog), "", path, sizeof(path));
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.type != bpf_program__type(prog) ||
	    strncmp(info.name, bpf_program__name(prog), sizeof(info.name) - 1) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The id of the map pinned for m, 0 if none. */
static __u32 pinned_map_id(const struct acre_bpf_site *site, const struct bpf_map *m)
{
	char path[PATH_MAX];
	pin_path(site, bpf_map__name(m), "", path, sizeof(path));
	_cleanup_close_ int fd = bpf_obj_get(path);
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.id;
}

/*
 * Does the program use the maps pinned now?  Parts share maps (the vip part uses the connect
 * part's table), so a part's own pins may be kept while a map it reads was made anew under
 * it; the program must then be loaded again.  Maps no pin stands for (.rodata) are ignored.
 */
static bool uses_pinned_maps(int prog_fd, const struct acre_bpf_part *part,
			     const struct acre_bpf_site *site)
{
	__u32 ids[16];
	struct bpf_prog_info info = {.nr_map_ids = ACRE_ARRAY_SIZE(ids),
				     .map_ids = (__u64)(uintptr_t)ids};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0 ||
	    info.nr_map_ids > ACRE_ARRAY_SIZE(ids))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids; i++) {
		_cleanup_close_ int fd = bpf_map_get_fd_by_id(ids[i]);
		struct bpf_map_info mi = {0};
		__u32 mlen = sizeof(mi);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &mlen) < 0)
			return false;
		if (strchr(mi.name, '.'))
			continue;
		bool pinned = false;
		struct bpf_map *m;
		for (m = bpf_object__next_map(part->obj, NULL); m && !pinned;
		     m = bpf_object__next_map(part->obj, m))
			pinned = pinned_map_id(site, m) == ids[i];
		if (!pinned)
			return false;
	}
	return true;
}

/* Looks at a program's pinned link and decides whether this run may keep it untouched. */
static int inspect_program(struct bpf_program *prog, const struct acre_bpf_part *part,
			   const struct acre_bpf_site *site, bool same_build, struct prog_state *st)
{
	char path[PATH_MAX];
	pin_path(site, bpf_program__name(prog), "_link", path, sizeof(path));
	*st = (struct prog_state){.prog = prog, .link_fd = -1, .linked_fd = -1};
	int fd = is_tc_prog(prog) ? -1 : bpf_obj_get(path);
	if (fd >= 0) {
		st->link_fd = fd;
		st->linked_fd = link_matches(fd, prog, site);
	}
	/* No link to look at: the pinned program itself is what may be kept. */
	if (is_tc_prog(prog))
		st->linked_fd = pinned_program(prog, site);
	st->keep = same_build && st->linked_fd >= 0 && uses_pinned_maps(st->linked_fd, part, site);
	return bpf_program__set_autoload(prog, !st->keep);
}

/* After the load: every program pinned, and attached exactly once. */
static int settle_all(const struct prog_state *st, size_t n, const struct acre_bpf_site *site,
		      struct acre_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = bpf_program__name(st[i].prog), *how = "kept";
		int rc;
		if (st[i].keep) {
			/* Attached and running this build: at most its program pin is missing. */
			rc = pin_if_missing(site, st[i].linked_fd, name);
			if (rc < 0)
				return acre_error_set(err, rc, NULL, "pinning program %s in %s: %s",
						      name, site->dir, strerror(-rc));
		} else {
			rc = settle_program(st[i].prog, site, st[i].link_fd, st[i].linked_fd >= 0,
					    &how, err);
			if (rc < 0)
				return rc;
		}
		acre_log(ACRE_LOG_DEBUG, "event=bpf_program dir=%s prog=%s link=%s", site->dir,
			 name, how);
	}
	return 0;
}

int acre_bpf_part_open(const struct acre_bpf_part *part, const struct acre_bpf_site *site,
		       struct acre_error *err)
{
	uint64_t fp = fingerprint(part->elf, part->elf_size);
	remove_strays(part, site);

	struct acre_bpf_meta meta = {0};
	bool had_pins = meta_read(part, site, &meta) == 0;
	bool reuse = had_pins && maps_reusable(part, site, &meta);
	if (!reuse) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s_", part->name);
		if (had_pins)
			acre_log(ACRE_LOG_WARN,
				 "event=bpf_pins_replaced dir=%s part=%s reason=\"layout changed\"",
				 site->dir, part->name);
		acre_bpf_pins_remove(site->dir_fd, prefix);
	}
	bool same_build = reuse && meta.fingerprint == fp;

	int rc = set_pin_paths(part, site);
	if (rc < 0)
		return acre_error_set(err, rc, NULL, "setting the pin paths of %s: %s", part->name,
				      strerror(-rc));

	struct prog_state st[PART_MAX_PROGS];
	size_t n = 0;
	struct bpf_program *prog;
	for (prog = bpf_object__next_program(part->obj, NULL); prog;
	     prog = bpf_object__next_program(part->obj, prog)) {
		if (n == PART_MAX_PROGS) {
			rc = acre_error_set(err, E2BIG, NULL, "%s has too many programs",
					    part->name);
			goto out;
		}
		rc = inspect_program(prog, part, site, same_build, &st[n++]);
		if (rc < 0) {
			acre_error_set(err, rc, NULL, "preparing program %s: %s",
				       bpf_program__name(prog), strerror(-rc));
			goto out;
		}
	}

	rc = bpf_object__load(part->obj);
	if (rc < 0) {
		acre_error_set(err, rc, NULL, "loading the %s eBPF programs: %s", part->name,
			       strerror(-rc));
		goto out;
	}
	if ((rc = settle_all(st, n, site, err)) < 0)
		goto out;
	rc = meta_write(part, fp);
	if (rc < 0)
		acre_error_set(err, rc, NULL, "writing %s_meta: %s", part->name, strerror(-rc));
out:
	for (size_t i = 0; i < n; i++) {
		if (st[i].link_fd >= 0)
			close(st[i].link_fd);
		if (st[i].linked_fd >= 0)
			close(st[i].linked_fd);
	}
	return rc;
}
