/*
 * The slice spec (DESIGN.md's JSON, parsed once into a struct), outbound
 * connection rules, capability names, and the slice record the supervisor
 * checkpoints: states, exits and reasons.
 */
#ifndef ACRE_COMMON_SPEC_H
#define ACRE_COMMON_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "common/error.h"

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
	uint32_t cpus_milli; /* 0: no CPU limit */
	uint64_t memory;     /* bytes, 0: no limit */
	uint64_t pids;	     /* 0: no limit */
	uint64_t net_rate;   /* bit/s, 0: no limit */
};

struct acre_slice_isolation {
	unsigned namespaces; /* enum acre_namespace bits */
	enum acre_seccomp_mode seccomp;
	json_t *seccomp_profile; /* ACRE_SECCOMP_PROFILE: the profile document */
	uint64_t capabilities;	 /* bit N = capability N */
	char *rootfs;
	bool readonly_root;
};

/* One network.publish entry: a port of the node mapped to a port of the slice. */
struct acre_publish {
	uint16_t node_port;
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};
#define ACRE_PUBLISH_MAX 32

/*
 * A health or readiness check (spec_checks.c), run by the supervisor of the
 * node that runs the slice: a command inside the slice, a TCP connect or an
 * HTTP GET to a port of the slice.  Durations in ms.
 */
enum acre_check_kind { ACRE_CHECK_COMMAND, ACRE_CHECK_TCP, ACRE_CHECK_HTTP };
struct acre_check {
	enum acre_check_kind kind;
	char **command; /* command: NULL-terminated */
	uint16_t port;	/* tcp, http */
	char *path;	/* http: "/..." */
	uint32_t grace_ms, interval_ms, timeout_ms;
	unsigned failures; /* consecutive, before it counts as failed */
};
#define ACRE_CHECKS_MAX		   8
#define ACRE_CHECK_GRACE_MS	   15000
#define ACRE_CHECK_INTERVAL_MS	   5000
#define ACRE_CHECK_TIMEOUT_MS	   2000
#define ACRE_CHECK_FAILURES	   3
#define ACRE_CHECK_MIN_INTERVAL_MS 50

/* A persistent volume: the node's, named, of a fixed size, mounted at path in the slice. */
#define ACRE_VOLUME_NAME_MAX 63
#define ACRE_VOLUMES_MAX     8
struct acre_volume {
	char name[ACRE_VOLUME_NAME_MAX + 1];
	uint64_t size; /* bytes */
	char *path;
};

/*
 * An artifact (spec_artifacts.c): a file the node fetches before the launch
 * (file://, http://, https://), verified by its SHA-256 (pinned) or by the
 * sum the project's published checksum file gives (sha256_from,
 * sha512_from), kept in the node's cache by its SHA-256, extracted when it
 * is a tar archive, and mounted read-only at path in the slice
 * (supervisor/fetch.c says how).
 */
#define ACRE_ARTIFACTS_MAX    8
#define ACRE_ARTIFACT_URI_MAX 2048
#define ACRE_SHA256_HEX_LEN   64
#define ACRE_SHA512_HEX_LEN   128
struct acre_artifact {
	char *uri;
	char sha256[ACRE_SHA256_HEX_LEN + 1]; /* lower-case hex; "" when sum_from gives the sum */
	char *sum_from; /* sha256_from or sha512_from: the URL of the project's checksum file */
	bool sha512;	/* sum_from lists SHA-512 sums (sha512_from) */
	bool extract;	/* a tar archive, unpacked; else the file itself */
	char *path;
};

/*
 * A secret (spec_secrets.c): a value the task reads from /run/secrets/NAME,
 * a tmpfs of its own; shown to users as ACRE_SECRET_REDACTED only.
 */
#define ACRE_SECRETS_MAX      32
#define ACRE_SECRET_NAME_MAX  63
#define ACRE_SECRET_VALUE_MAX (64 * 1024)
/* All values together: a spec goes to its node as one line of at most ACRE_PROTO_LINE_MAX. */
#define ACRE_SECRETS_TOTAL_MAX (256 * 1024)
#define ACRE_SECRET_REDACTED   "<redacted>"
struct acre_secret {
	char name[ACRE_SECRET_NAME_MAX + 1];
	char *value;
};

struct acre_slice_spec {
	char name[ACRE_NAME_MAX + 1];
	char **command; /* NULL-terminated */
	char **env;	/* "K=V", NULL-terminated, user-given only */
	char *user;	/* NULL: root */
	char *cwd;
	struct acre_slice_resources resources;
	struct acre_slice_isolation isolation;
	enum acre_net_mode net_mode;
	bool net_isolated;		  /* bridge: reaches the gateway, no other slice */
	char **net_allow;		  /* "CIDR[:PORT]" outbound destinations, NULL: anywhere */
	struct acre_publish *net_publish; /* network.publish: node ports mapped to the slice */
	size_t net_npublish;
	enum acre_restart restart;
	unsigned restart_max;	   /* on-failure:N, 0 = unbounded */
	json_t *labels;		   /* object of strings, never NULL once parsed */
	struct acre_check *checks; /* health */
	size_t nchecks;
	struct acre_check *readiness;
	size_t nreadiness;
	struct acre_volume *volumes; /* persistent, the node's by name (spec_volumes.c) */
	size_t nvolumes;
	struct acre_artifact *artifacts; /* fetched, read-only (spec_artifacts.c) */
	size_t nartifacts;
	struct acre_secret *secrets; /* files in /run/secrets (spec_secrets.c) */
	size_t nsecrets;
};

bool acre_slice_name_valid(const char *name);
/*
 * An app's name: a DNS label (RFC 1123) of at most ACRE_APP_NAME_MAX, so
 * that its instance APP-999999 is one too.
 */
#define ACRE_APP_NAME_MAX 56
bool acre_app_name_valid(const char *name);
/*
 * A named port's: an IANA service name (RFC 6335 section 5.1), lower case,
 * 1 to 15 letters, digits and '-' with a letter, no '-' first, last or
 * twice in a row (it becomes a DNS SRV service and PORT_<NAME>).
 */
#define ACRE_PORT_NAME_MAX 15
bool acre_port_name_valid(const char *name);
/* Its variable in the slice's environment: "metrics-2" -> PORT_METRICS_2. */
void acre_port_env_name(const char *port, char *buf, size_t len);
/* Generates "slice-xxxxxx" from a random source when a spec has no name. */
void acre_slice_name_generate(char *buf, size_t len);

/* A JSON string's value when it is one and holds no NUL; else NULL. */
const char *acre_json_c_string(const json_t *v);
/*
 * Refuses a key of obj not in allowed (NULL-terminated), so a typo is an
 * error, not a silent default: field and message "PREFIXKEY: unknown field".
 */
int acre_json_check_keys(const json_t *obj, const char *prefix, const char *const *allowed,
			 struct acre_error *err);
/*
 * Labels as a spec takes them: an object of at most max strings of up to 255
 * bytes, keys of 1 to 63 characters; every error names the field.
 */
int acre_labels_check(const json_t *j, size_t max, struct acre_error *err);

/* Validates and converts; on error names the field ("resources.memory"). */
int acre_slice_spec_parse(const json_t *json, struct acre_slice_spec *spec, struct acre_error *err);
/*
 * The host root, writable: the slice writes to a copy-on-write layer of its
 * own over the host's /, which never changes (readonly_root false, rootfs /).
 */
bool acre_slice_spec_rw_host_root(const struct acre_slice_spec *spec);
/* Everything, secrets' values too: for the store and the checkpoint only, never to show. */
json_t *acre_slice_spec_to_json(const struct acre_slice_spec *spec);
/* What a user is shown: the same, with every secret's value ACRE_SECRET_REDACTED. */
json_t *acre_slice_spec_to_json_redacted(const struct acre_slice_spec *spec);
void acre_slice_spec_free(struct acre_slice_spec *spec);

const char *acre_namespace_name(enum acre_namespace ns);
/* "pid" -> ACRE_NS_PID; 0 for an unknown name. */
enum acre_namespace acre_namespace_from_name(const char *name);
const char *acre_net_mode_name(enum acre_net_mode m);
const char *acre_restart_name(enum acre_restart r);

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

/* spec_publish.c: "8080:80[/tcp|udp]" (the CLI's --publish) -> one entry; tcp by default. */
int acre_publish_parse(const char *s, struct acre_publish *out, struct acre_error *err);
/* network.publish of a spec whose network.mode is already parsed; every error names the field. */
int acre_publish_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err);
json_t *acre_publish_to_json(const struct acre_slice_spec *spec);
const char *acre_publish_proto_name(uint8_t proto);

/* spec_volumes.c: "volumes" of a spec; every error names the field. */
int acre_volumes_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err);
/* "data:1G:/var/lib/app" (the CLI's --volume) -> one volume; out->path is the caller's. */
int acre_volume_parse(const char *s, struct acre_volume *out, struct acre_error *err);
json_t *acre_volumes_to_json(const struct acre_slice_spec *spec);
void acre_volumes_free(struct acre_slice_spec *spec);
bool acre_volume_name_valid(const char *name);
/*
 * Where a volume or an artifact goes in the slice: an absolute path without
 * "." or ".." parts, not / and not under /proc, /sys, /dev, /run or /tmp.
 */
bool acre_mount_path_valid(const char *path);

/* spec_artifacts.c: "artifacts" of a spec whose volumes are parsed; every error names the field. */
int acre_artifacts_parse_spec(const json_t *j, struct acre_slice_spec *spec,
			      struct acre_error *err);
json_t *acre_artifacts_to_json(const struct acre_slice_spec *spec);
void acre_artifacts_free(struct acre_slice_spec *spec);
/* The last part of the URI's path ("redis.tgz"), where a file not extracted is found. */
const char *acre_artifact_file_name(const struct acre_artifact *a, char *buf, size_t len);
/*
 * checksum_file.c: the sum a project's published checksum file gives for
 * the file name (its last part compared), hex_len hex digits (64 for
 * SHA-256, 128 for SHA-512) into out (hex_len + 1 bytes), lower case.
 * Reads "HEX  NAME" / "HEX *NAME", "SHA512 (NAME) = HEX", gpg's
 * "NAME: HEX HEX ..." wrapped over indented lines, and a file of the sum
 * alone.  -ENOENT when it lists none for the name, -EBADMSG when the line
 * that names it holds no sum of that length.
 */
int acre_checksum_file_find(const char *text, const char *name, size_t hex_len, char *out,
			    struct acre_error *err);

/* spec_secrets.c: "secrets" of a spec; every error names the field, never a value. */
int acre_secrets_parse_spec(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err);
json_t *acre_secrets_to_json(const struct acre_slice_spec *spec, bool redact);
/* A spec as JSON (as given, unparsed) with its secrets' values replaced, in place. */
void acre_secrets_redact_json(json_t *spec);
void acre_secrets_free(struct acre_slice_spec *spec);
bool acre_secret_name_valid(const char *name);

/* spec_checks.c: "checks" or "readiness" (field) of a spec; every error names the field. */
int acre_checks_parse_spec(const json_t *j, const char *field, struct acre_check **out, size_t *n,
			   struct acre_error *err);
json_t *acre_checks_to_json(const struct acre_check *c, size_t n);
void acre_checks_free(struct acre_check *c, size_t n);
const char *acre_check_kind_name(enum acre_check_kind k);
/* "8000/healthz" (the CLI's --check-http): port and path, "/" when none is given. */
int acre_check_http_target_parse(const char *s, uint16_t *port, char **path, struct acre_error *err,
				 const char *field);

/*
 * What a slice's checks say of its present run: none (it has no health
 * checks), starting (no verdict yet), healthy, unhealthy; and ready (every
 * readiness check passes; true when it has none).
 */
enum acre_health {
	ACRE_HEALTH_NONE,
	ACRE_HEALTH_STARTING,
	ACRE_HEALTH_HEALTHY,
	ACRE_HEALTH_UNHEALTHY,
};
const char *acre_health_name(enum acre_health h);
int acre_health_parse(const char *s, enum acre_health *out);
/* A running slice serves (is in its names and VIPs) when ready and, with checks, healthy. */
bool acre_health_serving(enum acre_health h, bool ready);

/* "NET_ADMIN" or "CAP_NET_ADMIN", any case -> number; -1 if unknown. */
int acre_cap_from_name(const char *name);
const char *acre_cap_name(int cap);

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
	int exit_code; /* valid when signal == 0 */
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
	pid_t pid;	    /* acre-init, in the supervisor's pid namespace */
	uint64_t pid_start; /* its start time (clock ticks since boot), to tell pid reuse */
	pid_t task_pid;	    /* the task inside the slice's pid namespace */
	unsigned restarts;
	bool foreground;
	bool remove_on_exit;
	bool killed_by_user;
	int64_t created_at, started_at, finished_at; /* unix ms, 0 = never */
};

/*
 * The format of the records above, written as their "version".  A supervisor
 * removes a record it cannot read, so the Debian package refuses to install
 * one older than the records on disk (debian/acre-supervisor.preinst reads
 * this number at build time).
 */
#define ACRE_SLICE_RECORD_VERSION 1

json_t *acre_slice_record_to_json(const struct acre_slice_record *rec);
int acre_slice_record_from_json(const json_t *json, struct acre_slice_record *rec,
				struct acre_error *err);
void acre_slice_record_free(struct acre_slice_record *rec);

#endif
