#!/usr/bin/env bash
# The GitHub Action (action.yml + integrations/github-action/run.sh), run outside GitHub: the
# steps of action.yml run in order as a runner would run them (tests/dist/run-action.py: inputs,
# `if:`, `env:`, GITHUB_OUTPUT/GITHUB_PATH between steps; upload-sarif is recorded, not called),
# in a temporary GITHUB_WORKSPACE holding the bad and the clean fixture. Cases:
#   1. install: pip from the wheel tests/dist/wheel.sh built (PIP_NO_INDEX: nothing downloaded),
#      version pinned; bad + clean fixtures: exit-code 1, the job fails, SARIF uploaded
#   2. install: none (the debug build on PATH), the clean fixture: exit 0, the job passes
#   3. fail-on: never, upload: false, a relative sarif-file: exit 0, findings, no upload
#   4. a path that does not exist: exit-code 2, the job fails, the SARIF still says why
#   5. fail-on: sometimes: the lint step refuses it, the job fails
# Every SARIF written is validated against ../shared/schemas/sarif-schema-2.1.0.json.
#
#   tests/dist/action.sh [--wheel FILE] [--binary FILE]
#     defaults: the one wheel in $CARGO_TARGET_DIR/wheels, $CARGO_TARGET_DIR/debug/tap-lint
# Prints one PASS/FAIL line; exits non-zero on failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
start=$SECONDS
fail() { echo "action: FAIL: $*" >&2; exit 1; }

. "$repo/tests/dist/lib.sh"
target="$(dist_target)"
wheel="" binary="$target/debug/tap-lint"
while [ $# -gt 0 ]; do
    case "$1" in
    --wheel) wheel="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    *) echo "usage: $0 [--wheel FILE] [--binary FILE]" >&2; exit 2 ;;
    esac
done
[ -n "$wheel" ] || wheel="$(built_wheel "$target")"
[ -f "$wheel" ] || fail "no wheel $wheel"
[ -x "$binary" ] || fail "no tap-lint binary $binary: run cargo build first"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"   # it is linked from a temp dir
schema="$repo/../shared/schemas/sarif-schema-2.1.0.json"
[ -f "$schema" ] || fail "no SARIF schema at $schema (shared/ beside the repository)"
venv="$("$repo/tests/dist/venv.sh")"
py="$venv/bin/python"
version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["package"]["version"])' \
    "$repo/linter/Cargo.toml")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$binary" "$work/bin/tap-lint"

# One run of the action in a fresh workspace and runner temp: run_case NAME PATH_PREFIX INPUT=VALUE...
run_case() {
    local name="$1" path_prefix="$2"
    shift 2
    local case_dir="$work/$name"
    mkdir -p "$case_dir/workspace" "$case_dir/runner-temp"
    cp -r "$repo/fixtures/noncompliant" "$repo/fixtures/compliant" "$case_dir/workspace/"
    (
        cd "$case_dir/workspace"
        env GITHUB_WORKSPACE="$case_dir/workspace" RUNNER_TEMP="$case_dir/runner-temp" \
            PATH="$path_prefix/usr/bin:/bin" PIP_NO_INDEX=1 \
            "$py" "$repo/tests/dist/run-action.py" "$repo" "$case_dir/report.json" "$@"
    ) || fail "$name: the action could not be run (see above)"
}

# check NAME PYTHON-ASSERTIONS: `r` is the run's report, `steps` its steps by name, `sarif(p)`
# loads and validates a SARIF file, `ws` is the workspace.
check() {
    "$py" - "$work/$1" "$schema" "$2" <<'PY' || fail "$1 (see above)"
import json, os, sys
import jsonschema
case_dir, schema_path, assertions = sys.argv[1:]
r = json.load(open(os.path.join(case_dir, "report.json")))
steps = {s["name"]: s for s in r["steps"]}
ws = os.path.join(case_dir, "workspace")
schema = json.load(open(schema_path))
def sarif(path):
    doc = json.load(open(path))
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    return doc
def results(doc):
    return [res for run in doc["runs"] for res in run["results"]]
try:
    exec(assertions)
except (AssertionError, jsonschema.ValidationError) as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    for s in r["steps"]:
        print(json.dumps(s, indent=1)[:3000], file=sys.stderr)
    sys.exit(1)
PY
}

# 1. From the wheel, as `pip install tap-lint==VERSION` would, with the version check.
run_case pip "" install=pip "package=$wheel" "version=$version" paths="noncompliant compliant"
check pip "
assert steps['Install tap-lint']['status'] == 0
assert '$version' in steps['Install tap-lint']['stdout'] and 'tap-lint-venv' in steps['Install tap-lint']['stdout']
lint = steps['Lint']
assert lint['status'] == 0, 'the lint step itself never fails'
assert r['outputs']['exit-code'] == '1' and int(r['outputs']['findings']) > 0, r['outputs']
assert '::error file=noncompliant/template.json,line=' in lint['stdout'], 'no annotation'
up = steps['Upload SARIF to code scanning']
assert up['ran'] and up['uses'].startswith('github/codeql-action/upload-sarif@'), up
assert up['with'] == {'sarif_file': r['outputs']['sarif-file'], 'category': 'tap-lint'}, up['with']
doc = sarif(up['with']['sarif_file'])
found = {(res['ruleId'], res['locations'][0]['physicalLocation']['artifactLocation']['uri']) for res in results(doc)}
assert ('TAP201', 'noncompliant/template.json') in found and ('TAP301', 'noncompliant/template.yaml') in found, found
assert not any(uri.startswith('compliant/') for _, uri in found), found
assert len(results(doc)) == int(r['outputs']['findings'])
assert steps['Fail on findings']['ran'] and steps['Fail on findings']['status'] == 1 and r['failed']
assert 'finding(s)' in open(r['step_summary']).read()
"

# 2. A binary already on PATH; a clean template passes the job.
run_case none "$work/bin:" install=none paths=compliant
check none "
assert r['outputs']['exit-code'] == '0' and r['outputs']['findings'] == '0', r['outputs']
assert results(sarif(r['outputs']['sarif-file'])) == []
assert steps['Upload SARIF to code scanning']['ran']
assert not steps['Fail on findings']['ran'] and not r['failed']
"

# 3. fail-on: never reports but passes; upload off; a sarif-file relative to the workspace.
run_case never "$work/bin:" install=none paths=noncompliant fail-on=never upload=false sarif-file=reports/tap.sarif
check never "
assert r['outputs']['exit-code'] == '0' and int(r['outputs']['findings']) > 0, r['outputs']
assert r['outputs']['sarif-file'] == os.path.join(ws, 'reports/tap.sarif')
assert len(results(sarif(os.path.join(ws, 'reports/tap.sarif')))) == int(r['outputs']['findings'])
assert not steps['Upload SARIF to code scanning']['ran'] and not r['failed']
"

# 4. A missing path is an input error: exit 2 fails the job whatever fail-on says; the SARIF
#    (uploaded all the same) carries the error as a notification.
run_case missing "$work/bin:" install=none paths="compliant missing.yaml" fail-on=never
check missing "
assert r['outputs']['exit-code'] == '2', r['outputs']
doc = sarif(r['outputs']['sarif-file'])
notes = [n['message']['text'] for run in doc['runs'] for inv in run['invocations'] for n in inv['toolExecutionNotifications']]
assert any('no such file' in n for n in notes), notes
assert steps['Fail on findings']['status'] == 2 and r['failed']
"

# 5. A fail-on value tap-lint does not know is refused by the lint step.
run_case badinput "$work/bin:" install=none paths=compliant fail-on=sometimes
check badinput "
assert steps['Lint']['status'] == 2 and 'fail-on must be' in steps['Lint']['stderr'], steps['Lint']
assert r['failed'] and not steps['Upload SARIF to code scanning']['ran'] and not steps['Fail on findings']['ran']
"

echo "action: PASS (action.yml run step by step: pip install of the wheel, install none, fail-on," \
    "upload off, missing path, bad input; every SARIF valid against SARIF 2.1.0; $((SECONDS - start))s)"
