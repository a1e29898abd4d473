/*
 * The claim message, the supervisor's half: everything acre-init needs to
 * build a slice, as one SOCK_SEQPACKET message of NUL-terminated
 * "key=value" entries (command arguments cannot hold a NUL, so none can be
 * confused), with the slice's stdio and exit-record fds attached, and the
 * seccomp program, if any, as a second message.  claim_decode.c is the
 * other half, inside acre-init.
 *
 * Secrets go as a memfd, not in the message: up to 32 of 64 KiB each is
 * more than a SOCK_SEQPACKET message holds, and a memfd is memory only, so
 * no value touches the disk on its way to the slice's /run/secrets.
 */
#include "cgroup_internal.h"
#include "launch_internal.h"
#include "proto/proto.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

struct writer {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static void put(struct writer *w, const char *key, const char *value)
{
	size_t n = strlen(key) + 1 + strlen(value) + 1;
	if (w->len + n > w->cap) {
		w->overflow = true;
		return;
	}
	w->len += (size_t)sprintf(w->buf + w->len, "%s=%s", key, value) + 1;
}

static void putu(struct writer *w, const char *key, unsigned long long v)
{
	char num[24];
	snprintf(num, sizeof(num), "%llu", v);
	put(w, key, num);
}

static void encode(struct writer *w, const struct acre_launch_park *p,
		   const struct acre_launch_config *cfg)
{
	const struct acre_slice_spec *spec = cfg->spec;
	struct stat st = {0};
	stat(spec->isolation.rootfs, &st);
	put(w, "name", spec->name);
	putu(w, "ns", spec->isolation.namespaces);
	put(w, "rootfs", spec->isolation.rootfs);
	putu(w, "rootfs_dev", st.st_dev);
	putu(w, "rootfs_ino", st.st_ino);
	putu(w, "readonly", spec->isolation.readonly_root);
	put(w, "cwd", spec->cwd);
	putu(w, "uid", cfg->user->uid);
	putu(w, "gid", cfg->user->gid);
	for (size_t i = 0; i < cfg->user->ngroups; i++)
		putu(w, "group", cfg->user->groups[i]);
	putu(w, "caps", spec->isolation.capabilities);
	putu(w, "hold", cfg->hold);
	if (cfg->resolv_conf)
		put(w, "resolv_conf", cfg->resolv_conf);
	if (cfg->rw_layer)
		put(w, "rw_layer", cfg->rw_layer);
	putu(w, "unprivileged_ports", cfg->unprivileged_ports);
	for (size_t i = 0; spec->command[i]; i++)
		put(w, "arg", spec->command[i]);
	for (size_t i = 0; cfg->envp[i]; i++)
		put(w, "env", cfg->envp[i]);
	for (size_t i = 0; p->hide_paths && p->hide_paths[i]; i++)
		put(w, "hide", p->hide_paths[i]);
	struct cgroup_mount mounts[16];
	bool v2_only;
	size_t n = cgroup_mounts(p->cgroups, mounts, ACRE_ARRAY_SIZE(mounts), &v2_only);
	putu(w, "cgroup_v2_only", v2_only);
	for (size_t i = 0; i < n; i++) {
		char v[sizeof(mounts[i].dir) + sizeof(mounts[i].type) + sizeof(mounts[i].options)];
		snprintf(v, sizeof(v), "%s|%s|%s", mounts[i].dir, mounts[i].type,
			 mounts[i].options);
		put(w, "cgroup", v);
	}
	putu(w, "seccomp", cfg->seccomp != NULL);
	for (size_t i = 0; i < cfg->nvolumes; i++)
		put(w, "volume", cfg->volume_paths[i]);
	if (spec->nsecrets)
		putu(w, "secrets", spec->nsecrets);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The secrets as "NAME\0VALUE\0" pairs in a sealed memfd; values hold no NUL (spec_secrets.c). */
static int secrets_memfd(const struct acre_slice_spec *spec)
{
	_cleanup_close_ int fd = memfd_create("acre-secrets", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < spec->nsecrets; i++) {
		const struct acre_secret *x = &spec->secrets[i];
		if (write_all(fd, x->name, strlen(x->name) + 1) < 0 ||
		    write_all(fd, x->value, strlen(x->value) + 1) < 0)
			return -errno;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int send_secrets(int chan, const struct acre_slice_spec *spec, struct acre_error *err)
{
	_cleanup_close_ int fd = secrets_memfd(spec);
	if (fd < 0)
		return acre_error_set(err, -fd, NULL, "putting the secrets in a memfd: %s",
				      strerror(-fd));
	if (acre_proto_send_fds(chan, "s", 1, &fd, 1, 0) != 1)
		return acre_error_set(err, EIO, NULL, "handing the secrets to acre-init");
	return 0;
}

int launch_message_send(int chan, const struct acre_launch_park *p,
			const struct acre_launch_config *cfg, struct acre_error *err)
{
	struct writer w = {.buf = malloc(LAUNCH_MESSAGE_MAX), .cap = LAUNCH_MESSAGE_MAX};
	if (!w.buf)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	encode(&w, p, cfg);
	if (w.overflow) {
		free(w.buf);
		return acre_error_set(err, EMSGSIZE, NULL, "the spec is too large to hand over");
	}
	const int fds[LAUNCH_MESSAGE_FDS] = {cfg->stdio[0], cfg->stdio[1], cfg->stdio[2],
					     cfg->exit_fd};
	ssize_t sent = acre_proto_send_fds(chan, w.buf, w.len, fds, LAUNCH_MESSAGE_FDS, 0);
	free(w.buf);
	if (sent != (ssize_t)w.len) {
		int e = sent < 0 ? (int)-sent : EIO;
		return acre_error_set(err, e, NULL, "handing the spec to acre-init: %s",
				      strerror(e));
	}
	if (cfg->seccomp) {
		size_t len;
		const void *prog = acre_seccomp_program(cfg->seccomp, &len);
		if (send(chan, prog, len, MSG_NOSIGNAL) != (ssize_t)len)
			return acre_error_set(err, errno, NULL,
					      "handing the seccomp filter to acre-init: %s",
					      strerror(errno));
	}
	/* The volumes' mount trees, in the order of their "volume" entries. */
	if (cfg->nvolumes &&
	    acre_proto_send_fds(chan, "v", 1, cfg->volume_fds, cfg->nvolumes, 0) != 1)
		return acre_error_set(err, EIO, NULL, "handing the volumes to acre-init");
	return cfg->spec->nsecrets ? send_secrets(chan, cfg->spec, err) : 0;
}
