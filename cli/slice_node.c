/*
 * The slice backend of one node: requests over the supervisor's Unix
 * socket (slice.list, slice.show, ...), their replies put into the shapes
 * of slice_shape.c.  A node has no placement and no pool-side filter: a
 * list is filtered here, on the labels and states the node returns.  The
 * log comes as an fd the supervisor passes, copied out here; with --follow
 * reading goes on until the slice ends.  A foreground run is
 * slice_node_foreground.c's.
 */
#include "cli.h"

#include <poll.h>

static int call(struct cli *cli, const char *op, json_t *args, json_t **res, struct acre_error *err)
{
	*res = cli_call(cli, op, args, err);
	if (*res)
		return 0;
	return err->code ? -err->code : -EIO;
}

static int node_list(struct cli *cli, const struct slice_filter *f, json_t **slices,
		     struct acre_error *err)
{
	if (f->node)
		return acre_error_set(err, EINVAL, "--node",
				      "--node picks a node of the pool: it needs --controller");
	_cleanup_json_ json_t *res = NULL;
	int rc = call(cli, ACRE_OP_SLICE_LIST, NULL, &res, err);
	if (rc < 0)
		return rc;
	json_t *out = json_array();
	size_t i;
	json_t *s;
	json_array_foreach (json_object_get(res, "slices"), i, s)
		json_array_append_new(out, slice_shape_node(s, false));
	*slices = out;
	return 0;
}

static int node_show(struct cli *cli, const char *name, json_t **slice, struct acre_error *err)
{
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", name);
	_cleanup_json_ json_t *res = NULL;
	int rc = call(cli, ACRE_OP_SLICE_SHOW, args, &res, err);
	if (rc < 0)
		return rc;
	*slice = slice_shape_node(res, true);
	return 0;
}

static int refuse_placement(const struct run_request *req, struct acre_error *err)
{
	if (!req->placement)
		return 0;
	return acre_error_set(
		err, EINVAL, "--constraint",
		"--constraint, --spread, --unique and --strategy place a slice in a pool: "
		"they need --controller");
}

static int node_run(struct cli *cli, const struct run_request *req, json_t **slice,
		    struct acre_error *err)
{
	if (refuse_placement(req, err) < 0)
		return -EINVAL;
	_cleanup_json_ json_t *args = json_pack("{s:O,s:b,s:b,s:b}", "spec", req->spec, "detach", 1,
						"remove", req->remove, "stdio", 0);
	_cleanup_json_ json_t *res = NULL;
	int rc = call(cli, ACRE_OP_SLICE_RUN, args, &res, err);
	if (rc < 0)
		return rc;
	*slice = slice_shape_node(res, false);
	return 0;
}

static int node_run_attached(struct cli *cli, const struct run_request *req)
{
	struct acre_error err = {0};
	if (refuse_placement(req, &err) < 0)
		return cli_fail(cli, &err);
	return slice_node_run_attached(cli, req);
}

static int node_kill(struct cli *cli, const char *name, int signo, json_t **result,
		     struct acre_error *err)
{
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", name);
	if (signo)
		json_object_set_new(args, "signal", json_integer(signo));
	_cleanup_json_ json_t *res = NULL;
	int rc = call(cli, ACRE_OP_SLICE_KILL, args, &res, err);
	if (rc < 0)
		return rc;
	*result = slice_shape_kill(res, name);
	return 0;
}

static int node_rm(struct cli *cli, const char *name, bool force, json_t **result,
		   struct acre_error *err)
{
	_cleanup_json_ json_t *args = json_pack("{s:s,s:b}", "name", name, "force", force);
	_cleanup_json_ json_t *res = NULL;
	int rc = call(cli, ACRE_OP_SLICE_RM, args, &res, err);
	if (rc < 0)
		return rc;
	*result = slice_shape_rm(res, name);
	return 0;
}

static int node_stat(struct cli *cli, json_t *names, json_t **res, struct acre_error *err)
{
	_cleanup_json_ json_t *args = json_pack("{s:O}", "names", names);
	return call(cli, ACRE_OP_SLICE_STAT, args, res, err);
}

static int copy_out(int fd)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

/* Until the slice ends: read what it appends, then what is left. */
static int follow(struct client *cl, int fd, json_t *args)
{
	struct acre_error err = {0};
	int rc = 0;
	json_int_t id = client_send(cl, ACRE_OP_SLICE_WAIT, args, NULL, 0, &err);
	for (bool done = id < 0; !done && rc == 0;) {
		json_t *msg = NULL;
		if (client_read(cl, 200, &msg, &err) < 0 || msg)
			done = true;
		json_decref(msg);
		rc = copy_out(fd);
	}
	return rc;
}

static int node_logs(struct cli *cli, const char *name, bool keep_reading, struct acre_error *err)
{
	struct client cl;
	if (cli_connect(cli, &cl, err) < 0)
		return err->code ? -err->code : -EIO;
	_cleanup_json_ json_t *args = json_pack("{s:s}", "name", name);
	_cleanup_json_ json_t *res = client_call(&cl, ACRE_OP_SLICE_LOGS, args, err);
	if (!res || cl.received_fd < 0) {
		client_close(&cl);
		if (res)
			acre_error_set(err, EPROTO, NULL, "the supervisor sent no log");
		return -(err->code ? err->code : EIO);
	}
	int rc = copy_out(cl.received_fd);
	if (keep_reading && rc == 0)
		rc = follow(&cl, cl.received_fd, args);
	client_close(&cl);
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "writing the log: %s", strerror(-rc));
	return 0;
}

const struct slice_backend slice_node_backend = {
	.name = "node",
	.places = false,
	.list = node_list,
	.show = node_show,
	.run = node_run,
	.run_attached = node_run_attached,
	.kill = node_kill,
	.rm = node_rm,
	.stat = node_stat,
	.logs = node_logs,
};
