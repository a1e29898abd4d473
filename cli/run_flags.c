/*
 * `acre slice run` flags, mapped one to one onto the slice spec
 * (--memory is resources.memory, --cap is isolation.capabilities, ...).
 * Every flag is checked here, before anything is sent, and an error names
 * the flag as the user typed it: "--memory 12Q: unknown unit".
 */
#include "cli.h"
#include "proto/proto.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>

/* Spec fields and the flags that set them, to word errors the way the user typed. */
static const struct {
	const char *field, *flag;
} field_flags[] = {
	{"resources.cpus", "--cpus"},
	{"resources.memory", "--memory"},
	{"resources.pids", "--pids"},
	{"resources.net_rate", "--net-rate"},
	{"isolation.rootfs", "--rootfs"},
	{"isolation.readonly_root", "--rw"},
	{"isolation.seccomp", "--seccomp"},
	{"isolation.capabilities", "--cap"},
	{"network.mode", "--net"},
	{"restart", "--restart"},
	{"network.isolated", "--isolated"},
	{"network.allow", "--allow"},
	{"network.publish", "--publish"},
	{"volumes", "--volume"},
	{"user", "--user"},
	{"cwd", "--cwd"},
	{"env", "--env"},
	{"labels", "--label"},
	{"name", "--name"},
	{"command", "COMMAND"},
};

void run_flags_reword(struct acre_error *err)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(field_flags); i++) {
		size_t n = strlen(field_flags[i].field);
		if (strcmp(err->field, field_flags[i].field) == 0 &&
		    strncmp(err->message, field_flags[i].field, n) == 0) {
			char rest[sizeof(err->message)];
			snprintf(rest, sizeof(rest), "%s", err->message + n);
			snprintf(err->message, sizeof(err->message), "%s%s", field_flags[i].flag,
				 rest);
			snprintf(err->field, sizeof(err->field), "%s", field_flags[i].flag);
			return;
		}
	}
}

static json_t *object_at(json_t *spec, const char *key)
{
	json_t *o = json_object_get(spec, key);
	if (!o) {
		o = json_object();
		json_object_set_new(spec, key, o);
	}
	return o;
}

static int key_value(const char *arg, const char *flag, json_t *into, struct acre_error *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return acre_error_set(err, EINVAL, flag, "%s %s: expected KEY=VALUE", flag, arg);
	_cleanup_free_ char *key = strndup(arg, (size_t)(eq - arg));
	json_object_set_new(into, key, json_string(eq + 1));
	return 0;
}

static int read_profile(const char *path, json_t **out, struct acre_error *err)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j)
		return jerr.line > 0 ? acre_error_set(err, EINVAL, "--seccomp",
						      "--seccomp %s: %s (line %d)", path, jerr.text,
						      jerr.line)
				     : acre_error_set(err, EINVAL, "--seccomp", "--seccomp %s: %s",
						      path, jerr.text);
	*out = j;
	return 0;
}

enum {
	OPT_NAME = 1000,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_PIDS,
	OPT_NET,
	OPT_NET_RATE,
	OPT_ROOTFS,
	OPT_RW,
	OPT_USER,
	OPT_CWD,
	OPT_ENV,
	OPT_LABEL,
	OPT_SECCOMP,
	OPT_CAP,
	OPT_RESTART,
	OPT_RM,
	OPT_ISOLATED,
	OPT_ALLOW,
	OPT_PUBLISH,
	OPT_VOLUME,
	OPT_CONSTRAINT,
	OPT_SPREAD,
	OPT_UNIQUE,
	OPT_STRATEGY,
	OPT_CHECK, /* OPT_CHECK + enum run_check_flag */
};

static const struct option run_options[] = {
	{"name", required_argument, NULL, OPT_NAME},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"pids", required_argument, NULL, OPT_PIDS},
	{"net", required_argument, NULL, OPT_NET},
	{"net-rate", required_argument, NULL, OPT_NET_RATE},
	{"rootfs", required_argument, NULL, OPT_ROOTFS},
	{"rw", no_argument, NULL, OPT_RW},
	{"user", required_argument, NULL, OPT_USER},
	{"cwd", required_argument, NULL, OPT_CWD},
	{"env", required_argument, NULL, OPT_ENV},
	{"label", required_argument, NULL, OPT_LABEL},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"cap", required_argument, NULL, OPT_CAP},
	{"restart", required_argument, NULL, OPT_RESTART},
	{"detach", no_argument, NULL, 'd'},
	{"rm", no_argument, NULL, OPT_RM},
	{"isolated", no_argument, NULL, OPT_ISOLATED},
	{"allow", required_argument, NULL, OPT_ALLOW},
	{"publish", required_argument, NULL, OPT_PUBLISH},
	{"volume", required_argument, NULL, OPT_VOLUME},
	{"constraint", required_argument, NULL, OPT_CONSTRAINT},
	{"spread", required_argument, NULL, OPT_SPREAD},
	{"unique", required_argument, NULL, OPT_UNIQUE},
	{"strategy", required_argument, NULL, OPT_STRATEGY},
	{"check-http", required_argument, NULL, OPT_CHECK + RUN_CHECK_HTTP},
	{"check-tcp", required_argument, NULL, OPT_CHECK + RUN_CHECK_TCP},
	{"check-cmd", required_argument, NULL, OPT_CHECK + RUN_CHECK_CMD},
	{"ready-http", required_argument, NULL, OPT_CHECK + RUN_READY_HTTP},
	{"ready-tcp", required_argument, NULL, OPT_CHECK + RUN_READY_TCP},
	{"ready-cmd", required_argument, NULL, OPT_CHECK + RUN_READY_CMD},
	{"check-grace", required_argument, NULL, OPT_CHECK + RUN_CHECK_GRACE},
	{"check-interval", required_argument, NULL, OPT_CHECK + RUN_CHECK_INTERVAL},
	{"check-timeout", required_argument, NULL, OPT_CHECK + RUN_CHECK_TIMEOUT},
	{"check-failures", required_argument, NULL, OPT_CHECK + RUN_CHECK_FAILURES},
	{0},
};

/*
 * --constraint, --spread, --unique, --strategy: where in the pool (checked
 * as the controller will).
 */
static int apply_placement(int opt, const char *arg, struct run_request *req,
			   struct acre_error *err)
{
	if (!req->placement && !(req->placement = json_object()))
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	json_t *p = req->placement;
	if (opt == OPT_CONSTRAINT) {
		struct acre_constraint c;
		if (acre_proto_constraint_parse(arg, &c, "--constraint", err) < 0)
			return -EINVAL;
		json_t *list = json_object_get(p, "constraints");
		if (!list) {
			list = json_array();
			json_object_set_new(p, "constraints", list);
		}
		if (json_array_size(list) >= ACRE_PLACEMENT_MAX_CONSTRAINTS)
			return acre_error_set(err, EINVAL, "--constraint",
					      "--constraint: at most %d",
					      ACRE_PLACEMENT_MAX_CONSTRAINTS);
		char text[ACRE_ATTR_KEY_MAX + ACRE_ATTR_VALUE_MAX + 4];
		acre_proto_constraint_format(&c, text, sizeof(text));
		json_array_append_new(list, json_string(text));
		return 0;
	}
	if (opt == OPT_SPREAD) {
		if (!acre_proto_attr_key_valid(arg))
			return acre_error_set(err, EINVAL, "--spread",
					      "--spread %s: an attribute name (letters, digits, "
					      "'.', '-', '_', '/')",
					      arg);
		json_object_set_new(p, "spread", json_string(arg));
		return 0;
	}
	if (opt == OPT_UNIQUE) {
		if (!acre_proto_attr_key_valid(arg))
			return acre_error_set(err, EINVAL, "--unique",
					      "--unique %s: node, or an attribute name (letters, "
					      "digits, '.', '-', '_', '/')",
					      arg);
		json_object_set_new(p, "unique", json_string(arg));
		return 0;
	}
	enum acre_strategy st;
	if (acre_proto_strategy_parse(arg, &st, err) < 0) {
		acre_error_set(err, EINVAL, "--strategy", "--strategy %s: binpack or spread", arg);
		return -EINVAL;
	}
	json_object_set_new(p, "strategy", json_string(arg));
	return 0;
}

/* One flag into the spec; values are checked with the parsers the supervisor uses. */
static int apply(int opt, const char *arg, json_t *spec, struct run_request *req,
		 struct acre_error *err)
{
	json_t *res = object_at(spec, "resources"), *iso = object_at(spec, "isolation");
	uint64_t u64;
	uint32_t milli;
	char path[PATH_MAX];
	json_t *profile = NULL;
	switch (opt) {
	case OPT_NAME:
		if (!acre_slice_name_valid(arg))
			return acre_error_set(err, EINVAL, "--name",
					      "--name %s: 1 to %d letters, digits, '-', '_' or "
					      "'.', starting with a letter or digit",
					      arg, ACRE_NAME_MAX);
		json_object_set_new(spec, "name", json_string(arg));
		return 0;
	case OPT_CPUS:
		if (acre_parse_cpus(arg, &milli, err, "--cpus") < 0)
			return -EINVAL;
		json_object_set_new(res, "cpus", json_real(milli / 1000.0));
		return 0;
	case OPT_MEMORY:
		if (acre_parse_size(arg, &u64, err, "--memory") < 0)
			return -EINVAL;
		json_object_set_new(res, "memory", json_string(arg));
		return 0;
	case OPT_PIDS: {
		char *end;
		long long v = strtoll(arg, &end, 10);
		if (!*arg || *end || v < 2 || v > 4194304)
			return acre_error_set(
				err, EINVAL, "--pids",
				"--pids %s: an integer from 2 (acre-init and the task) "
				"to 4194304",
				arg);
		json_object_set_new(res, "pids", json_integer(v));
		return 0;
	}
	case OPT_NET:
		if (strcmp(arg, "none") && strcmp(arg, "host") && strcmp(arg, "bridge"))
			return acre_error_set(err, EINVAL, "--net",
					      "--net %s: one of none, host, bridge", arg);
		json_object_set_new(object_at(spec, "network"), "mode", json_string(arg));
		return 0;
	case OPT_NET_RATE:
		if (acre_parse_rate(arg, &u64, err, "--net-rate") < 0)
			return -EINVAL;
		json_object_set_new(res, "net_rate", json_string(arg));
		return 0;
	case OPT_ROOTFS:
		if (!realpath(arg, path))
			return acre_error_set(err, errno, "--rootfs", "--rootfs %s: %s", arg,
					      strerror(errno));
		json_object_set_new(iso, "rootfs", json_string(path));
		return 0;
	case OPT_RW:
		json_object_set_new(iso, "readonly_root", json_false());
		return 0;
	case OPT_USER:
		json_object_set_new(spec, "user", json_string(arg));
		return 0;
	case OPT_CWD:
		json_object_set_new(spec, "cwd", json_string(arg));
		return 0;
	case OPT_ENV:
		return key_value(arg, "--env", object_at(spec, "env"), err);
	case OPT_LABEL:
		return key_value(arg, "--label", object_at(spec, "labels"), err);
	case OPT_SECCOMP:
		if (!strcmp(arg, "default") || !strcmp(arg, "unconfined")) {
			json_object_set_new(iso, "seccomp", json_string(arg));
			return 0;
		}
		if (read_profile(arg, &profile, err) < 0)
			return -EINVAL;
		json_object_set_new(iso, "seccomp", profile);
		return 0;
	case OPT_CAP: {
		json_t *caps = json_object_get(iso, "capabilities");
		if (!caps) {
			caps = json_array();
			json_object_set_new(iso, "capabilities", caps);
		}
		if (acre_cap_from_name(arg) < 0)
			return acre_error_set(err, EINVAL, "--cap", "--cap %s: unknown capability",
					      arg);
		json_array_append_new(caps, json_string(arg));
		return 0;
	}
	case OPT_ISOLATED:
		json_object_set_new(object_at(spec, "network"), "isolated", json_true());
		return 0;
	case OPT_ALLOW: {
		struct acre_allow rule;
		if (acre_allow_parse(arg, &rule, err) < 0)
			return acre_error_prefix(err, "--allow");
		json_t *net = object_at(spec, "network"), *allow = json_object_get(net, "allow");
		if (!allow) {
			allow = json_array();
			json_object_set_new(net, "allow", allow);
		}
		json_array_append_new(allow, json_string(arg));
		return 0;
	}
	case OPT_PUBLISH: {
		/* Checked here for the flag's own syntax; ranges, duplicates and the mode by the
		 * spec. */
		struct acre_publish p;
		if (acre_publish_parse(arg, &p, err) < 0)
			return -EINVAL;
		json_t *net = object_at(spec, "network"), *pub = json_object_get(net, "publish");
		if (!pub) {
			pub = json_array();
			json_object_set_new(net, "publish", pub);
		}
		json_array_append_new(pub,
				      json_pack("{s:i,s:i,s:s}", "node_port", p.node_port, "port",
						p.port, "proto", acre_publish_proto_name(p.proto)));
		return 0;
	}
	case OPT_VOLUME: {
		/* NAME:SIZE:PATH checked here for the flag's own syntax; duplicates by the spec. */
		struct acre_volume v;
		if (acre_volume_parse(arg, &v, err) < 0)
			return -EINVAL;
		json_t *vols = json_object_get(spec, "volumes");
		if (!vols) {
			vols = json_array();
			json_object_set_new(spec, "volumes", vols);
		}
		json_array_append_new(vols, json_pack("{s:s,s:I,s:s}", "name", v.name, "size",
						      (json_int_t)v.size, "path", v.path));
		free(v.path);
		return 0;
	}
	case OPT_RESTART:
		json_object_set_new(spec, "restart", json_string(arg));
		return 0;
	case 'd':
		req->detach = true;
		return 0;
	case OPT_RM:
		req->remove = true;
		return 0;
	case OPT_CONSTRAINT:
	case OPT_SPREAD:
	case OPT_UNIQUE:
	case OPT_STRATEGY:
		return apply_placement(opt, arg, req, err);
	default:
		return acre_error_set(err, EINVAL, NULL, "unknown option (see acre slice help)");
	}
}

int run_flags_parse(int argc, char **argv, struct run_request *req, struct acre_error *err)
{
	_cleanup_json_ json_t *spec = json_object(), *timing = json_object();
	memset(req, 0, sizeof(*req));
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "+d", run_options, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			acre_error_set(err, EINVAL, NULL,
				       "%s: unknown option or missing value (see acre slice help)",
				       argv[optind - 1]);
			goto fail;
		}
		if (opt >= OPT_CHECK) {
			if (run_checks_apply((enum run_check_flag)(opt - OPT_CHECK), optarg, spec,
					     timing, err) < 0)
				goto fail;
		} else if (apply(opt, optarg, spec, req, err) < 0) {
			goto fail;
		}
	}
	if (run_checks_finish(spec, timing, err) < 0)
		goto fail;
	if (optind >= argc) {
		acre_error_set(err, EINVAL, "command",
			       "slice run: no command (acre slice run [OPTIONS] -- COMMAND)");
		goto fail;
	}
	json_t *cmd = json_array();
	for (int i = optind; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(spec, "command", cmd);
	/* `--net host` implies no network namespace of its own. */
	json_t *net = json_object_get(json_object_get(spec, "network"), "mode");
	if (net && strcmp(json_string_value(net), "host") == 0)
		json_object_set_new(
			object_at(spec, "isolation"), "namespaces",
			json_pack("[s,s,s,s,s]", "pid", "mount", "uts", "ipc", "cgroup"));
	/* The supervisor checks again; checking here names the flag. */
	struct acre_slice_spec parsed;
	if (acre_slice_spec_parse(spec, &parsed, err) < 0) {
		run_flags_reword(err);
		run_checks_reword(err);
		goto fail;
	}
	acre_slice_spec_free(&parsed);
	req->spec = TAKE_PTR(spec);
	return 0;
fail:
	json_decref(req->placement);
	req->placement = NULL;
	return -EINVAL;
}
