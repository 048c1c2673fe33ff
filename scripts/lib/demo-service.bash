# Helpers shared by the scripts that run outside tools against a real Trygg: scripts/schemathesis,
# scripts/validate-spec and clients/python/story.sh. Source it from the repository root:
#
#   source scripts/lib/demo-service.bash
#
# pinned_tool VENV PACKAGE VERSION   install PACKAGE==VERSION into the virtual environment VENV
#                                    (under target/), unless it already holds that version
# serve_demo DB OUT [VAR=value...]   build the service (debug), create database DB afresh on
#                                    PG_URL, migrate, load the demo story, serve it in
#                                    development mode on a free port (with the extra variables);
#                                    sets TRYGG, URL, DEMO_PASSWORD and SERVER_PID, and stops the
#                                    service on exit. Logs go to OUT/.
#
# The caller defines say and die, and may set PG_URL (default postgres://postgres@127.0.0.1:5432).

pinned_tool() {
	local venv=$1 package=$2 version=$3 have=""
	if [[ -x ${venv}/bin/python ]]; then
		have=$("${venv}/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' \
			"${package}" 2>/dev/null || true)
	fi
	[[ ${have} == "${version}" ]] && return 0
	say "Installing ${package} ${version} into ${venv}"
	[[ -x ${venv}/bin/python ]] || python3 -m venv "${venv}"
	"${venv}/bin/pip" install --quiet --disable-pip-version-check "${package}==${version}"
}

serve_demo() {
	local db=$1 out=$2
	shift 2
	local pg_url=${PG_URL:-postgres://postgres@127.0.0.1:5432} tool
	for tool in curl psql python3; do
		command -v "${tool}" >/dev/null || die "${tool} is needed"
	done

	say "Building the service (debug)"
	cargo build --quiet --bin trygg
	TRYGG=target/debug/trygg

	mkdir -p "${out}"
	export TRYGG_DEV=1 DATABASE_URL="${pg_url}/${db}"
	export TRYGG_AUDIT_CHECKPOINT_FILE=${out}/audit-checkpoints.jsonl RUST_LOG=${RUST_LOG:-warn}

	say "Creating database ${db} afresh"
	PGOPTIONS="-c client_min_messages=warning" psql "${pg_url}/postgres" -qX -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS ${db} WITH (FORCE)" -c "CREATE DATABASE ${db}" >/dev/null
	"${TRYGG}" migrate >"${out}/migrate.log" 2>&1 || {
		cat "${out}/migrate.log" >&2
		die "migrate failed"
	}
	"${TRYGG}" seed-demo >"${out}/seed.log" 2>&1 || {
		cat "${out}/seed.log" >&2
		die "seed-demo failed"
	}
	DEMO_PASSWORD=$(sed -n 's/.*password (new on each run): \(.*\)$/\1/p' "${out}/seed.log")
	[[ -n ${DEMO_PASSWORD} ]] || die "no demo password in the output of seed-demo (${out}/seed.log)"

	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	URL=http://127.0.0.1:${port}
	env "$@" TRYGG_BIND="127.0.0.1:${port}" "${TRYGG}" serve >"${out}/serve.log" 2>&1 &
	SERVER_PID=$!
	trap stop_demo EXIT
	local _
	for _ in $(seq 1 60); do
		curl -fs "${URL}/health/ready" >/dev/null && break
		kill -0 "${SERVER_PID}" 2>/dev/null || {
			cat "${out}/serve.log" >&2
			die "the service stopped"
		}
		sleep 0.5
	done
	curl -fs "${URL}/health/ready" >/dev/null || die "the service is not ready at ${URL}"
	say "Serving at ${URL}"
}

stop_demo() {
	kill "${SERVER_PID}" 2>/dev/null || true
	wait "${SERVER_PID}" 2>/dev/null || true
}
