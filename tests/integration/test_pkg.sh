#!/usr/bin/env bash
# `acre pkg` on a real pool (apps_lib.sh: a controller and three supervisors in network
# namespaces).  The shipped redis package is found, planned by a dry run that makes
# nothing, refused with a bad option before anything exists, installed under a name of its
# own and followed live until healthy; its app and instances carry acre.install; a slice
# reaches it with `redis-cli -h NAME.acre ping`.  An options upgrade (the port) is shown by
# a dry run, started, a second operation meanwhile is refused busy, the controller is
# killed (-9) and the upgrade goes on after its restart; redis then answers on the new
# port.  Every step is an install event.  Uninstalled, nothing is left: no install, no app,
# no slice.
. "$(dirname "$0")/apps_lib.sh"

require redis-server redis-cli
apps_pool

log "the catalog"
pool_run "$TEST_DIR/search" pkg search redis
assert_eq "$RC" 0 "pkg search: $(cat "$TEST_DIR/search.err")"
assert_contains "$(cat "$TEST_DIR/search")" "redis" "pkg search redis"
assert_eq "$(pool -j pkg show redis --config | jq -c '{port, replicas}')" \
	'{"port":6379,"replicas":{"enabled":false,"count":2}}' "redis's defaults"

log "a dry run plans and makes nothing; a bad option is refused before anything exists"
pool_run "$TEST_DIR/dry" pkg install redis --name kv --dry-run
assert_eq "$RC" 2 "install --dry-run exits 2 (something would change): $(cat "$TEST_DIR/dry.err")"
assert_contains "$(cat "$TEST_DIR/dry")" '"kv"' "the plan names the app"
pool_run "$TEST_DIR/bad" pkg install redis --name kv --set port=99999
assert_eq "$RC" 1 "install with port 99999"
assert_contains "$(cat "$TEST_DIR/bad.err")" "options.port" "the error names the option"
api GET /v1/installs/kv >/dev/null
assert_eq "$(last_code)" 404 "no install after a dry run and a refusal"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app after a dry run and a refusal"

log "install kv, followed until it runs"
pool_run "$TEST_DIR/install" pkg install redis --name kv --set memory=128M --set maxmemory=64mb
assert_eq "$RC" 0 "pkg install: $(cat "$TEST_DIR/install" "$TEST_DIR/install.err")"
assert_contains "$(cat "$TEST_DIR/install")" "started kv-0" "a line per deployment step"
assert_contains "$(cat "$TEST_DIR/install")" "at revision 1, running" "the last line"
assert_eq "$(pool -j pkg list | jq -r '.[] | "\(.name) \(.state) \(.revision) \(.apps | join(","))"')" \
	"kv running 1 kv" "pkg list"
assert_eq "$(app_state kv)" "running 1/1 v1" "the install's app"
assert_eq "$(api GET /v1/apps/kv | jq -r '.spec.labels["acre.install"]')" kv "the app's owner label"
assert_eq "$(api GET '/v1/slices?label=acre.install=kv' | jq -r '[.slices[].name] | join(",")')" \
	kv-0 "the instance carries the owner label"
r=$(api PUT /v1/apps/kv "$(app_spec kv 1)")
assert_eq "$(last_code)" 403 "a user's update of the install's app: $r"

ping_kv() { # PORT: redis's answer from a slice of node 1, through the install's name
	node_acre 1 slice run --rm --net bridge -- redis-cli -h kv.acre -p "$1" ping 2>&1
}
wait_for '[ "$(ping_kv 6379)" = PONG ]' 20 || fail "redis-cli -h kv.acre ping: $(ping_kv 6379)"

log "events: each step and change of the install on the stream"
sse_once "$TEST_DIR/events" "?since=0&type=install&label=acre.install=kv"
sse_data "$TEST_DIR/events" | jq -e -s '[.[] | select(.type == "install")] |
	([.[] | select(.event == "installing")] | length) == 1 and
	([.[] | select(.event == "running")] | length) == 1 and
	([.[] | select(.event == "step") | .install.text] | first | startswith("started kv-0")) and
	([.[] | select(.event == "step") | .install.text] | last | endswith("healthy and ready")) and
	all(.[]; .labels["acre.install"] == "kv")' >/dev/null ||
	fail "events: $(sse_data "$TEST_DIR/events" | jq -c '[.type, .event]' | sort | uniq -c)"

log "an options upgrade: a dry run, then started, a second operation refused, the controller killed"
pool_run "$TEST_DIR/updry" pkg upgrade kv --set port=6380 --dry-run
assert_eq "$RC" 2 "upgrade --dry-run exits 2: $(cat "$TEST_DIR/updry.err")"
pool_run "$TEST_DIR/same" pkg upgrade kv --dry-run
assert_eq "$RC" 0 "upgrade --dry-run with no change exits 0: $(cat "$TEST_DIR/same.err")"
pool_run "$TEST_DIR/up" pkg upgrade kv --set port=6380 --detach
assert_eq "$RC" 0 "pkg upgrade --detach: $(cat "$TEST_DIR/up.err")"
r=$(api PUT /v1/installs/kv '{"set": ["port=6381"]}')
assert_eq "$(last_code) $(jq -r .error.code <<<"$r")" "409 busy" "a second operation: $r"
kill_controller
start_controller
kv_state() { api GET /v1/installs/kv | jq -r '"\(.state) \(.revision)"'; }
wait_for '[ "$(kv_state)" = "running 2" ]' 60 ||
	fail "the upgrade after the restart: $(api GET /v1/installs/kv | jq -c .)"
assert_eq "$(api GET /v1/installs/kv | jq -r '"\(.options.port) \(.last_operation.result)"')" \
	"6380 succeeded" "the upgrade's options and result"
wait_for '[ "$(ping_kv 6380)" = PONG ]' 20 || fail "redis on its new port: $(ping_kv 6380)"

log "uninstall: nothing left"
pool_run "$TEST_DIR/un" pkg uninstall kv
assert_eq "$RC" 0 "pkg uninstall: $(cat "$TEST_DIR/un" "$TEST_DIR/un.err")"
assert_contains "$(cat "$TEST_DIR/un")" "uninstalled, nothing left" "uninstall's last line"
api GET /v1/installs/kv >/dev/null
assert_eq "$(last_code)" 404 "no install"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app"
assert_eq "$(api GET '/v1/slices?label=acre.install=kv' | jq '.slices | length')" 0 "no slice"
log "test_pkg: $(($(now_ms) - T0)) ms"
