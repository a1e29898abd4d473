/*
 * The slice spec: parsing and validation of the JSON document that describes
 * a slice.  Everything a launch needs is checked here, before anything is
 * created, and every error names the field and the reason.  Defaults are the
 * safe ones of DESIGN.md: all namespaces but user, the default seccomp
 * profile, no capabilities, a read-only root.
 */
#include "common.h"
#include <ctype.h>

#define MAX_ARGS   4096
#define MAX_ENV	   4096
#define MAX_LABELS 64
#define MIN_MEMORY (4ULL << 20)

int acre_json_check_keys(const json_t *obj, const char *prefix, const char *const *allowed,
			 struct acre_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			char field[96];
			snprintf(field, sizeof(field), "%s%s", prefix, key);
			return acre_error_set(err, EINVAL, field, "%s: unknown field", field);
		}
	}
	return 0;
}

/* A JSON string usable as a C string: no embedded NUL. */
const char *acre_json_c_string(const json_t *v)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static int parse_command(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	if (!j)
		return acre_error_set(err, EINVAL, "command", "command: required");
	if (!json_is_array(j) || json_array_size(j) == 0)
		return acre_error_set(err, EINVAL, "command",
				      "command: must be a non-empty array of strings");
	if (json_array_size(j) > MAX_ARGS)
		return acre_error_set(err, EINVAL, "command", "command: more than %d arguments",
				      MAX_ARGS);
	spec->command = calloc(json_array_size(j) + 1, sizeof(char *));
	if (!spec->command)
		return -ENOMEM;
	size_t i;
	json_t *a;
	json_array_foreach (j, i, a) {
		const char *s = acre_json_c_string(a);
		if (!s)
			return acre_error_set(err, EINVAL, "command",
					      "command[%zu]: must be a string without NUL bytes",
					      i);
		if (!(spec->command[i] = strdup(s)))
			return -ENOMEM;
	}
	if (!spec->command[0][0])
		return acre_error_set(err, EINVAL, "command", "command[0]: empty program name");
	return 0;
}

static bool env_name_valid(const char *k)
{
	if (!*k || (!isalpha((unsigned char)*k) && *k != '_'))
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return false;
	return true;
}

static int parse_env(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	spec->env = calloc(1, sizeof(char *));
	if (!spec->env)
		return -ENOMEM;
	if (!j)
		return 0;
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "env", "env: must be an object of strings");
	if (json_object_size(j) > MAX_ENV)
		return acre_error_set(err, EINVAL, "env", "env: more than %d variables", MAX_ENV);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)j, k, v) {
		const char *s = acre_json_c_string(v);
		if (!env_name_valid(k))
			return acre_error_set(err, EINVAL, "env",
					      "env: \"%s\" is not a valid variable name", k);
		if (!s)
			return acre_error_set(err, EINVAL, "env",
					      "env.%s: must be a string without NUL bytes", k);
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "%s=%s", k, s) < 0 || acre_strv_push(&spec->env, kv) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_path(const json_t *j, const char *field, const char *dflt, char **out,
		      struct acre_error *err)
{
	const char *s = dflt;
	if (j) {
		s = acre_json_c_string(j);
		if (!s)
			return acre_error_set(err, EINVAL, field, "%s: must be a string", field);
	}
	if (s[0] != '/')
		return acre_error_set(err, EINVAL, field, "%s %s: must be an absolute path", field,
				      s);
	if (strlen(s) >= 4096)
		return acre_error_set(err, EINVAL, field, "%s: path too long", field);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* "/", "//" and "/./" all name the host root. */
static bool path_is_root(const char *p)
{
	for (const char *s = p; *s; s++)
		if (*s != '/' && !(*s == '.' && s > p && s[-1] == '/' && (s[1] == '/' || !s[1])))
			return false;
	return true;
}

static bool path_has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return true;
	return false;
}

static int parse_user(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	if (!j || json_is_null(j))
		return 0;
	char buf[32];
	const char *s;
	if (json_is_integer(j)) {
		if (json_integer_value(j) < 0 || json_integer_value(j) > 0xfffffffeLL)
			return acre_error_set(err, EINVAL, "user", "user: uid out of range");
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(j));
		s = buf;
	} else if (!(s = acre_json_c_string(j)) || !*s) {
		return acre_error_set(err, EINVAL, "user",
				      "user: must be a name, a uid, or uid:gid / name:group");
	}
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-:$", *p))
			return acre_error_set(err, EINVAL, "user",
					      "user %s: not a valid user name or uid", s);
	if (strlen(s) > 64 || strchr(s, ':') != strrchr(s, ':'))
		return acre_error_set(err, EINVAL, "user", "user %s: use USER or USER:GROUP", s);
	spec->user = strdup(s);
	return spec->user ? 0 : -ENOMEM;
}

/* Numbers may be given as JSON numbers or as strings with units. */
static int parse_resources(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	static const char *const keys[] = {"cpus", "memory", "pids", "net_rate", NULL};
	struct acre_slice_resources *r = &spec->resources;
	if (!j)
		return 0;
	if (!json_is_object(j))
		return acre_error_set(err, EINVAL, "resources", "resources: must be an object");
	int rc = acre_json_check_keys(j, "resources.", keys, err);
	if (rc < 0)
		return rc;
	char buf[64];
	json_t *v;
	if ((v = json_object_get(j, "cpus"))) {
		const char *s = buf;
		/* %.15g (DBL_DIG) gives back the decimal written: 1000.125 stays exact. */
		if (json_is_number(v))
			snprintf(buf, sizeof(buf), "%.15g", json_number_value(v));
		else if (!(s = acre_json_c_string(v)))
			return acre_error_set(err, EINVAL, "resources.cpus",
					      "resources.cpus: must be a number");
		if ((rc = acre_parse_cpus(s, &r->cpus_milli, err, "resources.cpus")) < 0)
			return rc;
	}
	if ((v = json_object_get(j, "memory"))) {
		const char *s = buf;
		if (json_is_integer(v) && json_integer_value(v) > 0)
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (!(s = acre_json_c_string(v)))
			return acre_error_set(err, EINVAL, "resources.memory",
					      "resources.memory: must be a size like \"256M\"");
		if ((rc = acre_parse_size(s, &r->memory, err, "resources.memory")) < 0)
			return rc;
		if (r->memory < MIN_MEMORY)
			return acre_error_set(err, EINVAL, "resources.memory",
					      "resources.memory %s: below the minimum of 4M", s);
	}
	if ((v = json_object_get(j, "pids"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 2 ||
		    json_integer_value(v) > 4194304)
			return acre_error_set(
				err, EINVAL, "resources.pids",
				"resources.pids: must be an integer from 2 (acre-init "
				"and the task) to 4194304");
		r->pids = (uint64_t)json_integer_value(v);
	}
	if ((v = json_object_get(j, "net_rate"))) {
		const char *s = acre_json_c_string(v);
		if (!s)
			return acre_error_set(
				err, EINVAL, "resources.net_rate",
				"resources.net_rate: must be a rate like \"100mbit\"");
		if ((rc = acre_parse_rate(s, &r->net_rate, err, "resources.net_rate")) < 0)
			return rc;
	}
	return 0;
}

static int parse_namespaces(const json_t *j, unsigned *out, struct acre_error *err)
{
	const char *f = "isolation.namespaces";
	if (!json_is_array(j))
		return acre_error_set(err, EINVAL, f, "%s: must be an array of names", f);
	unsigned ns = 0;
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		const char *s = acre_json_c_string(v);
		if (s && strcmp(s, "user") == 0)
			return acre_error_set(err, EOPNOTSUPP, f,
					      "%s: user namespaces are not supported", f);
		enum acre_namespace bit = acre_namespace_from_name(s);
		if (bit && (ns & bit))
			return acre_error_set(err, EINVAL, f, "%s: %s listed twice", f, s);
		ns |= bit;
		bool found = bit != 0;
		if (!found)
			return acre_error_set(err, EINVAL, f,
					      "%s[%zu]: unknown namespace (pid, mount, uts, ipc, "
					      "net, cgroup)",
					      f, i);
	}
	if (!(ns & ACRE_NS_PID) || !(ns & ACRE_NS_MOUNT))
		return acre_error_set(err, EINVAL, f,
				      "%s: pid and mount are required (acre-init is PID 1 of the "
				      "slice, with a root of its own)",
				      f);
	*out = ns;
	return 0;
}

static int parse_capabilities(const json_t *j, uint64_t *out, struct acre_error *err)
{
	const char *f = "isolation.capabilities";
	if (!json_is_array(j))
		return acre_error_set(err, EINVAL, f, "%s: must be an array of names", f);
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		const char *s = acre_json_c_string(v);
		int cap = s ? acre_cap_from_name(s) : -1;
		if (cap < 0)
			return acre_error_set(err, EINVAL, f, "%s: unknown capability %s", f,
					      s ? s : "(not a string)");
		*out |= 1ULL << cap;
	}
	return 0;
}

static int parse_isolation(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	static const char *const keys[] = {"namespaces", "seccomp",	  "capabilities",
					   "rootfs",	 "readonly_root", NULL};
	struct acre_slice_isolation *iso = &spec->isolation;
	iso->namespaces = ACRE_NS_ALL;
	iso->seccomp = ACRE_SECCOMP_DEFAULT;
	iso->readonly_root = true;
	int rc;
	if (j && !json_is_object(j))
		return acre_error_set(err, EINVAL, "isolation", "isolation: must be an object");
	if (j && (rc = acre_json_check_keys(j, "isolation.", keys, err)) < 0)
		return rc;
	json_t *v;
	if (j && (v = json_object_get(j, "namespaces")) &&
	    (rc = parse_namespaces(v, &iso->namespaces, err)) < 0)
		return rc;
	if (j && (v = json_object_get(j, "seccomp"))) {
		const char *s = acre_json_c_string(v);
		if (s && strcmp(s, "default") == 0) {
			iso->seccomp = ACRE_SECCOMP_DEFAULT;
		} else if (s && strcmp(s, "unconfined") == 0) {
			iso->seccomp = ACRE_SECCOMP_UNCONFINED;
		} else if (json_is_object(v)) {
			iso->seccomp = ACRE_SECCOMP_PROFILE;
			iso->seccomp_profile = json_deep_copy(v);
		} else {
			return acre_error_set(err, EINVAL, "isolation.seccomp",
					      "isolation.seccomp: must be \"default\", "
					      "\"unconfined\" or a profile object");
		}
	}
	if (j && (v = json_object_get(j, "capabilities")) &&
	    (rc = parse_capabilities(v, &iso->capabilities, err)) < 0)
		return rc;
	if ((rc = parse_path(j ? json_object_get(j, "rootfs") : NULL, "isolation.rootfs", "/",
			     &iso->rootfs, err)) < 0)
		return rc;
	if (path_has_dotdot(iso->rootfs))
		return acre_error_set(err, EINVAL, "isolation.rootfs",
				      "isolation.rootfs %s: must not contain \"..\"", iso->rootfs);
	if (j && (v = json_object_get(j, "readonly_root"))) {
		if (!json_is_boolean(v))
			return acre_error_set(err, EINVAL, "isolation.readonly_root",
					      "isolation.readonly_root: must be true or false");
		iso->readonly_root = json_is_true(v);
	}
	return 0;
}

bool acre_slice_spec_rw_host_root(const struct acre_slice_spec *spec)
{
	return !spec->isolation.readonly_root && path_is_root(spec->isolation.rootfs);
}

/* network.allow: outbound destinations, each "CIDR[:PORT]", checked as the kernel will read them.
 */
static int parse_allow(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	const char *f = "network.allow";
	if (!json_is_array(j))
		return acre_error_set(err, EINVAL, f, "%s: must be an array of \"CIDR[:PORT]\"", f);
	if (json_array_size(j) > ACRE_ALLOW_MAX)
		return acre_error_set(err, EINVAL, f, "%s: at most %d rules", f, ACRE_ALLOW_MAX);
	spec->net_allow = calloc(1, sizeof(char *));
	if (!spec->net_allow)
		return -ENOMEM;
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		struct acre_allow rule;
		const char *s = acre_json_c_string(v);
		if (!s)
			return acre_error_set(err, EINVAL, f, "%s[%zu]: must be a string", f, i);
		if (acre_allow_parse(s, &rule, err) < 0) {
			snprintf(err->field, sizeof(err->field), "%s", f);
			return acre_error_prefix(err, "%s", f);
		}
		if (acre_strv_push(&spec->net_allow, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_network(const json_t *j, const json_t *iso, struct acre_slice_spec *spec,
			 struct acre_error *err)
{
	static const char *const keys[] = {"mode", "isolated", "allow", "publish", NULL};
	int rc;
	spec->net_mode = ACRE_NET_NONE;
	if (j && !json_is_object(j))
		return acre_error_set(err, EINVAL, "network", "network: must be an object");
	if (j && (rc = acre_json_check_keys(j, "network.", keys, err)) < 0)
		return rc;
	json_t *m = j ? json_object_get(j, "mode") : NULL;
	if (m) {
		const char *s = acre_json_c_string(m);
		if (s && strcmp(s, "none") == 0)
			spec->net_mode = ACRE_NET_NONE;
		else if (s && strcmp(s, "host") == 0)
			spec->net_mode = ACRE_NET_HOST;
		else if (s && strcmp(s, "bridge") == 0)
			spec->net_mode = ACRE_NET_BRIDGE;
		else
			return acre_error_set(err, EINVAL, "network.mode",
					      "network.mode: must be none, host or bridge");
	}
	bool listed = iso && json_object_get(iso, "namespaces");
	unsigned *ns = &spec->isolation.namespaces;
	if (spec->net_mode == ACRE_NET_HOST) {
		if (listed && (*ns & ACRE_NS_NET))
			return acre_error_set(err, EINVAL, "network.mode",
					      "network.mode host: drop \"net\" from "
					      "isolation.namespaces");
		*ns &= ~(unsigned)ACRE_NS_NET;
	} else if (!(*ns & ACRE_NS_NET)) {
		return acre_error_set(err, EINVAL, "isolation.namespaces",
				      "isolation.namespaces: \"net\" is required unless "
				      "network.mode is host");
	}
	if (spec->resources.net_rate && spec->net_mode != ACRE_NET_BRIDGE)
		return acre_error_set(err, EINVAL, "resources.net_rate",
				      "resources.net_rate: needs network.mode bridge");
	json_t *isolated = j ? json_object_get(j, "isolated") : NULL;
	if (isolated && !json_is_boolean(isolated))
		return acre_error_set(err, EINVAL, "network.isolated",
				      "network.isolated: must be true or false");
	spec->net_isolated = json_is_true(isolated);
	if (spec->net_isolated && spec->net_mode != ACRE_NET_BRIDGE)
		return acre_error_set(err, EINVAL, "network.isolated",
				      "network.isolated: needs network.mode bridge");
	json_t *publish = j ? json_object_get(j, "publish") : NULL;
	if (publish && (rc = acre_publish_parse_spec(publish, spec, err)) < 0)
		return rc;
	json_t *allow = j ? json_object_get(j, "allow") : NULL;
	return allow ? parse_allow(allow, spec, err) : 0;
}

static int parse_restart(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	spec->restart = ACRE_RESTART_NEVER;
	if (!j)
		return 0;
	const char *s = acre_json_c_string(j);
	if (s && strcmp(s, "never") == 0) {
		spec->restart = ACRE_RESTART_NEVER;
	} else if (s && strcmp(s, "always") == 0) {
		spec->restart = ACRE_RESTART_ALWAYS;
	} else if (s && strncmp(s, "on-failure", 10) == 0 && (!s[10] || s[10] == ':')) {
		spec->restart = ACRE_RESTART_ON_FAILURE;
		if (s[10]) {
			char *end;
			unsigned long n = strtoul(s + 11, &end, 10);
			if (!isdigit((unsigned char)s[11]) || *end || n == 0 || n > 1000000)
				return acre_error_set(err, EINVAL, "restart",
						      "restart %s: the count after on-failure: "
						      "must be a positive integer",
						      s);
			spec->restart_max = (unsigned)n;
		}
	} else {
		return acre_error_set(err, EINVAL, "restart",
				      "restart: must be never, on-failure[:N] or always");
	}
	return 0;
}

int acre_labels_check(const json_t *j, size_t max, struct acre_error *err)
{
	if (j && (!json_is_object(j) || json_object_size(j) > max))
		return acre_error_set(err, EINVAL, "labels",
				      "labels: must be an object of at most %zu strings", max);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)j, k, v) {
		const char *s = acre_json_c_string(v);
		if (!*k || strlen(k) > 63)
			return acre_error_set(err, EINVAL, "labels",
					      "labels: keys must have 1 to 63 characters");
		if (!s || strlen(s) > 255)
			return acre_error_set(err, EINVAL, "labels",
					      "labels.%s: must be a string of at most 255 bytes",
					      k);
	}
	return 0;
}

static int parse_labels(const json_t *j, struct acre_slice_spec *spec, struct acre_error *err)
{
	int rc = acre_labels_check(j, MAX_LABELS, err);
	if (rc < 0)
		return rc;
	spec->labels = j ? json_deep_copy(j) : json_object();
	return spec->labels ? 0 : -ENOMEM;
}

int acre_slice_spec_parse(const json_t *json, struct acre_slice_spec *spec, struct acre_error *err)
{
	static const char *const keys[] = {"name",    "command",   "env",	"user",
					   "cwd",     "resources", "isolation", "network",
					   "restart", "labels",	   "checks",	"readiness",
					   "volumes", "artifacts", "secrets",	NULL};
	memset(spec, 0, sizeof(*spec));
	int rc;
	if (!json_is_object(json))
		return acre_error_set(err, EINVAL, "spec", "spec: must be a JSON object");
	if ((rc = acre_json_check_keys(json, "", keys, err)) < 0)
		goto fail;
	json_t *name = json_object_get(json, "name");
	if (name && !json_is_null(name)) {
		const char *s = acre_json_c_string(name);
		if (!s || !acre_slice_name_valid(s)) {
			rc = acre_error_set(err, EINVAL, "name",
					    "name: 1 to %d letters, digits, '-', '_' or '.', "
					    "starting with a letter or digit",
					    ACRE_NAME_MAX);
			goto fail;
		}
		snprintf(spec->name, sizeof(spec->name), "%s", s);
	}
	json_t *iso = json_object_get(json, "isolation");
	if ((rc = parse_command(json_object_get(json, "command"), spec, err)) < 0 ||
	    (rc = parse_env(json_object_get(json, "env"), spec, err)) < 0 ||
	    (rc = parse_user(json_object_get(json, "user"), spec, err)) < 0 ||
	    (rc = parse_path(json_object_get(json, "cwd"), "cwd", "/", &spec->cwd, err)) < 0 ||
	    (rc = parse_resources(json_object_get(json, "resources"), spec, err)) < 0 ||
	    (rc = parse_isolation(iso, spec, err)) < 0 ||
	    (rc = parse_network(json_object_get(json, "network"), iso, spec, err)) < 0 ||
	    (rc = parse_restart(json_object_get(json, "restart"), spec, err)) < 0 ||
	    (rc = parse_labels(json_object_get(json, "labels"), spec, err)) < 0 ||
	    (rc = acre_checks_parse_spec(json_object_get(json, "checks"), "checks", &spec->checks,
					 &spec->nchecks, err)) < 0 ||
	    (rc = acre_checks_parse_spec(json_object_get(json, "readiness"), "readiness",
					 &spec->readiness, &spec->nreadiness, err)) < 0 ||
	    (rc = acre_volumes_parse_spec(json_object_get(json, "volumes"), spec, err)) < 0 ||
	    (rc = acre_artifacts_parse_spec(json_object_get(json, "artifacts"), spec, err)) < 0 ||
	    (rc = acre_secrets_parse_spec(json_object_get(json, "secrets"), spec, err)) < 0)
		goto fail;
	return 0;
fail:
	if (rc == -ENOMEM)
		acre_error_set(err, ENOMEM, NULL, "out of memory");
	acre_slice_spec_free(spec);
	return rc;
}
