/*
 * acre-bench-pool: brings up the simulated nodes (forked simulator
 * processes), waits for all of them to register, places the slices through
 * the API, waits for every launch to be acknowledged, and prints the
 * figures — registration time, placements per second, time from request to
 * acknowledged launch, the controller's memory and CPU — beside Nomad's
 * published C1M figures.  bench/pool/run.sh starts the controller for it.
 */
#include "bench.h"

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

struct proc_usage {
	double cpu_s;
	uint64_t rss_kb, hwm_kb;
};

static void read_usage(pid_t pid, struct proc_usage *u)
{
	memset(u, 0, sizeof(*u));
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			/* After the command's closing parenthesis: field 3 on; utime, stime are
			 * 14, 15. */
			char *p = strrchr(buf, ')');
			unsigned long long ut = 0, st = 0;
			if (p &&
			    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				   &ut, &st) == 2)
				u->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re"))) {
		while (fgets(buf, sizeof(buf), f)) {
			unsigned long long v;
			if (sscanf(buf, "VmRSS: %llu", &v) == 1)
				u->rss_kb = v;
			else if (sscanf(buf, "VmHWM: %llu", &v) == 1)
				u->hwm_kb = v;
		}
		fclose(f);
	}
}

struct sims {
	int n;
	pid_t *pid;
	int *fd;
	uint64_t *registered;
	uint64_t *progress;
	bool *dumped; /* wrote its latencies (SIGUSR1) */
	char (*buf)[256];
	size_t *blen;
};

static void parse_lines(struct sims *s, int k)
{
	char *line = s->buf[k], *nl;
	while ((nl = memchr(line, '\n', s->blen[k] - (size_t)(line - s->buf[k])))) {
		*nl = '\0';
		unsigned long long v;
		if (sscanf(line, "R %llu", &v) == 1)
			s->registered[k] = v;
		else if (sscanf(line, "P %llu", &v) == 1)
			s->progress[k] = v;
		else if (sscanf(line, "D %llu", &v) == 1)
			s->dumped[k] = true;
		line = nl + 1;
	}
	size_t left = s->blen[k] - (size_t)(line - s->buf[k]);
	memmove(s->buf[k], line, left);
	s->blen[k] = left;
}

/* Reads what the simulators report, for up to `ms`; -1 if one died. */
static int pump(struct sims *s, int ms)
{
	struct pollfd p[64];
	for (int k = 0; k < s->n; k++)
		p[k] = (struct pollfd){.fd = s->fd[k], .events = POLLIN};
	int r = poll(p, (nfds_t)s->n, ms);
	for (int k = 0; r > 0 && k < s->n; k++) {
		if (!(p[k].revents & (POLLIN | POLLHUP)))
			continue;
		ssize_t got =
			read(s->fd[k], s->buf[k] + s->blen[k], sizeof(s->buf[0]) - 1 - s->blen[k]);
		if (got <= 0) {
			fprintf(stderr, "bench: simulator %d ended early\n", k);
			return -1;
		}
		s->blen[k] += (size_t)got;
		parse_lines(s, k);
	}
	return 0;
}

static int start_sims(const struct bench_options *o, struct sims *s)
{
	s->n = o->procs;
	s->pid = calloc((size_t)s->n, sizeof(*s->pid));
	s->fd = calloc((size_t)s->n, sizeof(*s->fd));
	s->registered = calloc((size_t)s->n, sizeof(*s->registered));
	s->progress = calloc((size_t)s->n, sizeof(*s->progress));
	s->dumped = calloc((size_t)s->n, sizeof(*s->dumped));
	s->buf = calloc((size_t)s->n, sizeof(*s->buf));
	s->blen = calloc((size_t)s->n, sizeof(*s->blen));
	int per = (o->nodes + s->n - 1) / s->n;
	for (int k = 0; k < s->n; k++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		int first = k * per, count = first + per > o->nodes ? o->nodes - first : per;
		pid_t pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			close(p[0]);
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
			int rc = sim_run(o, k, first, count, p[1]);
			_exit(rc < 0 ? 2 : 0);
		}
		close(p[1]);
		s->pid[k] = pid;
		s->fd[k] = p[0];
	}
	return 0;
}

/*
 * The command given with --after, on the pool as the slices left it (the
 * simulators still connected): the apps benchmark.  It learns the bare
 * slices' figures, its peer, from the environment.
 */
static int run_after(const struct bench_options *o, const struct load_result *r, uint64_t run_done,
		     struct sims *s)
{
	char v[64];
	snprintf(v, sizeof(v), "%llu", (unsigned long long)r->created);
	setenv("ACRE_BENCH_SLICES", v, 1);
	snprintf(v, sizeof(v), "%.3f", (double)(r->end_ns - r->start_ns) / 1e9);
	setenv("ACRE_BENCH_PLACED_S", v, 1);
	snprintf(v, sizeof(v), "%.3f", (double)(run_done - r->start_ns) / 1e9);
	setenv("ACRE_BENCH_RUNNING_S", v, 1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", o->after, (char *)NULL);
		_exit(127);
	}
	/* The simulators' reports are read meanwhile, or a full pipe would stop them. */
	for (;;) {
		int status;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
		if (w < 0 || pump(s, 100) < 0) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
			return -EIO;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Ends the simulators; their nodes go with them. */
static void end_sims(struct sims *s)
{
	for (int k = 0; k < s->n; k++)
		kill(s->pid[k], SIGTERM);
	for (int k = 0; k < s->n; k++)
		waitpid(s->pid[k], NULL, 0);
}

/* The simulators' CPU time, read while they still run. */
static double sims_cpu(const struct sims *s)
{
	double cpu = 0;
	for (int k = 0; k < s->n; k++) {
		struct proc_usage u;
		read_usage(s->pid[k], &u);
		cpu += u.cpu_s;
	}
	return cpu;
}

/* Gathers the simulators' latencies (microseconds), sorted; they go on running. */
static uint32_t *collect_latencies(const struct bench_options *o, struct sims *s, size_t *n)
{
	uint32_t *all = NULL;
	*n = 0;
	for (int k = 0; k < s->n; k++)
		kill(s->pid[k], SIGUSR1);
	for (uint64_t deadline = acre_monotonic_ns() + 30000000000ULL;
	     acre_monotonic_ns() < deadline;) {
		int done = 0;
		for (int k = 0; k < s->n; k++)
			done += s->dumped[k];
		if (done == s->n || pump(s, 50) < 0)
			break;
	}
	for (int k = 0; k < s->n; k++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/lat.%d", o->work_dir, k);
		char *data = NULL;
		size_t len = 0;
		if (acre_file_read(AT_FDCWD, path, &data, &len, 1ULL << 32) < 0)
			continue;
		/* Not realloc(all, 0), which frees: a simulator whose nodes got no slice. */
		uint32_t *grown = len >= 4 ? realloc(all, (*n + len / 4) * sizeof(uint32_t)) : NULL;
		if (grown) {
			all = grown;
			memcpy(all + *n, data, len / 4 * 4);
			*n += len / 4;
		}
		free(data);
		unlink(path);
	}
	if (all)
		qsort(all, *n, sizeof(*all), cmp_u32);
	return all;
}

static double pct(const uint32_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1));
	return v[i] / 1e6;
}

static void usage(void)
{
	fputs("usage: acre-bench-pool --node-addr HOST:PORT --api HOST:PORT --join-token T\n"
	      "        --api-token T --controller-pid PID --work-dir DIR [--nodes N] [--procs N]\n"
	      "        [--slices N] [--batch N] [--conns N] [--after COMMAND]\n",
	      stderr);
	exit(2);
}

static void parse(int argc, char **argv, struct bench_options *o)
{
	static const struct option opts[] = {
		{"node-addr", required_argument, NULL, 'n'},
		{"api", required_argument, NULL, 'a'},
		{"join-token", required_argument, NULL, 'j'},
		{"api-token", required_argument, NULL, 't'},
		{"controller-pid", required_argument, NULL, 'p'},
		{"work-dir", required_argument, NULL, 'w'},
		{"nodes", required_argument, NULL, 'N'},
		{"procs", required_argument, NULL, 'P'},
		{"slices", required_argument, NULL, 'S'},
		{"batch", required_argument, NULL, 'B'},
		{"conns", required_argument, NULL, 'C'},
		{"tls-ca", required_argument, NULL, 'T'},
		{"after", required_argument, NULL, 'A'},
		{0},
	};
	static char host[256];
	*o = (struct bench_options){.nodes = 10000,
				    .procs = 4,
				    .slices = 1000000,
				    .batch = 1000,
				    .conns = 8,
				    .node_cpus = 32,
				    .node_memory = 128ULL << 30};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->node_addr = optarg;
			break;
		case 'a': {
			const char *colon = strrchr(optarg, ':');
			if (!colon)
				usage();
			snprintf(host, sizeof(host), "%.*s", (int)(colon - optarg), optarg);
			o->api_host = host;
			o->api_port = atoi(colon + 1);
			break;
		}
		case 'j':
			o->join_token = optarg;
			break;
		case 't':
			o->api_token = optarg;
			break;
		case 'p':
			o->controller_pid = atoi(optarg);
			break;
		case 'w':
			o->work_dir = optarg;
			break;
		case 'N':
			o->nodes = atoi(optarg);
			break;
		case 'P':
			o->procs = atoi(optarg);
			break;
		case 'S':
			o->slices = atoi(optarg);
			break;
		case 'B':
			o->batch = atoi(optarg);
			break;
		case 'C':
			o->conns = atoi(optarg);
			break;
		case 'T':
			o->tls_ca = optarg;
			break;
		case 'A':
			o->after = optarg;
			break;
		default:
			usage();
		}
	}
	if (!o->node_addr || !o->api_host || !o->join_token || !o->api_token || !o->work_dir ||
	    o->controller_pid <= 0 || o->nodes <= 0 || o->procs <= 0 || o->procs > 64 ||
	    o->slices <= 0 || o->batch <= 0 || o->conns <= 0)
		usage();
}

static const char *verdict(bool ok)
{
	return ok ? "met" : "MISSED";
}

int main(int argc, char **argv)
{
	struct bench_options o;
	parse(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct proc_usage u0, u1, u2, u3;
	read_usage(o.controller_pid, &u0);
	uint64_t t_start = acre_monotonic_ns();
	struct sims s = {0};
	if (start_sims(&o, &s) < 0) {
		perror("bench: starting simulators");
		return 1;
	}
	/* Phase 1: every node registered and synced. */
	uint64_t reg_done = 0;
	for (uint64_t deadline = t_start + 120000000000ULL; acre_monotonic_ns() < deadline;) {
		if (pump(&s, 100) < 0)
			return 1;
		int done = 0;
		reg_done = 0;
		for (int k = 0; k < s.n; k++)
			if (s.registered[k]) {
				done++;
				reg_done = s.registered[k] > reg_done ? s.registered[k] : reg_done;
			}
		if (done == s.n)
			break;
		reg_done = 0;
	}
	if (!reg_done) {
		fprintf(stderr, "bench: the nodes did not all register within 120 s\n");
		return 1;
	}
	read_usage(o.controller_pid, &u1);
	double reg_s = (double)(reg_done - t_start) / 1e9;
	printf("%d nodes registered in %.2f s\n", o.nodes, reg_s);
	fflush(stdout);
	double sim_cpu_placing = sims_cpu(&s); /* the simulators' share of the slices, from here */
	/* Phase 2: the slices, through the API. */
	struct load_result r;
	if (load_run(&o, &r) < 0)
		return 1;
	double place_s = (double)(r.end_ns - r.start_ns) / 1e9;
	read_usage(o.controller_pid, &u2);
	printf("%llu slices placed in %.2f s (%llu refused)\n", (unsigned long long)r.created,
	       place_s, (unsigned long long)r.failed);
	fflush(stdout);
	/* Phase 3: every launch acknowledged by the controller. */
	uint64_t acked = 0, run_done = 0;
	for (uint64_t deadline = acre_monotonic_ns() + 300000000000ULL;
	     acre_monotonic_ns() < deadline;) {
		if (pump(&s, 50) < 0)
			return 1;
		acked = 0;
		for (int k = 0; k < s.n; k++)
			acked += s.progress[k];
		if (acked >= r.created) {
			run_done = acre_monotonic_ns();
			break;
		}
	}
	read_usage(o.controller_pid, &u3);
	size_t nlat;
	uint32_t *lat = collect_latencies(&o, &s, &nlat);
	struct rusage self;
	getrusage(RUSAGE_SELF, &self);
	double sim_cpu = sims_cpu(&s);
	sim_cpu_placing = sim_cpu - sim_cpu_placing;
	double self_cpu = (double)self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 +
			  (double)self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6;
	double all_s = run_done ? (double)(run_done - r.start_ns) / 1e9 : 0;
	double rate = place_s > 0 ? (double)r.created / place_s : 0;
	double ctl_cpu = u3.cpu_s - u1.cpu_s;
	printf("\n== acre pool benchmark: %d simulated nodes in %d processes (%s), %d slices in "
	       "batches of %d over %d connections\n",
	       o.nodes, o.procs, o.tls_ca ? "TLS" : "plain TCP", o.slices, o.batch, o.conns);
	printf("                                  %-34s %s\n", "acre (this run)",
	       "Nomad C1M (published, 2016)");
	char regd[64], placed[64], rs[64], p50[64], cpu[96], rss[64], alld[64];
	snprintf(regd, sizeof(regd), "%d in %.2f s", o.nodes, reg_s);
	printf("  nodes registered                %-34s %s\n", regd, "5,000 hosts");
	snprintf(placed, sizeof(placed), "%llu in %.1f s", (unsigned long long)r.created, place_s);
	snprintf(rs, sizeof(rs), "%.0f /s", rate);
	snprintf(p50, sizeof(p50), "%.3f s / %.3f s (max %.3f s)", pct(lat, nlat, 0.50),
		 pct(lat, nlat, 0.99), nlat ? lat[nlat - 1] / 1e6 : 0);
	snprintf(cpu, sizeof(cpu), "%.1f s (%.0f%% of a core over %.1f s)", ctl_cpu,
		 all_s > 0 ? 100 * (u3.cpu_s - u1.cpu_s) / (all_s) : 0, all_s);
	snprintf(rss, sizeof(rss), "%.0f MiB (peak %.0f MiB)", u3.rss_kb / 1024.0,
		 u3.hwm_kb / 1024.0);
	printf("  slices placed                   %-34s %s\n", placed,
	       "1,000,000 containers in under 5 min");
	printf("  placements per second           %-34s %s\n", rs, "over 3,333 /s (1M / 300 s)");
	printf("  request -> acknowledged launch  %-34s %s\n", p50, "-");
	snprintf(alld, sizeof(alld), "%.1f s", all_s);
	printf("  all launches acknowledged after %-34s %s\n", run_done ? alld : "NOT ALL", "-");
	printf("  controller RSS                  %-34s %s\n", rss, "-");
	printf("  controller CPU (placing)        %-34s %s\n", cpu, "-");
	printf("  controller CPU (registering)    %.1f s\n", u1.cpu_s - u0.cpu_s);
	printf("  simulators / load CPU           %.1f s / %.1f s  (all on this machine's %ld "
	       "CPUs; the simulators %.1f s while placing)\n",
	       sim_cpu, self_cpu, sysconf(_SC_NPROCESSORS_ONLN), sim_cpu_placing);
	/* For --after's comparison. */
	snprintf(cpu, sizeof(cpu), "%.3f", sim_cpu_placing);
	setenv("ACRE_BENCH_SIMS_CPU_S", cpu, 1);
	snprintf(cpu, sizeof(cpu), "%.3f", ctl_cpu);
	setenv("ACRE_BENCH_CTL_CPU_S", cpu, 1);
	printf("  latency samples                 %zu of %llu\n", nlat,
	       (unsigned long long)r.created);
	printf("Targets: 10,000 nodes registered < 10 s: %s; >= 20,000 placements/s: %s; "
	       "1,000,000 placed < 60 s: %s; controller RSS < 2 GiB: %s\n",
	       o.nodes < 10000 ? "n/a (fewer nodes)" : verdict(reg_s < 10), verdict(rate >= 20000),
	       o.slices < 1000000 ? "n/a (fewer slices)"
				  : verdict(place_s < 60 && r.created >= 1000000),
	       verdict(u3.hwm_kb < 2 * 1024 * 1024));
	printf("Nomad's C1M ran real containers on 5,000 real hosts; this runs the real controller "
	       "against simulated nodes on one machine.\n");
	free(lat);
	int after = 0;
	if (o.after && run_done && !r.failed)
		after = run_after(&o, &r, run_done, &s);
	end_sims(&s);
	return run_done && !r.failed && after == 0 ? 0 : 1;
}
