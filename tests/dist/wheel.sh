#!/usr/bin/env bash
# The PyPI wheel, end to end: build it with maturin from pyproject.toml, install it into a fresh
# virtualenv with `pip install --no-index`, and run the `tap-lint` that pip put on the venv's
# PATH on a non-compliant fixture (exit 1, JSON naming the expected rules) and a compliant one
# (exit 0, no finding), from a folder outside the repository (the rule pack is embedded).
#
#   tests/dist/wheel.sh        leaves the tested wheel in $CARGO_TARGET_DIR/wheels/ (and says so)
#
# maturin comes from the cached dist venv (tests/dist/venv.sh). The build uses the release
# profile with the same overrides as the pre-commit round trip (no optimisation, incremental):
# this tests the packaging (metadata, platform tag, entry on PATH, exit codes), not the optimiser,
# and scripts/test runs it after the round trip, so every dependency is already compiled and the
# wheel costs one compile of the tap-lint crate. A release builds with plain
# `maturin build --release` (README.md, "Install").
# Prints one PASS/FAIL line; exits non-zero on failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
start=$SECONDS

fail() { echo "wheel: FAIL: $*" >&2; exit 1; }

venv="$("$repo/tests/dist/venv.sh")"
. "$repo/tests/dist/lib.sh"
target="$(dist_target)"
export CARGO_TARGET_DIR="$target"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_INCREMENTAL=true
version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["package"]["version"])' \
    "$repo/linter/Cargo.toml")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Build. Only this run's wheel may be left in the output folder: action.sh installs it.
out="$target/wheels"
mkdir -p "$out"
rm -f "$out"/tap_lint-*.whl
build_start=$SECONDS
(cd "$repo" && "$venv/bin/maturin" build --release --locked --quiet --out "$out") >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; fail "maturin build failed"; }
build_secs=$((SECONDS - build_start))
shopt -s nullglob
wheels=("$out"/tap_lint-*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $out, found ${#wheels[@]}"
wheel="${wheels[0]}"
name="$(basename "$wheel")"

# The file name: our version, any Python 3 (a binary, no ABI), a manylinux platform tag.
[[ "$name" =~ ^tap_lint-${version//./\\.}-py3-none-(manylinux_[0-9]+_[0-9]+_x86_64|manylinux_[0-9]+_[0-9]+_aarch64)\.whl$ ]] ||
    fail "unexpected wheel name $name (want tap_lint-$version-py3-none-manylinux_X_Y_<arch>.whl)"
tag="${BASH_REMATCH[1]}"
# auditwheel reads the tag back from the symbol versions the binary needs.
"$venv/bin/auditwheel" show "$wheel" >"$work/audit.log" 2>&1 || { cat "$work/audit.log" >&2; fail "auditwheel show failed"; }
grep -q "consistent with.*\"$tag\"" <(tr '\n' ' ' <"$work/audit.log") ||
    { cat "$work/audit.log" >&2; fail "auditwheel does not find $name consistent with $tag"; }

# The metadata pip and PyPI read.
"$venv/bin/python" - "$wheel" "$version" <<'PY' || fail "wheel metadata (see above)"
import sys, zipfile
wheel, version = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    meta = z.read(f"tap_lint-{version}.dist-info/METADATA").decode()
want = [f"Name: tap-lint", f"Version: {version}", "License-Expression: Apache-2.0",
        "Requires-Python: >=3.8", "Classifier: Programming Language :: Rust",
        "Description-Content-Type: text/markdown"]
missing = [w for w in want if not any(line.startswith(w) for line in meta.splitlines())]
script = f"tap_lint-{version}.data/scripts/tap-lint"
if missing or script not in names:
    print("missing from the wheel:", missing, "" if script in names else script, file=sys.stderr)
    sys.exit(1)
PY

# Install into a fresh venv, from the file alone.
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel" \
    >"$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; fail "pip install --no-index $name failed"; }
bin="$work/venv/bin/tap-lint"
[ -x "$bin" ] || fail "pip did not put tap-lint in $work/venv/bin"

# Run it as a user would: the venv's bin first on PATH, from a folder outside the repository.
mkdir "$work/project"
cp -r "$repo/fixtures/noncompliant" "$repo/fixtures/compliant" "$work/project/"
cd "$work/project"
run() { env PATH="$work/venv/bin:/usr/bin:/bin" tap-lint "$@"; }
[ "$(run --version)" = "tap-lint $version" ] || fail "tap-lint --version printed '$(run --version)'"

status=0
run --format json noncompliant >"$work/bad.json" 2>"$work/bad.err" || status=$?
[ "$status" -eq 1 ] || { cat "$work/bad.err" >&2; fail "on fixtures/noncompliant: exit $status, want 1 (findings)"; }
python3 - "$work/bad.json" <<'PY' || fail "JSON report on fixtures/noncompliant (see above)"
import json, sys
report = json.load(open(sys.argv[1]))
codes = {f["code"] for f in report["findings"]}
names = {f["name"] for f in report["findings"]}
want = {"TAP101", "TAP201", "TAP301", "TAP303", "TAP306", "TAP501", "TAP701"}
ok = (want <= codes and {"retain-deletion-policy", "hardcoded-credentials"} <= names
      and report["summary"]["error_findings"] > 0 and report["errors"] == []
      and {f["file"] for f in report["findings"]} == {"noncompliant/template.json", "noncompliant/template.yaml"})
if not ok:
    print("missing rules:", sorted(want - codes), "summary:", report["summary"],
          "errors:", report["errors"], file=sys.stderr)
    sys.exit(1)
PY

status=0
run --format json compliant >"$work/good.json" 2>"$work/good.err" || status=$?
[ "$status" -eq 0 ] || { cat "$work/good.json" "$work/good.err" >&2; fail "on fixtures/compliant: exit $status, want 0"; }
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(r["findings"] != [] or r["summary"]["files"] != 1)' \
    "$work/good.json" || { cat "$work/good.json" >&2; fail "fixtures/compliant: findings reported"; }

echo "wheel: PASS ($name, $(du -k "$wheel" | cut -f1) KiB, built in ${build_secs}s; pip install --no-index," \
    "noncompliant exit 1 with the expected rules, compliant exit 0; $((SECONDS - start))s)"
echo "wheel: left in $wheel" >&2
