/*
 * Each slice's directory under --state-dir/slices/<name> (checkpoint.c):
 * its record, acre-init's exit record and a detached slice's log.
 */
#ifndef ACRE_SUPERVISOR_CHECKPOINT_H
#define ACRE_SUPERVISOR_CHECKPOINT_H

#include "supervisor.h"

/* Replaces slice.json atomically; failures are logged (the slice runs on regardless). */
int checkpoint_write(struct supervisor *sv, const struct acre_slice_record *rec);
int checkpoint_dir_create(struct supervisor *sv, const char *name, struct acre_error *err);
int checkpoint_dir_remove(struct supervisor *sv, const char *name);
/* One of the slice's files ("log", "exit"), opened O_CLOEXEC | O_NOFOLLOW. */
int checkpoint_open(struct supervisor *sv, const char *name, const char *file, int flags);
int checkpoint_read_exit(struct supervisor *sv, const char *name, struct acre_exit *out);

#endif
