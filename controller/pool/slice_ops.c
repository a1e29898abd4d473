/*
 * The verbs on slices that callers of the pool use: create (checked
 * completely — spec, placement, name, and whether any node could ever hold
 * it — before anything of it exists), kill, remove, and its spec.  The
 * spec is parsed once, here where it enters the pool, and the object it
 * came in is kept as the slice's one copy: written to the store as it is,
 * and sent to the node inside the assign message.
 *
 * That object is the spec as given (every member validated, unknown ones
 * refused) with its name filled in, not acre_slice_spec_to_json's full
 * form: the full form costs more to build and encode than the rest of a
 * placement (15 us and a 339-byte encoding against 130 for a typical
 * spec), and the supervisor fills in the same defaults when it parses.
 */
#include "internal.h"
#include "net.h"

#include <signal.h>

/*
 * Spread and unique count the slices of one app together: an app's
 * instances by their acre.app label, a plain slice by its "app" label,
 * and the slices with neither as one group.
 */
static const char *group_of(const struct acre_slice_spec *spec)
{
	const char *app = json_string_value(json_object_get(spec->labels, ACRE_LABEL_APP));
	if (!app)
		app = json_string_value(json_object_get(spec->labels, "app"));
	return app ? app : "";
}

static int take_placement(struct pool_slice *sl, const struct acre_placement *p,
			  const struct acre_slice_spec *spec)
{
	sl->strategy = p->strategy;
	if (p->nconstraints || p->spread[0] || p->unique[0] ||
	    p->strategy != ACRE_STRATEGY_BINPACK) {
		sl->placement = malloc(sizeof(*p));
		if (!sl->placement)
			return -ENOMEM;
		*sl->placement = *p;
	}
	if (p->spread[0] && !(sl->spread = strdup(p->spread)))
		return -ENOMEM;
	if ((p->spread[0] || p->unique[0]) && !(sl->group = strdup(group_of(spec))))
		return -ENOMEM;
	return 0;
}

/* Which node, before anything exists: -E2BIG when none ever could; *node NULL when none now. */
static int choose(struct pool *p, const struct acre_slice_spec *spec,
		  const struct acre_placement *placement, unsigned ports, struct pool_node **node,
		  struct acre_error *err)
{
	struct sched_request r = {
		.cpus = spec->resources.cpus_milli,
		.mem = spec->resources.memory,
		.net = spec->resources.net_rate,
		.ports = ports,
		.placement = placement,
		.group = placement->spread[0] || placement->unique[0] ? group_of(spec) : "",
		.check_capacity = true,
	};
	struct sched_node *sn = NULL;
	struct acre_error e = {0};
	int rc = sched_place(p->sched, &r, &sn, &e);
	/* No node has the binary yet: it may be installed, or the nodes not have answered. */
	if (rc == -E2BIG && !strcmp(e.field, "placement") && pool_binaries_named(placement))
		rc = -EAGAIN;
	if (rc == -E2BIG) {
		if (err)
			*err = e;
		return rc;
	}
	/* Whether a node fits or not, the nodes have not all said yet whether they have it. */
	if (pool_binaries_awaited(p, placement, e.message, sizeof(e.message)))
		rc = -EAGAIN;
	*node = rc < 0 ? NULL : (struct pool_node *)sn; /* sn is the first member */
	if (rc < 0) {
		p->stats.placement_pending++;
		snprintf(err->message, sizeof(err->message), "%s", e.message);
	}
	return 0;
}

static struct pool_slice *make(struct pool *p, const char *name, json_t *spec_json,
			       const struct acre_slice_spec *spec,
			       const struct acre_placement *placement)
{
	struct pool_slice *sl = pool_slice_new(p, name);
	if (!sl)
		return NULL;
	sl->cpus = spec->resources.cpus_milli;
	sl->mem = spec->resources.memory;
	sl->net_rate = spec->resources.net_rate;
	sl->restart = spec->restart;
	sl->restart_max = spec->restart_max;
	sl->spec = pool_spec_text_encode(&p->scratch, spec_json);
	if (!sl->spec || take_placement(sl, placement, spec) < 0 ||
	    pool_labels_attach(p, sl, json_object_get(spec_json, "labels")) < 0) {
		pool_slice_unindex(p, sl);
		p->by_state[sl->state]--;
		p->next_slice_id--; /* never seen by anyone */
		pool_slice_free(p, sl);
		return NULL;
	}
	pool_net_slice_created(p, sl);
	return sl;
}

/* The new slice from its spec, parsed (spec) and as given (spec_json); hp its host ports, taken. */
static int create(struct pool *p, json_t *spec_json, const struct acre_slice_spec *spec,
		  struct pool_host_ports *hp, const struct acre_placement *placement,
		  struct pool_slice **out, struct acre_error *err)
{
	_cleanup_free_ struct pool_host_ports *ports = hp;
	if (hp && spec->net_mode != ACRE_NET_HOST)
		return acre_error_set(err, EINVAL, "spec.host_ports",
				      "spec.host_ports: ports of the node's --port-range need "
				      "network.mode host");
	char name[ACRE_NAME_MAX + 1];
	if (spec->name[0])
		snprintf(name, sizeof(name), "%s", spec->name);
	else
		pool_slice_name_generate(p, name, sizeof(name));
	struct pool_slice *sl = pool_slice_find(p, name);
	struct pool_node *node = NULL;
	struct acre_error why = {0};
	int rc;
	pool_binaries_note(p, placement); /* nodes are asked, and answer after this pass */
	if (sl) {
		rc = acre_error_set(
			err, EEXIST, "name",
			"slice %s already exists in the pool (state %s); remove it first", name,
			acre_slice_state_name(sl->state));
	} else if ((rc = pool_net_check_create(p, name, spec, err)) < 0) {
		/* err says which name and why */
	} else if ((rc = choose(p, spec, placement, hp ? hp->n : 0, &node, &why)) < 0) {
		*err = why;
	} else if (!spec->name[0] &&
		   json_object_set_new(spec_json, "name", json_string(name)) < 0) {
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	} else if (!(sl = make(p, name, spec_json, spec, placement))) {
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	if (rc < 0)
		return rc;
	sl->host_ports = TAKE_PTR(ports);
	if (node && pool_place_assign(p, sl, node, false) < 0) {
		snprintf(why.message, sizeof(why.message),
			 "no free port in the --port-range %u-%u of node %s", node->sn.port_first,
			 node->sn.port_last, node->id);
		node = NULL;
	}
	if (!node) {
		pool_slice_set_reason(sl, why.message);
		pool_pending_add(p, sl);
	}
	p->stats.slices_created++;
	pool_publish_slice(p, sl, "created");
	acre_log(ACRE_LOG_DEBUG, "slice=%s event=created state=%s node=%s", sl->name,
		 acre_slice_state_name(sl->state), sl->node ? sl->node->id : "-");
	*out = sl;
	return 0;
}

/* Its "host_ports" read; [] asks for none and goes (not for the node). */
static int host_ports_of(json_t *spec_json, struct pool_host_ports **hp, struct acre_error *err)
{
	int rc = pool_host_ports_parse(json_object_get(spec_json, "host_ports"), hp, err);
	if (rc < 0)
		return acre_error_prefix(err, "spec");
	if (!*hp)
		json_object_del(spec_json, "host_ports");
	return 0;
}

int pool_slice_create(struct pool *p, json_t *spec_json, const struct acre_placement *placement,
		      struct pool_slice **out, struct acre_error *err)
{
	static const struct acre_placement anywhere;
	*out = NULL;
	struct pool_host_ports *hp = NULL;
	_cleanup_json_ json_t *whole = NULL;
	int rc = host_ports_of(spec_json, &hp, err);
	if (rc < 0)
		return rc;
	/* Host ports asked for: the spec is checked as it will be once they are picked. */
	if (hp && (!(whole = json_deep_copy(spec_json)) ||
		   (rc = pool_host_ports_apply(whole, hp, err)) < 0)) {
		free(hp);
		return whole ? rc : acre_error_set(err, ENOMEM, NULL, "out of memory");
	}
	struct acre_slice_spec spec;
	if ((rc = acre_slice_spec_parse(whole ? whole : spec_json, &spec, err)) < 0) {
		free(hp);
		return acre_error_prefix(err, "spec");
	}
	rc = create(p, spec_json, &spec, hp, placement ? placement : &anywhere, out, err);
	acre_slice_spec_free(&spec);
	return rc;
}

int pool_slice_create_known(struct pool *p, json_t *spec_json, const struct acre_slice_spec *known,
			    const struct acre_placement *placement, struct pool_slice **out,
			    struct acre_error *err)
{
	static const struct acre_placement anywhere;
	*out = NULL;
	struct pool_host_ports *hp = NULL;
	int rc = host_ports_of(spec_json, &hp, err);
	if (rc < 0)
		return rc;
	return create(p, spec_json, known, hp, placement ? placement : &anywhere, out, err);
}

static bool ending(int sig)
{
	return sig == 0 || sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGHUP ||
	       sig == SIGQUIT;
}

int pool_slice_kill(struct pool *p, struct pool_slice *sl, int signal, struct acre_error *err)
{
	if (sl->state == ACRE_SLICE_PENDING && !sl->node) {
		/* Never placed: stopping it means not placing it. */
		pool_pending_remove(p, sl);
		sl->desired = POOL_DESIRED_STOP;
		pool_slice_set_state(p, sl, ACRE_SLICE_KILLED, "killed before it was placed");
		return 0;
	}
	if (!sl->node || (!pool_slice_is_active(sl) && !pool_slice_holds_resources(sl)))
		return acre_error_set(err, ESRCH, "name", "slice %s is not running (state %s)",
				      sl->name, acre_slice_state_name(sl->state));
	if (ending(signal) && sl->desired == POOL_DESIRED_RUN) {
		sl->desired = POOL_DESIRED_STOP;
		pool_slice_touch(p, sl);
	}
	pool_slice_request_kill(p, sl, signal);
	return 1;
}

int pool_slice_remove(struct pool *p, struct pool_slice *sl, bool force, struct acre_error *err)
{
	if (pool_slice_is_active(sl) && !force)
		return acre_error_set(err, EBUSY, "name",
				      "slice %s is %s: kill it first, or remove it with --force",
				      sl->name, acre_slice_state_name(sl->state));
	if (!sl->node) {
		pool_slice_delete(p, sl);
		return 0;
	}
	/* On a node: removed there first; the row goes when the node says it is gone. */
	pool_slice_request_remove(p, sl);
	return 1;
}

int pool_slice_spec(struct pool *p, const struct pool_slice *sl, json_t **out,
		    struct acre_error *err)
{
	*out = NULL;
	_cleanup_free_ char *stored = NULL, *placement = NULL;
	const char *text = sl->spec ? sl->spec->text : NULL;
	if (!text && !p->store)
		return acre_error_set(err, ENOENT, NULL, "slice %s: no spec", sl->name);
	if (!text) {
		int rc = store_slice_spec(p->store, sl->id, &stored, &placement, err);
		if (rc < 0)
			return rc;
		text = stored;
	}
	json_error_t jerr;
	*out = json_loads(text, 0, &jerr);
	if (!*out)
		return acre_error_set(err, EIO, NULL,
				      "slice %s: its stored spec does not parse: %s", sl->name,
				      jerr.text);
	acre_secrets_redact_json(*out);
	/* On a node: as the node has it, with its host ports; unbound: as asked. */
	if (sl->host_ports && sl->node && pool_host_ports_apply(*out, sl->host_ports, err) < 0) {
		json_decref(*out);
		*out = NULL;
		return -err->code;
	}
	return 0;
}
