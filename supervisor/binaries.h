/*
 * Which host binaries this node has (binaries.c): the answer to the
 * controller's binaries.check, from which the pool makes the node's
 * bin:PATH attributes, so that a slice that needs /usr/bin/redis-server
 * is placed only where it can run.
 */
#ifndef ACRE_SUPERVISOR_BINARIES_H
#define ACRE_SUPERVISOR_BINARIES_H

#include "common/common.h"

#define BINARIES_CHECK_MAX 256 /* paths in one request */

/*
 * {"paths": ["/usr/bin/redis-server", ...]} -> {"present": [...], "absent":
 * [...]}: present are regular files (symlinks followed) that root may
 * execute.  NULL with err filled (naming "paths") for a bad request.
 */
json_t *binaries_check(const json_t *req, struct acre_error *err);

#endif
