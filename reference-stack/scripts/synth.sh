#!/usr/bin/env bash
# Synthesize the reference stack offline into OUTDIR (a cdk.out cloud assembly).
#
#   reference-stack/scripts/synth.sh OUTDIR
#
# No AWS credentials, no npm CDK CLI: runs `python3 app.py` in the cached venv with the
# cdk.json context (feature flags) passed the way the CLI passes it (CDK_CONTEXT_JSON).
# PROCESSOR_ASSET_DIR: directory holding the built processor `bootstrap`; unset, a fixed
# placeholder is used (unit tests, the committed fixture). ENVIRONMENT_SUFFIX sets the
# parameter's default (the same as `-c environmentSuffix=...`).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
outdir="$(cd "$1" && pwd)"
venv="$("$here/scripts/venv.sh")"

context="$("$venv/bin/python" - "$here/cdk.json" "${ENVIRONMENT_SUFFIX:-}" <<'PY'
import json, sys
ctx = json.load(open(sys.argv[1]))["context"]
if sys.argv[2]:
    ctx["environmentSuffix"] = sys.argv[2]
print(json.dumps(ctx))
PY
)"

# Synthesize into a side directory and swap it in only on success: a failed synth leaves the
# previous OUTDIR as it was, and stale assets never linger. Only an empty directory or an
# existing cloud assembly is ever cleared.
if [[ -n "$(ls -A "$outdir")" && ! -f "$outdir/manifest.json" ]]; then
    echo "$0: $outdir is not empty and not a cdk.out; refusing to overwrite it" >&2
    exit 2
fi
staging="$(mktemp -d "$outdir.synth.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# A relative PROCESSOR_ASSET_DIR means relative to where the script was called from.
if [[ -n "${PROCESSOR_ASSET_DIR:-}" && "$PROCESSOR_ASSET_DIR" != /* ]]; then
    export PROCESSOR_ASSET_DIR="$PWD/$PROCESSOR_ASSET_DIR"
fi
cd "$here"
CDK_OUTDIR="$staging" \
CDK_CONTEXT_JSON="$context" \
JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
    "$venv/bin/python" app.py

find "$outdir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
find "$staging" -mindepth 1 -maxdepth 1 -exec mv -t "$outdir" {} +
echo "reference-stack: synthesized $outdir/TapStack.template.json" >&2
