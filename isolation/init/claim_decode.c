/*
 * The claim message, acre-init's half (claim_encode.c writes it).  Decoded
 * without a JSON library and pointing into one static buffer: acre-init is
 * linked statically, and every page it touches is a page fault on the
 * launch path.
 */
#include "isolation/launch_internal.h"
#include "proto/proto.h"

#include <linux/filter.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int push(char ***v, size_t *n, char *s)
{
	char **grown = realloc(*v, (*n + 2) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = s;
	grown[*n] = NULL;
	*v = grown;
	return 0;
}

static int parse_cgroup(char *v, struct mount_plan *plan)
{
	if (plan->ncgroups == ACRE_ARRAY_SIZE(plan->cgroups))
		return -E2BIG;
	char *type = strchr(v, '|');
	char *opts = type ? strchr(type + 1, '|') : NULL;
	if (!opts)
		return -EPROTO;
	*type++ = '\0';
	*opts++ = '\0';
	struct cgroup_mount *m = &plan->cgroups[plan->ncgroups++];
	snprintf(m->dir, sizeof(m->dir), "%s", v);
	snprintf(m->type, sizeof(m->type), "%s", type);
	snprintf(m->options, sizeof(m->options), "%s", opts);
	return 0;
}

/* One entry; the message's strings stay where they are and are pointed into. */
static int apply_entry(struct launch_message *m, char *key, char *v, size_t *nargs, size_t *nenv,
		       size_t *nhide)
{
	if (!strcmp(key, "name"))
		snprintf(m->name, sizeof(m->name), "%s", v);
	else if (!strcmp(key, "ns"))
		m->namespaces = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(key, "rootfs"))
		m->mounts.rootfs = v;
	else if (!strcmp(key, "rootfs_dev"))
		m->rootfs_dev = strtoull(v, NULL, 10);
	else if (!strcmp(key, "rootfs_ino"))
		m->rootfs_ino = strtoull(v, NULL, 10);
	else if (!strcmp(key, "readonly"))
		m->mounts.readonly = *v == '1';
	else if (!strcmp(key, "cwd"))
		m->cwd = v;
	else if (!strcmp(key, "uid"))
		m->user.uid = (uid_t)strtoul(v, NULL, 10);
	else if (!strcmp(key, "gid"))
		m->user.gid = (gid_t)strtoul(v, NULL, 10);
	else if (!strcmp(key, "group") && m->user.ngroups < ACRE_ARRAY_SIZE(m->user.groups))
		m->user.groups[m->user.ngroups++] = (gid_t)strtoul(v, NULL, 10);
	else if (!strcmp(key, "caps"))
		m->capabilities = strtoull(v, NULL, 10);
	else if (!strcmp(key, "hold"))
		m->hold = *v == '1';
	else if (!strcmp(key, "resolv_conf"))
		m->mounts.resolv_conf = v;
	else if (!strcmp(key, "rw_layer"))
		m->mounts.rw_layer = v;
	else if (!strcmp(key, "unprivileged_ports"))
		m->unprivileged_ports = *v == '1';
	else if (!strcmp(key, "arg"))
		return push(&m->argv, nargs, v);
	else if (!strcmp(key, "env"))
		return push(&m->envp, nenv, v);
	else if (!strcmp(key, "hide") && *nhide < ACRE_ARRAY_SIZE(m->mounts.hide_paths) - 1)
		m->mounts.hide_paths[(*nhide)++] = v;
	else if (!strcmp(key, "cgroup_v2_only"))
		m->mounts.cgroup_v2_only = *v == '1';
	else if (!strcmp(key, "cgroup"))
		return parse_cgroup(v, &m->mounts);
	else if (!strcmp(key, "seccomp"))
		m->seccomp_len = *v == '1';
	else if (!strcmp(key, "volume")) {
		if (m->mounts.nvolumes == ACRE_ARRAY_SIZE(m->mounts.volume_paths))
			return -E2BIG;
		m->mounts.volume_fds[m->mounts.nvolumes] = -1;
		m->mounts.volume_paths[m->mounts.nvolumes++] = v;
	} else if (!strcmp(key, "secrets")) {
		m->mounts.nsecrets = strtoul(v, NULL, 10);
		if (m->mounts.nsecrets > ACRE_SECRETS_MAX)
			return -E2BIG;
	}
	return 0;
}

static int receive_seccomp(int chan, struct launch_message *m)
{
	m->seccomp = malloc(BPF_MAXINSNS * 8);
	if (!m->seccomp)
		return -ENOMEM;
	ssize_t n = recv(chan, m->seccomp, BPF_MAXINSNS * 8, 0);
	if (n <= 0 || n % 8)
		return -EPROTO;
	m->seccomp_len = (size_t)n;
	return 0;
}

/* One message whose fds are the volumes' mount trees, as many as "volume" entries. */
static int receive_volumes(int chan, struct launch_message *m, struct acre_error *err)
{
	struct mount_plan *p = &m->mounts;
	int fds[ACRE_VOLUMES_MAX + 1];
	size_t nfds = 0;
	char byte;
	ssize_t n = acre_proto_recv_fds(chan, &byte, 1, fds, ACRE_ARRAY_SIZE(fds), &nfds, 0);
	if (n != 1 || nfds != p->nvolumes) {
		for (size_t i = 0; n > 0 && i < nfds; i++)
			close(fds[i]);
		return acre_error_set(err, EPROTO, NULL, "the volumes came with %zu fds, not %zu",
				      nfds, p->nvolumes);
	}
	for (size_t i = 0; i < nfds; i++)
		p->volume_fds[i] = fds[i];
	return 0;
}

/* Every pair a NAME (one path component) and a value, as many as the claim said. */
static bool secrets_well_formed(const char *buf, size_t len, size_t want)
{
	size_t strings = 0;
	const char *end = buf + len;
	for (const char *s = buf; s < end; strings++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		if (!nul)
			return false;
		if (strings % 2 == 0 &&
		    (s == nul || *s == '.' || memchr(s, '/', (size_t)(nul - s)) ||
		     nul - s > ACRE_SECRET_NAME_MAX))
			return false;
		s = nul + 1;
	}
	return strings == 2 * want;
}

/* One message whose fd is a memfd of the secrets, read whole into memory. */
static int receive_secrets(int chan, struct mount_plan *p, struct acre_error *err)
{
	int fds[2];
	size_t nfds = 0;
	char byte;
	ssize_t n = acre_proto_recv_fds(chan, &byte, 1, fds, ACRE_ARRAY_SIZE(fds), &nfds, 0);
	if (n != 1 || nfds != 1) {
		for (size_t i = 0; n > 0 && i < nfds; i++)
			close(fds[i]);
		return acre_error_set(err, EPROTO, NULL, "the secrets came with %zu fds, not 1",
				      nfds);
	}
	_cleanup_close_ int fd = fds[0];
	struct stat st;
	size_t max = ACRE_SECRETS_MAX * (ACRE_SECRET_NAME_MAX + ACRE_SECRET_VALUE_MAX + 2);
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > max)
		return acre_error_set(err, EPROTO, NULL, "the secrets' memfd has a bad size");
	p->secrets_len = (size_t)st.st_size;
	if (!(p->secrets = malloc(p->secrets_len)))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (pread(fd, p->secrets, p->secrets_len, 0) != (ssize_t)p->secrets_len ||
	    !secrets_well_formed(p->secrets, p->secrets_len, p->nsecrets))
		return acre_error_set(err, EPROTO, NULL, "malformed secrets");
	return 0;
}

int launch_message_decode(char *buf, size_t n, struct launch_message *m, struct acre_error *err)
{
	size_t nargs = 0, nenv = 0, nhide = 0;
	for (char *e = buf; e < buf + n;) {
		char *next = e + strlen(e) + 1;
		char *eq = strchr(e, '=');
		if (!eq)
			return acre_error_set(err, EPROTO, NULL, "malformed spec entry");
		*eq = '\0';
		int rc = apply_entry(m, e, eq + 1, &nargs, &nenv, &nhide);
		if (rc < 0)
			return acre_error_set(err, -rc, NULL, "spec entry %s: %s", e,
					      strerror(-rc));
		e = next;
	}
	if (!m->argv || !m->mounts.rootfs || !m->cwd)
		return acre_error_set(err, EPROTO, NULL, "incomplete spec");
	if (!m->envp && push(&m->envp, &nenv, "PATH=/usr/bin:/bin") < 0)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	m->mounts.secrets_uid = m->user.uid;
	m->mounts.secrets_gid = m->user.gid;
	return 0;
}

int launch_message_receive(int chan, struct launch_message *m, struct acre_error *err)
{
	static char buf[LAUNCH_MESSAGE_MAX];
	int fds[LAUNCH_MESSAGE_FDS + 1]; /* room for one too many, to tell */
	size_t nfds;
	memset(m, 0, sizeof(*m));
	ssize_t n = acre_proto_recv_fds(chan, buf, sizeof(buf) - 1, fds, ACRE_ARRAY_SIZE(fds),
					&nfds, 0);
	if (n == 0)
		return acre_error_set(err, ECANCELED, NULL, "the supervisor let the slot go");
	if (n < 0)
		return acre_error_set(err, (int)-n, NULL, "receiving the spec: %s",
				      strerror((int)-n));
	if (nfds != LAUNCH_MESSAGE_FDS) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return acre_error_set(err, EPROTO, NULL,
				      "the spec came with %zu fds, not its %d (stdio, exit record)",
				      nfds, LAUNCH_MESSAGE_FDS);
	}
	m->stdio[0] = fds[0];
	m->stdio[1] = fds[1];
	m->stdio[2] = fds[2];
	m->exit_fd = fds[3];
	buf[n] = '\0';
	int rc = launch_message_decode(buf, (size_t)n, m, err);
	if (rc < 0)
		return rc;
	if (m->seccomp_len && receive_seccomp(chan, m) < 0)
		return acre_error_set(err, EPROTO, NULL, "malformed seccomp filter");
	if (m->mounts.nvolumes && (rc = receive_volumes(chan, m, err)) < 0)
		return rc;
	return m->mounts.nsecrets ? receive_secrets(chan, &m->mounts, err) : 0;
}
