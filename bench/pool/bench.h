/*
 * bench/pool: 10,000 simulated nodes against one acre-controller, and a
 * million slices placed through its HTTP API.  main.c forks the simulator
 * processes (sim.c), waits for every node to register, drives the API
 * (load.c), and prints the figures beside Nomad's published C1M run.
 */
#ifndef ACRE_BENCH_POOL_H
#define ACRE_BENCH_POOL_H

#include "common/common.h"

#include <event2/event.h>

struct bench_options {
	const char *node_addr; /* the controller's node port, HOST:PORT */
	const char *api_host;
	int api_port;
	const char *join_token, *api_token;
	const char *work_dir; /* latency files */
	const char *tls_ca;   /* TLS to the node port, checked against this CA; NULL: plain TCP */
	const char *after;    /* a command run on the pool once the slices run; NULL: none */
	int nodes, procs, slices, batch, conns;
	pid_t controller_pid;
	double node_cpus;
	uint64_t node_memory;
};

/*
 * One simulator process: nodes [first, first + count), each a TCP
 * connection speaking the supervisor protocol.  It writes "R <ns>" to
 * report_fd once all of them have registered and synced, "P <n>" now and
 * then with how many launches the controller has acknowledged, and on
 * SIGUSR1 writes the latencies (uint32 microseconds) to work_dir/lat.<k>,
 * then "D <n>", and goes on (SIGTERM ends it).
 */
int sim_run(const struct bench_options *o, int k, int first, int count, int report_fd);

struct load_result {
	uint64_t start_ns, end_ns;
	uint64_t created, failed, requests;
};
/* POSTs the slices in batches over several connections; returns when all are answered. */
int load_run(const struct bench_options *o, struct load_result *r);

#endif
