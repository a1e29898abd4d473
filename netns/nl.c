/*
 * Route-netlink handles bound to a network namespace, and what every netlink
 * file of netns/ needs from them: the kernel's errno for messages, link
 * lookups, bringing a link up, deleting it.
 *
 * A netlink socket belongs to the namespace it was created in for its whole
 * life (net/netlink/af_netlink.c), so reaching a slice's namespace takes one
 * socket() made there: a short-lived thread enters the namespace with
 * setns(2), which changes that thread alone, connects, and ends.  The
 * caller's threads never leave their namespace, so nothing can strand the
 * supervisor in a slice's.
 */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>

/* ---- errors --------------------------------------------------------------- */

/* Records the kernel's errno; libnl then returns its own folded code as before. */
static int on_error(struct sockaddr_nl *from, struct nlmsgerr *e, void *arg)
{
	(void)from;
	struct acre_netns *nn = arg;
	nn->kernel_errno = e->error < 0 ? -e->error : e->error;
	return NL_STOP;
}

static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
		return EINVAL;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_PERM:
		return EPERM;
	case NLE_BUSY:
		return EBUSY;
	case NLE_NODEV:
		return ENODEV;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	default:
		return EPROTO;
	}
}

int nn_errno(struct acre_netns *nn, int nl_ret)
{
	int e = nn->kernel_errno;
	nn->kernel_errno = 0;
	if (nl_ret >= 0)
		return 0;
	return e ? e : nle_to_errno(nl_ret);
}

const char *nn_strerror(struct acre_netns *nn, int nl_ret, int *code)
{
	int e = nn_errno(nn, nl_ret);
	*code = e;
	if (e == EPROTO)
		return nl_geterror(nl_ret); /* libnl's own failure: its words say more */
	return strerror(e);
}

/* ---- handles -------------------------------------------------------------- */

static int handle_new(struct nl_sock *sk, struct acre_netns **out)
{
	struct acre_netns *nn = calloc(1, sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	nn->sk = sk;
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, nn);
	*out = nn;
	return 0;
}

static int connect_here(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	int r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return -nle_to_errno(r);
	}
	*out = sk;
	return 0;
}

int acre_netns_open(struct acre_netns **out, struct acre_error *err)
{
	struct nl_sock *sk;
	int r = connect_here(&sk);
	if (r < 0)
		return acre_error_set(err, r, NULL, "opening a route netlink socket: %s",
				      strerror(-r));
	r = handle_new(sk, out);
	if (r < 0) {
		nl_socket_free(sk);
		return acre_error_set(err, r, NULL, "opening a route netlink socket: %s",
				      strerror(-r));
	}
	return 0;
}

struct enter {
	int netns_fd;
	struct nl_sock *sk;
	int rc;
	const char *step;
};

static void *enter_and_connect(void *arg)
{
	struct enter *e = arg;
	if (setns(e->netns_fd, CLONE_NEWNET) < 0) {
		e->rc = -errno;
		e->step = "entering the network namespace";
		return NULL;
	}
	e->rc = connect_here(&e->sk);
	e->step = "opening a route netlink socket in the network namespace";
	return NULL;
}

int acre_netns_open_fd(struct acre_netns **out, int netns_fd, struct acre_error *err)
{
	struct enter e = {.netns_fd = netns_fd};
	pthread_attr_t attr;
	pthread_t t;
	int r = pthread_attr_init(&attr);
	if (r == 0) {
		/* It makes two syscalls and a socket: no need for the default 8 MiB stack. */
		pthread_attr_setstacksize(&attr, 64 * 1024);
		r = pthread_create(&t, &attr, enter_and_connect, &e);
		pthread_attr_destroy(&attr);
	}
	if (r != 0)
		return acre_error_set(err, r, NULL,
				      "starting a thread to enter a network namespace: "
				      "%s",
				      strerror(r));
	pthread_join(t, NULL);
	if (e.rc < 0)
		return acre_error_set(err, e.rc, NULL, "%s: %s", e.step, strerror(-e.rc));
	r = handle_new(e.sk, out);
	if (r < 0) {
		nl_socket_free(e.sk);
		return acre_error_set(err, r, NULL, "opening a route netlink socket: %s",
				      strerror(-r));
	}
	return 0;
}

int acre_netns_open_pid(struct acre_netns **out, pid_t pid, struct acre_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return acre_error_set(err, errno, NULL, "opening %s: %s", path, strerror(errno));
	int r = acre_netns_open_fd(out, fd, err);
	if (r < 0)
		return acre_error_prefix(err, "pid %d", (int)pid);
	return 0;
}

void acre_netns_close(struct acre_netns *nn)
{
	if (!nn)
		return;
	nl_socket_free(nn->sk); /* closes the socket */
	free(nn);
}

/* ---- links ---------------------------------------------------------------- */

struct nl_addr *nn_addr4(uint32_t addr, uint8_t prefix)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));
	if (a)
		nl_addr_set_prefixlen(a, prefix);
	return a;
}

int nn_link_get(struct acre_netns *nn, const char *ifname, struct rtnl_link **out)
{
	int r = rtnl_link_get_kernel(nn->sk, 0, ifname, out);
	if (r < 0) {
		int e = nn_errno(nn, r);
		return -(e == ENOENT ? ENODEV : e);
	}
	return 0;
}

int nn_ifindex(struct acre_netns *nn, const char *ifname, int *ifindex, struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = nn_link_get(nn, ifname, &link);
	if (r < 0)
		return acre_error_set(err, r, NULL, "looking up %s: %s", ifname, strerror(-r));
	*ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

bool nn_bridge_is_ours(struct rtnl_link *link, const struct acre_netns_bridge *br)
{
	const char *type = rtnl_link_get_type(link);
	const char *alias = rtnl_link_get_ifalias(link);
	return type && !strcmp(type, "bridge") && alias && !strcmp(alias, br->mark);
}

int nn_link_up_index(struct acre_netns *nn, int ifindex, const char *what, struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	if (!orig || !change)
		return acre_error_set(err, ENOMEM, NULL, "bringing up %s: out of memory", what);
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_flags(change, IFF_UP);
	int r = rtnl_link_change(nn->sk, orig, change, 0);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL, "bringing up %s: %s", what, why);
	}
	return 0;
}

int acre_netns_link_up(struct acre_netns *nn, const char *ifname, struct acre_error *err)
{
	int ifindex;
	int r = nn_ifindex(nn, ifname, &ifindex, err);
	if (r < 0)
		return acre_error_prefix(err, "bringing up %s", ifname);
	return nn_link_up_index(nn, ifindex, ifname, err);
}

int acre_netns_link_delete(struct acre_netns *nn, const char *ifname, struct acre_error *err)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	if (!link)
		return acre_error_set(err, ENOMEM, NULL, "deleting %s: out of memory", ifname);
	/* By name: RTM_DELLINK looks it up itself, one round trip. */
	rtnl_link_set_name(link, ifname);
	int r = rtnl_link_delete(nn->sk, link);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		if (code == ENODEV || code == ENOENT)
			return 0;
		return acre_error_set(err, code, NULL, "deleting %s: %s", ifname, why);
	}
	return 0;
}
