/*
 * `acre app run` and `acre app update` flags, mapped one to one onto the
 * app spec (controller/README.md, "Apps"): --instances is instances,
 * --port http:8080 is ports, --publish 18080:http is publish, and the
 * slice template's flags (--memory, --env, --cap, --net, ...) are
 * `slice run`'s own (run_flags.c), under "slice".
 *
 * Parsing and applying are two steps, so that the same flags apply to an
 * empty spec (run), to a file's (-f) or to the app's current one (update):
 * a scalar flag sets its field, --env and --label set their key, and a
 * list flag (--port, --publish, --depends, --volume, --constraint, --cap,
 * --allow, the check flags) replaces the list it names with the values
 * given on the line.  Everything a flag can get wrong is checked here,
 * with the flag named, before anything is sent; the controller checks the
 * rest.  `--print-spec` prints what app_flags_apply makes.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>

#define APP_INSTANCES_MAX 1000000
#define APP_HISTORY_MAX	  1000

enum {
	OPT_INSTANCES = 2000,
	OPT_PORT,
	OPT_PUBLISH,
	OPT_VIP,
	OPT_NO_VIP,
	OPT_DEPENDS,
	OPT_VOLUME,
	OPT_ORDERED,
	OPT_NO_ORDERED,
	OPT_ON_PARTITION,
	OPT_MIN_HEALTHY,
	OPT_MAX_SURGE,
	OPT_MAX_UNAVAILABLE,
	OPT_HISTORY,
	OPT_AUTO_ROLLBACK,
	OPT_NO_AUTO_ROLLBACK,
	OPT_BACKOFF_INITIAL,
	OPT_BACKOFF_FACTOR,
	OPT_BACKOFF_MAX,
	OPT_BACKOFF_RESET_AFTER,
	OPT_LABEL,
	OPT_SPEC,
	OPT_PRINT_SPEC,
	OPT_DETACH,
	OPT_DRY_RUN,
	OPT_FORCE,
};

static const struct option app_options[] = {
	{"instances", required_argument, NULL, OPT_INSTANCES},
	{"port", required_argument, NULL, OPT_PORT},
	{"publish", required_argument, NULL, OPT_PUBLISH},
	{"vip", no_argument, NULL, OPT_VIP},
	{"no-vip", no_argument, NULL, OPT_NO_VIP},
	{"depends", required_argument, NULL, OPT_DEPENDS},
	{"volume", required_argument, NULL, OPT_VOLUME},
	{"ordered", no_argument, NULL, OPT_ORDERED},
	{"no-ordered", no_argument, NULL, OPT_NO_ORDERED},
	{"on-partition", required_argument, NULL, OPT_ON_PARTITION},
	{"min-healthy", required_argument, NULL, OPT_MIN_HEALTHY},
	{"max-surge", required_argument, NULL, OPT_MAX_SURGE},
	{"max-unavailable", required_argument, NULL, OPT_MAX_UNAVAILABLE},
	{"history", required_argument, NULL, OPT_HISTORY},
	{"auto-rollback", no_argument, NULL, OPT_AUTO_ROLLBACK},
	{"no-auto-rollback", no_argument, NULL, OPT_NO_AUTO_ROLLBACK},
	{"backoff-initial", required_argument, NULL, OPT_BACKOFF_INITIAL},
	{"backoff-factor", required_argument, NULL, OPT_BACKOFF_FACTOR},
	{"backoff-max", required_argument, NULL, OPT_BACKOFF_MAX},
	{"backoff-reset-after", required_argument, NULL, OPT_BACKOFF_RESET_AFTER},
	{"label", required_argument, NULL, OPT_LABEL},
	{"spec", required_argument, NULL, OPT_SPEC},
	{"print-spec", no_argument, NULL, OPT_PRINT_SPEC},
	{"detach", no_argument, NULL, OPT_DETACH},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"force", no_argument, NULL, OPT_FORCE},
	{"help", no_argument, NULL, 'h'},
	{0},
};

void app_flags_usage(const char *verb, FILE *out)
{
	static const char *const lines[] = {
		"  -f, --spec FILE     a whole app spec (JSON; - for stdin), the flags over it",
		"  --print-spec        print the spec that would be sent, send nothing",
		"  --dry-run           (run) the app as the controller would make it, and its plan",
		"  -d, --detach        return once the change is accepted",
		"  --force             (update) cancel the app's running deployment for this one",
		"the app:   --instances N  --port NAME[:PORT][/udp]...  --publish "
		"NODE_PORT:NAME...",
		"           --vip  --unique node|ATTR  --depends APP...  --volume "
		"NAME:SIZE:PATH...",
		"           --ordered  --on-partition replace|wait  --label K=V...",
		"rollouts:  --min-healthy N|N%  --max-surge N|N%  --max-unavailable N|N%",
		"           --history N  --no-auto-rollback  --backoff-initial DUR",
		"           --backoff-factor X  --backoff-max DUR  --backoff-reset-after DUR",
		"checks:    --check-http PORT[/PATH]  --check-tcp PORT  --check-cmd CMD",
		"           --ready-http, --ready-tcp, --ready-cmd  (PORT: a name given with "
		"--port)",
		"           --check-grace, --check-interval, --check-timeout DUR  --check-failures "
		"N",
		"placement: --constraint EXPR  --spread ATTR  --strategy binpack|spread",
		"slice:     --cpus X  --memory SIZE  --pids N  --net none|host|bridge",
		"           --net-rate RATE  --isolated  --allow CIDR[:PORT]  --rootfs DIR  --rw",
		"           --user U  --cwd DIR  --env K=V  --seccomp default|unconfined|FILE",
		"           --cap CAP  --secret NAME=VALUE  --secret-file NAME=PATH",
	};
	fprintf(out, "usage: acre app %s NAME [OPTIONS] %s\n", verb,
		strcmp(verb, "run") ? "[-- COMMAND [ARGS]]" : "-- COMMAND [ARGS]");
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(lines); i++)
		fprintf(out, "%s\n", lines[i]);
}

static bool is_check(int opt)
{
	return opt >= RUN_OPT_CHECK && opt < RUN_OPT_CHECK + 100;
}

static bool is_template(int opt)
{
	return opt >= RUN_OPT_CPUS && opt <= RUN_OPT_SECRET_FILE;
}

int app_flags_parse(const char *verb, int argc, char **argv, struct app_flags *f,
		    struct acre_error *err)
{
	static const struct option *const tables[] = {run_spec_options, run_placement_options,
						      run_check_options, app_options, NULL};
	_cleanup_free_ struct option *options = run_options_join(tables);
	memset(f, 0, sizeof(*f));
	if (!options)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	/* NAME comes first: `acre app run web --instances 3 -- CMD`; getopt starts after it. */
	if (argc > 1 && argv[1][0] != '-') {
		f->name = argv[1];
		argc--;
		argv++;
	}
	optind = 0;
	opterr = 0;
	int opt;
	for (;;) {
		while ((opt = getopt_long(argc, argv, "+f:dh", options, NULL)) != -1) {
			if (opt == '?' || opt == ':')
				return acre_error_set(err, EINVAL, NULL,
						      "%s: unknown option or missing value (see "
						      "acre app help)",
						      argv[optind - 1]);
			if (opt == 'h')
				f->help = true;
			else if (opt == 'f' || opt == OPT_SPEC)
				f->file = optarg;
			else if (opt == OPT_PRINT_SPEC)
				f->print_spec = true;
			else if (opt == OPT_DRY_RUN)
				f->dry_run = true;
			else if (opt == OPT_FORCE)
				f->force = true;
			else if (opt == 'd' || opt == OPT_DETACH)
				f->detach = true;
			else if (acre_vec_push(&f->set, ((struct app_flag){opt, optarg})) < 0)
				return acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
		/* `acre app run --instances 3 web --vip -- CMD`: NAME among the flags. */
		if (f->name || optind >= argc || !strcmp(argv[optind - 1], "--"))
			break;
		f->name = argv[optind++];
	}
	f->command = argv + optind;
	f->ncommand = argc - optind;
	if (f->name && !acre_app_name_valid(f->name))
		return acre_error_set(err, EINVAL, "name",
				      "app %s %s: the name must be 1 to %d letters, digits or '-', "
				      "not first or last (a DNS label, which NAME-N must stay)",
				      verb, f->name, ACRE_APP_NAME_MAX);
	return 0;
}

void app_flags_free(struct app_flags *f)
{
	acre_vec_free(&f->set);
}

int app_spec_load(const char *file, json_t **spec, struct acre_error *err)
{
	json_error_t jerr;
	json_t *j = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &jerr)
					   : json_load_file(file, 0, &jerr);
	if (!j)
		return jerr.line > 0 ? acre_error_set(err, EINVAL, "--spec", "-f %s: %s (line %d)",
						      file, jerr.text, jerr.line)
				     : acre_error_set(err, EINVAL, "--spec", "-f %s: %s", file,
						      jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return acre_error_set(err, EINVAL, "--spec", "-f %s: an app spec is a JSON object",
				      file);
	}
	*spec = j;
	return 0;
}

/* The list a flag adds to (parent[key]), which the first such flag on the line empties. */
static json_t *list_of(int opt, json_t *spec, const char **key)
{
	switch (opt) {
	case RUN_OPT_CAP:
		*key = "capabilities";
		return run_object_at(run_object_at(spec, "slice"), "isolation");
	case RUN_OPT_ALLOW:
		*key = "allow";
		return run_object_at(run_object_at(spec, "slice"), "network");
	case RUN_OPT_CONSTRAINT:
		*key = "constraints";
		return run_object_at(spec, "placement");
	case OPT_PORT:
		*key = "ports";
		return spec;
	case OPT_PUBLISH:
		*key = "publish";
		return spec;
	case OPT_DEPENDS:
		*key = "dependencies";
		return spec;
	case OPT_VOLUME:
		*key = "volumes";
		return spec;
	default:
		if (!is_check(opt) || opt - RUN_OPT_CHECK > RUN_READY_CMD)
			return NULL;
		*key = opt - RUN_OPT_CHECK >= RUN_READY_HTTP ? "readiness" : "checks";
		return spec;
	}
}

/* A count of instances ("2") or a percentage of them ("25%"). */
static int amount(const char *arg, const char *flag, json_t **out, struct acre_error *err)
{
	size_t n = strlen(arg);
	bool pct = n > 1 && arg[n - 1] == '%';
	char *end;
	errno = 0;
	long v = n && arg[0] >= '0' && arg[0] <= '9' ? strtol(arg, &end, 10) : -1;
	if (v < 0 || errno || end != arg + n - (pct ? 1 : 0) || v > (pct ? 100 : APP_INSTANCES_MAX))
		return acre_error_set(err, EINVAL, flag,
				      "%s %s: a count of instances (0 to %d) or a percentage of "
				      "them (0%% to 100%%)",
				      flag, arg, APP_INSTANCES_MAX);
	*out = pct ? json_string(arg) : json_integer(v);
	return 0;
}

static int integer(const char *arg, const char *flag, long lo, long hi, json_t **out,
		   struct acre_error *err)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < lo || v > hi)
		return acre_error_set(err, EINVAL, flag, "%s %s: an integer from %ld to %ld", flag,
				      arg, lo, hi);
	*out = json_integer(v);
	return 0;
}

static int backoff(int opt, const char *arg, json_t *spec, struct acre_error *err)
{
	static const char *const keys[] = {"initial", "factor", "max", "reset_after"};
	static const char *const flags[] = {"--backoff-initial", "--backoff-factor",
					    "--backoff-max", "--backoff-reset-after"};
	size_t i = (size_t)(opt - OPT_BACKOFF_INITIAL);
	json_t *b = run_object_at(spec, "backoff");
	uint64_t ms;
	if (opt != OPT_BACKOFF_FACTOR) {
		if (acre_parse_duration(arg, &ms, err, flags[i]) < 0)
			return -EINVAL;
		json_object_set_new(b, keys[i], json_string(arg));
		return 0;
	}
	char *end;
	double d = strtod(arg, &end);
	if (!*arg || *end || !(d >= 1 && d <= 10))
		return acre_error_set(err, EINVAL, flags[i],
				      "%s %s: a number from 1 to 10 (1.15: each restart waits "
				      "15%% longer)",
				      flags[i], arg);
	json_object_set_new(b, keys[i], json_real(d));
	return 0;
}

static int label(const char *arg, json_t *spec, struct acre_error *err)
{
	if (!strncmp(arg, "acre.", 5))
		return acre_error_set(err, EINVAL, "--label",
				      "--label %s: keys under acre. are set by acre", arg);
	return run_key_value(arg, "--label", run_object_at(spec, "labels"), err);
}

static int port(const char *arg, json_t *spec, struct acre_error *err)
{
	char name[ACRE_PORT_NAME_MAX + 1];
	if (cli_app_port_parse(arg, "--port", name, sizeof(name), err) < 0)
		return -EINVAL;
	json_array_append_new(run_array_at(spec, "ports"), json_string(arg));
	return 0;
}

static int publish(const char *arg, json_t *spec, struct acre_error *err)
{
	const char *colon = strchr(arg, ':');
	char *end;
	long v = colon ? strtol(arg, &end, 10) : 0;
	if (!colon || end != colon || v < 1 || v > 65535 || !acre_port_name_valid(colon + 1))
		return acre_error_set(err, EINVAL, "--publish",
				      "--publish %s: expected NODE_PORT:NAME, a port of the node "
				      "(1 to 65535) and a port's name declared with --port, as in "
				      "18080:http",
				      arg);
	json_array_append_new(run_array_at(spec, "publish"), json_string(arg));
	return 0;
}

static int depends(const char *arg, json_t *spec, struct acre_error *err)
{
	if (!acre_app_name_valid(arg))
		return acre_error_set(err, EINVAL, "--depends",
				      "--depends %s: the name of another app", arg);
	json_array_append_new(run_array_at(spec, "dependencies"), json_string(arg));
	return 0;
}

/* What a flag of the app's own sets; the others are the template's, placement's, checks'. */
static int apply_app(int opt, const char *arg, json_t *spec, struct acre_error *err)
{
	json_t *v = NULL;
	int rc = 0;
	switch (opt) {
	case OPT_INSTANCES:
		if ((rc = integer(arg, "--instances", 0, APP_INSTANCES_MAX, &v, err)) == 0)
			json_object_set_new(spec, "instances", v);
		return rc;
	case OPT_PORT:
		return port(arg, spec, err);
	case OPT_PUBLISH:
		return publish(arg, spec, err);
	case OPT_VIP:
	case OPT_NO_VIP:
		json_object_set_new(spec, "vip", json_boolean(opt == OPT_VIP));
		return 0;
	case OPT_DEPENDS:
		return depends(arg, spec, err);
	case OPT_VOLUME:
		return run_volume_add(arg, run_array_at(spec, "volumes"), err);
	case OPT_ORDERED:
	case OPT_NO_ORDERED:
		json_object_set_new(spec, "ordered", json_boolean(opt == OPT_ORDERED));
		return 0;
	case OPT_ON_PARTITION:
		if (strcmp(arg, "replace") && strcmp(arg, "wait"))
			return acre_error_set(err, EINVAL, "--on-partition",
					      "--on-partition %s: replace or wait", arg);
		json_object_set_new(spec, "on_partition", json_string(arg));
		return 0;
	case OPT_MIN_HEALTHY:
		if ((rc = amount(arg, "--min-healthy", &v, err)) == 0)
			json_object_set_new(spec, "min_healthy", v);
		return rc;
	case OPT_MAX_SURGE:
		if ((rc = amount(arg, "--max-surge", &v, err)) == 0)
			json_object_set_new(spec, "max_surge", v);
		return rc;
	case OPT_MAX_UNAVAILABLE:
		if ((rc = amount(arg, "--max-unavailable", &v, err)) == 0)
			json_object_set_new(spec, "max_unavailable", v);
		return rc;
	case OPT_HISTORY:
		if ((rc = integer(arg, "--history", 1, APP_HISTORY_MAX, &v, err)) == 0)
			json_object_set_new(spec, "history", v);
		return rc;
	case OPT_AUTO_ROLLBACK:
	case OPT_NO_AUTO_ROLLBACK:
		json_object_set_new(spec, "auto_rollback", json_boolean(opt == OPT_AUTO_ROLLBACK));
		return 0;
	case OPT_BACKOFF_INITIAL:
	case OPT_BACKOFF_FACTOR:
	case OPT_BACKOFF_MAX:
	case OPT_BACKOFF_RESET_AFTER:
		return backoff(opt, arg, spec, err);
	case OPT_LABEL:
		return label(arg, spec, err);
	default:
		return acre_error_set(err, EINVAL, NULL, "unknown option (see acre app help)");
	}
}

/* Whether name is one of the spec's ports ("http", "http:8080", "dns:53/udp"). */
static bool declared(const json_t *spec, const char *name, bool *udp)
{
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(spec, "ports"), i, p) {
		const char *s = json_string_value(p);
		size_t n = s ? strcspn(s, ":/") : 0;
		if (s && n == strlen(name) && !strncmp(s, name, n)) {
			*udp = strstr(s, "/udp") != NULL;
			return true;
		}
	}
	return false;
}

static void declared_list(const json_t *spec, char *buf, size_t len)
{
	size_t i, o = 0;
	json_t *p;
	buf[0] = '\0';
	json_array_foreach (json_object_get(spec, "ports"), i, p)
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%.*s", i ? ", " : "",
					      (int)strcspn(json_string_value(p) ?: "", ":/"),
					      json_string_value(p) ?: "");
	if (!o)
		snprintf(buf, len, "none declared");
}

/* Every port a flag names (--publish, the checks) is declared with --port, once. */
static int check_ports(const json_t *spec, struct acre_error *err)
{
	char list[512], name[ACRE_PORT_NAME_MAX + 1];
	size_t i, k;
	json_t *p, *q;
	bool udp;
	json_t *ports = json_object_get(spec, "ports");
	json_array_foreach (ports, i, p)
		for (k = 0; k < i && (q = json_array_get(ports, k)); k++) {
			size_t n = strcspn(json_string_value(p) ?: "", ":/");
			if (n == strcspn(json_string_value(q) ?: "", ":/") &&
			    !strncmp(json_string_value(p) ?: "", json_string_value(q) ?: "", n))
				return acre_error_set(err, EINVAL, "--port",
						      "--port %s: the port %.*s is declared twice",
						      json_string_value(p), (int)n,
						      json_string_value(p));
		}
	declared_list(spec, list, sizeof(list));
	json_array_foreach (json_object_get(spec, "publish"), i, p) {
		const char *s = json_string_value(p), *colon = s ? strchr(s, ':') : NULL;
		if (colon && !declared(spec, colon + 1, &udp))
			return acre_error_set(
				err, EINVAL, "--publish",
				"--publish %s: %s is not a declared port (--port: %s)", s,
				colon + 1, list);
	}
	static const char *const kinds[] = {"checks", "readiness"};
	for (size_t l = 0; l < ACRE_ARRAY_SIZE(kinds); l++)
		json_array_foreach (json_object_get(spec, kinds[l]), i, p) {
			const char *s = json_string_value(json_object_get(p, "port"));
			const char *kind = render_str(p, "kind");
			if (!s)
				continue;
			snprintf(name, sizeof(name), "%s", s);
			char flag[32];
			snprintf(flag, sizeof(flag), "--%s-%s", l ? "ready" : "check", kind);
			if (!declared(spec, name, &udp))
				return acre_error_set(err, EINVAL, flag,
						      "%s %s: not a declared port (--port: %s)",
						      flag, s, list);
			if (udp)
				return acre_error_set(err, EINVAL, flag,
						      "%s %s: a udp port; tcp and http checks need "
						      "a tcp one",
						      flag, s);
		}
	return 0;
}

/* The template as the slice spec's parser reads it, errors in the flags' words (or the
 * spec's, "slice.resources.memory", when no flag of the template was given). */
static int check_template(json_t *spec, const char *verb, bool flags_given, struct acre_error *err)
{
	json_t *slice = json_object_get(spec, "slice");
	if (!json_is_object(slice) || !json_object_get(slice, "command"))
		return acre_error_set(err, EINVAL, "command",
				      "app %s: no command (acre app %s NAME [OPTIONS] -- COMMAND "
				      "[ARGS], or -f SPEC)",
				      verb, verb);
	struct acre_slice_spec parsed;
	if (acre_slice_spec_parse(slice, &parsed, err) == 0) {
		acre_slice_spec_free(&parsed);
		return 0;
	}
	if (flags_given) {
		run_flags_reword(err);
		return -EINVAL;
	}
	char field[sizeof(err->field)], message[sizeof(err->message)];
	snprintf(field, sizeof(field), "slice.%s", err->field);
	snprintf(message, sizeof(message), "slice.%s", err->message);
	memcpy(err->field, field, sizeof(field));
	memcpy(err->message, message, sizeof(message));
	return -EINVAL;
}

static int apply_one(const struct app_flag *fl, json_t *spec, json_t *timing,
		     struct acre_error *err)
{
	if (is_template(fl->opt))
		return run_spec_apply(fl->opt, fl->arg, run_object_at(spec, "slice"), err);
	if (fl->opt >= RUN_OPT_CONSTRAINT && fl->opt <= RUN_OPT_STRATEGY)
		return run_placement_apply(fl->opt, fl->arg, run_object_at(spec, "placement"), err);
	if (is_check(fl->opt))
		return run_checks_apply((enum run_check_flag)(fl->opt - RUN_OPT_CHECK), fl->arg,
					spec, timing, true, err);
	return apply_app(fl->opt, fl->arg, spec, err);
}

static int set_name(const struct app_flags *f, const char *verb, json_t *spec,
		    struct acre_error *err)
{
	const char *had = json_string_value(json_object_get(spec, "name"));
	if (f->name && had && strcmp(had, f->name) != 0)
		return acre_error_set(err, EINVAL, "name",
				      "app %s %s: the spec (-f %s) is of the app %s", verb, f->name,
				      f->file ? f->file : "", had);
	if (f->name)
		json_object_set_new(spec, "name", json_string(f->name));
	else if (!had)
		return acre_error_set(err, EINVAL, "name",
				      "app %s: no name (acre app %s NAME [OPTIONS] -- COMMAND)",
				      verb, verb);
	return 0;
}

int app_flags_apply(const struct app_flags *f, const char *verb, json_t *spec,
		    struct acre_error *err)
{
	_cleanup_json_ json_t *timing = json_object(), *emptied = json_object();
	bool template_given = f->ncommand > 0, net_given = false;
	if (!timing || !emptied)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	if (set_name(f, verb, spec, err) < 0)
		return -EINVAL;
	for (size_t i = 0; i < f->set.n; i++) {
		const struct app_flag *fl = &f->set.v[i];
		const char *key = NULL;
		json_t *parent = list_of(fl->opt, spec, &key);
		if (parent && !json_object_get(emptied, key)) {
			json_object_del(parent, key);
			json_object_set_new(emptied, key, json_true());
		}
		template_given |= is_template(fl->opt);
		net_given |= fl->opt == RUN_OPT_NET;
		if (apply_one(fl, spec, timing, err) < 0)
			return -EINVAL;
	}
	if (f->ncommand) {
		json_t *cmd = json_array();
		for (int i = 0; i < f->ncommand; i++)
			json_array_append_new(cmd, json_string(f->command[i]));
		json_object_set_new(run_object_at(spec, "slice"), "command", cmd);
	}
	if (json_is_object(json_object_get(spec, "slice")))
		run_spec_finish(json_object_get(spec, "slice"), net_given);
	if (run_checks_finish(spec, timing, err) < 0)
		return -EINVAL;
	if (check_ports(spec, err) < 0)
		return -EINVAL;
	return check_template(spec, verb, template_given, err);
}
