/*
 * acre, the command line: bpftool-style `acre [OPTIONS] OBJECT COMMAND
 * [ARGS]`, with a table of commands per object, unique prefixes, and the
 * same data printed as aligned tables or as JSON (-j, -p).
 */
#ifndef ACRE_CLI_H
#define ACRE_CLI_H

#include "common/common.h"

enum output_mode { OUTPUT_TABLE, OUTPUT_JSON, OUTPUT_PRETTY };

struct cli {
	const char *socket_path;
	const char *controller; /* the pool's controller: http://HOST:PORT */
	const char *token, *token_file;
	enum output_mode output;
	/* How long one request waits for its reply (--timeout, $ACRE_TIMEOUT);
	 * waiting for a task's end (a foreground run, logs --follow) is not a request. */
	uint64_t timeout_ms;
};

/* A command: argv[0] is the command's own name; returns the process exit status. */
struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *usage;
};

/* Finds `word` in a NULL-name-terminated table, exactly or as a unique prefix. */
const struct command *dispatch_find(const struct command *table, const char *word,
				    const char *what);
void dispatch_usage(const struct command *table, const char *object, FILE *out);

/* ---- client.c: talking to the supervisor ---- */
struct client {
	int fd;
	struct acre_frame_reader in;
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
enum cli_method { CLI_GET, CLI_POST, CLI_DELETE };
/* Resolves the API token (--token, $ACRE_TOKEN, --token-file, $ACRE_TOKEN_FILE, a default file). */
int cli_token(struct cli *cli, struct acre_error *err);
/* One request to the controller: the JSON reply of a 2xx, else NULL and err. */
json_t *cli_api(struct cli *cli, enum cli_method method, const char *path, const json_t *body,
		struct acre_error *err);

/* ---- output.c ---- */
void output_json(const struct cli *cli, const json_t *j);
struct table;
struct table *table_new(const char *const *headers);
void table_add(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);
int cli_fail(const struct acre_error *err);
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formats used by tables. */
void fmt_age(int64_t since_ms, char *buf, size_t len);
void fmt_bytes_or_dash(const json_t *v, char *buf, size_t len);

/* ---- objects ---- */
int do_slice(struct cli *cli, int argc, char **argv);
int do_node(struct cli *cli, int argc, char **argv);
int do_pool(struct cli *cli, int argc, char **argv);
int do_events(struct cli *cli, int argc, char **argv); /* events.c */

/* pool_slice.c: the slice commands against the controller (--controller) */
extern const struct command pool_slice_commands[];

/* slice commands, one file per concern */
int slice_run(struct cli *cli, int argc, char **argv);
int slice_list(struct cli *cli, int argc, char **argv);
int slice_show(struct cli *cli, int argc, char **argv);
int slice_stat(struct cli *cli, int argc, char **argv);
int slice_logs(struct cli *cli, int argc, char **argv);
int slice_kill(struct cli *cli, int argc, char **argv);
int slice_rm(struct cli *cli, int argc, char **argv);

/* slice_args.c: the options kill and rm share between node and controller.
 * Each returns 0, or the exit status after printing what was wrong; rm's
 * names are argv[optind..argc). */
struct slice_kill_args {
	const char *name;
	bool has_signal;
	int signo;
};
int slice_kill_args(int argc, char **argv, struct slice_kill_args *out);
int slice_rm_args(int argc, char **argv, bool *force);

/* run_flags.c: `slice run` flags -> a slice spec */
struct run_request {
	json_t *spec;
	json_t *placement; /* --constraint, --spread, --strategy; NULL when none is given */
	bool detach, remove;
};
int run_flags_parse(int argc, char **argv, struct run_request *req, struct acre_error *err);
/* Names the flag instead of the spec field in an error ("--memory" for resources.memory). */
void run_flags_reword(struct acre_error *err);

#endif
