#!/usr/bin/env bash
# A node's volumes seen from the pool: the node reports the size and free
# bytes of the filesystem its volumes go on (capacity.disk, free.disk and
# the heartbeat's usage.disk_free in GET /v1/nodes/{id}), as df says; an
# admin removes a volume on a node through the controller (DELETE
# /v1/nodes/{id}/volumes/{name}: volume.remove to the node, its answer in
# the controller's log): a volume no slice names goes (image and mount), a
# volume a slice names stays and the log says which slice, a volume that is
# not there is no error, a bad name or node gets a clear error, and a node
# that is not connected gets 503 saying so.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require losetup mkfs.ext4 df

log "network, certificates, controller, one node"
net_setup 1
make_certs
CTL_ARGS=(--node-timeout 2s --lost-after 60s)
pool_net_ctl_args
start_controller
start_node 1
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 1 ]' 15 ||
	fail "the node ready: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state}')"
N1=$(node_id 1)
STATE=$TEST_DIR/n1/state
ctl_log() { cat "$TEST_DIR/controller.log"; }

# ---- the node's disk ----------------------------------------------------------------------

log "free disk in the node's JSON, as df says"
wait_for "api GET /v1/nodes/$N1 | jq -e '.usage.disk_free' >/dev/null" 10 ||
	fail "no usage.disk_free from a heartbeat: $(api GET "/v1/nodes/$N1" | jq -c .usage)"
node=$(api GET "/v1/nodes/$N1")
assert_eq "$(last_code)" 200
size=$(df --output=size -B1 "$STATE" | tail -1 | tr -d ' ')
avail=$(df --output=avail -B1 "$STATE" | tail -1 | tr -d ' ')
assert_eq "$(jq -r .capacity.disk <<<"$node")" "$size" "capacity.disk: the size of the state dir's filesystem"
free=$(jq -r .free.disk <<<"$node")
[[ "$free" =~ ^[0-9]+$ ]] && [ "$free" -gt 0 ] || fail "free.disk: $free"
# Others write on this machine meanwhile: within 256 MiB of df's figure.
diff=$((free > avail ? free - avail : avail - free))
[ "$diff" -lt $((256 << 20)) ] || fail "free.disk $free, df says $avail available"
[ "$free" -le "$size" ] || fail "free.disk $free above the size $size"
assert_eq "$(pool -j node list | jq -r --arg id "$N1" '.[] | select(.id == $id) | .free.disk | type')" \
	number "free.disk in acre node list -j"
assert_contains "$(pool node show "$N1")" "disk:        " "acre node show"
assert_contains "$(pool node show "$N1" | grep '^disk:')" "free of" "acre node show's disk"

# ---- removing a volume through the controller -------------------------------------------

log "a volume made on the node, its slice ended and removed"
node_acre 1 slice run --rm --name maker --rw --volume data:16M:/mnt -- \
	sh -c 'echo kept >/mnt/f' || fail "a slice making volume data"
assert_eq "$(node_acre 1 -j volume list | jq -r '[.[].name] | sort | join(",")')" data
node_acre 1 slice run -d --name holder --rw --volume held:16M:/mnt -- sleep 600 >/dev/null ||
	fail "a slice holding volume held"

log "a volume a slice names is refused, with the reason"
out=$(api DELETE "/v1/nodes/$N1/volumes/held")
assert_eq "$(last_code)" 202 "DELETE held: $out"
assert_eq "$(jq -r '"\(.node) \(.volume) \(.sent)"' <<<"$out")" "$N1 held true"
wait_for "ctl_log | grep -q 'volume=held event=volume_remove_refused'" 10 ||
	fail "no refusal of held in the controller's log"
assert_contains "$(ctl_log | grep 'volume=held event=volume_remove_refused')" \
	"volume held: slice holder names it (remove the slice first)"
[ -e "$STATE/volumes/held/image" ] || fail "a volume in use was removed"
assert_eq "$(node_acre 1 -j volume list | jq -r '[.[].name] | sort | join(",")')" data,held

log "a volume no slice names goes"
out=$(api DELETE "/v1/nodes/$N1/volumes/data")
assert_eq "$(last_code)" 202 "DELETE data: $out"
wait_for "! node_acre 1 -j volume list | jq -e '.[] | select(.name == \"data\")' >/dev/null" 10 ||
	fail "volume data still on the node: $(node_acre 1 -j volume list)"
wait_for "ctl_log | grep -q 'volume=data event=volume_removed'" 10 ||
	fail "no volume_removed in the controller's log"
[ ! -e "$STATE/volumes/data" ] || fail "$STATE/volumes/data is left"
grep -q "$STATE/volumes/data/mnt" /proc/self/mountinfo && fail "volume data is still mounted"
[ "$(losetup -a | grep -c "$STATE/volumes/data/image")" = 0 ] || fail "a loop device of data is left"

log "a volume not there is no error"
api DELETE "/v1/nodes/$N1/volumes/data" >/dev/null
assert_eq "$(last_code)" 202
wait_for "ctl_log | grep -q 'volume=data event=volume_remove_none'" 10 ||
	fail "no volume_remove_none in the controller's log"

log "bad names and nodes"
out=$(api DELETE "/v1/nodes/$N1/volumes/-data")
assert_eq "$(last_code)" 400 "a bad volume name: $out"
assert_contains "$out" "volume -data: 1 to 63 letters"
out=$(api DELETE "/v1/nodes/nosuchnode/volumes/data")
assert_eq "$(last_code)" 404 "an unknown node: $out"
assert_contains "$out" "no node nosuchnode in the pool"

log "a node not connected: 503, nothing sent"
node_acre 1 slice rm -f holder >/dev/null || fail "removing holder"
stop_node 1
wait_for "[ \"\$(api GET /v1/nodes/$N1 | jq -r .connected)\" = false ]" 10 ||
	fail "the node still connected"
out=$(api DELETE "/v1/nodes/$N1/volumes/held")
assert_eq "$(last_code)" 503 "a node not connected: $out"
assert_contains "$out" "node $N1 is not connected: its volume held cannot be removed now"
start_node 1
wait_for "[ \"\$(api GET /v1/nodes/$N1 | jq -r .connected)\" = true ]" 10 ||
	fail "the node back"
[ -e "$STATE/volumes/held/image" ] || fail "volume held was removed while its node was away"

log "back: the slice gone, the volume goes"
out=$(api DELETE "/v1/nodes/$N1/volumes/held")
assert_eq "$(last_code)" 202 "DELETE held again: $out"
wait_for "[ \"\$(node_acre 1 -j volume list | jq length)\" = 0 ]" 10 ||
	fail "volume held still there: $(node_acre 1 -j volume list)"
log "PASS"
