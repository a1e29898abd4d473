#!/usr/bin/env bash
# A package's artifacts reach the apps an install makes (apps_lib.sh: a controller and
# three supervisors in network namespaces).  The test makes a tarball holding a small
# script and a notes file, serves them over HTTP with python3 -m http.server on the test
# bridge's address (the nodes live in namespaces of their own: the host's loopback is not
# theirs), and writes a package into a repository directory of its own (`acre pkg repo
# add`): the tarball by URI with its sha256 (mounted at /opt, the default), the notes by
# sha256_from (a SHA256SUMS the test writes, mounted at /srv), and /bin/sh as a host binary.
# An install of 3 instances, one per node, runs the script from the tarball on every node;
# each node downloads each file once (the server's log, by client address), and an install
# again after an uninstall downloads nothing.  A package whose sha256 is wrong fails its
# install with launch_failed naming the checksum; one whose binary no node has says which
# binary and which Debian package, and starts nothing.  Everything is removed at the end:
# installs, the repository, the nodes' caches (--prune), the server.
. "$(dirname "$0")/apps_lib.sh"

require python3 tar sha256sum
apps_pool

log "the artifacts, served over HTTP on the test bridge"
www=$TEST_DIR/www
mkdir -p "$www" "$TEST_DIR/src/bin"
printf '#!/bin/sh\necho "hello from the artifact on $(cat /srv/notes.txt)"\nexec sleep 600\n' \
	>"$TEST_DIR/src/bin/hello"
chmod 755 "$TEST_DIR/src/bin/hello"
tar -C "$TEST_DIR/src" -czf "$www/tool.tgz" bin
echo "notes $$" >"$www/notes.txt"
echo "other" >"$www/other.txt"
(cd "$www" && sha256sum other.txt notes.txt >SHA256SUMS) || fail "writing SHA256SUMS"
sum=$(sha256sum "$www/tool.tgz" | cut -d' ' -f1)
nsum=$(sha256sum "$www/notes.txt" | cut -d' ' -f1)
spawn_bg python3 -u -m http.server 0 --bind "$CTL_ADDR" --directory "$www" \
	>"$TEST_DIR/http.out" 2>"$TEST_DIR/http.log"
wait_for "grep -q ' port ' '$TEST_DIR/http.out'" || fail "the HTTP server did not start"
port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$TEST_DIR/http.out" | head -1)
base=http://$CTL_ADDR:$port
# gets FILE: how many GETs of it each node made, "N N N" in node order.
gets() {
	local i out=
	for i in 1 2 3; do
		out="$out $(grep -c "^$SUBNET.1$i .*\"GET /$1 " "$TEST_DIR/http.log")"
	done
	echo "${out# }"
}

# package NAME ARTIFACTS-JSON: NAME 1.0.0 in the test's repository, 3 instances one per node.
repo=$TEST_DIR/repo
package() {
	local dir=$repo/$1/1.0.0
	mkdir -p "$dir/templates"
	jq -n --arg name "$1" --argjson arts "$2" '{name: $name, version: "1.0.0",
		description: "artifacts of the test", artifacts: $arts}' >"$dir/package.json"
	jq -n '{app: {name: "{{install.name}}", instances: 3,
		slice: {command: ["/opt/bin/hello"], resources: {cpus: 0.1, memory: "32M"}},
		placement: {unique: "node"}}}' >"$dir/templates/app.json"
}
package arttest "$(jq -n --arg base "$base" --arg sum "$sum" '[
	{binary: "/bin/sh", deb: "dash"},
	{uri: "\($base)/tool.tgz", sha256: $sum},
	{uri: "\($base)/notes.txt", sha256_from: "\($base)/SHA256SUMS", path: "/srv"}]')"
bad=0000000000000000000000000000000000000000000000000000000000000000
package artbad "$(jq -n --arg base "$base" --arg sum "$bad" '[{uri: "\($base)/tool.tgz", sha256: $sum}]')"
package artbin '[{"binary": "/usr/bin/acre-test-no-such-binary", "deb": "acre-test-none"}]'
pool_run "$TEST_DIR/repo-add" pkg repo add testrepo "$repo"
assert_eq "$RC" 0 "pkg repo add: $(cat "$TEST_DIR/repo-add.err")"

log "the plan: the binary, and each app's artifacts"
plan=$(pool -j pkg install arttest --name art --dry-run) || [ $? = 2 ] || fail "dry run: $plan"
assert_eq "$(jq -r '.plan.binaries[] | "\(.binary) \(.deb)"' <<<"$plan")" "/bin/sh dash" \
	"the plan's binaries"
assert_eq "$(jq -r '.plan.apps[0].artifacts | map("\(.uri) \(.path)") | join(",")' <<<"$plan")" \
	"$base/tool.tgz /opt,$base/notes.txt /srv" "the app's artifacts in the plan"
assert_eq "$(jq -r '.plan.spec.art.placement.constraints | join(",")' <<<"$plan")" \
	"bin:/bin/sh==true" "the binary as the app's constraint"

log "install: 3 instances, one per node, each node downloading each file once"
pool_run "$TEST_DIR/install" pkg install arttest --name art
assert_eq "$RC" 0 "pkg install: $(cat "$TEST_DIR/install" "$TEST_DIR/install.err")"
assert_eq "$(app_state art)" "running 3/3 v1" "the install's app"
assert_eq "$(api GET '/v1/slices?label=acre.install=art' | jq -r '[.slices[].node] | unique | length')" \
	3 "one instance per node"
for i in 0 1 2; do
	wait_for "pool slice logs art-$i 2>/dev/null | grep -q 'hello from the artifact on notes $$'" 10 ||
		fail "art-$i's output: $(pool slice logs art-$i 2>&1)"
done
assert_eq "$(gets tool.tgz)" "1 1 1" "GETs of tool.tgz by each node"
assert_eq "$(gets notes.txt)" "1 1 1" "GETs of notes.txt by each node"
assert_eq "$(gets SHA256SUMS)" "1 1 1" "GETs of SHA256SUMS by each node"
for i in 1 2 3; do
	assert_eq "$(node_acre "$i" -j node artifacts | jq -r '[.[].sha256] | sort | join(" ")')" \
		"$(printf '%s\n' "$sum" "$nsum" | sort | tr '\n' ' ' | sed 's/ $//')" \
		"node $i's cache"
done

log "uninstalled and installed again: the nodes' caches serve it, no download"
pool_run "$TEST_DIR/un" pkg uninstall art
assert_eq "$RC" 0 "pkg uninstall: $(cat "$TEST_DIR/un.err")"
pool_run "$TEST_DIR/again" pkg install arttest --name art
assert_eq "$RC" 0 "pkg install again: $(cat "$TEST_DIR/again" "$TEST_DIR/again.err")"
assert_eq "$(app_state art)" "running 3/3 v1" "the install again"
assert_eq "$(gets tool.tgz) $(gets notes.txt) $(gets SHA256SUMS)" "1 1 1 1 1 1 1 1 1" \
	"GETs after the second install"

log "a wrong sha256: the install fails with launch_failed naming the checksum"
pool_run "$TEST_DIR/bad" pkg install artbad --name bad
assert_eq "$RC" 1 "pkg install of a package with a wrong sha256: $(cat "$TEST_DIR/bad")"
assert_contains "$(cat "$TEST_DIR/bad.err")" "launch_failed: artifact $base/tool.tgz: sha256 mismatch (expected $bad, got $sum)" \
	"why it failed"
assert_eq "$(api GET /v1/installs/bad | jq -r .state)" failed "the install's state"
assert_eq "$(api GET '/v1/slices?label=acre.install=bad' | jq '.slices | length')" 0 \
	"what the failed install made is gone"

log "a binary no node has: the install says which, and starts nothing"
pool_run "$TEST_DIR/nobin" pkg install artbin --name nobin --detach
assert_eq "$RC" 0 "pkg install --detach: $(cat "$TEST_DIR/nobin.err")"
waiting() { api GET /v1/installs/nobin | jq -r '.operation.waiting_for // ""'; }
wait_for '[ -n "$(waiting | grep acre-test-none)" ]' 20 ||
	fail "no word of the missing binary: $(api GET /v1/installs/nobin)"
assert_eq "$(waiting)" "a node with /usr/bin/acre-test-no-such-binary (Debian package acre-test-none; no node of the pool has it: apt-get install acre-test-none)" \
	"what the install waits for"
assert_eq "$(api GET '/v1/slices?label=acre.install=nobin' | jq -r '[.slices[] | select(.state != "pending")] | length')" \
	0 "no instance of it started"
plan=$(pool -j pkg install artbin --name nobin2 --dry-run) || [ $? = 2 ] || fail "dry run: $plan"
assert_eq "$(jq -r '.plan.binaries[] | "\(.binary) \(.deb) \(.nodes)/\(.of)"' <<<"$plan")" \
	"/usr/bin/acre-test-no-such-binary acre-test-none 0/3" "the plan says no node has it"
wait_for '[ "$(api GET "/v1/why/slice/nobin-0" | jq -r ".reasons[0].reason")" = "constraint bin:/usr/bin/acre-test-no-such-binary==true" ]' 10 ||
	soft "why for nobin-0: $(api GET /v1/why/slice/nobin-0 | jq -c .reasons)"

log "everything removed"
for name in art nobin; do
	pool_run "$TEST_DIR/rm-$name" pkg uninstall "$name"
	assert_eq "$RC" 0 "pkg uninstall $name: $(cat "$TEST_DIR/rm-$name.err")"
done
pool_run "$TEST_DIR/rm-bad" pkg uninstall bad
pool_run "$TEST_DIR/repo-rm" pkg repo rm testrepo
assert_eq "$RC" 0 "pkg repo rm: $(cat "$TEST_DIR/repo-rm.err")"
assert_eq "$(api GET /v1/installs | jq '.installs | length')" 0 "no install left"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app left"
for i in 1 2 3; do
	node_acre "$i" node artifacts --prune >/dev/null || fail "pruning node $i's cache"
	assert_eq "$(ls -A "$TEST_DIR/n$i/state/artifacts")" "" "node $i's cache after pruning"
done
log "test_pkg_artifacts: $(($(now_ms) - T0)) ms"
