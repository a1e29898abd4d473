/*
 * What acre-init does between a claim and starting the task, in this order:
 * check that its view of the root is the supervisor's, enter its own cgroup
 * namespace, name the host, raise lo (and open ports below 1024), build
 * the root (an overlay over the host root when it is writable) and pivot
 * into it, cut capabilities and switch user, set no_new_privs, put the
 * slice's fds in place, wait if the supervisor asked it to, and load the
 * seccomp filter last, so that nothing above is filtered.
 */
#include "isolation/launch_internal.h"
#include "netns/netns.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int step(int rc, struct acre_error *err, const char *what)
{
	if (rc < 0 && err->code == 0)
		acre_error_set(err, -rc, NULL, "%s: %s", what, strerror(-rc));
	return rc;
}

/* Moves fds to their final numbers without clobbering one another. */
static int place_fds(const int *src, const int *dst, size_t n)
{
	int tmp[8];
	for (size_t i = 0; i < n; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64);
		if (tmp[i] < 0)
			return -errno;
	}
	for (size_t i = 0; i < n; i++) {
		if (dup2(tmp[i], dst[i]) < 0) /* dup2 clears close-on-exec on the target */
			return -errno;
		close(tmp[i]);
	}
	return 0;
}

/*
 * A slot parked a while ago copied the mount table of that moment: a root
 * mounted since then would show up here as the empty directory beneath it.
 */
static int check_root(const struct launch_message *m, struct acre_error *err)
{
	struct stat st;
	if (stat(m->mounts.rootfs, &st) < 0 || (uint64_t)st.st_dev != m->rootfs_dev ||
	    (uint64_t)st.st_ino != m->rootfs_ino)
		return acre_error_set(err, ESTALE, NULL, "the prelaunched view of %s is stale",
				      m->mounts.rootfs);
	return 0;
}

static int identity(struct launch_message *m, struct acre_error *err)
{
	unsigned ns = m->namespaces;
	if ((ns & ACRE_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return step(-errno, err, "creating the cgroup namespace");
	if ((ns & ACRE_NS_UTS) && sethostname(m->name, strlen(m->name)) < 0)
		return step(-errno, err, "setting the hostname");
	if (!(ns & ACRE_NS_NET))
		return 0;
	int rc = step(acre_netns_loopback_up(), err, "bringing up lo");
	/* Only a namespace of the slice's own gets here: never the host's. */
	if (rc == 0 && m->unprivileged_ports)
		rc = step(acre_netns_unprivileged_ports(), err,
			  "opening ports below 1024 (ip_unprivileged_port_start)");
	return rc;
}

static int privileges(struct launch_message *m, struct acre_error *err)
{
	int rc = step(caps_drop_bounding(m->capabilities), err,
		      "dropping the capability bounding set");
	if (rc == 0)
		rc = step(caps_switch_user(&m->user), err, "switching to the slice's user");
	if (rc == 0)
		rc = step(caps_apply(m->capabilities), err, "setting capabilities");
	if (rc == 0 && chdir(m->cwd) < 0)
		rc = acre_error_set(err, errno, "cwd", "cwd %s: %s", m->cwd, strerror(errno));
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = step(-errno, err, "setting no_new_privs");
	return rc;
}

int slice_setup(struct launch_message *m, int chan, struct acre_error *err)
{
	int rc = check_root(m, err);
	if (rc == 0)
		rc = identity(m, err);
	umask(0); /* device nodes get exactly the modes asked for */
	if (rc == 0)
		rc = mount_setup(&m->mounts, err);
	umask(022);
	if (rc == 0)
		rc = privileges(m, err);
	if (rc < 0)
		return rc;
	int src[4] = {m->stdio[0], m->stdio[1], m->stdio[2], m->exit_fd};
	int dst[4] = {0, 1, 2, INIT_EXIT_FD};
	if ((rc = step(place_fds(src, dst, 4), err, "arranging file descriptors")) < 0)
		return rc;
	m->exit_fd = INIT_EXIT_FD;
	if (m->hold) {
		char go;
		if (recv(chan, &go, 1, 0) != 1 || go != 'G')
			return acre_error_set(err, ECANCELED, NULL, "launch cancelled");
	}
	if (m->seccomp) {
		struct sock_fprog prog = {.len = (unsigned short)(m->seccomp_len / 8),
					  .filter = m->seccomp};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			return step(-errno, err, "loading the seccomp filter");
	}
	return 0;
}
