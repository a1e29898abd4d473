#!/bin/bash
# Artifacts of a slice (--artifact URI,sha256=HEX,path=PATH): a tar archive
# served over HTTP on loopback is fetched into the node's cache, verified,
# unpacked and mounted read-only at its path; a second slice with the same
# checksum uses the cache (the server sees one download); over HTTPS, a
# server the node's CAs vouch for serves it and one they do not is refused;
# a wrong checksum
# fails the launch with the expected and actual sums and leaves nothing in
# the cache; an artifact named by its project's checksum file (SHA256SUMS,
# a BSD-style .sha512) is verified by the sum it gives, downloaded once
# with its list, and fails when the list contradicts it, lacks it or is
# missing; a file:// artifact not extracted appears under its own name;
# `acre node artifacts` lists the cache and --prune removes what no slice
# names.
. "$(dirname "$0")/lib.sh"
require python3 jq tar sha256sum openssl
# A CA of the run's own, which the supervisor trusts (OpenSSL reads SSL_CERT_FILE), a
# certificate for 127.0.0.1 that it signed, and a self-signed one nobody trusts.
pki=$TEST_DIR/pki
mkdir -p "$pki"
(
	cd "$pki" &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=acre-test-ca \
			-keyout ca.key -out ca.pem &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr &&
		printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
			-extfile srv.ext -out srv.pem &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 -keyout self.key -out self.pem
) >"$TEST_DIR/pki.log" 2>&1 || fail "making the test's certificates: $(cat "$TEST_DIR/pki.log")"
SSL_CERT_FILE=$pki/ca.pem
export SSL_CERT_FILE
start_supervisor --prelaunch 2
unset SSL_CERT_FILE
cache=$STATE_DIR/artifacts

# ---- an archive, and a server on loopback ------------------------------------------------
www=$TEST_DIR/www
mkdir -p "$www" "$TEST_DIR/src/bin"
echo "data of the artifact" >"$TEST_DIR/src/data.txt"
printf '#!/bin/sh\necho hello from the artifact\n' >"$TEST_DIR/src/bin/hello"
chmod 755 "$TEST_DIR/src/bin/hello"
tar -C "$TEST_DIR/src" -czf "$www/app.tgz" data.txt bin
sum=$(sha256sum "$www/app.tgz" | cut -d' ' -f1)
spawn_bg python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$www" \
	>"$TEST_DIR/http.out" 2>"$TEST_DIR/http.log"
wait_for "grep -q ' port ' '$TEST_DIR/http.out'" || fail "the HTTP server did not start"
port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$TEST_DIR/http.out" | head -1)
[ -n "$port" ] || fail "no port in: $(cat "$TEST_DIR/http.out")"
url=http://127.0.0.1:$port/app.tgz
downloads() { grep -c '"GET /app.tgz ' "$TEST_DIR/http.log" || true; }

# ---- fetched, verified, unpacked, read-only ------------------------------------------------
out=$(in_slice --rw --artifact "$url,sha256=$sum,path=/opt/app" -- \
	'cat /opt/app/data.txt; /opt/app/bin/hello; touch /opt/app/new 2>&1; grep " /opt/app " /proc/mounts')
assert_contains "$out" "data of the artifact" "the archive's file in the slice"
assert_contains "$out" "hello from the artifact" "the archive's program runs in the slice"
assert_contains "$out" "Read-only file system" "the artifact is read-only in the slice"
assert_contains "$out" " ro," "the artifact's mount is read-only"
assert_eq "$(downloads)" 1 "downloads of app.tgz after one slice"
assert_eq "$(in_slice --user nobody --artifact "$url,sha256=$sum,path=/mnt" -- 'cat /mnt/data.txt')" \
	"data of the artifact" "the unpacked tree, read by a slice's unprivileged user"
[ -f "$cache/$sum/tree/data.txt" ] || fail "no unpacked tree in $cache/$sum"
log "an artifact over HTTP: fetched, verified, unpacked and mounted read-only"

# ---- a second slice: the cache, no second download -------------------------------------------
acre slice run -d --name holder --rw --artifact "$url,sha256=$sum,path=/srv/app" -- \
	sleep 600 >/dev/null || fail "a second slice with the same artifact"
wait_state holder running
assert_eq "$(downloads)" 1 "downloads of app.tgz after two slices"
assert_contains "$(acre slice show holder)" \
	"artifacts:  $url on /srv/app (read-only, unpacked, sha256 ${sum:0:12})" "slice show"
list=$(acre -j node artifacts) || fail "acre node artifacts: $list"
assert_eq "$(jq -r --arg s "$sum" '.[] | select(.sha256 == $s) | "\(.uri) \(.slices | join(","))"' \
	<<<"$list")" "$url holder" "the cache's entry, its URI and the slice that names it"
assert_eq "$(jq -r --arg s "$sum" '.[] | select(.sha256 == $s) | .size' <<<"$list")" \
	"$(stat -c %s "$www/app.tgz")" "the entry's size"
pruned=$(acre -j node artifacts --prune) || fail "acre node artifacts --prune: $pruned"
assert_eq "$(jq -r '.removed | length' <<<"$pruned")" 0 "pruned while a slice names it"
[ -d "$cache/$sum" ] || fail "an artifact a slice names was pruned"
log "a second slice with the same checksum: no second download"

# ---- over HTTPS: verified against the node's CAs ------------------------------------------------
# serve_https CERT KEY LOG: an HTTPS server of www on 127.0.0.1; prints its port.
serve_https() {
	spawn_bg python3 -u -c '
import http.server, ssl, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
s = http.server.HTTPServer(("127.0.0.1", 0), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = c.wrap_socket(s.socket, server_side=True)
print("port", s.server_address[1], flush=True)
s.serve_forever()' "$1" "$2" "$www" >"$3.out" 2>"$3"
	wait_for "grep -q '^port ' '$3.out'" || fail "the HTTPS server did not start: $(cat "$3")"
	sed -n 's/^port //p' "$3.out"
}
tport=$(serve_https "$pki/srv.pem" "$pki/srv.key" "$TEST_DIR/https.log")
echo "over TLS $$" >"$www/tls.txt"
tlsum=$(sha256sum "$www/tls.txt" | cut -d' ' -f1)
out=$(in_slice --artifact "https://127.0.0.1:$tport/tls.txt,sha256=$tlsum,path=/mnt" -- 'cat /mnt/tls.txt')
assert_eq "$out" "over TLS $$" "a file over HTTPS"
assert_eq "$(grep -c '"GET /tls.txt ' "$TEST_DIR/https.log")" 1 "downloads over HTTPS"
out=$(in_slice --rw --artifact "https://127.0.0.1:$tport/app.tgz,sha256=$sum,path=/opt/app,extract=false" \
	-- 'tar -tzf /opt/app/app.tgz')
assert_contains "$out" "bin/hello" "an archive over HTTPS, not extracted: the file itself"
assert_eq "$(grep -c '"GET /app.tgz ' "$TEST_DIR/https.log")" 0 \
	"downloads over HTTPS of a checksum in the cache"
sport=$(serve_https "$pki/self.pem" "$pki/self.key" "$TEST_DIR/self.log")
other=$(printf 'other' | sha256sum | cut -d' ' -f1)
out=$(acre slice run --rm --artifact "https://127.0.0.1:$sport/app.tgz,sha256=$other,path=/opt/app" \
	-- true 2>&1) && fail "a server no CA vouches for was trusted: $out"
assert_contains "$out" "artifact https://127.0.0.1:$sport/app.tgz: TLS: "
assert_contains "$out" "certificate verify failed"
log "HTTPS: the node's CAs checked"

# ---- a wrong checksum ------------------------------------------------------------------------
bad=0000000000000000000000000000000000000000000000000000000000000000
out=$(acre slice run -d --name bad --artifact "$url,sha256=$bad,path=/opt/app" -- true 2>&1) &&
	fail "a launch with a wrong checksum succeeded: $out"
assert_contains "$out" "artifact $url: sha256 mismatch (expected $bad, got $sum)"
assert_eq "$(slice_field bad .state)" failed "the slice with a wrong checksum"
assert_contains "$(slice_field bad .reason)" "launch_failed: artifact $url: sha256 mismatch"
[ ! -e "$cache/$bad" ] || fail "a wrong checksum left $cache/$bad"
assert_eq "$(find "$cache" -maxdepth 1 -name '.tmp-*' | wc -l)" 0 "half-written entries"
acre slice rm bad >/dev/null || fail "acre slice rm bad"
log "a wrong checksum fails the launch and leaves nothing in the cache"

# ---- named by the project's checksum file (sha256_from, sha512_from) ---------------------------
mkdir -p "$TEST_DIR/rel"
echo "released $$" >"$TEST_DIR/rel/notes.txt"
tar -C "$TEST_DIR/rel" -czf "$www/rel.tgz" notes.txt
rsum=$(sha256sum "$www/rel.tgz" | cut -d' ' -f1)
(cd "$www" && sha256sum app.tgz rel.tgz >SHA256SUMS &&
	printf 'SHA512 (rel.tgz) = %s\n' "$(sha512sum rel.tgz | cut -d' ' -f1)" >rel.tgz.sha512 &&
	printf '%s  rel.tgz\n' "$bad" >BADSUMS) || fail "writing the checksum files"
rel=http://127.0.0.1:$port/rel.tgz
rel_gets() { grep -c "\"GET /$1 " "$TEST_DIR/http.log" || true; }
out=$(in_slice --artifact "$rel,sha256_from=http://127.0.0.1:$port/SHA256SUMS,path=/mnt" -- \
	'cat /mnt/notes.txt')
assert_eq "$out" "released $$" "an archive verified by the sum SHA256SUMS gives"
[ -f "$cache/$rsum/tree/notes.txt" ] || fail "no entry $rsum for it in the cache"
assert_eq "$(for l in "$cache"/from-*; do readlink "$l"; done)" "$rsum" "the alias of its entry"
out=$(in_slice --artifact "$rel,sha256_from=http://127.0.0.1:$port/SHA256SUMS,path=/mnt" -- \
	'cat /mnt/notes.txt')
assert_eq "$out" "released $$" "the same artifact again"
assert_eq "$(rel_gets rel.tgz) $(rel_gets SHA256SUMS)" "1 1" \
	"downloads of rel.tgz and SHA256SUMS after two slices (the second from the cache)"
out=$(in_slice --artifact "$rel,sha512_from=$rel.sha512,path=/mnt" -- 'cat /mnt/notes.txt')
assert_eq "$out" "released $$" "an archive verified by the SHA-512 its .sha512 gives (BSD's line)"
assert_eq "$(rel_gets rel.tgz.sha512)" 1 "downloads of rel.tgz.sha512"
out=$(acre slice run --rm --artifact "$rel,sha256_from=http://127.0.0.1:$port/BADSUMS,path=/mnt" \
	-- true 2>&1) && fail "a download that its checksum file contradicts launched: $out"
assert_contains "$out" "artifact $rel: sha256 mismatch (the checksum file gives 0000000000000000..., got ${rsum:0:16}...)"
out=$(acre slice run --rm --artifact "http://127.0.0.1:$port/tls.txt,sha256_from=http://127.0.0.1:$port/SHA256SUMS,path=/mnt" \
	-- true 2>&1) && fail "a file its checksum file does not list launched: $out"
assert_contains "$out" "the checksum file lists no SHA-256 for tls.txt (http://127.0.0.1:$port/SHA256SUMS)"
out=$(acre slice run --rm --artifact "$rel,sha512_from=http://127.0.0.1:$port/none.sha512,path=/mnt" \
	-- true 2>&1) && fail "an artifact whose checksum file is missing launched: $out"
assert_contains "$out" "its checksum file http://127.0.0.1:$port/none.sha512: HTTP 404"
assert_eq "$(find "$cache" -maxdepth 1 -name '.tmp-*' | wc -l)" 0 "half-written entries"
log "artifacts verified by the project's checksum file, SHA-256 or SHA-512"

# ---- file://, not extracted ------------------------------------------------------------------
printf '#!/bin/sh\necho tool %s\n' "$$" >"$TEST_DIR/tool.sh"
tsum=$(sha256sum "$TEST_DIR/tool.sh" | cut -d' ' -f1)
out=$(in_slice --artifact "file://$TEST_DIR/tool.sh,sha256=$tsum,path=/mnt" -- '/mnt/tool.sh')
assert_eq "$out" "tool $$" "a file:// artifact runs under its own name"
# (by another sum: one in the cache is as good from any URI, the file is never read)
out=$(acre slice run --rm --artifact "file://$TEST_DIR/none,sha256=$bad,path=/mnt" -- true 2>&1) &&
	fail "a missing file:// artifact launched"
assert_contains "$out" "artifact file://$TEST_DIR/none: $TEST_DIR/none: No such file or directory"
# The same file asked to be unpacked: it is no archive, and tar says so.
out=$(acre slice run --rm --artifact "file://$TEST_DIR/tool.sh,sha256=$tsum,path=/mnt,extract=true" \
	-- true 2>&1) && fail "a file that is no archive was unpacked"
assert_contains "$out" "artifact file://$TEST_DIR/tool.sh: unpacking: tar: "
[ ! -e "$cache/$tsum/tree" ] || fail "a failed unpacking left $cache/$tsum/tree"
assert_eq "$(find "$cache/$tsum" -maxdepth 1 -name '.tree-*' | wc -l)" 0 "half-unpacked trees"
log "a file:// artifact"

# ---- a spec's mistakes are refused before anything is made -------------------------------------
out=$(acre slice run --rm --artifact "ftp://h/a.tgz,sha256=$sum,path=/opt/a" -- true 2>&1) &&
	fail "an ftp artifact was accepted"
assert_contains "$out" "--artifact ftp://h/a.tgz,sha256=$sum,path=/opt/a: uri: required"
out=$(acre slice run --rm --artifact "$url,path=/opt/a" -- true 2>&1) &&
	fail "an artifact without a checksum was accepted"
assert_contains "$out" "sha256: required"

# ---- pending while it is fetched: a kill ends it, a restart fetches again -------------------------
# A server that holds every GET while the gate file exists.
gate=$TEST_DIR/gate
touch "$gate"
spawn_bg python3 -u -c '
import http.server, os, sys, time, functools
class Gated(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        while os.path.exists(sys.argv[1]):
            time.sleep(0.05)
        super().do_GET()
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                    functools.partial(Gated, directory=sys.argv[2]))
print("port", s.server_address[1], flush=True)
s.serve_forever()' "$gate" "$www" >"$TEST_DIR/gated.out" 2>"$TEST_DIR/gated.log"
wait_for "grep -q '^port ' '$TEST_DIR/gated.out'" || fail "the gated server did not start"
gurl=http://127.0.0.1:$(sed -n 's/^port //p' "$TEST_DIR/gated.out")/slow.txt
echo "slow $$" >"$www/slow.txt"
ssum=$(sha256sum "$www/slow.txt" | cut -d' ' -f1)
spawn_bg acre slice run -d --name waiting --artifact "$gurl,sha256=$ssum,path=/mnt" -- sleep 600
wait_state waiting pending
assert_eq "$(slice_field waiting .reason)" "fetching artifact $gurl" "why a slice is pending"
acre slice kill waiting >/dev/null || fail "acre slice kill of a slice waiting for its artifacts"
wait_state waiting killed
assert_eq "$(slice_field waiting .reason)" "killed while fetching its artifacts"
acre slice rm waiting >/dev/null || fail "acre slice rm waiting"
spawn_bg acre slice run -d --name resumed --artifact "$gurl,sha256=$ssum,path=/mnt" -- sleep 600
wait_state resumed pending
restart_supervisor
assert_eq "$(slice_state resumed)" pending "a slice waiting for its artifacts, after a restart"
rm "$gate"
wait_state resumed running
assert_eq "$(acre slice run --rm --artifact "$gurl,sha256=$ssum,path=/mnt" -- cat /mnt/slow.txt)" \
	"slow $$" "the artifact fetched after the restart"
acre slice rm --force resumed >/dev/null || fail "acre slice rm resumed"
log "a slice waits for its artifacts pending: killed there, or fetched again after a restart"

# Two slices name one sum by two URIs: the second waits on the first's fetch, and when that
# fails (404) it is not failed with it but tries its own URI.
touch "$gate"
base=${gurl%/slow.txt}
echo "twice $$" >"$www/twice.txt"
wsum=$(sha256sum "$www/twice.txt" | cut -d' ' -f1)
spawn_bg acre slice run -d --name first --artifact "$base/missing.txt,sha256=$wsum,path=/mnt" -- true
wait_state first pending
spawn_bg acre slice run -d --name second --artifact "$base/twice.txt,sha256=$wsum,path=/mnt" -- sleep 600
wait_state second pending
assert_eq "$(grep -c 'event=fetch_started' <<<"$(grep "artifact=$wsum" "$SUP_LOG")")" 1 \
	"fetches of one sum under way, for two slices"
rm "$gate"
wait_state first failed
assert_eq "$(slice_field first .reason)" "launch_failed: artifact $base/missing.txt: HTTP 404"
wait_state second running
assert_eq "$(grep -c '"GET /twice.txt ' "$TEST_DIR/gated.log")" 1 "downloads by the second URI"
acre slice rm first >/dev/null && acre slice rm --force second >/dev/null || fail "removing them"

# ---- host binaries: which of a list the node has (the pool's bin:PATH attributes) ----------------
hello=$TEST_DIR/src/bin/hello # mode 755; tool.sh is 644
out=$(acre -j node binaries /bin/sh "$hello" "$TEST_DIR/tool.sh" "$TEST_DIR" /no/such) ||
	fail "acre node binaries: $out"
assert_eq "$(jq -r '.present | join(" ")' <<<"$out")" "/bin/sh $hello" "binaries present"
assert_eq "$(jq -r '.absent | join(" ")' <<<"$out")" "$TEST_DIR/tool.sh $TEST_DIR /no/such" \
	"binaries absent: not executable, a directory, none"
out=$(acre node binaries sh 2>&1) && fail "a relative binary path was accepted"
assert_contains "$out" "paths[0]: an absolute path"
log "host binaries"

# ---- pruned once no slice names it -------------------------------------------------------------
acre slice rm --force holder >/dev/null || fail "acre slice rm holder"
pruned=$(acre -j node artifacts --prune) || fail "acre node artifacts --prune: $pruned"
assert_eq "$(jq -r '.removed | sort | join(" ")' <<<"$pruned")" \
	"$(printf '%s\n' "$sum" "$tsum" "$tlsum" "$ssum" "$wsum" "$rsum" | sort | tr '\n' ' ' | sed 's/ $//')" "pruned entries"
assert_eq "$(ls -A "$cache")" "" "the cache after pruning"
log "test_artifacts: done"
