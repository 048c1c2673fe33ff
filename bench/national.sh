#!/usr/bin/env bash
# Trygg at national scale, measured by hand (never in CI), in one run on one machine:
#   - seeds a national data set through the database (bench/seed.sql): 35,000 children in 1,000
#     facilities of 290 units, their secretaries, managers and home staff, placements, contact
#     schedules, three years of visits and five million audit events;
#   - starts the release build on it and drives each scenario alone with wrk (bench/wrk/*.lua)
#     at 1, 16, 64 and 256 connections: the worklist, an audited read of a child, a visit, a
#     registration, the capacity report, a system's read of placements, placements into a
#     nearly full home and the audit log of one child;
#   - runs pgbench (select-only and simple-update) on the same server at the same client counts,
#     as the yardstick of what this machine's PostgreSQL does without Trygg;
#   - does it all again at a tenth of the data, to see what the data's size costs;
#   - and writes throughput, latency, errors, memory, the audit sequencer's lag and the plans
#     of the hot queries to bench/RESULTS.md (its own section; the others stay).
#
#   bench/national.sh                                     # the full run (about half an hour)
#   BENCH_SECONDS=2 BENCH_CLIENTS="1 16" BENCH_CHILDREN=700 bench/national.sh   # a quick try
#
# BENCH_SECONDS           seconds per wrk and pgbench run (default 10)
# BENCH_CLIENTS           connection counts (default "1 16 64 256")
# BENCH_SCALES            "national" and/or "tenth" (default both)
# BENCH_CHILDREN          children at national scale (default 35000); facilities, units and
#                         events scale with it
# BENCH_EVENTS            audit events at national scale (default 5000000 × BENCH_CHILDREN/35000)
# BENCH_POOL_SIZE         the service's database connections (default 16)
# BENCH_KEEP=1            keep the databases afterwards (trygg_bench_<scale>, trygg_bench_pgbench)
# TRYGG_BENCH_SERVER_URL  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${BENCH_SECONDS:-10}"
read -r -a client_counts <<<"${BENCH_CLIENTS:-1 16 64 256}"
read -r -a scales <<<"${BENCH_SCALES:-national tenth}"
national_children="${BENCH_CHILDREN:-35000}"
national_events="${BENCH_EVENTS:-$((5000000 * national_children / 35000))}"
pool_size="${BENCH_POOL_SIZE:-16}"
server_url="${TRYGG_BENCH_SERVER_URL:-postgres://postgres@127.0.0.1:5432}"
server_url="${server_url%/}"
keep="${BENCH_KEEP:-0}"
results=bench/RESULTS.md
trygg=target/release/trygg
# Throttling is the service's own defence and would measure itself here.
unlimited=10000000

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'national.sh: %s\n' "$*" >&2
	exit 1
}
sql() { PGOPTIONS='--client-min-messages=warning' psql "${server_url}/$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }

work=$(mktemp -d)
records="${work}/records.jsonl"
service_pid=""
sampler_pid=""
databases=()
cleanup() {
	[[ -n ${sampler_pid} ]] && kill "${sampler_pid}" 2>/dev/null || true
	[[ -n ${service_pid} ]] && kill "${service_pid}" 2>/dev/null && wait "${service_pid}" 2>/dev/null || true
	if [[ ${keep} != 1 ]]; then
		for db in "${databases[@]}"; do
			sql postgres "DROP DATABASE IF EXISTS ${db}" 2>/dev/null || true
		done
	else
		for db in "${databases[@]}"; do
			sql postgres "ALTER DATABASE ${db} RESET ALL" 2>/dev/null || true
		done
	fi
	# Tokens and the run's password are in here.
	rm -rf "${work}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

record() { jq -cn "$@" >>"${records}"; }

# --- PostgreSQL and the build ----------------------------------------------------------------

if ! psql "${server_url}/postgres" -XAtqc 'SELECT 1' >/dev/null 2>&1; then
	if [[ ${server_url} == postgres://postgres@127.0.0.1:5432 && -x ./dev ]]; then
		say "PostgreSQL is down; starting it as ./dev does"
		./dev db >/dev/null
	else
		die "cannot reach PostgreSQL at ${server_url}; start it and retry"
	fi
fi
# Other work on the machine lowers the figures; the report names what was running.
others() { pgrep -af 'fuzz run|dev test|cargo (test|build|clippy)|schemathesis' | grep -v "$$" | awk '{print $2, $3, $4}' | sort -u | paste -sd ';' -; }
others_before=$(others || true)
[[ -n ${others_before} ]] && say "warning: also running on this machine: ${others_before}"

say "building Trygg (release)"
cargo build --release >&2

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
max_connections=$(sql postgres 'SHOW max_connections')
reserved=$(sql postgres 'SHOW superuser_reserved_connections')
setting() { sql postgres "SHOW $1"; }
record --arg started "${started}" --arg cpu "$(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
	--arg memory "$(free -h | awk '/^Mem:/ {print $2}')" --arg os "$(uname -sr)" \
	--arg pg "$(setting server_version)" --arg load_before "${load_before}" --arg rustc "$(rustc --version)" \
	--arg settings "shared_buffers $(setting shared_buffers), work_mem $(setting work_mem), max_connections ${max_connections}, fsync $(setting fsync), synchronous_commit $(setting synchronous_commit), full_page_writes $(setting full_page_writes), max_wal_size $(setting max_wal_size), autovacuum $(setting autovacuum)" \
	--argjson seconds "${seconds}" --argjson pool "${pool_size}" --arg clients "${client_counts[*]}" --arg others "${others_before}" \
	--arg wrk "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" \
	'{type: "machine", started: $started, cpu: $cpu, memory: $memory, os: $os, postgres: $pg,
	  settings: $settings, load_before: $load_before, rustc: $rustc, seconds: $seconds,
	  pool_size: $pool, clients: $clients, wrk: $wrk, others: $others}'

# The run's one password, for every bench login; hashed once by the service's own command in a
# scratch database, and the hash reused for every user (argon2 per user would take minutes).
password=$(openssl rand -hex 24)
databases+=(trygg_bench_hash)
sql postgres 'DROP DATABASE IF EXISTS trygg_bench_hash'
sql postgres 'CREATE DATABASE trygg_bench_hash'
TRYGG_PASSWORD="${password}" RUST_LOG=warn "${trygg}" create-user --database-url "${server_url}/trygg_bench_hash" \
	--username bench-hash --profession auditor >/dev/null 2>&1
password_hash=$(sql trygg_bench_hash "SELECT password_hash FROM users WHERE username = 'bench-hash'")
sql postgres 'DROP DATABASE trygg_bench_hash'

# --- pgbench: the yardstick ------------------------------------------------------------------

# pgbench needs a connection per client; beyond what the server allows it runs with as many as
# fit, and the report says so.
pgbench_clients() {
	local in_use free
	in_use=$(sql postgres 'SELECT count(*) FROM pg_stat_activity')
	free=$((max_connections - reserved - in_use - 5))
	((free < $1)) && echo "${free}" || echo "$1"
}

say "pgbench: initialising scale 10"
databases+=(trygg_bench_pgbench)
sql postgres 'DROP DATABASE IF EXISTS trygg_bench_pgbench'
sql postgres 'CREATE DATABASE trygg_bench_pgbench'
pgbench -q -i -s 10 "${server_url}/trygg_bench_pgbench" >/dev/null 2>&1
for mode in S N; do
	for n in "${client_counts[@]}"; do
		used=$(pgbench_clients "${n}")
		threads=$((used < 2 ? used : 2))
		say "pgbench -${mode} -c ${used} -j ${threads} -T ${seconds}"
		out=$(pgbench -n "-${mode}" -c "${used}" -j "${threads}" -T "${seconds}" "${server_url}/trygg_bench_pgbench" 2>&1)
		tps=$(awk '/^tps = / {print $3; exit}' <<<"${out}")
		latency=$(awk '/^latency average = / {print $4; exit}' <<<"${out}")
		record --arg mode "${mode}" --argjson clients "${n}" --argjson used "${used}" \
			--argjson tps "${tps:-0}" --argjson latency "${latency:-0}" \
			'{type: "pgbench", mode: $mode, clients: $clients, used: $used, tps: $tps, latency_ms: $latency}'
	done
done
[[ ${keep} == 1 ]] || sql postgres 'DROP DATABASE trygg_bench_pgbench'

# --- the service -------------------------------------------------------------------------------

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_service() {
	local db=$1 port
	port=$(free_port)
	base="http://127.0.0.1:${port}"
	DATABASE_URL="${server_url}/${db}" TRYGG_AUDIT_CHECKPOINT_FILE="${work}/checkpoints-${db}.jsonl" RUST_LOG=warn \
		"${trygg}" serve --dev --bind "127.0.0.1:${port}" --pool-size "${pool_size}" \
		--rate-per-token "${unlimited}" --rate-per-address "${unlimited}" >>"${work}/serve-${db}.log" 2>&1 &
	service_pid=$!
	for _ in $(seq 1 120); do
		curl -fs "${base}/health/ready" >/dev/null 2>&1 && return 0
		kill -0 "${service_pid}" 2>/dev/null || break
		sleep 0.5
	done
	tail -20 "${work}/serve-${db}.log" >&2
	die "the service did not become ready"
}

stop_service() {
	[[ -n ${service_pid} ]] || return 0
	kill "${service_pid}" 2>/dev/null || true
	wait "${service_pid}" 2>/dev/null || true
	service_pid=""
}

# The password goes in on standard input, never on a command line others can read.
login() {
	local token
	token=$(printf 'grant_type=password&username=%s&password=%s' "$1" "${password}" |
		curl -fs --data-binary @- -H 'Content-Type: application/x-www-form-urlencoded' "${base}/api/v1/auth/token" | jq -r .access_token)
	[[ -n ${token} && ${token} != null ]] || die "login as $1 failed"
	printf '%s' "${token}"
}
login_client() {
	local token
	token=$(printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' "$1" "${password}" |
		curl -fs --data-binary @- -H 'Content-Type: application/x-www-form-urlencoded' "${base}/api/v1/auth/token" | jq -r .access_token)
	[[ -n ${token} && ${token} != null ]] || die "login of client $1 failed"
	printf '%s' "${token}"
}

backlog() { curl -fs -m 5 "${base}/health/ready" | jq -c .audit_backlog; }

# Waits until the sequencer has sealed everything queued, so each run starts from an empty queue.
drain() {
	for _ in $(seq 1 240); do
		[[ $(backlog | jq .events) == 0 ]] && return 0
		sleep 0.5
	done
	say "warning: the audit backlog did not drain within 2 minutes"
}

vmhwm() { awk '/^VmHWM/ {print $2}' "/proc/${service_pid}/status"; }
# CPU time, in clock ticks: of one process (all its threads), of every PostgreSQL process, and
# of the whole machine (busy, not idle or waiting for disk). Where a request's CPU goes says
# what bounds throughput on a machine whose cores the service, the server and wrk share.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() {
	local total=0 pid
	for pid in $(pgrep -x postgres); do total=$((total + $(proc_ticks "${pid}"))); done
	echo "${total}"
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
cpu_sample() { echo "$(proc_ticks "${service_pid}") $(postgres_ticks) $(busy_ticks)"; }

# --- data for the scenarios ----------------------------------------------------------------------

# Disjoint people per scenario, so that one scenario's writes do not change another's reads
# (registrations grow a caseload, visits empty a worklist).
choose_people() {
	local db=$1 secretaries
	secretaries=$(sql "${db}" "SELECT count(*) FROM users WHERE profession = 'social_secretary'")
	per=$((secretaries / 5))
	((per > 8)) && per=8
	((per < 1)) && per=1
	mapfile -t ordered < <(sql "${db}" "SELECT username FROM users WHERE profession = 'social_secretary' ORDER BY md5(username)")
	# (A data set too small for four disjoint groups shares them round the list.)
	slice() { local from=$((($1 * per) % secretaries)); printf '%s\n' "${ordered[@]:from:per}"; }
	mapfile -t people_a < <(slice 0)
	mapfile -t people_b < <(slice 1)
	mapfile -t people_c < <(slice 2)
	mapfile -t people_d < <(slice 3)
	local used
	used=$(printf "'%s'," "${ordered[@]:0:$((4 * per))}")
	local waiting="EXISTS (SELECT 1 FROM child_secretaries cs WHERE cs.user_id = u.id
		AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.child_id = cs.child_id))"
	mapfile -t people_g < <(sql "${db}" "SELECT u.username FROM users u
		WHERE u.profession = 'social_secretary' AND u.username NOT IN (${used%,}) AND ${waiting}
		ORDER BY md5(u.username) LIMIT ${per}")
	# A small data set may have no secretary with a waiting child left over.
	((${#people_g[@]} > 0)) || mapfile -t people_g < <(sql "${db}" "SELECT u.username FROM users u
		WHERE u.profession = 'social_secretary' AND ${waiting} ORDER BY md5(u.username) LIMIT ${per}")
	mapfile -t people_e < <(sql "${db}" "SELECT username FROM users WHERE profession = 'unit_manager' ORDER BY md5(username) LIMIT ${per}")
}

# Rows of "token<TAB>…" for each scenario, logged in just before it runs (tokens live 15 min).
prepare() {
	local db=$1 scenario=$2 file=$3 user token i
	: >"${file}"
	case ${scenario} in
	worklist)
		for user in "${people_a[@]}"; do login "${user}" >>"${file}" && echo >>"${file}"; done
		;;
	child_read | visit)
		local people=("${people_b[@]}") placed=""
		[[ ${scenario} == visit ]] && people=("${people_c[@]}") &&
			placed="AND EXISTS (SELECT 1 FROM placements p WHERE p.child_id = cs.child_id)"
		for user in "${people[@]}"; do
			token=$(login "${user}")
			sql "${db}" "SELECT cs.child_id FROM child_secretaries cs JOIN users u ON u.id = cs.user_id
				WHERE u.username = '${user}' ${placed}" | sed "s/^/${token}\t/" >>"${file}"
		done
		;;
	register)
		for user in "${people_d[@]}"; do
			token=$(login "${user}")
			sql "${db}" "SELECT unit_id FROM users WHERE username = '${user}'" | sed "s/^/${token}\t/" >>"${file}"
		done
		;;
	capacity)
		for user in "${people_e[@]}"; do login "${user}" >>"${file}" && echo >>"${file}"; done
		;;
	placement)
		for user in "${people_g[@]}"; do
			token=$(login "${user}")
			sql "${db}" "SELECT cs.child_id FROM child_secretaries cs JOIN users u ON u.id = cs.user_id
				WHERE u.username = '${user}'
				  AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.child_id = cs.child_id)" |
				sed "s/^/${token}\t/" >>"${file}"
		done
		;;
	service_placements | audit_by_child)
		local tokens=() protected=""
		for ((i = 0; i < per; i++)); do
			if [[ ${scenario} == service_placements ]]; then
				tokens+=("$(login_client bench-placements)")
			else
				tokens+=("$(login auditor-1)")
			fi
		done
		[[ ${scenario} == service_placements ]] && protected="WHERE protection_level = 'none'"
		i=0
		while read -r child; do
			printf '%s\t%s\n' "${tokens[i % per]}" "${child}" >>"${file}"
			i=$((i + 1))
		done < <(sql "${db}" "SELECT id FROM children ${protected} ORDER BY md5(id::text) LIMIT 2000")
		;;
	esac
	[[ -s ${file} ]] || die "no data for scenario ${scenario}"
}

scenarios=(worklist child_read visit register capacity service_placements placement audit_by_child)

run_scenario() {
	local scale=$1 db=$2 scenario=$3 n=$4 file=$5 threads position out result
	threads=$((n < 2 ? n : 2))
	drain
	position=$(sql "${db}" 'SELECT coalesce(max(position), 0) FROM audit_chain')
	# The backlog as the service reports it, twice a second while wrk runs.
	(while sleep 0.5; do backlog || true; done) >"${work}/backlog" 2>/dev/null &
	sampler_pid=$!
	say "${scale}: ${scenario}, ${n} connections"
	local cpu_before cpu_after
	cpu_before=$(cpu_sample)
	out=$(BENCH_DATA="${file}" wrk "-t${threads}" "-c${n}" "-d${seconds}s" --latency --timeout 30s \
		-s "bench/wrk/${scenario}.lua" "${base}" 2>&1) || die "wrk failed: ${out}"
	cpu_after=$(cpu_sample)
	kill "${sampler_pid}" 2>/dev/null || true
	wait "${sampler_pid}" 2>/dev/null || true
	sampler_pid=""
	local cpu
	cpu=$(echo "${cpu_before} ${cpu_after} $(getconf CLK_TCK) $(nproc) ${seconds}" | awk '{
		printf "{\"service_s\": %.3f, \"postgres_s\": %.3f, \"busy_s\": %.3f, \"cores\": %d, \"seconds\": %d}",
			($4 - $1) / $7, ($5 - $2) / $7, ($6 - $3) / $7, $8, $9 }')
	result=$(grep '^BENCH_RESULT ' <<<"${out}" | cut -d' ' -f2-)
	[[ -n ${result} ]] || die "wrk printed no result: ${out}"
	drain
	local lag
	lag=$(sql "${db}" "SELECT json_build_object('sealed', count(*),
			'max_s', coalesce(max(extract(epoch FROM sealed_at - queued_at)), 0),
			'p99_s', coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sealed_at - queued_at)), 0))
		FROM audit_chain WHERE position > ${position}")
	local peak
	peak=$(jq -s '{events: (map(.events) | max // 0), oldest_s: (map(.oldest_seconds) | max // 0)}' "${work}/backlog")
	record --arg scale "${scale}" --arg scenario "${scenario}" --argjson clients "${n}" \
		--argjson wrk "${result}" --argjson lag "${lag}" --argjson backlog "${peak}" --argjson vmhwm_kb "$(vmhwm)" \
		--argjson cpu "${cpu}" \
		'{type: "scenario", scale: $scale, scenario: $scenario, clients: $clients, wrk: $wrk,
		  lag: $lag, backlog: $backlog, vmhwm_kb: $vmhwm_kb, cpu: $cpu}'
	jq -r '"    \(.rps) req/s, p99 \(.p99_ms) ms, unexpected \(.unexpected), \(.answers)"' <<<"${result}" >&2
}

# The plans of the hot requests, as the service runs them: auto_explain logs every statement of
# one warm request of each scenario (with ANALYZE and BUFFERS) to the server log, read back from
# there.
probe_plans() {
	local scale=$1 db=$2 log
	log=$(ls /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1 || true)
	if [[ -z ${log} || ! -r ${log} ]]; then
		say "warning: no readable server log; no plans recorded"
		return 0
	fi
	say "${scale}: probing the plans of each scenario's request (auto_explain)"
	sql postgres "ALTER DATABASE ${db} SET session_preload_libraries = 'auto_explain'"
	for s in "log_min_duration = 0" "log_analyze = on" "log_buffers = on" "log_timing = on" "log_triggers = on" "log_nested_statements = on"; do
		sql postgres "ALTER DATABASE ${db} SET auto_explain.${s}"
	done
	stop_service
	start_service "${db}"
	local secretary child visitor placed registrar unit placer waiting manager auditor system other from to at
	secretary=$(login "${people_a[0]}")
	child=$(sql "${db}" "SELECT cs.child_id FROM child_secretaries cs JOIN users u ON u.id = cs.user_id
		WHERE u.username = '${people_a[0]}' ORDER BY cs.child_id LIMIT 1")
	visitor=$(login "${people_c[0]}")
	placed=$(sql "${db}" "SELECT cs.child_id FROM child_secretaries cs JOIN users u ON u.id = cs.user_id
		WHERE u.username = '${people_c[0]}' AND EXISTS (SELECT 1 FROM placements p WHERE p.child_id = cs.child_id)
		ORDER BY cs.child_id LIMIT 1")
	registrar=$(login "${people_d[0]}")
	unit=$(sql "${db}" "SELECT unit_id FROM users WHERE username = '${people_d[0]}'")
	# A child still waiting, if (g) left one, placed by her own secretary.
	local waiting_row
	waiting_row=$(sql "${db}" "SELECT cs.child_id || ' ' || u.username FROM child_secretaries cs
		JOIN users u ON u.id = cs.user_id
		ORDER BY EXISTS (SELECT 1 FROM placements p WHERE p.child_id = cs.child_id), u.username = '${people_g[0]}' DESC
		LIMIT 1")
	waiting=${waiting_row%% *}
	placer=$(login "${waiting_row##* }")
	manager=$(login "${people_e[0]}")
	auditor=$(login auditor-1)
	system=$(login_client bench-placements)
	other=$(sql "${db}" "SELECT id FROM children WHERE protection_level = 'none' ORDER BY md5(id::text) LIMIT 1")
	from=$(date -u -d '-365 days' +%Y-%m-%dT%H:%M:%SZ)
	to=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	at=$(date -u -d '-30 minutes' +%Y-%m-%dT%H:%M:%SZ)
	# name|token|method|path|body
	local probes=(
		"worklist|${secretary}|GET|/api/v1/me/worklist|"
		"child_read|${secretary}|GET|/api/v1/children/${child}|"
		"visit|${visitor}|POST|/api/v1/children/${placed}/visits|{\"occurred_at\":\"${at}\",\"mode\":\"home_visit\",\"at_placement\":true,\"completed\":true,\"spoke_alone\":true,\"planned\":true}"
		"register|${registrar}|POST|/api/v1/children|{\"given_name\":\"Bench\",\"family_name\":\"Probe-NONCE\",\"date_of_birth\":\"2011-04-04\",\"sex\":\"male\",\"asylum_status\":\"asylum_seeker\",\"responsible_unit_id\":\"${unit}\"}"
		"capacity|${manager}|GET|/api/v1/reports/capacity?days=90|"
		"service_placements|${system}|GET|/api/v1/children/${other}/placements|"
		"placement|${placer}|POST|/api/v1/children/${waiting}/placements|{\"facility_id\":\"${BENCH_FACILITY}\",\"start_date\":\"${BENCH_TODAY}\",\"legal_basis\":\"SoL2025-insats\",\"decision_reference\":\"BENCH-PROBE\"}"
		"audit_by_child|${auditor}|GET|/api/v1/audit-events?child_id=${child}&from=${from}&to=${to}|"
	)
	local offset round probe name token method path body
	for round in warm measured; do
		[[ ${round} == measured ]] && { drain; offset=$(stat -c %s "${log}"); }
		for probe in "${probes[@]}"; do
			IFS='|' read -r name token method path body <<<"${probe}"
			[[ ${round} == measured ]] && sql postgres "DO \$\$BEGIN RAISE LOG 'trygg-bench-probe: ${name}'; END\$\$"
			if [[ ${method} == GET ]]; then
				curl -s -o /dev/null -H "Authorization: Bearer ${token}" "${base}${path}"
			else
				curl -s -o /dev/null -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' \
					--data-binary "${body//NONCE/${round}}" "${base}${path}"
			fi
			sleep 0.3
		done
	done
	sql postgres "DO \$\$BEGIN RAISE LOG 'trygg-bench-probe: end'; END\$\$"
	sleep 1
	python3 bench/national_report.py plans "${log}" "${offset}" "${db}" "${scale}" >>"${records}"
	stop_service
	sql postgres "ALTER DATABASE ${db} RESET ALL"
}

# --- each scale ----------------------------------------------------------------------------------

for scale in "${scales[@]}"; do
	case ${scale} in
	national) divisor=1 ;;
	tenth) divisor=10 ;;
	*) die "unknown scale ${scale} (national or tenth)" ;;
	esac
	children=$((national_children / divisor))
	facilities=$((national_children * 1000 / 35000 / divisor))
	((facilities < 10)) && facilities=10
	units=$((national_children * 290 / 35000 / divisor))
	((units < 2)) && units=2
	# Every unit needs an HVB home besides the nearly full one and a supported housing.
	((units > (facilities - 1) / 2)) && units=$(((facilities - 1) / 2))
	events=$((national_events / divisor))
	db="trygg_bench_${scale}"
	databases+=("${db}")

	say "${scale}: seeding ${children} children, ${facilities} facilities, ${units} units, ${events} events"
	sql postgres "DROP DATABASE IF EXISTS ${db}"
	sql postgres "CREATE DATABASE ${db}"
	RUST_LOG=warn "${trygg}" migrate --database-url "${server_url}/${db}" >/dev/null
	seed_start=$(date +%s.%N)
	psql "${server_url}/${db}" -Xq -v ON_ERROR_STOP=1 -v children="${children}" -v facilities="${facilities}" \
		-v units="${units}" -v events="${events}" -v password_hash="${password_hash}" -f bench/seed.sql >/dev/null
	seed_end=$(date +%s.%N)
	# autovacuum may be off: a long-running database has been vacuumed and analysed.
	sql "${db}" 'VACUUM ANALYZE'
	vacuum_end=$(date +%s.%N)
	counts=$(sql "${db}" "SELECT json_build_object(
		'children', (SELECT count(*) FROM children), 'facilities', (SELECT count(*) FROM facilities),
		'units', (SELECT count(*) FROM units), 'users', (SELECT count(*) FROM users),
		'secretaries', (SELECT count(*) FROM users WHERE profession = 'social_secretary'),
		'placements', (SELECT count(*) FROM placements), 'schedules', (SELECT count(*) FROM contact_schedules),
		'visits', (SELECT count(*) FROM visits), 'reviews', (SELECT count(*) FROM placement_reviews),
		'events', (SELECT count(*) FROM audit_events), 'database_mb', pg_database_size(current_database()) / 1048576,
		'events_mb', pg_total_relation_size('audit_events') / 1048576)")
	record --arg scale "${scale}" --argjson counts "${counts}" \
		--argjson seed_s "$(awk "BEGIN {print ${seed_end} - ${seed_start}}")" --argjson vacuum_s "$(awk "BEGIN {print ${vacuum_end} - ${seed_end}}")" \
		'{type: "seed", scale: $scale, counts: $counts, seed_s: $seed_s, vacuum_s: $vacuum_s}'
	jq -c . <<<"${counts}" >&2

	start_service "${db}"
	choose_people "${db}"
	facility=$(sql "${db}" "SELECT id FROM facilities WHERE name = 'HVB-hem 1'")
	export BENCH_FACILITY="${facility}" BENCH_TODAY
	BENCH_TODAY=$(TZ=Europe/Stockholm date +%F)
	export BENCH_NONCE BENCH_FROM BENCH_TO
	BENCH_NONCE=$(openssl rand -hex 3)
	for scenario in "${scenarios[@]}"; do
		BENCH_FROM=$(date -u -d '-365 days' +%Y-%m-%dT%H:%M:%SZ)
		BENCH_TO=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
		prepare "${db}" "${scenario}" "${work}/${scenario}.tsv"
		for n in "${client_counts[@]}"; do
			run_scenario "${scale}" "${db}" "${scenario}" "${n}" "${work}/${scenario}.tsv"
		done
	done
	record --arg scale "${scale}" --argjson vmhwm_kb "$(vmhwm)" \
		--arg placed "$(sql "${db}" "SELECT count(*) FROM placements WHERE facility_id = '${facility}' AND created_at > now() - interval '1 day'")" \
		'{type: "service", scale: $scale, vmhwm_kb: $vmhwm_kb, placed_in_full_home: ($placed | tonumber)}'
	probe_plans "${scale}" "${db}"
	stop_service
	if [[ ${keep} != 1 ]]; then
		sql postgres "DROP DATABASE ${db}"
	fi
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
record --arg load_after "${load_after}" --arg ended "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg others "$(others || true)" \
	'{type: "end", load_after: $load_after, ended: $ended, others: $others}'

# --- the report ------------------------------------------------------------------------------------

section_file="${work}/section.md"
python3 bench/national_report.py report "${records}" >"${section_file}"
if [[ ! -f ${results} ]]; then
	printf '# Benchmarks\n\nRun by hand; not part of CI. Each section is written by the script it names.\n' >"${results}"
fi
# Other benchmarks keep their sections of the file: only ours is replaced (or added).
awk -v section_file="${section_file}" '
	function put() { while ((getline line < section_file) > 0) print line; done = 1 }
	/^<!-- bench\/national\.sh: start/ { put(); skipping = 1; next }
	skipping && /^<!-- bench\/national\.sh: end -->/ { skipping = 0; next }
	!skipping { print }
	END { if (!done) { print ""; put() } }
' "${results}" >"${results}.new"
mv "${results}.new" "${results}"
say "wrote ${results}"
