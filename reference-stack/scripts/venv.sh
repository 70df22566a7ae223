#!/usr/bin/env bash
# Create (or reuse) the cached Python venv for the reference stack and print its path.
#
# The venv lives under ${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}/cdk-venv and is rebuilt only when
# requirements.txt changes: the sha256 of requirements.txt is written into the venv as the last
# step of a successful install, so an interrupted install is never trusted and a warm run costs
# one sha256sum.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$here/requirements.txt"
cache="${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}"
venv="$cache/cdk-venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

# Two callers at once (synth and tests in parallel) must not build over each other.
mkdir -p "$cache"
exec 9>"$cache/cdk-venv.lock"
flock 9

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv"
    exit 0
fi

echo "reference-stack: creating $venv (requirements.txt changed or no venv yet)" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
echo "$want" >"$stamp"
echo "$venv"
