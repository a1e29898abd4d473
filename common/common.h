/*
 * common: what every acre binary shares — cleanup macros, errors, logging,
 * unit parsing, NDJSON framing, the protocol envelope, the slice spec and
 * the slice record kept in state files.  Pure code: nothing here touches
 * the kernel beyond plain file I/O, so all of it is unit-tested without root.
 */
#ifndef ACRE_COMMON_H
#define ACRE_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#define ACRE_VERSION "0.1.0"

/* ---- cleanup ------------------------------------------------------------ */

static inline void acre_freep(void *p)
{
	free(*(void **)p);
}
static inline void acre_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void acre_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
void acre_strv_free(char **v);
static inline void acre_strv_freep(char ***v)
{
	acre_strv_free(*v);
}

#define _cleanup_(f)	     __attribute__((cleanup(f)))
#define _cleanup_free_	     _cleanup_(acre_freep)
#define _cleanup_close_	     _cleanup_(acre_closep)
#define _cleanup_fclose_     _cleanup_(acre_fclosep)
#define _cleanup_json_	     _cleanup_(json_decrefp) /* json_decrefp comes with jansson */
#define _cleanup_strv_free_  _cleanup_(acre_strv_freep)

/* Hand ownership on: return the value and leave the variable empty. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define ACRE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ------------------------------------------------------------- */

/*
 * What the user reads when something fails.  `code` is a positive errno,
 * `field` names the spec field or flag at fault when there is one.
 */
struct acre_error {
	int code;
	char field[64];
	char message[512];
};

/* Fill err (if not NULL) and return -code, so callers can `return acre_error_set(...)`. */
int acre_error_set(struct acre_error *err, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix the existing message with context ("creating cgroup x: <old>"); returns -err->code. */
int acre_error_prefix(struct acre_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A short stable identifier for an errno, used as the protocol's error code. */
const char *acre_error_code_name(int code);

/* ---- logging ------------------------------------------------------------ */

enum acre_log_level { ACRE_LOG_DEBUG, ACRE_LOG_INFO, ACRE_LOG_WARN, ACRE_LOG_ERROR };

void acre_log_set_level(enum acre_log_level level);
int acre_log_parse_level(const char *s, enum acre_log_level *out);
void acre_log(enum acre_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- strings ------------------------------------------------------------ */

char **acre_strv_copy(char *const *v);
size_t acre_strv_length(char *const *v);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int acre_strv_push(char ***v, const char *s);
bool acre_str_is_utf8(const char *s, size_t len);

/* ---- units -------------------------------------------------------------- */

/* "64M" -> 67108864: binary units K, M, G, T (optional trailing "i"/"iB"/"B"); plain digits are bytes. */
int acre_parse_size(const char *s, uint64_t *out, struct acre_error *err, const char *field);
/* tc-style rates: "100mbit", "1gbit", "500kbit", "10mbps" (bytes), plain digits are bit/s. */
int acre_parse_rate(const char *s, uint64_t *bits_per_second, struct acre_error *err,
		    const char *field);
/* "0.5" -> 500 millicpus; at most three decimals. */
int acre_parse_cpus(const char *s, uint32_t *millicpus, struct acre_error *err, const char *field);
/* "10", "10s", "500ms", "2m", "1h" -> milliseconds. */
int acre_parse_duration(const char *s, uint64_t *ms, struct acre_error *err, const char *field);
/* Signal names and numbers: "TERM", "SIGTERM", "15". */
int acre_parse_signal(const char *s, int *sig, struct acre_error *err, const char *field);
const char *acre_signal_name(int sig);

/* Human forms for tables: "256M", "1.5G", "100mbit", "3m20s". */
void acre_format_size(uint64_t bytes, char *buf, size_t len);
void acre_format_rate(uint64_t bits_per_second, char *buf, size_t len);
void acre_format_duration(uint64_t ms, char *buf, size_t len);

/* ---- NDJSON framing ----------------------------------------------------- */

#define ACRE_FRAME_MAX (1024 * 1024)

/*
 * Splits a byte stream into lines of at most `max` bytes.  A longer line is
 * reported once as ACRE_FRAME_TOO_LONG and its remaining bytes are dropped
 * up to the next newline, so one bad line never takes the stream down.
 */
struct acre_frame_reader {
	char *buf;
	size_t len, cap, max;
	size_t scanned; /* bytes of buf already searched for '\n' */
	size_t handed;	/* bytes of the line last returned, dropped on the next call */
	bool discarding;
};

enum acre_frame_result { ACRE_FRAME_NONE, ACRE_FRAME_LINE, ACRE_FRAME_TOO_LONG };

void acre_frame_init(struct acre_frame_reader *r, size_t max);
void acre_frame_free(struct acre_frame_reader *r);
int acre_frame_feed(struct acre_frame_reader *r, const void *data, size_t n);
/* Returns the next complete line (without '\n', NUL-terminated, valid until the next call). */
enum acre_frame_result acre_frame_next(struct acre_frame_reader *r, char **line, size_t *len);
/* Serialise one message as a line; caller frees.  Returns NULL on ENOMEM. */
char *acre_frame_encode(const json_t *msg, size_t *len);

/* ---- protocol envelope -------------------------------------------------- */

/*
 * Requests: {"op": "...", "id": <int|string>, ...}.  Replies echo "id" and
 * carry "ok": true with "result", or "ok": false with
 * "error": {"code", "message", "field"?}.  Events of a long request carry
 * "id" and "event" and are followed by the final reply.
 */
json_t *acre_proto_ok(json_t *id, json_t *result);
json_t *acre_proto_error(json_t *id, const struct acre_error *err);
json_t *acre_proto_event(json_t *id, const char *event, json_t *data);
/* Parses one request line; on failure fills err and (if it could be read) *id. */
int acre_proto_parse_request(const char *line, size_t len, json_t **request, json_t **id,
			     const char **op, struct acre_error *err);
/* Turns an error reply back into struct acre_error on the client side. */
void acre_proto_error_from_json(const json_t *reply, struct acre_error *err);

/* ---- slice spec ---------------------------------------------------------- */

#define ACRE_NAME_MAX 63

enum acre_namespace {
	ACRE_NS_PID = 1 << 0,
	ACRE_NS_MOUNT = 1 << 1,
	ACRE_NS_UTS = 1 << 2,
	ACRE_NS_IPC = 1 << 3,
	ACRE_NS_NET = 1 << 4,
	ACRE_NS_CGROUP = 1 << 5,
};
#define ACRE_NS_ALL                                                                                \
	(ACRE_NS_PID | ACRE_NS_MOUNT | ACRE_NS_UTS | ACRE_NS_IPC | ACRE_NS_NET | ACRE_NS_CGROUP)

enum acre_seccomp_mode { ACRE_SECCOMP_DEFAULT, ACRE_SECCOMP_UNCONFINED, ACRE_SECCOMP_PROFILE };
enum acre_net_mode { ACRE_NET_NONE, ACRE_NET_HOST, ACRE_NET_BRIDGE };
enum acre_restart { ACRE_RESTART_NEVER, ACRE_RESTART_ON_FAILURE, ACRE_RESTART_ALWAYS };

struct acre_slice_resources {
	uint32_t cpus_milli;	 /* 0: no CPU limit */
	uint64_t memory;	 /* bytes, 0: no limit */
	uint64_t pids;		 /* 0: no limit */
	uint64_t net_rate;	 /* bit/s, 0: no limit */
};

struct acre_slice_isolation {
	unsigned namespaces;	 /* enum acre_namespace bits */
	enum acre_seccomp_mode seccomp;
	json_t *seccomp_profile; /* ACRE_SECCOMP_PROFILE: the profile document */
	uint64_t capabilities;	 /* bit N = capability N */
	char *rootfs;
	bool readonly_root;
};

struct acre_slice_spec {
	char name[ACRE_NAME_MAX + 1];
	char **command;		/* NULL-terminated */
	char **env;		/* "K=V", NULL-terminated, user-given only */
	char *user;		/* NULL: root */
	char *cwd;
	struct acre_slice_resources resources;
	struct acre_slice_isolation isolation;
	enum acre_net_mode net_mode;
	bool net_isolated;	/* bridge: reaches the gateway, no other slice */
	char **net_allow;	/* "CIDR[:PORT]" outbound destinations, NULL: anywhere */
	enum acre_restart restart;
	unsigned restart_max;	/* on-failure:N, 0 = unbounded */
	json_t *labels;		/* object of strings, never NULL once parsed */
};

bool acre_slice_name_valid(const char *name);
/* Generates "slice-xxxxxx" from a random source when a spec has no name. */
void acre_slice_name_generate(char *buf, size_t len);

/* Validates and converts; on error names the field ("resources.memory"). */
int acre_slice_spec_parse(const json_t *json, struct acre_slice_spec *spec,
			  struct acre_error *err);
json_t *acre_slice_spec_to_json(const struct acre_slice_spec *spec);
void acre_slice_spec_free(struct acre_slice_spec *spec);

const char *acre_namespace_name(enum acre_namespace ns);
/* "pid" -> ACRE_NS_PID; 0 for an unknown name. */
enum acre_namespace acre_namespace_from_name(const char *name);
const char *acre_net_mode_name(enum acre_net_mode m);
const char *acre_restart_name(enum acre_restart r);

/* ---- outbound connection rules (--allow) ------------------------------------ */

/* One --allow rule: a prefix of family AF_INET or AF_INET6, and a port (0: any). */
struct acre_allow {
	int family;
	uint8_t addr[16]; /* network order; the first 4 bytes for AF_INET */
	uint8_t prefix_len;
	uint16_t port; /* host order */
};
#define ACRE_ALLOW_MAX 32

/*
 * Parses "CIDR[:PORT]": 198.18.0.0/15, 198.18.0.1:5201, 2001:db8::/32,
 * [2001:db8::1]:443.  An address without /LEN is one host.
 */
int acre_allow_parse(const char *s, struct acre_allow *out, struct acre_error *err);

/* ---- capability names (pure table, no libcap needed) ---------------------- */

/* "NET_ADMIN" or "CAP_NET_ADMIN", any case -> number; -1 if unknown. */
int acre_cap_from_name(const char *name);
const char *acre_cap_name(int cap);

/* ---- slice record (state file) ------------------------------------------- */

enum acre_slice_state {
	ACRE_SLICE_PENDING,
	ACRE_SLICE_STARTING,
	ACRE_SLICE_RUNNING,
	ACRE_SLICE_EXITED,
	ACRE_SLICE_FAILED,
	ACRE_SLICE_KILLED,
	ACRE_SLICE_LOST,
	ACRE_SLICE_DESTROYED,
};

const char *acre_slice_state_name(enum acre_slice_state s);
int acre_slice_state_parse(const char *s, enum acre_slice_state *out);
bool acre_slice_state_is_final(enum acre_slice_state s);

/* How a task ended, as acre-init records it and the supervisor reports it. */
struct acre_exit {
	bool known;
	int exit_code;	  /* valid when signal == 0 */
	int signal;
	bool oom;
	char launch_failed[256]; /* non-empty: the launch failed with this reason */
};

/* "exit 3", "signal 9", "oom", "launch_failed: ..." */
void acre_exit_reason(const struct acre_exit *e, char *buf, size_t len);
/* What a foreground client exits with: the code, 128+N for signal N, 137 for OOM. */
int acre_exit_status(const struct acre_exit *e);
/* The record acre-init writes: {"exit_code":N} | {"signal":N} | {"launch_failed":"..."}. */
int acre_exit_record_parse(const char *text, size_t len, struct acre_exit *out);

/* What the supervisor checkpoints for one slice. */
struct acre_slice_record {
	struct acre_slice_spec spec;
	char cgroup[ACRE_NAME_MAX + 1]; /* its cgroup's name under the supervisor's subtree */
	enum acre_slice_state state;
	char reason[300];
	struct acre_exit exit;
	pid_t pid;		/* acre-init, in the supervisor's pid namespace */
	uint64_t pid_start;	/* its start time (clock ticks since boot), to tell pid reuse */
	pid_t task_pid;		/* the task inside the slice's pid namespace */
	unsigned restarts;
	bool foreground;
	bool remove_on_exit;
	bool killed_by_user;
	int64_t created_at, started_at, finished_at; /* unix ms, 0 = never */
};

json_t *acre_slice_record_to_json(const struct acre_slice_record *rec);
int acre_slice_record_from_json(const json_t *json, struct acre_slice_record *rec,
				struct acre_error *err);
void acre_slice_record_free(struct acre_slice_record *rec);

/* ---- files --------------------------------------------------------------- */

/* Write-temp, fsync, rename (and fsync the directory): the file is old or new, never torn. */
int acre_file_write_atomic(int dirfd, const char *name, const void *data, size_t len,
			   struct acre_error *err);
/* Reads a whole (small) file relative to dirfd; caller frees *data. */
int acre_file_read(int dirfd, const char *name, char **data, size_t *len, size_t max);
int acre_mkdir_p(const char *path, mode_t mode);

/* ---- time ---------------------------------------------------------------- */

int64_t acre_now_ms(void);	  /* CLOCK_REALTIME */
uint64_t acre_monotonic_ns(void); /* CLOCK_MONOTONIC */

/* ---- randomness ------------------------------------------------------------ */

/* len bytes from getrandom(2); -EIO when the kernel has none to give. */
int acre_random_bytes(void *buf, size_t len);
/* Lower-case hex of len bytes into out, which holds 2 * len + 1. */
void acre_hex_encode(const void *raw, size_t len, char *out);

/* ---- string map ---------------------------------------------------------- */

/* A string-keyed hash map of borrowed pointers; keys are copied. */
struct acre_map;
struct acre_map *acre_map_new(void);
void acre_map_free(struct acre_map *m);
void *acre_map_get(const struct acre_map *m, const char *key);
int acre_map_put(struct acre_map *m, const char *key, void *value);
void *acre_map_remove(struct acre_map *m, const char *key);
size_t acre_map_size(const struct acre_map *m);
/* Visits entries in no particular order; the callback must not modify the map. */
void acre_map_foreach(const struct acre_map *m, void (*fn)(const char *key, void *value, void *ud),
		      void *ud);
/* Keys sorted, NULL-terminated; the strings belong to the map. */
const char **acre_map_sorted_keys(const struct acre_map *m);

#endif
