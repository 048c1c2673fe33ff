#!/usr/bin/env bash
# The client story: a Python client generated from api-spec/openapi.yaml by a generator no one
# here wrote (openapi-python-client) runs a whole story against a real Trygg.
#
#   clients/python/story.sh
#
# What it does: installs a pinned openapi-python-client into target/python-client-venv (once;
# the generated client needs only httpx and attrs, which come with it), generates the client
# afresh into target/python-client/trygg_client (never committed) and fails on any warning (an
# operation or schema the generator could not take), builds the service (debug), creates the
# database trygg_client_story afresh on the PostgreSQL at TRYGG_STORY_PG_URL (default
# postgres://postgres@127.0.0.1:5432), loads the demo story, serves it in development mode on a
# free port (no second factor), and runs clients/python/story.py with the generated client.
# Logs go to target/client-story/.
#
# Why here and not in scripts/: the story, the generator's settings (generator.yaml) and the one
# tweak the generator needs (generator_spec.py) belong to this client and sit beside it; a client
# in another language would go in clients/<language>/ the same way. The shared service helpers
# are in scripts/lib/demo-service.bash.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

readonly GENERATOR_VERSION=0.29.1
readonly VENV=target/python-client-venv
readonly CLIENT_DIR=target/python-client
readonly OUT=target/client-story
readonly DB_NAME=trygg_client_story
readonly SPEC=api-spec/openapi.yaml
PG_URL=${TRYGG_STORY_PG_URL:-postgres://postgres@127.0.0.1:5432}

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'client story: error: %s\n' "$*" >&2
	exit 1
}
# shellcheck source=../../scripts/lib/demo-service.bash
source scripts/lib/demo-service.bash

command -v python3 >/dev/null || die "python3 is needed"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
	die "python3 3.11 or newer is needed (the generated client uses typing.Self)"
pinned_tool "${VENV}" openapi-python-client "${GENERATOR_VERSION}"

rm -rf "${OUT}" "${CLIENT_DIR}"
mkdir -p "${OUT}" "${CLIENT_DIR}"
say "Generating the Python client from ${SPEC}"
# One tweak, for two bugs of the generator: see clients/python/generator_spec.py.
"${VENV}/bin/python" clients/python/generator_spec.py "${SPEC}" "${OUT}/openapi-for-generator.json" \
	2>"${OUT}/generator-spec.log" || {
	cat "${OUT}/generator-spec.log" >&2
	die "could not prepare the spec for the generator"
}
"${VENV}/bin/openapi-python-client" generate --path "${OUT}/openapi-for-generator.json" \
	--config clients/python/generator.yaml --meta none --output-path "${CLIENT_DIR}/trygg_client" \
	--fail-on-warning >"${OUT}/generate.log" 2>&1 || {
	cat "${OUT}/generate.log" >&2
	die "openapi-python-client could not generate the client from ${SPEC}"
}

serve_demo "${DB_NAME}" "${OUT}"

say "Running clients/python/story.py"
TRYGG_STORY_URL=${URL} TRYGG_STORY_PASSWORD=${DEMO_PASSWORD} PYTHONPATH=${CLIENT_DIR} \
	"${VENV}/bin/python" clients/python/story.py || {
	say "The service's log: ${OUT}/serve.log"
	exit 1
}
