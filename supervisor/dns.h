/*
 * DNS for the node's slices: a server on the bridge's gateway address, port
 * 53, UDP and TCP (dns_server.c), answering `.acre` from the zone in memory
 * (dns_zone.h) and forwarding every other name to the host's resolvers
 * (dns_forward.c); the zone fed by net.names from the controller, or by the
 * node itself when it runs alone (dns_local.c); and the /etc/resolv.conf
 * each slice finds (dns.c).
 *
 * ldns on our own sockets in the supervisor's event loop, not a dnsmasq run
 * beside it: the zone changes with every slice that starts or ends and must
 * be visible at once, which a process of our own answers from memory with
 * no file to rewrite and no signal to send; and not libevent's evdns server,
 * which speaks UDP only, truncates at 512 bytes and ignores EDNS0.
 */
#ifndef ACRE_SUPERVISOR_DNS_H
#define ACRE_SUPERVISOR_DNS_H

#include "supervisor.h"

struct acre_cidr;

/* The zone, the forwarder (resolvers from --resolv-conf) and the slice files. */
int dns_init(struct supervisor *sv, struct acre_error *err);
void dns_free(struct supervisor *sv);
/*
 * The slice subnet is known (again): serve on its gateway, answer its
 * addresses' reverse names.  A failure costs names, not the node: logged.
 */
void dns_network_ready(struct supervisor *sv, const struct acre_cidr *subnet);
/* A net.names message from the controller (controller/README, "Pool networking"). */
int dns_names_apply(struct supervisor *sv, json_t *msg, struct acre_error *err);
struct slice;
/* A bridged slice has its address and its task is about to start: a lone node names it now. */
void dns_slice_launching(struct supervisor *sv, struct slice *s);
/* A slice is being ended: a lone node takes it out of its names now, before its signal. */
void dns_slice_ending(struct supervisor *sv, struct slice *s);
/* The file bind-mounted on the slice's /etc/resolv.conf; NULL: the root's own. */
const char *dns_resolv_conf_for(struct supervisor *sv, const struct acre_slice_spec *spec);

#endif
