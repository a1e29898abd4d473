/*
 * The slice spec back to JSON (what the supervisor checkpoints, and shows
 * with its secrets redacted)
 * and its release.  acre_slice_spec_to_json's output parses back to the
 * same spec.
 */
#include "common.h"

static json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *spec_to_json(const struct acre_slice_spec *spec, bool redact)
{
	json_t *env = json_object();
	for (size_t i = 0; spec->env && spec->env[i]; i++) {
		char *eq = strchr(spec->env[i], '=');
		_cleanup_free_ char *k = strndup(spec->env[i], (size_t)(eq - spec->env[i]));
		json_object_set_new(env, k, json_string(eq + 1));
	}
	json_t *res = json_object();
	const struct acre_slice_resources *r = &spec->resources;
	char buf[32];
	if (r->cpus_milli)
		json_object_set_new(res, "cpus", json_real(r->cpus_milli / 1000.0));
	if (r->memory) {
		acre_format_size(r->memory, buf, sizeof(buf));
		/* Keep exact bytes when the human form would round. */
		if (strchr(buf, '.'))
			json_object_set_new(res, "memory", json_integer((json_int_t)r->memory));
		else
			json_object_set_new(res, "memory", json_string(buf));
	}
	if (r->pids)
		json_object_set_new(res, "pids", json_integer((json_int_t)r->pids));
	if (r->net_rate) {
		snprintf(buf, sizeof(buf), "%llubit", (unsigned long long)r->net_rate);
		json_object_set_new(res, "net_rate", json_string(buf));
	}
	json_t *ns = json_array();
	for (unsigned bit = 1; bit & ACRE_NS_ALL; bit <<= 1)
		if (spec->isolation.namespaces & bit)
			json_array_append_new(ns, json_string(acre_namespace_name(bit)));
	json_t *caps = json_array();
	for (int c = 0; c < 64; c++)
		if (spec->isolation.capabilities & (1ULL << c))
			json_array_append_new(caps, json_string(acre_cap_name(c)));
	json_t *seccomp = spec->isolation.seccomp == ACRE_SECCOMP_PROFILE
				  ? json_deep_copy(spec->isolation.seccomp_profile)
				  : json_string(spec->isolation.seccomp == ACRE_SECCOMP_DEFAULT
							? "default"
							: "unconfined");
	char restart[32];
	if (spec->restart == ACRE_RESTART_ON_FAILURE && spec->restart_max)
		snprintf(restart, sizeof(restart), "on-failure:%u", spec->restart_max);
	else
		snprintf(restart, sizeof(restart), "%s", acre_restart_name(spec->restart));
	json_t *network = json_pack("{s:s}", "mode", acre_net_mode_name(spec->net_mode));
	if (spec->net_isolated)
		json_object_set_new(network, "isolated", json_true());
	if (spec->net_allow)
		json_object_set_new(network, "allow", strv_to_json(spec->net_allow));
	if (spec->net_npublish)
		json_object_set_new(network, "publish", acre_publish_to_json(spec));
	json_t *out = json_pack(
		"{s:s,s:o,s:o,s:s,s:o,s:{s:o,s:o,s:o,s:s,s:b},s:o,s:s,s:O*}", "name", spec->name,
		"command", strv_to_json(spec->command), "env", env, "cwd", spec->cwd, "resources",
		res, "isolation", "namespaces", ns, "seccomp", seccomp, "capabilities", caps,
		"rootfs", spec->isolation.rootfs, "readonly_root", spec->isolation.readonly_root,
		"network", network, "restart", restart, "labels", spec->labels);
	if (out && spec->nchecks)
		json_object_set_new(out, "checks",
				    acre_checks_to_json(spec->checks, spec->nchecks));
	if (out && spec->nreadiness)
		json_object_set_new(out, "readiness",
				    acre_checks_to_json(spec->readiness, spec->nreadiness));
	if (out && spec->nvolumes)
		json_object_set_new(out, "volumes", acre_volumes_to_json(spec));
	if (out && spec->nartifacts)
		json_object_set_new(out, "artifacts", acre_artifacts_to_json(spec));
	if (out && spec->nsecrets)
		json_object_set_new(out, "secrets", acre_secrets_to_json(spec, redact));
	if (out && spec->user)
		json_object_set_new(out, "user", json_string(spec->user));
	/* No name yet (the supervisor picks one): "" would not parse back. */
	if (out && !spec->name[0])
		json_object_del(out, "name");
	return out;
}

json_t *acre_slice_spec_to_json(const struct acre_slice_spec *spec)
{
	return spec_to_json(spec, false);
}

json_t *acre_slice_spec_to_json_redacted(const struct acre_slice_spec *spec)
{
	return spec_to_json(spec, true);
}

void acre_slice_spec_free(struct acre_slice_spec *spec)
{
	acre_strv_free(spec->command);
	acre_strv_free(spec->env);
	free(spec->user);
	free(spec->cwd);
	free(spec->isolation.rootfs);
	json_decref(spec->isolation.seccomp_profile);
	json_decref(spec->labels);
	acre_strv_free(spec->net_allow);
	free(spec->net_publish);
	acre_checks_free(spec->checks, spec->nchecks);
	acre_checks_free(spec->readiness, spec->nreadiness);
	acre_volumes_free(spec);
	acre_artifacts_free(spec);
	acre_secrets_free(spec);
	memset(spec, 0, sizeof(*spec));
}
