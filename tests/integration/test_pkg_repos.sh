#!/usr/bin/env bash
# Package repositories beyond the shipped directory, on a real pool (apps_lib.sh).  An HTTP
# server on loopback serves an index and an archive the test makes from a copy of the
# shipped redis package renamed kv (with a URI artifact of the test's own): the repository
# is added, kv is found by search (from the index, before its archive is fetched), shown,
# installed until running and uninstalled to nothing.  An archive whose checksum does not
# match is refused naming the package and both sums, and installs nothing; an index that
# does not parse is refused at add with the reason.  Then kv is bundled (its archive and
# artifact in one file; a tampered copy is refused), the HTTP server stops, the cache is
# emptied, and the bundle, added as a repository (kept across a restart of the controller),
# installs kv offline; the controller serves the bundled artifact by its SHA-256 at
# /v1/artifacts/SHA256.
. "$(dirname "$0")/apps_lib.sh"

require redis-server redis-cli python3 tar sha256sum
API_ON_BRIDGE=1 # the nodes fetch the bundle's artifact from the controller's API
apps_pool

log "a repository served over HTTP: an index, an archive of kv, an artifact"
www=$TEST_DIR/www
stage=$TEST_DIR/stage
mkdir -p "$www" "$stage/kv"
head -c 65536 /dev/urandom >"$www/blob.bin"
blob=$(sha256sum "$www/blob.bin" | cut -d' ' -f1)
spawn_bg python3 -u -m http.server 0 --bind "$CTL_ADDR" --directory "$www" \
	>"$TEST_DIR/http.out" 2>"$TEST_DIR/http.log"
http_pid=$!
wait_for "grep -q ' port ' '$TEST_DIR/http.out'" || fail "the HTTP server did not start"
port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$TEST_DIR/http.out" | head -1)
[ -n "$port" ] || fail "no port in: $(cat "$TEST_DIR/http.out")"
base=http://$CTL_ADDR:$port # where the nodes, in their namespaces, reach it
cp -r "$ACRE_ROOT/packages/redis/1.0.0" "$stage/kv/1.0.0"
jq --arg uri "$base/blob.bin" --arg sum "$blob" \
	'.name = "kv" | .description = "a key-value store (redis renamed)" |
	 .artifacts += [{"uri": $uri, "sha256": $sum}]' \
	"$ACRE_ROOT/packages/redis/1.0.0/package.json" >"$stage/kv/1.0.0/package.json"
tar -czf "$www/kv-1.0.0.tar.gz" -C "$stage" kv/1.0.0
sum=$(sha256sum "$www/kv-1.0.0.tar.gz" | cut -d' ' -f1)
zeros=$(printf '0%.0s' $(seq 64))
jq -n --arg sum "$sum" '{"packages": [{"name": "kv", "description": "a key-value store",
	"versions": [{"version": "1.0.0", "archive": "kv-1.0.0.tar.gz", "sha256": $sum}]}]}' \
	>"$www/index.json"
jq -n --arg sum "$zeros" '{"packages": [{"name": "kvbad", "versions": [{"version": "1.0.0",
	"archive": "kv-1.0.0.tar.gz", "sha256": $sum}]}]}' >"$www/bad.json"
printf '{"packages": [{"name": "kv", "versions": [' >"$www/broken.json"
jq -n '{"packages": [{"name": "kv", "versions": [{"version": "1.0.0", "archive": "../x",
	"sha256": "abc"}]}]}' >"$www/wrong.json"

log "repo add, list, search and show across repositories"
pool_run "$TEST_DIR/add" pkg repo add web "$base/index.json"
assert_eq "$RC" 0 "pkg repo add web: $(cat "$TEST_DIR/add.err")"
assert_eq "$(pool -j pkg repo list | jq -r '.[] | select(.name == "web") | "\(.kind) \(.source)"')" \
	"http $base/index.json" "pkg repo list"
assert_eq "$(api GET /v1/packages?q=kv | jq -r '.packages[] | select(.name == "kv") |
	"\(.repo) \(.latest) \(.versions | join(","))"')" "web 1.0.0 1.0.0" "search finds kv in web"
assert_eq "$(grep -c '"GET /kv-1.0.0.tar.gz ' "$TEST_DIR/http.log" || true)" 0 \
	"search read the index only"
pool_run "$TEST_DIR/show" pkg show kv
assert_eq "$RC" 0 "pkg show kv: $(cat "$TEST_DIR/show.err")"
assert_contains "$(cat "$TEST_DIR/show")" "redis renamed" "show reads the fetched archive"
pool_run "$TEST_DIR/dup" pkg repo add web "$base/index.json"
assert_eq "$RC" 1 "a second repository named web"

log "install kv from the HTTP repository, followed until it runs; uninstall to nothing"
pool_run "$TEST_DIR/install" pkg install kv --set memory=128M --set maxmemory=64mb
assert_eq "$RC" 0 "pkg install kv: $(cat "$TEST_DIR/install" "$TEST_DIR/install.err")"
assert_contains "$(cat "$TEST_DIR/install")" "at revision 1, running" "the install's last line"
assert_eq "$(api GET /v1/installs/kv | jq -r '"\(.package) \(.version) \(.state)"')" \
	"kv 1.0.0 running" "the install"
assert_eq "$(app_state kv)" "running 1/1 v1" "the install's app"
pool_run "$TEST_DIR/un" pkg uninstall kv
assert_eq "$RC" 0 "pkg uninstall kv: $(cat "$TEST_DIR/un.err")"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app left"
assert_eq "$(api GET '/v1/slices?label=acre.install=kv' | jq '.slices | length')" 0 "no slice left"

log "an archive whose checksum does not match is refused; nothing installed"
pool_run "$TEST_DIR/addbad" pkg repo add bad "$base/bad.json"
assert_eq "$RC" 0 "pkg repo add bad: $(cat "$TEST_DIR/addbad.err")"
pool_run "$TEST_DIR/ibad" pkg install kvbad
assert_eq "$RC" 1 "install of kvbad"
err=$(cat "$TEST_DIR/ibad.err")
assert_contains "$err" "package kvbad 1.0.0: checksum mismatch" "the error names the package"
assert_contains "$err" "expected sha256 $zeros" "the error gives the expected sum"
assert_contains "$err" "got $sum" "the error gives the sum got"
api GET /v1/installs/kvbad >/dev/null
assert_eq "$(last_code)" 404 "no install of kvbad"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app after the refusal"

log "an index that does not parse is refused at add, with the reason"
pool_run "$TEST_DIR/addbroken" pkg repo add broken "$base/broken.json"
assert_eq "$RC" 1 "repo add of an index that is not JSON"
assert_contains "$(cat "$TEST_DIR/addbroken.err")" "the index does not parse" "the reason"
pool_run "$TEST_DIR/addwrong" pkg repo add wrong "$base/wrong.json"
assert_eq "$RC" 1 "repo add of an index with a bad entry"
assert_contains "$(cat "$TEST_DIR/addwrong.err")" "packages[0].versions[0].archive" \
	"the reason names the entry"
pool_run "$TEST_DIR/addnone" pkg repo add none "$base/none.json"
assert_eq "$RC" 1 "repo add of an index that is not there"
assert_contains "$(cat "$TEST_DIR/addnone.err")" "HTTP 404" "the reason"
assert_eq "$(pool -j pkg repo list | jq -r '[.[].name] | sort | join(",")')" "acre,bad,web" \
	"only the repositories that parsed"
jq --arg sum "$zeros" '.packages += [{"name": "kvnext", "description": "listed later",
	"versions": [{"version": "2.0.0", "archive": "kvnext-2.0.0.tar.gz", "sha256": $sum}]}]' \
	"$www/index.json" >"$www/index.json.new"
mv "$www/index.json.new" "$www/index.json"
assert_eq "$(api GET '/v1/packages?q=kvnext' | jq '.packages | length')" 0 \
	"the index as fetched at add"
pool_run "$TEST_DIR/refresh" pkg repo refresh web
assert_eq "$RC" 0 "pkg repo refresh web: $(cat "$TEST_DIR/refresh.err")"
assert_eq "$(api GET '/v1/packages?q=kvnext' | jq -r '.packages[] | "\(.name) \(.latest) \(.repo)"')" \
	"kvnext 2.0.0 web" "refresh re-read the index"

log "a bundle of kv, its archive and its artifact; a tampered copy is refused"
pool_run "$TEST_DIR/bundle" pkg bundle kv -o "$TEST_DIR/kv.bundle"
assert_eq "$RC" 0 "pkg bundle kv: $(cat "$TEST_DIR/bundle.err")"
assert_eq "$(tar -tf "$TEST_DIR/kv.bundle" | grep -v '/$' | sort | tr '\n' ' ')" \
	"archives/kv-1.0.0.tar.gz artifacts/$blob index.json " "the bundle's files"
mkdir -p "$TEST_DIR/tampered"
tar -xf "$TEST_DIR/kv.bundle" -C "$TEST_DIR/tampered"
echo tampered >>"$TEST_DIR/tampered/artifacts/$blob"
tar -cf "$TEST_DIR/tampered.bundle" -C "$TEST_DIR/tampered" index.json archives artifacts
pool_run "$TEST_DIR/addtampered" pkg repo add tampered "$TEST_DIR/tampered.bundle"
assert_eq "$RC" 1 "a tampered bundle"
assert_contains "$(cat "$TEST_DIR/addtampered.err")" "artifact $blob: checksum mismatch" \
	"the reason names the artifact"

log "offline: the HTTP server stopped, the cache emptied, kv installed from the bundle"
kill "$http_pid"
wait "$http_pid" 2>/dev/null || true
wait_for "! curl -s -o /dev/null $base/index.json" 5 || fail "the HTTP server still answers"
pool_run "$TEST_DIR/rmweb" pkg repo remove web
assert_eq "$RC" 0 "pkg repo remove web: $(cat "$TEST_DIR/rmweb.err")"
pool_run "$TEST_DIR/rmbad" pkg repo remove bad
assert_eq "$RC" 0 "pkg repo remove bad: $(cat "$TEST_DIR/rmbad.err")"
rm -rf "$TEST_DIR/controller/repos/archives"
for i in 1 2 3; do
	node_acre "$i" node artifacts --prune >/dev/null || fail "pruning node $i's cache"
	[ -z "$(ls -A "$TEST_DIR/n$i/state/artifacts" 2>/dev/null)" ] || fail "node $i's cache is not empty"
done
pool_run "$TEST_DIR/addoff" pkg repo add offline "$TEST_DIR/kv.bundle"
assert_eq "$RC" 0 "pkg repo add offline BUNDLE: $(cat "$TEST_DIR/addoff.err")"
assert_eq "$(pool -j pkg repo list | jq -r '.[] | select(.name == "offline") | .kind')" bundle \
	"the bundle's repository"
log "the repositories outlive a restart of the controller"
kill_controller
start_controller
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 3 ]' 15 ||
	fail "the nodes are not back: $(api GET /v1/nodes)"
assert_eq "$(pool -j pkg repo list | jq -r '[.[] | "\(.name):\(.kind)"] | join(",")')" \
	"acre:dir,offline:bundle" "the repositories after the restart"
pool_run "$TEST_DIR/install2" pkg install kv --set memory=128M --set maxmemory=64mb
assert_eq "$RC" 0 "pkg install kv offline: $(cat "$TEST_DIR/install2" "$TEST_DIR/install2.err")"
assert_eq "$(app_state kv)" "running 1/1 v1" "the install's app, offline"
assert_eq "$(api GET /v1/apps/kv | jq -r '.spec.slice.artifacts[0].uri')" \
	"$CONTROLLER/v1/artifacts/$blob" "the artifact, fetched from the controller's copy"
assert_contains "$(cat "$TEST_DIR/controller.log")" "event=artifact_served sha256=$blob" \
	"a node fetched the bundled artifact from the controller"
got=$(curl -sf "$CONTROLLER/v1/artifacts/$blob" | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$blob" "the bundled artifact, served by its sum without a token"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$CONTROLLER/v1/artifacts/$zeros")" 404 \
	"an artifact no bundle has"
pool_run "$TEST_DIR/un2" pkg uninstall kv
assert_eq "$RC" 0 "pkg uninstall kv: $(cat "$TEST_DIR/un2.err")"
pool_run "$TEST_DIR/rmoff" pkg repo remove offline
assert_eq "$RC" 0 "pkg repo remove offline: $(cat "$TEST_DIR/rmoff.err")"
[ ! -e "$TEST_DIR/controller/repos/offline" ] || fail "the bundle's files outlive its repository"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app left"
log "test_pkg_repos: $(($(now_ms) - T0)) ms"
