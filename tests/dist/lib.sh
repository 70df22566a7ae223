# Sourced by the distribution tests (after they set `repo` and define `fail`): where cargo
# builds, and the wheel tests/dist/wheel.sh left there.

# CARGO_TARGET_DIR (or the repo's target/) as an absolute path.
dist_target() {
    local t="${CARGO_TARGET_DIR:-$repo/target}"
    case "$t" in /*) ;; *) t="$repo/$t" ;; esac
    echo "$t"
}

# The one tap-lint wheel in TARGET/wheels; fails when there is none or several.
built_wheel() {
    local found
    shopt -s nullglob
    found=("$1"/wheels/tap_lint-*.whl)
    shopt -u nullglob
    [ "${#found[@]}" -eq 1 ] || fail "want one wheel in $1/wheels (found ${#found[@]}): run tests/dist/wheel.sh first"
    echo "${found[0]}"
}
