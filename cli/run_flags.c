/*
 * The slice spec's flags, mapped one to one onto its fields (--memory is
 * resources.memory, --cap is isolation.capabilities, ...), in pieces that
 * `slice run` and the slice template of `app run` share: the options of
 * the spec itself, those of placement, and `slice run`'s own (--name,
 * --restart, --publish, ...).  Every flag is checked here, before anything
 * is sent, and an error names the flag as the user typed it: "--memory
 * 12Q: unknown unit".
 */
#include "cli.h"
#include "proto/proto.h"

#include <fcntl.h>
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
	{"artifacts", "--artifact"},
	{"secrets", "--secret"},
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

json_t *run_object_at(json_t *spec, const char *key)
{
	json_t *o = json_object_get(spec, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(spec, key, o);
	}
	return o;
}

json_t *run_array_at(json_t *spec, const char *key)
{
	json_t *a = json_object_get(spec, key);
	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(spec, key, a);
	}
	return a;
}

int run_key_value(const char *arg, const char *flag, json_t *into, struct acre_error *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return acre_error_set(err, EINVAL, flag, "%s %s: expected KEY=VALUE", flag, arg);
	_cleanup_free_ char *key = strndup(arg, (size_t)(eq - arg));
	if (!key)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
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

/* slice run's own flags, besides the spec's, placement's and the checks'. */
enum {
	OPT_NAME = 1200,
	OPT_LABEL,
	OPT_RESTART,
	OPT_RM,
	OPT_PUBLISH,
	OPT_VOLUME,
	OPT_ARTIFACT,
};

const struct option run_spec_options[] = {
	{"cpus", required_argument, NULL, RUN_OPT_CPUS},
	{"memory", required_argument, NULL, RUN_OPT_MEMORY},
	{"pids", required_argument, NULL, RUN_OPT_PIDS},
	{"net", required_argument, NULL, RUN_OPT_NET},
	{"net-rate", required_argument, NULL, RUN_OPT_NET_RATE},
	{"rootfs", required_argument, NULL, RUN_OPT_ROOTFS},
	{"rw", no_argument, NULL, RUN_OPT_RW},
	{"user", required_argument, NULL, RUN_OPT_USER},
	{"cwd", required_argument, NULL, RUN_OPT_CWD},
	{"env", required_argument, NULL, RUN_OPT_ENV},
	{"seccomp", required_argument, NULL, RUN_OPT_SECCOMP},
	{"cap", required_argument, NULL, RUN_OPT_CAP},
	{"isolated", no_argument, NULL, RUN_OPT_ISOLATED},
	{"allow", required_argument, NULL, RUN_OPT_ALLOW},
	{"secret", required_argument, NULL, RUN_OPT_SECRET},
	{"secret-file", required_argument, NULL, RUN_OPT_SECRET_FILE},
	{0},
};

const struct option run_placement_options[] = {
	{"constraint", required_argument, NULL, RUN_OPT_CONSTRAINT},
	{"spread", required_argument, NULL, RUN_OPT_SPREAD},
	{"unique", required_argument, NULL, RUN_OPT_UNIQUE},
	{"strategy", required_argument, NULL, RUN_OPT_STRATEGY},
	{0},
};

const struct option run_check_options[] = {
	{"check-http", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_HTTP},
	{"check-tcp", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_TCP},
	{"check-cmd", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_CMD},
	{"ready-http", required_argument, NULL, RUN_OPT_CHECK + RUN_READY_HTTP},
	{"ready-tcp", required_argument, NULL, RUN_OPT_CHECK + RUN_READY_TCP},
	{"ready-cmd", required_argument, NULL, RUN_OPT_CHECK + RUN_READY_CMD},
	{"check-grace", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_GRACE},
	{"check-interval", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_INTERVAL},
	{"check-timeout", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_TIMEOUT},
	{"check-failures", required_argument, NULL, RUN_OPT_CHECK + RUN_CHECK_FAILURES},
	{0},
};

static const struct option slice_run_options[] = {
	{"name", required_argument, NULL, OPT_NAME},
	{"label", required_argument, NULL, OPT_LABEL},
	{"restart", required_argument, NULL, OPT_RESTART},
	{"detach", no_argument, NULL, 'd'},
	{"rm", no_argument, NULL, OPT_RM},
	{"publish", required_argument, NULL, OPT_PUBLISH},
	{"volume", required_argument, NULL, OPT_VOLUME},
	{"artifact", required_argument, NULL, OPT_ARTIFACT},
	{0},
};

struct option *run_options_join(const struct option *const *tables)
{
	size_t n = 0;
	for (size_t t = 0; tables[t]; t++)
		for (const struct option *o = tables[t]; o->name; o++)
			n++;
	struct option *all = calloc(n + 1, sizeof(*all));
	if (!all)
		return NULL;
	n = 0;
	for (size_t t = 0; tables[t]; t++)
		for (const struct option *o = tables[t]; o->name; o++)
			all[n++] = *o;
	return all;
}

int run_placement_apply(int opt, const char *arg, json_t *p, struct acre_error *err)
{
	if (opt == RUN_OPT_CONSTRAINT) {
		struct acre_constraint c;
		if (acre_proto_constraint_parse(arg, &c, "--constraint", err) < 0)
			return -EINVAL;
		json_t *list = run_array_at(p, "constraints");
		if (json_array_size(list) >= ACRE_PLACEMENT_MAX_CONSTRAINTS)
			return acre_error_set(err, EINVAL, "--constraint",
					      "--constraint: at most %d",
					      ACRE_PLACEMENT_MAX_CONSTRAINTS);
		char text[ACRE_ATTR_KEY_MAX + ACRE_ATTR_VALUE_MAX + 4];
		acre_proto_constraint_format(&c, text, sizeof(text));
		json_array_append_new(list, json_string(text));
		return 0;
	}
	if (opt == RUN_OPT_SPREAD) {
		if (!acre_proto_attr_key_valid(arg))
			return acre_error_set(err, EINVAL, "--spread",
					      "--spread %s: an attribute name (letters, digits, "
					      "'.', '-', '_', '/', ':')",
					      arg);
		json_object_set_new(p, "spread", json_string(arg));
		return 0;
	}
	if (opt == RUN_OPT_UNIQUE) {
		if (!acre_proto_attr_key_valid(arg))
			return acre_error_set(err, EINVAL, "--unique",
					      "--unique %s: node, or an attribute name (letters, "
					      "digits, '.', '-', '_', '/', ':')",
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

int run_volume_add(const char *arg, json_t *vols, struct acre_error *err)
{
	/* NAME:SIZE:PATH checked here for the flag's own syntax; duplicates by the spec. */
	struct acre_volume v;
	if (acre_volume_parse(arg, &v, err) < 0)
		return -EINVAL;
	json_array_append_new(vols, json_pack("{s:s,s:I,s:s}", "name", v.name, "size",
					      (json_int_t)v.size, "path", v.path));
	free(v.path);
	return 0;
}

/*
 * NAME=VALUE, or NAME=PATH of a file read whole (from_file); a name given
 * again (or in a spec the flags apply over) takes the last value.  No
 * error repeats the value: it could end up in a terminal's scrollback or a
 * log.
 */
int run_secret_add(const char *arg, bool from_file, json_t *secrets, struct acre_error *err)
{
	const char *flag = from_file ? "--secret-file" : "--secret";
	const char *eq = strchr(arg, '=');
	char name[ACRE_SECRET_NAME_MAX + 1];
	if (!eq || (size_t)(eq - arg) > ACRE_SECRET_NAME_MAX)
		return acre_error_set(err, EINVAL, flag, "%s: expected NAME=%s", flag,
				      from_file ? "PATH" : "VALUE");
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	if (!acre_secret_name_valid(name))
		return acre_error_set(err, EINVAL, flag,
				      "%s %s: a name of 1 to %d letters, digits, '.', '_' or '-', "
				      "not starting with '.'",
				      flag, name, ACRE_SECRET_NAME_MAX);
	if (!from_file) {
		json_object_set_new(secrets, name, json_string(eq + 1));
		return 0;
	}
	_cleanup_free_ char *data = NULL;
	size_t len;
	int rc = acre_file_read(AT_FDCWD, eq + 1, &data, &len, ACRE_SECRET_VALUE_MAX + 1);
	if (rc < 0)
		return acre_error_set(err, -rc, flag, "%s %s: reading %s: %s", flag, name, eq + 1,
				      rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
	if (len > ACRE_SECRET_VALUE_MAX || memchr(data, '\0', len))
		return acre_error_set(err, EINVAL, flag,
				      "%s %s: %s: at most %d bytes, with no NUL byte", flag, name,
				      eq + 1, ACRE_SECRET_VALUE_MAX);
	json_t *v = json_stringn(data, len);
	if (!v)
		return acre_error_set(err, EINVAL, flag, "%s %s: %s: not UTF-8 text", flag, name,
				      eq + 1);
	json_object_set_new(secrets, name, v);
	explicit_bzero(data, len);
	return 0;
}

/*
 * URI,sha256=HEX,path=PATH[,extract=true|false]: the URI is what comes
 * before the first of those keys (it may hold commas of its own); the
 * values are checked by the spec, which names the field.  sha256_from=URL
 * or sha512_from=URL in place of sha256: the project's checksum file.
 */
int run_artifact_add(const char *arg, json_t *artifacts, struct acre_error *err)
{
	static const char *const keys[] = {
		",sha256=", ",sha256_from=", ",sha512_from=", ",path=", ",extract="};
	const char *end = NULL;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(keys); i++) {
		const char *k = strstr(arg, keys[i]);
		if (k && (!end || k < end))
			end = k;
	}
	if (!end)
		return acre_error_set(
			err, EINVAL, "--artifact",
			"--artifact %s: URI,sha256=HEX,path=PATH[,extract=true|false]", arg);
	_cleanup_json_ json_t *a = json_pack("{s:s%}", "uri", arg, (size_t)(end - arg));
	_cleanup_free_ char *rest = strdup(end + 1);
	if (!a || !rest)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (char *save = NULL, *kv = strtok_r(rest, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return acre_error_set(err, EINVAL, "--artifact",
					      "--artifact %s: %s: expected KEY=VALUE", arg, kv);
		*eq = '\0';
		if (!strcmp(kv, "extract") && (!strcmp(eq + 1, "true") || !strcmp(eq + 1, "false")))
			json_object_set_new(a, kv, json_boolean(!strcmp(eq + 1, "true")));
		else if (!strcmp(kv, "sha256") || !strcmp(kv, "sha256_from") ||
			 !strcmp(kv, "sha512_from") || !strcmp(kv, "path"))
			json_object_set_new(a, kv, json_string(eq + 1));
		else
			return acre_error_set(err, EINVAL, "--artifact",
					      "--artifact %s: %s: sha256 (or sha256_from, "
					      "sha512_from), path or extract (true or false)",
					      arg, kv);
	}
	/* Checked here as the spec will be, so that the error names the flag. */
	struct acre_slice_spec one = {0};
	_cleanup_json_ json_t *list = json_pack("[O]", a);
	if (!list)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = acre_artifacts_parse_spec(list, &one, err);
	acre_artifacts_free(&one);
	if (rc < 0) {
		const char *dot = strchr(err->message, '.');
		char why[sizeof(err->message)];
		snprintf(why, sizeof(why), "%s", dot ? dot + 1 : err->message);
		return acre_error_set(err, EINVAL, "--artifact", "--artifact %s: %s", arg, why);
	}
	json_array_append(artifacts, a);
	return 0;
}

static int apply_pids(const char *arg, json_t *res, struct acre_error *err)
{
	char *end;
	long long v = strtoll(arg, &end, 10);
	if (!*arg || *end || v < 2 || v > 4194304)
		return acre_error_set(err, EINVAL, "--pids",
				      "--pids %s: an integer from 2 (acre-init and the task) "
				      "to 4194304",
				      arg);
	json_object_set_new(res, "pids", json_integer(v));
	return 0;
}

static int apply_isolation(int opt, const char *arg, json_t *iso, struct acre_error *err)
{
	char path[PATH_MAX];
	json_t *profile = NULL;
	switch (opt) {
	case RUN_OPT_ROOTFS:
		if (!realpath(arg, path))
			return acre_error_set(err, errno, "--rootfs", "--rootfs %s: %s", arg,
					      strerror(errno));
		json_object_set_new(iso, "rootfs", json_string(path));
		return 0;
	case RUN_OPT_RW:
		json_object_set_new(iso, "readonly_root", json_false());
		return 0;
	case RUN_OPT_SECCOMP:
		if (!strcmp(arg, "default") || !strcmp(arg, "unconfined")) {
			json_object_set_new(iso, "seccomp", json_string(arg));
			return 0;
		}
		if (read_profile(arg, &profile, err) < 0)
			return -EINVAL;
		json_object_set_new(iso, "seccomp", profile);
		return 0;
	default: /* RUN_OPT_CAP */
		if (acre_cap_from_name(arg) < 0)
			return acre_error_set(err, EINVAL, "--cap", "--cap %s: unknown capability",
					      arg);
		json_array_append_new(run_array_at(iso, "capabilities"), json_string(arg));
		return 0;
	}
}

static int apply_network(int opt, const char *arg, json_t *net, struct acre_error *err)
{
	struct acre_allow rule;
	switch (opt) {
	case RUN_OPT_NET:
		if (strcmp(arg, "none") && strcmp(arg, "host") && strcmp(arg, "bridge"))
			return acre_error_set(err, EINVAL, "--net",
					      "--net %s: one of none, host, bridge", arg);
		json_object_set_new(net, "mode", json_string(arg));
		return 0;
	case RUN_OPT_ISOLATED:
		json_object_set_new(net, "isolated", json_true());
		return 0;
	default: /* RUN_OPT_ALLOW */
		if (acre_allow_parse(arg, &rule, err) < 0)
			return acre_error_prefix(err, "--allow");
		json_array_append_new(run_array_at(net, "allow"), json_string(arg));
		return 0;
	}
}

int run_spec_apply(int opt, const char *arg, json_t *spec, struct acre_error *err)
{
	uint64_t u64;
	uint32_t milli;
	switch (opt) {
	case RUN_OPT_CPUS:
		if (acre_parse_cpus(arg, &milli, err, "--cpus") < 0)
			return -EINVAL;
		json_object_set_new(run_object_at(spec, "resources"), "cpus",
				    json_real(milli / 1000.0));
		return 0;
	case RUN_OPT_MEMORY:
		if (acre_parse_size(arg, &u64, err, "--memory") < 0)
			return -EINVAL;
		json_object_set_new(run_object_at(spec, "resources"), "memory", json_string(arg));
		return 0;
	case RUN_OPT_PIDS:
		return apply_pids(arg, run_object_at(spec, "resources"), err);
	case RUN_OPT_NET_RATE:
		if (acre_parse_rate(arg, &u64, err, "--net-rate") < 0)
			return -EINVAL;
		json_object_set_new(run_object_at(spec, "resources"), "net_rate", json_string(arg));
		return 0;
	case RUN_OPT_SECRET:
	case RUN_OPT_SECRET_FILE:
		return run_secret_add(arg, opt == RUN_OPT_SECRET_FILE,
				      run_object_at(spec, "secrets"), err);
	case RUN_OPT_ROOTFS:
	case RUN_OPT_RW:
	case RUN_OPT_SECCOMP:
	case RUN_OPT_CAP:
		return apply_isolation(opt, arg, run_object_at(spec, "isolation"), err);
	case RUN_OPT_NET:
	case RUN_OPT_ISOLATED:
	case RUN_OPT_ALLOW:
		return apply_network(opt, arg, run_object_at(spec, "network"), err);
	case RUN_OPT_USER:
		json_object_set_new(spec, "user", json_string(arg));
		return 0;
	case RUN_OPT_CWD:
		json_object_set_new(spec, "cwd", json_string(arg));
		return 0;
	case RUN_OPT_ENV:
		return run_key_value(arg, "--env", run_object_at(spec, "env"), err);
	default:
		return acre_error_set(err, EINVAL, NULL, "unknown option");
	}
}

void run_spec_finish(json_t *spec, bool net_given)
{
	json_t *mode = json_object_get(json_object_get(spec, "network"), "mode");
	if (!net_given || !json_is_string(mode))
		return;
	/* `--net host` means no network namespace of its own; another mode, one again. */
	json_t *ns = json_object_get(json_object_get(spec, "isolation"), "namespaces");
	bool host = strcmp(json_string_value(mode), "host") == 0;
	if (!ns && !host)
		return;
	_cleanup_json_ json_t *list =
		ns ? json_deep_copy(ns)
		   : json_pack("[s,s,s,s,s,s]", "pid", "mount", "uts", "ipc", "net", "cgroup");
	size_t i;
	json_t *v;
	bool has_net = false;
	json_array_foreach (list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), "net")) {
			if (host)
				json_array_remove(list, i--);
			else
				has_net = true;
		}
	if (!host && !has_net)
		json_array_append_new(list, json_string("net"));
	json_object_set(run_object_at(spec, "isolation"), "namespaces", list);
}

/* slice run's own flags. */
static int apply_slice_run(int opt, const char *arg, json_t *spec, struct run_request *req,
			   struct acre_error *err)
{
	switch (opt) {
	case OPT_NAME:
		if (!acre_slice_name_valid(arg))
			return acre_error_set(err, EINVAL, "--name",
					      "--name %s: 1 to %d letters, digits, '-', '_' or "
					      "'.', starting with a letter or digit",
					      arg, ACRE_NAME_MAX);
		json_object_set_new(spec, "name", json_string(arg));
		return 0;
	case OPT_LABEL:
		return run_key_value(arg, "--label", run_object_at(spec, "labels"), err);
	case OPT_PUBLISH: {
		/* Checked here for the flag's own syntax; ranges, duplicates and the mode by the
		 * spec. */
		struct acre_publish p;
		if (acre_publish_parse(arg, &p, err) < 0)
			return -EINVAL;
		json_array_append_new(run_array_at(run_object_at(spec, "network"), "publish"),
				      json_pack("{s:i,s:i,s:s}", "node_port", p.node_port, "port",
						p.port, "proto", acre_publish_proto_name(p.proto)));
		return 0;
	}
	case OPT_VOLUME:
		return run_volume_add(arg, run_array_at(spec, "volumes"), err);
	case OPT_ARTIFACT:
		return run_artifact_add(arg, run_array_at(spec, "artifacts"), err);
	case OPT_RESTART:
		json_object_set_new(spec, "restart", json_string(arg));
		return 0;
	case 'd':
		req->detach = true;
		return 0;
	case OPT_RM:
		req->remove = true;
		return 0;
	case RUN_OPT_CONSTRAINT:
	case RUN_OPT_SPREAD:
	case RUN_OPT_UNIQUE:
	case RUN_OPT_STRATEGY:
		if (!req->placement && !(req->placement = json_object()))
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		return run_placement_apply(opt, arg, req->placement, err);
	default:
		return run_spec_apply(opt, arg, spec, err);
	}
}

static int parse_all(int argc, char **argv, const struct option *options, json_t *spec,
		     json_t *timing, struct run_request *req, struct acre_error *err)
{
	bool net_given = false;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+d", options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return acre_error_set(
				err, EINVAL, NULL,
				"%s: unknown option or missing value (see acre slice help)",
				argv[optind - 1]);
		net_given |= opt == RUN_OPT_NET;
		int rc = opt >= RUN_OPT_CHECK && opt < RUN_OPT_CHECK + 100
				 ? run_checks_apply((enum run_check_flag)(opt - RUN_OPT_CHECK),
						    optarg, spec, timing, false, err)
				 : apply_slice_run(opt, optarg, spec, req, err);
		if (rc < 0)
			return rc;
	}
	if (run_checks_finish(spec, timing, err) < 0)
		return -EINVAL;
	if (optind >= argc)
		return acre_error_set(
			err, EINVAL, "command",
			"slice run: no command (acre slice run [OPTIONS] -- COMMAND)");
	json_t *cmd = json_array();
	for (int i = optind; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(spec, "command", cmd);
	run_spec_finish(spec, net_given);
	return 0;
}

int run_flags_parse(int argc, char **argv, struct run_request *req, struct acre_error *err)
{
	static const struct option *const tables[] = {run_spec_options, run_placement_options,
						      run_check_options, slice_run_options, NULL};
	_cleanup_json_ json_t *spec = json_object(), *timing = json_object();
	_cleanup_free_ struct option *options = run_options_join(tables);
	memset(req, 0, sizeof(*req));
	if (!spec || !timing || !options) {
		acre_error_set(err, ENOMEM, NULL, "out of memory");
		return -ENOMEM;
	}
	if (parse_all(argc, argv, options, spec, timing, req, err) < 0)
		goto fail;
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
