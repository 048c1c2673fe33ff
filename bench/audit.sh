#!/usr/bin/env bash
# The cost of the audit log, measured by hand (never in CI):
#   (a) one million events appended through audit::append, then verify_chain over them;
#   (b) an audited write (and read) against the same work without the audit step.
# Builds examples/bench_audit.rs in release mode, runs it against a fresh database on the local
# PostgreSQL (dropped afterwards) and writes the figures with machine details to bench/RESULTS.md.
#
#   bench/audit.sh                          # the full run (a few minutes)
#   BENCH_EVENTS=100000 bench/audit.sh      # a quicker run
#
# TRYGG_BENCH_DATABASE_URL  server to use (default postgres://postgres@127.0.0.1:5432/postgres)
# BENCH_EVENTS              events for (a), default 1000000
# BENCH_WRITES              units of work per line of (b), default 2000
# BENCH_THREADS             connections for the concurrent lines of (b), default 8
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

server_url="${TRYGG_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TRYGG_BENCH_DATABASE_URL="${server_url}"
results=bench/RESULTS.md

echo "==> building the benchmark (release)" >&2
cargo build --release --example bench_audit >&2

psql_value() { psql "${server_url}" -XAtc "$1" 2>/dev/null || echo "unknown"; }

echo "==> running it (this takes a few minutes)" >&2
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
body=$(cargo run --quiet --release --example bench_audit)
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

section=$(
	echo "<!-- bench/audit.sh: start (generated; everything up to the end marker is replaced on each run) -->"
	echo "## Audit log (\`bench/audit.sh\`, \`examples/bench_audit.rs\`)"
	echo
	echo "| machine | |"
	echo "|---|---|"
	echo "| date (UTC) | ${started} |"
	echo "| CPU | $(nproc) × $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown) |"
	echo "| memory | $(free -h 2>/dev/null | awk '/^Mem:/ {print $2}' || echo unknown) |"
	echo "| OS | $(uname -sr) |"
	echo "| PostgreSQL | $(psql_value 'SHOW server_version') (fsync $(psql_value 'SHOW fsync'), synchronous_commit $(psql_value 'SHOW synchronous_commit'), full_page_writes $(psql_value 'SHOW full_page_writes'), shared_buffers $(psql_value 'SHOW shared_buffers')), on the same machine |"
	echo "| load average before / after | ${load_before} / ${load_after} |"
	echo "| build | \`cargo build --release\`, $(rustc --version) |"
	echo
	echo "${body}"
	echo "<!-- bench/audit.sh: end -->"
)

# Other benchmarks keep their sections of the file: only ours is replaced (or added).
if [[ ! -f ${results} ]]; then
	printf '# Benchmarks\n\nRun by hand; not part of CI. Each section is written by the script it names.\n' >"${results}"
fi
section_file=$(mktemp)
trap 'rm -f "${section_file}"' EXIT
printf '%s\n' "${section}" >"${section_file}"
awk -v section_file="${section_file}" '
	function put() { while ((getline line < section_file) > 0) print line; done = 1 }
	/^<!-- bench\/audit\.sh: start/ { put(); skipping = 1; next }
	skipping && /^<!-- bench\/audit\.sh: end -->/ { skipping = 0; next }
	!skipping { print }
	END { if (!done) { print ""; put() } }
' "${results}" >"${results}.new"
mv "${results}.new" "${results}"
echo "==> wrote ${results}" >&2
