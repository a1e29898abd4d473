/*
 * controller: what the rest of acre uses of the pool's controller — the
 * placement of a slice (constraints, spread, strategy) as the CLI and the
 * HTTP API write it, and the names of the supervisor <-> controller
 * protocol.  The protocol itself is described in controller/README.md;
 * in short, over one TLS connection that the supervisor dials:
 *
 *   supervisor -> controller          controller -> supervisor
 *   register  (first, with the token)  assign  (launch a slice, detached)
 *   sync      (its slices, after the   kill    (end a slice)
 *              resent outbox)          remove  (end and remove a slice)
 *   heartbeat (usage)
 *   update    (slice changes, each with a per-node sequence number that the
 *              controller acknowledges once committed; duplicates ignored)
 *
 * Every message is one NDJSON line in the envelope of common.h.
 */
#ifndef ACRE_CONTROLLER_H
#define ACRE_CONTROLLER_H

#include "common/common.h"

#define ACRE_CONTROLLER_PROTOCOL 1

/* Supervisor -> controller. */
#define ACRE_OP_REGISTER  "register"
#define ACRE_OP_SYNC	  "sync"
#define ACRE_OP_HEARTBEAT "heartbeat"
#define ACRE_OP_UPDATE	  "update"
/* Controller -> supervisor. */
#define ACRE_OP_ASSIGN "assign"
#define ACRE_OP_KILL   "kill"
#define ACRE_OP_REMOVE "remove"

/*
 * The label a supervisor puts on every slice the controller assigned, so
 * that after any restart both sides know which slices the pool manages.
 */
#define ACRE_LABEL_MANAGED "acre.managed"

/* Attribute names: what --attr, --constraint and --spread accept. */
#define ACRE_ATTR_KEY_MAX   63
#define ACRE_ATTR_VALUE_MAX 255
/* Attributes every node has without asking: its id and its hostname. */
#define ACRE_ATTR_NODE_ID   "node.id"
#define ACRE_ATTR_HOSTNAME  "node.hostname"

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
	enum acre_strategy strategy;
};

/* A valid attribute name: letters, digits, '.', '-', '_', '/', 1 to 63 bytes. */
bool acre_controller_attr_key_valid(const char *key);
/* A valid attribute value: 1 to 255 printable bytes. */
bool acre_controller_attr_value_valid(const char *value);

/* "zone==a", "rack!=r1" (spaces around the operator allowed); `field` names the flag. */
int acre_controller_constraint_parse(const char *text, struct acre_constraint *c,
				     const char *field, struct acre_error *err);
/* "zone==a" again, for output. */
void acre_controller_constraint_format(const struct acre_constraint *c, char *buf, size_t len);
int acre_controller_strategy_parse(const char *text, enum acre_strategy *out,
				   struct acre_error *err);
const char *acre_controller_strategy_name(enum acre_strategy s);

/*
 * {"constraints": ["zone==a", ...], "spread": "zone", "strategy": "binpack"};
 * NULL is the default placement (anywhere, binpack).  Errors name the field
 * ("placement.constraints[1]").
 */
int acre_controller_placement_from_json(const json_t *j, struct acre_placement *p,
					struct acre_error *err);
json_t *acre_controller_placement_to_json(const struct acre_placement *p);

/* ---- wire.c: the protocol's lines over a libevent connection, at either end ---- */
struct evbuffer;
struct bufferevent;
enum acre_wire_line {
	ACRE_WIRE_WAIT,	    /* no whole line yet */
	ACRE_WIRE_LINE,	    /* *line (NUL-terminated, the '\n' not counted in *len) */
	ACRE_WIRE_TOO_LONG, /* a line over ACRE_FRAME_MAX began: said once per line */
	ACRE_WIRE_SKIPPED,  /* the end of that line went too */
};
/*
 * The next line in `in`; *discarding (false on a new connection) carries a
 * too-long line across calls.  A line stays in `in` until the caller drains
 * *len + 1 bytes; everything else is drained here.
 */
enum acre_wire_line acre_controller_wire_next(struct evbuffer *in, bool *discarding, char **line,
					      size_t *len);
/* Why a connection failed (BEV_EVENT_ERROR): the TLS error, else the socket's. */
void acre_controller_wire_error(struct bufferevent *bev, char *why, size_t len);

#endif
