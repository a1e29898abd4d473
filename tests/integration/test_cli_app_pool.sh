#!/usr/bin/env bash
# `acre app` and `acre deployment` against a live pool (cluster_lib.sh: the
# controller and two supervisors in network namespaces of their own, pool in
# 198.19.0.0/17): app run follows its deployment to the end, a line per step,
# and exits 0; app list, show and versions print the controller's objects;
# update changes only what its flags say (and nothing at all twice); scale;
# an update whose new instances fail their checks exits 1 saying it rolled
# back; a change while a deployment runs is refused unless --force; SIGINT
# stops the following, not the deployment (status 130); deployment
# list|show|cancel; why app; move; node drain until nothing is left on the
# node; rm until the app is gone.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
CTL_ARGS=(--node-timeout 2s --lost-after 6s --deployment-step-deadline 20s)
pool_net_ctl_args host-gw
net_setup 2
make_certs
start_controller
for i in 1 2; do start_node "$i" --resolv-conf /dev/null; done
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 2 ]' 15 ||
	fail "the nodes are not ready: $(api GET /v1/nodes)"
N1=$(node_id 1)
N2=$(node_id 2)

# An HTTP server answering 200, or 500 with FAIL=1 in its environment.
server_py='import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500 if os.environ.get("FAIL") == "1" else 200)
        self.end_headers(); self.wfile.write(os.environ["HOSTNAME"].encode())
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()'
# run_cli OUT-FILE ARGS...: the CLI against the pool; stdout in OUT-FILE, stderr in OUT-FILE.err,
# the exit status in RC.
run_cli() {
	local out=$1
	shift
	RC=0
	pool "$@" >"$out" 2>"$out.err" || RC=$?
}
app_json() { pool -j app show web; }

log "app run follows the deployment to its end"
run_cli "$TEST_DIR/run" app run web --instances 2 --port http:8080 --net bridge --cpus 0.1 \
	--memory 64M --strategy spread --check-http http/ --check-interval 300ms --check-timeout 300ms \
	--check-failures 2 --check-grace 5s --env V=1 -- python3 -c "$server_py"
assert_eq "$RC" 0 "exit status of app run: $(cat "$TEST_DIR/run" "$TEST_DIR/run.err")"
out=$(cat "$TEST_DIR/run")
assert_contains "$(head -1 <<<"$out")" "create web, version 1" "the first line names the deployment"
grep -Eq '^[0-9:]{8}  [0-9]/2 at target, [0-9] available  started web-[01] \(version 1\) on ' <<<"$out" ||
	fail "no step line with its counts: $out"
assert_contains "$(tail -1 <<<"$out")" "succeeded: web at version 1, 2/2 available" "the last line"

log "app list, show, versions"
assert_eq "$(pool -j app list | jq -c '[.[] | {name, state, healthy, instances}]')" \
	'[{"name":"web","state":"running","healthy":2,"instances":2}]' "app list -j"
table=$(pool app show web) || fail "app show"
assert_eq "$(awk '/^INDEX/ { print $1, $2, $3, $4, $5, $6, $7, $8 }' <<<"$table")" \
	"INDEX NAME NODE ADDRESS PORTS HEALTH STATE VERSION" "the instances' columns"
assert_eq "$(awk '$2 ~ /^web-[01]$/ && $4 ~ /^198\.19\./ && $5 == "http:8080" && $6 == "healthy" { n++ } END { print n }' <<<"$table")" \
	2 "two healthy instances with their addresses and ports: $table"
assert_eq "$(app_json | jq -c '[.version, .spec.slice.env.V, .spec.ports, (.instances_detail | length)]')" \
	'[1,"1",["http:8080"],2]' "app show -j"
assert_eq "$(pool -j app versions web | jq -c '[.[] | .number]')" "[1]" "app versions -j"

log "app update changes what its flags say, and nothing twice"
run_cli "$TEST_DIR/update" app update web --env V=2
assert_eq "$RC" 0 "exit status of app update: $(cat "$TEST_DIR/update" "$TEST_DIR/update.err")"
assert_eq "$(app_json | jq -c '[.version, .spec.slice.env.V, .spec.ports, .spec.instances, .state]')" \
	'[2,"2",["http:8080"],2,"running"]' "version 2 with V=2, the rest as it was"
run_cli "$TEST_DIR/same" app update web --env V=2
assert_eq "$RC $(cat "$TEST_DIR/same")" "0 web: no change (the spec is the app's current one)" \
	"the same update again"

log "app scale"
scaled=$(pool -j app scale web 3) || fail "app scale web 3: $scaled"
assert_eq "$(jq -c '[.deployment.kind, .deployment.state, .deployment.wanted]' <<<"$scaled")" \
	'["scale","succeeded",3]' "app scale -j: the deployment as it ended"
assert_eq "$(app_json | jq -c '[.instances, .healthy]')" "[3,3]" "three instances"

log "an update whose instances fail their checks rolls back: status 1, the reason on stderr"
run_cli "$TEST_DIR/bad" app update web --env FAIL=1
assert_eq "$RC" 1 "exit status of a rolled back update"
assert_contains "$(cat "$TEST_DIR/bad.err")" "rolled back" "stderr of a rolled back update"
wait_for '[ "$(app_json | jq -r .state)" = running ]' 30 || fail "web after the rollback: $(app_json)"
assert_eq "$(app_json | jq -r '.spec.slice.env.FAIL // "none"')" none "the spec after the rollback"

log "deployment list and show"
list=$(pool -j deployment list --app web) || fail "deployment list"
assert_eq "$(jq -r '.[0].kind' <<<"$list")" rollback "the newest deployment first"
assert_eq "$(jq -r '[.[] | .kind] | reverse | .[0:3] | join(" ")' <<<"$list")" "create update scale" \
	"the oldest ones"
D=$(jq -r '.[0].id' <<<"$list")
assert_contains "$(pool deployment show "$D")" "deployment $D: rollback web" "deployment show"

log "one deployment at a time: refused while one runs, unless --force"
run_cli "$TEST_DIR/restart" app restart web --detach
assert_eq "$RC" 0 "exit status of app restart --detach"
assert_contains "$(cat "$TEST_DIR/restart")" "started: restart web" "app restart --detach"
run_cli "$TEST_DIR/busy" app scale web 2
assert_eq "$RC" 1 "exit status of a scale while a restart runs"
assert_contains "$(cat "$TEST_DIR/busy.err")" "running: wait for it, cancel it, or force" \
	"the controller's own message"
run_cli "$TEST_DIR/forced" app scale web 2 --force
assert_eq "$RC" 0 "exit status of app scale --force: $(cat "$TEST_DIR/forced.err")"
assert_eq "$(app_json | jq -c '[.instances, .healthy]')" "[2,2]" "two instances after the forced scale"

log "SIGINT stops the following, not the deployment"
rc=0
timeout --preserve-status -s INT 0.5 "$ACRE_BIN/acre" --controller "$CONTROLLER" --token-file "$TEST_DIR/api-token" \
	app restart web >"$TEST_DIR/int" 2>"$TEST_DIR/int.err" || rc=$?
assert_contains "$(cat "$TEST_DIR/int.err")" "stopped following deployment" "what SIGINT says"
D=$(pool -j deployment list --app web | jq -r '.[0].id')
assert_eq "$(pool -j deployment show "$D" | jq -r .kind)" restart "the restart is the newest deployment"
wait_for "[ \"\$(pool -j deployment show $D | jq -r .state)\" = succeeded ]" 30 ||
	fail "the restart did not go on: $(pool -j deployment show "$D")"
assert_eq "$rc" 130 "exit status of a following stopped by SIGINT"

log "deployment cancel"
pool app restart web --detach >/dev/null || fail "app restart --detach"
D=$(pool -j deployment list --app web --active | jq -r '.[0].id')
[ -n "$D" ] && [ "$D" != null ] || fail "no active deployment after a restart"
assert_eq "$(pool -j deployment cancel "$D" | jq -r .state)" cancelled "deployment cancel -j"
wait_for '[ "$(app_json | jq -r .state)" = running ]' 30 || fail "web after the cancel: $(app_json)"

log "why app"
assert_contains "$(pool why app web)" "app web: 0 instances pending" "why app web"
assert_contains "$(pool why web)" "app web:" "why NAME of an app"

log "app move and node drain"
on=$(app_json | jq -r '.instances_detail[] | select(.name == "web-0") | .node')
to=$([ "$on" = "$N1" ] && echo "$N2" || echo "$N1")
run_cli "$TEST_DIR/move" app move web-0 --to "$to"
assert_eq "$RC" 0 "exit status of app move: $(cat "$TEST_DIR/move.err")"
assert_eq "$(app_json | jq -r '.instances_detail[] | select(.name == "web-0") | .node')" "$to" \
	"web-0 moved"
run_cli "$TEST_DIR/drain" node drain "$N1"
assert_eq "$RC" 0 "exit status of node drain: $(cat "$TEST_DIR/drain.err")"
assert_contains "$(cat "$TEST_DIR/drain")" "$N1 drained" "node drain says when it is over"
assert_eq "$(app_json | jq -r "[.instances_detail[] | select(.node == \"$N1\")] | length")" 0 \
	"no instance left on the drained node"

log "app rm follows the removal until the app is gone"
run_cli "$TEST_DIR/rm" app rm web
assert_eq "$RC" 0 "exit status of app rm: $(cat "$TEST_DIR/rm.err")"
assert_contains "$(cat "$TEST_DIR/rm")" "succeeded: web removed" "app rm"
assert_eq "$(pool -j app list)" "[]" "no app left"
run_cli "$TEST_DIR/gone" app show web
assert_eq "$RC" 1 "app show of a removed app"
assert_contains "$(cat "$TEST_DIR/gone.err")" "web" "its error names it"
echo ok
