/*
 * Capabilities of a slice's first process, through libcap.  Run in the
 * launch child: the bounding set is cut while the child still holds
 * CAP_SETPCAP, the identity is switched, and only then are the remaining
 * sets written, with the kept capabilities also raised as ambient so that
 * a task running as a non-root user still has them after exec.
 */
#include "isolation/isolation.h"
#include "isolation/launch_internal.h"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int caps_drop_bounding(uint64_t keep)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP || c < (cap_value_t)cap_max_bits(); c++) {
		if (keep & (1ULL << c))
			continue;
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

int caps_switch_user(const struct acre_user *u)
{
	/* Keep the permitted set across setuid; the sets are written right after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(u->ngroups, u->groups) < 0)
		return -errno;
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return -errno;
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int caps_apply(uint64_t keep)
{
	cap_t caps = cap_init(); /* all sets empty */
	if (!caps)
		return -ENOMEM;
	int rc = 0;
	for (cap_value_t c = 0; c < 64 && rc == 0; c++) {
		if (!(keep & (1ULL << c)))
			continue;
		if (cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_SET) < 0)
			rc = -errno;
	}
	if (rc == 0 && cap_set_proc(caps) < 0)
		rc = -errno;
	cap_free(caps);
	if (rc < 0)
		return rc;
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return -errno;
	for (cap_value_t c = 0; c < 64; c++)
		if ((keep & (1ULL << c)) && cap_set_ambient(c, CAP_SET) < 0)
			return -errno;
	return 0;
}
