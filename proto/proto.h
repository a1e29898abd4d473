/*
 * proto: the node protocol that acre, acre-supervisor and acre-controller
 * speak — the names of its operations, the envelope every message travels
 * in, the line framing (one JSON object per line, at most 1 MiB), the
 * placement of a slice as users write it, TLS set-up for both ends of the
 * node port and for a host joining a pool (the CA's hash, a node's
 * certificate request and its signature: tls_bootstrap.c), and fd passing
 * over Unix sockets (fds.c, plain libc, is also linked into acre-init for
 * its claim), and a blocking HTTP(S) download for the child processes that
 * fetch files (http_get.c: the supervisor's artifacts, the controller's
 * package repositories).  This is the module's one public header.
 *
 * Two conversations use it:
 *
 *   CLI <-> supervisor, over a Unix socket: ping, slice.run, slice.list, ...
 *   supervisor <-> controller, over one TLS connection the supervisor dials
 *   (described in controller/README.md):
 *
 *   supervisor -> controller          controller -> supervisor
 *   register  (first, with the token)  assign  (launch a slice, detached)
 *   sync      (its slices, after the   kill    (end a slice)
 *              resent outbox)          remove  (end and remove a slice)
 *   heartbeat (usage)                  logs.open, logs.close (read a slice's log)
 *   update    (slice changes, each with a per-node sequence number that the
 *              controller acknowledges once committed; duplicates ignored)
 *   ca, join  (a host joining, before it has a certificate: the pool's CA,
 *              then a client certificate for its request)
 *   logs.data (a slice's log, answered chunk by chunk)
 */
#ifndef ACRE_PROTO_H
#define ACRE_PROTO_H

#include "common/common.h"

#include <sys/types.h>

/* ---- op names ----------------------------------------------------------- */

/* CLI -> supervisor, over its Unix socket. */
#define ACRE_OP_PING	       "ping"
#define ACRE_OP_SLICE_RUN      "slice.run"
#define ACRE_OP_SLICE_LIST     "slice.list"
#define ACRE_OP_SLICE_SHOW     "slice.show"
#define ACRE_OP_SLICE_STAT     "slice.stat"
#define ACRE_OP_SLICE_KILL     "slice.kill"
#define ACRE_OP_SLICE_RM       "slice.rm"
#define ACRE_OP_SLICE_LOGS     "slice.logs"
#define ACRE_OP_SLICE_WAIT     "slice.wait"
#define ACRE_OP_NODE_SHOW      "node.show"   /* the node itself: its pool network */
#define ACRE_OP_VOLUME_LIST    "volume.list" /* the node's persistent volumes */
#define ACRE_OP_VOLUME_RM      "volume.rm"
#define ACRE_OP_ARTIFACT_LIST  "artifact.list"	/* the node's cache of artifacts */
#define ACRE_OP_ARTIFACT_PRUNE "artifact.prune" /* ... less what no slice names */

/*
 * The supervisor <-> controller protocol's versions this build speaks, the
 * oldest and its own (version.c); a build may set them to stand for an
 * older or newer release.
 */
#ifndef ACRE_PROTOCOL_MIN
#define ACRE_PROTOCOL_MIN 1
#endif
#ifndef ACRE_PROTOCOL_MAX
#define ACRE_PROTOCOL_MAX 1
#endif
/*
 * The version a node speaking node_min to node_max and this build both
 * speak, the highest; -errno, with err naming both ranges, when none.
 */
int acre_proto_negotiate(int64_t node_min, int64_t node_max, struct acre_error *err);

/* Supervisor -> controller. */
#define ACRE_OP_REGISTER  "register"
#define ACRE_OP_SYNC	  "sync"
#define ACRE_OP_HEARTBEAT "heartbeat"
#define ACRE_OP_UPDATE	  "update"
/*
 * A slice's health or readiness changed on its node (its checks run
 * there): {"slice", "health", "ready", "reason", "at"}, transitions only,
 * in order with the updates; sync and update entries carry the present
 * "health" and "ready" of a slice with checks.
 */
#define ACRE_OP_HEALTH "health"
/* Controller -> supervisor. */
#define ACRE_OP_ASSIGN "assign"
#define ACRE_OP_KILL   "kill"
#define ACRE_OP_REMOVE "remove"
/*
 * {"name"}: a persistent volume of the node goes (the socket's volume.rm):
 * refused while a slice names it, {"name", "removed": false} when there
 * was none.  The controller logs the answer; an older node says "unknown op".
 */
#define ACRE_OP_VOLUME_REMOVE "volume.remove"
/*
 * {"paths": [...]} (at most 256 absolute paths) -> {"present": [...],
 * "absent": [...]}: which host binaries the node has, a regular file it
 * may execute (supervisor/binaries.c).  The controller sends the binary
 * paths slices ask for, at registration and when the list grows, and
 * keeps the answer as the node's attributes bin:PATH=true.  Also on the
 * supervisor's socket (`acre node binaries PATH...`).
 */
#define ACRE_OP_BINARIES_CHECK "binaries.check"
/*
 * A host joining (before it registers, without a client certificate):
 * "ca" answers the pool's CA (PEM), unauthenticated, for the host to check
 * against the hash it was given; "join" takes the join token, the node's
 * id and secret and a certificate request, and answers the client
 * certificate the CA signed for it (tls_bootstrap.c).
 */
#define ACRE_OP_CA   "ca"
#define ACRE_OP_JOIN "join"

/*
 * A slice's log, relayed from its node (logs.c; shapes in controller/README.md):
 * the controller opens a stream {"slice", "stream", "follow", "tail"}, the
 * node sends its bytes in logs.data {"stream", "data" (base64), "eof"},
 * each answered, at most ACRE_LOGS_WINDOW unanswered per stream; logs.close
 * {"stream"} ends it early (the HTTP client went away).  A node that does
 * not know them answers "unknown op", which the client is told.
 */
#define ACRE_OP_LOGS_OPEN  "logs.open"	/* controller -> supervisor */
#define ACRE_OP_LOGS_DATA  "logs.data"	/* supervisor -> controller */
#define ACRE_OP_LOGS_CLOSE "logs.close" /* controller -> supervisor */
/*
 * Pool networking, controller -> supervisor, only to nodes that registered
 * with a "network" member (their bridge networking is on).  Each carries
 * "full": true (replace the whole table with "set") or false (apply "set"
 * and "gone" to it); shapes in controller/README.md.
 */
#define ACRE_OP_NET_PEERS "net.peers" /* other nodes: address, slice subnet, VTEP MAC */
#define ACRE_OP_NET_NAMES "net.names" /* NAME.acre and GROUP.acre: addresses, SRV ports */
#define ACRE_OP_NET_VIPS  "net.vips"  /* virtual IPs: VIP:port -> member address:port */

/* The label that puts a slice in the DNS group GROUP.acre (apps set it). */
#define ACRE_LABEL_SERVICE "acre.service"
/* "80/tcp,53/udp": the group of the slice gets a virtual IP on those ports. */
#define ACRE_LABEL_VIP_PORTS "acre.vip.ports"
/*
 * The same form, "http:8080/tcp": the ports a member serves, named in the
 * group's SRV records (_http._tcp.GROUP.acre) without a virtual IP; read
 * when acre.vip.ports is absent (apps set it on every instance).
 */
#define ACRE_LABEL_PORTS "acre.ports"

/*
 * A node's --port-range: the ports of the host's network the pool picks
 * from for slices that ask for one (an app's --net host port without a
 * number).  A node that reports none has the default.
 */
#define ACRE_PORT_RANGE_FIRST 20000
#define ACRE_PORT_RANGE_LAST  29999
/* "A-B", 1 <= A <= B <= 65535; `field` names the flag or member in the error. */
int acre_proto_port_range_parse(const char *text, uint16_t *first, uint16_t *last,
				const char *field, struct acre_error *err);
/*
 * acre.app: the app whose instance the slice is (spread and unique count an
 * app's instances together by it; plain slices by "app").
 * acre.install: the package install that made the slice (through its apps).
 * acre.on-partition: what the slice's node does when cut off from the
 * controller for its disconnect grace: "replace" stops the slice (the
 * controller runs it elsewhere once the node is lost); "wait", or none,
 * leaves it running.
 */
#define ACRE_LABEL_APP		  "acre.app"
#define ACRE_LABEL_INSTALL	  "acre.install"
#define ACRE_LABEL_ON_PARTITION	  "acre.on-partition"
#define ACRE_ON_PARTITION_REPLACE "replace"
#define ACRE_ON_PARTITION_WAIT	  "wait"
/* The DNS zone of the pool's names. */
#define ACRE_DNS_ZONE "acre"

/*
 * The label a supervisor puts on every slice the controller assigned, so
 * that after any restart both sides know which slices the pool manages.
 */
#define ACRE_LABEL_MANAGED "acre.managed"

/* ---- the envelope (envelope.c) ------------------------------------------ */

/*
 * Requests: {"op": "...", "id": <int|string>, ...}.  Replies echo "id"
 * (null when the request could not be read) and carry "ok": true with
 * "result", or "ok": false with "error": {"code", "message", "field"?}.
 * Events of a long request carry "id" and "event" and are followed by the
 * final reply.  A line with "op" is a request, one with "ok" a reply, one
 * with "event" an event.
 */
json_t *acre_proto_ok(json_t *id, json_t *result);
json_t *acre_proto_error(json_t *id, const struct acre_error *err);
json_t *acre_proto_event(json_t *id, const char *event, json_t *data);
/* Turns an error reply back into struct acre_error on the client side. */
void acre_proto_error_from_json(const json_t *reply, struct acre_error *err);

/* The kinds of message; acre_proto_parse() takes the ones a reader expects, or-ed. */
enum acre_proto_kind {
	ACRE_PROTO_REQUEST = 1,
	ACRE_PROTO_REPLY = 2,
	ACRE_PROTO_EVENT = 4,
};

/* One message read off a line. */
struct acre_proto_msg {
	json_t *json; /* the whole message, owned (acre_proto_msg_free); NULL if unreadable */
	enum acre_proto_kind kind;
	json_t *id;	   /* borrowed from json; NULL when absent or of the wrong type */
	const char *op;	   /* a request's */
	const char *event; /* an event's */
	bool ok;	   /* a reply's */
};

/*
 * Reads one line as a message of one of the kinds in `accept`: valid UTF-8,
 * JSON with no key given twice, an object, "id" an integer or a string
 * (or null in a reply), "op" and "event" strings, "ok" true or false.
 * Returns 0, or -EPROTO with err naming the field at fault; then m->json
 * (and m->kind, m->id) are still set if the line was a JSON object, so an
 * error reply can carry the id of the request it answers.  A message of no
 * accepted kind is taken as the first accepted one missing its key ("request
 * has no "op"").
 */
int acre_proto_parse(const char *line, size_t len, unsigned accept, struct acre_proto_msg *m,
		     struct acre_error *err);
void acre_proto_msg_free(struct acre_proto_msg *m);
/* acre_proto_parse() for a request, its parts handed out one by one; *request is the caller's. */
int acre_proto_parse_request(const char *line, size_t len, json_t **request, json_t **id,
			     const char **op, struct acre_error *err);

/* ---- lines (frame.c, wire.c) -------------------------------------------- */

#define ACRE_PROTO_LINE_MAX (1024 * 1024)

/* What a line reader found next. */
enum acre_proto_line {
	ACRE_PROTO_LINE_WAIT,	  /* no whole line yet */
	ACRE_PROTO_LINE,	  /* a line, without its '\n' and NUL-terminated */
	ACRE_PROTO_LINE_TOO_LONG, /* a line over the limit began: said once per line, its
				     bytes dropped up to the next '\n' */
};

/*
 * The blocking-fd reader (the CLI, the supervisor's socket): bytes read by
 * the caller are fed in, whole lines come out.  It holds at most one
 * maximal line and one feed, however long a line a peer sends.
 */
struct acre_proto_frame {
	char *buf;
	size_t len, cap, max;
	size_t scanned; /* bytes of buf already searched for '\n' */
	size_t handed;	/* bytes of the line last returned, dropped on the next call */
	bool discarding;
};

void acre_proto_frame_init(struct acre_proto_frame *r, size_t max);
void acre_proto_frame_free(struct acre_proto_frame *r);
int acre_proto_frame_feed(struct acre_proto_frame *r, const void *data, size_t n);
/* The next line (a '\r' before its '\n' dropped), valid until the next call. */
enum acre_proto_line acre_proto_frame_next(struct acre_proto_frame *r, char **line, size_t *len);
/* Serialise one message as a line; caller frees.  Returns NULL on ENOMEM. */
char *acre_proto_frame_encode(const json_t *msg, size_t *len);

/*
 * The libevent reader (both ends of the node port): the next line of at most
 * ACRE_PROTO_LINE_MAX bytes in `in`; *discarding (false on a new connection)
 * carries a too-long line across calls.  A line stays in `in` until the
 * caller drains *len + 1 bytes; everything else is drained here.
 */
struct evbuffer;
struct bufferevent;
enum acre_proto_line acre_proto_line_next(struct evbuffer *in, bool *discarding, char **line,
					  size_t *len);
/* Why a connection failed (BEV_EVENT_ERROR): the TLS error, else the socket's. */
void acre_proto_wire_error(struct bufferevent *bev, char *why, size_t len);

/* ---- TLS for the node port (tls.c) -------------------------------------- */

/* PEM files, as --tls-cert, --tls-key and --tls-ca name them (errors name the flag). */
struct acre_proto_tls_files {
	const char *cert, *key, *ca;
};

/*
 * The controller's end (an SSL_CTX in *ctx): its certificate and key, and
 * with a CA the mutual TLS: a supervisor's certificate is asked for and
 * must be signed by it (a connection without one may only fetch the CA
 * and join; the node port registers no node on it).  TLS 1.2 at least.
 */
int acre_proto_tls_server_ctx(const struct acre_proto_tls_files *f, void **ctx,
			      struct acre_error *err);
/*
 * The supervisor's end: the controller's certificate checked against the
 * CA (the system's without one), and a certificate of its own if given.
 */
int acre_proto_tls_client_ctx(const struct acre_proto_tls_files *f, void **ctx,
			      struct acre_error *err);
void acre_proto_tls_ctx_free(void *ctx);
/*
 * Makes the handshake of ssl (an SSL *) check the peer's certificate
 * against host: an IP address against its IP SANs, else a name (also sent
 * as SNI).  -1 on failure.
 */
int acre_proto_tls_expect_peer(void *ssl, const char *host);

/* ---- joining a pool: the CA's hash, a node's CSR, its certificate (tls_bootstrap.c) ---- */

/*
 * A CA named by the SHA-256 of its SubjectPublicKeyInfo, "sha256:" and 64
 * lowercase hex digits (as kubeadm's --discovery-token-ca-cert-hash): what
 * `acre node join-command` prints and a joining node checks the CA it
 * fetched against.
 */
#define ACRE_PROTO_CA_HASH_LEN 71
int acre_proto_ca_hash(const char *pem, char out[ACRE_PROTO_CA_HASH_LEN + 1],
		       struct acre_error *err);
bool acre_proto_ca_hash_valid(const char *s);
/* A new EC P-256 key and a certificate request for it (CN = cn), both PEM; caller frees. */
int acre_proto_csr_new(const char *cn, char **key_pem, char **csr_pem, struct acre_error *err);

/* The pool's CA with its key (--tls-ca, --tls-ca-key): the controller signs joining nodes. */
struct acre_proto_ca;
int acre_proto_ca_load(const char *cert_path, const char *key_path, struct acre_proto_ca **out,
		       struct acre_error *err);
const char *acre_proto_ca_pem(const struct acre_proto_ca *ca);
const char *acre_proto_ca_hash_of(const struct acre_proto_ca *ca);
/*
 * A client certificate (PEM, caller frees) for the key of csr_pem: CN = cn
 * whatever the request says, clientAuth, valid `days` (1 to 3650) but never
 * past the CA; errors name "csr" for a malformed, weak or forged request.
 */
int acre_proto_ca_sign(const struct acre_proto_ca *ca, const char *csr_pem, const char *cn,
		       int days, char **cert_pem, struct acre_error *err);
void acre_proto_ca_free(struct acre_proto_ca *ca);

/* ---- fd passing (fds.c) ------------------------------------------------- */

/* The most fds one message carries. */
#define ACRE_PROTO_FDS_MAX 8

/*
 * One sendmsg of buf[0..len) with nfds (at most ACRE_PROTO_FDS_MAX) fds
 * attached (SCM_RIGHTS), never raising SIGPIPE.  Returns the bytes sent,
 * which may be fewer than len on a stream socket, or -errno.
 */
ssize_t acre_proto_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
			    int flags);
/*
 * One recvmsg into buf (flags such as MSG_DONTWAIT): the fds that came with
 * it, close-on-exec, into fds[0..max) with their count in *nfds; any beyond
 * `max` are closed.  Returns the bytes read (0 at the end) or -errno.
 */
ssize_t acre_proto_recv_fds(int sock, void *buf, size_t len, int *fds, size_t max, size_t *nfds,
			    int flags);

/* ---- a slice's log over the node port (logs.c) --------------------------- */

/* Bytes of log in one logs.data (its base64 is 4/3 of it: far below a line's 1 MiB). */
#define ACRE_LOGS_CHUNK (48u * 1024)
/*
 * logs.data a node sends on one stream before the controller has answered
 * them: what a stream holds in flight is bounded by WINDOW x CHUNK, and a
 * controller that holds its answers (its HTTP client is slow) pauses the
 * node's reading of that log, not the connection.
 */
#define ACRE_LOGS_WINDOW 4
/* tail=N: the last N lines, at most this many. */
#define ACRE_LOGS_TAIL_MAX 1000000

/* base64 (RFC 4648, padded) of data[0..len), NUL-terminated; caller frees.  NULL: ENOMEM. */
char *acre_proto_base64_encode(const void *data, size_t len, size_t *out_len);
/*
 * The bytes of a padded base64 text (no whitespace, length a multiple of
 * 4); caller frees *out.  -EINVAL for anything else, -ENOMEM.
 */
int acre_proto_base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len);

/* ---- placement (placement.c) -------------------------------------------- */

/* Attribute names: what --attr, --constraint and --spread accept. */
#define ACRE_ATTR_KEY_MAX   63
#define ACRE_ATTR_VALUE_MAX 255
/* Attributes every node has without asking: its id and its hostname. */
#define ACRE_ATTR_NODE_ID  "node.id"
#define ACRE_ATTR_HOSTNAME "node.hostname"

enum acre_constraint_op { ACRE_CONSTRAINT_EQ, ACRE_CONSTRAINT_NE };

struct acre_constraint {
	char attr[ACRE_ATTR_KEY_MAX + 1];
	char value[ACRE_ATTR_VALUE_MAX + 1];
	enum acre_constraint_op op;
};

enum acre_strategy { ACRE_STRATEGY_BINPACK, ACRE_STRATEGY_SPREAD };

#define ACRE_PLACEMENT_MAX_CONSTRAINTS 16

/* Where a slice may go, and which of the nodes that fit it prefers. */
struct acre_placement {
	struct acre_constraint constraints[ACRE_PLACEMENT_MAX_CONSTRAINTS];
	unsigned nconstraints;
	char spread[ACRE_ATTR_KEY_MAX + 1]; /* "" = none */
	/*
	 * At most one slice of its group per value of this attribute: "node"
	 * (one per node, node.id), an attribute name ("zone"), or "" = none.
	 */
	char unique[ACRE_ATTR_KEY_MAX + 1];
	enum acre_strategy strategy;
};

/* The word --unique takes for one per node. */
#define ACRE_UNIQUE_NODE "node"

/* A valid attribute name: letters, digits, '.', '-', '_', '/', ':' (bin:PATH), 1 to 63 bytes. */
bool acre_proto_attr_key_valid(const char *key);
/* A valid attribute value: 1 to 255 printable bytes. */
bool acre_proto_attr_value_valid(const char *value);

/* "zone==a", "rack!=r1" (spaces around the operator allowed); `field` names the flag. */
int acre_proto_constraint_parse(const char *text, struct acre_constraint *c, const char *field,
				struct acre_error *err);
/* "zone==a" again, for output. */
void acre_proto_constraint_format(const struct acre_constraint *c, char *buf, size_t len);
int acre_proto_strategy_parse(const char *text, enum acre_strategy *out, struct acre_error *err);
const char *acre_proto_strategy_name(enum acre_strategy s);

/* The node attribute p->unique counts by ("node" is node.id), or NULL: none. */
const char *acre_proto_unique_attr(const struct acre_placement *p);

/*
 * {"constraints": ["zone==a", ...], "spread": "zone", "unique": "node",
 *  "strategy": "binpack"};
 * NULL is the default placement (anywhere, binpack).  Errors name the field
 * ("placement.constraints[1]").
 */
int acre_proto_placement_from_json(const json_t *j, struct acre_placement *p,
				   struct acre_error *err);
json_t *acre_proto_placement_to_json(const struct acre_placement *p);

/* ---- a download (http_get.c) -------------------------------------------- */

#define ACRE_HTTP_URI_MAX 2048

/*
 * GETs an http(s) URI into fd, following up to 5 redirects, each byte of
 * the body through md (an EVP_MD_CTX set up for SHA-256, restarted on a
 * redirect; NULL: none), its length in *size.  HTTPS verifies the server
 * against the system's CAs and its name.  Blocks on an event loop of its
 * own: for a child process.  0, or -errno with why filled.
 */
int acre_proto_http_get(const char *uri, int fd, void *md, uint64_t *size, char *why, size_t len);

#endif
