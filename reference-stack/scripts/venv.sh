#!/usr/bin/env bash
# Create (or reuse) the cached Python venv for the reference stack and print its path.
#
# The venv lives under ${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}/cdk-venv and is rebuilt only when
# requirements.txt changes (its sha256 is stored in the venv), so CI pays the ~aws-cdk-lib
# install once per machine, not once per run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$here/requirements.txt"
cache="${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}"
venv="$cache/cdk-venv"
want="$(sha256sum "$req" | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv"
    exit 0
fi

mkdir -p "$cache"
# Build in a side directory and swap it in, so an interrupted install never leaves a half venv
# that a later run would trust.
tmp="$(mktemp -d "$cache/cdk-venv.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "reference-stack: creating venv in $venv (requirements changed or missing)" >&2
python3 -m venv "$tmp"
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
echo "$want" >"$tmp/.requirements.sha256"
rm -rf "$venv"
# A venv can be moved as long as it is used as "$venv/bin/python -m ..." (its console-script
# shebangs keep the temp path; our scripts never call them).
mv "$tmp" "$venv"
trap - EXIT
echo "$venv"
