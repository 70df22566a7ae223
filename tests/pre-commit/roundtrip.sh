#!/usr/bin/env bash
# pre-commit round trip: a throwaway git repo uses this repository (at its current commit) as a
# hook source; a commit with a bad template must be rejected, one with a good template accepted.
#
# Caches (reused across runs): the pre-commit virtualenv and pre-commit's own store, under
# ${TAP_CACHE_DIR:-~/.cache/tap-lint}. The hook's `cargo install` builds in the workspace's
# target folder ($CARGO_TARGET_DIR, else the repository's `target/`) without optimisation: the
# round trip tests the hook's wiring (entry, file pattern, exit status), not the optimiser, and a
# full optimised build cost several minutes of a cold test run on two cores.
# Tests HEAD: commit your changes first. Prints one PASS/FAIL line; exits non-zero on failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}"
venv="$cache/pre-commit-venv"
start=$SECONDS

fail() { echo "pre-commit round trip: FAIL: $*" >&2; exit 1; }

if [ ! -x "$venv/bin/pre-commit" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pre-commit
fi
rev="$(git -C "$repo" rev-parse HEAD)"
[ -z "$(git -C "$repo" status --porcelain -- linter Cargo.toml Cargo.lock .pre-commit-hooks.yaml rules)" ] ||
  echo "note: uncommitted changes in $repo are not tested; the hook is built from $rev" >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# pre-commit's store is keyed by rev; the target folder keeps dependencies compiled between runs.
export PRE_COMMIT_HOME="$cache/pre-commit-store"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
export CARGO_TARGET_DIR="$target"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_INCREMENTAL=true
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE

cd "$work"
git init --quiet -b main .
git config user.email roundtrip@example.invalid
git config user.name "pre-commit round trip"
git config commit.gpgsign false
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $repo
    rev: $rev
    hooks:
      - id: tap-lint
YAML
git add .pre-commit-config.yaml
git commit --quiet --no-verify -m "config"
"$venv/bin/pre-commit" install --install-hooks >/dev/null 2>"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "the hook did not install"; }

# Bad: a bucket with a physical name that lacks the environment suffix (TAP101, an error).
cat > template.yaml <<'YAML'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: inventory
YAML
git add template.yaml
if git commit --quiet -m "bad template" >"$work/bad.log" 2>&1; then
  cat "$work/bad.log" >&2; fail "the commit of a bad template was accepted"
fi
grep -q "TAP101" "$work/bad.log" || { cat "$work/bad.log" >&2; fail "the rejection did not name TAP101"; }

# Good: no physical name, encrypted, TLS only, with lifecycle rules, retained data, and an output.
cat > template.yaml <<'YAML'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
      LifecycleConfiguration:
        Rules:
          - Status: Enabled
            ExpirationInDays: 1095
            Transitions: [{StorageClass: GLACIER, TransitionInDays: 90}]
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"]
            Condition: {Bool: {aws:SecureTransport: "false"}}
Outputs:
  BucketName:
    Value: !Ref Bucket
YAML
git add template.yaml
git commit --quiet -m "good template" >"$work/good.log" 2>&1 ||
  { cat "$work/good.log" >&2; fail "the commit of a good template was rejected"; }

echo "pre-commit round trip: PASS (bad template rejected, good accepted; $((SECONDS - start))s)"
