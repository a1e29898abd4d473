/*
 * Seccomp profiles in the OCI / Docker JSON format, so that an operator can
 * bring the profile they already have:
 *   {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
 *    "syscalls": [{"names": [...], "action": "SCMP_ACT_ALLOW",
 *                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}
 * "architectures"/"archMap" are accepted; the filter always covers the
 * native ABI and its 32-bit companions.  Rules with "includes"/"excludes"
 * on architectures are honoured for this machine; capability conditions
 * are taken as unmet, as for a slice without capabilities.
 */
#include "seccomp_internal.h"

#include <strings.h>

static int parse_action(const json_t *j, const json_t *errno_ret, uint32_t *out, const char *field,
			struct acre_error *err)
{
	const char *s = json_string_value(j);
	int eno = json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : EPERM;
	if (!s)
		return acre_error_set(err, EINVAL, "isolation.seccomp", "%s: must be a string",
				      field);
	if (!strcmp(s, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(s, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO((uint16_t)eno);
	else if (!strcmp(s, "SCMP_ACT_KILL") || !strcmp(s, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL;
	else if (!strcmp(s, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(s, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(s, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else
		return acre_error_set(err, EINVAL, "isolation.seccomp", "%s: unsupported action %s",
				      field, s);
	if (eno < 0 || eno > 4095)
		return acre_error_set(err, EINVAL, "isolation.seccomp",
				      "%s: errnoRet %d out of range", field, eno);
	return 0;
}

static int parse_op(const char *s, enum scmp_compare *op)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{"SCMP_CMP_NE", SCMP_CMP_NE},
		{"SCMP_CMP_LT", SCMP_CMP_LT},
		{"SCMP_CMP_LE", SCMP_CMP_LE},
		{"SCMP_CMP_EQ", SCMP_CMP_EQ},
		{"SCMP_CMP_GE", SCMP_CMP_GE},
		{"SCMP_CMP_GT", SCMP_CMP_GT},
		{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	for (size_t i = 0; s && i < ACRE_ARRAY_SIZE(ops); i++) {
		if (!strcmp(s, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_args(const json_t *args, struct scmp_arg_cmp *cmps, unsigned *n, const char *field,
		      struct acre_error *err)
{
	*n = 0;
	if (!args || json_is_null(args))
		return 0;
	if (!json_is_array(args) || json_array_size(args) > 6)
		return acre_error_set(err, EINVAL, "isolation.seccomp",
				      "%s.args: must be an array of at most 6 conditions", field);
	size_t i;
	json_t *a;
	json_array_foreach (args, i, a) {
		json_int_t index = -1, value = 0, value_two = 0;
		const char *op = NULL;
		json_error_t jerr;
		if (json_unpack_ex(a, &jerr, 0, "{s:I,s:I,s?I,s:s}", "index", &index, "value",
				   &value, "valueTwo", &value_two, "op", &op) < 0 ||
		    index < 0 || index > 5)
			return acre_error_set(err, EINVAL, "isolation.seccomp",
					      "%s.args[%zu]: needs index 0-5, value and op", field,
					      i);
		enum scmp_compare cmp;
		if (parse_op(op, &cmp) < 0)
			return acre_error_set(err, EINVAL, "isolation.seccomp",
					      "%s.args[%zu].op: unknown operator %s", field, i, op);
		cmps[i] = (struct scmp_arg_cmp){.arg = (unsigned)index,
						.op = cmp,
						.datum_a = (scmp_datum_t)value,
						.datum_b = (scmp_datum_t)value_two};
		(*n)++;
	}
	return 0;
}

/* includes/excludes as Docker writes them: {"arches": [...], "caps": [...]}. */
static bool arch_listed(const json_t *cond)
{
	json_t *arches = json_object_get(cond, "arches");
	size_t i;
	json_t *a;
	json_array_foreach (arches, i, a) {
		const char *s = json_string_value(a);
		if (s && (!strcmp(s, "amd64") || !strcmp(s, "x86_64") || !strcmp(s, "x86") ||
			  !strcmp(s, "x32")))
			return true;
	}
	return false;
}

static bool rule_applies(const json_t *rule)
{
	json_t *inc = json_object_get(rule, "includes");
	json_t *exc = json_object_get(rule, "excludes");
	if (json_is_object(inc)) {
		if (json_array_size(json_object_get(inc, "caps")) > 0)
			return false;
		if (json_object_get(inc, "arches") && !arch_listed(inc))
			return false;
	}
	if (json_is_object(exc) && json_object_get(exc, "arches") && arch_listed(exc))
		return false;
	return true;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t dflt, const json_t *rule, size_t idx,
		    struct acre_error *err)
{
	char field[48];
	snprintf(field, sizeof(field), "syscalls[%zu]", idx);
	if (!json_is_object(rule))
		return acre_error_set(err, EINVAL, "isolation.seccomp", "%s: must be an object",
				      field);
	if (!rule_applies(rule))
		return 0;
	uint32_t action;
	int rc = parse_action(json_object_get(rule, "action"), json_object_get(rule, "errnoRet"),
			      &action, field, err);
	if (rc < 0)
		return rc;
	struct scmp_arg_cmp cmps[6];
	unsigned ncmp;
	if ((rc = parse_args(json_object_get(rule, "args"), cmps, &ncmp, field, err)) < 0)
		return rc;
	if (action == dflt)
		return 0; /* libseccomp refuses rules that repeat the default; they change nothing
			   */
	json_t *names = json_object_get(rule, "names");
	json_t *single = json_object_get(rule, "name");
	if (!json_is_array(names) && !json_is_string(single))
		return acre_error_set(err, EINVAL, "isolation.seccomp",
				      "%s: needs \"names\" (an array of syscall names)", field);
	size_t count = json_is_array(names) ? json_array_size(names) : 1;
	for (size_t i = 0; i < count; i++) {
		const char *name =
			json_string_value(json_is_array(names) ? json_array_get(names, i) : single);
		if (!name)
			return acre_error_set(err, EINVAL, "isolation.seccomp",
					      "%s.names[%zu]: must be a string", field, i);
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call of this architecture, as Docker treats it */
		rc = seccomp_rule_add_array(ctx, action, nr, ncmp, cmps);
		if (rc < 0 && rc != -EEXIST)
			return acre_error_set(err, -rc, "isolation.seccomp",
					      "%s: adding rule for %s: %s", field, name,
					      strerror(-rc));
	}
	return 0;
}

int acre_seccomp_compile_profile(const json_t *profile, struct acre_seccomp_filter **out,
				 struct acre_error *err)
{
	if (!json_is_object(profile))
		return acre_error_set(err, EINVAL, "isolation.seccomp",
				      "isolation.seccomp: a profile must be a JSON object");
	uint32_t dflt;
	int rc = parse_action(json_object_get(profile, "defaultAction"),
			      json_object_get(profile, "defaultErrnoRet"), &dflt, "defaultAction",
			      err);
	if (rc < 0)
		return acre_error_prefix(err, "isolation.seccomp");
	json_t *rules = json_object_get(profile, "syscalls");
	if (rules && !json_is_array(rules))
		return acre_error_set(err, EINVAL, "isolation.seccomp",
				      "isolation.seccomp: \"syscalls\" must be an array");
	scmp_filter_ctx ctx = seccomp_init(dflt);
	if (!ctx)
		return acre_error_set(err, ENOMEM, NULL, "creating seccomp filter");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_add_arches(ctx);
	if (rc < 0)
		acre_error_set(err, -rc, NULL, "creating seccomp filter: %s", strerror(-rc));
	size_t i;
	json_t *rule;
	json_array_foreach (rules, i, rule) {
		if (rc < 0)
			break;
		rc = add_rule(ctx, dflt, rule, i, err);
	}
	if (rc == 0)
		rc = seccomp_filter_export(ctx, out, err);
	seccomp_release(ctx);
	if (rc < 0 && strncmp(err->message, "isolation.seccomp", 17) != 0)
		acre_error_prefix(err, "isolation.seccomp");
	return rc;
}
