#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what they need (the pdfcheck judges, the pinned
# emulator, the infra linters), then unit and end-to-end tests (cargo, over HTTP against the
# emulator), the check of the template's IAM policies against the AWS calls those recorded, the
# lint of infra/ (cfn-lint, sam validate --lint, OpenAPI), the main job's demo flow
# (scripts/local.sh demo) on a free port, schemathesis against the OpenAPI document
# (scripts/api-contract.sh), and the web app's browser tests (scripts/web-test.sh:
# Playwright driving Debian's chromium through the whole flow at desktop and phone sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
[ -x ../shared/pdfcheck/install.sh ] || { echo "../shared/pdfcheck (the kit) must sit beside this repository" >&2; exit 1; }
../shared/pdfcheck/install.sh
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
cargo test --locked -p esign-api --test iam -- --ignored
unset ESIGN_AWS_CALL_LOG
ESIGN_LOCAL_ADDR="127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
  RUST_LOG=warn scripts/local.sh demo
# The API against infra/openapi.yaml: schemathesis, bounded (about 3 minutes).
scripts/api-contract.sh
scripts/web-test.sh
echo "all tests passed in $(( $(date +%s) - start )) s"
