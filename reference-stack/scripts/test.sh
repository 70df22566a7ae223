#!/usr/bin/env bash
# Run the reference stack's unit tests in the cached venv (see scripts/venv.sh).
#   reference-stack/scripts/test.sh [pytest args...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$here/scripts/venv.sh")"
cd "$here"
# The tests pin the placeholder asset themselves; unset so nothing else can leak in.
unset PROCESSOR_ASSET_DIR
JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
    exec "$venv/bin/python" -m pytest "$@"
