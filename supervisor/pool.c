/*
 * Launches made ahead of time.  Creating a slice's namespaces, moving a
 * process into v1 cgroups (which waits for a whole RCU grace period, with
 * the kernel's cgroup mutex held) and exec'ing acre-init are the slow parts
 * of a launch; a few slots are kept ready, each a cgroup set with acre-init
 * parked in fresh namespaces, and a slice with the default namespaces takes
 * one.  The pool is refilled in batches, off the launch path.
 */
#include "supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#define POOL_MAX 16
#define IDLE_REFILL_MS 100
/* A slot's mount namespace is a copy of the host's at park time; renew it now and then. */
#define SLOT_MAX_AGE_NS (60ULL * 1000000000ULL)

struct pool {
	struct acre_launch_park park; /* the template; each slot has its own cgroup */
	struct pool_slot slots[POOL_MAX];
	size_t n, want;
	bool refill_due;	 /* empty: refill once the current launch is under way */
	struct event *refill_ev; /* a batch, after the current launch or when idle */
};

void pool_cgroup_name(char *buf, size_t len)
{
	unsigned char rnd[6];
	if (acre_random_bytes(rnd, sizeof(rnd)) < 0) {
		uint64_t t = acre_monotonic_ns();
		memcpy(rnd, &t, sizeof(rnd));
	}
	char hex[2 * sizeof(rnd) + 1];
	acre_hex_encode(rnd, sizeof(rnd), hex);
	snprintf(buf, len, "s%s", hex);
}

void pool_discard_launch(struct acre_launch *l)
{
	if (l->status_fd >= 0)
		close(l->status_fd); /* a parked acre-init sees the end and exits */
	if (l->pidfd >= 0) {
		pidfd_send_signal(l->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		waitid(P_PIDFD, (id_t)l->pidfd, &si, WEXITED);
		close(l->pidfd);
	}
	l->pidfd = l->status_fd = -1;
}

void pool_release(struct pool_slot *slot)
{
	pool_discard_launch(&slot->launch);
	if (slot->cgroup) {
		struct acre_error err = {0};
		for (int i = 0; i < 100 && acre_cgroup_remove(slot->cgroup, &err) == -EBUSY; i++)
			usleep(2000);
		acre_cgroup_free(slot->cgroup);
		slot->cgroup = NULL;
	}
}

/* A parked acre-init that died, reported a failure or grew old is of no use. */
static bool slot_usable(const struct pool_slot *slot)
{
	struct pollfd p[2] = {{.fd = slot->launch.pidfd, .events = POLLIN},
			      {.fd = slot->launch.status_fd, .events = POLLIN}};
	return poll(p, 2, 0) == 0 && acre_monotonic_ns() - slot->parked_at < SLOT_MAX_AGE_NS;
}

/*
 * One batch: all cgroups first, then all parked processes, and only then do
 * they join their v1 cgroups, together.  The first join holds the cgroup
 * mutex for a grace period and the others follow without one; in this
 * order the supervisor itself never waits on that mutex.
 */
static void refill(struct supervisor *sv)
{
	struct pool *p = sv->pool;
	size_t first = p->n;
	struct acre_error err = {0};
	for (size_t i = first; i < p->want; i++) {
		struct pool_slot *slot = &p->slots[i];
		char name[32];
		pool_cgroup_name(name, sizeof(name));
		memset(slot, 0, sizeof(*slot));
		slot->launch.pidfd = slot->launch.status_fd = -1;
		if (acre_cgroup_create(sv->cgroups, name, &slot->cgroup, &err) < 0)
			break;
		p->n++;
	}
	for (size_t i = first; i < p->n; i++) {
		struct acre_launch_park park = p->park;
		park.cgroup = p->slots[i].cgroup;
		if (acre_launch_park(&park, &p->slots[i].launch, &err) < 0) {
			while (p->n > i)
				pool_release(&p->slots[--p->n]);
			break;
		}
		p->slots[i].parked_at = acre_monotonic_ns();
	}
	for (size_t i = first; i < p->n; i++)
		acre_launch_park_attach(&p->slots[i].launch);
	if (err.message[0])
		acre_log(ACRE_LOG_WARN, "event=prelaunch_failed error=\"%s\"", err.message);
	p->refill_due = false;
}

static void schedule_refill(struct supervisor *sv)
{
	struct pool *p = sv->pool;
	if (!p || p->want == 0 || p->n == p->want)
		return;
	/* Empty and due: right away.  Otherwise top up once launches have been quiet a while. */
	struct timeval tv = {0, p->refill_due ? 0 : IDLE_REFILL_MS * 1000};
	evtimer_add(p->refill_ev, &tv);
}

static void on_refill(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct supervisor *sv = arg;
	if (!sv->stopping && sv->pool->n < sv->pool->want)
		refill(sv);
}

int pool_init(struct supervisor *sv, unsigned want, struct acre_error *err)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	p->want = want > POOL_MAX ? POOL_MAX : want;
	p->park = (struct acre_launch_park){
		.cgroups = sv->cgroups,
		.namespaces = ACRE_NS_ALL,
		.init_exe_fd = sv->init_exe_fd,
		.hide_paths = sv->hide_paths,
		.hold_attach = true,
	};
	p->refill_ev = evtimer_new(sv->base, on_refill, sv);
	if (!p->refill_ev) {
		free(p);
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	sv->pool = p;
	p->refill_due = true;
	schedule_refill(sv);
	return 0;
}

void pool_launch_under_way(struct supervisor *sv)
{
	if (sv->pool && sv->pool->refill_due)
		schedule_refill(sv);
}

bool pool_take(struct supervisor *sv, const struct acre_slice_spec *spec, struct pool_slot *out)
{
	struct pool *p = sv->pool;
	if (!p || spec->isolation.namespaces != p->park.namespaces)
		return false;
	bool found = false;
	while (!found && p->n > 0) {
		struct pool_slot slot = p->slots[--p->n];
		if (slot_usable(&slot)) {
			*out = slot;
			found = true;
		} else {
			pool_release(&slot);
		}
	}
	/*
	 * Refilling now would hold the cgroup mutex while this launch mounts
	 * its cgroups: an empty pool is refilled once the launch is under way.
	 */
	p->refill_due = p->n == 0;
	if (!p->refill_due)
		schedule_refill(sv);
	return found;
}

struct acre_launch_park pool_park_for(struct supervisor *sv, const struct acre_slice_spec *spec,
				      const struct acre_cgroup *cg)
{
	struct acre_launch_park park = sv->pool->park;
	park.cgroup = cg;
	park.namespaces = spec->isolation.namespaces;
	park.hold_attach = false;
	return park;
}

bool pool_owns_cgroup(struct supervisor *sv, const char *name)
{
	for (size_t i = 0; sv->pool && i < sv->pool->n; i++)
		if (!strcmp(acre_cgroup_name(sv->pool->slots[i].cgroup), name))
			return true;
	return false;
}

void pool_free(struct supervisor *sv)
{
	struct pool *p = sv->pool;
	if (!p)
		return;
	while (p->n > 0)
		pool_release(&p->slots[--p->n]);
	event_free(p->refill_ev);
	free(p);
	sv->pool = NULL;
}
