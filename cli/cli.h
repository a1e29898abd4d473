/*
 * acre, the command line: bpftool-style `acre [OPTIONS] OBJECT COMMAND
 * [ARGS]`, with a table of commands per object, unique prefixes, and the
 * same data printed as aligned tables or as JSON (-j, -p).  The slice
 * commands are written once and act on a node (its socket) or on the pool
 * (--controller) through a slice backend; what they print under -j has one
 * documented shape whichever answered (cli/README.md).
 */
#ifndef ACRE_CLI_H
#define ACRE_CLI_H

#include "common/common.h"
#include "proto/proto.h"

#include <getopt.h>

enum output_mode { OUTPUT_TABLE, OUTPUT_JSON, OUTPUT_PRETTY };

struct slice_backend;

struct cli {
	const char *socket_path;
	const char *controller; /* the pool's controller: http://HOST:PORT */
	const char *token, *token_file;
	enum output_mode output;
	/* How long one request waits for its reply (--timeout, $ACRE_TIMEOUT);
	 * waiting for a task's end (a foreground run, logs --follow) is not a request. */
	uint64_t timeout_ms;
	/* Where slices are, chosen once: a node's socket, or the pool with --controller. */
	const struct slice_backend *slices;
};

/* A command: argv[0] is the command's own name; returns the process exit status. */
struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *usage;
};

/* ---- dispatch.c: tables of commands ---- */
/* Finds `word` in a NULL-name-terminated table, exactly or as a unique prefix; else err. */
const struct command *dispatch_find(const struct command *table, const char *word, const char *what,
				    struct acre_error *err);
void dispatch_usage(const struct command *table, const char *object, FILE *out);
/* `acre OBJECT COMMAND ...`: help, or the command argv[1] names in the object's table. */
int dispatch_object(struct cli *cli, int argc, char **argv, const char *object,
		    const struct command *table);
/* 0 when --controller (or $ACRE_CONTROLLER) is set, else 1 after saying it is needed. */
int cli_need_controller(const struct cli *cli);

/* ---- client.c: talking to the supervisor ---- */
struct client {
	int fd;
	struct acre_proto_frame in;
	int received_fd; /* an fd that came with the last message, or -1 */
	json_int_t next_id;
	int reply_timeout_ms; /* client_call's wait for a reply; -1: forever */
	const char *path;     /* for messages */
};
int client_connect(struct client *c, const char *path, struct acre_error *err);
void client_close(struct client *c);
/* Sends {op, id, ...args}; fds (may be NULL) travel with it.  Returns the id used. */
json_int_t client_send(struct client *c, const char *op, json_t *args, const int *fds, int nfds,
		       struct acre_error *err);
/* Next message; blocks up to timeout_ms (-1: forever).  0 on timeout with *msg NULL. */
int client_read(struct client *c, int timeout_ms, json_t **msg, struct acre_error *err);
/* One request, its one reply: the result on success, err filled on failure. */
json_t *client_call(struct client *c, const char *op, json_t *args, struct acre_error *err);
/* Connects to the socket with cli's reply timeout. */
int cli_connect(struct cli *cli, struct client *c, struct acre_error *err);
/* Connects to the socket and makes one call. */
json_t *cli_call(struct cli *cli, const char *op, json_t *args, struct acre_error *err);

/* ---- http.c: talking to the controller ---- */
enum cli_method { CLI_GET, CLI_POST, CLI_PUT, CLI_DELETE };
/* Resolves the API token (--token, $ACRE_TOKEN, --token-file, $ACRE_TOKEN_FILE, a default file). */
int cli_token(struct cli *cli, struct acre_error *err);
/* One request to the controller: the JSON reply of a 2xx, else NULL and err. */
/* --controller as a URI: "http://HOST:PORT", or just "HOST:PORT"; NULL and err otherwise. */
struct evhttp_uri;
struct evhttp_uri *cli_controller_uri(const char *url, struct acre_error *err);
/* What a failed libevent HTTP request means, in a few words. */
enum evhttp_request_error;
const char *cli_http_error_name(enum evhttp_request_error e);
json_t *cli_api(struct cli *cli, enum cli_method method, const char *path, const json_t *body,
		struct acre_error *err);
/* The same, a 2xx reply's body written to fd as it is (a file the controller sends). */
int cli_api_to_fd(struct cli *cli, enum cli_method method, const char *path, const json_t *body,
		  int fd, struct acre_error *err);
/* `s` escaped for a URL's path or query (RFC 3986 unreserved kept); caller frees. */
char *cli_uri_escape(const char *s);
/* The controller was not there (refused, reset, silent) rather than answering an error. */
bool cli_unreachable(const struct acre_error *err);
/* Polls in a row (every 250 ms) a follower lets fail that way before giving up: 15 s, a
 * controller's restart. */
#define CLI_UNREACHABLE_POLLS 60
/* cli_api on PREFIX + escaped name + SUFFIX ("/v1/apps/", "web", "/scale"); suffix may be NULL. */
json_t *cli_api_on(struct cli *cli, enum cli_method method, const char *prefix, const char *name,
		   const char *suffix, const json_t *body, struct acre_error *err);

/* ---- output.c: what goes to stdout and stderr ---- */
void output_json(const struct cli *cli, const json_t *j);
struct table;
struct table *table_new(const char *const *headers);
void table_add(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);
/*
 * A failed command: one line "acre: MESSAGE" on stderr, or under -j/-p
 * {"error": {"code", "message", "field"?}} on stdout.  Returns 1, the exit status.
 */
int cli_fail(const struct cli *cli, const struct acre_error *err);
int cli_failf(const struct cli *cli, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- render.c: values as tables show them (pure) ---- */
/* The string at o[key], or "" when it is missing or not a string. */
const char *render_str(const json_t *o, const char *key);
/* A number as "%g", an integer as "%lld", bytes as "64M": "-" when null or absent. */
void render_cpus(const json_t *v, char *buf, size_t len);
void render_int(const json_t *v, char *buf, size_t len);
void render_bytes(const json_t *v, char *buf, size_t len);
/* How long ago `ms` (milliseconds since the epoch) was, "-" when null or 0. */
void render_age(const json_t *ms, char *buf, size_t len);
/* Bytes per second as a network rate ("12.5mbit"), nanoseconds as "15us" or "1.2ms": n/a when
 * the node could not measure them. */
void render_rate(const json_t *bytes_per_s, char *buf, size_t len);
void render_latency(const json_t *ns, char *buf, size_t len);
/* "k1=v1,k2=v2" of an object of strings, "-" when empty. */
void render_pairs(const json_t *o, char *buf, size_t len);
/* {"error": {"code", "message", "field"?}}, what -j prints for a failure. */
json_t *render_error(const struct acre_error *err);

/* ---- slices: one table of verbs over a backend ---- */

/* What `slice list` keeps: every label K=V (all must match), a state, a node of the pool. */
struct slice_filter {
	ACRE_VEC(const char *) labels; /* "K=V", pointing into argv */
	const char *state, *node;
};

/*
 * run_flags.c: the slice spec's flags, shared by `slice run` and the slice
 * template of `app run`.  Each table ends with {0}; run_options_join makes
 * one getopt_long table of several (NULL-terminated list; caller frees).
 */
enum run_opt {
	/* the slice spec's own (run_spec_options), RUN_OPT_CPUS to RUN_OPT_SECRET_FILE */
	RUN_OPT_CPUS = 1000,
	RUN_OPT_MEMORY,
	RUN_OPT_PIDS,
	RUN_OPT_NET,
	RUN_OPT_NET_RATE,
	RUN_OPT_ROOTFS,
	RUN_OPT_RW,
	RUN_OPT_USER,
	RUN_OPT_CWD,
	RUN_OPT_ENV,
	RUN_OPT_SECCOMP,
	RUN_OPT_CAP,
	RUN_OPT_ISOLATED,
	RUN_OPT_ALLOW,
	RUN_OPT_SECRET,
	RUN_OPT_SECRET_FILE,
	/* placement (run_placement_options) */
	RUN_OPT_CONSTRAINT,
	RUN_OPT_SPREAD,
	RUN_OPT_UNIQUE,
	RUN_OPT_STRATEGY,
	/* checks (run_check_options): RUN_OPT_CHECK + enum run_check_flag */
	RUN_OPT_CHECK = 1100,
};
extern const struct option run_spec_options[], run_placement_options[], run_check_options[];
struct option *run_options_join(const struct option *const *tables);
/* One of run_spec_options onto a slice spec (or an app's template), checked as the spec is. */
int run_spec_apply(int opt, const char *arg, json_t *spec, struct acre_error *err);
/* After the flags: `--net host` (net_given) takes "net" out of the namespaces, another puts it
 * back. */
void run_spec_finish(json_t *spec, bool net_given);
/* --constraint, --spread, --unique, --strategy onto a placement object. */
int run_placement_apply(int opt, const char *arg, json_t *placement, struct acre_error *err);
/* --volume NAME:SIZE:PATH appended to an array of volumes. */
int run_volume_add(const char *arg, json_t *volumes, struct acre_error *err);
/* --secret NAME=VALUE, --secret-file NAME=PATH (from_file) onto the spec's "secrets". */
int run_secret_add(const char *arg, bool from_file, json_t *secrets, struct acre_error *err);
/* --artifact URI,sha256=HEX (or sha256_from=URL, sha512_from=URL),path=PATH[,extract=BOOL]:
 * "artifacts". */
int run_artifact_add(const char *arg, json_t *artifacts, struct acre_error *err);
/* --env, --label K=V into an object. */
int run_key_value(const char *arg, const char *flag, json_t *into, struct acre_error *err);
/* spec[key] as an object or an array, made (replacing what else is there) when missing. */
json_t *run_object_at(json_t *spec, const char *key);
json_t *run_array_at(json_t *spec, const char *key);

/* `slice run` flags -> a slice spec */
struct run_request {
	json_t *spec;
	json_t *placement; /* --constraint, --spread, --unique, --strategy; NULL: none given */
	bool detach, remove;
};
int run_flags_parse(int argc, char **argv, struct run_request *req, struct acre_error *err);
/* Names the flag instead of the spec field in an error ("--memory" for resources.memory). */
void run_flags_reword(struct acre_error *err);

/* run_checks.c: --check-... and --ready-... flags -> the spec's checks and readiness */
enum run_check_flag {
	RUN_CHECK_HTTP,
	RUN_CHECK_TCP,
	RUN_CHECK_CMD,
	RUN_READY_HTTP,
	RUN_READY_TCP,
	RUN_READY_CMD,
	RUN_CHECK_GRACE,
	RUN_CHECK_INTERVAL,
	RUN_CHECK_TIMEOUT,
	RUN_CHECK_FAILURES,
};
/*
 * A check flag into spec; the timing flags into timing, for every check (run_checks_finish).
 * named: the port is an app's port's name (--check-http http/healthz), not a number.
 */
int run_checks_apply(enum run_check_flag f, const char *arg, json_t *spec, json_t *timing,
		     bool named, struct acre_error *err);
int run_checks_finish(json_t *spec, json_t *timing, struct acre_error *err);
void run_checks_reword(struct acre_error *err);

/*
 * Where slices live, behind the verbs: slice_node.c (a supervisor's socket)
 * and slice_pool.c (the controller's HTTP API).  Each call returns 0 or
 * -errno with err filled; what it hands back is already in the shapes of
 * slice_shape.c, so the verbs print the same whoever answered.  A NULL verb
 * is one the backend cannot do; `lacks` says why.
 */
struct slice_backend {
	const char *name; /* "node", "pool" */
	bool places;	  /* slices carry the node they were placed on */
	const char *lacks;
	/* Slice objects, filtered at the source where it can (the verb filters again). */
	int (*list)(struct cli *cli, const struct slice_filter *f, json_t **slices,
		    struct acre_error *err);
	int (*show)(struct cli *cli, const char *name, json_t **slice, struct acre_error *err);
	/* A detached run: the new slice. */
	int (*run)(struct cli *cli, const struct run_request *req, json_t **slice,
		   struct acre_error *err);
	/* A foreground run: the exit status (errors already printed).  NULL: always detached. */
	int (*run_attached)(struct cli *cli, const struct run_request *req);
	/* signo 0: the default ending (TERM, then KILL). */
	int (*kill)(struct cli *cli, const char *name, int signo, json_t **result,
		    struct acre_error *err);
	int (*rm)(struct cli *cli, const char *name, bool force, json_t **result,
		  struct acre_error *err);
	/* {"slices": [usage...], "accounting"}: names empty for every slice. */
	int (*stat)(struct cli *cli, json_t *names, json_t **res, struct acre_error *err);
	/* Copies the slice's log to stdout; with follow, until the slice ends. */
	int (*logs)(struct cli *cli, const char *name, bool follow, struct acre_error *err);
};
extern const struct slice_backend slice_node_backend;
extern const struct slice_backend slice_pool_backend;

/* slice_node_foreground.c: a foreground run on a node, its stdio handed to the task. */
int slice_node_run_attached(struct cli *cli, const struct run_request *req);
/*
 * How a foreground run ended, {"name", "state", "reason", "exit", "removed",
 * "memory_limit"?}: printed under -j, said on stderr when it was not a plain
 * exit; returns the task's status, the client's exit status.
 */
int slice_foreground_finish(struct cli *cli, json_t *res);

/* slice_pool_logs.c: a slice's log through the controller, copied to stdout as it comes. */
struct event_base;
struct cli_stream;
struct pool_log {
	struct event_base *base;
	struct cli_stream *stream;
	char name[ACRE_NAME_MAX + 1];
	int status;	       /* the controller's HTTP status, 0 before one came */
	bool done;	       /* over: the loop was told to stop */
	bool complete;	       /* ... at the log's end, not broken off */
	struct acre_error err; /* why, when not complete */
};
/* Starts the GET on base (the caller runs it); with follow, until the slice ends. */
int pool_log_open(struct cli *cli, struct event_base *base, const char *name, bool follow,
		  struct pool_log *pl, struct acre_error *err);
void pool_log_close(struct pool_log *pl);
/* The pool backend's logs verb. */
int slice_pool_logs(struct cli *cli, const char *name, bool follow, struct acre_error *err);
/* slice_pool_foreground.c: a foreground run through the pool, on its log (stdin not relayed). */
int slice_pool_run_attached(struct cli *cli, const struct run_request *req);

/*
 * slice_shape.c (pure): each backend's replies in the one shape -j prints.
 * The slice object of list and run; show adds the detail fields; kill and
 * rm answer {"name", "node", "signal"} and {"name", "node", "removed", "removing"}.
 */
json_t *slice_shape_node(const json_t *reply, bool detail);
json_t *slice_shape_pool(const json_t *reply, bool detail);
json_t *slice_shape_kill(const json_t *reply, const char *name);
json_t *slice_shape_rm(const json_t *reply, const char *name);
/* --label K=V, --state S: checked once, with an error naming the flag. */
int slice_filter_add_label(struct slice_filter *f, const char *kv, struct acre_error *err);
int slice_filter_set_state(struct slice_filter *f, const char *state, struct acre_error *err);
/* Whether a slice object passes the filter's labels and state (the node is the pool's). */
bool slice_filter_match(const struct slice_filter *f, const json_t *slice);

/* The verbs, one file per concern: slice_run.c, slice_query.c (list, show),
 * slice_manage.c (kill, rm, logs), slice_stat.c. */
int slice_cmd_run(struct cli *cli, int argc, char **argv);
int slice_cmd_list(struct cli *cli, int argc, char **argv);
int slice_cmd_show(struct cli *cli, int argc, char **argv);
int slice_cmd_stat(struct cli *cli, int argc, char **argv);
int slice_cmd_logs(struct cli *cli, int argc, char **argv);
int slice_cmd_kill(struct cli *cli, int argc, char **argv);
int slice_cmd_rm(struct cli *cli, int argc, char **argv);
/* The error of a verb the chosen backend cannot do. */
int slice_unsupported(struct cli *cli, const char *verb);

/* ---- apps and deployments (with --controller) ---- */

/* app_names.c (pure): ports and instances as the controller reads them (common/names.c's rules) */
/* "http", "http:8080", "dns:53/udp": its name into name, or err naming flag. */
int cli_app_port_parse(const char *text, const char *flag, char *name, size_t len,
		       struct acre_error *err);
/* "web-2" -> "web" and 2. */
int cli_app_instance_parse(const char *text, char *app, size_t len, unsigned *index,
			   struct acre_error *err);

/* app_flags.c: `app run` and `app update` flags -> an app spec, in two steps */
struct app_flag {
	int opt;
	const char *arg;
};
struct app_flags {
	const char *name;	       /* NAME; NULL when -f gives it */
	const char *file;	       /* -f FILE, "-" for stdin */
	ACRE_VEC(struct app_flag) set; /* the spec's flags, in the order given */
	char **command;		       /* after the flags (and --): the template's command */
	int ncommand;
	bool detach, print_spec, dry_run, force, help;
};
/* argv[0] is the verb ("run"); NAME first or right after the flags. */
int app_flags_parse(const char *verb, int argc, char **argv, struct app_flags *f,
		    struct acre_error *err);
/*
 * The flags onto spec ({} for a new app, a file's, or the app's current one): scalars set,
 * --env and --label set their key, each list flag replaces its list.  Checks what the flags
 * can get wrong (an undeclared port, no command) with the flag named.
 */
int app_flags_apply(const struct app_flags *f, const char *verb, json_t *spec,
		    struct acre_error *err);
void app_flags_free(struct app_flags *f);
void app_flags_usage(const char *verb, FILE *out);
/* -f FILE ("-": stdin): a JSON object. */
int app_spec_load(const char *file, json_t **spec, struct acre_error *err);

/*
 * app.c: what a change's reply ({"app", "deployment"}) prints: its deployment followed to the
 * end (or, detached, as accepted); the exit status.
 */
int app_report(struct cli *cli, json_t *reply, bool detach);
/* app_show.c, app_logs.c: the verbs that only read */
int app_list(struct cli *cli, int argc, char **argv);
int app_show(struct cli *cli, int argc, char **argv);
int app_versions(struct cli *cli, int argc, char **argv);
int app_logs(struct cli *cli, int argc, char **argv);

/*
 * app_follow.c: a deployment followed until it ends (GET /v1/deployments/{id} every 250 ms):
 * a line per new step under table output; *final is its last state.  0 when it succeeded,
 * 1 when it failed, rolled back, was cancelled or paused (the reason on stderr), 130 when a
 * signal stopped the following (the deployment goes on).
 */
int deployment_follow(struct cli *cli, const json_t *deployment, json_t **final);
/* "update web, version 2 -> 3" */
void deployment_title(const json_t *d, char *buf, size_t len);
/* "12:00:03  2/3 at target, 3 available  started web-2 (version 3) on n1" */
void deployment_print_step(const json_t *d, const json_t *step);
/* deployment.c: a deployment in detail (show), its steps and what it waits for. */
void deployment_print(const json_t *d, const char *indent);
/* ms since the epoch as local HH:MM:SS; "--:--:--" when absent. */
void cli_clock(const json_t *ms, char *buf, size_t len);
/*
 * While following (on), SIGINT, SIGTERM and SIGHUP stop the following instead of the process;
 * cli_pause_ms waits ms unless one came, cli_interrupted says whether one did.
 */
void cli_follow_signals(bool on);
void cli_pause_ms(int ms);
bool cli_interrupted(void);

/* ---- objects ---- */
int do_slice(struct cli *cli, int argc, char **argv);
int do_node(struct cli *cli, int argc, char **argv);	    /* node_cmds.c */
int node_local(struct cli *cli, int argc, char **argv);	    /* node_local.c: `acre node local` */
int node_artifacts(struct cli *cli, int argc, char **argv); /* node_artifacts.c */
int node_binaries(struct cli *cli, int argc, char **argv);  /* node_binaries.c */
int node_drain(struct cli *cli, int argc, char **argv);	    /* node_drain.c: `acre node drain` */
int do_pool(struct cli *cli, int argc, char **argv);	    /* pool_show.c */
int do_events(struct cli *cli, int argc, char **argv);	    /* events.c */
int do_why(struct cli *cli, int argc, char **argv);	    /* why.c */
int do_volume(struct cli *cli, int argc, char **argv);	    /* volume.c */
int do_app(struct cli *cli, int argc, char **argv);	    /* app.c */
int do_deployment(struct cli *cli, int argc, char **argv);  /* deployment.c */
int do_pkg(struct cli *cli, int argc, char **argv);	    /* pkg.c */
/* pkg_install.c: the changes to installs, each followed to its end unless --detach. */
int pkg_install(struct cli *cli, int argc, char **argv);
int pkg_upgrade(struct cli *cli, int argc, char **argv);
int pkg_rollback(struct cli *cli, int argc, char **argv);
int pkg_uninstall(struct cli *cli, int argc, char **argv);
/* pkg_bundle.c: packages and their artifacts in one file, for a pool without a network. */
int pkg_bundle(struct cli *cli, int argc, char **argv);

#endif
