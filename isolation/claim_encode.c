/*
 * The claim message, the supervisor's half: everything acre-init needs to
 * build a slice, as one SOCK_SEQPACKET message of NUL-terminated
 * "key=value" entries (command arguments cannot hold a NUL, so none can be
 * confused), with the slice's stdio and exit-record fds attached, and the
 * seccomp program, if any, as a second message.  claim_decode.c is the
 * other half, inside acre-init.
 */
#include "cgroup_internal.h"
#include "launch_internal.h"
#include "proto/proto.h"

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
	return 0;
}
