#!/bin/bash
# The shipped packages that Debian's binaries run, started for real on a pool of three
# nodes (apps_lib.sh): each expanded by the package library (pkg_render.c, built here
# against the unit tests' archives), its apps created through POST /v1/apps in start
# order, then each healthy and answering a client in a slice of the pool by its name:
# nginx serves its page, haproxy serves nginx's through NAME.acre, postgresql answers
# psql and keeps a table across a kill of its instance (its volume found again),
# zookeeper's three members elect a leader, etcd's three members are healthy, mariadb
# answers a query as its user, rabbitmq speaks AMQP, prometheus scrapes the three
# supervisors (restarted with --metrics-listen), redis's replicas follow it, memcached
# answers stats.  ACRE_PKG_TEST=nginx,etcd picks some; all of them take about two
# minutes, so its limit is its own:
# limit: 300
. "$(dirname "$0")/apps_lib.sh"

require cc
lib=$ACRE_BIN/../lib
for a in controller proto common; do
	[ -f "$lib/libacre-$a.a" ] || skip "$lib/libacre-$a.a is missing: run make unit"
done
apps_pool
cc -O1 -I"$ACRE_ROOT" -o "$TEST_DIR/pkg_render" "$ACRE_TEST_LIB/pkg_render.c" \
	"$lib/libacre-controller.a" "$lib/libacre-proto.a" "$lib/libacre-common.a" \
	-ljansson -lssl -lcrypto -lcap 2>"$TEST_DIR/cc.err" || fail "cc pkg_render: $(cat "$TEST_DIR/cc.err")"

wanted() { [ -z "${ACRE_PKG_TEST:-}" ] || [[ ",$ACRE_PKG_TEST," == *",$1,"* ]]; }

if wanted prometheus; then
	# Each supervisor serves its metrics for prometheus to scrape: started again with
	# --metrics-listen before anything runs.
	for i in 1 2 3; do
		stop_node "$i"
		start_node "$i" --resolv-conf /dev/null --attr "zone=${zones[$i]}" --metrics-listen 0.0.0.0:9100
	done
	wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 3 ]' 15 ||
		fail "the nodes are not ready again: $(api GET /v1/nodes)"
fi

# install PACKAGE NAME [OPTIONS]: each app of the expansion created, in start order.
install() {
	local specs app r
	specs=$("$TEST_DIR/pkg_render" "$ACRE_ROOT/packages" "$1" "$2" "${3:-}") ||
		fail "rendering $1: $specs"
	while read -r app; do
		# The install's label is the runtime's to set; the apps API takes none under acre.
		app=$(jq -c 'del(.labels["acre.install"])' <<<"$app")
		r=$(api POST /v1/apps "$app")
		[ "$(last_code)" = 201 ] || fail "POST /v1/apps $(jq -r .name <<<"$app"): $(last_code) $r"
	done < <(jq -c '.[]' <<<"$specs")
}

# healthy APP N SECONDS
healthy() {
	wait_for "[ \"\$(app_state $1 | cut -d' ' -f1-2)\" = 'running $2/$2' ]" "$3" ||
		fail "$1 is not healthy: $(app_state "$1"); $(api GET "/v1/apps/$1" | jq -c .)"
	log "$1: $(app_state "$1")"
}

# client COMMAND...: run in a slice of node 1 on the pool's network, its output printed.
client() {
	node_acre 1 slice run --rm --net bridge --memory 128M -- "$@"
}

if wanted nginx; then
	log "nginx: two instances behind web.acre"
	install nginx web '{"page": "acre web"}'
	healthy web 2 30
	out=$(client curl -s --max-time 3 http://web.acre/)
	assert_contains "$out" "<h1>acre web</h1>" "nginx's page through web.acre"
	assert_contains "$out" "served by web-" "nginx's page names its instance"
fi

if wanted haproxy; then
	wanted nginx || fail "haproxy fronts the nginx install: test it with nginx"
	log "haproxy: in front of web.acre"
	install haproxy lb '{"backend": "web"}'
	healthy lb 1 30
	wait_for "client curl -s --max-time 3 http://lb.acre/ | matches 'acre web'" 20 ||
		fail "haproxy does not serve nginx's page: $(client curl -s -i --max-time 3 http://lb.acre/ 2>&1)"
fi

if wanted postgresql; then
	log "postgresql: initdb on its volume, psql from another slice"
	install postgresql db '{"volume_size": "256M", "memory": "256M", "shared_buffers": "32MB"}'
	healthy db 1 90
	out=$(client psql -h db.acre -U postgres -tA -c 'select 6 * 7')
	assert_eq "$out" 42 "psql through db.acre"
	client psql -h db.acre -U postgres -q -c 'create table kept (v text); insert into kept values ($$on the volume$$)' ||
		fail "psql create table"
	# Killed, instance 0 comes back on its node, finds its volume and skips initdb.
	slice_id() { api GET /v1/apps/db | jq -r '.instances_detail[0].slice_id'; }
	before=$(slice_id)
	pool slice kill db-0 >/dev/null || fail "kill db-0"
	wait_for "[ \"\$(slice_id)\" != $before ]" 20 ||
		fail "db-0 was not started again: $(api GET /v1/apps/db | jq -c .instances_detail)"
	healthy db 1 60
	wait_for "[ \"\$(client psql -h db.acre -U postgres -tA -c 'select v from kept' 2>/dev/null)\" = 'on the volume' ]" 20 ||
		fail "the table is gone after a restart: $(client psql -h db.acre -U postgres -tA -c 'select v from kept' 2>&1)"
fi

if wanted zookeeper; then
	log "zookeeper: three members, one per node, electing a leader"
	install zookeeper zk '{"volume_size": "64M", "heap": "128m", "memory": "384M"}'
	healthy zk 3 240
	srvr() { client sh -c 'for i in 0 1 2; do echo srvr | nc -q 2 zk-$i.acre 2181; done' 2>&1; }
	wait_for "[ \"\$(srvr | grep -c '^Mode: ')\" = 3 ]" 60 || fail "zookeeper's members: $(srvr)"
	modes=$(srvr | sed -n 's/^Mode: //p' | sort | tr '\n' ' ')
	log "zookeeper modes: $modes"
	assert_eq "$modes" "follower follower leader " "one leader and two followers"
fi

if wanted etcd; then
	log "etcd: three members, one per node"
	install etcd kv '{"volume_size": "512M", "quota_bytes": 67108864}'
	healthy kv 3 120
	eps=http://kv-0.acre:2379,http://kv-1.acre:2379,http://kv-2.acre:2379
	out=$(client etcdctl --endpoints "$eps" endpoint health 2>&1)
	log "$out"
	assert_eq "$(grep -c 'is healthy' <<<"$out")" 3 "etcdctl endpoint health, all three"
	client etcdctl --endpoints "$eps" put k v >/dev/null || fail "etcdctl put"
	assert_eq "$(client etcdctl --endpoints http://kv-2.acre:2379 get --print-value-only k)" v \
		"a key written through one member read from another"
fi

if wanted mariadb; then
	log "mariadb: mariadb-install-db on its volume, answering from another slice"
	install mariadb my '{"volume_size": "512M", "memory": "384M", "buffer_pool": "64M"}'
	healthy my 1 90
	out=$(client mariadb -h my.acre -u app -N -e 'select 6 * 7' app 2>&1)
	assert_eq "$out" 42 "a query as the install's user through my.acre"
fi

if wanted rabbitmq; then
	log "rabbitmq: one broker, its store on a volume"
	install rabbitmq mq '{"volume_size": "256M"}'
	healthy mq 1 120
	# AMQP 0-9-1's protocol header: the broker answers with connection.start.
	wait_for "client sh -c 'printf \"AMQP\\0\\0\\11\\1\" | nc -q 2 mq.acre 5672' | matches RabbitMQ" 30 ||
		fail "rabbitmq does not speak AMQP on mq.acre"
fi

if wanted prometheus; then
	log "prometheus: scraping itself and the three supervisors, its time series on a volume"
	sup="$(node_addr 1):9100,$(node_addr 2):9100,$(node_addr 3):9100"
	install prometheus mon "{\"volume_size\": \"256M\", \"interval\": \"2s\", \"supervisors\": \"$sup\"}"
	healthy mon 1 60
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
	log "redis: a primary and two replicas"
	install redis cache '{"replicas": {"enabled": true}}'
	healthy cache 1 30
	healthy cache-replica 2 30
	assert_eq "$(client redis-cli -h cache.acre ping)" PONG "redis-cli ping through cache.acre"
	client redis-cli -h cache.acre set k v >/dev/null || fail "redis-cli set"
	wait_for "[ \"\$(client redis-cli -h cache-replica-1.acre get k)\" = v ]" 10 ||
		fail "a replica does not follow the primary"
fi

if wanted memcached; then
	log "memcached: one server per node"
	install memcached mc '{"instances": 3}'
	healthy mc 3 30
	assert_contains "$(client sh -c 'printf "stats\r\nquit\r\n" | nc -q 2 mc-2.acre 11211')" "STAT pid" \
		"memcached's stats through mc-2.acre"
fi

log "test_pkg_library: $(($(now_ms) - T0)) ms"
