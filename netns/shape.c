/*
 * Rate limits: a tbf qdisc at the root of an interface shapes what it
 * sends.  On a slice's host veth that is the traffic towards the slice
 * (its ingress); on its eth0, inside the slice, the traffic from it (its
 * egress).  Shaping, not policing: the slice's own TCP sees the queue
 * through TCP small queues and backs off instead of losing packets, and
 * this needs no act_police, which kernels may lack.
 *
 * Bucket: 10 ms at the rate, at least 16 KiB (tc-tbf(8) wants at least
 * rate/HZ, and more than one MTU); GSO packets larger than the bucket are
 * segmented by tbf itself.  Queue: 50 ms of data beyond the bucket.
 */
#include "nl_internal.h"

#include <linux/pkt_sched.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#define TBF_BUCKET_MIN (16 * 1024)
#define TBF_LATENCY_US 50000

static void qdisc_putp(struct rtnl_qdisc **q)
{
	if (*q)
		rtnl_qdisc_put(*q);
}

static struct rtnl_qdisc *root_qdisc(int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(1, 0));
	return q;
}

static int rate_clear(struct acre_netns *nn, int ifindex, const char *what, struct acre_error *err)
{
	_cleanup_(qdisc_putp) struct rtnl_qdisc *q = root_qdisc(ifindex);
	if (!q)
		return acre_error_set(err, ENOMEM, NULL, "removing the rate of %s: out of memory",
				      what);
	int r = rtnl_qdisc_delete(nn->sk, q);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		if (code == ENOENT || code == EINVAL) /* no root qdisc of ours to delete */
			return 0;
		return acre_error_set(err, code, NULL, "removing the rate of %s: %s", what, why);
	}
	return 0;
}

int nn_rate_set_index(struct acre_netns *nn, int ifindex, const char *what, uint64_t rate,
		      struct acre_error *err)
{
	if (rate == 0)
		return rate_clear(nn, ifindex, what, err);
	int r = acre_netns_rate_check(rate, err, "--net-rate");
	if (r < 0)
		return r;
	uint64_t bytes = rate / 8;
	uint64_t bucket = bytes / 100;
	if (bucket < TBF_BUCKET_MIN)
		bucket = TBF_BUCKET_MIN;
	_cleanup_(qdisc_putp) struct rtnl_qdisc *q = root_qdisc(ifindex);
	if (!q)
		return acre_error_set(err, ENOMEM, NULL, "limiting %s: out of memory", what);
	char rs[32];
	acre_format_rate(rate, rs, sizeof(rs));
	r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
	if (r == 0) {
		/* Both fit an int: acre_netns_rate_check bounds the rate, the bucket follows. */
		rtnl_qdisc_tbf_set_rate(q, (int)bytes, (int)bucket, 0);
		r = rtnl_qdisc_tbf_set_limit_by_latency(q, TBF_LATENCY_US);
	}
	if (r == 0)
		r = rtnl_qdisc_add(nn->sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (r < 0) {
		int code;
		const char *why = nn_strerror(nn, r, &code);
		return acre_error_set(err, code, NULL, "limiting %s to %s (tbf): %s", what, rs,
				      why);
	}
	return 0;
}

int acre_netns_rate_set(struct acre_netns *nn, const char *ifname, uint64_t rate,
			struct acre_error *err)
{
	int ifindex;
	int r = nn_ifindex(nn, ifname, &ifindex, err);
	if (r < 0)
		return acre_error_prefix(err, "setting the rate of %s", ifname);
	return nn_rate_set_index(nn, ifindex, ifname, rate, err);
}
