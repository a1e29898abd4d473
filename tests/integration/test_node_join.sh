#!/usr/bin/env bash
# Joining a pool as `kubeadm join` does.  A controller with the pool's CA
# and its key (--tls-ca, --tls-ca-key; mutual TLS) prints, through
# `acre node join-command`, the command a new host runs: the node port, the
# join token and the SHA-256 of the CA's public key (the same hash openssl
# computes).  `acre-supervisor join` with a wrong token, a hash of another
# CA or a malformed request gets a clear error and writes nothing; the
# controller refuses a certificate request that is not one, an id that is
# another node's, and keeps serving.  A supervisor without a certificate is
# refused registration; a joined one holds a certificate signed by the CA
# (CN = its id, clientAuth, key 0600), registers with it and runs a slice
# placed by the pool.  A supervisor of the next minor version and protocol
# (built with ACRE_PROTOCOL_MAX + 1: make build/test/acre-supervisor-next) joins
# the same way, the controller negotiates the version both speak, and it
# runs a slice too; then a controller of the next version
# (build/test/acre-controller-next) takes the pool's store over, today's
# supervisor registers with today's version and the next one with the
# next, and both keep their slices and take new ones.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
NEXT=$ACRE_BIN/../test/acre-supervisor-next
CTL_NEXT=$ACRE_BIN/../test/acre-controller-next
for b in "$NEXT" "$CTL_NEXT"; do
	[ -x "$b" ] || fail "$b is missing: make ${b#"$ACRE_BIN/../"}"
done

log "network, certificates, a controller that signs joining nodes"
net_setup 2
make_certs
CTL_ARGS=(--tls-ca-key "$TLS/ca.key")
start_controller

# A raw connection to the node port with no client certificate (a host joining): prints
# each reply line.
bare_say() {
	python3 - "$CTL_ADDR" "$NODE_PORT" "$TLS/ca.crt" "$@" <<'EOF'
import socket, ssl, sys
host, port, ca, lines = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname=host)
f = s.makefile("rb")
for line in lines:
    s.sendall(line.encode() + b"\n")
    reply = f.readline()
    print(reply.decode().strip() if reply else "<closed>")
EOF
}

log "acre node join-command"
want_hash=sha256:$(openssl x509 -in "$TLS/ca.crt" -pubkey -noout |
	openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
cmd=$(pool node join-command) || fail "acre node join-command failed"
assert_eq "$cmd" "acre-supervisor join --controller $CTL_ADDR:$NODE_PORT --token $(cat "$TEST_DIR/join-token") --ca-hash $want_hash" \
	"the join command (the CA's hash as openssl computes it)"
assert_eq "$(pool -j node join-command --address node-port.example:7470 | jq -r .controller)" \
	"node-port.example:7470" "--address"
out=$(pool node join-command --address 'x;rm' 2>&1) && fail "a bad --address was accepted"
assert_contains "$out" "address"
out=$("$ACRE_BIN/acre" --controller "$CONTROLLER" --token nottheapitoken node join-command 2>&1) &&
	fail "join-command without the API token was answered"
assert_contains "$out" "API token"
read -r -a JOIN <<<"${cmd#acre-supervisor join }"

log "a wrong token, a hash of another CA, a bad hash: errors, nothing written"
state1=$TEST_DIR/n1/state
bad=("${JOIN[@]}")
bad[3]=wrong-token-0000000000000
out=$("$ACRE_BIN/acre-supervisor" join "${bad[@]}" --state-dir "$state1" 2>&1) &&
	fail "a join with a wrong token succeeded"
assert_contains "$out" "wrong join token"
[ -e "$state1" ] && fail "a refused join wrote $state1: $(ls -R "$state1")"
bad=("${JOIN[@]}")
bad[5]=sha256:$(printf '%064d' 0)
out=$("$ACRE_BIN/acre-supervisor" join "${bad[@]}" --state-dir "$state1" 2>&1) &&
	fail "a join with another CA's hash succeeded"
assert_contains "$out" "not --ca-hash $(printf 'sha256:%064d' 0)"
assert_contains "$out" "$want_hash" "the error names the CA's real hash"
[ -e "$state1" ] && fail "a join with a wrong hash wrote $state1"
out=$("$ACRE_BIN/acre-supervisor" join --controller "$CTL_ADDR:$NODE_PORT" --token x \
	--ca-hash md5:1234 --state-dir "$state1" 2>&1)
assert_eq "$?" 2 "a malformed --ca-hash is a usage error"
assert_contains "$out" "--ca-hash md5:1234"

log "bad join requests on the node port: refused, the controller serves on"
token=$(cat "$TEST_DIR/join-token")
secret=0123456789abcdef0123456789abcdef
out=$(bare_say "{\"op\":\"join\",\"id\":1,\"token\":\"$token\",\"node\":{\"id\":\"probe-1\",\"secret\":\"$secret\"},\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\ngarbage\\n-----END CERTIFICATE REQUEST-----\\n\"}")
assert_contains "$out" "csr: not a PEM certificate request"
out=$(bare_say "{\"op\":\"join\",\"id\":1,\"token\":\"$token\",\"node\":{\"id\":\"probe-1\"},\"csr\":\"x\"}")
assert_contains "$out" "join: {"
out=$(bare_say '{"op":"ca","id":1}')
assert_eq "$(jq -r .result.ca <<<"$out")" "$(cat "$TLS/ca.crt")" "op ca answers the pool's CA"
out=$(bare_say "{\"op\":\"register\",\"id\":1,\"token\":\"$token\",\"node\":{\"id\":\"probe-2\",\"secret\":\"$secret\",\"capacity\":{\"cpus\":1,\"memory\":1000000}}}")
assert_contains "$out" "client certificate signed by its CA"
curl -sf "$CONTROLLER/healthz" >/dev/null || fail "the controller stopped answering"

log "a supervisor without a certificate is refused"
NODE_JOIN[2]="--controller $CTL_ADDR:$NODE_PORT --join-token-file $TEST_DIR/join-token --tls-ca $TLS/ca.crt"
start_node 2
wait_for "grep -q 'client certificate signed by its CA' '$TEST_DIR/n2/supervisor.log'" 10 ||
	fail "no refusal in the supervisor's log: $(tail -5 "$TEST_DIR/n2/supervisor.log")"
assert_eq "$(api GET /v1/nodes | jq '.nodes | length')" 0 "nodes registered without a certificate"
stop_node 2

log "acre-supervisor join: a certificate signed by the pool's CA"
out=$("$ACRE_BIN/acre-supervisor" join "${JOIN[@]}" --state-dir "$state1" 2>&1) ||
	fail "the join failed: $out"
N1=$(node_id 1)
assert_contains "$out" "as node $N1"
assert_eq "$(stat -c %a "$state1/pki/node.key")" 600 "the key's mode"
openssl verify -CAfile "$TLS/ca.crt" "$state1/pki/node.crt" >/dev/null ||
	fail "the node's certificate is not signed by the pool's CA"
subject=$(openssl x509 -in "$state1/pki/node.crt" -noout -subject -nameopt multiline)
assert_contains "$subject" "commonName                = $N1" "CN = the node's id"
assert_contains "$(openssl x509 -in "$state1/pki/node.crt" -noout -ext extendedKeyUsage)" \
	"TLS Web Client Authentication"
cmp -s "$state1/pki/ca.crt" "$TLS/ca.crt" || fail "the stored CA is not the pool's"
# shellcheck disable=SC1091 # written by the join
JOIN_OPTS=$(. "$state1/join.conf" && echo "$JOIN_OPTS")
assert_contains "$JOIN_OPTS" "--tls-cert $state1/pki/node.crt"

log "the joined supervisor registers with its certificate and runs a slice"
NODE_JOIN[1]=$JOIN_OPTS
start_node 1
node_ready() { api GET "/v1/nodes/$1" | jq -r '.state + "," + (.connected | tostring)'; }
wait_for '[ "$(node_ready "$N1")" = ready,true ]' 15 ||
	fail "node 1 not ready: $(api GET /v1/nodes | jq -c .) $(tail -5 "$TEST_DIR/n1/supervisor.log")"
pool slice run -d --name joined-1 --cpus 0.1 --constraint "node.id==$N1" -- sleep 1000 >/dev/null ||
	fail "placing a slice on the joined node"
wait_for '[ "$(api GET /v1/slices/joined-1 | jq -r .state)" = running ]' 15 ||
	fail "the slice on the joined node: $(api GET /v1/slices/joined-1)"

log "a rejoin renews the certificate; another node's id is refused"
old=$(openssl x509 -in "$state1/pki/node.crt" -noout -serial)
out=$("$ACRE_BIN/acre-supervisor" join "${JOIN[@]}" --state-dir "$state1" 2>&1) ||
	fail "a rejoin failed: $out"
assert_contains "$out" "as node $N1"
[ "$(openssl x509 -in "$state1/pki/node.crt" -noout -serial)" != "$old" ] ||
	fail "the rejoin kept the old certificate"
out=$(bare_say "{\"op\":\"join\",\"id\":1,\"token\":\"$token\",\"node\":{\"id\":\"$N1\",\"secret\":\"$secret\"},\"csr\":\"x\"}")
assert_contains "$out" "belongs to another node"

log "a supervisor of the next protocol version joins and works"
state2=$TEST_DIR/n2/state
out=$("$NEXT" join "${JOIN[@]}" --state-dir "$state2" 2>&1) || fail "the next supervisor's join: $out"
N2=$(node_id 2)
NODE_JOIN[2]=$(. "$state2/join.conf" && echo "$JOIN_OPTS")
NODE_BIN[2]=$NEXT
start_node 2 --init "$ACRE_BIN/acre-init"
wait_for '[ "$(node_ready "$N2")" = ready,true ]' 15 ||
	fail "node 2 not ready: $(tail -5 "$TEST_DIR/n2/supervisor.log")"
max=$(sed -n 's/^#define ACRE_PROTOCOL_MAX //p' "$ACRE_ROOT/proto/proto.h")
min=$(sed -n 's/^#define ACRE_PROTOCOL_MIN //p' "$ACRE_ROOT/proto/proto.h")
assert_contains "$(cat "$TEST_DIR/controller.log")" \
	"node=$N2 event=protocol_negotiated node_speaks=$min-$((max + 1)) protocol=$max" \
	"the controller chose the version both speak"
assert_contains "$(grep controller_registered "$TEST_DIR/n2/supervisor.log")" "protocol=$max"
ours=$(sed -n 's/^#define ACRE_VERSION "\(.*\)"/\1/p' "$ACRE_ROOT/common/common.h")
theirs=$(api GET "/v1/nodes/$N2" | jq -r .version)
log "today's controller is $ours; the next supervisor reports $theirs"
[ "$theirs" != "$ours" ] && [ "${theirs%.*}" != "${ours%.*}" ] ||
	fail "the next supervisor is not a minor version apart: $theirs against $ours"
pool slice run -d --name next-1 --cpus 0.1 --constraint "node.id==$N2" -- sleep 1000 >/dev/null ||
	fail "placing a slice on the next node"
wait_for '[ "$(api GET /v1/slices/next-1 | jq -r .state)" = running ]' 15 ||
	fail "the slice on the next node: $(api GET /v1/slices/next-1)"
assert_eq "$(node_acre 2 -j slice list | jq -r '.[] | select(.name == "next-1") | .state')" \
	running "the node itself runs it"

log "a controller of the next protocol version takes over the pool"
kill_controller
CTL_BIN=$CTL_NEXT
start_controller
# What the new controller logged: after the last start marker.
since_start() { awk '/^=== .* start controller/ { n = NR } { line[NR] = $0 } END { for (i = n; i <= NR; i++) print line[i] }' "$TEST_DIR/controller.log"; }
wait_for '[ "$(node_ready "$N1")" = ready,true ] && [ "$(node_ready "$N2")" = ready,true ]' 20 ||
	fail "the nodes did not come back: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state, connected}')"
assert_contains "$(since_start)" "node=$N1 event=protocol_negotiated node_speaks=$min-$max protocol=$max" \
	"today's supervisor with the next controller"
assert_contains "$(since_start)" \
	"node=$N2 event=protocol_negotiated node_speaks=$min-$((max + 1)) protocol=$((max + 1))" \
	"the next supervisor with the next controller"
for s in joined-1 next-1; do
	assert_eq "$(api GET "/v1/slices/$s" | jq -r .state)" running "$s under the next controller"
done
pool slice run -d --name joined-2 --cpus 0.1 --constraint "node.id==$N1" -- sleep 1000 >/dev/null ||
	fail "placing a slice on today's supervisor under the next controller"
wait_for '[ "$(api GET /v1/slices/joined-2 | jq -r .state)" = running ]' 15 ||
	fail "the slice under the next controller: $(api GET /v1/slices/joined-2)"

log "removing the slices"
for s in joined-1 next-1 joined-2; do
	pool slice rm --force "$s" >/dev/null
done
echo "PASS"
