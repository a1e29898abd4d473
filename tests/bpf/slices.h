/*
 * Three bridge slices for bpf_isolate_test, made with iproute2 as netns/
 * makes them, and probes of what each one reaches.  See slices.c.
 */
#ifndef ACRE_TESTS_BPF_SLICES_H
#define ACRE_TESTS_BPF_SLICES_H

#include "common/common.h"

#include <netinet/in.h>

enum { A, B, C, NSLICES, HOST = -1 };

/* How long a probe waits for what does not come: a working path answers in under 1 ms. */
#define SLICES_SILENCE_MS 600

struct slices {
	char br[16]; /* acri<pid> */
	uint8_t br_mac[6];
	uint32_t net, gw; /* network order: a free /24 of 198.18.0.0/16, its .1 */
	char gw_s[16];
	char addr[NSLICES][16];	   /* .11, .12, .13 */
	char outside[NSLICES][16]; /* on the slice's lo: 198.19.<same>.1x */
	char ns[NSLICES][48];	   /* ip netns names */
	char host_if[NSLICES][16]; /* the veths' host ends; eth0 inside */
	int host_ifindex[NSLICES];
	uint8_t mac[NSLICES][6]; /* of eth0 */
	char ll6[NSLICES][INET6_ADDRSTRLEN];
	/* Internal: what to enter and remove, and the listeners. */
	bool made_br, made_ns[NSLICES];
	int ns_fd[NSLICES], host_fd;
	int tcp[NSLICES], udp[NSLICES], gw_tcp;
};
extern struct slices S;

__attribute__((noreturn)) void die(const char *what);
/* A shell command in the host namespace; its exit status, printed unless 0 or quiet. */
__attribute__((format(printf, 1, 2))) int sh(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) int sh_quiet(const char *fmt, ...);
const char *mac_str(const uint8_t *m);

/* The bridge and the slices a, b, c, each listening on TCP (v4 and v6) and UDP. */
void slices_make(void);
/* Removes whatever slices_make made; any time, more than once. */
void slices_remove(void);
/* Whether none of it is left. */
bool slices_gone(void);

/* TCP from `from` (a slice or HOST) to addr set up within ms; IPv6 link-local on eth0. */
bool tcp_reaches(int from, const char *addr, int ms);
/* An ICMP echo from `from` to addr answered within ms. */
bool ping_reaches(int from, const char *addr, int ms);
/* A UDP datagram from slice `from` to addr (a broadcast, say): which slices got it (bit i). */
unsigned udp_heard(int from, const char *addr);
/* A frame slice `from` writes itself, forging the bridge's MAC as source: did `to` get it. */
unsigned forged_heard(int from, int to);
/* TCP from `from` to `to`'s lo address outside the subnet, sent straight to to's MAC. */
bool beyond_reaches(int from, int to);

#endif
