/*
 * The JSON shapes of the controller's objects, shared by the HTTP API
 * (api_*.c) and the event stream (events.c).
 */
#ifndef ACRE_CONTROLLER_VIEW_H
#define ACRE_CONTROLLER_VIEW_H

#include "controller/ctl.h"

json_t *view_node(const struct ctl_node *n);
json_t *view_slice(const struct ctl_slice *sl);
/* Capacity, use and room of the ready nodes, in all and per attribute value; slice counts. */
json_t *view_pool(struct ctl *c);

#endif
