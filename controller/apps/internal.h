/*
 * What the files of controller/apps/ share and no other module needs: the
 * spec's parts parsed and printed each in a file of its own (ports,
 * checks, volumes, rollout and restart policy), and the small helpers
 * they all use to read JSON strictly.
 */
#ifndef ACRE_CONTROLLER_APPS_INTERNAL_H
#define ACRE_CONTROLLER_APPS_INTERNAL_H

#include "controller/apps/apps.h"

/* A duration given as a string ("15s", "500ms"); at most max_ms. */
int app_duration_parse(const json_t *v, const char *field, uint64_t max_ms, uint64_t *ms,
		       struct acre_error *err);
/* The largest unit that is exact: "1h", "90s", "1500ms", "0s". */
void app_duration_format(uint64_t ms, char *buf, size_t len);

/* app_ports.c: "ports" and "publish" (after the template: they depend on its network mode). */
int app_ports_parse(const json_t *j, struct app_spec *spec, struct acre_error *err);
int app_publish_parse(const json_t *j, struct app_spec *spec, struct acre_error *err);
json_t *app_ports_to_json(const struct app_spec *spec);
json_t *app_publish_to_json(const struct app_spec *spec);
/*
 * The number instances reach ports[i] at: its own, or host_ports[i], the
 * one its node gave.  app_port_picked: the node gives it (network host,
 * no number), from its --port-range when the pool binds the instance.
 */
bool app_port_picked(const struct app_spec *spec, size_t i);
int app_port_number(const struct app_spec *spec, size_t i, const uint16_t *host_ports,
		    struct acre_error *err);
/* "PORT_METRICS_2" for "metrics-2". */
void app_port_env_name(const char *port, char *buf, size_t len);

/* app_checks.c: "checks" and "readiness" (after the ports they name). */
int app_checks_parse(const json_t *checks, const json_t *readiness, struct app_spec *spec,
		     struct acre_error *err);
/* As the slice spec prints them, with each port named or (not named) as the instance's number. */
int app_checks_to_json(const struct app_spec *spec, const struct app_checks *k, bool named,
		       const uint16_t *host_ports, json_t **out, struct acre_error *err);
void app_checks_free(struct app_spec *spec);

/* app_volumes.c: "volumes", the slice spec's, each instance's own on its node. */
int app_volumes_parse(const json_t *j, struct app_spec *spec, struct acre_error *err);
json_t *app_volumes_to_json(const struct app_spec *spec);
/* Its volumes as instance `index`'s slice spec has them: named APP-N-NAME. */
int app_instance_volumes(const struct app_spec *spec, unsigned index, json_t **out,
			 struct acre_error *err);
void app_volumes_free(struct app_spec *spec);

/* app_policy.c: min_healthy, max_surge, max_unavailable, history, backoff, on_partition. */
int app_policy_parse(const json_t *json, struct app_spec *spec, struct acre_error *err);
/* Adds the policy's fields to the canonical object. */
void app_policy_to_json(const struct app_spec *spec, json_t *out);

#endif
