/*
 * acre-controller: every node's slices as one schedulable pool.  One
 * process, one libevent loop: supervisors connect to the node port (TLS),
 * clients use the HTTP API, and the state lives in SQLite under --data-dir.
 * The loop runs a pass at a time and commits each pass's changes before
 * answering for them (see ctl.h).  SIGTERM ends it within moments; the
 * nodes keep their slices and reconnect when it is back.
 */
#include "ctl.h"
#include "controller/api/api.h"
#include "controller/api/eventlog.h"
#include "controller/nodeport/nodeport.h"
#include "controller/pool/pool.h"
#include "controller/store/store.h"

#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: acre-controller [OPTIONS]\n"
	"  --data-dir DIR          state (one SQLite file; default /var/lib/acre-controller)\n"
	"  --node-listen HOST:PORT where supervisors connect (default 0.0.0.0:7470)\n"
	"  --api-listen HOST:PORT  the HTTP API (default 127.0.0.1:7471)\n"
	"  --api-url URL           the API as the nodes reach it, where they fetch bundled\n"
	"                          artifacts (default http://HOST:PORT of --api-listen, unless\n"
	"                          HOST is a wildcard: 0.0.0.0 or ::)\n"
	"  --tls-cert FILE         this controller's certificate (PEM) for the node port\n"
	"  --tls-key FILE          its private key\n"
	"  --tls-ca FILE           CA that signs supervisors' certificates (then required)\n"
	"  --tls-ca-key FILE       its key: sign the certificates of joining nodes\n"
	"  --insecure              plain TCP on the node port (loopback addresses only)\n"
	"  --join-token T | --join-token-file F   what supervisors present to join\n"
	"  --api-token T | --api-token-file F     the API's bearer token\n"
	"  --node-timeout DUR      silence after which a node is unreachable (default 5s)\n"
	"  --lost-after DUR        unreachable time after which its slices are lost (default 30s)\n"
	"  --packages-dir DIR      the shipped packages (default /usr/share/acre/packages, or\n"
	"                          packages/ of the source tree the binary was built in)\n"
	"  --deployment-step-deadline DUR\n"
	"                          a deployment without progress this long says why, and\n"
	"                          rolls back or fails (default 5m)\n"
	"  --max-batch N           slices per POST /v1/slices (default 10000)\n"
	"  --events-max N          events the event log keeps, at most (default 100000)\n"
	"  --events-max-age DUR    events older than this are dropped (default 7d)\n"
	"  --pool-cidr CIDR        slices' addresses, cut in node subnets (default 10.64.0.0/10)\n"
	"  --node-subnet-bits N    the prefix of each node's subnet (default 24)\n"
	"  --vip-cidr CIDR         virtual IPs of groups of slices (default 10.63.0.0/16)\n"
	"  --overlay host-gw|vxlan how nodes reach each other's slices (default host-gw)\n"
	"  --log-level LEVEL       debug, info, warn or error (default info)\n"
	"  --version, --help\n";

#define MIN_TOKEN 16

static int read_token(const char *path, char **out, const char *flag)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = acre_file_read(AT_FDCWD, path, &text, &len, 4096);
	if (rc < 0) {
		fprintf(stderr, "acre-controller: %s %s: %s\n", flag, path, strerror(-rc));
		return -1;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	*out = TAKE_PTR(text);
	return 0;
}

static int set_token(char **slot, const char *value, const char *flag)
{
	free(*slot);
	*slot = strdup(value);
	if (!*slot) {
		fprintf(stderr, "acre-controller: %s: out of memory\n", flag);
		return -1;
	}
	return 0;
}

static int check_token(const char *t, const char *flag)
{
	if (!t) {
		fprintf(stderr, "acre-controller: %s (or %s-file) is required\n", flag, flag);
		return -1;
	}
	if (strlen(t) < MIN_TOKEN) {
		fprintf(stderr, "acre-controller: %s: at least %d characters\n", flag, MIN_TOKEN);
		return -1;
	}
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			fprintf(stderr, "acre-controller: %s: printable characters only\n", flag);
			return -1;
		}
	return 0;
}

static int parse_duration(const char *arg, uint64_t *out, const char *flag)
{
	struct acre_error err = {0};
	if (acre_parse_duration(arg, out, &err, flag) < 0 || *out == 0) {
		fprintf(stderr, "acre-controller: %s\n", err.message[0] ? err.message : flag);
		return -1;
	}
	return 0;
}

static int events_option(struct ctl_options *o, const char *flag, const char *value)
{
	struct acre_error err = {0};
	if (eventlog_options_set(&o->events, flag, value, &err) < 0) {
		fprintf(stderr, "acre-controller: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int check_options(struct ctl_options *o)
{
	if (check_token(o->join_token, "--join-token") < 0 ||
	    check_token(o->api_token, "--api-token") < 0)
		return -1;
	if (!o->insecure && (!o->tls_cert || !o->tls_key)) {
		fprintf(stderr, "acre-controller: the node port needs --tls-cert and --tls-key "
				"(or --insecure, on loopback only)\n");
		return -1;
	}
	if (o->tls_ca_key && (!o->tls_ca || o->insecure)) {
		fprintf(stderr,
			"acre-controller: --tls-ca-key signs with the CA of --tls-ca, over TLS\n");
		return -1;
	}
	o->heartbeat_ms = o->node_timeout_ms / 3 < 100 ? 100 : o->node_timeout_ms / 3;
	struct acre_error err = {0};
	if (pool_net_options_check(&o->net, &err) < 0) {
		fprintf(stderr, "acre-controller: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct ctl_options *o)
{
	enum {
		O_DATA = 1000,
		O_NODE,
		O_API,
		O_CERT,
		O_KEY,
		O_CA,
		O_CA_KEY,
		O_INSECURE,
		O_JOIN,
		O_JOINF,
		O_APIT,
		O_APITF,
		O_TIMEOUT,
		O_LOST,
		O_BATCH,
		O_EVMAX,
		O_EVAGE,
		O_LOG,
		O_POOL_CIDR,
		O_SUBNET_BITS,
		O_VIP_CIDR,
		O_OVERLAY,
		O_STEP_DEADLINE,
		O_PACKAGES,
		O_API_URL,
		O_VERSION
	};
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, O_DATA},
		{"node-listen", required_argument, NULL, O_NODE},
		{"api-listen", required_argument, NULL, O_API},
		{"tls-cert", required_argument, NULL, O_CERT},
		{"tls-key", required_argument, NULL, O_KEY},
		{"tls-ca", required_argument, NULL, O_CA},
		{"tls-ca-key", required_argument, NULL, O_CA_KEY},
		{"insecure", no_argument, NULL, O_INSECURE},
		{"join-token", required_argument, NULL, O_JOIN},
		{"join-token-file", required_argument, NULL, O_JOINF},
		{"api-token", required_argument, NULL, O_APIT},
		{"api-token-file", required_argument, NULL, O_APITF},
		{"node-timeout", required_argument, NULL, O_TIMEOUT},
		{"lost-after", required_argument, NULL, O_LOST},
		{"max-batch", required_argument, NULL, O_BATCH},
		{"events-max", required_argument, NULL, O_EVMAX},
		{"events-max-age", required_argument, NULL, O_EVAGE},
		{"log-level", required_argument, NULL, O_LOG},
		{"pool-cidr", required_argument, NULL, O_POOL_CIDR},
		{"node-subnet-bits", required_argument, NULL, O_SUBNET_BITS},
		{"vip-cidr", required_argument, NULL, O_VIP_CIDR},
		{"overlay", required_argument, NULL, O_OVERLAY},
		{"deployment-step-deadline", required_argument, NULL, O_STEP_DEADLINE},
		{"packages-dir", required_argument, NULL, O_PACKAGES},
		{"api-url", required_argument, NULL, O_API_URL},
		{"version", no_argument, NULL, O_VERSION},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*o = (struct ctl_options){.data_dir = "/var/lib/acre-controller",
				  .node_listen = "0.0.0.0:7470",
				  .api_listen = "127.0.0.1:7471",
				  .node_timeout_ms = 5000,
				  .lost_after_ms = 30000,
				  .max_batch = 10000};
	int c, rc = 0;
	enum acre_log_level level;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			o->data_dir = optarg;
			break;
		case O_NODE:
			o->node_listen = optarg;
			break;
		case O_API:
			o->api_listen = optarg;
			break;
		case O_API_URL:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
				fprintf(stderr,
					"acre-controller: --api-url: \"%s\" is not an "
					"http:// or https:// URL\n",
					optarg);
				rc = -1;
			}
			o->api_url = optarg;
			break;
		case O_CERT:
			o->tls_cert = optarg;
			break;
		case O_KEY:
			o->tls_key = optarg;
			break;
		case O_CA:
			o->tls_ca = optarg;
			break;
		case O_CA_KEY:
			o->tls_ca_key = optarg;
			break;
		case O_INSECURE:
			o->insecure = true;
			break;
		case O_JOIN:
			rc = set_token(&o->join_token, optarg, "--join-token");
			break;
		case O_JOINF:
			rc = read_token(optarg, &o->join_token, "--join-token-file");
			break;
		case O_APIT:
			rc = set_token(&o->api_token, optarg, "--api-token");
			break;
		case O_APITF:
			rc = read_token(optarg, &o->api_token, "--api-token-file");
			break;
		case O_TIMEOUT:
			rc = parse_duration(optarg, &o->node_timeout_ms, "--node-timeout");
			break;
		case O_LOST:
			rc = parse_duration(optarg, &o->lost_after_ms, "--lost-after");
			break;
		case O_PACKAGES:
			o->packages_dir = optarg;
			break;
		case O_STEP_DEADLINE:
			rc = parse_duration(optarg, &o->step_deadline_ms,
					    "--deployment-step-deadline");
			break;
		case O_BATCH: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || n == 0 || n > 1000000) {
				fprintf(stderr, "acre-controller: --max-batch %s: 1 to 1000000\n",
					optarg);
				rc = -1;
			}
			o->max_batch = (unsigned)n;
			break;
		}
		case O_EVMAX:
			rc = events_option(o, "--events-max", optarg);
			break;
		case O_EVAGE:
			rc = events_option(o, "--events-max-age", optarg);
			break;
		case O_LOG:
			if (acre_log_parse_level(optarg, &level) < 0) {
				fprintf(stderr, "acre-controller: --log-level %s: unknown level\n",
					optarg);
				rc = -1;
			}
			acre_log_set_level(level);
			break;
		case O_POOL_CIDR:
			o->net.pool_cidr = optarg;
			break;
		case O_VIP_CIDR:
			o->net.vip_cidr = optarg;
			break;
		case O_OVERLAY:
			o->net.overlay = optarg;
			break;
		case O_SUBNET_BITS: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-' || n == 0 || n > 32) {
				fprintf(stderr,
					"acre-controller: --node-subnet-bits %s: a prefix length, "
					"1 "
					"to 30\n",
					optarg);
				rc = -1;
			}
			o->net.node_subnet_bits = (unsigned)n;
			break;
		}
		case O_VERSION:
			printf("acre-controller %s\n", ACRE_VERSION);
			exit(0);
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			rc = -1;
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "acre-controller: unexpected argument %s\n%s", argv[optind], usage);
		rc = -1;
	}
	return rc < 0 ? -1 : check_options(o);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ctl *c = arg;
	pool_tick(c->pool);
	apps_tick(c->apps);
	nodeport_tick(c->nodeport);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct ctl *c = arg;
	acre_log(ACRE_LOG_INFO, "event=stopping signal=%s", acre_signal_name((int)sig));
	c->stopping = true;
	event_base_loopbreak(c->base);
}

/* 10,000 nodes are 10,000 sockets: take what the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The shipped packages: where the Debian package puts them, else the
 * packages/ of the tree this binary was built in (build/bin/..), which is
 * what `make run` and the tests use.
 */
static const char *packages_dir(const char *given, char *buf, size_t len)
{
	struct stat st;
	if (given)
		return given;
	if (stat("/usr/share/acre/packages", &st) == 0 && S_ISDIR(st.st_mode))
		return "/usr/share/acre/packages";
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "packages";
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, len, "%s/../../packages", exe);
	return buf;
}

/* The end of a pass: the pool's commit, then what waited for it. */
static void pass_end(struct ctl *c)
{
	if (c->apps)
		apps_reconcile(c->apps);
	if (c->installs)
		installs_tick(c->installs);
	pool_commit(c->pool);
	if (c->nodeport)
		nodeport_flush(c->nodeport);
	if (c->api)
		api_flush(c->api);
}

/*
 * The API's URL as the nodes reach it: --api-url, or --api-listen's
 * address when it names one (a wildcard names none: then bundled
 * artifacts are fetched from their own URIs).
 */
static const char *api_url(const struct ctl_options *o, char *buf, size_t len)
{
	if (o->api_url)
		return o->api_url;
	const char *l = o->api_listen;
	if (!strncmp(l, "0.0.0.0:", 8) || !strncmp(l, "[::]:", 5) || !strncmp(l, ":::", 3) ||
	    l[0] == ':')
		return NULL;
	return (size_t)snprintf(buf, len, "http://%s", l) < len ? buf : NULL;
}

static int setup(struct ctl *c, struct acre_error *err)
{
	if (!(c->base = event_base_new()))
		return acre_error_set(err, ENOMEM, NULL, "creating the event loop");
	struct pool_options po = {.node_timeout_ms = c->opt.node_timeout_ms,
				  .lost_after_ms = c->opt.lost_after_ms,
				  .net = c->opt.net};
	int rc = store_open(c->opt.data_dir, &c->store, err);
	if (rc == 0)
		rc = pool_open(c->store, &po, &c->pool, err);
	struct apps_options apo = {.step_deadline_ms = c->opt.step_deadline_ms};
	if (rc == 0)
		rc = apps_open(c->pool, &apo, &c->apps, err);
	char pkgdir[PATH_MAX + 32];
	char url[512];
	struct installs_options io = {
		.packages_dir = packages_dir(c->opt.packages_dir, pkgdir, sizeof(pkgdir)),
		.data_dir = c->opt.data_dir,
		.base = c->base,
		.api_url = api_url(&c->opt, url, sizeof(url))};
	if (rc == 0)
		rc = installs_open(c->pool, c->apps, &io, &c->installs, err);
	if (rc == 0 && !c->opt.insecure) {
		const struct acre_proto_tls_files tls = {c->opt.tls_cert, c->opt.tls_key,
							 c->opt.tls_ca};
		rc = acre_proto_tls_server_ctx(&tls, &c->ssl_ctx, err);
	}
	if (rc == 0 && c->opt.tls_ca_key)
		rc = acre_proto_ca_load(c->opt.tls_ca, c->opt.tls_ca_key, &c->ca, err);
	if (rc < 0)
		return rc;
	struct nodeport_options no = {.listen = c->opt.node_listen,
				      .insecure = c->opt.insecure,
				      .ssl_ctx = c->ssl_ctx,
				      .join_token = c->opt.join_token,
				      .heartbeat_ms = c->opt.heartbeat_ms,
				      .client_certs = c->opt.tls_ca && !c->opt.insecure,
				      .ca = c->ca};
	struct api_options ao = {.listen = c->opt.api_listen,
				 .token = c->opt.api_token,
				 .max_batch = c->opt.max_batch,
				 .events = c->opt.events,
				 .apps = c->apps,
				 .installs = c->installs,
				 .join = {c->opt.node_listen, c->opt.join_token,
					  c->ca ? acre_proto_ca_hash_of(c->ca) : NULL}};
	if ((rc = nodeport_start(c->base, c->pool, &no, &c->nodeport, err)) < 0)
		return rc;
	ao.nodeport = c->nodeport; /* slices' logs come from their nodes' connections */
	if ((rc = api_start(c->base, c->pool, &ao, &c->api, err)) < 0)
		return rc;
	c->tick = event_new(c->base, -1, EV_PERSIST, on_tick, c);
	struct timeval tv = {0, 250 * 1000};
	if (!c->tick || event_add(c->tick, &tv) < 0)
		return acre_error_set(err, ENOMEM, NULL, "creating the timer");
	return 0;
}

static void teardown(struct ctl *c)
{
	if (c->pool)
		pass_end(c); /* what the last pass changed */
	nodeport_stop(c->nodeport);
	c->nodeport = NULL;
	if (c->pool)
		pool_commit(c->pool); /* the nodes' disconnections, and their events */
	api_stop(c->api);	      /* the event log closes with it, before the store */
	c->api = NULL;
	installs_close(c->installs);
	c->installs = NULL;
	apps_close(c->apps);
	c->apps = NULL;
	if (c->tick)
		event_free(c->tick);
	pool_close(c->pool);
	store_close(c->store);
	acre_proto_tls_ctx_free(c->ssl_ctx);
	acre_proto_ca_free(c->ca);
	if (c->base)
		event_base_free(c->base);
	free(c->opt.join_token);
	free(c->opt.api_token);
}

int main(int argc, char **argv)
{
	static struct ctl c;
	if (parse_options(argc, argv, &c.opt) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	/*
	 * JSON makes many small short-lived allocations between large socket
	 * buffers; glibc's fastbins would be consolidated on every large one.
	 * Without them the thread cache still serves the small ones.
	 */
	mallopt(M_MXFAST, 0);
	struct acre_error err = {0};
	if (setup(&c, &err) < 0) {
		acre_log(ACRE_LOG_ERROR, "event=start_failed error=\"%s\"", err.message);
		teardown(&c);
		return 1;
	}
	struct event *term = evsignal_new(c.base, SIGTERM, on_stop, &c);
	struct event *intr = evsignal_new(c.base, SIGINT, on_stop, &c);
	event_add(term, NULL);
	event_add(intr, NULL);
	acre_log(ACRE_LOG_INFO,
		 "event=ready node_listen=%s tls=%s api_listen=%s data_dir=%s node_timeout_ms=%llu "
		 "lost_after_ms=%llu",
		 c.opt.node_listen,
		 c.opt.insecure ? "off"
		 : c.opt.tls_ca ? "mutual"
				: "on",
		 c.opt.api_listen, c.opt.data_dir, (unsigned long long)c.opt.node_timeout_ms,
		 (unsigned long long)c.opt.lost_after_ms);
	/* One pass, then its commit: see pool/pool.h. */
	while (!c.stopping) {
		/* An app's starts left for the next pass do not wait for an event. */
		int flags = c.apps && apps_busy(c.apps) ? EVLOOP_NONBLOCK : EVLOOP_ONCE;
		if (event_base_loop(c.base, flags) < 0)
			break;
		pass_end(&c);
	}
	event_free(term);
	event_free(intr);
	teardown(&c);
	acre_log(ACRE_LOG_INFO, "event=stopped");
	return 0;
}
