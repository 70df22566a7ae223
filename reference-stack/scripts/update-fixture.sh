#!/usr/bin/env bash
# Regenerate fixtures/reference-stack/TapStack.template.json, the synthesized template the
# linter's own tests lint without Python. Always from the placeholder asset, so the asset hash in
# the committed copy only changes when CDK or the stack does.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
env -u PROCESSOR_ASSET_DIR -u ENVIRONMENT_SUFFIX "$here/scripts/synth.sh" "$out"
mkdir -p "$here/../fixtures/reference-stack"
cp "$out/TapStack.template.json" "$here/../fixtures/reference-stack/TapStack.template.json"
echo "updated fixtures/reference-stack/TapStack.template.json" >&2
