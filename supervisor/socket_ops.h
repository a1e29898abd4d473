/*
 * The socket's operations (socket_ops.c): each request decoded, checked by
 * name and type, carried out by a verb of slice_ops.h and answered.
 */
#ifndef ACRE_SUPERVISOR_SOCKET_OPS_H
#define ACRE_SUPERVISOR_SOCKET_OPS_H

#include "server.h"

/* What main.c gives server_listen. */
extern const struct server_handler socket_ops_handler;

#endif
