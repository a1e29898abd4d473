#!/bin/bash
# What a script reads from `acre -j` on one node: `slice list -j` is an
# array of slice objects with the documented keys (cli/README.md), `slice
# show -j` one object with the detail keys too; `--label K=V` (repeatable,
# all must match) and `--state` keep only the matching slices; every
# failure under -j is an error object on stdout with exit status 1, and
# without -j one line on stderr and nothing on stdout.  The same keys from
# the pool are checked in test_cluster.sh.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

LIST_KEYS='["command","created_at","finished_at","health","labels","name","node","pid","reason","resources","restarts","started_at","state","updated_at"]'
SHOW_KEYS='["cgroup","command","created_at","desired","exit","finished_at","foreground","health","labels","name","network","node","pid","placement","reason","remove_on_exit","replacements","resources","restart","restarts","spec","started_at","state","task_pid","updated_at"]'

acre slice run -d --name web1 --label app=web --label tier=front --memory 64M -- sleep 600 >/dev/null ||
	fail "run web1"
acre slice run -d --name web2 --label app=web --label tier=back -- sleep 600 >/dev/null || fail "run web2"
acre slice run -d --name db --label app=db --cpus 0.5 --pids 64 -- sleep 600 >/dev/null || fail "run db"
acre slice run -d --name done -- true >/dev/null || fail "run done"
wait_state web1 running
wait_state done exited

log "the keys of slice list -j and slice show -j"
list=$(acre -j slice list) || fail "slice list -j"
assert_eq "$(jq -c '[.[] | keys] | unique' <<<"$list")" "[$LIST_KEYS]" "keys of every slice in slice list -j"
assert_eq "$(jq -c '[.[] | .resources | keys] | unique' <<<"$list")" '[["cpus","memory","pids"]]' \
	"keys of resources in slice list -j"
assert_eq "$(jq -r '.[] | select(.name == "web1") | "\(.node) \(.resources.memory) \(.resources.cpus) \(.labels.tier)"' <<<"$list")" \
	"null 67108864 null front" "node, memory, cpus and labels of web1"
assert_eq "$(jq -r '.[] | select(.name == "db") | "\(.resources.cpus) \(.resources.pids)"' <<<"$list")" \
	"0.5 64" "cpus and pids of db"
assert_eq "$(jq -r '.[] | select(.name == "done") | "\(.pid) \(.state) \(.finished_at > 0)"' <<<"$list")" \
	"null exited true" "an ended slice has no pid and a finish time"
show=$(acre -j slice show web1) || fail "slice show -j"
assert_eq "$(jq -c 'keys' <<<"$show")" "$SHOW_KEYS" "keys of slice show -j"
assert_eq "$(jq -r '"\(.restart) \(.cgroup.name != null) \(.pid > 0) \(.placement)"' <<<"$show")" \
	"never true true null" "restart, cgroup, pid and placement of web1"
assert_eq "$(acre -j slice run -d --name web3 --label app=web -- sleep 600 | jq -c 'keys')" \
	"$LIST_KEYS" "keys of slice run -d -j"

log "--label and --state filter slice list"
names() { jq -r '[.[].name] | sort | join(" ")'; }
assert_eq "$(acre -j slice list --label app=web | names)" "web1 web2 web3" "--label app=web"
assert_eq "$(acre -j slice list --label app=web --label tier=back | names)" "web2" \
	"--label app=web --label tier=back"
assert_eq "$(acre -j slice list --label app=nothing)" "[]" "--label matching nothing"
assert_eq "$(acre -j slice list --state exited | names)" "done" "--state exited"
assert_eq "$(acre slice list --label tier=front | awk 'NR > 1 { print $1 }')" "web1" \
	"the table with --label tier=front"

log "errors as JSON under -j, exit status 1"
# expect_error WHAT CODE ARGS...: under -j, {"error": {code, message}} on stdout and status 1;
# without -j, one line on stderr and nothing on stdout.
expect_error() {
	local what=$1 code=$2 rc=0 out err
	shift 2
	out=$(acre -j "$@" 2>"$TEST_DIR/stderr") || rc=$?
	assert_eq "$rc" 1 "exit status of $what under -j"
	assert_eq "$(jq -r '.error.code' <<<"$out")" "$code" "error code of $what: $out"
	[ -n "$(jq -r '.error.message' <<<"$out")" ] || fail "no message in the error of $what: $out"
	[ -s "$TEST_DIR/stderr" ] && fail "$what under -j wrote to stderr: $(cat "$TEST_DIR/stderr")"
	rc=0
	out=$(acre "$@" 2>"$TEST_DIR/stderr") || rc=$?
	assert_eq "$rc" 1 "exit status of $what"
	assert_eq "$out" "" "stdout of $what without -j"
	assert_eq "$(wc -l <"$TEST_DIR/stderr")" 1 "lines on stderr of $what without -j"
	assert_contains "$(cat "$TEST_DIR/stderr")" "acre: " "stderr of $what"
}
expect_error "show of a missing slice" not_found slice show nosuchslice
expect_error "kill of a missing slice" not_found slice kill nosuchslice
expect_error "an unknown command" invalid slice frobnicate
expect_error "an unknown object" invalid frobnicate list
expect_error "a bad --label" invalid slice list --label novalue
expect_error "a bad --state" invalid slice list --state sleeping
expect_error "--node on a node" invalid slice list --node n1
expect_error "a bad --memory" invalid slice run -d --memory 12Q -- true
out=$(acre -j slice run -d --memory 12Q -- true) || true
assert_eq "$(jq -r .error.field <<<"$out")" "--memory" "the field of a bad --memory"
expect_error "node list without a controller" invalid node list
expect_error "a bad --timeout" invalid --timeout forever slice list
rc=0
out=$(acre -j --frobnicate slice list 2>"$TEST_DIR/stderr") || rc=$?
assert_eq "$rc $(jq -r .error.code <<<"$out")" "1 invalid" "an unknown global option under -j"
assert_eq "$(cat "$TEST_DIR/stderr")" "" "stderr of an unknown global option under -j"
out=$(acre -j --socket "$TEST_DIR/nothing.sock" slice list) && fail "a missing socket answered"
assert_contains "$(jq -r .error.message <<<"$out")" "is acre-supervisor running?" "a missing socket"

log "rm -j: one line per name, the result or the error"
out=$(acre -j slice rm --force web3 nosuchslice) && fail "rm of a missing slice succeeded"
assert_eq "$(jq -c '[.name, .removed, .removing, .node, .error.code]' <<<"$out" | tr '\n' ' ')" \
	'["web3",true,false,null,null] [null,null,null,null,"not_found"] ' \
	"rm -j of web3 and a missing slice"
out=$(acre -j slice kill web2 --signal KILL) || fail "kill -j"
assert_eq "$(jq -c . <<<"$out")" '{"name":"web2","node":null,"signal":"KILL"}' "kill -j"
