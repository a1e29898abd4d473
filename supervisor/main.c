/*
 * acre-supervisor: the per-node daemon.  It runs in the foreground (systemd
 * starts it as a simple or notify service), takes the state directory's
 * lock, finds the cgroup hierarchies, compiles the default seccomp filter,
 * re-adopts the slices a previous run left, and then serves its socket.
 * SIGTERM ends it within moments and leaves every slice running.
 */
#include "supervisor.h"
#include "controller_link.h"
#include "dns.h"
#include "egress.h"
#include "net_class.h"
#include "network.h"
#include "pool_net.h"
#include "prelaunch.h"
#include "recover.h"
#include "health.h"
#include "metrics.h"
#include "rwroot.h"
#include "server.h"
#include "slice.h"
#include "socket_ops.h"
#include "vip.h"
#include "volume.h"
#include "fetch.h"
#include "waiters.h"

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static const char usage[] =
	"usage: acre-supervisor [OPTIONS]\n"
	"       acre-supervisor join --controller HOST:PORT --token T --ca-hash sha256:HEX\n"
	"                       (this host joins a pool: `acre-supervisor join --help`)\n"
	"  --socket PATH        Unix socket to serve (default /run/acre/supervisor.sock)\n"
	"  --state-dir DIR      checkpoints and logs (default /var/lib/acre)\n"
	"  --cgroup-root NAME   the cgroup subtree of this supervisor (default acre)\n"
	"  --init PATH          acre-init to run as each slice's PID 1\n"
	"  --group NAME         group whose members may use the socket (default acre)\n"
	"  --stop-timeout DUR   from SIGTERM to SIGKILL when ending a slice (default 10s)\n"
	"  --prelaunch N        launches kept ready ahead of time (default 32, 0 to 32)\n"
	"  --no-accounting      do not load the eBPF accounting programs\n"
	"  --vip-cgroup PATH    the cgroup v2 directory VIPs serve (default: the v2 root)\n"
	"  --bridge NAME        the bridge of --net bridge slices (default acre0)\n"
	"  --slice-cidr CIDR    their subnet (default 10.88.0.0/16; in a pool, the pool's)\n"
	"  --resolv-conf FILE   resolvers for names outside .acre (default /etc/resolv.conf)\n"
	"  --dns-hosts FILE     fixed names (hosts(5) lines) served in .acre beside the slices'\n"
	"  --egress nat|none    bridged slices reach outside the node through its address\n"
	"                       (nat, the default), or only the node and the pool (none)\n"
	"  --log-level LEVEL    debug, info, warn or error (default info)\n"
	"  --metrics-listen ADDR:PORT  serve Prometheus text of the node and its slices\n"
	"                       at http://ADDR:PORT/metrics (default: not served)\n"
	"  --controller HOST:PORT  join the pool of this controller, with:\n"
	"    --join-token T | --join-token-file F   the pool's join token\n"
	"    --attr KEY=VALUE   an attribute of this node for placement (repeatable)\n"
	"    --tls-ca FILE      CA of the controller's certificate (default: the system's)\n"
	"    --tls-cert FILE, --tls-key FILE   this node's certificate, for mutual TLS\n"
	"    --insecure         plain TCP (to a loopback controller only)\n"
	"    --node-address A   this node's address in the pool (default: the source\n"
	"                       address of its connection to the controller)\n"
	"    --net-capacity R   its bandwidth for --net-rate (default: the link's speed)\n"
	"    --port-range A-B   ports of the host's network the pool picks for slices\n"
	"                       that ask for one (--net host app ports without a\n"
	"                       number; default 20000-29999)\n"
	"  --version, --help\n";

/*
 * acre-init beside our own binary (a build tree), else in libexec/acre/ beside
 * its bin/ or sbin/ (`make install`, the Debian package's /usr/sbin and
 * /usr/libexec/acre).  dirname() may write into its argument: it is called once.
 */
static void default_init_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		const char *dir = dirname(self);
		snprintf(buf, len, "%s/acre-init", dir);
		if (access(buf, X_OK) == 0)
			return;
		snprintf(buf, len, "%s/../libexec/acre/acre-init", dir);
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, len, "/usr/local/libexec/acre/acre-init");
}

/* The join token from a file (one line), kept for the life of the process. */
static int read_token_file(const char *path, const char **out)
{
	static char *token;
	size_t len;
	free(token);
	token = NULL;
	int rc = acre_file_read(AT_FDCWD, path, &token, &len, 4096);
	if (rc < 0) {
		fprintf(stderr, "acre-supervisor: --join-token-file %s: %s\n", path, strerror(-rc));
		return -1;
	}
	while (len && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
		token[--len] = '\0';
	*out = token;
	return 0;
}

static int parse_options(int argc, char **argv, struct supervisor_options *o, char *init_buf,
			 size_t init_len)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"state-dir", required_argument, NULL, 'd'},
		{"cgroup-root", required_argument, NULL, 'c'},
		{"init", required_argument, NULL, 'i'},
		{"group", required_argument, NULL, 'g'},
		{"stop-timeout", required_argument, NULL, 't'},
		{"prelaunch", required_argument, NULL, 'P'},
		{"no-accounting", no_argument, NULL, 'A'},
		{"vip-cgroup", required_argument, NULL, 1010},
		{"bridge", required_argument, NULL, 'B'},
		{"slice-cidr", required_argument, NULL, 'N'},
		{"egress", required_argument, NULL, 'E'},
		{"log-level", required_argument, NULL, 'l'},
		{"resolv-conf", required_argument, NULL, 'R'},
		{"dns-hosts", required_argument, NULL, 'H'},
		{"controller", required_argument, NULL, 1000},
		{"join-token", required_argument, NULL, 1001},
		{"join-token-file", required_argument, NULL, 1002},
		{"attr", required_argument, NULL, 1003},
		{"tls-ca", required_argument, NULL, 1004},
		{"tls-cert", required_argument, NULL, 1005},
		{"tls-key", required_argument, NULL, 1006},
		{"insecure", no_argument, NULL, 1007},
		{"node-address", required_argument, NULL, 1008},
		{"net-capacity", required_argument, NULL, 1009},
		{"metrics-listen", required_argument, NULL, 1011},
		{"port-range", required_argument, NULL, 1020},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*o = (struct supervisor_options){.socket_path = "/run/acre/supervisor.sock",
					 .state_dir = "/var/lib/acre",
					 .cgroup_root = "acre",
					 .group = "acre",
					 .stop_timeout_ms = 10000,
					 .prelaunch = 32,
					 .bridge = "acre0",
					 .slice_cidr = "10.88.0.0/16",
					 .port_first = ACRE_PORT_RANGE_FIRST,
					 .port_last = ACRE_PORT_RANGE_LAST};
	int c;
	struct acre_error err = {0};
	enum acre_log_level level;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'd':
			o->state_dir = optarg;
			break;
		case 'c':
			o->cgroup_root = optarg;
			break;
		case 'i':
			o->init_path = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 't':
			if (acre_parse_duration(optarg, &o->stop_timeout_ms, &err,
						"--stop-timeout") < 0) {
				fprintf(stderr, "acre-supervisor: %s\n", err.message);
				return -1;
			}
			break;
		case 'A':
			o->no_accounting = true;
			break;
		case 1010:
			if (vip_check_cgroup(optarg, &err) < 0) {
				fprintf(stderr, "acre-supervisor: %s\n", err.message);
				return -1;
			}
			o->vip_cgroup = optarg;
			break;
		case 'B':
			o->bridge = optarg;
			o->net_given = true;
			break;
		case 'N':
			o->slice_cidr = optarg;
			o->net_given = true;
			break;
		case 'R':
			o->resolv_conf = optarg;
			break;
		case 'H':
			o->dns_hosts = optarg;
			break;
		case 'E':
			if (strcmp(optarg, "nat") && strcmp(optarg, "none")) {
				fprintf(stderr, "acre-supervisor: --egress %s: nat or none\n",
					optarg);
				return -1;
			}
			o->egress_none = strcmp(optarg, "none") == 0;
			break;
		case 'P': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || n > 32) {
				fprintf(stderr, "acre-supervisor: --prelaunch %s: 0 to 32\n",
					optarg);
				return -1;
			}
			o->prelaunch = (unsigned)n;
			break;
		}
		case 'l':
			if (acre_log_parse_level(optarg, &level) < 0) {
				fprintf(stderr, "acre-supervisor: --log-level %s: unknown level\n",
					optarg);
				return -1;
			}
			acre_log_set_level(level);
			break;
		case 1000:
			o->link.controller = optarg;
			break;
		case 1001:
			o->link.join_token = optarg;
			break;
		case 1002:
			if (read_token_file(optarg, &o->link.join_token) < 0)
				return -1;
			break;
		case 1003:
			if (acre_strv_push(&o->link.attrs, optarg) < 0)
				return -1;
			break;
		case 1004:
			o->link.tls_ca = optarg;
			break;
		case 1005:
			o->link.tls_cert = optarg;
			break;
		case 1006:
			o->link.tls_key = optarg;
			break;
		case 1007:
			o->link.insecure = true;
			break;
		case 1008:
			if (acre_cidr_addr_parse(optarg, &o->node_address) < 0 ||
			    !o->node_address) {
				fprintf(stderr,
					"acre-supervisor: --node-address %s: expected an IPv4 "
					"address\n",
					optarg);
				return -1;
			}
			break;
		case 1009:
			if (acre_parse_rate(optarg, &o->net_capacity, &err, "--net-capacity") < 0 ||
			    !o->net_capacity) {
				fprintf(stderr, "acre-supervisor: %s\n",
					err.message[0] ? err.message
						       : "--net-capacity: must be above 0");
				return -1;
			}
			break;
		case 1011:
			if (metrics_listen_check(optarg, &err) < 0) {
				fprintf(stderr, "acre-supervisor: %s\n", err.message);
				return -1;
			}
			o->metrics_listen = optarg;
			break;
		case 1020:
			if (acre_proto_port_range_parse(optarg, &o->port_first, &o->port_last,
							"--port-range", &err) < 0) {
				fprintf(stderr, "acre-supervisor: %s\n", err.message);
				return -1;
			}
			break;
		case 'V':
			printf("acre-supervisor %s\n", ACRE_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "acre-supervisor: unexpected argument %s\n%s", argv[optind], usage);
		return -1;
	}
	if (!o->init_path) {
		default_init_path(init_buf, init_len);
		o->init_path = init_buf;
	}
	return 0;
}

static int open_state(struct supervisor *sv, struct acre_error *err)
{
	const char *dir = sv->opt.state_dir;
	int rc = acre_mkdir_p(dir, 0700);
	if (rc < 0)
		return acre_error_set(err, -rc, "--state-dir", "--state-dir %s: %s", dir,
				      strerror(-rc));
	sv->state_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv->state_fd < 0)
		return acre_error_set(err, errno, "--state-dir", "--state-dir %s: %s", dir,
				      strerror(errno));
	sv->lock_fd = openat(sv->state_fd, "supervisor.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	/*
	 * A record lock, not flock(2): it is this process's alone.  A launch
	 * child shares our open files until it execs acre-init; with flock it
	 * would hold the lock after a crash and keep the next supervisor out.
	 */
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (sv->lock_fd < 0 || fcntl(sv->lock_fd, F_SETLK, &lk) < 0) {
		bool taken = errno == EAGAIN || errno == EACCES;
		return acre_error_set(err, taken ? EBUSY : errno, "--state-dir",
				      "--state-dir %s: %s", dir,
				      taken ? "another supervisor is using it" : strerror(errno));
	}
	if (mkdirat(sv->state_fd, "slices", 0700) < 0 && errno != EEXIST)
		return acre_error_set(err, errno, NULL, "creating %s/slices: %s", dir,
				      strerror(errno));
	sv->slices_fd = openat(sv->state_fd, "slices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv->slices_fd < 0)
		return acre_error_set(err, errno, NULL, "opening %s/slices: %s", dir,
				      strerror(errno));
	return 0;
}

static void describe_node(struct supervisor *sv)
{
	struct stat st;
	if (stat("/proc/self/ns/pid", &st) == 0)
		sv->pid_ns = st.st_ino;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	sv->ncpus = n > 0 ? (unsigned)n : 1;
	sv->memory_total = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	struct group *g = getgrnam(sv->opt.group);
	if (g) {
		sv->group_gid = g->gr_gid;
		sv->have_group = true;
	}
	/* Slices must not reach other slices' state and logs through the shared host root. */
	static char state_real[PATH_MAX];
	if (realpath(sv->opt.state_dir, state_real))
		sv->hide_paths[0] = state_real;
}

/* Many slices mean many pidfds: take what the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* systemd's Type=notify: one datagram once the socket is served. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		acre_log(ACRE_LOG_WARN, "event=notify_failed error=\"%s\"", strerror(errno));
	close(fd);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct supervisor *sv = arg;
	acre_log(ACRE_LOG_INFO, "event=stopping signal=%s", acre_signal_name((int)sig));
	sv->stopping = true;
	event_base_loopbreak(sv->base);
}

/* Slices being removed are finished off; all others keep running without us. */
static void finish_removals(struct supervisor *sv)
{
	_cleanup_free_ const char **names = acre_map_sorted_keys(sv->slices);
	for (size_t i = 0; names && names[i]; i++) {
		struct slice *s = slice_find(sv, names[i]);
		if (!s || !s->removing || !slice_is_active(s))
			continue;
		struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
		if (poll(&p, 1, 2000) == 1)
			slice_on_exit(s->pidfd, EV_READ, s);
	}
}

static void free_slice_cb(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	slice_free(value);
}

/* eBPF accounting is welcome, not required: without it everything else works. */
static void open_accounting(struct supervisor *sv)
{
	struct acre_error err = {0};
	const char *v2 = acre_cgroup_system_v2_path(sv->cgroups);
	if (sv->opt.no_accounting)
		acre_error_set(&err, ECANCELED, NULL, "--no-accounting");
	else if (!v2)
		acre_error_set(&err, EOPNOTSUPP, NULL,
			       "this node has no cgroup v2 tree to attach to");
	else
		acre_bpf_open(sv->opt.cgroup_root, v2, &sv->bpf, &err);
	if (sv->bpf) {
		acre_log(ACRE_LOG_INFO, "event=accounting_on pins=%s", acre_bpf_pin_dir(sv->bpf));
		return;
	}
	snprintf(sv->accounting_off, sizeof(sv->accounting_off), "%s", err.message);
	acre_log(ACRE_LOG_WARN, "event=accounting_off reason=\"%s\"", err.message);
}

static int setup(struct supervisor *sv, struct acre_error *err)
{
	int rc = open_state(sv, err);
	if (rc == 0)
		rc = acre_cgroup_system_open(sv->opt.cgroup_root, &sv->cgroups, err);
	if (rc == 0)
		open_accounting(sv);
	if (rc == 0)
		rc = acre_seccomp_compile_default(&sv->seccomp_default, err);
	if (rc == 0)
		rc = acre_init_exe_open(sv->opt.init_path, &sv->init_exe_fd, err);
	if (rc == 0 && !(sv->slices = acre_map_new()))
		rc = acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (rc == 0 && !(sv->base = event_base_new()))
		rc = acre_error_set(err, ENOMEM, NULL, "creating the event loop");
	if (rc == 0)
		rc = waiters_init(sv, err);
	if (rc == 0)
		rc = fetch_init(sv, err);
	/* Before recovery: what recovery finds out about the pool's slices is reported too. */
	if (rc == 0 && sv->opt.link.controller)
		rc = controller_link_new(sv, err);
	if (rc == 0)
		rc = dns_init(sv, err);
	/* After the link and DNS: its observer is then told of a slice's change first. */
	if (rc == 0)
		rc = health_init(sv, err);
	/* Before network_init: a pool's node uses the subnet the pool gave it. */
	if (rc == 0)
		rc = pool_net_init(sv, err);
	if (rc < 0)
		return rc;
	if ((rc = network_init(sv, err)) < 0)
		return rc;
	recover_slices(sv);
	rwroot_sweep(sv); /* after the slices: a layer without one is an orphan */
	network_recover(sv);
	if ((rc = egress_init(sv, err)) < 0)
		return rc;
	net_class_init(sv);
	vip_init(sv);
	recover_sweep_cgroups(sv);
	if ((rc = prelaunch_init(sv, sv->opt.prelaunch, err)) < 0)
		return rc;
	if ((rc = metrics_init(sv, err)) < 0)
		return rc;
	if ((rc = server_listen(sv, &socket_ops_handler, err)) == 0)
		controller_link_start(sv->link);
	return rc;
}

static void teardown(struct supervisor *sv)
{
	server_close(sv);
	metrics_free(sv);
	health_free(sv);
	fetch_free(sv);
	if (sv->slices) {
		finish_removals(sv);
		acre_map_foreach(sv->slices, free_slice_cb, NULL);
	}
	controller_link_free(sv->link);
	sv->link = NULL;
	waiters_free(sv);
	prelaunch_free(sv);
	recover_sweep_free(sv);
	dns_free(sv);
	pool_net_free(sv, sv->slices && acre_map_size(sv->slices) == 0);
	egress_free(sv, sv->slices && acre_map_size(sv->slices) == 0);
	network_free(sv, sv->slices && acre_map_size(sv->slices) == 0);
	if (sv->slices && acre_map_size(sv->slices) == 0)
		volumes_unmount_all(sv); /* the images stay, for the next slice that names them */
	vip_free(sv);
	/*
	 * Nothing of ours left in the subtree: leave no trace of it either.  With
	 * slices left, the pins stay and keep counting for the next supervisor.
	 */
	bool empty = sv->slices && acre_map_size(sv->slices) == 0;
	acre_bpf_close(sv->bpf);
	if (empty && sv->bpf)
		acre_bpf_remove_pins(sv->opt.cgroup_root);
	if (empty && sv->cgroups)
		acre_cgroup_system_remove_root(sv->cgroups);
	acre_map_free(sv->slices);
	acre_seccomp_filter_free(sv->seccomp_default);
	acre_cgroup_system_free(sv->cgroups);
	if (sv->init_exe_fd >= 0)
		close(sv->init_exe_fd);
	if (sv->slices_fd >= 0)
		close(sv->slices_fd);
	if (sv->state_fd >= 0)
		close(sv->state_fd);
	if (sv->lock_fd >= 0)
		close(sv->lock_fd);
	if (sv->base)
		event_base_free(sv->base);
}

int main(int argc, char **argv)
{
	static char init_buf[PATH_MAX];
	struct supervisor sv = {.listen_fd = -1,
				.state_fd = -1,
				.slices_fd = -1,
				.lock_fd = -1,
				.init_exe_fd = -1,
				.started_ns = acre_monotonic_ns()};
	if (argc > 1 && strcmp(argv[1], "join") == 0)
		return supervisor_join_main(argc - 1, argv + 1);
	if (parse_options(argc, argv, &sv.opt, init_buf, sizeof(init_buf)) < 0)
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "acre-supervisor: must run as root\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	describe_node(&sv);
	struct acre_error err = {0};
	if (setup(&sv, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "event=start_failed error=\"%s\"", err.message);
		teardown(&sv);
		return 1;
	}
	struct event *term = evsignal_new(sv.base, SIGTERM, on_stop_signal, &sv);
	struct event *intr = evsignal_new(sv.base, SIGINT, on_stop_signal, &sv);
	event_add(term, NULL);
	event_add(intr, NULL);
	acre_log(ACRE_LOG_INFO,
		 "event=ready socket=%s state_dir=%s cgroup_root=%s cgroup_mode=%s "
		 "slices=%zu",
		 sv.opt.socket_path, sv.opt.state_dir, sv.opt.cgroup_root,
		 acre_cgroup_mode_name(acre_cgroup_system_mode(sv.cgroups)),
		 acre_map_size(sv.slices));
	notify_ready();
	event_base_dispatch(sv.base);
	event_free(term);
	event_free(intr);
	teardown(&sv);
	acre_strv_free(sv.opt.link.attrs);
	acre_log(ACRE_LOG_INFO, "event=stopped");
	return 0;
}
