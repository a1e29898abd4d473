/*
 * Resolving the slice's --user in the slice's own /etc/passwd and
 * /etc/group, read through openat2(RESOLVE_IN_ROOT) so that a symlink in a
 * foreign rootfs cannot point the supervisor at the host's files.
 */
#include "isolation.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/syscall.h>

static FILE *open_in_root(const char *rootfs, const char *path)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return NULL;
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static bool parse_id(const char *s, unsigned *out)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	unsigned long v = strtoul(s, NULL, 10);
	if (v > 0xfffffffeUL)
		return false;
	*out = (unsigned)v;
	return true;
}

static int find_passwd(const char *rootfs, const char *name, bool by_id, uid_t uid,
		       struct acre_user *u)
{
	_cleanup_fclose_ FILE *f = open_in_root(rootfs, "etc/passwd");
	if (!f)
		return -ENOENT;
	struct passwd *pw;
	while ((pw = fgetpwent(f))) {
		if (by_id ? pw->pw_uid == uid : strcmp(pw->pw_name, name) == 0) {
			u->uid = pw->pw_uid;
			u->gid = pw->pw_gid;
			snprintf(u->home, sizeof(u->home), "%s",
				 pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
			return 0;
		}
	}
	return -ENOENT;
}

/* The user's name, for supplementary groups: from passwd, when it is there. */
static void supplementary_groups(const char *rootfs, const char *user_name, struct acre_user *u)
{
	u->ngroups = 0;
	u->groups[u->ngroups++] = u->gid;
	if (!user_name)
		return;
	_cleanup_fclose_ FILE *f = open_in_root(rootfs, "etc/group");
	if (!f)
		return;
	struct group *gr;
	while ((gr = fgetgrent(f)) && u->ngroups < ACRE_ARRAY_SIZE(u->groups)) {
		if (gr->gr_gid == u->gid)
			continue;
		for (char **m = gr->gr_mem; m && *m; m++)
			if (strcmp(*m, user_name) == 0)
				u->groups[u->ngroups++] = gr->gr_gid;
	}
}

static int find_group(const char *rootfs, const char *name, gid_t *gid)
{
	unsigned id;
	if (parse_id(name, &id)) {
		*gid = id;
		return 0;
	}
	_cleanup_fclose_ FILE *f = open_in_root(rootfs, "etc/group");
	struct group *gr;
	while (f && (gr = fgetgrent(f))) {
		if (strcmp(gr->gr_name, name) == 0) {
			*gid = gr->gr_gid;
			return 0;
		}
	}
	return -ENOENT;
}

int acre_user_resolve(const char *rootfs, const char *spec_user, struct acre_user *out,
		      struct acre_error *err)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->home, sizeof(out->home), "/root");
	if (!spec_user) {
		out->groups[0] = 0;
		out->ngroups = 1;
		return 0;
	}
	char user[128], *group = NULL;
	snprintf(user, sizeof(user), "%s", spec_user);
	char *colon = strchr(user, ':');
	if (colon) {
		*colon = '\0';
		group = colon + 1;
	}
	unsigned id;
	bool numeric = parse_id(user, &id);
	const char *name_for_groups = numeric ? NULL : user;
	if (numeric) {
		/* A bare uid need not exist in passwd; gid defaults to the uid's group or uid. */
		if (find_passwd(rootfs, NULL, true, id, out) < 0) {
			out->uid = id;
			out->gid = id;
			snprintf(out->home, sizeof(out->home), "/");
		}
	} else if (find_passwd(rootfs, user, false, 0, out) < 0) {
		return acre_error_set(err, ENOENT, "user", "user %s: no such user in %s/etc/passwd",
				      spec_user, strcmp(rootfs, "/") ? rootfs : "");
	}
	if (group && find_group(rootfs, group, &out->gid) < 0)
		return acre_error_set(err, ENOENT, "user",
				      "user %s: no such group %s in %s/etc/group", spec_user, group,
				      strcmp(rootfs, "/") ? rootfs : "");
	supplementary_groups(rootfs, name_for_groups, out);
	return 0;
}
