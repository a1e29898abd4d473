#!/bin/bash
# The shipped packages that Debian's binaries run, installed for real with `acre pkg install`
# (the CLI following each install live) on one pool of three nodes (apps_lib.sh) shared by
# every scenario, then each healthy and answering a client in a slice of the pool by its name:
# nginx ×3 serves its page by name and behind haproxy, postgresql answers psql, zookeeper's
# three members (one per node) elect one leader (`echo srvr | nc`), etcd's three members are
# healthy (`etcdctl endpoint health`), mariadb answers a query as its user, rabbitmq speaks
# AMQP, prometheus scrapes the three supervisors' --metrics-listen, redis's replicas follow
# it, memcached answers stats.  Then:
#  - postgresql upgraded (`acre pkg upgrade`, an option that replaces its instance): a table
#    written before is read after;
#  - nginx upgraded to a version whose check fails (a repository of the test's own): the
#    install rolls back by itself while a curl loop on its name sees no failure, and
#    `acre pkg list` says it rolled back and why;
#  - each install uninstalled: no install, app, slice, volume, host port, DNS name, VIP,
#    cgroup (on every node, under the test's own roots) or artifact cache entry of it left,
#    every other install's slices untouched and its apps healthy; postgresql first with
#    --keep-volumes, its volume kept and found again by a reinstall (on its node).
# ACRE_PKG_TEST=nginx,etcd picks some (haproxy needs nginx).  Timings are printed as
# "timing: PHASE N ms".
# limit: 300
. "$(dirname "$0")/apps_lib.sh"

require curl nc
wanted() { [ -z "${ACRE_PKG_TEST:-}" ] || [[ ",$ACRE_PKG_TEST," == *",$1,"* ]]; }
if wanted haproxy && ! wanted nginx; then
	fail "haproxy fronts the nginx install: test it with nginx"
fi

# JVM and Erlang members take longer than apps_lib's 12 s between two steps of progress.
APPS_STEP_DEADLINE=90s
# Each supervisor serves its metrics for prometheus to scrape.
apps_pool --metrics-listen 0.0.0.0:9100
T_PHASE=$(now_ms)
phase() { # PHASE: the time since the last phase
	local t
	t=$(now_ms)
	log "timing: $1 $((t - T_PHASE)) ms"
	T_PHASE=$t
}
phase pool

# What the pool holds before any install: ports free on each node (no shipped package takes a
# host port, and none may stay taken).
ports_free() { api GET /v1/nodes | jq -c '[.nodes[] | .free.ports] | sort'; }
PORTS_FREE=$(ports_free)

# install NAME PACKAGE [ARG...]: `acre pkg install` following live, in the background.
declare -A INSTALL_PID
install() {
	local name=$1 pkg=$2
	shift 2
	pool pkg install "$pkg" --name "$name" "$@" >"$TEST_DIR/install-$name" 2>&1 &
	INSTALL_PID[$name]=$!
	track_bg $!
}

# installed NAME: its `acre pkg install` ended well, at revision 1.
installed() {
	local rc=0
	wait "${INSTALL_PID[$1]}" || rc=$?
	[ "$rc" = 0 ] || fail "acre pkg install $1 exited $rc: $(tail -n 30 "$TEST_DIR/install-$1")"
	assert_contains "$(tail -n 1 "$TEST_DIR/install-$1")" "at revision 1, running" \
		"acre pkg install $1's last line"
	log "acre pkg install $1:"
	sed 's/^/    /' "$TEST_DIR/install-$1"
}

# healthy APP N: the app runs N healthy instances (the install followed them until they were).
healthy() {
	assert_eq "$(app_state "$1" | cut -d' ' -f1-2)" "running $2/$2" "$1: $(app_state "$1")"
}

# client COMMAND...: run in a slice of node 1 on the pool's network, its output printed.
client() {
	node_acre 1 slice run --rm --net bridge --memory 128M -- "$@"
}

# ---- installs -----------------------------------------------------------------------------

if wanted nginx; then
	log "nginx: three instances behind web.acre"
	install web nginx --set instances=3 --set page="acre web"
	installed web
	# haproxy resolves web.acre as it starts: nginx is healthy first.
fi
wanted haproxy && install lb haproxy --set backend=web
wanted postgresql && install db postgresql --set volume_size=256M --set memory=256M \
	--set shared_buffers=32MB
wanted zookeeper && install zk zookeeper --set volume_size=64M --set heap=128m --set memory=384M
wanted etcd && install kv etcd --set volume_size=512M --set quota_bytes=67108864
wanted mariadb && install my mariadb --set volume_size=512M --set memory=384M --set buffer_pool=64M
wanted rabbitmq && install mq rabbitmq --set volume_size=256M
wanted prometheus && install mon prometheus --set volume_size=256M --set interval=2s \
	--set supervisors="$(node_addr 1):9100,$(node_addr 2):9100,$(node_addr 3):9100"
wanted redis && install cache redis --set replicas.enabled=true
wanted memcached && install mc memcached --set instances=3
for name in "${!INSTALL_PID[@]}"; do
	[ "$name" = web ] || installed "$name"
done
phase installs
log "$(pool pkg list)"

# ---- each healthy, by its name ------------------------------------------------------------

if wanted nginx; then
	healthy web 3
	assert_eq "$(api GET /v1/slices?label=acre.app=web | jq -r '[.slices[].node] | unique | length')" 3 \
		"nginx's three instances spread over the three nodes"
	out=$(client curl -s --max-time 3 http://web.acre/)
	assert_contains "$out" "<h1>acre web</h1>" "nginx's page through web.acre"
	assert_contains "$out" "served by web-" "nginx's page names its instance"
fi

if wanted haproxy; then
	healthy lb 1
	wait_for "client curl -s --max-time 3 http://lb.acre/ | matches 'acre web'" 20 ||
		fail "haproxy does not serve nginx's page: $(client curl -s -i --max-time 3 http://lb.acre/ 2>&1)"
fi

if wanted postgresql; then
	healthy db 1
	assert_eq "$(client psql -h db.acre -U postgres -tA -c 'select 6 * 7')" 42 "psql through db.acre"
fi

if wanted zookeeper; then
	healthy zk 3
	assert_eq "$(api GET /v1/slices?label=acre.app=zk | jq -r '[.slices[].node] | unique | length')" 3 \
		"a zookeeper member on every node"
	srvr() { client sh -c 'for i in 0 1 2; do echo srvr | nc -q 2 zk-$i.acre 2181; done' 2>&1; }
	wait_for "[ \"\$(srvr | grep -c '^Mode: ')\" = 3 ]" 60 || fail "zookeeper's members: $(srvr)"
	modes=$(srvr | sed -n 's/^Mode: //p' | sort | tr '\n' ' ')
	log "zookeeper modes: $modes"
	assert_eq "$modes" "follower follower leader " "one leader and two followers"
fi

if wanted etcd; then
	healthy kv 3
	eps=http://kv-0.acre:2379,http://kv-1.acre:2379,http://kv-2.acre:2379
	out=$(client etcdctl --endpoints "$eps" endpoint health 2>&1)
	log "$out"
	assert_eq "$(grep -c 'is healthy' <<<"$out")" 3 "etcdctl endpoint health, all three"
	client etcdctl --endpoints "$eps" put k v >/dev/null || fail "etcdctl put"
	assert_eq "$(client etcdctl --endpoints http://kv-2.acre:2379 get --print-value-only k)" v \
		"a key written through one member read from another"
fi

if wanted mariadb; then
	healthy my 1
	assert_eq "$(client mariadb -h my.acre -u app -N -e 'select 6 * 7' app 2>&1)" 42 \
		"a query as the install's user through my.acre"
fi

if wanted rabbitmq; then
	healthy mq 1
	# AMQP 0-9-1's protocol header: the broker answers with connection.start.
	wait_for "client sh -c 'printf \"AMQP\\0\\0\\11\\1\" | nc -q 2 mq.acre 5672' | matches RabbitMQ" 30 ||
		fail "rabbitmq does not speak AMQP on mq.acre"
fi

if wanted prometheus; then
	healthy mon 1
	up() {
		client curl -s --max-time 3 http://mon.acre:9090/api/v1/targets |
			jq -r '[.data.activeTargets[] | select(.health == "up") | .labels.job] | sort | join(" ")'
	}
	wait_for "[ \"\$(up)\" = 'acre-supervisor acre-supervisor acre-supervisor prometheus' ]" 40 ||
		fail "prometheus's targets up: $(up); $(client curl -s --max-time 3 http://mon.acre:9090/api/v1/targets)"
	out=$(client curl -s --max-time 3 --data-urlencode "query=count(up{job=\"acre-supervisor\"} == 1)" \
		http://mon.acre:9090/api/v1/query | jq -r '.data.result[0].value[1]')
	assert_eq "$out" 3 "three supervisors scraped, by a query"
fi

if wanted redis; then
	healthy cache 1
	healthy cache-replica 2
	assert_eq "$(client redis-cli -h cache.acre ping)" PONG "redis-cli ping through cache.acre"
	client redis-cli -h cache.acre set k v >/dev/null || fail "redis-cli set"
	wait_for "[ \"\$(client redis-cli -h cache-replica-1.acre get k)\" = v ]" 10 ||
		fail "a replica does not follow the primary"
fi

if wanted memcached; then
	healthy mc 3
	assert_contains "$(client sh -c 'printf "stats\r\nquit\r\n" | nc -q 2 mc-2.acre 11211')" "STAT pid" \
		"memcached's stats through mc-2.acre"
fi
phase checks

# ---- postgresql upgraded, its data kept ---------------------------------------------------

kept() { client psql -h db.acre -U postgres -tA -c 'select v from kept' 2>&1; }

if wanted postgresql; then
	log "postgresql: upgraded with a table written before"
	client psql -h db.acre -U postgres -q -c 'create table kept (v text); insert into kept values ($$on the volume$$)' ||
		fail "psql create table"
	before=$(api GET /v1/apps/db | jq -r '.instances_detail[0].slice_id')
	pool_run "$TEST_DIR/up-db" pkg upgrade db --set shared_buffers=48MB
	assert_eq "$RC" 0 "pkg upgrade db: $(cat "$TEST_DIR/up-db" "$TEST_DIR/up-db.err")"
	assert_contains "$(tail -n 1 "$TEST_DIR/up-db")" "at revision 2, running" "the upgrade's last line"
	sed 's/^/    /' "$TEST_DIR/up-db"
	assert_not_contains "$(api GET /v1/apps/db | jq -r '.instances_detail[0].slice_id')" "$before" \
		"the upgrade replaced db's instance"
	wait_for '[ "$(kept)" = "on the volume" ]' 20 || fail "the table after the upgrade: $(kept)"
	assert_eq "$(client psql -h db.acre -U postgres -tA -c 'show shared_buffers')" 48MB \
		"the upgraded option reached postgres"
	phase "postgresql upgrade"
fi

# ---- a broken upgrade rolls back by itself ------------------------------------------------

if wanted nginx; then
	log "nginx: upgraded to a version that fails its check, a curl loop on web.acre"
	# nginx 1.1.0 of the test's own repository: the same but for a check on a path it does not
	# serve, so each new instance starts and never becomes healthy.
	repo=$TEST_DIR/repo
	mkdir -p "$repo/nginx"
	cp -r "$ACRE_ROOT/packages/nginx/1.0.0" "$repo/nginx/1.1.0"
	jq '.version = "1.1.0" | .upgrades_from = ["1.0.0"]' "$ACRE_ROOT/packages/nginx/1.0.0/package.json" \
		>"$repo/nginx/1.1.0/package.json"
	# (Judged within seconds: the defaults' grace would only make the test longer.)
	jq '.app.checks[0] += {path: "/not-served", grace: "2s", interval: "1s", failures: 2}' \
		"$ACRE_ROOT/packages/nginx/1.0.0/templates/nginx.json" \
		>"$repo/nginx/1.1.0/templates/nginx.json"
	pool_run "$TEST_DIR/repo-add" pkg repo add broken "$repo"
	assert_eq "$RC" 0 "pkg repo add: $(cat "$TEST_DIR/repo-add.err")"
	slices_before=$(api GET /v1/slices?label=acre.app=web | jq -r '[.slices[] | .id] | sort | join(" ")')
	node_acre 1 slice run --rm --net bridge --memory 64M -- sh -c \
		'while :; do curl -s -o /dev/null -w "%{http_code}\n" --max-time 2 http://web.acre/; sleep 0.05; done' \
		>"$TEST_DIR/curl-loop" 2>&1 &
	loop=$!
	track_bg "$loop"
	wait_for '[ "$(grep -c "^200$" "$TEST_DIR/curl-loop")" -ge 10 ]' 15 ||
		fail "the curl loop: $(tail -n 5 "$TEST_DIR/curl-loop")"
	pool_run "$TEST_DIR/up-web" pkg upgrade web --version 1.1.0
	assert_eq "$RC" 1 "a broken upgrade exits 1: $(cat "$TEST_DIR/up-web" "$TEST_DIR/up-web.err")"
	assert_contains "$(cat "$TEST_DIR/up-web.err")" "upgrade rolled back" "the upgrade's error"
	log "$(cat "$TEST_DIR/up-web.err")"
	sleep 2 # the loop goes on past the rollback's end
	kill "$loop" 2>/dev/null
	wait "$loop" 2>/dev/null
	ok=$(grep -c '^200$' "$TEST_DIR/curl-loop")
	bad=$(grep -vc '^200$' "$TEST_DIR/curl-loop")
	log "curl loop: $ok answers 200, $bad others"
	assert_eq "$bad" 0 "requests that failed during the broken upgrade: $(grep -v '^200$' "$TEST_DIR/curl-loop" | sort | uniq -c)"
	view=$(pool -j pkg list | jq -c '.[] | select(.name == "web")')
	assert_eq "$(jq -r '"\(.state) \(.version) \(.revision) \(.last_operation.kind) \(.last_operation.result)"' <<<"$view")" \
		"running 1.0.0 1 upgrade rolled_back" "the install after the broken upgrade"
	assert_contains "$(jq -r .last_operation.reason <<<"$view")" "rolled back to revision 1" \
		"the reason says where it went back to"
	assert_contains "$(jq -r .last_operation.reason <<<"$view")" "app web:" "the reason names the app"
	assert_contains "$(pool pkg list | grep '^web ')" "rolled back" "pkg list's table says so"
	healthy web 3
	assert_eq "$(api GET /v1/apps/web | jq -r '.spec.checks[0].path')" / "web's spec is 1.0.0's again"
	assert_eq "$(api GET /v1/slices?label=acre.app=web | jq -r '[.slices[] | .id] | sort | join(" ")')" \
		"$slices_before" "web's instances of 1.0.0 kept through the broken upgrade"
	pool_run "$TEST_DIR/repo-rm" pkg repo rm broken
	assert_eq "$RC" 0 "pkg repo rm: $(cat "$TEST_DIR/repo-rm.err")"
	phase "broken upgrade"
fi

# ---- uninstalls: nothing left, the others untouched ---------------------------------------

# The slices of every install but $1, with their ids and states: what an uninstall must not touch.
others() {
	api GET /v1/slices | jq -r --arg me "$1" '.slices[] | select(.labels["acre.install"] // "" | . != "" and . != $me) |
		"\(.labels["acre.install"]) \(.name) \(.id) \(.state)"' | sort
}

# Names under a node's cgroup roots, in every hierarchy.
node_cgroups() {
	local i d
	for i in 1 2 3; do
		for d in /sys/fs/cgroup/"$(node_cgroot "$i")" /sys/fs/cgroup/*/"$(node_cgroot "$i")"; do
			[ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'
		done
	done | sort -u
}

# leftovers NAME APPS SLICES CGROUPS KEEP: what of install NAME is still anywhere, one line each.
leftovers() {
	local name=$1 apps=$2 slices=$3 cgs=$4 keep=$5 app s i cg
	api GET "/v1/installs/$name" >/dev/null
	[ "$(last_code)" = 404 ] || echo "install $name: $(last_code)"
	for app in $apps; do
		api GET "/v1/apps/$app" >/dev/null
		[ "$(last_code)" = 404 ] || echo "app $app: $(last_code)"
	done
	api GET "/v1/slices?label=acre.install=$name" | jq -r '.slices[] | "slice \(.name) in the pool"' ||
		echo "/v1/slices?"
	api GET /v1/network | jq -r --arg apps " $apps " '
		(.names[] | .name as $n | select($apps | contains(" " + ($n | sub("-[0-9]+$"; "")) + " ")) |
			"DNS name \($n)"),
		(.vips[] | .name as $g | select($apps | contains(" " + $g + " ")) | "VIP \(.vip) of \($g)")' ||
		echo "/v1/network?"
	[ "$(ports_free)" = "$PORTS_FREE" ] || echo "host ports free $(ports_free), $PORTS_FREE before"
	local cgroups
	cgroups=$(node_cgroups)
	for i in 1 2 3; do
		for s in $slices; do
			node_acre "$i" -j slice list | jq -r --arg s "$s" --arg i "$i" \
				'.[] | select(.name == $s) | "slice \($s) on node \($i)"' || echo "node $i: slice list?"
			node_acre "$i" -j node artifacts | jq -r --arg s "$s" --arg i "$i" \
				'.[] | select(.slices // [] | index($s)) | "artifact \(tojson) of \($s) on node \($i)"' ||
				echo "node $i: node artifacts?"
		done
		[ "$keep" = 1 ] && continue
		for app in $apps; do
			node_acre "$i" -j volume list | jq -r --arg a "$app" --arg i "$i" \
				'.[] | select(.name | test("^" + $a + "-[0-9]+-")) | "volume \(.name) on node \($i)"' ||
				echo "node $i: volume list?"
		done
	done
	for cg in $cgs; do
		grep -qx "$cg" <<<"$cgroups" && echo "cgroup $cg"
	done
	return 0
}

# uninstall NAME [--keep-volumes]: `acre pkg uninstall`, then nothing of it left and every
# other install's slices as they were.
uninstall() {
	local name=$1 keep=0 apps slices before cgs cg i s what
	[ "${2:-}" = --keep-volumes ] && keep=1
	apps=$(api GET "/v1/installs/$name" | jq -r '.apps | join(" ")')
	slices=$(api GET "/v1/slices?label=acre.install=$name" | jq -r '[.slices[].name] | join(" ")')
	[ -n "$apps" ] && [ -n "$slices" ] || fail "install $name runs nothing to uninstall"
	# Each slice's cgroup, as its node names it (slice show), under the node's roots now.
	cgs=$(for i in 1 2 3; do
		for s in $slices; do
			node_acre "$i" -j slice show "$s" 2>/dev/null | jq -r '.cgroup.name // empty'
		done
	done)
	assert_eq "$(wc -w <<<"$cgs")" "$(wc -w <<<"$slices")" "a cgroup for each slice of $name: $cgs"
	for cg in $cgs; do
		grep -qx "$cg" <<<"$(node_cgroups)" || fail "$name's cgroup $cg is not under the nodes' roots"
	done
	# What the checks after look for is there before: the same checks see the install.
	before=$(leftovers "$name" "$apps" "$slices" "$cgs" "$keep")
	for what in "slice " "DNS name " "cgroup "; do
		grep -q "^$what" <<<"$before" || fail "before uninstalling $name, no $what: $before"
	done
	before=$(others "$name")
	pool_run "$TEST_DIR/un-$name" pkg uninstall "$name" "${@:2}"
	assert_eq "$RC" 0 "pkg uninstall $name: $(cat "$TEST_DIR/un-$name" "$TEST_DIR/un-$name.err")"
	assert_contains "$(tail -n 1 "$TEST_DIR/un-$name")" "uninstalled, nothing left" "uninstall $name's last line"
	wait_for "[ -z \"\$(leftovers $name '$apps' '$slices' '$cgs' $keep)\" ]" 10 ||
		fail "uninstall $name left: $(leftovers "$name" "$apps" "$slices" "$cgs" "$keep")"
	assert_eq "$(others "$name")" "$before" "the other installs' slices after uninstalling $name"
	assert_eq "$(api GET /v1/apps | jq -r '.apps[] | select(.state != "running" or .healthy != .instances) |
		"\(.name) \(.state) \(.healthy)/\(.instances)"')" "" "the other installs' apps healthy after uninstalling $name"
	phase "uninstall $name"
}

wanted haproxy && uninstall lb
wanted nginx && uninstall web

if wanted postgresql; then
	log "postgresql: uninstalled keeping its volume, installed again"
	vol_node=$(api GET /v1/apps/db | jq -r '.instances_detail[0].node')
	uninstall db --keep-volumes
	found=0
	for i in 1 2 3; do
		node_acre "$i" -j volume list | jq -e '.[] | select(.name == "db-0-data")' >/dev/null &&
			found=$((found + 1))
	done
	assert_eq "$found" 1 "db's volume kept on one node (its instance was on $vol_node)"
	install db postgresql --set volume_size=256M --set memory=256M --set shared_buffers=32MB
	installed db
	assert_eq "$(api GET /v1/apps/db | jq -r '.instances_detail[0].node')" "$vol_node" \
		"db-0 installed again on its volume's node"
	wait_for '[ "$(kept)" = "on the volume" ]' 20 || fail "the reinstall does not find the table: $(kept)"
	phase "postgresql reinstall"
	uninstall db
fi

for name in zk kv my mq mon cache mc; do
	api GET "/v1/installs/$name" >/dev/null
	[ "$(last_code)" = 200 ] && uninstall "$name"
done
assert_eq "$(api GET /v1/installs | jq '.installs | length')" 0 "no install left"
assert_eq "$(api GET /v1/apps | jq '.apps | length')" 0 "no app left"

log "test_pkg_library: $(($(now_ms) - T0)) ms"
