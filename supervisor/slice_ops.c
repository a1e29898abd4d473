/*
 * The verbs on slices that the socket and the pool link share: finding a
 * slice as its caller may see it, creating, killing, removing, waiting on
 * it, its log and its usage.  The rules live here once — which slices the
 * pool may touch, what a repeated assign means, what a kill without a
 * signal does — so that both protocols carry them out the same way.
 */
#include "slice_ops.h"
#include "checkpoint.h"
#include "view.h"
#include "proto/proto.h" /* ACRE_LABEL_MANAGED */

#include <fcntl.h>
#include <signal.h>

static const struct caller {
	const char *field; /* the request's key for the slice's name */
	const char *where; /* how errors place the slice */
	bool managed_only; /* sees only the slices the pool placed */
} callers[] = {
	[SLICE_CALLER_SOCKET] = {"name", "", false},
	[SLICE_CALLER_POOL] = {"slice", " on this node", true},
};

bool slice_ops_managed(const struct slice *s)
{
	return json_object_get(s->rec.spec.labels, ACRE_LABEL_MANAGED) != NULL;
}

int slice_ops_find(struct supervisor *sv, enum slice_caller who, const char *name,
		   struct slice **out, struct acre_error *err)
{
	const struct caller *c = &callers[who];
	struct slice *s = slice_find(sv, name);
	*out = NULL;
	if (!s)
		return acre_error_set(err, ENOENT, c->field, "no slice named %s%s", name, c->where);
	if (c->managed_only && !slice_ops_managed(s))
		return acre_error_set(err, EACCES, c->field,
				      "slice %s%s was not placed by the pool", name, c->where);
	*out = s;
	return 0;
}

struct slice **slice_ops_list(struct supervisor *sv)
{
	_cleanup_free_ const char **names = acre_map_sorted_keys(sv->slices);
	if (!names)
		return NULL;
	size_t n = acre_map_size(sv->slices);
	struct slice **list = calloc(n + 1, sizeof(*list));
	for (size_t i = 0; list && i < n; i++)
		list[i] = slice_find(sv, names[i]);
	return list;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* The pool assigns a name it has here already: its own slice again, or a conflict. */
static int pool_name_taken(struct slice *s, struct slice **out, struct acre_error *err)
{
	if (!slice_ops_managed(s))
		return acre_error_set(err, EEXIST, "name",
				      "a slice named %s runs on this node outside the pool",
				      s->rec.spec.name);
	*out = s;
	return 1;
}

int slice_ops_create(struct supervisor *sv, struct acre_slice_spec *spec,
		     const struct slice_create_options *o, struct slice **out,
		     struct acre_error *err)
{
	struct slice_run_options run = {.foreground = !o->detach,
					.remove_on_exit = o->remove_on_exit,
					.stdio = {o->stdio[0], o->stdio[1], o->stdio[2]}};
	int rc = 0;
	*out = NULL;
	if (run.foreground && (run.stdio[0] < 0 || run.stdio[1] < 0 || run.stdio[2] < 0))
		rc = acre_error_set(err, EINVAL, "stdio",
				    "a foreground run needs the client's stdin, stdout and stderr "
				    "attached (3 fds)");
	if (!run.foreground)
		close_fds(run.stdio, 3); /* it writes to its log */
	struct slice *s = o->managed_by_pool ? slice_find(sv, spec->name) : NULL;
	if (rc == 0 && s)
		rc = pool_name_taken(s, out, err);
	if (rc == 0 && (rc = slice_create(sv, spec, &run, out, err)) == 0)
		return 0;
	close_fds(run.stdio, 3);
	acre_slice_spec_free(spec);
	return rc;
}

int slice_ops_pool_spec(const json_t *spec, const char *name, struct acre_slice_spec *out,
			struct acre_error *err)
{
	_cleanup_json_ json_t *copy = json_deep_copy(spec);
	if (!copy)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_t *labels = json_object_get(copy, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(copy, "labels", labels);
	}
	json_object_set_new(labels, ACRE_LABEL_MANAGED, json_string("controller"));
	json_object_set_new(copy, "name", json_string(name));
	return acre_slice_spec_parse(copy, out, err);
}

int slice_ops_kill(struct supervisor *sv, enum slice_caller who, const char *name,
		   const json_t *signal, struct slice **out, int *sent, struct acre_error *err)
{
	int sig = 0;
	int rc = slice_ops_find(sv, who, name, out, err);
	if (rc == 0 && signal)
		rc = slice_ops_parse_signal(signal, &sig, err);
	if (rc == 0)
		rc = slice_kill(*out, sig, err);
	*sent = sig ? sig : SIGTERM;
	return rc;
}

int slice_ops_remove(struct supervisor *sv, enum slice_caller who, const char *name, bool force,
		     struct slice **out, struct acre_error *err)
{
	int rc = slice_ops_find(sv, who, name, out, err);
	if (rc == 0 && (rc = slice_remove(*out, force, err)) == 0)
		*out = NULL; /* gone */
	return rc;
}

int slice_ops_wait(struct supervisor *sv, enum slice_caller who, const char *name,
		   struct slice **out, struct acre_error *err)
{
	int rc = slice_ops_find(sv, who, name, out, err);
	if (rc < 0)
		return rc;
	return slice_has_ended(*out) ? 0 : 1;
}

int slice_ops_logs(struct supervisor *sv, enum slice_caller who, const char *name,
		   struct slice **out, int *fd, struct acre_error *err)
{
	const char *field = callers[who].field;
	int rc = slice_ops_find(sv, who, name, out, err);
	if (rc < 0)
		return rc;
	struct slice *s = *out;
	if (s->rec.foreground)
		return acre_error_set(err, ENOENT, field,
				      "slice %s runs in the foreground: its output went to its "
				      "client",
				      name);
	*fd = checkpoint_open(sv, name, "log", O_RDONLY);
	if (*fd < 0)
		return acre_error_set(err, errno, field, "opening the log of %s: %s", name,
				      strerror(errno));
	return 0;
}

int slice_ops_stat(struct supervisor *sv, const char *const *names, size_t n, struct evbuffer *b,
		   struct acre_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!slice_find(sv, names[i]))
			return acre_error_set(err, ENOENT, "names", "no slice named %s", names[i]);
	if (n > 0) {
		for (size_t i = 0; i < n; i++)
			view_stats_append(slice_find(sv, names[i]), true, i == 0, b);
		return 0;
	}
	_cleanup_free_ const char **all = acre_map_sorted_keys(sv->slices);
	for (size_t i = 0; all && all[i]; i++)
		view_stats_append(slice_find(sv, all[i]), false, i == 0, b);
	return 0;
}
