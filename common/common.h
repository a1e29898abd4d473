/*
 * common: what every acre binary shares — cleanup macros, errors, logging,
 * unit parsing, the slice spec and the slice record kept in state files,
 * files, clocks, a hash map, growable arrays and intrusive lists (the
 * protocol's framing and envelope are proto/'s).  Pure code: nothing here
 * touches the kernel beyond plain file I/O and process handles, so all of
 * it is unit-tested without root.  This is the module's one public
 * header; each topic has a header of its own below, for a reader who wants
 * only that.
 */
#ifndef ACRE_COMMON_H
#define ACRE_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#ifndef ACRE_VERSION /* the test builds of the next release set their own (Makefile) */
#define ACRE_VERSION "0.1.0"
#endif

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/units.h"
#include "common/spec.h"
#include "common/file.h"
#include "common/sys.h"
#include "common/map.h"
#include "common/vec.h"
#include "common/list.h"

#endif
