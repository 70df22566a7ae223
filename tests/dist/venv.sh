#!/usr/bin/env bash
# Create (or reuse) the cached virtualenv of the distribution tests and print its path.
#
# One venv, ${TAP_CACHE_DIR:-~/.cache/tap-lint}/dist-venv, with pinned versions of what the
# tests of the wheel, the GitHub Action and the CDK plugin need around the binary:
#   maturin     builds the wheel (tests/dist/wheel.sh)
#   auditwheel  reads the wheel's platform tag back from the binary's symbol versions
#   jsonschema  validates the SARIF the Action writes (tests/dist/action.sh)
#   pyyaml      reads action.yml, whose steps tests/dist/run-action.py runs as a runner would
# The list below is written into the venv as the last step of a successful install, so an
# interrupted install is never trusted and a change of pin rebuilds it; a warm run costs a read.
set -euo pipefail

pins=(maturin==1.16.0 auditwheel==6.8.2 jsonschema==4.26.0 pyyaml==6.0.3)
cache="${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}"
venv="$cache/dist-venv"
stamp="$venv/.pins"
want="${pins[*]}"

mkdir -p "$cache"
exec 9>"$cache/dist-venv.lock"
flock 9

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv"
    exit 0
fi

echo "dist: creating $venv (${want})" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${pins[@]}" >&2 ||
    { echo "dist: pip could not install ${want} into $venv" >&2; exit 1; }
echo "$want" >"$stamp"
echo "$venv"
