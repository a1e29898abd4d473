/*
 * Launches made ahead of time.  Creating a slice's namespaces, moving a
 * process into v1 cgroups (which waits for a whole RCU grace period, with
 * the kernel's cgroup mutex held) and exec'ing acre-init are the slow parts
 * of a launch; a few slots are kept ready, each a cgroup set with acre-init
 * parked in fresh namespaces, and a slice with the default namespaces takes
 * one.  The slots are refilled in batches, off the launch path.  (The
 * pool of nodes a controller manages is another thing: controller_link.c.)
 */
#include "prelaunch.h"

#include <poll.h>

#define PRELAUNCH_MAX  16
#define IDLE_REFILL_MS 100
/* A slot's mount namespace is a copy of the host's at park time; renew it now and then. */
#define SLOT_MAX_AGE_NS (60ULL * 1000000000ULL)

struct prelaunch {
	struct acre_launch_park park; /* the template; each slot has its own cgroup */
	struct prelaunch_slot slots[PRELAUNCH_MAX];
	size_t n, want;
	bool refill_due;	 /* empty: refill once the current launch is under way */
	struct event *refill_ev; /* a batch, after the current launch or when idle */
};

void prelaunch_cgroup_name(char *buf, size_t len)
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

void prelaunch_discard_launch(struct acre_launch *l)
{
	if (l->status_fd >= 0)
		close(l->status_fd); /* a parked acre-init sees the end and exits */
	acre_pidfd_kill_and_reap(l->pidfd);
	l->pidfd = l->status_fd = -1;
}

void prelaunch_release(struct prelaunch_slot *slot)
{
	prelaunch_discard_launch(&slot->launch);
	if (slot->cgroup) {
		struct acre_error err = {0};
		for (int i = 0; i < 100 && acre_cgroup_remove(slot->cgroup, &err) == -EBUSY; i++)
			usleep(2000);
		acre_cgroup_free(slot->cgroup);
		slot->cgroup = NULL;
	}
}

/* A parked acre-init that died, reported a failure or grew old is of no use. */
static bool slot_usable(const struct prelaunch_slot *slot)
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
	struct prelaunch *p = sv->prelaunch;
	size_t first = p->n;
	struct acre_error err = {0};
	for (size_t i = first; i < p->want; i++) {
		struct prelaunch_slot *slot = &p->slots[i];
		char name[32];
		prelaunch_cgroup_name(name, sizeof(name));
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
				prelaunch_release(&p->slots[--p->n]);
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
	struct prelaunch *p = sv->prelaunch;
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
	if (!sv->stopping && sv->prelaunch->n < sv->prelaunch->want)
		refill(sv);
}

int prelaunch_init(struct supervisor *sv, unsigned want, struct acre_error *err)
{
	struct prelaunch *p = calloc(1, sizeof(*p));
	if (!p)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	p->want = want > PRELAUNCH_MAX ? PRELAUNCH_MAX : want;
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
	sv->prelaunch = p;
	p->refill_due = true;
	schedule_refill(sv);
	return 0;
}

void prelaunch_launch_under_way(struct supervisor *sv)
{
	if (sv->prelaunch && sv->prelaunch->refill_due)
		schedule_refill(sv);
}

bool prelaunch_take(struct supervisor *sv, const struct acre_slice_spec *spec,
		    struct prelaunch_slot *out)
{
	struct prelaunch *p = sv->prelaunch;
	/*
	 * A parked acre-init copied the mount table before the slice's writable
	 * layer existed, and never sees it: such a slice launches directly.
	 */
	if (!p || spec->isolation.namespaces != p->park.namespaces ||
	    acre_slice_spec_rw_host_root(spec))
		return false;
	bool found = false;
	while (!found && p->n > 0) {
		struct prelaunch_slot slot = p->slots[--p->n];
		if (slot_usable(&slot)) {
			*out = slot;
			found = true;
		} else {
			prelaunch_release(&slot);
		}
	}
	/*
	 * Refilling now would hold the cgroup mutex while this launch mounts
	 * its cgroups: an empty set is refilled once the launch is under way.
	 */
	p->refill_due = p->n == 0;
	if (!p->refill_due)
		schedule_refill(sv);
	return found;
}

struct acre_launch_park prelaunch_park_for(struct supervisor *sv,
					   const struct acre_slice_spec *spec,
					   const struct acre_cgroup *cg)
{
	struct acre_launch_park park = sv->prelaunch->park;
	park.cgroup = cg;
	park.namespaces = spec->isolation.namespaces;
	park.hold_attach = false;
	return park;
}

bool prelaunch_owns_cgroup(struct supervisor *sv, const char *name)
{
	for (size_t i = 0; sv->prelaunch && i < sv->prelaunch->n; i++)
		if (!strcmp(acre_cgroup_name(sv->prelaunch->slots[i].cgroup), name))
			return true;
	return false;
}

void prelaunch_free(struct supervisor *sv)
{
	struct prelaunch *p = sv->prelaunch;
	if (!p)
		return;
	while (p->n > 0)
		prelaunch_release(&p->slots[--p->n]);
	event_free(p->refill_ev);
	free(p);
	sv->prelaunch = NULL;
}
