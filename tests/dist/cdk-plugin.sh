#!/usr/bin/env bash
# The CDK synth-time plugin (integrations/cdk-python, `tap_lint_cdk.TapLint`), end to end: a tiny
# CDK app with a bad stack (an S3 bucket with RemovalPolicy.RETAIN and nothing else) and a clean
# one registers the plugin with `Validations.of(app).add_plugins(TapLint(...))` and synthesizes.
# (and an empty stack, which must not make the plugin fail)
#   1. default fail_on="error": the synth fails (ValidationFailed), and CDK's validation report
#      lists tap-lint's findings on the bad stack: rule, severity, fix, logical ID, template,
#      property path, construct path; none on the clean stack
#   2. fail_on="never": the same report, and the synth succeeds
# In 1, a warning acknowledged with Validations.of(stack).acknowledge("tap-lint::TAP703") is
# listed as suppressed, not as a violation; in 2, where nothing is acknowledged, it is a violation.
# The user's set-up is reproduced: the tap-lint wheel (from tests/dist/wheel.sh) is installed
# with pip --no-index into a fresh venv that sees the cached CDK venv's packages through a .pth
# file (no second CDK install), the plugin comes on PYTHONPATH, and the plugin finds the binary
# next to the venv's python, as it does after `pip install tap-lint`.
#
#   tests/dist/cdk-plugin.sh [--wheel FILE]     default: the one wheel in $CARGO_TARGET_DIR/wheels
# Prints one PASS/FAIL line; exits non-zero on failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
start=$SECONDS
fail() { echo "cdk plugin: FAIL: $*" >&2; exit 1; }

. "$repo/tests/dist/lib.sh"
target="$(dist_target)"
wheel=""
case "${1:-}" in
--wheel) wheel="$2" ;;
"") wheel="$(built_wheel "$target")" ;;
*) echo "usage: $0 [--wheel FILE]" >&2; exit 2 ;;
esac
[ -f "$wheel" ] || fail "no wheel $wheel"
cdk_venv="$("$repo/reference-stack/scripts/venv.sh")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
site="$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$cdk_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' >"$site/cdk-venv.pth"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel" >"$work/pip.log" 2>&1 ||
    { cat "$work/pip.log" >&2; fail "pip install --no-index $wheel failed"; }
[ -x "$work/venv/bin/tap-lint" ] || fail "the wheel put no tap-lint in $work/venv/bin"

cat >"$work/app.py" <<'PY'
import sys
from aws_cdk import Acknowledgment, App, CfnOutput, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_s3 as s3
from tap_lint_cdk import TapLint

outdir, fail_on = sys.argv[1], sys.argv[2]
app = App(outdir=outdir)
bad = Stack(app, "BadStack")
s3.Bucket(bad, "Archive", removal_policy=RemovalPolicy.RETAIN)
if fail_on == "default":  # CDK re-decides success when something is acknowledged (README)
    Validations.of(bad).acknowledge(Acknowledgment(id="tap-lint::TAP703", reason="nothing reads it yet"))
clean = Stack(app, "CleanStack")
bucket = s3.Bucket(clean, "Data", removal_policy=RemovalPolicy.DESTROY, encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                   lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(1095), transitions=[
                       s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(90))])])
CfnOutput(clean, "DataBucketName", value=bucket.bucket_name)
Stack(app, "EmptyStack")  # no resources at all: nothing to lint, not an error
Validations.of(app).add_plugins(TapLint() if fail_on == "default" else TapLint(fail_on=fail_on))
app.synth()
print("synth finished")
PY

synth() {  # synth NAME FAIL_ON: exit status in $work/NAME.status, output in $work/NAME.log
    local status=0
    (cd "$work" && env -u TAP_LINT_BIN PATH="/usr/bin:/bin" PYTHONPATH="$repo/integrations/cdk-python" \
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
        "$work/venv/bin/python" app.py "$work/$1.out" "$2") >"$work/$1.log" 2>&1 || status=$?
    echo "$status" >"$work/$1.status"
}

# check NAME CONCLUSION ACKNOWLEDGED: the validation report CDK wrote lists tap-lint's findings.
check() {
    python3 - "$work/$1.out/validation-report.json" "$2" "$3" <<'PY' || { cat "$work/$1.log" >&2; fail "$1: validation report (see above)"; }
import json, sys
path, conclusion, acknowledged = sys.argv[1:]
report = json.load(open(path))
plugins = [p for p in report["pluginReports"] if p["pluginName"] == "tap-lint"]
assert len(plugins) == 1, f"no tap-lint report in {path}"
plugin = plugins[0]
assert plugin["conclusion"] == conclusion, plugin["conclusion"]
assert plugin["pluginVersion"], "no plugin version"
summary = json.loads(plugin["metadata"]["summary"])
assert summary["files"] == 2 and summary["errors"] == 0, f"tap-lint did not lint the two stacks with resources: {summary}"
seen = {}
for v in plugin["violations"]:
    for c in v["violatingConstructs"]:
        res = c["cloudFormationResource"]
        seen.setdefault(v["ruleName"], []).append((v["severity"], res["templatePath"], res["logicalId"],
                                                   tuple(res["propertyPaths"]), c["constructPath"], v["suggestedFix"], v["description"]))
rows = [r for rs in seen.values() for r in rs]
assert all(t == "BadStack.template.json" for _, t, *_ in rows), "a finding outside BadStack: " + repr(rows)
retain = [r for r in seen.get("TAP201", []) if r[3] == ("DeletionPolicy",)]
assert retain, f"no TAP201 on DeletionPolicy: {seen.get('TAP201')}"
sev, _, logical, _, construct, fix, desc = retain[0]
assert sev == "error" and logical.startswith("Archive") and construct == "BadStack/Archive/Resource", retain[0]
assert fix == "Set DeletionPolicy to Delete" and desc.startswith("retain-deletion-policy: "), retain[0]
assert [r[0] for r in seen.get("TAP702", [])] and all(r[0] == "warning" for r in seen["TAP702"]), seen.get("TAP702")
assert any(r[3] == ("Properties.LifecycleConfiguration.Rules",) for r in seen["TAP702"]), seen["TAP702"]
# Acknowledged in the app by the rule name the plugin reports: moved out of the violations.
acked = [v for v in plugin.get("suppressedViolations") or [] if v["ruleName"] == "TAP703"]
if acknowledged == "yes":
    assert "TAP703" not in seen and acked and acked[0]["acknowledgedId"] == "tap-lint::TAP703", plugin.get("suppressedViolations")
else:
    assert "TAP703" in seen and not acked, (seen.get("TAP703"), acked)
PY
}

synth fail default
[ "$(cat "$work/fail.status")" -ne 0 ] || { cat "$work/fail.log" >&2; fail "synth with errors and fail_on=error succeeded"; }
grep -q "ValidationFailed" "$work/fail.log" || { cat "$work/fail.log" >&2; fail "the failed synth does not say ValidationFailed"; }
grep -q "Acknowledge with 'tap-lint::TAP201'" "$work/fail.log" || { cat "$work/fail.log" >&2; fail "CDK printed no tap-lint violation"; }
! grep -q "synth finished" "$work/fail.log" || fail "app.synth() returned despite errors"
check fail failure yes

synth never never
[ "$(cat "$work/never.status")" -eq 0 ] || { cat "$work/never.log" >&2; fail "synth with fail_on=never failed"; }
grep -q "synth finished" "$work/never.log" || { cat "$work/never.log" >&2; fail "synth with fail_on=never did not finish"; }
check never success no

echo "cdk plugin: PASS (Validations.of(app).add_plugins(TapLint()): errors fail the synth with tap-lint's" \
    "findings in CDK's report; fail_on=never reports and passes; clean stack silent; $((SECONDS - start))s)"
