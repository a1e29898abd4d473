/*
 * Health and readiness checks of the slices this node runs (the spec's
 * checks and readiness), run here rather than from the controller, so that
 * a busy controller cannot make a healthy slice look dead: health.c keeps
 * each running slice's probes on libevent timers and turns their results
 * into s->health (health_verdict.c says what they add up to), telling the
 * health observers of every transition; health_run.c runs one check in a
 * child of its own and reads its result.
 */
#ifndef ACRE_SUPERVISOR_HEALTH_H
#define ACRE_SUPERVISOR_HEALTH_H

#include "slice.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>

/* Starts watching slices: their checks run while they run. */
int health_init(struct supervisor *sv, struct acre_error *err);
/* A slice found running at start: its checks start again (their verdict with them). */
void health_adopted(struct slice *s);
/* Stops every probe (at shutdown: the slices stay, their checks resume at the next start). */
void health_free(struct supervisor *sv);

/* ---- health_run.c ---- */

#define HEALTH_TIMEOUT_EXIT 124 /* acre_join_spawn's, past the timeout */

struct health_child {
	pid_t pid;
	int pidfd;  /* -1: none runs */
	int out_fd; /* the read end of its output */
};

int health_run_start(struct slice *s, const struct acre_check *c, struct health_child *out,
		     struct acre_error *err);
/* Reaps an ended run: whether it passed, and why (its output's first line, a timeout, an exit). */
bool health_run_finish(const struct acre_check *c, struct health_child *ch, char *reason,
		       size_t len);
/* SIGKILLs a run (health_run_finish reaps it). */
void health_run_kill(struct health_child *ch);

#endif
