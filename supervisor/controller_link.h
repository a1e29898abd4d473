/*
 * The supervisor's link to the pool's controller (--controller): it dials
 * out over TLS, registers this node, reports every change of the slices the
 * pool assigned (it observes the slices' changes), heartbeats, and carries
 * out the controller's assign, kill and remove with the verbs of
 * slice_ops.h.  See controller/README.md for the protocol.
 *
 *   controller_link.c    the connection: TLS, back-off, register, sync, heartbeat
 *   controller_outbox.c  the node's identity and the outbox of unacknowledged
 *                        updates, both files in the state directory
 *   controller_ops.c     what the controller asks, and what the node reports
 *   partition.c          cut off for the controller's disconnect grace: the
 *                        pool's slices labelled acre.on-partition=replace
 *                        stopped by the node itself
 *   controller_logs.c    slices' logs read for the controller (logs.open, logs.data)
 */
#ifndef ACRE_SUPERVISOR_CONTROLLER_LINK_H
#define ACRE_SUPERVISOR_CONTROLLER_LINK_H

#include "slice.h"
#include "proto/proto.h"

#include <event2/bufferevent.h>

struct controller_link;

/*
 * Loads identity and outbox and starts observing the slices; call before
 * slices are recovered, so that what recovery finds out is reported too.
 */
int controller_link_new(struct supervisor *sv, struct acre_error *err);
/* Starts dialling (once the supervisor serves its socket). */
void controller_link_start(struct controller_link *l);
/* Writes what is left in the outbox and closes. */
void controller_link_free(struct controller_link *l);

/* ---- internal to the three files ---- */

struct outbox_entry {
	int64_t seq;
	json_t *update;
	bool sent; /* on this connection */
};

struct outbox {
	ACRE_VEC(struct outbox_entry) entries; /* oldest first */
	int64_t next_seq;
	bool dirty;	 /* memory differs from the file */
	bool must_write; /* ... by updates not on disk yet */
};

enum link_state { LINK_IDLE, LINK_CONNECTING, LINK_REGISTERING, LINK_SYNCING, LINK_READY };

/* partition.c's: how long the controller has been silent, and what that did. */
struct partition {
	uint64_t grace_ms; /* the controller's disconnect_grace_ms; 0: never stop */
	uint64_t heard_ns; /* a line of the registered link, or the process's start */
	bool stopped;	   /* this partition's stops are made */
	struct event *timer;
};

struct controller_link {
	struct supervisor *sv;
	struct slice_observer observer;	       /* a change of a pool slice: an update */
	struct slice_observer health_observer; /* ... of its health: a health message */
	bool observing;
	char host[256], port[16];
	int protocol;  /* the version the controller chose at registration */
	void *ssl_ctx; /* SSL_CTX, NULL with --insecure */
	struct bufferevent *bev;
	enum link_state state;
	int64_t next_id, register_id, sync_id;
	uint64_t heartbeat_ms, backoff_ms, last_rx_ns;
	struct event *timer; /* back-off, then heartbeats */
	struct event *flush_ev;
	bool discarding;
	char node_id[ACRE_NAME_MAX + 1];
	char secret[65];
	struct outbox ob;
	/* Update messages in flight: the last sequence number each carries. */
	struct {
		int64_t id, seq;
	} inflight[64];
	unsigned inflight_next;
	struct partition part;
	struct log_stream *log_streams; /* slices' logs being read for the controller */
	size_t nlog_streams;
};

/* controller_outbox.c */
int outbox_identity(struct controller_link *l, struct acre_error *err);
/*
 * The node's identity in the state directory (controller-node.json: its id
 * and the secret only it knows), shared with `acre-supervisor join`: read
 * (-ENOENT when there is none yet), made up, written.
 */
int node_identity_read(int dir, char id[ACRE_NAME_MAX + 1], char secret[65],
		       struct acre_error *err);
int node_identity_new(char id[ACRE_NAME_MAX + 1], char secret[65]);
int node_identity_write(int dir, const char *id, const char *secret, struct acre_error *err);
int outbox_load(struct controller_link *l, struct acre_error *err);
/* Appends an update and assigns its sequence number. */
int outbox_push(struct controller_link *l, json_t *update);
/* The controller has everything up to seq. */
void outbox_ack(struct controller_link *l, int64_t seq);
/* Rewrites the file when new updates are not on disk yet (or, with all, on any change). */
int outbox_write(struct controller_link *l, bool all);
void outbox_unsend_all(struct controller_link *l);
void outbox_free(struct controller_link *l);

/* controller_ops.c */
json_t *link_slice_update(const struct slice *s);
/* The members of a health message: the slice's health and readiness now. */
json_t *link_slice_health(const struct slice *s);
json_t *link_snapshot(struct supervisor *sv, uint32_t *local_cpus, uint64_t *local_mem);
void link_local_usage(struct supervisor *sv, uint32_t *cpus, uint64_t *mem, size_t *managed);
/* A request from the controller: answered at once. */
void link_handle_request(struct controller_link *l, const char *op, json_t *req, json_t *id);

/* controller_logs.c: logs.open and logs.close; the answers to logs.data */
bool link_logs_owns(const char *op);
void link_logs_request(struct controller_link *l, const char *op, json_t *req, json_t *id);
/* Whether the reply answers a logs.data (then taken care of). */
bool link_logs_reply(struct controller_link *l, int64_t id, const json_t *msg);
void link_logs_drop_all(struct controller_link *l);

/* controller_link.c */
void link_send(struct controller_link *l, const json_t *msg);

/* partition.c: the grace is armed from the process's start with the one last told. */
int partition_init(struct controller_link *l, struct acre_error *err);
void partition_free(struct controller_link *l);
/* A line of the registered link: the controller is there; a partition is over. */
void partition_heard(struct controller_link *l);
/* What the controller says at registration (0: it asks for nothing), kept on disk. */
void partition_set_grace(struct controller_link *l, uint64_t grace_ms);

#endif
