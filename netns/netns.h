/*
 * netns: slice networking.  Loopback inside a slice's fresh network
 * namespace now; bridges, veths, addresses and shaping over rtnetlink.
 */
#ifndef ACRE_NETNS_H
#define ACRE_NETNS_H

#include "common/common.h"

/* Brings `lo` up in the calling process's network namespace. */
int acre_netns_loopback_up(void);

#endif
