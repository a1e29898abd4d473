/*
 * Who may talk to the supervisor: root, or members of its group — and
 * never a process inside one of its slices.  Root in a slice is uid 0 too,
 * so SO_PEERCRED alone would admit it; a peer whose pid namespace is not
 * ours, or whose cgroup lies under our subtree, is refused.
 */
#include "server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

static bool in_group(pid_t pid, gid_t primary, gid_t want)
{
	if (primary == want)
		return true;
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *groups = strstr(buf, "\nGroups:");
	if (!groups)
		return false;
	for (char *p = groups + 8; *p && *p != '\n';) {
		char *end;
		unsigned long g = strtoul(p, &end, 10);
		if (end == p)
			break;
		if ((gid_t)g == want)
			return true;
		p = end;
	}
	return false;
}

/* True when any of the peer's cgroups is inside the supervisor's subtree. */
static bool in_our_cgroups(pid_t pid, const char *root)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return true; /* cannot tell: refuse */
	buf[n] = '\0';
	char prefix[300];
	int plen = snprintf(prefix, sizeof(prefix), "/%s/", root);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = strchr(line, ':');
		p = p ? strchr(p + 1, ':') : NULL;
		if (p && strncmp(p + 1, prefix, (size_t)plen) == 0)
			return true;
	}
	return false;
}

int peer_authorize(struct supervisor *sv, int fd, pid_t *pid, uid_t *uid, struct acre_error *err)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	*pid = 0;
	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return acre_error_set(err, errno, NULL, "reading peer credentials: %s",
				      strerror(errno));
	*pid = cred.pid;
	*uid = cred.uid;
	if (cred.uid != 0 && !(sv->have_group && in_group(cred.pid, cred.gid, sv->group_gid)))
		return acre_error_set(err, EACCES, NULL,
				      "permission denied: uid %d is neither root nor in group %s",
				      (int)cred.uid, sv->opt.group);
	/* pid 0: the peer lives in a pid namespace we cannot see into. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)cred.pid);
	struct stat st;
	if (cred.pid <= 0 || stat(path, &st) < 0 || st.st_ino != sv->pid_ns)
		return acre_error_set(err, EACCES, NULL,
				      "permission denied: the client is in another pid namespace");
	if (in_our_cgroups(cred.pid, sv->opt.cgroup_root))
		return acre_error_set(err, EACCES, NULL,
				      "permission denied: the client runs inside a slice");
	return 0;
}
