/*
 * The supervisor's verbs on slices (slice_ops.c), the one place that both
 * of its callers go through: the Unix socket (socket_ops.c) and the pool
 * link (controller_ops.c) decode their requests, call a verb, and write
 * its outcome their way.  Each verb returns 0 or a negative errno with err
 * filled; a positive return says what happens later, as each notes.
 */
#ifndef ACRE_SUPERVISOR_SLICE_OPS_H
#define ACRE_SUPERVISOR_SLICE_OPS_H

#include "slice.h"

/*
 * Who names a slice.  The node's own socket reaches every slice on the
 * node; the pool reaches only those it placed (labelled acre.managed),
 * and its errors say "on this node".  Errors name the request's key for
 * the slice: "name" on the socket, "slice" on the link.
 */
enum slice_caller {
	SLICE_CALLER_SOCKET,
	SLICE_CALLER_POOL,
};

struct slice_create_options {
	bool detach;	      /* else a foreground run, with the client's stdio */
	bool remove_on_exit;  /* --rm */
	bool managed_by_pool; /* the pool's assign: see slice_ops_create */
	int stdio[3];	      /* the client's stdin, stdout, stderr, or -1 */
};

/*
 * Creates a slice from a parsed spec and launches it.  The spec and the
 * stdio fds are taken over whatever happens: a foreground run needs all
 * three fds, a detached one writes to its log and closes any sent along.
 * For the pool, a slice of that name it already placed here is the one it
 * asks for (its earlier reply was lost): 1 and *out, nothing created.
 */
int slice_ops_create(struct supervisor *sv, struct acre_slice_spec *spec,
		     const struct slice_create_options *o, struct slice **out,
		     struct acre_error *err);
/*
 * The spec of a slice the pool assigns: `spec` as sent, named `name` and
 * labelled acre.managed before it is parsed, so that the label counts
 * against the spec's limits like any other.
 */
int slice_ops_pool_spec(const json_t *spec, const char *name, struct acre_slice_spec *out,
			struct acre_error *err);
/* Whether the pool placed the slice (its spec carries acre.managed). */
bool slice_ops_managed(const struct slice *s);

/* The slice `name` as `who` may see it: ENOENT, or EACCES for the pool and a local slice. */
int slice_ops_find(struct supervisor *sv, enum slice_caller who, const char *name,
		   struct slice **out, struct acre_error *err);
/* Every slice on the node, sorted by name (a NULL-terminated array to free; NULL: ENOMEM). */
struct slice **slice_ops_list(struct supervisor *sv);

/*
 * A signal as either protocol carries it: a name ("TERM", "SIGTERM", any
 * case) or a number, as a string or a JSON integer; acre_parse_signal's
 * rules for all of them (slice_ops_signal.c).
 */
int slice_ops_parse_signal(const json_t *v, int *sig, struct acre_error *err);
/*
 * Sends `signal` (read by slice_ops_parse_signal), or without one (NULL)
 * ends the slice: TERM, then KILL after the stop timeout; between two runs,
 * no next run.  *sent is the signal sent first.  ESRCH when nothing runs.
 */
int slice_ops_kill(struct supervisor *sv, enum slice_caller who, const char *name,
		   const json_t *signal, struct slice **out, int *sent, struct acre_error *err);
/*
 * Removes an ended slice: 0, gone.  A running one is refused (EBUSY)
 * unless force, which kills it: 1, *out is removed once it has ended.
 */
int slice_ops_remove(struct supervisor *sv, enum slice_caller who, const char *name, bool force,
		     struct slice **out, struct acre_error *err);
/* 0 when the slice has ended for good; 1 while it runs or will run again. */
int slice_ops_wait(struct supervisor *sv, enum slice_caller who, const char *name,
		   struct slice **out, struct acre_error *err);
/* The log of a detached slice, opened for reading (*fd); ENOENT for a foreground one. */
int slice_ops_logs(struct supervisor *sv, enum slice_caller who, const char *name,
		   struct slice **out, int *fd, struct acre_error *err);
/*
 * Usage of the named slices (every name checked before anything is read),
 * or of all of them with n == 0, appended to b as the items of a JSON array.
 */
int slice_ops_stat(struct supervisor *sv, const char *const *names, size_t n, struct evbuffer *b,
		   struct acre_error *err);

#endif
