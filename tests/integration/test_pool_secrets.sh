#!/usr/bin/env bash
# Secrets in a pool: a slice's secrets sent through the controller reach
# the task on its node as /run/secrets/NAME, while GET /v1/slices/{id}
# (with its spec), GET /v1/slices?spec=1, acre slice show -j through the
# controller, the node's view, the event stream and both daemons' logs show
# no value, only "<redacted>"; the controller's store keeps the value (the
# node needs it), and nothing else of its data directory does.  An app's
# template takes secrets too: its instances get them, GET /v1/apps/{name}
# shows them redacted, and that spec PUT back (a change elsewhere) keeps the
# values, acre app update --secret-file changes one, and a new app given
# "<redacted>" is refused.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require nsenter

log "network, certificates, controller, one node"
net_setup 1
make_certs
CTL_ARGS=(--node-timeout 2s --lost-after 60s)
pool_net_ctl_args
start_controller
start_node 1
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 1 ]' 15 ||
	fail "the node ready: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state}')"

pw="pw-$RANDOM$RANDOM-$$"
log "a slice with two secrets, through the controller"
pool slice run -d --name sec --secret "db_password=$pw" --secret token=t-$$ -- sleep 600 >/dev/null ||
	fail "run sec"
wait_for '[ "$(api GET /v1/slices/sec | jq -r .state)" = running ]' 20 ||
	fail "sec not running: $(api GET /v1/slices/sec)"

log "the task reads its secret"
pid=$(node_acre 1 -j slice show sec | jq -r .pid)
task=$(pgrep -P "$pid" | head -1)
[ -n "$task" ] || fail "no task under acre-init $pid"
assert_eq "$(nsenter -t "$task" -m cat /run/secrets/db_password)" "$pw" "the secret on the node"
assert_eq "$(nsenter -t "$task" -m stat -c %a /run/secrets/db_password)" 400 "its mode"

log "shown redacted everywhere"
show=$(api GET /v1/slices/sec)
assert_eq "$(jq -r .spec.secrets.db_password <<<"$show")" "<redacted>" "GET /v1/slices/sec"
assert_eq "$(jq -r .spec.secrets.token <<<"$show")" "<redacted>" "GET /v1/slices/sec"
assert_not_contains "$show" "$pw" "GET /v1/slices/sec"
assert_not_contains "$(api GET '/v1/slices?spec=1')" "$pw" "GET /v1/slices?spec=1"
assert_not_contains "$(pool -j slice show sec)" "$pw" "acre slice show -j (pool)"
assert_not_contains "$(pool slice show sec)" "$pw" "acre slice show (pool)"
node_show=$(node_acre 1 -j slice show sec)
assert_eq "$(jq -r .spec.secrets.db_password <<<"$node_show")" "<redacted>" "the node's view"
sse_once "$TEST_DIR/events" "?since=0"
grep -q sec "$TEST_DIR/events" || fail "no event of sec in the stream"
assert_not_contains "$(cat "$TEST_DIR/events")" "$pw" "the event stream"

log "the logs hold no value; the store does"
assert_not_contains "$(cat "$TEST_DIR/controller.log")" "$pw" "the controller's log"
assert_not_contains "$(cat "$TEST_DIR/n1/supervisor.log")" "$pw" "the node's log"
grep -rlqa -- "$pw" "$TEST_DIR/controller" || fail "the controller's store lacks the secret"

pool slice rm --force sec >/dev/null || fail "rm sec"

log "an app's instances get the template's secrets"
inst_secret() { # INSTANCE: its /run/secrets/db_password, read on the node
	local p
	p=$(node_acre 1 -j slice show "$1" | jq -r .pid)
	nsenter -t "$(pgrep -P "$p" | head -1)" -m cat /run/secrets/db_password
}
app='{"name": "vault", "instances": 1, "slice": {"command": ["sleep", "600"], "env": {"V": "1"},
      "secrets": {"db_password": "'"$pw"'"}}}'
r=$(api POST /v1/apps "$app")
assert_eq "$(last_code)" 201 "POST /v1/apps: $r"
wait_for '[ "$(api GET /v1/slices/vault-0 | jq -r .state)" = running ]' 20 ||
	fail "vault-0 not running: $(api GET /v1/slices/vault-0)"
assert_eq "$(inst_secret vault-0)" "$pw" "the instance's secret"
shown=$(api GET /v1/apps/vault)
assert_eq "$(jq -r .spec.slice.secrets.db_password <<<"$shown")" "<redacted>" "GET /v1/apps/vault"
assert_not_contains "$shown" "$pw" "GET /v1/apps/vault"
assert_not_contains "$(api GET /v1/apps/vault/versions)" "$pw" "GET /v1/apps/vault/versions"
assert_not_contains "$(api GET /v1/slices/vault-0)" "$pw" "GET /v1/slices/vault-0"

log "the shown spec PUT back keeps the value"
r=$(api PUT /v1/apps/vault "$(jq -c '.spec | .slice.env.V = "2"' <<<"$shown")")
assert_eq "$(last_code)" 200 "PUT /v1/apps/vault: $r"
wait_for '[ "$(api GET /v1/apps/vault | jq -r .version)" = 2 ] &&
	[ "$(api GET /v1/apps/vault/instances | jq -r ".instances[0].version")" = 2 ] &&
	[ "$(api GET /v1/slices/vault-0 | jq -r .state)" = running ]' 30 ||
	fail "vault not at version 2: $(api GET /v1/apps/vault/instances)"
assert_eq "$(inst_secret vault-0)" "$pw" "the instance's secret after the update"
log "acre app update --secret-file: a new value, through the shown spec"
pw2="pw2-$RANDOM$RANDOM-$$"
printf '%s' "$pw2" >"$TEST_DIR/pw2"
pool app update vault --detach --secret-file "db_password=$TEST_DIR/pw2" >/dev/null ||
	fail "acre app update --secret-file"
wait_for '[ "$(api GET /v1/apps/vault/instances | jq -r ".instances[0].version")" = 3 ] &&
	[ "$(api GET /v1/slices/vault-0 | jq -r .state)" = running ]' 30 ||
	fail "vault not at version 3: $(api GET /v1/apps/vault/instances)"
assert_eq "$(inst_secret vault-0)" "$pw2" "the instance's secret after acre app update"
assert_not_contains "$(pool -j app show vault)" "$pw2" "acre app show -j"
r=$(api POST /v1/apps "$(jq -c '.name = "other" | .slice.secrets.db_password = "<redacted>"' <<<"$app")")
assert_eq "$(last_code)" 400 "a new app given <redacted>: $r"
assert_contains "$r" "slice.secrets.db_password" "the error names the field"
api DELETE /v1/apps/vault >/dev/null
assert_not_contains "$(cat "$TEST_DIR/controller.log")" "$pw" "the controller's log"
echo ok
