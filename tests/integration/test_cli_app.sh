#!/bin/bash
# `acre app run ... --print-spec`: the flags mapped one to one onto the app
# spec (controller/README.md, "Apps"), as the JSON that would be sent, with
# nothing sent (no controller runs here: --controller points at a port
# nobody listens on, so a request would fail); -f SPEC and stdin as the
# base the flags apply to; and each bad flag refused before anything is
# sent, with a message naming it, on stderr (status 1) or as the error
# object under -j.
. "$(dirname "$0")/lib.sh"

A=$ACRE_BIN/acre
# A port on loopback that nothing listens on: a request sent there would fail loudly.
NOWHERE=http://127.0.0.1:9
export ACRE_TOKEN=unused

log "every flag into its field"
spec=$("$A" --controller "$NOWHERE" -j app run web --instances 3 \
	--port http:8080 --port dns:53/udp --port metrics --publish 18080:http --vip \
	--net bridge --cpus 0.5 --memory 256M --pids 64 --user nobody --cwd /srv \
	--env LANG=C.UTF-8 --env MODE=prod --cap NET_BIND_SERVICE --net-rate 100mbit \
	--check-http http/healthz --check-tcp metrics --ready-http http/ready --check-interval 2s \
	--check-failures 5 --constraint 'zone!=c' --spread zone --strategy spread --unique zone \
	--depends db --depends cache --volume data:1G:/var/lib/web --ordered --on-partition replace \
	--min-healthy 90% --max-surge 2 --max-unavailable 25% --history 5 --no-auto-rollback \
	--backoff-initial 2s --backoff-factor 1.5 --backoff-max 10m --backoff-reset-after 30m \
	--label team=blue --label tier=front --print-spec -- /usr/bin/server --port 8080) ||
	fail "app run --print-spec: $spec"
q() { jq -c "$1" <<<"$spec"; }
assert_eq "$(q '[.name, .instances, .vip, .ordered, .on_partition, .history, .auto_rollback]')" \
	'["web",3,true,true,"replace",5,false]' "name, --instances, --vip, --ordered, --on-partition, --history, --no-auto-rollback"
assert_eq "$(q '.ports')" '["http:8080","dns:53/udp","metrics"]' "--port, in order"
assert_eq "$(q '.publish')" '["18080:http"]' "--publish"
assert_eq "$(q '[.min_healthy, .max_surge, .max_unavailable]')" '["90%",2,"25%"]' \
	"--min-healthy, --max-surge, --max-unavailable: a percentage stays one, a count is a number"
assert_eq "$(q '.slice.command')" '["/usr/bin/server","--port","8080"]' "the command after --"
assert_eq "$(q '.slice.resources')" '{"cpus":0.5,"memory":"256M","pids":64,"net_rate":"100mbit"}' \
	"--cpus, --memory, --pids, --net-rate into slice.resources"
assert_eq "$(q '[.slice.user, .slice.cwd, .slice.env, .slice.network, .slice.isolation]')" \
	'["nobody","/srv",{"LANG":"C.UTF-8","MODE":"prod"},{"mode":"bridge"},{"capabilities":["NET_BIND_SERVICE"]}]' \
	"--user, --cwd, --env, --net, --cap into slice"
assert_eq "$(q '.checks')" \
	'[{"kind":"http","port":"http","path":"/healthz","interval":"2s","failures":5},{"kind":"tcp","port":"metrics","interval":"2s","failures":5}]' \
	"--check-http PORT/PATH and --check-tcp PORT name the port; the timing flags apply to each"
assert_eq "$(q '.readiness')" '[{"kind":"http","port":"http","path":"/ready","interval":"2s","failures":5}]' \
	"--ready-http into readiness"
assert_eq "$(q '.placement')" '{"constraints":["zone!=c"],"spread":"zone","strategy":"spread","unique":"zone"}' \
	"--constraint, --spread, --strategy, --unique into placement"
assert_eq "$(q '.dependencies')" '["db","cache"]' "--depends, repeated"
assert_eq "$(q '.volumes')" '[{"name":"data","size":1073741824,"path":"/var/lib/web"}]' "--volume NAME:SIZE:PATH"
assert_eq "$(q '.backoff')" '{"initial":"2s","factor":1.5,"max":"10m","reset_after":"30m"}' "--backoff-*"
assert_eq "$(q '.labels')" '{"team":"blue","tier":"front"}' "--label"
assert_eq "$(q 'keys')" \
	'["auto_rollback","backoff","checks","dependencies","history","instances","labels","max_surge","max_unavailable","min_healthy","name","on_partition","ordered","placement","ports","publish","readiness","slice","vip","volumes"]' \
	"nothing but the app spec's fields"

log "a flag not given is not in the spec (the controller's default applies)"
small=$("$A" -j app run api --print-spec -- /bin/api) || fail "app run api --print-spec"
assert_eq "$small" '{"name":"api","slice":{"command":["/bin/api"]}}' "only the name and the command"
assert_eq "$("$A" -j app run --instances 2 api --print-spec -- /bin/api | jq -c '[.name, .instances]')" \
	'["api",2]' "NAME may follow the flags"
assert_eq "$("$A" -j app run api --net host --print-spec -- /bin/api | jq -c '.slice.isolation.namespaces')" \
	'["pid","mount","uts","ipc","cgroup"]' "--net host: no network namespace of its own"

log "-f SPEC, a file or stdin, is the base the flags apply to"
cat >"$TEST_DIR/web.json" <<'JSON'
{"name": "web", "instances": 2, "ports": ["http:8080"], "labels": {"team": "red"},
 "slice": {"command": ["/bin/web"], "env": {"A": "1"}, "network": {"mode": "bridge"}},
 "dependencies": ["db"]}
JSON
from_file=$("$A" -j app run -f "$TEST_DIR/web.json" --instances 4 --env B=2 --port admin:9000 \
	--label tier=back --print-spec) || fail "app run -f: $from_file"
assert_eq "$(jq -c '[.name, .instances, .ports, .slice.env, .labels, .dependencies, .slice.command]' <<<"$from_file")" \
	'["web",4,["admin:9000"],{"A":"1","B":"2"},{"team":"red","tier":"back"},["db"],["/bin/web"]]' \
	"scalars set, --env and --label set their key, a list flag replaces its list, the rest kept"
from_stdin=$("$A" -j app run web --spec - --print-spec <"$TEST_DIR/web.json") || fail "app run --spec -"
assert_eq "$(jq -c '[.name, .instances]' <<<"$from_stdin")" '["web",2]' "--spec - reads stdin"
pretty=$("$A" app run -f "$TEST_DIR/web.json" --print-spec) || fail "app run --print-spec (table output)"
assert_eq "$(jq -c . <<<"$pretty")" "$(jq -c . <<<"$from_stdin")" "the same spec without -j, indented"
[ "$(wc -l <<<"$pretty")" -gt 1 ] || fail "--print-spec without -j is not indented: $pretty"

log "bad flags: refused before anything is sent, naming the flag"
# expect_bad WHAT FIELD MESSAGE-PART ARGS...: status 1, the message on stderr and nothing on stdout;
# under -j the error object on stdout naming the field.
expect_bad() {
	local what=$1 field=$2 part=$3 rc=0 out err
	shift 3
	out=$("$A" --controller "$NOWHERE" app run "$@" 2>"$TEST_DIR/stderr") || rc=$?
	err=$(cat "$TEST_DIR/stderr")
	assert_eq "$rc" 1 "exit status of $what"
	assert_eq "$out" "" "nothing on stdout for $what"
	assert_contains "$err" "$part" "the message of $what"
	assert_not_contains "$err" "reaching the controller" "$what was sent"
	rc=0
	out=$("$A" --controller "$NOWHERE" -j app run "$@" 2>/dev/null) || rc=$?
	assert_eq "$rc" 1 "exit status of $what under -j"
	assert_eq "$(jq -r '.error.field // ""' <<<"$out")" "$field" "the field of $what under -j: $out"
}
expect_bad "a port name in capitals" --port "--port Http:80: expected NAME[:PORT][/udp]" \
	web --port Http:80 -- /bin/x
expect_bad "port 0" --port "--port http:0: the port must be 1 to 65535" web --port http:0 -- /bin/x
expect_bad "a protocol" --port "--port http:80/sctp: the protocol is tcp or udp" \
	web --port http:80/sctp -- /bin/x
expect_bad "a port twice" --port "the port http is declared twice" \
	web --port http:80 --port http:81 -- /bin/x
expect_bad "--publish of an undeclared port" --publish \
	"--publish 18080:admin: admin is not a declared port (--port: http)" \
	web --port http:80 --publish 18080:admin -- /bin/x
expect_bad "--publish without a node port" --publish "--publish http: expected NODE_PORT:NAME" \
	web --port http:80 --publish http -- /bin/x
expect_bad "a check on an undeclared port" --check-http \
	"--check-http admin: not a declared port (--port: http)" \
	web --port http:80 --check-http admin/healthz -- /bin/x
expect_bad "a check on a number" --check-tcp "--check-tcp 8080: expected a port's name" \
	web --port http:8080 --check-tcp 8080 -- /bin/x
expect_bad "a tcp check on a udp port" --check-tcp "--check-tcp dns: a udp port" \
	web --port dns:53/udp --check-tcp dns -- /bin/x
expect_bad "--instances -1" --instances "--instances -1: an integer from 0 to 1000000" \
	web --instances -1 -- /bin/x
expect_bad "--min-healthy 101%" --min-healthy "--min-healthy 101%: a count of instances" \
	web --min-healthy 101% -- /bin/x
expect_bad "--max-surge lots" --max-surge "--max-surge lots: a count of instances" \
	web --max-surge lots -- /bin/x
expect_bad "--history 0" --history "--history 0: an integer from 1 to 1000" web --history 0 -- /bin/x
expect_bad "--on-partition" --on-partition "--on-partition maybe: replace or wait" \
	web --on-partition maybe -- /bin/x
expect_bad "--unique" --unique "--unique a,b: node, or an attribute name" web --unique a,b -- /bin/x
expect_bad "--depends" --depends "--depends No_Such: the name of another app" \
	web --depends No_Such -- /bin/x
expect_bad "--label acre." --label "--label acre.app=x: keys under acre. are set by acre" \
	web --label acre.app=x -- /bin/x
expect_bad "--volume" --volume "--volume data:lots:/d" web --volume data:lots:/d -- /bin/x
expect_bad "--backoff-factor" --backoff-factor "--backoff-factor 20: a number from 1 to 10" \
	web --backoff-factor 20 -- /bin/x
expect_bad "--memory" --memory "--memory 12Q" web --memory 12Q -- /bin/x
expect_bad "--cap" --cap "--cap FLY: unknown capability" web --cap FLY -- /bin/x
expect_bad "an app name" name "app run web_1: the name must be" web_1 -- /bin/x
expect_bad "no command" command "app run: no command" web --instances 2
expect_bad "an unknown flag" "" "--replicas: unknown option" web --replicas 3 -- /bin/x
expect_bad "-f of another app" name "app run api: the spec (-f $TEST_DIR/web.json) is of the app web" \
	api -f "$TEST_DIR/web.json"
expect_bad "-f of a file that is not JSON" --spec "-f /etc/hostname:" -f /etc/hostname

log "the controller's own error, printed as it is"
rc=0
out=$("$A" --controller "$NOWHERE" app run web -- /bin/x 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status with no controller there"
assert_contains "$out" "reaching the controller at $NOWHERE" "a request that cannot be sent says where"
rc=0
out=$(env -u ACRE_CONTROLLER "$A" app list 2>&1) || rc=$?
assert_eq "$rc" 1 "app list without --controller"
assert_contains "$out" "--controller URL" "app list says it needs the controller"

log "acting verbs check their arguments before sending"
bad_args() {
	local what=$1 part=$2 rc=0 out
	shift 2
	out=$("$A" --controller "$NOWHERE" "$@" 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit status of $what"
	assert_contains "$out" "$part" "the message of $what"
	assert_not_contains "$out" "reaching the controller" "$what was sent"
}
bad_args "scale to lots" "N is an integer from 0 to 1000000" app scale web lots
bad_args "scale without N" "usage: acre app scale NAME N" app scale web
bad_args "move of a name that is no instance" "web: expected an app's instance, APP-N" \
	app move web --to n1
bad_args "move without --to" "--to NODE is required" app move web-1
bad_args "rollback --to x" "--to x: a version number" app rollback web --to x
bad_args "rm --to" "--to: unknown option" app rm web --to n1
bad_args "scale --keep-volumes" "--keep-volumes: unknown option" app scale web 2 --keep-volumes
bad_args "logs --instance x" "--instance x: an instance's index" app logs web --instance x
bad_args "deployment list --app" "usage: acre deployment list" deployment list extra
bad_args "an unknown app verb" "unknown app command fly" app fly
bad_args "why of a kind" "usage: acre --controller URL why" why job web

echo "ok"
