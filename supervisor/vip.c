/*
 * net.vips applied to the kernel's VIP table (vip.h).  The table in the kernel is what
 * connections use; sv->vips (group name -> struct vip_record) is what the controller said,
 * kept to know which table entries a group owns when it changes or goes, and for `slice
 * show`.  After a kill -9 the kernel's table survives in its pins but the names do not: the
 * first message after registering is full, and whatever the table holds beyond it goes then.
 */
#include "vip.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/vfs.h>

static void record_free(struct vip_record *r)
{
	if (r) {
		free(r->ports);
		free(r);
	}
}

/* A copy of r for the table (the message's records are freed with it). */
static struct vip_record *record_dup(const struct vip_record *r)
{
	struct vip_record *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *r;
	c->ports = calloc(r->nports + 1, sizeof(*c->ports));
	if (!c->ports) {
		free(c);
		return NULL;
	}
	memcpy(c->ports, r->ports, r->nports * sizeof(*c->ports));
	return c;
}

static struct acre_bpf_vip key_of(const struct vip_record *r, const struct vip_port *p)
{
	return (struct acre_bpf_vip){.addr = r->vip, .port = p->port, .proto = p->proto};
}

static bool record_has(const struct vip_record *r, const struct acre_bpf_vip *k)
{
	if (!r || r->vip != k->addr)
		return false;
	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i].port == k->port && r->ports[i].proto == k->proto)
			return true;
	return false;
}

struct claim {
	const struct acre_bpf_vip *key;
	bool found;
};

static void claim_cb(const char *name, void *value, void *ud)
{
	(void)name;
	struct claim *c = ud;
	c->found |= record_has(value, c->key);
}

/* Does any group in the table still want this entry? */
static bool wanted(struct supervisor *sv, const struct acre_bpf_vip *k)
{
	struct claim c = {.key = k};
	acre_map_foreach(sv->vips, claim_cb, &c);
	return c.found;
}

static void log_vip(const char *event, const char *name, const struct acre_bpf_vip *k, size_t n)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &k->addr, a, sizeof(a));
	acre_log(ACRE_LOG_INFO, "event=%s name=%s vip=%s port=%u/%s members=%zu", event, name, a,
		 ntohs(k->port), k->proto == IPPROTO_UDP ? "udp" : "tcp", n);
}

/* Entries of old (a group's former record) that nobody wants any more leave the kernel. */
static void drop_unwanted(struct supervisor *sv, const struct vip_record *old)
{
	for (size_t i = 0; old && i < old->nports; i++) {
		struct acre_bpf_vip k = key_of(old, &old->ports[i]);
		if (wanted(sv, &k))
			continue;
		int rc = acre_bpf_vip_delete(sv->bpf, &k);
		if (rc < 0)
			acre_log(ACRE_LOG_WARN, "event=vip_delete_failed name=%s error=\"%s\"",
				 old->name, strerror(-rc));
		else
			log_vip("vip_removed", old->name, &k, 0);
	}
}

/* One group's ports into the kernel; the first error is kept, the other ports still go. */
static int publish(struct supervisor *sv, const struct vip_record *r, struct acre_error *err)
{
	int first = 0;
	for (size_t i = 0; i < r->nports; i++) {
		const struct vip_port *p = &r->ports[i];
		struct acre_bpf_vip k = key_of(r, p);
		int rc = acre_bpf_vip_set(sv->bpf, &k, p->members, p->n);
		if (rc == 0)
			log_vip("vip_set", r->name, &k, p->n);
		if (rc < 0 && !first) {
			first = rc;
			acre_error_set(
				err, -rc, "set", "VIP %s port %u: %s", r->name, ntohs(p->port),
				rc == -ENOSPC ? "this node's VIP table is full" : strerror(-rc));
		}
	}
	return first;
}

static int set_record(struct supervisor *sv, const struct vip_record *r, struct acre_error *err)
{
	struct vip_record *copy = record_dup(r);
	if (!copy)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	struct vip_record *old = acre_map_remove(sv->vips, r->name);
	if (acre_map_put(sv->vips, copy->name, copy) < 0) {
		record_free(copy);
		copy = NULL;
	}
	/* New members first, then what the old record had and the new one lacks goes. */
	int rc = copy ? publish(sv, copy, err) : acre_error_set(err, ENOMEM, NULL, "out of memory");
	drop_unwanted(sv, old);
	record_free(old);
	return rc;
}

static void drop_record(struct supervisor *sv, const char *name)
{
	struct vip_record *old = acre_map_remove(sv->vips, name);
	drop_unwanted(sv, old);
	record_free(old);
}

static bool in_set(const struct vip_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nset; i++)
		if (!strcmp(m->set[i].name, name))
			return true;
	return false;
}

/* Entries in the kernel no group wants: left by an earlier run, found at a full message. */
static void sweep_cb(const struct acre_bpf_vip *vip, const struct acre_bpf_vip_member *members,
		     size_t n, void *ud)
{
	(void)members;
	(void)n;
	struct supervisor *sv = ud;
	if (!wanted(sv, vip) && acre_bpf_vip_delete(sv->bpf, vip) == 0)
		log_vip("vip_removed", "-", vip, 0);
}

static bool wants_programs(const struct vip_msg *m)
{
	for (size_t i = 0; i < m->nset; i++)
		if (m->set[i].nports)
			return true;
	return false;
}

/* --vip-cgroup, or the root of the v2 tree the supervisor's subtree is in. */
static int vip_cgroup(struct supervisor *sv, char *buf, size_t len)
{
	if (sv->opt.vip_cgroup) {
		snprintf(buf, len, "%s", sv->opt.vip_cgroup);
		return 0;
	}
	const char *sub = acre_cgroup_system_v2_path(sv->cgroups);
	size_t n = sub ? strlen(sub) : 0, r = strlen(sv->opt.cgroup_root);
	if (n <= r + 1 || strcmp(sub + n - r, sv->opt.cgroup_root) || sub[n - r - 1] != '/')
		return -ENOENT;
	snprintf(buf, len, "%.*s", (int)(n - r - 1), sub);
	return 0;
}

static int attach(struct supervisor *sv, struct acre_error *err)
{
	char path[PATH_MAX];
	if (vip_cgroup(sv, path, sizeof(path)) < 0)
		return acre_error_set(err, ENOENT, NULL, "VIPs: no cgroup v2 root found");
	int rc = acre_bpf_vip_attach(sv->bpf, path, err);
	if (rc < 0)
		acre_error_prefix(err, "VIPs at %s", path);
	return rc;
}

static int apply_msg(struct supervisor *sv, const struct vip_msg *m, struct acre_error *err)
{
	int first = 0;
	if (m->full) {
		_cleanup_free_ const char **names = acre_map_sorted_keys(sv->vips);
		for (size_t i = 0; names && names[i]; i++)
			if (!in_set(m, names[i]))
				drop_record(sv, names[i]);
	}
	for (size_t i = 0; i < m->ngone; i++)
		drop_record(sv, m->gone[i]);
	for (size_t i = 0; i < m->nset; i++) {
		struct acre_error e = {0};
		int rc = set_record(sv, &m->set[i], &e);
		if (rc < 0 && !first) {
			first = rc;
			*err = e;
		}
	}
	if (m->full)
		acre_bpf_vip_foreach(sv->bpf, sweep_cb, sv);
	return first;
}

int vip_apply(struct supervisor *sv, json_t *msg, struct acre_error *err)
{
	struct vip_msg m;
	int rc = vip_msg_parse(msg, &m, err);
	if (rc < 0)
		return rc;
	if (!sv->bpf) {
		bool nothing = !wants_programs(&m);
		vip_msg_free(&m);
		if (nothing)
			return 0;
		return acre_error_set(err, EOPNOTSUPP, NULL,
				      "VIPs need this node's eBPF programs, which are off: %s",
				      sv->accounting_off);
	}
	if (!sv->vips && !(sv->vips = acre_map_new()))
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	/* The node's own processes get VIPs once there are some; a node with none has no program.
	 */
	if (rc == 0 && wants_programs(&m))
		rc = attach(sv, err);
	if (rc == 0)
		rc = apply_msg(sv, &m, err);
	vip_msg_free(&m);
	return rc;
}

/* --vip-cgroup must be a directory of the cgroup v2 tree: said at start, not at the first VIP. */
int vip_check_cgroup(const char *path, struct acre_error *err)
{
	struct statfs sfs;
	struct stat st;
	if (statfs(path, &sfs) < 0 || stat(path, &st) < 0)
		return acre_error_set(err, errno, "--vip-cgroup", "--vip-cgroup %s: %s", path,
				      strerror(errno));
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
		return acre_error_set(err, EINVAL, "--vip-cgroup",
				      "--vip-cgroup %s: not a directory of the cgroup v2 tree",
				      path);
	return 0;
}

void vip_init(struct supervisor *sv)
{
	if (!sv->bpf || !acre_bpf_vip_pinned(sv->bpf))
		return;
	struct acre_error err = {0};
	if (attach(sv, &err) < 0)
		acre_log(ACRE_LOG_WARN, "event=vip_programs_not_adopted error=\"%s\"", err.message);
}

static void free_cb(const char *name, void *value, void *ud)
{
	(void)name;
	(void)ud;
	record_free(value);
}

void vip_free(struct supervisor *sv)
{
	if (sv->bpf && acre_bpf_vip_pinned(sv->bpf)) {
		int rc = acre_bpf_vip_detach(sv->bpf);
		if (rc < 0)
			acre_log(ACRE_LOG_WARN, "event=vip_detach_failed error=\"%s\"",
				 strerror(-rc));
		else
			acre_log(ACRE_LOG_INFO, "event=vip_programs_detached");
	}
	if (sv->vips) {
		acre_map_foreach(sv->vips, free_cb, NULL);
		acre_map_free(sv->vips);
		sv->vips = NULL;
	}
}

/* "80/tcp,53/udp": the ports the node has for the VIP, as acre.vip.ports writes them. */
static void ports_text(const struct vip_record *r, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->nports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u/%s", i ? "," : "",
				      ntohs(r->ports[i].port),
				      r->ports[i].proto == IPPROTO_UDP ? "udp" : "tcp");
}

/*
 * The shape of the pool's view of a member (controller/README.md): [{"vip", "group",
 * "ports"}], ports as the slice's acre.vip.ports says them, else as the node has them.
 */
json_t *vip_view(struct supervisor *sv, const struct acre_slice_spec *spec)
{
	const char *group = json_string_value(json_object_get(spec->labels, ACRE_LABEL_SERVICE));
	if (!group || !sv->vips)
		return NULL;
	char lower[ACRE_NAME_MAX + 1];
	size_t n = strlen(group);
	if (n > ACRE_NAME_MAX)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)group[i]);
	const struct vip_record *r = acre_map_get(sv->vips, lower);
	if (!r)
		return NULL;
	char a[INET_ADDRSTRLEN], ports[VIP_PORTS_MAX * 12];
	inet_ntop(AF_INET, &r->vip, a, sizeof(a));
	const char *label = json_string_value(json_object_get(spec->labels, ACRE_LABEL_VIP_PORTS));
	ports_text(r, ports, sizeof(ports));
	return json_pack("[{s:s,s:s,s:s}]", "vip", a, "group", group, "ports",
			 label ? label : ports);
}
