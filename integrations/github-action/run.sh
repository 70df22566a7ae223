#!/usr/bin/env bash
# The logic of the tap-lint GitHub Action (action.yml at the repository root), one subcommand
# per step, so that it runs and is tested outside GitHub (tests/dist/action.sh):
#
#   run.sh install   put tap-lint on the PATH of the following steps ($GITHUB_PATH)
#   run.sh lint      lint the paths: annotations on stdout, SARIF to a file; never fails the
#                    step, writes exit-code, findings and sarif-file to $GITHUB_OUTPUT
#   run.sh verdict   fail the job when the lint's exit code says so
#
# Inputs come as environment variables (a composite action passes them explicitly):
#   INPUT_INSTALL     pip (default) | cargo | none
#   INPUT_VERSION     version to install ('' = the newest on PyPI; with cargo: must match the source)
#   INPUT_PACKAGE     what pip installs instead of tap-lint[==version] (a wheel file, a requirement)
#   INPUT_PATHS       whitespace-separated templates, folders, cdk.out assemblies (default cdk.out)
#   INPUT_FAIL_ON     error | warning (default) | info | never
#   INPUT_SARIF_FILE  where the SARIF goes (default $RUNNER_TEMP/tap-lint.sarif)
#   INPUT_ARGS        more tap-lint options, whitespace-separated (e.g. --config ci/.tap-lint.yaml)
#   EXIT_CODE         (verdict) the lint step's exit-code output
# and GitHub's own: GITHUB_WORKSPACE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH,
# GITHUB_STEP_SUMMARY (optional), GITHUB_ACTION_PATH (the action's checkout).
set -euo pipefail
set -f   # inputs are split on whitespace, never globbed

die() { echo "::error title=tap-lint action::$*" >&2; exit 2; }
need() { [ -n "${!1:-}" ] || die "$1 is not set (the action runs on a GitHub runner, or a test sets it)"; }
output() { need GITHUB_OUTPUT; printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; }

install() {
    need RUNNER_TEMP
    need GITHUB_PATH
    local how="${INPUT_INSTALL:-pip}" version="${INPUT_VERSION:-}" bin
    case "$how" in
    pip)
        local venv="$RUNNER_TEMP/tap-lint-venv" spec="${INPUT_PACKAGE:-}"
        [ -n "$spec" ] || spec="tap-lint${version:+==$version}"
        # A venv of its own: the runner's Python may be externally managed (PEP 668), and the
        # job's own environment stays untouched.
        python3 -m venv "$venv" || die "python3 -m venv failed (add actions/setup-python before this action)"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$spec" ||
            die "pip install $spec failed"
        bin="$venv/bin"
        ;;
    cargo)
        local src="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}" have
        have="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$src/linter/Cargo.toml" | head -n 1)"
        [ -z "$version" ] || [ "$version" = "$have" ] ||
            die "version $version asked, but this action's source is tap-lint $have: pin the action to that release, or use install: pip"
        command -v cargo >/dev/null || die "install: cargo needs Rust on the runner (dtolnay/rust-toolchain)"
        cargo install --locked --root "$RUNNER_TEMP/tap-lint-cargo" --path "$src/linter" ||
            die "cargo install failed"
        bin="$RUNNER_TEMP/tap-lint-cargo/bin"
        ;;
    none)
        local found
        found="$(command -v tap-lint)" || die "install: none, but no tap-lint on PATH"
        bin="$(dirname "$found")"
        ;;
    *) die "install must be pip, cargo or none, not '$how'" ;;
    esac
    [ -x "$bin/tap-lint" ] || die "no tap-lint in $bin after install: $how"
    local got
    got="$("$bin/tap-lint" --version)" || die "$bin/tap-lint does not run"
    [ -z "$version" ] || [ "$got" = "tap-lint $version" ] || die "asked for tap-lint $version, installed $got"
    echo "$bin" >>"$GITHUB_PATH"
    echo "installed $got in $bin ($how)"
}

lint() {
    need GITHUB_WORKSPACE
    need RUNNER_TEMP
    local sarif="${INPUT_SARIF_FILE:-$RUNNER_TEMP/tap-lint.sarif}" json="$RUNNER_TEMP/tap-lint.json"
    local fail_on="${INPUT_FAIL_ON:-warning}" paths args status=0
    case "$fail_on" in error | warning | info | never) ;; *) die "fail-on must be error, warning, info or never, not '$fail_on'" ;; esac
    read -r -d '' -a paths <<<"${INPUT_PATHS:-cdk.out}" || true
    read -r -d '' -a args <<<"${INPUT_ARGS:-}" || true
    [ "${#paths[@]}" -gt 0 ] || die "paths is empty"
    command -v tap-lint >/dev/null || die "tap-lint is not on PATH (did the install step run?)"
    case "$sarif" in /*) ;; *) sarif="$GITHUB_WORKSPACE/$sarif" ;; esac
    mkdir -p "$(dirname "$sarif")"
    # From the workspace root: SARIF URIs are then relative to the checkout, as code scanning
    # expects, and the annotations point at the files of the pull request.
    cd "$GITHUB_WORKSPACE"
    tap-lint --fail-on "$fail_on" "${args[@]}" --format github \
        --format sarif --output "$sarif" --format json --output "$json" -- "${paths[@]}" || status=$?
    output exit-code "$status"
    [ -f "$sarif" ] || die "tap-lint (exit $status) wrote no SARIF to $sarif"
    output sarif-file "$sarif"
    local summary
    summary="$(python3 - "$json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(s["findings"], f'{s["findings"]} finding(s) ({s["error_findings"]} error, {s["warning_findings"]} warning, '
      f'{s["info_findings"]} info; {s["fixable"]} fixable with --fix) and {s["errors"]} error(s) in {s["files"]} file(s)')
PY
)" || die "tap-lint (exit $status) wrote no readable JSON report"
    output findings "${summary%% *}"
    echo "tap-lint: ${summary#* } (exit $status, fail-on $fail_on); SARIF: $sarif"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
        # shellcheck disable=SC2016 # the backticks are Markdown
        printf '### tap-lint\n\n%s, fail-on `%s`: exit %s.\n' "${summary#* }" "$fail_on" "$status" >>"$GITHUB_STEP_SUMMARY"
    fi
}

verdict() {
    case "${EXIT_CODE:-}" in
    0) echo "tap-lint: nothing at or above fail-on" ;;
    1) echo "::error title=tap-lint::findings at or above fail-on (${INPUT_FAIL_ON:-warning}); see the annotations and code scanning" >&2; exit 1 ;;
    '') die "EXIT_CODE is not set: the lint step failed before tap-lint ran (see its log)" ;;
    *) echo "::error title=tap-lint::tap-lint exited $EXIT_CODE: a usage, configuration or input error (see the lint step's log)" >&2; exit "$EXIT_CODE" ;;
    esac
}

case "${1:-}" in
install | lint | verdict) "$1" ;;
*) echo "usage: $0 install|lint|verdict" >&2; exit 2 ;;
esac
